#!/usr/bin/env bash
# GPU readiness, run on a machine with a CUDA GPU (under 5 minutes on one H100):
#   1. the test suite's CUDA-marked tests (pytest -m cuda);
#   2. the reference workload on the GPU, float32 and bfloat16 (benchmarks/gpu_reference.py):
#      the plain loop (bf16 by autocast) and VAE.fit (precision="32" / "bf16"), s/epoch and test -ELBO;
#   3. DistributedDataParallel with NCCL on one GPU (torchrun, one process: benchmarks/ddp_speed.py);
#   4. the VAE saved on the GPU in step 2, loaded and scored by a process that sees no GPU.
# Where no CUDA device is present it says so and exits 0. Otherwise it exits non-zero if a step failed,
# after running the others. From the repository root:
#   bash benchmarks/gpu_check.sh            (PYTHON=... to choose the interpreter; default python3)
set -u
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
EPOCHS=${GPU_CHECK_EPOCHS:-3}

if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
    echo "gpu_check: $PYTHON cannot import torch (set PYTHON=...): the GPU check did not run"
    exit 0
fi
if ! "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    echo "gpu_check: no CUDA device here (torch.cuda.is_available() is False): the GPU check did not run"
    exit 0
fi
"$PYTHON" -c 'import torch; print("gpu_check:", torch.cuda.get_device_name(), "torch", torch.__version__)'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
step() {  # step NAME COMMAND...: run it, time it, remember a failure
    local name=$1 start=$SECONDS
    shift
    echo; echo "== $name"
    if "$@"; then echo "== $name: ok ($((SECONDS - start)) s)"; else echo "== $name: FAILED ($((SECONDS - start)) s)"; failed+=("$name"); fi
}

step "CUDA-marked tests" "$PYTHON" -m pytest tests -m cuda -q -p no:cacheprovider -p no:xdist
step "reference workload, float32 and bf16" "$PYTHON" benchmarks/gpu_reference.py --epochs "$EPOCHS" --save "$work/vae"
step "DDP with NCCL on one GPU" "$PYTHON" -m torch.distributed.run --standalone --nproc_per_node=1 \
    benchmarks/ddp_speed.py --batch-size 128
step "GPU-saved model loaded on the CPU" env CUDA_VISIBLE_DEVICES= "$PYTHON" - "$work/vae" <<'PY'
import sys, warnings
import numpy as np, torch
from latentspace import load
from latentspace.data import load_digits, fashion_mnist_available, load_fashion_mnist
assert not torch.cuda.is_available(), "this process should see no GPU"
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    vae = load(sys.argv[1])  # saved for device 'cuda': falls back to the CPU with a warning
X = (load_fashion_mnist() if fashion_mnist_available() else load_digits(seed=0)).X_test[:500]
elbo = vae.score_samples(X)
assert np.isfinite(elbo).all(), "non-finite ELBO from the GPU-saved model on the CPU"
print(f"loaded on {vae.device_}; mean ELBO of 500 test images {elbo.mean():.2f} nats;",
      f"warnings: {[str(w.message)[:80] for w in caught]}")
PY

echo
if [ ${#failed[@]} -gt 0 ]; then
    echo "gpu_check: FAILED: ${failed[*]}"
    exit 1
fi
echo "gpu_check: all steps passed"
