"""What must hold on a CUDA GPU: training there, bf16 where the device has it, and a model saved there
loading on the CPU. Skipped without a GPU; ``benchmarks/gpu_check.sh`` runs them (``-m cuda``) on a
lent one. (tests/test_devices.py checks the other direction: a GPU-saved file on a CPU-only machine.)"""

import numpy as np
import pytest
import torch

from latentspace import VAE, AutoEncoder, load

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_vae_trains_on_the_gpu_and_its_saved_model_encodes_alike_on_the_cpu(small_digits, tmp_path):
    X_train, X_test = small_digits
    vae = VAE(4, epochs=30, device="cuda", random_state=0).fit(X_train)
    assert vae.device_.type == "cuda"
    assert next(vae.model_.parameters()).is_cuda
    assert np.isfinite(vae.score_samples(X_test)).all()
    vae.save(tmp_path / "m")
    on_cpu = load(tmp_path / "m", device="cpu")
    assert next(on_cpu.model_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(on_cpu.transform(X_test), vae.transform(X_test), atol=1e-4)


def test_a_trained_gpu_model_beats_its_untrained_self(small_digits):
    X_train, X_test = small_digits
    untrained = AutoEncoder(2, epochs=1, lr=1e-9, device="cuda", random_state=0).fit(X_train)
    trained = AutoEncoder(2, epochs=40, device="cuda", random_state=0).fit(X_train)
    assert trained.score(X_test) > untrained.score(X_test)


@pytest.mark.skipif(torch.cuda.is_available() and not torch.cuda.is_bf16_supported(), reason="no bf16 on this GPU")
def test_bf16_on_the_gpu_reaches_the_float32_score(small_digits):
    X_train, X_test = small_digits
    scores = {p: AutoEncoder(2, epochs=40, device="cuda", precision=p, random_state=0).fit(X_train).score(X_test)
              for p in ("32", "bf16")}
    assert scores["bf16"] == pytest.approx(scores["32"], rel=0.05)
