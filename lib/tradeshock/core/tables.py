"""Tables people read: numbers formatted once, here, with a caption that says what they are.

In the manner of linearmodels' ``_SummaryStr`` and arch's ``_SummaryRepr``: a :class:`Table` keeps
the numbers (``to_frame()``) apart from how they are shown (``as_text()``, ``as_html()``, and
``_repr_html_`` for Jupyter), and a :class:`Summary` stacks a header of settings and several
tables. Formats are named per column:

``pct``
    a fraction shown in percent (``-0.0484`` -> ``-4.84``); the column label says ``(%)``;
``bp``
    basis points as given (``12.3``); ``num`` a plain number; ``int`` a count;
``p``
    a p-value: ``<0.001`` below 0.001, else three decimals;
``date``
    ``YYYY-MM-DD``; ``text`` as is.

A missing value shows as an en dash. Nothing here computes a statistic.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tradeshock.errors import ValidationError

__all__ = ["FORMATS", "Table", "Summary", "fmt_value", "fmt_pct", "fmt_p", "fmt_num"]

#: Named cell formats and their default number of decimals.
FORMATS: Mapping[str, int] = {"pct": 2, "bp": 1, "num": 3, "int": 0, "p": 3, "date": 0,
                              "text": 0}
MISSING = "–"


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def fmt_num(x: Any, decimals: int = 3) -> str:
    """A number with a fixed number of decimals (``-0.000`` shows as ``0.000``)."""
    if _missing(x):
        return MISSING
    v = float(x)
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    text = f"{v:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def fmt_pct(x: Any, decimals: int = 2) -> str:
    """A fraction in percent without the sign: ``-0.0484`` -> ``-4.84``."""
    return MISSING if _missing(x) else fmt_num(100 * float(x), decimals)


def fmt_p(p: Any, decimals: int = 3) -> str:
    """A p-value: ``<0.001`` below 10**-decimals, else with ``decimals`` decimals."""
    if _missing(p):
        return MISSING
    floor = 10.0 ** -decimals
    return f"<{floor:.{decimals}f}" if float(p) < floor else f"{float(p):.{decimals}f}"


def fmt_value(x: Any, fmt: str = "text", decimals: int | None = None) -> str:
    """One cell as text under the named format (see the module docstring)."""
    if fmt not in FORMATS:
        raise ValidationError(f"unknown table format {fmt!r}; use one of {', '.join(FORMATS)}")
    d = FORMATS[fmt] if decimals is None else decimals
    if _missing(x):
        return MISSING
    if fmt == "pct":
        return fmt_pct(x, d)
    if fmt == "p":
        return fmt_p(x, d)
    if fmt in ("num", "bp"):
        return fmt_num(x, d)
    if fmt == "int":
        return f"{int(round(float(x))):d}"
    if fmt == "date":
        return pd.Timestamp(x).strftime("%Y-%m-%d")
    return str(x)


def count_text(n: int, noun: str, plural: str | None = None) -> str:
    """``"1 event session"``, ``"3 event sessions"``: a count with its noun in the right number
    (``plural`` when adding "s" is wrong)."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def _index_label(value: Any) -> str:
    """An index entry as a reader writes it: a midnight timestamp as its date."""
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}" if value == value.normalize() else f"{value:%Y-%m-%d %H:%M}"
    return "" if value is None else str(value)


def _index_text(index: pd.Index) -> pd.Index:
    """The row labels as text, level by level (no ``(Timestamp('2025-04-03'), 'x')`` tuples)."""
    if isinstance(index, pd.MultiIndex):
        return pd.MultiIndex.from_tuples(
            [tuple(_index_label(v) for v in t) for t in index], names=index.names)
    if isinstance(index, pd.DatetimeIndex) or index.dtype == object:
        return pd.Index([_index_label(v) for v in index], name=index.name)
    return index


def _parse(spec: str) -> tuple[str, int | None]:
    name, _, dec = spec.partition(":")
    return name, (int(dec) if dec else None)


