"""Measurements of fitted models: each function takes fitted estimators and arrays."""

from .features import FeatureConfig, FeatureExtractor, feature_space
from .metrics import frechet_distance, precision_recall
from .pca import PCAComparison, compare_with_pca
from .regularity import evaluate_regularity
from .samplers import SAMPLERS, draw_codes

__all__ = [
    "compare_with_pca",
    "PCAComparison",
    "evaluate_regularity",
    "feature_space",
    "FeatureConfig",
    "FeatureExtractor",
    "frechet_distance",
    "precision_recall",
    "SAMPLERS",
    "draw_codes",
]
