"""The package's folders are its layers: a module may import only from its own layer or the ones below.

    cli            argument parsing only
    workflows      jobs that write folders: runs, the demo, reports over runs
    report         pictures and the page
    analysis       every measurement of fitted models
    estimators     the scikit-learn contract, save and load
    training       the one loop
    nn | data      torch modules | data sets and readers (independent of each other)
    _files, errors, _version, _families (the table of model families)

Lazy imports inside functions count too: an upward import is a design problem wherever it is written.
Run alone with ``python -m pytest tests/test_layers.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "latentspace"

#: Bottom to top. Units in one tuple share a layer but may not import each other.
LAYERS: list[tuple[str, ...]] = [
    ("_version", "errors", "_families"),
    ("_files",),
    ("nn", "data"),
    ("training",),
    ("estimators",),
    ("analysis",),
    ("report",),
    ("workflows",),
    ("cli",),
]
#: Façades at the top: the package itself, ``python -m latentspace`` and the public data module.
FACADES = {"__init__", "__main__", "datasets"}


def unit_of(module: str) -> str:
    """``latentspace.nn.mlp`` -> ``nn``; ``latentspace.errors`` -> ``errors``; the package -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def rank(unit: str) -> int:
    if unit in FACADES:
        return len(LAYERS)
    for i, layer in enumerate(LAYERS):
        if unit in layer:
            return i
    raise AssertionError(f"latentspace.{unit} is in no layer: add it to LAYERS in tests/test_layers.py")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, source: str | None = None) -> list[tuple[int, str, bool]]:
    """``(line, imported latentspace module, at module level)`` for every import in the file."""
    tree = ast.parse(source if source is not None else path.read_text())
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in _import_nodes(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] if node.module or not node.level else [f"{target}.{a.name}" for a in node.names]
            if not node.module and node.level:  # from . import a, b: submodules (or names) of the package
                names = [f"{target}.{a.name}" for a in node.names]
            found += [(node.lineno, n, node.runs_on_import) for n in names if n.startswith("latentspace")]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, node.runs_on_import) for a in node.names
                      if a.name.startswith("latentspace")]
    return found


def _import_nodes(tree: ast.AST, on_import: bool = True):
    """Import statements, each marked ``runs_on_import``: False inside a function or ``if TYPE_CHECKING``."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            child.runs_on_import = on_import
            yield child
        inside = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) or (
            isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test))
        yield from _import_nodes(child, on_import and not inside)


def violations(path: Path, source: str | None = None) -> list[str]:
    own = unit_of(module_name(path))
    problems = []
    for line, target, _ in imports_of(path, source):
        other = unit_of(target)
        if other == own or other == "__version__":
            continue
        if rank(other) > rank(own) or (rank(other) == rank(own) and own not in FACADES):
            problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {own} imports {target} ({other} is not below it)")
    return problems


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_upward_import(path):
    assert violations(path) == []


def test_every_unit_has_a_layer():
    for path in SOURCES:
        rank(unit_of(module_name(path)))


def test_no_import_cycles_at_module_level():
    """Module-level imports form no cycle, so any module can be imported first."""
    modules = {module_name(p): p for p in SOURCES}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for _, target, top in imports_of(path):
            # ``from pkg import name`` may name a submodule or an attribute: keep the longest module that exists.
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if top and target != name:
                targets.add(target)
        graph[name] = targets
    # A package's __init__ importing its own submodules is how packages work; a submodule importing its
    # package's __init__ back is the cycle to catch.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                if not all(a.startswith(b + ".") or a == b for a, b in zip(cycle[1:], cycle)):
                    raise AssertionError("import cycle: " + " -> ".join(cycle))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node)


def test_the_check_catches_an_upward_import():
    """The check itself can fail: a training module importing the estimators is reported."""
    loop = PACKAGE / "training" / "loop.py"
    source = loop.read_text() + "\nfrom ..estimators import VAE\n"
    assert any("training imports latentspace.estimators" in v for v in violations(loop, source))
    nn_module = PACKAGE / "nn" / "models.py"
    assert violations(nn_module, nn_module.read_text() + "\ndef f():\n    from ..data import load_digits\n")


def test_the_cycle_check_sees_module_level_imports_only():
    lazy = "def f():\n    from .b import x\nif TYPE_CHECKING:\n    from .c import y\n"
    marks = [top for _, _, top in imports_of(PACKAGE / "nn" / "a.py", lazy + "from .d import z\n")]
    assert marks == [False, False, True]
