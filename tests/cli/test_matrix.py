"""Every command × every model × every likelihood × every kind of data (issue 25, point 4).

The tests used to feed only [0, 1] images, so a report on real-valued data crashed unseen. Here each
command runs, in-process through ``cli.main`` as a user would type it, on six kinds of data that users
bring, and each cell asserts what it wrote (files, shapes, values in range, the lines it printed), not
only its exit status:

    images    [0, 1] images with labels (8x8 digits, an .npz of shape (n, 8, 8)): conv applies
    counts    raw integer counts 0..16 (digits' own pixel values, (n, 64)), labels
    table     a standardised real-valued table (wine, 13 features), labels
    csv       a CSV with a header, a text label column (--label-column) and a constant feature
    single    a single feature
    narrow    3 features and 5 latent dimensions: more latent dimensions than features

Models: linear, ae, vae, conv-ae and conv-vae (the conv ones on images), and the other families
(vamp, iwae, tcvae, two-stage, rae, wae, cvae; MLPs, slow run only but a few; the conditional
cvae trains on the labelled kinds and is refused on the others). Likelihoods (a VAE's): auto and
each named one, on vae and conv-vae; the other families with a likelihood run with "auto". The axes that do not apply are not generated: a likelihood is a VAE's parameter
(linear, ae and conv-ae have none), and pca-check, sweep, memorize and demo fit their own set of
models, so they run once per kind of data. Cells that are generated and cannot run are skipped with
their reason: conv on data without an image shape and a [0, 1] likelihood on data outside [0, 1] are
refused by ``train`` (whose cell asserts that one-line refusal), so the commands that read that run
have nothing to read; a .png grid needs images.

The default suite runs a representative slice (``DEFAULT``: every command, every model, every
likelihood and every kind of data at least once); ``-m slow`` runs the whole cross product.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import built_once, parse_report_html

from latentspace import load
from latentspace._families import BY_NAME
from latentspace.cli import main

LIKELIHOODS = ("auto", "bernoulli", "continuous_bernoulli", "gaussian", "gaussian_learned", "gaussian_calibrated")
UNIT_LIKELIHOODS = ("bernoulli", "continuous_bernoulli")  # need data in [0, 1]
MODELS = ("linear", "ae", "vae", "conv-ae", "conv-vae")
#: the other model families (issue 26): each with its own likelihood left at "auto" where it has one
FAMILIES = ("vamp", "iwae", "tcvae", "two-stage", "rae", "wae", "cvae")
WITH_LIKELIHOOD = ("vamp", "iwae", "tcvae", "two-stage", "cvae")
#: the commands that read a trained run folder (``train`` writes it)
RUN_COMMANDS = ("train", "evaluate", "sample", "sample-png", "encode", "decode", "reconstruct", "report", "explore")
#: the commands that fit their own models, once per kind of data
DATA_COMMANDS = ("pca-check", "sweep", "memorize", "demo")


@dataclass(frozen=True)
class Kind:
    name: str
    file: str
    options: tuple[str, ...] = ()
    k: int = 2
    n_features: int = 64
    images: bool = False
    unit_interval: bool = False
    labels: bool = True

    def data_args(self, folder: Path) -> list[str]:
        return ["--data", str(folder / self.file), *self.options]


KINDS = {kind.name: kind for kind in (
    Kind("images", "images.npz", images=True, unit_interval=True),
    Kind("counts", "counts.npz"),
    Kind("table", "table.npz", n_features=13),
    Kind("csv", "table.csv", ("--label-column", "cultivar"), n_features=6),
    Kind("single", "single.npy", k=1, n_features=1, labels=False),
    Kind("narrow", "narrow.npy", k=5, n_features=3, labels=False),
)}


def write_data_files(folder: Path) -> None:
    """The six kinds of data, small (at most 300 rows), from scikit-learn's bundled sets."""
    from sklearn.datasets import load_digits, load_wine

    rng = np.random.default_rng(0)
    digits = load_digits()
    rows = rng.permutation(len(digits.data))[:300]
    np.savez(folder / "images.npz", X=(digits.images[rows] / 16.0).astype(np.float32), y=digits.target[rows])
    np.savez(folder / "counts.npz", X=digits.data[rows].astype(np.int64), y=digits.target[rows])
    wine = load_wine()
    np.savez(folder / "table.npz", X=(wine.data - wine.data.mean(0)) / wine.data.std(0), y=wine.target)
    names = [n.replace("/", "_") for n in wine.feature_names[:5]]
    lines = [",".join(names + ["constant", "cultivar"])]
    lines += [",".join(f"{v:g}" for v in row) + f",1.0,{wine.target_names[t]}" for row, t in zip(wine.data[:, :5], wine.target)]
    (folder / "table.csv").write_text("\n".join(lines) + "\n")
    np.save(folder / "single.npy", rng.normal(3.0, 2.0, size=(200, 1)))
    np.save(folder / "narrow.npy", rng.normal(size=(200, 3)) @ rng.normal(size=(3, 3)))


