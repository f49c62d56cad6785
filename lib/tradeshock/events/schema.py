"""Validation machinery shared by the event calendar and the reciprocal rates: pandera runs,
problem lines naming file, row, key and column, and cell normalisation."""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.errors import ValidationError

_SOURCE_ITEM = re.compile(r"^(https?://\S+|seed:\S+|github:\S+)$")
_EVENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_MAX_LISTED = 40


# --------------------------------------------------------------------------------------------
# validation machinery (shared by events and rates)
# --------------------------------------------------------------------------------------------


@functools.cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_iso_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_time_or_blank(value: str) -> bool:
    return value == "" or bool(_TIME.match(value))


def _is_timezone(value: str) -> bool:
    return value in _timezones()


def _sources_ok(value: str) -> bool:
    items = [s.strip() for s in value.split(" ; ")]
    return bool(value.strip()) and all(_SOURCE_ITEM.match(s) for s in items)


def _local_time_problem(date: str, time: str, tz: str) -> str | None:
    """'nonexistent' or 'ambiguous' for a local wall time at a DST change, else None."""
    if not (is_iso_date(date) and time and _TIME.match(time) and _is_timezone(tz)):
        return None
    zone = zoneinfo.ZoneInfo(tz)
    naive = _dt.datetime.fromisoformat(f"{date}T{time}")
    a0, a1 = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if a0.utcoffset() == a1.utcoffset():
        return None
    back = a0.astimezone(_dt.timezone.utc).astimezone(zone).replace(tzinfo=None)
    return "nonexistent" if back != naive else "ambiguous"


def _fmt_value(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _raise(problems: list[str], what: str, origins: Iterable[str]) -> None:
    names = ", ".join(dict.fromkeys(origins))
    head = f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {what} ({names}):"
    shown = problems[:_MAX_LISTED]
    more = len(problems) - len(shown)
    lines = [head] + [f"  - {p}" for p in shown]
    if more:
        lines.append(f"  ... and {more} more")
    err = ValidationError("\n".join(lines))
    err.problems = list(problems)  # type: ignore[attr-defined]
    raise err


def _where(origin: str, row: int | None, key_col: str, key: str | None, column: str | None) -> str:
    parts = [origin]
    if row is not None:
        parts.append(f"row {row}" + (f" ({key_col} {key!r})" if key else ""))
    if column:
        parts.append(f"column {column!r}")
    return ", ".join(parts)


def _run_schema(schema, raw: pd.DataFrame, origin: str, key_col: str,
                hints: Mapping[str, tuple[str, str]], column_of: Mapping[str, str]) -> list[str]:
    """Validate ``raw`` (all-string frame) with pandera; return user-facing problem lines."""
    from pandera.errors import SchemaErrors  # imported lazily: pandera is slow to import

    try:
        schema.validate(raw, lazy=True)
    except SchemaErrors as exc:
        fc = exc.failure_cases
    else:
        return []
    problems: list[str] = []
    keys = raw[key_col] if key_col in raw else pd.Series("", index=raw.index)
    seen: set[tuple] = set()
    for rec in fc.to_dict("records"):
        check = str(rec.get("check") or "")
        column = rec.get("column")
        if isinstance(column, float) and math.isnan(column):
            column = None
        name = _check_name(check)
        column = column_of.get(name, column)
        idx = rec.get("index")
        row = None
        if idx is not None and not (isinstance(idx, float) and math.isnan(idx)):
            row = int(idx) + 1
        dedup = (name, column, row)
        if dedup in seen:
            continue
        seen.add(dedup)
        key = str(keys.iloc[row - 1]) if row is not None else None
        if row is not None and column in raw:
            value = raw.at[row - 1, column]
        else:
            value = rec.get("failure_case")
        hint = hints.get(name)
        if name == "field_uniqueness" and row is not None and column in raw:
            first = int(np.flatnonzero(raw[column].to_numpy() == value)[0]) + 1
            if first == row:
                continue  # report the later copies only
            msg = f"duplicate {column} {_fmt_value(value)}, first used in row {first}"
        elif name == "local_time_exists" and row is not None:
            d, z = raw.at[row - 1, "date"], raw.at[row - 1, "timezone"]
            kind = _local_time_problem(d, str(value), z)
            msg = (f"{value} on {d} does not exist in {z} (the clocks jumped forward)"
                   if kind == "nonexistent" else
                   f"{value} on {d} happens twice in {z} (the clocks went back)")
        elif name == "time_basis_consistency" and row is not None:
            t, b = raw.at[row - 1, "time_local"], raw.at[row - 1, "time_basis"]
            msg = (f"time_basis must be blank if and only if time_local is blank (time_local "
                   f"{t!r}, time_basis {b!r})")
        elif hint is None:
            msg = f"fails check {check} (value {_fmt_value(value)})"
        else:
            msg = f"{hint[0]} (got {_fmt_value(value)})" if row is not None else hint[0]
        fix = hint[1] if hint else "correct the value"
        problems.append(f"{_where(origin, row, key_col, key, column)}: {msg}. Fix: {fix}.")
    problems.sort(key=_row_sort_key)
    return problems


def _row_sort_key(problem: str) -> tuple[int, str]:
    m = re.search(r", row (\d+)", problem)
    return (int(m.group(1)) if m else 0, problem)


def _check_name(check: str) -> str:
    # pandera renders built-in checks as e.g. "isin([...])" or "str_matches('...')"
    return check.split("(", 1)[0]


def _read_csv_strings(path: Path, origin: str, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise ValidationError(
            f"{what} file not found: {path}. Fix: check the path (relative paths are taken from "
            f"the current directory, {Path.cwd()})."
        )
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"{origin}: cannot be read as CSV ({exc}). Fix: save it as UTF-8 CSV with a header row "
            "and quote fields that contain commas."
        ) from exc
    return frame


def _strip_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.columns = [str(c).strip() for c in out.columns]
    for col in out.columns:
        out[col] = out[col].map(_cell_to_str).astype(object)
    return out.reset_index(drop=True)


def _cell_to_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if value is pd.NaT or (not isinstance(value, str) and pd.api.types.is_scalar(value)
                           and pd.isna(value)):
        return ""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None and value.time() == _dt.time(0):
            return value.date().isoformat()  # a date held as a midnight timestamp
        return value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, _dt.time):
        return value.strftime("%H:%M")
    return str(value).strip()


