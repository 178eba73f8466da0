"""The CSV reader: numbers in rows, an optional header row, an optional label column."""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .._files import check_allocation
from ..errors import DataError
from .readers import check_file, first_line
from .validate import encode_labels, no_such_column


class CsvTable(NamedTuple):
    X: np.ndarray  # (n_rows, n_columns) float64, the label column left out
    y: np.ndarray | None
    label_names: list[str]
    feature_names: list[str]  # the header's names of X's columns, or [] without a header


def read_csv(
    path: str | Path,
    *,
    header: bool | None = None,
    label_column: str | int | None = None,
    delimiter: str | None = None,
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """``(X, y, label_names)`` from a CSV file of numbers (see :func:`read_csv_table`)."""
    table = read_csv_table(path, header=header, label_column=label_column, delimiter=delimiter)
    return table.X, table.y, table.label_names


def read_csv_table(
    path: str | Path,
    *,
    header: bool | None = None,
    label_column: str | int | None = None,
    delimiter: str | None = None,
) -> CsvTable:
    """``(X, y, label_names, feature_names)`` from a CSV file of numbers: X ``(n_rows, n_columns)`` float64.

    ``header``: True / False, or None to take a first row that is not all numbers (the label column
    aside) as a header.
    ``label_column``: a header name, or a 0-based index (negative counts from the end; a string of
    digits counts as an index when no header has that name). Labels that are whole numbers are kept;
    text labels become 0..k-1 in sorted order and their names are returned in ``label_names``.
    ``delimiter``: default ',' (tab for .tsv files). Blank lines are skipped.

    The file is streamed: each row becomes numbers as it is read (never a list of cells for the whole
    file), and a very long unquoted row is converted a slice at a time, so memory stays a small
    multiple of the data's float64 size.
    """
    path = Path(path)
    delimiter = delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
    check_file(path)
    _check_load_size(path, delimiter)
    rows = _parse_rows(path, delimiter)
    first = next(rows, None)
    if first is None:
        raise DataError(f"{path}: no data rows")
    names: list[str] | None = None
    if header is None:
        header = _looks_like_header(first[1], label_column)
    if header:
        names = [c.strip() for c in _as_text(first[1])]
        first = next(rows, None)
        if first is None:
            raise DataError(f"{path}: no data rows")
    width = len(names) if names is not None else len(first[1])
    label_index = None if label_column is None else _label_index(label_column, names, width, path)
    if label_index is not None and width == 1:
        raise DataError(f"{path}: the label column is the only column; no data left")
    data, labels = [], []
    for line, row in itertools.chain([first], rows):
        if len(row) != width:
            what = "the header has" if names is not None else "the first row has"
            raise DataError(f"{path}: ragged rows: line {line} has {len(row)} cells, {what} {width}")
        if label_index is not None:
            labels.append(_as_text(row[label_index : label_index + 1])[0].strip())  # a list or, long rows, an array
            row = _without(row, label_index)
        data.append(_to_numbers(row, line, names, label_index, path))
    y, label_names = None, []
    if label_index is not None:
        y, label_names = encode_labels(labels, f"{path} label column")
    feature_names = [] if names is None else [n for j, n in enumerate(names) if j != label_index]
    return CsvTable(_stacked(data), y, label_names, feature_names)


def _stacked(rows: list[np.ndarray]) -> np.ndarray:
    """The rows as one float64 array, each row let go once copied: the rows and the array are never
    both whole."""
    X = np.empty((len(rows), len(rows[0])), dtype=np.float64)
    for i in range(len(rows)):
        X[i], rows[i] = rows[i], None
    return X


#: what one cell costs at the peak of a load: a float64 in its row, then in the array, then its float32
#: copy in the split's part (the rows are let go as the array fills, the array stays for the split)
CELL_BYTES = 8 + 4
#: what one line costs beyond its cells (a row array's header)
LINE_BYTES = 112


def _check_load_size(path: Path, delimiter: str) -> None:
    """The whole load of the CSV file fits the memory budget, decided before a cell is parsed: one pass
    over its bytes (a MiB at a time) counts the cells (every delimiter and line break ends one) and the
    longest line, held as bytes and as text at once while it is read."""
    sep, cells, lines, longest, run = delimiter.encode(), 1, 0, 0, 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            breaks = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == ord("\n"))
            cells += chunk.count(sep) + len(breaks)
            lines += len(breaks)
            if len(breaks):
                longest = max(longest, run + int(breaks[0]), int(np.diff(breaks).max(initial=0)))
                run = len(chunk) - int(breaks[-1]) - 1
            else:
                run += len(chunk)
    longest, lines = max(longest, run), lines + (run > 0)
    check_allocation(cells * CELL_BYTES + lines * LINE_BYTES + 2 * longest,
                     f"{path}: loading up to {cells:,} cells in {lines:,} lines (the longest {longest:,} bytes)", DataError)


Row = "list[str] | np.ndarray"


def _as_text(row) -> list[str]:
    return [repr(float(v)) for v in row] if isinstance(row, np.ndarray) else row


