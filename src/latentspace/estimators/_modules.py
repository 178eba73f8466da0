"""Your own networks: the ``encoder=`` / ``decoder=`` parameters, their shape contract and their identity.

The contract (checked on the first batch, before any training step):

- ``encoder``: ``(batch, n_features)`` float32 rows -> ``(batch, n_components)`` codes for an
  ``AutoEncoder``; ``(batch, 2 * n_components)`` for a ``VAE`` (the posterior's means, then its
  log-variances). Images come flattened, ``C*H*W`` per row: reshape inside the module.
- ``decoder``: ``(batch, n_components)`` -> ``(batch, n_features)``: the likelihood's parameter per
  feature (logits for ``bernoulli``/``bce``, means for ``mse``/``gaussian``).

The estimator trains a deep copy, so the module passed in stays as it was (scikit-learn's rule that
``fit`` never changes a parameter); its initial weights are used as they are. A checkpoint stores the
weights in safetensors and only the class's import path in JSON: loading rebuilds the module from an
instance or class the caller passes, or, only when the caller allows it, by importing that path and
calling the class with no arguments. Nothing is unpickled.
"""

from __future__ import annotations

import copy
import importlib
import re

import torch
from torch import nn

from ..errors import CheckpointError, LatentspaceError, first_line, printable

PARTS = ("encoder", "decoder")
#: a class's import path as ``import_path`` writes it: dotted identifiers, a colon, a dotted qualified
#: name; checked whole before anything is imported (no relative import, no "<locals>", no dunder
#: attribute, nothing but names)
IDENTIFIER = r"(?!__)[A-Za-z_][A-Za-z0-9_]*"
# ``__main__`` is the one dunder module a class path may name: import_path writes it for a class defined
# in a script, and loading then says how to make that class importable.
CLASS_PATH = re.compile(rf"(?:__main__|{IDENTIFIER}(?:\.{IDENTIFIER})*):{IDENTIFIER}(?:\.{IDENTIFIER})*")


def import_path(module_or_class) -> str:
    """``"package.module:QualName"`` of a module's class (or of a class)."""
    cls = module_or_class if isinstance(module_or_class, type) else type(module_or_class)
    return f"{cls.__module__}:{cls.__qualname__}"


def custom_parts(estimator) -> dict[str, nn.Module]:
    """The user's modules among ``encoder``/``decoder`` (absent or None parts are left out)."""
    parts = {name: getattr(estimator, name, None) for name in PARTS}
    for name, value in parts.items():
        if value is not None and not isinstance(value, nn.Module):
            raise LatentspaceError(f"{name} must be a torch.nn.Module or None, got {type(value).__name__}")
    return {name: value for name, value in parts.items() if value is not None}


def fresh_copy(module: nn.Module, name: str) -> nn.Module:
    """A deep copy on the CPU: the estimator's own, so the user's module (part ``name``) is never
    trained or moved. A module that cannot be copied (it holds a lock, an open file, a generator) is
    named, with what stopped the copy."""
    try:
        return copy.deepcopy(module).cpu()
    except Exception as e:  # the user's object: whatever its __deepcopy__ or attributes raise
        raise LatentspaceError(
            f"{name} ({import_path(module)}) cannot be copied: {first_line(e)}; the estimator trains a deep "
            "copy of it, so keep locks, open files and threads out of the module's attributes") from None


def check_contract(model, rows: torch.Tensor, custom: dict[str, nn.Module]) -> None:
    """Run the user's modules on a first batch ``rows`` ``(b, n_features)``; raise one line naming the
    expected and the actual shape when they break the contract."""
    if not custom:
        return
    batch, n_features = rows.shape
    k = model.n_latent
    code_width = k * getattr(model, "code_outputs", 1)
    with torch.no_grad():
        if "encoder" in custom:
            out = call_part(model.encoder, "encoder", rows)
            expect_shape("encoder", out, (batch, code_width), rows.shape, code_meaning(model, k))
        if "decoder" in custom:
            z = torch.zeros(batch, k, dtype=rows.dtype, device=rows.device)
            out = call_part(model.decoder, "decoder", z)
            expect_shape("decoder", out, (batch, n_features), z.shape, "n_features")


def code_meaning(model, k: int) -> str:
    return "n_components" if getattr(model, "code_outputs", 1) == 1 else f"2 * n_components = 2 * {k}: means, log-variances"