@pytest.fixture(scope="session")
def data_folder(tmp_path_factory) -> Path:
    return built_once(tmp_path_factory, "matrix-data", write_data_files)


def run_main(*args) -> tuple[int, str, str]:
    """``latentspace ARGS`` in this process: (status, stdout, stderr), whatever pytest captures."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:
            code = e.code
    return code, out.getvalue(), err.getvalue()


# ---- the cells ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fit:
    """One trained configuration: a kind of data, a model and (for a VAE) a likelihood."""

    kind: Kind
    model: str
    likelihood: str | None

    @property
    def id(self) -> str:
        return f"{self.kind.name}-{self.model}" + (f"-{self.likelihood}" if self.likelihood else "")

    @property
    def refusal(self) -> str | None:
        """What ``train`` answers instead of training (None: it trains)."""
        if self.model.startswith("conv") and not self.kind.images:
            return "needs images"
        if self.likelihood in UNIT_LIKELIHOODS and not self.kind.unit_interval:
            return "needs data in [0, 1]"
        if self.model == "cvae" and not self.kind.labels:
            return "has no labels"
        return None

    @property
    def expected_likelihood(self) -> str:
        if self.likelihood != "auto":
            return self.likelihood
        return "bernoulli" if self.kind.unit_interval else "gaussian_calibrated"

    def train_args(self, folder: Path, out: Path) -> list[str]:
        model = self.model.removeprefix("conv-")
        args = ["train", model, *self.kind.data_args(folder), "--n-components", self.kind.k, "--epochs", 2,
                "--out", out, "--quiet"]
        if self.model.startswith("conv"):
            args += ["--architecture", "conv", "--channels", "4,8", "--hidden", "16"]
        elif model != "linear":
            args += ["--hidden", "16"]
        if self.likelihood:
            args += ["--likelihood", self.likelihood]
        return args


FITS = [Fit(kind, model, likelihood)
        for kind in KINDS.values() for model in MODELS
        for likelihood in (LIKELIHOODS if model.endswith("vae") else (None,))
        # conv on data without images: one refused cell per kind and model, not one per likelihood
        if not (model.startswith("conv") and not kind.images and likelihood not in (None, "auto"))]
FITS += [Fit(kind, family, "auto" if family in WITH_LIKELIHOOD else None) for kind in KINDS.values() for family in FAMILIES]

#: the default suite's slice, per command: together every command, model, likelihood and kind of data
#: at least once (train on each of these fits, refusals included; each other command on a few of them)
DEFAULT = {
    "train": {"images-vae-auto", "images-vae-bernoulli", "images-conv-vae-continuous_bernoulli", "images-conv-ae",
              "images-ae", "counts-vae-gaussian", "counts-linear", "table-vae-gaussian_calibrated",
              "table-vae-bernoulli", "csv-vae-auto", "csv-ae", "single-vae-gaussian_learned", "single-conv-ae",
              "narrow-linear", "narrow-vae-bernoulli", "table-wae", "images-vamp-auto", "images-cvae-auto",
              "narrow-cvae-auto"},
    "evaluate": {"images-vae-auto", "counts-vae-gaussian", "single-vae-gaussian_learned", "csv-ae"},
    "sample": {"table-vae-gaussian_calibrated", "narrow-linear", "images-conv-ae", "csv-cvae-auto"},
    "sample-png": {"images-conv-vae-continuous_bernoulli", "csv-ae"},
    "codec": {"counts-linear", "csv-vae-auto", "images-ae", "images-cvae-auto"},
    "report": {"table-vae-gaussian_calibrated", "images-conv-vae-continuous_bernoulli", "single-vae-gaussian_learned"},
    "explore": {"csv-vae-auto", "narrow-linear", "images-conv-ae", "counts-vae-gaussian", "csv-cvae-auto"},
    "pca-check": {"csv"}, "sweep": {"single"}, "memorize": {"narrow"}, "demo": set(),
}


def cell(fit_or_kind, command: str):
    name = fit_or_kind.id if isinstance(fit_or_kind, Fit) else fit_or_kind.name
    return pytest.param(fit_or_kind, id=f"{command}-{name}", marks=() if name in DEFAULT[command] else pytest.mark.slow)


@dataclass
class Trained:
    fit: Fit
    run: Path
    code: int
    printed: str
    err: str


@pytest.fixture(scope="session")
def trained(tmp_path_factory, data_folder):
    """``trained(fit)``: the run folder of ``latentspace train`` for ``fit``, built once per test run."""

    def build(fit: Fit) -> Trained:
        def train(folder: Path) -> None:
            code, out, err = run_main(*fit.train_args(data_folder, folder / "run"))
            (folder / "result.json").write_text(json.dumps({"code": code, "out": out, "err": err}))

        folder = built_once(tmp_path_factory, f"matrix-{fit.id}", train)
        result = json.loads((folder / "result.json").read_text())
        return Trained(fit, folder / "run", result["code"], result["out"], result["err"])

    return build


def trained_or_skip(trained, fit: Fit) -> Trained:
    if fit.refusal:
        pytest.skip(f"train refuses {fit.id} ({fit.refusal}): no run folder to read")
    done = trained(fit)
    assert done.code == 0, done.err
    return done


def read_data(folder: Path, kind: Kind):
    from latentspace.data import load_dataset

    options = {"label_column": "cultivar"} if kind.name == "csv" else {}
    return load_dataset(folder / kind.file, **options)


# ---- commands on a run folder ------------------------------------------------------------------------
@pytest.mark.parametrize("fit", [cell(f, "train") for f in FITS])
def test_train(fit, trained, data_folder):
    done = trained(fit)
    if fit.refusal:  # one line on stderr, status 2, nothing trained
        assert done.code == 2 and fit.refusal in done.err and len(done.err.strip().splitlines()) == 1, done.err
        assert not (done.run / "model").exists()
        return
    assert done.code == 0, done.err
    for name in ("config.json", "metrics.json", "history.csv", "model/config.json", "model/weights.safetensors"):
        assert (done.run / name).is_file(), name
    assert not (done.run / "checkpoint").exists()
    config = json.loads((done.run / "config.json").read_text())
    assert config["params"]["n_components"] == fit.kind.k
    if fit.kind.name == "csv":  # the label column stays a label wherever the run's data are read again
        assert config["data_options"] == {"label_column": "cultivar"}
    metrics = json.loads((done.run / "metrics.json").read_text())
    assert np.isfinite(metrics["heldout_mse_per_feature"]) and metrics["heldout_mse_per_feature"] >= 0
    assert metrics["epochs_run"] == 2
    assert done.printed.strip().splitlines()[-1] == str(done.run)
    assert "heldout_mse_per_feature" in done.printed
    model = load(done.run)
    assert model.n_features_in_ == fit.kind.n_features and model.n_components == fit.kind.k
    if fit.likelihood:
        assert model.likelihood_ == fit.expected_likelihood
        assert np.isfinite(metrics["test_neg_elbo"]) and 0 <= metrics["active_units"] <= fit.kind.k
    if fit.model.startswith("conv"):
        assert model.architecture == "conv" and tuple(model.image_shape)[-2:] == (8, 8)


@pytest.mark.parametrize("fit", [cell(f, "evaluate") for f in FITS])
def test_evaluate(fit, trained, data_folder, tmp_path):
    done = trained_or_skip(trained, fit)
    run = Path(shutil.copytree(done.run, tmp_path / "run"))  # evaluate writes into the run folder
    code, out, err = run_main("evaluate", run, "--iw-samples", 8, "--regularity-samples", 0)
    assert code == 0, err
    evaluation = json.loads((run / "evaluation.json").read_text())
    n_test = len(read_data(data_folder, fit.kind).X_test)
    assert evaluation["n_examples"] == n_test
    assert np.isfinite(evaluation["heldout_mse_per_feature"]) and evaluation["heldout_mse_per_feature"] >= 0
    assert f"wrote {run / 'evaluation.json'}" in out
    if fit.likelihood:  # nats per example; the IW estimate with 8 samples is near the bound, never far above it
        assert np.isfinite(evaluation["neg_elbo"]) and np.isfinite(evaluation["iw_nll"])
        assert evaluation["iw_nll"] <= evaluation["neg_elbo"] + 3 * evaluation["neg_elbo_stderr"] + 1e-3
        assert "iw_nll" in out
    elif fit.model not in FAMILIES:  # an AE has no likelihood to estimate
        assert "iw_nll" not in evaluation


@pytest.mark.parametrize("fit", [cell(f, "sample") for f in FITS])
def test_sample(fit, trained, tmp_path):
    done = trained_or_skip(trained, fit)
    code, out, err = run_main("sample", done.run, "-n", 6, "--out", tmp_path / "s.npy")
    assert code == 0, err
    X = np.load(tmp_path / "s.npy")
    assert X.shape == (6, fit.kind.n_features) and np.all(np.isfinite(X))
    assert out.strip() == f"wrote {tmp_path / 's.npy'} (6 samples, sampler {load(done.run).default_sampler})"
    if fit.model not in FAMILIES:  # a VAE draws from its prior; an AE has none
        assert load(done.run).default_sampler == ("prior" if fit.likelihood else "gmm")
    if fit.likelihood and fit.expected_likelihood in UNIT_LIKELIHOODS:  # decoder means of [0, 1] data
        assert X.min() >= 0 and X.max() <= 1
    model = load(done.run)
    if model.needs_labels:  # one class, by the name the data gave it (the CSV's cultivar names, digits' 0-9)
        label = model.classes_[-1]
        code, out, err = run_main("sample", done.run, "-n", 3, "--class", label, "--out", tmp_path / "c.npy")
        assert code == 0 and out.strip().endswith(f"class {label})"), err
        np.testing.assert_allclose(np.load(tmp_path / "c.npy"), model.sample(3, random_state=0, y=label), atol=1e-6)
        code, _, err = run_main("sample", done.run, "--class", "no such class", "--out", tmp_path / "x.npy")
        assert code == 2 and "no class 'no such class'; the model knows" in err, err
    else:
        code, _, err = run_main("sample", done.run, "--class", "1", "--out", tmp_path / "x.npy")
        assert code == 2 and "--class is for a conditional model (cvae)" in err, err


@pytest.mark.parametrize("fit", [cell(f, "sample-png") for f in FITS])
def test_sample_png(fit, trained, tmp_path):
    done = trained_or_skip(trained, fit)
    code, out, err = run_main("sample", done.run, "-n", 4, "--out", tmp_path / "s.png")
    if not fit.kind.images:
        assert code == 2 and "no image shape; write .npy instead" in err, err
        assert not (tmp_path / "s.png").exists()
        return
    assert code == 0, err
    from PIL import Image

    with Image.open(tmp_path / "s.png") as image:
        assert image.size[0] >= 2 * 8 and image.size[1] >= 2 * 8


@pytest.mark.parametrize("command", ["encode", "decode", "reconstruct"])
@pytest.mark.parametrize("fit", [cell(f, "codec") for f in FITS])
def test_codec(fit, command, trained, data_folder, tmp_path):
    done = trained_or_skip(trained, fit)
    data = read_data(data_folder, fit.kind)
    X = np.asarray(data.X_test, np.float64).reshape(len(data.X_test), -1)
    Z = load(done.run).transform(X)
    source = {"encode": X, "decode": Z, "reconstruct": X}[command]
    np.save(tmp_path / "in.npy", source)
    code, out, err = run_main(command, done.run, tmp_path / "in.npy", "--out", tmp_path / "out.npy")
    assert code == 0, err
    result = np.load(tmp_path / "out.npy")
    width = fit.kind.k if command == "encode" else fit.kind.n_features
    assert result.shape == (len(X), width) and np.all(np.isfinite(result))
    if command == "encode":
        np.testing.assert_allclose(result, Z, rtol=1e-5, atol=1e-5)
    model = load(done.run)
    if command == "reconstruct":  # decode(encode(x)) (a 2-epoch model: its quality is not the point here)
        # a conditional model decodes each row as its most likely class when no --class is given
        labels = (model.predict(X),) if model.needs_labels else ()
        np.testing.assert_allclose(result, model.inverse_transform(Z, *labels), rtol=1e-4, atol=1e-4)
    if command == "decode" and model.needs_labels:  # --class: every code decoded as that class
        label = model.classes_[0]  # an int (the .npz's labels) or a name (the CSV's), given on the command line as text
        code, _, err = run_main("decode", done.run, tmp_path / "in.npy", "--class", label, "--out", tmp_path / "c.npy")
        assert code == 0, err
        np.testing.assert_allclose(np.load(tmp_path / "c.npy"), model.inverse_transform(Z, y=label), rtol=1e-4, atol=1e-4)
    if command == "encode" and fit.kind.name == "csv":  # the CSV itself, its label column named
        code, _, err = run_main("encode", done.run, data_folder / "table.csv", "--label-column", "cultivar",
                                "--out", tmp_path / "z.npy")
        assert code == 0 and np.load(tmp_path / "z.npy").shape == (178, fit.kind.k), err


@pytest.mark.parametrize("fit", [cell(f, "report") for f in FITS])
def test_report(fit, trained, tmp_path):
    done = trained_or_skip(trained, fit)
    code, out, err = run_main("report", done.run, "--out", tmp_path / "r.html", "--examples", 4)
    assert code == 0, err
    assert out.strip() == str(tmp_path / "r.html")
    page = parse_report_html((tmp_path / "r.html").read_text())
    assert "runs" in page["tables"]
    for figure in ("training-curves", "reconstructions", "latent-scatter", "samples", "interpolations"):
        assert figure in page["figures"] and page["figures"][figure].startswith(b"\x89PNG"), figure
    assert "Figures skipped" not in (tmp_path / "r.html").read_text()


@pytest.mark.parametrize("fit", [cell(f, "explore") for f in FITS])
def test_explore(fit, trained, tmp_path):
    done = trained_or_skip(trained, fit)
    code, out, err = run_main("explore", done.run, "--out", tmp_path / "e.html", "--points", 50, "--references", 50)
    assert code == 0, err
    text = (tmp_path / "e.html").read_text()
    assert out.strip() == str(tmp_path / "e.html")
    payload = json.loads(re.search(r'class="ls-explorer-data">(.*?)</script>', text, re.DOTALL).group(1))
    (model,) = payload["models"]
    assert payload["data"]["n_features"] == fit.kind.n_features and model["k"] == fit.kind.k
    assert model["kind"] == BY_NAME[fit.model.removeprefix("conv-")].display  # the family's own name
    if fit.model == "cvae":  # the page's class select lists the classes the decoder was trained on
        assert model["classes"] == [str(c) for c in load(done.run).classes_] and len(model["classes"]) >= 2
    if fit.model.startswith("conv"):  # the page runs the transposed convolutions itself
        assert {op["op"] for op in model["ops"]} - {"linear"}
    else:  # the page decodes to the data's own width
        assert fit.kind.n_features in [op for op in model["ops"] if op["op"] == "linear"][-1]["w"]["shape"]
    assert np.all(np.isfinite(payload["data"]["vrange"])) and payload["data"]["vrange"][0] < payload["data"]["vrange"][1]


# ---- commands that fit their own models, once per kind of data -------------------------------------
@pytest.mark.parametrize("kind", [cell(k, "pca-check") for k in KINDS.values()])
def test_pca_check(kind, data_folder, tmp_path):
    k = min(kind.k, kind.n_features)
    code, out, err = run_main("pca-check", *kind.data_args(data_folder), "--n-components", k, "--epochs", 3,
                              "--out", tmp_path, "--quiet")
    assert code == 0, err
    result = json.loads((tmp_path / "pca_check.json").read_text())
    linear = result["comparisons"][0]
    assert linear["n_components"] == k and linear["n_features"] == kind.n_features
    assert 0 <= linear["max_principal_angle_deg"] <= 90
    # PCA's is the least training error of any rank-k linear map: the linear AE's is at least that
    assert linear["model_train_mse"] >= linear["pca_optimum_train_mse"] * (1 - 1e-4) - 1e-9
    bases = np.load(tmp_path / "bases.npz")
    assert bases["pca_components"].shape == (k, kind.n_features) and bases["decoder_columns"].shape == (kind.n_features, k)
    assert (tmp_path / "pca_check.png").read_bytes().startswith(b"\x89PNG")
    assert out.strip().splitlines()[-1].startswith("wrote ")
    if kind.k > kind.n_features:  # more latent dimensions than features: refused in one line
        code, _, err = run_main("pca-check", *kind.data_args(data_folder), "--n-components", kind.k, "--out", tmp_path / "x")
        assert code == 2 and f"--n-components must be between 1 and {kind.n_features}" in err, err


@pytest.mark.parametrize("kind", [cell(k, "sweep") for k in KINDS.values()])
def test_sweep(kind, data_folder, tmp_path):
    ks = sorted({1, min(kind.k, kind.n_features)})
    code, out, err = run_main("sweep", *kind.data_args(data_folder), "--ks", ",".join(map(str, ks)), "--epochs", 2,
                              "--n-samples", 20, "--out", tmp_path, "--quiet")
    assert code == 0, err
    rows = json.loads((tmp_path / "sweep.json").read_text())["rows"]
    assert sorted({(r["model"], r["k"]) for r in rows}) == sorted((m, k) for m in ("ae", "linear", "pca", "vae") for k in ks)
    assert all(np.isfinite(r["heldout_mse_per_feature"]) for r in rows)
    pca = [next(r["heldout_mse_per_feature"] for r in rows if r["model"] == "pca" and r["k"] == k) for k in ks]
    # PCA's subspaces are nested: a larger k never projects a held-out point worse; all features: exact
    assert pca == sorted(pca, reverse=True) or np.allclose(pca[0], pca[-1])
    if ks[-1] == kind.n_features:
        assert pca[-1] < 1e-9
    assert len((tmp_path / "sweep.csv").read_text().strip().splitlines()) == len(rows) + 1
    if kind.k > kind.n_features:
        code, _, err = run_main("sweep", *kind.data_args(data_folder), "--ks", kind.k, "--out", tmp_path / "x")
        assert code == 2 and f"every k must be in 1..{kind.n_features}" in err, err


@pytest.mark.parametrize("kind", [cell(k, "memorize") for k in KINDS.values()])
def test_memorize(kind, data_folder, tmp_path):
    code, out, err = run_main("memorize", *kind.data_args(data_folder), "--n-train", 10, "--hidden", 16,
                              "--epochs", 30, "--out", tmp_path, "--quiet")
    assert code == 0, err
    rows = json.loads((tmp_path / "memorize.json").read_text())["rows"]
    assert [r["model"] for r in rows] == ["ae", "vae"]
    assert all(np.isfinite(r["train_mse_per_feature"]) and 0 <= r["midpoint_precision"] <= 1 for r in rows)
    strips = np.load(tmp_path / "strip.npz")
    assert strips["ae_strip"].shape[-1] == kind.n_features and strips["ae_codes"].shape == (10,)
    assert np.all(np.isfinite(strips["ae_strip"])) and strips["ae_strip_is_training"].any()
    assert (tmp_path / "strip.png").read_bytes().startswith(b"\x89PNG")
    assert out.count("midpoint precision") == 2


def demo_cell(kind: Kind):
    return cell(kind, "demo")


@pytest.mark.parametrize("kind", [demo_cell(k) for k in KINDS.values()])
def test_demo_quick(kind, data_folder, tmp_path):
    code, out, err = run_main("demo", "--quick", *kind.data_args(data_folder), "--n-components", min(kind.k, kind.n_features),
                              "--out", tmp_path, "--quiet")
    assert code == 0, err[-2000:]
    assert "verdicts on the tutorial's claims, measured on this run:" in out
    verdicts = out.split("verdicts on the tutorial's claims, measured on this run:")[1].split("\ndemo finished")[0]
    assert len([line for line in verdicts.splitlines() if line.strip()]) >= 1
    assert (tmp_path / "report.html").is_file() and (tmp_path / "metrics.json").is_file()
    page = parse_report_html((tmp_path / "report.html").read_text())
    assert page["sections"] and page["n_img"] >= 1