def _without(row, index: int):
    if isinstance(row, np.ndarray):
        return np.delete(row, index)
    return row[:index] + row[index + 1 :]


#: An unquoted row longer than this many characters is converted to numbers a slice at a time:
#: a list of Python strings costs ~60 bytes per cell, ten times the text.
LONG_ROW = 1 << 20


def _parse_rows(path: Path, delimiter: str) -> Iterator[tuple[int, Row]]:
    """Non-blank rows with their 1-based line numbers, read one line at a time; a long row of plain
    numbers comes as a float64 array, any other row as its cells."""
    check_file(path)
    for line, text in _records(path):
        if len(text) > LONG_ROW and '"' not in text:
            numbers = _long_numeric_row(text, delimiter)
            if numbers is not None:
                yield line, numbers
                continue
            # cells as Python strings cost ~60 bytes each: a long row of text is bounded on its own
            check_allocation(len(text) * 30, f"{path}: line {line} ({len(text)} characters of text)", DataError)
        try:
            row = next(csv.reader([text], delimiter=delimiter), [])
        except csv.Error as e:
            raise DataError(f"{path}: malformed CSV near line {line} ({first_line(e)})") from None
        if any(cell.strip() for cell in row):
            yield line, row


def _records(path: Path) -> Iterator[tuple[int, str]]:
    """``(first line number, text)`` of each CSV record: one line, or several when a quoted cell
    holds line breaks. Lines end at \\n, \\r\\n or a lone \\r, as the csv module reads them."""
    offset, line_number, pending, start = 0, 0, "", 0
    with path.open("rb") as f:
        while raw := f.readline():
            try:
                text = raw.decode("utf-8-sig" if offset == 0 else "utf-8")
            except UnicodeDecodeError as e:
                raise DataError(f"{path}: not UTF-8 text (byte {offset + e.start})") from None
            offset += len(raw)
            raw = None  # a long line: do not hold its bytes and its text at once
            pieces = LONE_CR.split(text) if "\r" in text else [text]
            text = None
            for piece in pieces:
                line_number += 1
                if not pending:
                    start = line_number
                pending += piece
                if pending.count('"') % 2 == 0:  # not inside a quoted cell
                    yield start, pending
                    pending = ""
    if pending:
        yield start, pending


LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def _long_numeric_row(text: str, delimiter: str) -> np.ndarray | None:
    """The numbers of one long unquoted row, converted a slice of cells at a time; None when a cell
    is not a number (the caller then names it)."""
    tail = text[-2:]
    end = len(text) - (len(tail) - len(tail.rstrip("\r\n")))  # the line break dropped without a copy
    out = np.empty(text.count(delimiter, 0, end) + 1, dtype=np.float64)
    start, filled = 0, 0
    while start <= end:
        cut = text.find(delimiter, min(start + LONG_ROW, end), end)
        cut = end if cut < 0 else cut
        try:
            cells = np.array(text[start:cut].split(delimiter), dtype=np.float64)
        except ValueError:
            return None
        out[filled : filled + cells.size] = cells
        filled, start = filled + cells.size, cut + len(delimiter)
    return out


def _label_index(label_column: str | int, names: list[str] | None, width: int, path: Path) -> int:
    if isinstance(label_column, str) and names is not None and label_column in names:
        return names.index(label_column)
    try:
        index = int(label_column)
    except ValueError:
        raise no_such_column(str(path), label_column, names) from None
    if not -width <= index < width:
        raise DataError(f"{path}: label column {index} is out of range for {width} columns")
    return index % width


def _to_numbers(row: Row, line: int, names: list[str] | None, label_index: int | None, path: Path) -> np.ndarray:
    if isinstance(row, np.ndarray):
        return row
    try:  # the fast path; on failure walk the cells to say which one is wrong
        return np.array(row, dtype=np.float64)
    except ValueError:
        pass
    for j, cell in enumerate(row):
        try:
            float(cell)
        except ValueError:
            k = j + 1 if label_index is not None and j >= label_index else j  # the column in the file
            column = f"column {k + 1}" + (f" ({names[k]!r})" if names else "")
            raise DataError(f"{path}: non-numeric cell {cell.strip()!r} at line {line}, {column}") from None
    raise DataError(f"{path}: line {line} cannot be read as numbers")


def _looks_like_header(first: Row, label_column: str | int | None) -> bool:
    """A first row is a header when its cells, the label column's aside, are not all numbers."""
    if isinstance(label_column, str) and not label_column.lstrip("-").isdigit():
        return True  # a label column by name needs a header row
    if isinstance(first, np.ndarray):
        return False  # a row of numbers
    if label_column is not None and -len(first) <= int(label_column) < len(first):
        first = [c for j, c in enumerate(first) if j != int(label_column) % len(first)]
    return not _is_numeric_row(first)


def _is_numeric_row(row: list[str]) -> bool:
    try:
        [float(c) for c in row]
    except ValueError:
        return False
    return True