def call_part(part: nn.Module, name: str, x: torch.Tensor) -> torch.Tensor:
    try:
        out = part(x)
    except Exception as e:  # the user's code: name the input it failed on, keep torch's first line
        raise LatentspaceError(f"{name} failed on a batch of shape {tuple(x.shape)}: {first_line(e)}") from e
    if not isinstance(out, torch.Tensor):
        raise LatentspaceError(f"{name} must return one tensor, got {type(out).__name__}")
    return out


def expect_shape(name: str, out: torch.Tensor, expected: tuple, given: torch.Size, meaning: str) -> None:
    if tuple(out.shape) != tuple(expected):
        raise LatentspaceError(
            f"{name} returned shape {tuple(out.shape)} for input {tuple(given)}; expected {tuple(expected)} "
            f"(batch, {meaning})"
        )


def describe(value):
    """What a checkpoint's JSON records for a module parameter: its class's import path only."""
    return {"module": import_path(value)} if isinstance(value, nn.Module) else value


def check_class_path(name: str, recorded, path) -> None:
    """The class path a checkpoint recorded for part ``name`` (if any) is one ``import_path`` could have
    written; ``load`` checks every part's before it imports any."""
    wanted = recorded.get("module") if isinstance(recorded, dict) else None
    if wanted is not None and not (isinstance(wanted, str) and CLASS_PATH.fullmatch(wanted)):
        raise CheckpointError(f"{path}: the {name}'s class path {printable(repr(wanted))[:120]} is not "
                              "'package.module:ClassName'; the checkpoint was written by something else or changed")


def rebuild(name: str, recorded, given, allow_import: bool, path) -> nn.Module | None:
    """The module skeleton for part ``name`` of a checkpoint, whose config recorded ``recorded``.

    ``given``: an instance or class the caller passed (it must be of the recorded class), or None.
    Without one, the recorded class is imported and called with no arguments only if ``allow_import``.
    """
    wanted = recorded.get("module") if isinstance(recorded, dict) else None
    if wanted is None:
        if given is not None:
            raise CheckpointError(f"{path}: the model was saved without a custom {name}; do not pass {name}=")
        return None
    if given is not None:
        if import_path(given) != wanted:
            raise CheckpointError(f"{path}: {name} was saved as {wanted}, not {import_path(given)}")
        return instantiate(given, name, wanted, path) if isinstance(given, type) else given
    if not allow_import:
        raise CheckpointError(
            f"{path}: the model has a custom {name} ({wanted}); pass {name}=<an instance of it>, "
            "or allow_import=True (the command line's --allow-import) to import that class and build it with "
            "no arguments"
        )
    check_class_path(name, recorded, path)
    module_name, _, qualname = wanted.partition(":")
    try:
        obj = importlib.import_module(module_name)
        for attr in qualname.split("."):
            obj = getattr(obj, attr)
    except Exception as e:  # importing runs the module's code: whatever it raises, name the class
        raise CheckpointError(f"{path}: cannot import the {name} class {wanted} ({first_line(e)}); "
                              f"{how_to_import(name, module_name, qualname)}") from None
    if not (isinstance(obj, type) and issubclass(obj, nn.Module)):
        raise CheckpointError(f"{path}: {wanted} is not a torch.nn.Module class")
    return instantiate(obj, name, wanted, path)


def how_to_import(name: str, module_name: str, qualname: str) -> str:
    """What makes a recorded class importable, for the error that says it is not."""
    if module_name == "__main__":  # the saving script's own namespace, which no other script sees
        return (f"it was defined in the script that saved the model, which another script cannot import: move "
                f"class {qualname} into a module of its own (e.g. my_networks.py, importable from both scripts) "
                f"and save the model again, or define {qualname} in this script too and pass {name}={qualname}")
    return (f"make module {module_name} importable here (installed, or its folder on PYTHONPATH), "
            f"or pass {name}={qualname}")


def instantiate(cls: type, name: str, wanted: str, path) -> nn.Module:
    try:
        return cls()
    except TypeError as e:
        raise CheckpointError(f"{path}: {wanted}() needs arguments ({e}); pass {name}=<an instance of it>") from None
    except Exception as e:  # the user's constructor
        raise CheckpointError(f"{path}: {wanted}() failed ({first_line(e)}); pass {name}=<an instance of it>") from None
