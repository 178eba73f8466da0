"""Analysis of fitted models: measurements that take estimators and arrays."""

# --- regularity (engineer `regularity`) -------------------------------------------------------
from .features import FeatureConfig, FeatureExtractor, feature_space  # noqa: F401
from .metrics import frechet_distance, precision_recall  # noqa: F401
from .regularity import evaluate_regularity  # noqa: F401
from .samplers import SAMPLERS, draw_codes  # noqa: F401
# --- end regularity ----------------------------------------------------------------------------
