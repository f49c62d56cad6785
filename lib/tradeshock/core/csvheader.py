"""The header of a CSV file as written, before pandas touches it.

``pandas.read_csv`` renames a repeated column name silently (``X``, ``X.1``), so two securities
with the same name would enter a study as two different ones. :func:`duplicate_columns` reads the
header line itself (the ``csv`` module, same quoting rules) so callers can refuse such a file.
"""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["csv_header", "duplicate_columns"]


def csv_header(path: str | Path, encoding: str = "utf-8-sig") -> list[str]:
    """The column names of the first line of *path*, stripped (empty list for an empty file)."""
    with open(path, newline="", encoding=encoding) as fh:
        row = next(csv.reader(fh), [])
    return [name.strip() for name in row]


def duplicate_columns(path: str | Path) -> dict[str, list[int]]:
    """Column names that occur more than once in the header of *path*: name -> 1-based column
    positions (``{}`` when every name is unique)."""
    seen: dict[str, list[int]] = {}
    for pos, name in enumerate(csv_header(path), start=1):
        seen.setdefault(name, []).append(pos)
    return {name: where for name, where in seen.items() if len(where) > 1}
