"""How the report speaks of the user's data: its rows (images, or rows of named measurements), its
classes and its features, so no caption says "digits" under wine or breast-cancer data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import Dataset

#: at most this many class or feature names are spelled out in a caption
NAMED_IN_CAPTION = 4


def some_names(names: list[str], total: int | None = None) -> str:
    """``a, b, c, ...`` (the first few names; "..." when there are more)."""
    total = len(names) if total is None else total
    shown = ", ".join(names[:NAMED_IN_CAPTION])
    return shown + (", ..." if total > NAMED_IN_CAPTION else "")


@dataclass(frozen=True)
class DataWords:
    """Nouns for one data set: ``rows`` ("images" or "rows"), ``classes`` (e.g. "its classes (malignant,
    benign)", "" without labels) and ``features`` (e.g. "30 features (mean radius, ...)")."""

    images: bool
    rows: str
    classes: str
    features: str

    @classmethod
    def of(cls, data: Dataset) -> DataWords:
        images = data.image_shape is not None
        classes = ""
        if data.y_train is not None:
            n = len(data.label_names) or len(np.unique(data.y_train))
            classes = f"its {n} classes" + (f" ({some_names(list(data.label_names))})" if data.label_names else "")
        features = f"{data.n_features} features"
        if data.feature_names:
            features += f" ({some_names(list(data.feature_names))})"
        return cls(images, "images" if images else "rows", classes, features)

    def confusions(self) -> str:
        """What to look for in reconstructions."""
        if self.images:
            which = f"which of {self.classes} each model confuses" if self.classes else "what each model blurs or loses"
            return f"look for {which}."
        return f"look for the features each model gets wrong, out of {self.features}."

    def garbled(self) -> str:
        """What an implausible decode looks like."""
        if self.images:
            return "blank or garbled tiles"
        return "rows whose lines leave their features' range"
