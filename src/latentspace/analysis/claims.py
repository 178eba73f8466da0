"""The tutorial's claims, each judged on one run's measured tables: holds, does not hold, or holds
only against a named baseline.

Every judge takes the demo's tables (``{key: rows}``, as in its metrics.json) and returns a
``Verdict``, or None when the stage that measures the claim did not run. Thresholds are stated in
each judge; they are loose on purpose: a verdict says which way the numbers point, the tables say
by how much.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .protocol import HELDOUT_MSE

HOLDS = "holds"
FAILS = "does not hold"
#: the data leave the claim nothing to test (e.g. PCA reconstructs exactly: no model can beat it)
DOES_NOT_APPLY = "does not apply"
#: a linear AE "finds PCA's subspace" within this largest principal angle, degrees
MAX_ANGLE_DEG = 2.0


#: a feature classifier right less often than this on held-out rows sees too little to judge samples
MIN_CLASSIFIER_ACCURACY = 0.8
#: below this many held-out rows, precision and recall move in coarse steps
FEW_ROWS = 200


@dataclass
class Verdict:
    claim: str
    verdict: str  # HOLDS, FAILS, or "holds only against <baseline>"
    evidence: str
    #: where the measurement is weak on this kind of data (e.g. few rows for many feature dimensions)
    caveat: str = ""

    def line(self) -> str:
        caveat = f" [on this data: {self.caveat}]" if self.caveat else ""
        return f"{self.verdict.upper()}: {self.claim} ({self.evidence}){caveat}"

    def to_dict(self) -> dict[str, str]:
        return {"claim": self.claim, "verdict": self.verdict, "evidence": self.evidence, "caveat": self.caveat}


def sample_quality_caveat(tables: dict, metric: str) -> str:
    """What weakens a verdict drawn from sample-quality numbers on this data set, in plain words ("" if
    nothing): too few held-out rows for the feature space's dimension, coarse precision steps, a feature
    classifier that barely tells the classes apart, table rows with no picture to check by eye.
    ``metric``: "frechet" or "precision", what the verdict rests on."""
    basis = (tables.get("feature_space") or [None])[0]
    if basis is None:
        return ""
    notes = []
    rows, dim = basis["heldout_rows"], basis["dim"]
    if metric == "frechet" and rows <= dim:
        notes.append(f"Fréchet distances compare {dim}-dimensional feature covariances estimated from {rows} "
                     "held-out rows, fewer than the dimensions: they rank the models within this run, their size "
                     "means little")
    if metric == "precision" and rows < FEW_ROWS:
        notes.append(f"precision and recall count neighbours among {rows} held-out rows (steps of {1 / rows:.2g})")
    accuracy = basis.get("classifier_test_accuracy")
    if accuracy is not None and accuracy < MIN_CLASSIFIER_ACCURACY:
        notes.append(f"the feature classifier names only {accuracy:.0%} of held-out rows' classes right, so its "
                     "features see little of what makes a row plausible")
    if not basis.get("images", True):
        notes.append(f"'plausible' means near held-out rows in the feature space of {basis['n_features']} "
                     "measurements; there is no picture to check it by eye")
    return "; ".join(notes)


def rows_by(rows: list[dict], *keys: str) -> dict:
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in rows}


def linear_ae_is_pca(tables: dict) -> Verdict | None:
    rows = rows_by(tables.get("pca_check", []), "model")
    linear = rows.get("linear AE")
    if linear is None or linear.get("max_principal_angle_deg") is None:
        return None
    angle, ratio = linear["max_principal_angle_deg"], linear["test_mse_ratio"]
    holds = angle <= MAX_ANGLE_DEG and ratio <= 1.01
    return Verdict("a linear autoencoder finds PCA's subspace", HOLDS if holds else FAILS,
                   f"largest principal angle {angle:.2f} deg, held-out error {ratio:.4f} x PCA's")


def deep_ae_beats_pca(tables: dict) -> Verdict | None:
    rows = tables.get("reconstruction", [])
    pca = next((r for r in rows if r["model"].startswith("PCA")), None)
    deep = next((r for r in rows if r["model"] == "deep AE"), None)
    if pca is None or deep is None:
        return None
    claim = "a non-linear autoencoder reconstructs better than PCA at the same latent size"
    ratio = deep["ratio_to_pca"] if "ratio_to_pca" in deep else deep[HELDOUT_MSE] / pca[HELDOUT_MSE]
    if ratio != ratio:  # NaN: PCA's error is 0 to rounding (k at least the data's rank)
        return Verdict(claim, DOES_NOT_APPLY, f"PCA({pca['k']}) reconstructs the held-out data exactly: "
                       "the latent size is at least the data's rank, so there is nothing to beat")
    return Verdict(claim, HOLDS if ratio < 1 else FAILS, f"deep AE's held-out error {ratio:.3f} x PCA's")


def vae_generates_ae_does_not(tables: dict) -> Verdict | None:
    rows = rows_by(tables.get("sample_quality", []), "model", "sampler")
    prior = rows.get(("VAE", "prior"))
    box = rows.get(("deep AE", "box"))
    if prior is None or box is None:
        return None
    vae, ae_box = prior["frechet"], box["frechet"]
    claim = "an autoencoder cannot generate by decoding random codes, a VAE can (from its prior)"
    caveat = sample_quality_caveat(tables, "frechet")
    if vae >= ae_box:
        return Verdict(claim, FAILS, f"Fréchet: VAE prior {vae:.3g}, deep AE random codes {ae_box:.3g}", caveat)
    fitted = {s: rows[("deep AE", s)]["frechet"] for s in ("gaussian", "gmm") if ("deep AE", s) in rows}
    better = {s: f for s, f in fitted.items() if f <= vae}
    evidence = f"Fréchet: VAE prior {vae:.3g}, deep AE random codes {ae_box:.3g}"
    if better:
        best = min(better, key=better.get)
        return Verdict(claim, "holds only against random codes (box)",
                       f"{evidence}; but a {best} density fitted to the AE's codes gives {better[best]:.3g}", caveat)
    return Verdict(claim, HOLDS, evidence + "".join(f", AE {s} {f:.3g}" for s, f in fitted.items()), caveat)


def memorising_ae_has_holes(tables: dict) -> Verdict | None:
    rows = rows_by(tables.get("memorize", []), "model")
    ae = rows.get("ae")
    if ae is None:
        return None
    recon, mid = ae["recon_precision"], ae["midpoint_precision"]
    claim = "between the codes of a memorising 1-D autoencoder lie points that decode to nothing plausible"
    evidence = f"AE precision: reconstructions {recon:.2f}, midpoints {mid:.2f}"
    caveat = sample_quality_caveat(tables, "precision")
    if mid >= recon:
        return Verdict(claim, FAILS, evidence, caveat)
    vae = rows.get("vae")
    if vae is not None and vae["midpoint_precision"] <= mid:
        return Verdict(claim, "holds only against its own reconstructions",
                       f"{evidence}; the same-size VAE's midpoints: {vae['midpoint_precision']:.2f}", caveat)
    return Verdict(claim, HOLDS, evidence + ("" if vae is None else f"; VAE midpoints {vae['midpoint_precision']:.2f}"),
                   caveat)


def error_falls_with_k(tables: dict) -> Verdict | None:
    rows = tables.get("sweep", [])
    if len({r["k"] for r in rows}) < 2:
        return None
    failing = []
    for model in dict.fromkeys(r["model"] for r in rows):
        errors = [r[HELDOUT_MSE] for r in sorted((r for r in rows if r["model"] == model), key=lambda r: r["k"])]
        if any(b > a * 1.02 for a, b in zip(errors, errors[1:])):
            failing.append(model)
    ks = sorted({r["k"] for r in rows})
    claim = "a larger latent space reconstructs better, for every model"
    if failing:
        return Verdict(claim, FAILS, f"held-out error rises with k (by over 2%) for {', '.join(failing)}; k = {ks}")
    return Verdict(claim, HOLDS, f"held-out error falls from k={ks[0]} to k={ks[-1]} for every model")


HOLES = "holes_outside_code_support"


def regulariser_fills_the_holes(tables: dict) -> Verdict | None:
    """The stage "which regulariser fills the holes" (its table ``regulariser_samples``: one row per
    model and sampler, ``regulariser`` "none" for the plain AE): does each regularised family's own
    sampler put fewer codes off its training codes' support than a Gaussian over the plain AE's codes?
    And fewer than a mixture fitted to them (the AE's own sampler), or is the gain the sampler's?"""
    rows = tables.get("regulariser_samples", [])
    plain = {r["sampler"]: r for r in rows if r["regulariser"] == "none"}
    regularised = [r for r in rows if r["regulariser"] != "none"]
    gaussian = plain.pop("gaussian", None)
    mixture = next(iter(plain.values()), None)  # the AE's own sampler: a mixture fitted to its codes
    if gaussian is None or not regularised:
        return None
    claim = ("a regulariser fills the autoencoder's holes: a regularised model's own sampler puts fewer codes off "
             "its training codes' support than a Gaussian over the plain AE's codes")
    said = lambda r: f"{r['model']} {r['sampler']} {r[HOLES]:.1%} ({r['frechet']:.3g})"
    fewest, closest = (min(regularised, key=lambda r: r[key])["model"] for key in (HOLES, "frechet"))
    quoted = [gaussian, *([] if mixture is None else [mixture]), *regularised]
    evidence = (f"codes off the support (Fréchet of their samples): {'; '.join(map(said, quoted))}; "
                f"fewest holes: {fewest}, closest samples: {closest}")
    caveat = sample_quality_caveat(tables, "frechet")
    fewer = [r["model"] for r in regularised if r[HOLES] < gaussian[HOLES]]
    if not fewer:
        return Verdict(claim, FAILS, evidence, caveat)
    if len(fewer) < len(regularised):
        return Verdict(claim, f"holds only for {', '.join(fewer)}", evidence, caveat)
    matched = [] if mixture is None else [r["model"] for r in regularised if r[HOLES] >= mixture[HOLES]]
    if matched:
        return Verdict(claim, "holds only against a Gaussian over the AE's codes",
                       f"{evidence}; but the AE's own {mixture['sampler']} sampler puts no more codes off than "
                       f"{', '.join(matched)}", caveat)
    return Verdict(claim, HOLDS, evidence, caveat)


JUDGES: list[Callable[[dict], Verdict | None]] = [
    linear_ae_is_pca, deep_ae_beats_pca, vae_generates_ae_does_not, regulariser_fills_the_holes,
    memorising_ae_has_holes, error_falls_with_k,
]


def verdicts(tables: dict) -> list[Verdict]:
    """A verdict for every claim whose measurements are in ``tables``."""
    return [v for v in (judge(tables) for judge in JUDGES) if v is not None]
