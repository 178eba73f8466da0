"""Measurements of fitted models: each function takes fitted estimators and arrays."""

from .pca import PCAComparison, compare_with_pca

__all__ = ["compare_with_pca", "PCAComparison"]
