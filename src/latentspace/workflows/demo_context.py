"""What the demo's stages share: the context they read and add to, the stage record, the result."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar


from ..analysis.protocol import KINDS
from ..data import Dataset
from ..report import Report, Section, text_table
from ..report.rows import RowView
from ..report.wording import DataWords
from ..training.budget import steps_per_epoch
from ..training.progress import progress_bar

Work = TypeVar("Work")


@dataclass(frozen=True)
class DemoBudget:
    """How much the demo measures: the knobs that set its run time, per preset (``BUDGETS``).

    ``train_rows``/``test_rows`` cap the data (a seeded subsample; None: all of it). ``steps`` are
    the optimiser steps of the deep AE and the VAE (None: their own data-scaled "auto" budget);
    ``sweep_steps`` those of each model in the latent-size sweep (each in its own batches, and fewer where
    its own data-scaled budget is smaller), which trains ``sweep_models``.
    """

    name: str
    train_rows: int | None
    test_rows: int | None
    steps: int | None
    sweep_ks: tuple[int, ...]
    sweep_steps: int | None
    sweep_models: tuple[str, ...]
    samples: int  # decoded samples per model and sampler in the regularity stage
    sweep_samples: int
    iw_samples: int  # importance samples per example of the VAE's IW-NLL
    iw_rows: int  # held-out examples it is measured on
    memorize_epochs: int
    #: the model families (``_families.py`` names) that the stage "which regulariser fills the holes"
    #: trains beside the demo's deep AE and VAE, ``family_steps`` optimiser steps each; none: not run
    families: tuple[str, ...] = ()
    family_steps: int = 2000


#: "quick": a first look (minutes, even on Fashion-MNIST); "full": everything, as documented
BUDGETS = {
    # 3,000 steps: on Fashion-MNIST (5,000 rows, k=2) the VAE's prior samples lose to the deep AE's random
    # codes after 1,000 steps (Fréchet 143.5 vs 120.6) and win after 3,000 (83.2 vs 187.3)
    # The quick budget trains no other family (the stage "which regulariser fills the holes" says so): three
    # more models of 2,000 steps and their samples cost ~40 s of CPU on digits, as much as the quick demo's target.
    # The full budget's three differ in how they fill the holes: a learned prior (vamp), a penalty on the codes'
    # distribution (wae), a penalty on each code with a density fitted afterwards (rae). IWAE and beta-TCVAE
    # keep the VAE's prior; the two-stage VAE is a sampler whose second VAE costs 4,000 more steps.
    # 500 sweep steps, not 300: a VAE's held-out error is what the sweep's verdict compares across k, and at 300
    # steps it is noise on digits (k = 1, 2, 4 over three random states: the error rose with k in two, with
    # three fits collapsed); at 500, with the KL warm-up over half the epochs, it fell with k in all five.
    # The quick sweep leaves out the linear AE: its rows repeat PCA's (the PCA stage shows it), and its own
    # schedule costs ~9 s per k on 5,000 Fashion-MNIST rows.
    "quick": DemoBudget("quick", train_rows=5000, test_rows=2000, steps=3000, sweep_ks=(1, 2, 4),
                        sweep_steps=500, sweep_models=("pca", "ae", "vae"), samples=300, sweep_samples=200, iw_samples=100, iw_rows=500,
                        memorize_epochs=600),
    "full": DemoBudget("full", train_rows=None, test_rows=None, steps=None, sweep_ks=(1, 2, 4, 8, 16),
                       sweep_steps=3000, sweep_models=KINDS, samples=1000, sweep_samples=500, iw_samples=1000, iw_rows=1000,
                       memorize_epochs=3000, families=("vamp", "rae", "wae"), family_steps=2000),
}


@dataclass
class DemoContext:
    """What the stages share. Stages add to ``models``, ``tables``, ``shared`` and ``report``."""

    data: Dataset
    out: Path
    budget: DemoBudget
    seed: int
    k: int
    report: Report
    models: dict[str, Any] = field(default_factory=dict)  # fitted, by display name; PCA first
    fit_seconds: dict[str, float] = field(default_factory=dict)
    tables: dict[str, list[dict]] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)  # anything a stage leaves for later ones
    echo: Callable[[str], None] = print
    show_progress: bool = True
    stage_name: str = ""
    #: work begun before the first stage (``Stage.ahead``), by the function that began it: what it returned,
    #: or the error it raised (raised again by ``work``, in the stage that owns it)
    begun: dict[Callable[[DemoContext], Any], tuple[Any, BaseException | None]] = field(default_factory=dict)

    def begin(self, start: Callable[[DemoContext], Any]) -> None:
        """Begin ``start(self)`` now, for ``work`` to hand to its stage later."""
        try:
            self.begun[start] = (start(self), None)
        except Exception as error:  # noqa: BLE001 (its stage raises it, where it would have arisen)
            self.begun[start] = (None, error)

    def work(self, start: Callable[[DemoContext], Work]) -> Work:
        """What ``start(self)`` returns: the one begun before the first stage (``begin``), else begun now."""
        if start not in self.begun:
            return start(self)
        result, error = self.begun.pop(start)
        if error is not None:
            raise error
        return result

    @property
    def autoencoders(self) -> dict[str, Any]:
        """The fitted latentspace estimators (everything but PCA), by name."""
        return {name: m for name, m in self.models.items() if hasattr(m, "history_")}

    @property
    def quick(self) -> bool:
        return self.budget.name == "quick"

    def epochs_for(self, steps: int | None, n_train: int | None = None, batch_size: int = 128) -> int | str:
        """Epochs that give ``steps`` optimiser steps on the training part ("auto" for None)."""
        if steps is None:
            return "auto"
        n = len(self.data.X_train) if n_train is None else n_train
        return max(1, math.ceil(steps / steps_per_epoch(n, batch_size)))

    def capped_epochs_for(self, estimator_class, steps: int | None) -> int | str:
        """``estimator_class``'s epochs for ``steps`` optimiser steps of its own batches, or fewer where its
        data-scaled budget ("auto", training/budget.py) is smaller ("auto" for None): a time-boxed model
        never trains longer than its defaults would."""
        if steps is None:
            return "auto"
        batch_size = estimator_class().batch_size
        own = estimator_class._epoch_rule.epochs(len(self.data.X_train), batch_size)  # what "auto" gives it
        return min(own, self.epochs_for(steps, batch_size=batch_size))

    def linear_epochs_for(self, steps: int | None) -> int | str:
        """The linear AE's ``capped_epochs_for``."""
        from ..estimators import LinearAutoEncoder

        return self.capped_epochs_for(LinearAutoEncoder, steps)

    def sweep_epochs_for(self, steps: int | None) -> dict[str, int | str]:
        """The deep AE's and the VAE's ``capped_epochs_for`` (``latent_sweep``'s ``epochs``): on digits the
        VAE's own budget (2,000 steps) is below the full sweep's 3,000."""
        from ..estimators import VAE, AutoEncoder

        return {"ae": self.capped_epochs_for(AutoEncoder, steps), "vae": self.capped_epochs_for(VAE, steps)}

    @property
    def image_shape(self):
        return self.data.image_shape

    @property
    def words(self) -> DataWords:
        """How captions speak of this data set: its rows, classes and features."""
        return DataWords.of(self.data)

    @property
    def view(self) -> RowView:
        """How the figures show a row: an image or named features, in the user's units."""
        return RowView.of(self.data)

    def steps(self, items: Iterable, total: int | None = None) -> Iterable:
        """Iterate ``items`` under this stage's progress bar (stderr)."""
        items = list(items) if total is None else items
        return self.bar(total if total is not None else len(items), items)

    def bar(self, total: int, items: Iterable | None = None):
        """This stage's progress bar (stderr) for ``total`` steps: over ``items``, or advanced by ``update(1)``."""
        return progress_bar(items, total=total, desc=f"{self.stage_name:<16}", unit="step", show=self.show_progress,
                            leave=True)

    def section(self, title: str, intro: str = "") -> Section:
        return self.report.section(title, intro)

    def add_table(self, section: Section, key: str, rows: list[dict], caption: str) -> None:
        """Print the table, keep it for metrics.json, and put it in the report."""
        self.tables[key] = rows
        self.echo("\n" + text_table(rows, caption))
        section.table(rows, caption, name=key)


@dataclass
class Stage:
    """A step of the demo: ``run(ctx)``; ``ahead(ctx)``, if given, begins its fits before the first stage
    (its ``run`` takes them with ``ctx.work(ahead)``): where worker processes take them, they train while
    this process measures the stages before it (training/side_by_side.py)."""

    name: str
    run: Callable[[DemoContext], None]
    ahead: Callable[[DemoContext], Any] | None = None


@dataclass
class DemoResult:
    tables: dict[str, list[dict]] = field(default_factory=dict)
    out: Path | None = None
    report_path: Path | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    #: one line per tutorial claim measured (analysis/claims.py)
    verdicts: list[str] = field(default_factory=list)
    #: the stage that was running when the demo was stopped (Ctrl-C), or None
    interrupted_in: str | None = None

    @property
    def rows(self) -> list[dict]:
        """The reconstruction table (model, k, held-out MSE per feature, ratio to PCA, fit seconds)."""
        return self.tables.get("reconstruction", [])

    def table(self) -> str:
        """The verdicts, then every table."""
        head = "\n".join(["verdicts on the tutorial's claims, measured on this run:", *self.verdicts])
        return "\n\n".join([head, *(text_table(rows, key) for key, rows in self.tables.items())])
