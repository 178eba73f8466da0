"""The main job: the seed's claims, measured on one data set."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

from . import runs
from .checkpoint import atomic_write_json
from .data import Dataset
from .estimators import VAE, AutoEncoder, LinearAutoEncoder


@dataclass
class DemoResult:
    rows: list[dict] = field(default_factory=list)
    out: Path | None = None

    def table(self) -> str:
        header = f"{'model':<22}{'k':>4}{'test MSE/feature':>18}{'vs PCA(k)':>11}{'fit s':>8}"
        lines = [header, "-" * len(header)]
        for r in self.rows:
            lines.append(
                f"{r['model']:<22}{r['k']:>4}{r['test_mse_per_feature']:>18.5f}{r['ratio_to_pca']:>11.3f}{r['fit_seconds']:>8.2f}"
            )
        return "\n".join(lines)


def demo_models(k: int, quick: bool, seed: int) -> dict[str, object]:
    epochs = 30 if quick else 150
    return {
        f"PCA({k})": PCA(k, random_state=seed),
        "linear AE": LinearAutoEncoder(k, epochs=epochs, random_state=seed),
        "deep AE": AutoEncoder(k, hidden=(256, 64), epochs=epochs, random_state=seed),
        "VAE": VAE(k, hidden=(256, 64), likelihood="bernoulli", epochs=epochs, random_state=seed),
    }


def reconstruct(model, X: np.ndarray) -> np.ndarray:
    return model.inverse_transform(model.transform(X))


def run_demo(data: Dataset, out: str | Path, quick: bool = False, seed: int = 0, progress=print) -> DemoResult:
    """Fit PCA, a linear AE, a deep AE and a VAE at k = 2; write each model and a summary table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = DemoResult(out=out)
    k = 2
    pca_mse = None
    for name, model in demo_models(k, quick, seed).items():
        progress(f"fitting {name} ...")
        started = time.perf_counter()
        model.fit(data.X_train)
        seconds = time.perf_counter() - started
        mse = float(np.mean((reconstruct(model, data.X_test) - data.X_test) ** 2))
        pca_mse = mse if pca_mse is None else pca_mse
        result.rows.append(
            {"model": name, "k": k, "test_mse_per_feature": mse, "ratio_to_pca": mse / pca_mse, "fit_seconds": seconds}
        )
        if hasattr(model, "save"):
            model.save(out / "models" / name.replace(" ", "-"))
    atomic_write_json(out / "metrics.json", {"data": data.name, "reconstruction": result.rows})
    atomic_write_json(out / "config.json", {"command": "demo", "data": data.name, "quick": quick, "seed": seed})
    (out / "summary.txt").write_text(result.table() + "\n")
    return result


__all__ = ["run_demo", "DemoResult", "runs"]
