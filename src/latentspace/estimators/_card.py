"""The model card: ``MODEL.md``, a plain-Markdown page beside every saved model and in every run folder.

It says what a person picking up the folder needs before loading anything: the data it was trained on
(name, shape, dtype, hash), its parameters, how training went, the metrics measured so far, the
library and torch versions, and the three lines that load it. Rendered from the checkpoint's own
``config.json`` (what ``save`` writes) plus, for a run folder, the run's data name and metrics files,
so the card never says more than the files it stands beside.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import Any

CARD_FILE = "MODEL.md"
#: nested metric values are shown down to this depth ("a.b.c"), lists by their length
MAX_DEPTH = 3


def model_card(checkpoint: Mapping[str, Any], load_path: str, *, data_name: str | None = None,
               metrics: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The Markdown card of the model whose ``config.json`` is ``checkpoint``.

    ``load_path``: the folder ``load`` is given in the card's code; ``data_name``: the data set's name
    when known (a run's ``--data``); ``metrics``: measurements by where they come from (a run's
    ``metrics.json``, ``evaluation.json``), each a JSON object.
    """
    estimator = str(checkpoint.get("estimator", "model"))
    params = checkpoint.get("params") or {}
    lines = [f"# {estimator}: model card", "",
             f"Written by latentspace {checkpoint.get('library_version', '?')} with torch "
             f"{checkpoint.get('torch_version', '?')} (Python {platform.python_version()}). "
             "Plain Markdown, rewritten whenever the folder's model or metrics change.", ""]
    lines += data_section(checkpoint, data_name)
    shown = {k: f"`{v['module']}` (your module)" if isinstance(v, Mapping) and "module" in v else v
             for k, v in params.items()}
    lines += ["## Parameters", "", *table(("parameter", "value"), sorted(shown.items()))]
    lines += training_section(checkpoint)
    lines += metrics_section(metrics or {})
    lines += load_section(load_path, params)
    return "\n".join(lines).rstrip() + "\n"


def data_section(checkpoint: Mapping[str, Any], name: str | None) -> list[str]:
    data = checkpoint.get("training_data") or {}
    n_features = (checkpoint.get("fitted") or {}).get("n_features_in_")
    hash_note = " (sampled blocks: the array is over 256 MB)" if data.get("sampled") else ""
    streamed = data.get("source")
    unhashed = f"not hashed (a {streamed} streamed to fit)" if streamed else "not recorded"
    rows = [("name", name or (f"a {streamed} streamed to fit" if streamed else "an array passed to fit")),
            ("shape", " x ".join(str(s) for s in data["shape"]) if data.get("shape") else f"? x {n_features}"),
            ("dtype", data.get("dtype", "?")),
            ("sha256", f"`{data['sha256']}`{hash_note}" if data.get("sha256") else unhashed)]
    return ["## Data", "", *table(("what", "value"), rows)]


def training_section(checkpoint: Mapping[str, Any]) -> list[str]:
    fitted = checkpoint.get("fitted") or {}
    history = checkpoint.get("history") or []
    rows = [(name.rstrip("_"), value) for name, value in sorted(fitted.items()) if value is not None]
    if history:
        last = history[-1]
        rows += [(f"last epoch's {term}", value) for term, value in last.items()
                 if term.startswith(("train_", "val_")) and value is not None]
        rows.append(("training seconds", sum(float(r.get("seconds") or 0.0) for r in history)))
    return ["## Training", "", *table(("what", "value"), rows)]


def metrics_section(metrics: Mapping[str, Mapping[str, Any]]) -> list[str]:
    if not any(metrics.values()):
        return ["## Metrics", "", "None measured yet (`latentspace evaluate RUN` adds them).", ""]
    lines = ["## Metrics", ""]
    for source, values in metrics.items():
        if values:
            lines += [f"From `{source}`:", "", *table(("metric", "value"), flatten(values))]
    return lines


def load_section(path: str, params: Mapping[str, Any]) -> list[str]:
    own = [params[p]["module"] for p in ("encoder", "decoder") if isinstance(params.get(p), Mapping)]
    how = f'load("{path}", allow_import=True)' if own else f'load("{path}")'
    lines = ["## Load", "", "```python", "from latentspace import load", f"model = {how}",
             "Z = model.transform(X)  # X: rows (n, n_features) as in the data above", "```", ""]
    if own:
        lines += [f"The model has its own networks ({', '.join(f'`{o}`' for o in own)}): their classes must be "
                  "importable; `allow_import=True` builds them with no arguments (or pass `encoder=`/`decoder=`).", ""]
    return lines


def flatten(values: Mapping[str, Any], prefix: str = "", depth: int = 1) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and depth < MAX_DEPTH:
            rows += flatten(value, f"{name}.", depth + 1)
        elif isinstance(value, (list, tuple)) and len(value) > 8:
            rows.append((name, f"{len(value)} values"))
        else:
            rows.append((name, value))
    return rows


def table(header: tuple[str, str], rows) -> list[str]:
    """A two-column Markdown table; floats to 6 significant digits, pipes escaped."""
    out = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    for key, value in rows:
        out.append(f"| {cell(key)} | {cell(value)} |")
    return [*out, ""]


def cell(value: Any) -> str:
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")