@dataclass
class Table:
    """A frame with a caption, human column labels and one format per column.

    ``frame`` holds raw values (fractions, not percent); ``formats`` maps a column to a format
    name, optionally with decimals (``"pct:1"``); ``labels`` maps a column to the label shown.
    ``notes`` are sentences printed under the table (units, tests, sources).
    """

    frame: pd.DataFrame
    caption: str
    formats: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    notes: Sequence[str] = ()
    index: bool = True
    #: What a table without rows says instead of pandas' "Empty DataFrame" (e.g. why it is empty).
    empty: str = "no rows"

    def to_frame(self) -> pd.DataFrame:
        """The raw numbers (a copy), with the original column names."""
        return self.frame.copy()

    def formatted(self) -> pd.DataFrame:
        """Every cell as the text shown, with the human labels as column names."""
        out = pd.DataFrame(index=self.frame.index)
        for col in self.frame.columns:
            name, dec = _parse(self.formats.get(col, "num" if pd.api.types.is_float_dtype(
                self.frame[col]) else "text"))
            out[self.labels.get(col, str(col))] = [fmt_value(v, name, dec)
                                                   for v in self.frame[col]]
        out.index = _index_text(self.frame.index)
        return out

    def as_text(self) -> str:
        body = (f"({self.empty})" if self.frame.empty else
                self.formatted().to_string(index=self.index))
        width = max(len(line) for line in body.splitlines()) if body else len(self.caption)
        lines = [self.caption, "-" * max(width, len(self.caption)), body]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def as_html(self) -> str:
        f = self.formatted()
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in f.columns)
        if self.index:  # one header cell per index level (a session, a group, ...)
            head = "".join(f"<th>{html.escape(str(n or ''))}</th>" for n in f.index.names) + head
        rows = []
        keep = ["" if _parse(self.formats.get(c, ""))[0] != "date" else
                " style='white-space:nowrap'" for c in self.frame.columns]
        for idx, row in f.iterrows():
            # dates never wrap at their hyphens ("2025-04-/03")
            cells = "".join(f"<td{k}>{html.escape(v)}</td>" for k, v in zip(keep, row))
            if self.index:
                parts = idx if isinstance(idx, tuple) else (idx,)
                cells = "".join(f"<th>{html.escape(str(i))}</th>" for i in parts) + cells
            rows.append(f"<tr>{cells}</tr>")
        if self.frame.empty:
            span = len(f.columns) + (f.index.nlevels if self.index else 0)
            rows.append(f"<tr><td colspan='{max(span, 1)}'>{html.escape(self.empty)}</td></tr>")
        notes = "".join(f"<p class='ts-note'>{html.escape(n)}</p>" for n in self.notes)
        return (f"<div class='ts-table'><table><caption>{html.escape(self.caption)}</caption>"
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{notes}"
                "</div>")

    def _repr_html_(self) -> str:
        return self.as_html()

    def __str__(self) -> str:
        return self.as_text()

    __repr__ = __str__


@dataclass
class Summary:
    """A header of settings (label -> value) over one or more tables, like linearmodels'."""

    title: str
    header: Mapping[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    notes: Sequence[str] = ()

    def as_text(self) -> str:
        width = 78
        lines = [self.title.center(width), "=" * width]
        lines += [f"{k + ':':<24}{v}" for k, v in self.header.items()]
        for t in self.tables:
            lines += ["", t.as_text()]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def as_html(self) -> str:
        head = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                       for k, v in self.header.items())
        notes = "".join(f"<p class='ts-note'>{html.escape(n)}</p>" for n in self.notes)
        return (f"<div class='ts-summary'><h4>{html.escape(self.title)}</h4>"
                f"<table class='ts-header'>{head}</table>"
                + "".join(t.as_html() for t in self.tables) + notes + "</div>")

    def _repr_html_(self) -> str:
        return self.as_html()

    def __str__(self) -> str:
        return self.as_text()

    __repr__ = __str__

    def tables_named(self) -> Iterable[tuple[str, Table]]:
        return ((t.caption, t) for t in self.tables)
