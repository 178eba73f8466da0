"""The one analysis protocol: exact reference PCA, one held-out error, one 'has a prior', the
comparison models every command builds, the data-scaled budget and the posterior-collapse warning."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
from conftest import requires_fashion_mnist

from latentspace.analysis.pca import compare_with_pca
from latentspace.analysis.protocol import (
    EXACT_PCA_SOLVERS,
    HELDOUT_MSE,
    KINDS,
    comparison_model,
    has_prior,
    heldout_mse,
    reconstruction_metrics,
)
from latentspace.errors import PosteriorCollapseWarning
from latentspace.estimators import VAE, AutoEncoder, LinearAutoEncoder
from latentspace.training import budget

SRC = Path(__file__).resolve().parents[1] / "src" / "latentspace"


def pca_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name == "PCA":
                yield node


def exact_solver(node: ast.AST | None) -> bool:
    """An exact solver named as a constant, or a choice (``a if c else b``) between exact ones."""
    if isinstance(node, ast.IfExp):
        return exact_solver(node.body) and exact_solver(node.orelse)
    return isinstance(node, ast.Constant) and node.value in EXACT_PCA_SOLVERS


def test_every_pca_in_the_library_uses_an_exact_solver():
    """A reference PCA built with sklearn's default may be randomized: every PCA(...) call in src/
    must name an exact svd_solver."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        for call in pca_calls(ast.parse(path.read_text())):
            solver = next((k.value for k in call.keywords if k.arg == "svd_solver"), None)
            if not exact_solver(solver):
                offenders.append(f"{path.relative_to(SRC)}:{call.lineno}")
    assert not offenders, f"PCA without an exact svd_solver: {offenders}"


def test_comparison_pca_is_exact():
    assert comparison_model("pca", 4).svd_solver in EXACT_PCA_SOLVERS


@requires_fashion_mnist
def test_the_reference_subspace_is_the_exact_one_on_mid_sized_data():
    """2,000 x 784 at k = 16 is where sklearn's default picks the randomized solver."""
    from latentspace.data import load_dataset

    data = load_dataset("fashion-mnist", seed=0)
    X = data.X_train[:2000].astype(np.float64)
    model = LinearAutoEncoder(16, epochs=1, random_state=0).fit(X)
    result = compare_with_pca(model, X, data.X_test[:500])
    centered = X - X.mean(0)
    exact = np.linalg.svd(centered, full_matrices=False)[2][:16].T
    angle = np.degrees(scipy.linalg.subspace_angles(result.pca_components.T, exact)).max()
    assert angle < 1e-3


def test_one_heldout_error_for_every_kind_of_model(digits):
    X = digits.X_test
    models = {kind: comparison_model(kind, 3, epochs=3, linear_epochs=3) for kind in KINDS}
    for model in models.values():
        model.fit(digits.X_train)
    for kind, model in models.items():
        metrics = reconstruction_metrics(model, X)
        by_hand = np.mean((np.asarray(model.inverse_transform(model.transform(X)), np.float64) - X) ** 2)
        assert metrics[HELDOUT_MSE] == pytest.approx(by_hand, rel=1e-5) == heldout_mse(model, X)
        assert has_prior(model) == (kind == "vae")


def test_auto_budget_scales_with_the_data():
    small, large = budget.DEFAULT_RULE.epochs(1300, 128), budget.DEFAULT_RULE.epochs(54000, 128)
    assert small * budget.steps_per_epoch(1300, 128) >= budget.STEP_BUDGET  # enough steps
    assert large == budget.MIN_EPOCHS  # enough passes
    assert budget.resolve_patience("auto", small, has_validation=False) is None


def test_auto_settings_are_resolved_at_fit(digits):
    X = digits.X_train[:140]  # 126 training rows: one step an epoch, the cheapest "auto" budget
    vae = VAE(2, hidden=(32,), random_state=0).fit(X)
    assert vae.likelihood_ == "bernoulli"  # digits lie in [0, 1]
    assert vae.epochs_ == budget.VAE_RULE.epochs(126, 128) == budget.VAE_RULE.max_epochs
    assert vae.warmup_epochs_ == budget.auto_warmup(vae.epochs_)
    assert vae.patience_ == budget.auto_patience(vae.epochs_)
    assert vae.n_iter_ <= vae.epochs_
    shifted = VAE(2, hidden=(32,), epochs=3, random_state=0).fit(X * 4 - 2)
    assert shifted.likelihood_ == "gaussian_calibrated"
    ae = AutoEncoder(2, epochs=5, patience=None, random_state=0).fit(X)
    assert ae.epochs_ == ae.n_iter_ == 5


def test_calibrated_sigma_follows_the_reconstruction_error(digits):
    X = digits.X_train * 4 - 2  # real-valued data: the calibrated Gaussian
    vae = VAE(4, hidden=(64,), epochs=40, random_state=0).fit(X)
    rmse = np.sqrt(np.mean((vae.reconstruct(X) - X) ** 2))
    sigma = float(vae.model_.likelihood.log_sigma.exp())
    assert 0.5 * rmse < sigma < 2 * rmse  # near its optimum, not the initial 1 or a collapse


def test_a_collapsed_vae_warns_in_one_line(digits):
    # beta = 50 drives every posterior onto the prior
    with pytest.warns(PosteriorCollapseWarning, match="posterior collapse: 0 of 4 latent units active") as caught:
        VAE(4, hidden=(32,), epochs=5, beta=50.0, random_state=0).fit(digits.X_train[:300])
    assert "\n" not in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PosteriorCollapseWarning)
        VAE(4, hidden=(64,), epochs=30, random_state=0).fit(digits.X_train)  # a working VAE: no warning


def test_the_cli_prints_the_collapse_warning_on_one_line(tmp_path, capsys):
    from latentspace.cli import main

    argv = ["train", "vae", "--n-components", "3", "--hidden", "32", "--epochs", "3", "--beta", "50",
            "--out", str(tmp_path / "run"), "--quiet"]
    assert main(argv) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "posterior collapse" in line]
    assert len(warned) == 1 and warned[0].startswith("latentspace train: warning: posterior collapse: 0 of 3")
