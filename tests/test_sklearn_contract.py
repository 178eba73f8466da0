"""scikit-learn's own estimator checks. Checks that cannot pass are listed per estimator, with the reason;
``xfail_strict`` turns a listed check that passes into a failure, so each list stays true."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from latentspace import VAE, AutoEncoder, LinearAutoEncoder

FAST = dict(epochs=5, batch_size=64)

# The networks compute in float32 and the matrix kernels block differently for different batch
# sizes, so encoding a subset differs from the subset of the full encoding by ~1e-6 (measured:
# 9.5e-7 absolute, 2e-7 relative); the check demands atol=1e-7.
ROUNDING = {"check_methods_subset_invariance": "float32 networks: batch-size-dependent rounding (~1e-6)"}

# Each estimator with the checks it is expected to fail. The linear AE's one affine map was measured
# to round identically for every batch size (1 and 2 torch threads), so it passes them all.
ESTIMATORS = [
    (AutoEncoder(**FAST), ROUNDING),
    (LinearAutoEncoder(**FAST), {}),
    (VAE(n_components=2, likelihood="gaussian", **FAST), ROUNDING),
]


def expected_failures(estimator) -> dict[str, str]:
    return next(failures for listed, failures in ESTIMATORS if listed is estimator)


@parametrize_with_checks([estimator for estimator, _ in ESTIMATORS], expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
