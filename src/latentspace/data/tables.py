"""The CSV reader: numbers in rows, an optional header row, an optional label column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ..errors import DataError
from .readers import first_line, read_bytes
from .validate import encode_labels


def read_csv(
    path: str | Path,
    *,
    header: bool | None = None,
    label_column: str | int | None = None,
    delimiter: str | None = None,
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """``(X, y, label_names)`` from a CSV file of numbers: X ``(n_rows, n_columns)`` float64.

    ``header``: True / False, or None to take a first row that is not all numbers (the label column
    aside) as a header.
    ``label_column``: a header name, or a 0-based index (negative counts from the end; a string of
    digits counts as an index when no header has that name). Labels that are whole numbers are kept;
    text labels become 0..k-1 in sorted order and their names are returned in ``label_names``.
    ``delimiter``: default ',' (tab for .tsv files). Blank lines are skipped.
    """
    path = Path(path)
    delimiter = delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
    rows = _parse_rows(path, delimiter)
    names: list[str] | None = None
    if rows and header is None:
        header = _looks_like_header(rows[0][1], label_column)
    if rows and header:
        names = [c.strip() for c in rows[0][1]]
        rows = rows[1:]
    if not rows:
        raise DataError(f"{path}: no data rows")
    width = len(names) if names is not None else len(rows[0][1])
    for line, row in rows:
        if len(row) != width:
            what = "the header has" if names is not None else "the first row has"
            raise DataError(f"{path}: ragged rows: line {line} has {len(row)} cells, {what} {width}")
    label_index = None if label_column is None else _label_index(label_column, names, width, path)
    y, label_names = None, []
    if label_index is not None:
        y, label_names = encode_labels([row[label_index].strip() for _, row in rows], f"{path} label column")
        rows = [(line, row[:label_index] + row[label_index + 1 :]) for line, row in rows]
        if names is not None:
            del names[label_index]
        if width == 1:
            raise DataError(f"{path}: the label column is the only column; no data left")
    return _to_numbers(rows, names, path), y, label_names


def _parse_rows(path: Path, delimiter: str) -> list[tuple[int, list[str]]]:
    """Non-blank rows with their 1-based line numbers."""
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text (byte {e.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
    except csv.Error as e:
        raise DataError(f"{path}: malformed CSV near line {reader.line_num} ({first_line(e)})") from None
    return rows


def _label_index(label_column: str | int, names: list[str] | None, width: int, path: Path) -> int:
    if isinstance(label_column, str) and names is not None and label_column in names:
        return names.index(label_column)
    try:
        index = int(label_column)
    except ValueError:
        known = f"the header has {', '.join(names)}" if names is not None else "the file has no header"
        raise DataError(f"{path}: no label column named {label_column!r}; {known}") from None
    if not -width <= index < width:
        raise DataError(f"{path}: label column {index} is out of range for {width} columns")
    return index % width


def _to_numbers(rows: list[tuple[int, list[str]]], names: list[str] | None, path: Path) -> np.ndarray:
    try:  # the fast path; on failure walk the cells to say which one is wrong
        return np.array([row for _, row in rows], dtype=np.float64)
    except ValueError:
        pass
    out = np.empty((len(rows), len(rows[0][1])), dtype=np.float64)
    for i, (line, row) in enumerate(rows):
        for j, cell in enumerate(row):
            try:
                out[i, j] = float(cell)
            except ValueError:
                column = f"column {j + 1}" + (f" ({names[j]!r})" if names else "")
                raise DataError(f"{path}: non-numeric cell {cell.strip()!r} at line {line}, {column}") from None
    return out


def _looks_like_header(first: list[str], label_column: str | int | None) -> bool:
    """A first row is a header when its cells, the label column's aside, are not all numbers."""
    if isinstance(label_column, str) and not label_column.lstrip("-").isdigit():
        return True  # a label column by name needs a header row
    if label_column is not None and -len(first) <= int(label_column) < len(first):
        first = [c for j, c in enumerate(first) if j != int(label_column) % len(first)]
    return not _is_numeric_row(first)


def _is_numeric_row(row: list[str]) -> bool:
    try:
        [float(c) for c in row]
    except ValueError:
        return False
    return True
