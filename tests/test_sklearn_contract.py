"""scikit-learn's own estimator checks. Checks that cannot pass are listed with the reason."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from latentspace import VAE, AutoEncoder, LinearAutoEncoder

FAST = dict(epochs=5, batch_size=64)

# Each entry: check name -> why it cannot pass for a neural autoencoder.
EXPECTED_FAILURES: dict[str, str] = {
    # The networks compute in float32 and the matrix kernels block differently for different batch
    # sizes, so encoding a subset differs from the subset of the full encoding by ~1e-6 (measured:
    # 9.5e-7 absolute, 2e-7 relative); the check demands atol=1e-7.
    "check_methods_subset_invariance": "float32 networks: batch-size-dependent rounding (~1e-6)",
}


@parametrize_with_checks(
    [AutoEncoder(**FAST), LinearAutoEncoder(**FAST), VAE(n_components=2, likelihood="gaussian", **FAST)],
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
