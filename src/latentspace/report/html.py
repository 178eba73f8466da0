"""One self-contained HTML page: sections, tables, embedded PNG figures, the run's configuration.

    report = Report("latentspace demo on digits")
    section = report.section("Reconstructions", "What to look at in one sentence.")
    section.table(rows, caption="...")          # rows: list[dict], columns in first-seen order
    section.figure(fig, "What to look at.")      # a matplotlib Figure or PNG bytes
    report.configuration({"seed": 0})
    report.write("out/report.html")

No external asset is referenced: styles are inline and images are ``data:image/png;base64`` URIs, so
the file reads offline and can be mailed as one attachment. Markup carries ``data-section``,
``data-table`` and ``data-figure`` attributes for tests and scripts.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .._files import atomic_write_bytes
from ..errors import LatentspaceError
from .figures import figure_png

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1200px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } .subtitle { color: #555; margin-top: 0; }
section { border-top: 1px solid #ddd; margin-top: 2em; padding-top: 0.5em; }
p.look { background: #f4f7fb; border-left: 4px solid #5a7fa8; padding: 0.4em 0.8em; }
.table-wrap { max-width: 100%; overflow-x: auto; margin: 0.8em 0; }
table { border-collapse: collapse; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #eef1f5; } td.text, th.text { text-align: left; }
caption { caption-side: top; text-align: left; color: #444; padding-bottom: 0.3em; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #333; font-size: 0.95em; margin-top: 0.3em; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
nav ul { columns: 2; } .note { color: #8a5a00; }
"""


#: characters that can end, or change how the HTML parser reads, a ``<script>`` block (``</script>``,
#: ``<!--`` with ``<script``, ``]]>``), and the two that old JavaScript parsers take for line ends
SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
SCRIPT_UNSAFE_PATTERN = re.compile("[<>&\u2028\u2029]")


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside a ``<script>`` element whatever its strings hold: every
    ``<``, ``>``, ``&``, U+2028 and U+2029 written as a ``\\uXXXX`` escape (the same value to
    ``JSON.parse``), so no name in the data can close the block or open a comment in it."""
    text = json.dumps(value, separators=(",", ":"))  # ASCII: a file name's lone surrogate stays a \udcXX escape
    return SCRIPT_UNSAFE_PATTERN.sub(lambda m: SCRIPT_UNSAFE[m.group(0)], text)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def format_cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if value != value:
            return "nan"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.4e}"
    return str(value)


def table_columns(rows: list[dict]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    return columns


def text_table(rows: list[dict], title: str = "") -> str:
    """The same table as plain text, for terminals."""
    columns = table_columns(rows)
    cells = [[format_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    is_text = [all(not isinstance(r.get(c), (int, float, np.number)) for r in rows) for c in columns]
    def line(values):
        return "  ".join(v.ljust(w) if t else v.rjust(w) for v, w, t in zip(values, widths, is_text))
    out = ([title] if title else []) + [line(columns), "  ".join("-" * w for w in widths)]
    return "\n".join(out + [line(row) for row in cells])


@dataclass
class Section:
    title: str
    intro: str = ""
    parts: list[str] = field(default_factory=list)
    figures: int = 0
    tables: int = 0

    @property
    def id(self) -> str:
        return slug(self.title)

    def text(self, paragraph: str, note: bool = False) -> Section:
        cls = ' class="note"' if note else ""
        self.parts.append(f"<p{cls}>{html.escape(paragraph)}</p>")
        return self

    def table(self, rows: list[dict], caption: str = "", name: str | None = None) -> Section:
        """A table from dicts; columns are the keys in first-seen order."""
        if not rows:
            raise LatentspaceError(f"section {self.title!r}: empty table {caption!r}")
        self.tables += 1
        columns = table_columns(rows)
        text_col = [all(not isinstance(r.get(c), (int, float, np.number)) for r in rows) for c in columns]
        attr = [' class="text"' if t else "" for t in text_col]
        head = "".join(f"<th{a}>{html.escape(c)}</th>" for c, a in zip(columns, attr))
        body = "".join(
            "<tr>" + "".join(f"<td{a}>{html.escape(format_cell(r.get(c)))}</td>" for c, a in zip(columns, attr)) + "</tr>"
            for r in rows
        )
        label = html.escape(name or f"{self.id}-{self.tables}")
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        # A wide table (the evaluation's many metrics) scrolls inside its box instead of widening the page.
        self.parts.append(f'<div class="table-wrap"><table data-table="{label}">{cap}<thead><tr>{head}</tr></thead>'
                          f'<tbody>{body}</tbody></table></div>')
        return self

    def figure(self, figure, caption: str, name: str | None = None) -> Section:
        """Embed a matplotlib Figure (or PNG bytes) with the sentence that says what to look at."""
        png = figure if isinstance(figure, (bytes, bytearray)) else figure_png(figure)
        if not png.startswith(b"\x89PNG"):
            raise LatentspaceError(f"section {self.title!r}: figure {caption!r} is not a PNG")
        self.figures += 1
        label = html.escape(name or f"{self.id}-{self.figures}")
        data = base64.b64encode(bytes(png)).decode("ascii")
        self.parts.append(
            f'<figure data-figure="{label}"><img alt="{html.escape(caption)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}</figcaption></figure>'
        )
        return self

    def markup(self, fragment: str) -> Section:
        """Append trusted, self-contained HTML written by this package (e.g. the latent explorer)."""
        self.parts.append(fragment)
        return self

    def preformatted(self, text: str, summary: str | None = None) -> Section:
        block = f"<pre>{html.escape(text)}</pre>"
        if summary:
            block = f"<details><summary>{html.escape(summary)}</summary>{block}</details>"
        self.parts.append(block)
        return self

    def to_html(self) -> str:
        intro = f'<p class="look">{html.escape(self.intro)}</p>' if self.intro else ""
        return (
            f'<section id="{self.id}" data-section="{html.escape(self.title)}">'
            f"<h2>{html.escape(self.title)}</h2>{intro}{''.join(self.parts)}</section>"
        )


@dataclass
class Report:
    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str, intro: str = "") -> Section:
        """A new section (or the existing one with this title); ``intro`` says what to look at."""
        for existing in self.sections:
            if existing.title == title:
                return existing
        section = Section(title, intro)
        self.sections.append(section)
        return section

    def configuration(self, config: dict[str, Any], title: str = "Configuration") -> Section:
        """The run's configuration as pretty JSON, in its own section."""
        section = self.section(title, "Everything needed to run this again.")
        section.preformatted(json.dumps(config, indent=2, sort_keys=True, default=str), summary="configuration (JSON)")
        return section

    def to_html(self) -> str:
        created = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        nav = "".join(f'<li><a href="#{s.id}">{html.escape(s.title)}</a></li>' for s in self.sections)
        subtitle = html.escape(self.subtitle + (" · " if self.subtitle else "") + f"written {created}")
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head><body>"
            f'<h1>{html.escape(self.title)}</h1><p class="subtitle">{subtitle}</p>'
            f"<nav><ul>{nav}</ul></nav>{''.join(s.to_html() for s in self.sections)}</body></html>\n"
        )

    def write(self, path: str | Path) -> Path:
        """Write the page atomically; returns its path."""
        path = Path(path)
        # a name read from a file name that was not UTF-8 holds lone surrogates: written as \udcXX
        atomic_write_bytes(path, self.to_html().encode("utf-8", "backslashreplace"))
        return path
