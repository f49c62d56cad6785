"""The 2025 tariff event calendar (schema-validated) and exchange-aware event alignment.

Two jobs, kept apart:

* **The calendar.** :func:`load_events` reads the bundled ``data/events/tariff_events_2025.csv``
  (and any events a user adds, from another CSV or a list of dicts), validates every row with a
  pandera schema and adds a tz-aware UTC ``timestamp`` (``NaT`` when the time of day is not known)
  and a ``timed`` flag. Any problem raises :class:`tradeshock.errors.ValidationError` naming the
  file, the 1-based data row, the ``event_id``, the column and how to fix it.
  :func:`load_reciprocal_rates` and :func:`tariff_measures` do the same for the 2 April 2025
  "reciprocal" rates.

* **Alignment.** An announcement is an instant. For a market (an exchange_calendars code) its
  *day 0* is the first session that trades after the announcement (:func:`align`):

  - if the instant falls in ``[open, close)`` of a session (a lunch break counts as inside), day
    0 is that session and the timing is ``"intraday"``;
  - otherwise day 0 is the next session to open, and the timing says where the instant fell:
    ``"before_open"`` (earlier on the local date of that session), ``"after_close"`` (later on the
    local date of the previous session, after its close) or ``"non_session"`` (a local date that
    is not a session: weekend or holiday, or overnight into one).

  Events without a time of day follow one documented rule (:data:`UNTIMED_RULE`): the announcement
  is placed at the end of its local calendar day, 23:59:59 in its own time zone, which for US events
  is after the US close; the alignment is flagged ``untimed=True``. Times that are an upper bound
  (``time_basis == "by"``) are used as given: the news was public by then.

  Sessions, opens and closes come from exchange_calendars; no holiday is coded here. Calendars
  are built with an explicit ``start`` (:data:`CALENDAR_START`), because the library default moves
  with today's date; their last session is the library default end (about a year after today).

Event time (:func:`event_window`) counts a market's own sessions, so holidays are skipped; other
events whose day 0 falls inside a window are reported by :func:`events_in_window`, never merged.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import functools
import math
import re
import warnings
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from tradeshock import DATA_DIR
from tradeshock.errors import ValidationError

__all__ = [
    "EVENTS_PATH",
    "RATES_PATH",
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "KINDS",
    "TIME_BASES",
    "KEY_EVENTS",
    "UNTIMED_RULE",
    "CALENDAR_START",
    "TIMINGS",
    "Alignment",
    "load_events",
    "validate_events",
    "get_event",
    "get_calendar",
    "event_instant",
    "align",
    "align_many",
    "parse_window",
    "event_window",
    "events_in_window",
    "day0_table",
    "load_reciprocal_rates",
    "tariff_measures",
    "BASELINE_RATE_PCT",
    "FLOOR_PCT",
    "PHI_USTR",
    "PHI_AEI",
    "EPSILON",
    "AEI_SCALE",
    "RATE_COLUMNS",
]

#: The bundled calendar and rates (committed data).
EVENTS_PATH = DATA_DIR / "events" / "tariff_events_2025.csv"
RATES_PATH = DATA_DIR / "events" / "reciprocal_rates_2025.csv"

#: Column order of an event calendar file.
COLUMNS: tuple[str, ...] = (
    "event_id",
    "date",
    "time_local",
    "time_basis",
    "timezone",
    "kind",
    "actor",
    "countries_affected",
    "title",
    "description",
    "source_url",
    "confidence",
)
#: Columns a user's events must have; the others may be left out (they are then blank).
REQUIRED_COLUMNS: tuple[str, ...] = ("event_id", "date", "timezone", "kind", "title", "source_url")

#: The fixed vocabulary of ``kind`` (value -> meaning).
KINDS: Mapping[str, str] = MappingProxyType(
    {
        "announcement": "a new tariff measure or package is announced (signed, posted or "
        "proclaimed)",
        "escalation": "the US raises, widens or threatens tariffs on a partner",
        "retaliation": "a partner's counter-measure against the US",
        "de-escalation": "a pause, exemption, cut, delay or truce",
        "negotiation": "talks, calls or statements about negotiating, without agreed terms",
        "deal": "an agreement is announced or implemented",
        "legal": "a court ruling or order",
        "effective": "a measure announced earlier takes effect (known in advance; markets price "
        "the announcement)",
        "clarification": "a correction or clarification of an earlier announcement",
        "rumor": "an unconfirmed or false report that moved markets",
        "statement": "a remark by an official that changes no policy",
    }
)

#: The vocabulary of ``time_basis`` (blank if and only if ``time_local`` is blank).
TIME_BASES: Mapping[str, str] = MappingProxyType(
    {
        "exact": "the time was reported to the minute by a source",
        "approx": "the time was reported as approximate ('about', 'around')",
        "by": "an upper bound: the news was public by then (the earliest timestamp of a report)",
    }
)

#: Short names used by notebooks -> event ids in the bundled calendar.
KEY_EVENTS: Mapping[str, str] = MappingProxyType(
    {
        "ieepa_orders": "E2025-02-01-ieepa-orders",
        "autos": "E2025-03-26-autos",
        "liberation_day": "E2025-04-02-liberation-day",
        "china_34": "E2025-04-04-china-34",
        "china_104": "E2025-04-08-china-104",
        "china_84": "E2025-04-09-china-84",
        "pause": "E2025-04-09-pause",
        "china_125_us": "E2025-04-09-china-125",
        "china_125": "E2025-04-11-china-125",
        "electronics_exemption": "E2025-04-11-electronics-exemption",
        "uk_deal": "E2025-05-08-us-uk-deal",
        "geneva": "E2025-05-12-geneva",
        "cit_ruling": "E2025-05-28-cit-ruling",
        "japan_deal": "E2025-07-22-japan-deal",
        "eu_deal": "E2025-07-27-eu-deal",
    }
)

#: How an event without a time of day is aligned.
UNTIMED_RULE = (
    "an event without a time of day is placed at the end of its local calendar day (23:59:59 in "
    "its time zone); for US events that is after the US close"
)

#: Start of every exchange calendar built here (the exchange_calendars default moves with today).
CALENDAR_START = "2000-01-01"

#: Values of :attr:`Alignment.timing`.
TIMINGS: tuple[str, ...] = ("intraday", "before_open", "after_close", "non_session")

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


def _is_date(value: str) -> bool:
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
    if not (_is_date(date) and time and _TIME.match(time) and _is_timezone(tz)):
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


# --------------------------------------------------------------------------------------------
# the event calendar
# --------------------------------------------------------------------------------------------

_EVENT_HINTS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "event_id_format": (
            "event_id is empty or has spaces or other characters",
            "give a non-empty id of letters, digits and - _ . : (e.g. E2025-04-02-liberation-day)",
        ),
        "date_format": (
            "not a valid date",
            "write the local date as YYYY-MM-DD, e.g. 2025-04-02",
        ),
        "time_format": (
            "not a time of day",
            "write HH:MM on a 24-hour clock, local to the row's timezone (e.g. 16:00), or leave it "
            "blank when the time of day is not known (never guess one)",
        ),
        "time_basis_value": (
            "not a known time_basis",
            "use exact, approx or by (" + "; ".join(f"{k}: {v}" for k, v in TIME_BASES.items())
            + "), blank when time_local is blank",
        ),
        "time_basis_consistency": (
            "time_basis does not match time_local (time_basis must be blank if and only if "
            "time_local is blank)",
            "set time_basis to exact, approx or by when time_local is given; clear it when "
            "time_local is blank",
        ),
        "timezone_known": (
            "not a known IANA time zone",
            "use a zoneinfo name such as America/New_York, Europe/Berlin or Asia/Shanghai (see "
            "zoneinfo.available_timezones())",
        ),
        "kind_known": (
            "not a known kind",
            "use one of " + ", ".join(KINDS),
        ),
        "title_present": (
            "the title is empty",
            "give a one-line title",
        ),
        "source_present": (
            "no usable source",
            "give at least one source: an http(s) URL, seed:FILE or github:OWNER/REPO/PATH; "
            "separate several with ' ; '",
        ),
        "local_time_exists": (
            "this local time does not exist or is ambiguous (a daylight-saving change)",
            "check the time; if it is right, give it in UTC (timezone UTC) instead, which has no "
            "daylight-saving changes",
        ),
        "field_uniqueness": (
            "duplicate event_id",
            "give every event a unique event_id (ids must also be unique across files)",
        ),
    }
)


@functools.cache
def _events_schema():
    import pandera.pandas as pa

    def text(*checks, unique=False):
        return pa.Column(None, checks=list(checks), unique=unique, nullable=False)

    def local_time_ok(df: pd.DataFrame) -> pd.Series:
        return pd.Series(
            [_local_time_problem(d, t, z) is None
             for d, t, z in zip(df["date"], df["time_local"], df["timezone"])],
            index=df.index,
        )

    return pa.DataFrameSchema(
        {
            "event_id": text(
                pa.Check(lambda v: bool(_EVENT_ID.match(v)), element_wise=True,
                         name="event_id_format"),
                unique=True,
            ),
            "date": text(pa.Check(_is_date, element_wise=True, name="date_format")),
            "time_local": text(pa.Check(_is_time_or_blank, element_wise=True, name="time_format")),
            "time_basis": text(pa.Check(lambda v: v == "" or v in TIME_BASES, element_wise=True,
                                        name="time_basis_value")),
            "timezone": text(pa.Check(_is_timezone, element_wise=True, name="timezone_known")),
            "kind": text(pa.Check(lambda v: v in KINDS, element_wise=True, name="kind_known")),
            "actor": text(),
            "countries_affected": text(),
            "title": text(pa.Check(lambda v: v != "", element_wise=True, name="title_present")),
            "description": text(),
            "source_url": text(pa.Check(_sources_ok, element_wise=True, name="source_present")),
            "confidence": text(),
        },
        checks=[
            pa.Check(lambda df: (df["time_local"] == "") == (df["time_basis"] == ""),
                     name="time_basis_consistency"),
            pa.Check(local_time_ok, name="local_time_exists"),
        ],
        strict=True,
        ordered=False,
        name="tariff event calendar",
    )


_EVENT_COLUMN_OF = MappingProxyType(
    {"time_basis_consistency": "time_basis", "local_time_exists": "time_local"}
)


def _check_columns(raw: pd.DataFrame, origin: str) -> list[str]:
    problems = []
    for col in raw.columns:
        if col not in COLUMNS:
            close = difflib.get_close_matches(col, COLUMNS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"{origin}, column {col!r}: unknown column{hint}. Fix: rename or remove it; the "
                f"columns are {', '.join(COLUMNS)}."
            )
    if len(set(raw.columns)) != len(raw.columns):
        dup = sorted({c for c in raw.columns if list(raw.columns).count(c) > 1})
        problems.append(
            f"{origin}: column(s) {', '.join(dup)} appear more than once. Fix: keep one."
        )
    for col in REQUIRED_COLUMNS:
        if col not in raw.columns:
            problems.append(
                f"{origin}, column {col!r}: missing. Fix: add the column (required columns: "
                f"{', '.join(REQUIRED_COLUMNS)})."
            )
    return problems


def validate_events(raw: pd.DataFrame, origin: str = "<events>") -> pd.DataFrame:
    """Validate one calendar given as a frame of strings; return it typed (see :func:`load_events`).

    ``origin`` names the file (or list) in error messages. Rows are numbered from 1 (the first
    data row, i.e. line 2 of a CSV file).
    """
    raw = _strip_frame(raw)
    problems = _check_columns(raw, origin)
    if problems:
        _raise(problems, "the event calendar", [origin])
    for col in COLUMNS:
        if col not in raw.columns:
            raw[col] = ""
    raw = raw[list(COLUMNS)]
    problems = _run_schema(_events_schema(), raw, origin, "event_id", _EVENT_HINTS,
                           _EVENT_COLUMN_OF)
    if problems:
        _raise(problems, "the event calendar", [origin])
    return _typed_events(raw, origin)


def _typed_events(raw: pd.DataFrame, origin: str) -> pd.DataFrame:
    out = raw.copy()
    stamps = []
    for d, t, z in zip(raw["date"], raw["time_local"], raw["timezone"]):
        if t:
            local = _dt.datetime.fromisoformat(f"{d}T{t}").replace(tzinfo=zoneinfo.ZoneInfo(z))
            stamps.append(pd.Timestamp(local).tz_convert("UTC"))
        else:
            stamps.append(pd.NaT)
    out["date"] = pd.to_datetime(raw["date"], format="%Y-%m-%d")
    for col in COLUMNS:
        if col != "date":
            out[col] = out[col].replace("", np.nan)
    out["timestamp"] = pd.to_datetime(pd.Series(stamps, index=raw.index, dtype=object), utc=True)
    out["timed"] = raw["time_local"] != ""
    out["origin"] = origin
    return out


def _events_from(source: Any, origin: str | None = None) -> pd.DataFrame:
    """One source (path, DataFrame or list of dicts) -> validated typed frame."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = origin or (path.name if path.resolve() == EVENTS_PATH.resolve() else str(path))
        return validate_events(_read_csv_strings(path, name, "event calendar"), name)
    if isinstance(source, pd.DataFrame):
        return validate_events(source.astype(object), origin or "<extra events frame>")
    if isinstance(source, Sequence) and all(isinstance(r, Mapping) for r in source):
        name = origin or "<extra events list>"
        if not source:
            return validate_events(pd.DataFrame(columns=list(COLUMNS)), name)
        return validate_events(pd.DataFrame.from_records([dict(r) for r in source]), name)
    raise ValidationError(
        f"cannot read events from a {type(source).__name__}. Fix: pass a CSV path, a DataFrame or "
        "a list of dicts with the calendar's columns."
    )


@functools.lru_cache(maxsize=8)
def _cached_file(path: str, mtime: float, size: int) -> pd.DataFrame:
    return _events_from(Path(path))


def _load_one(source: Any) -> pd.DataFrame:
    if isinstance(source, (str, Path)) and Path(source).is_file():
        p = Path(source).resolve()
        st = p.stat()
        return _cached_file(str(p), st.st_mtime, st.st_size).copy()
    return _events_from(source)


def load_events(path: str | Path | None = None, extra: Any = None) -> pd.DataFrame:
    """The validated event calendar, with user events merged in.

    Parameters
    ----------
    path
        Calendar CSV; default the bundled ``data/events/tariff_events_2025.csv``.
    extra
        More events with the same columns and checks: a CSV path, a DataFrame, a list of dicts
        (e.g. a notebook parameter), or a list of CSV paths. Ids must be unique across all of them.

    Returns
    -------
    DataFrame
        The columns of :data:`COLUMNS` (``date`` as a tz-naive local date, blanks as NaN) plus
        ``timestamp`` (tz-aware UTC instant, ``NaT`` when untimed), ``timed`` (bool) and
        ``origin`` (the file or list each row came from), sorted by date and time.

    Raises
    ------
    ValidationError
        Naming file, row (1-based data row and event_id), column and the fix.
    """
    frames = [_load_one(EVENTS_PATH if path is None else path)]
    if extra is not None:
        many = (
            isinstance(extra, Sequence)
            and not isinstance(extra, (str, bytes))
            and len(extra) > 0
            and all(isinstance(e, (str, Path)) for e in extra)
        )
        for src in extra if many else [extra]:
            frames.append(_load_one(src))
    problems = []
    first: dict[str, tuple[str, int]] = {}
    for frame in frames:
        for i, eid in enumerate(frame["event_id"]):
            row = int(frame.index[i]) + 1
            if eid in first:
                o, r = first[eid]
                problems.append(
                    f"{frame['origin'].iloc[i]}, row {row} (event_id {eid!r}), column 'event_id': "
                    f"duplicate of {o} row {r}. Fix: give the event a new event_id (ids must be "
                    "unique across files)."
                )
            else:
                first[eid] = (frame["origin"].iloc[i], row)
    if problems:
        origins = [f["origin"].iloc[0] for f in frames if len(f)]
        _raise(problems, "the merged event calendar", origins)
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    out = out.sort_values(["date", "timestamp", "event_id"], kind="stable", na_position="last")
    return out.reset_index(drop=True)


def _resolve_id(name: str) -> str:
    return KEY_EVENTS.get(name, name)


def get_event(event: str, events: pd.DataFrame | None = None) -> pd.Series:
    """One row of the calendar by ``event_id`` or :data:`KEY_EVENTS` short name."""
    events = load_events() if events is None else events
    eid = _resolve_id(str(event))
    hit = events.loc[events["event_id"] == eid]
    if hit.empty:
        close = difflib.get_close_matches(eid, list(events["event_id"]) + list(KEY_EVENTS), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValidationError(
            f"unknown event {event!r}: not an event_id of the calendar nor a KEY_EVENTS "
            f"name.{hint} Fix: run `tradeshock events list` to see the ids."
        )
    return hit.iloc[0]


# --------------------------------------------------------------------------------------------
# calendars and alignment
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def get_calendar(code: str):
    """The exchange_calendars calendar ``code`` (e.g. XNYS), from :data:`CALENDAR_START`."""
    import exchange_calendars as xcals

    try:
        with warnings.catch_warnings():
            # only exchange_calendars runs here; it still calls pandas APIs that pandas 3
            # deprecates (Series.values on tz-aware data, DatetimeIndex.weekday): not ours to fix
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            return xcals.get_calendar(code, start=CALENDAR_START)
    except xcals.errors.InvalidCalendarName:
        close = difflib.get_close_matches(code.upper(), xcals.get_calendar_names(), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValidationError(
            f"unknown exchange calendar {code!r}.{hint} Fix: use an exchange_calendars code such "
            "as XNYS, XTKS, XHKG, XETR, XLON (exchange_calendars.get_calendar_names() lists them)."
        ) from None


def _calendar(calendar) -> tuple[str, Any]:
    if isinstance(calendar, str):
        return calendar, get_calendar(calendar)
    name = getattr(calendar, "name", None)
    if name is None or not hasattr(calendar, "opens"):
        raise ValidationError(
            f"not an exchange calendar: {calendar!r}. Fix: pass a code such as 'XNYS' or an "
            "exchange_calendars ExchangeCalendar."
        )
    return name, calendar


@functools.lru_cache(maxsize=64)
def _arrays(cal) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    sessions = pd.DatetimeIndex(cal.sessions)
    opens = cal.opens.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
    closes = cal.closes.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
    return sessions, opens, closes


@dataclass(frozen=True)
class Alignment:
    """Where one announcement lands in one market's sessions."""

    #: Event id (or a label for an ad-hoc instant).
    event_id: str
    #: exchange_calendars code.
    calendar: str
    #: Day-0 session date: tz-naive, midnight, the exchange-local session label.
    day0: pd.Timestamp
    #: "intraday", "before_open", "after_close" or "non_session" (see the module docstring).
    timing: str
    #: True when the event had no time of day and :data:`UNTIMED_RULE` placed it.
    untimed: bool
    #: One-sentence explanation of how day 0 was found.
    rule: str
    #: The UTC instant aligned (the assumed end of day for untimed events).
    instant: pd.Timestamp | None = None
    #: time_basis of the event's time (exact, approx, by), None when untimed or ad hoc.
    time_basis: str | None = None

    @property
    def intraday(self) -> bool:
        """True when the announcement fell inside the day-0 session."""
        return self.timing == "intraday"

    @property
    def label(self) -> str:
        """'2025-04-03' or '2025-04-09 (intraday)'."""
        return self.day0.strftime("%Y-%m-%d") + (" (intraday)" if self.intraday else "")

    def __str__(self) -> str:
        return self.day0.strftime("%Y-%m-%d") + (" intraday" if self.intraday else "")


def event_instant(event: Mapping | pd.Series) -> tuple[pd.Timestamp, bool]:
    """The UTC instant used to align an event row, and whether it is the untimed assumption."""
    ts = event.get("timestamp")
    if ts is not None and not pd.isna(ts):
        return pd.Timestamp(ts).tz_convert("UTC"), False
    eid = event.get("event_id", "<event>")
    date = _cell_to_str(event.get("date"))[:10]
    tz = _cell_to_str(event.get("timezone"))
    time = _cell_to_str(event.get("time_local"))
    if not _is_date(date):
        raise ValidationError(f"event {eid!r}: date {date!r} is not YYYY-MM-DD. Fix: give the "
                              "local date, e.g. 2025-04-02.")
    if not _is_timezone(tz):
        raise ValidationError(f"event {eid!r}: time zone {tz!r} is not a zoneinfo name. Fix: use "
                              "e.g. America/New_York.")
    if not _is_time_or_blank(time):
        raise ValidationError(f"event {eid!r}: time_local {time!r} is not HH:MM. Fix: write e.g. "
                              "16:00, or leave it blank when not known.")
    zone = zoneinfo.ZoneInfo(tz)
    local = _dt.datetime.fromisoformat(f"{date}T{time or '23:59:59'}").replace(tzinfo=zone)
    return pd.Timestamp(local).tz_convert("UTC"), not time


def _as_event(event, events: pd.DataFrame | None) -> dict:
    """Normalise what align() accepts into a dict with event_id, timestamp/date/timezone."""
    if isinstance(event, Alignment):
        raise ValidationError("align() takes an event, not an Alignment. Fix: pass the event id.")
    if isinstance(event, (pd.Timestamp, _dt.datetime)):
        ts = pd.Timestamp(event)
        if ts.tzinfo is None:
            raise ValidationError(
                f"the instant {ts} has no time zone. Fix: give a tz-aware timestamp, e.g. "
                "pd.Timestamp('2025-04-09 13:18', tz='America/New_York')."
            )
        return {"event_id": ts.isoformat(), "timestamp": ts.tz_convert("UTC"), "time_basis": None}
    if isinstance(event, str):
        return dict(get_event(event, events))
    if isinstance(event, (pd.Series, Mapping)):
        rec = dict(event)
        missing = [k for k in ("event_id", "date", "timezone") if k not in rec]
        if missing and pd.isna(rec.get("timestamp", np.nan)):
            raise ValidationError(
                f"event mapping lacks {', '.join(missing)}. Fix: pass a row of load_events() or an "
                "event id."
            )
        rec.setdefault("event_id", "<event>")
        return rec
    raise ValidationError(
        f"cannot align a {type(event).__name__}. Fix: pass an event id, a row of load_events() or "
        "a tz-aware timestamp."
    )


def _fmt_local(ts: pd.Timestamp, tz) -> str:
    return f"{ts.tz_convert(tz):%Y-%m-%d %H:%M:%S} {tz}"


def align(event, calendar, *, events: pd.DataFrame | None = None) -> Alignment:
    """Day 0 of ``event`` for the exchange ``calendar``.

    Parameters
    ----------
    event
        An event id or :data:`KEY_EVENTS` name (looked up in ``events``, default the bundled
        calendar), a row of :func:`load_events`, or a tz-aware timestamp.
    calendar
        An exchange_calendars code such as ``"XNYS"`` (or a calendar object).

    Raises
    ------
    ValidationError
        Unknown event or calendar, or an instant before the calendar's first session opens or after
        its last session closes.
    """
    rec = _as_event(event, events)
    code, cal = _calendar(calendar)
    instant, untimed = event_instant(rec)
    eid = str(rec["event_id"])
    sessions, opens, closes = _arrays(cal)
    t = np.datetime64(instant.tz_convert("UTC").tz_localize(None).to_datetime64(), "ns")
    tz = cal.tz
    if t < opens[0]:
        raise ValidationError(
            f"event {eid!r} ({_fmt_local(instant, 'UTC')}) is before the first {code} session "
            f"({sessions[0]:%Y-%m-%d}; calendars start {CALENDAR_START}). Fix: drop the event or "
            "use a market whose calendar covers it."
        )
    i = int(np.searchsorted(closes, t, side="right"))
    if i >= len(sessions):
        raise ValidationError(
            f"event {eid!r} ({_fmt_local(instant, 'UTC')}) is after the last {code} session "
            f"({sessions[-1]:%Y-%m-%d}, the exchange_calendars default end, about a year after "
            "today), so its next session is unknown. Fix: check the date; a future event cannot be "
            "aligned yet."
        )
    day0 = sessions[i]
    open_i = pd.Timestamp(opens[i], tz="UTC").tz_convert(tz)
    close_i = pd.Timestamp(closes[i], tz="UTC").tz_convert(tz)
    local = instant.tz_convert(tz)
    local_date = pd.Timestamp(local.date())
    if opens[i] <= t < closes[i]:
        timing = "intraday"
        lunch = "; its lunch break counts as inside" if cal.session_has_break(day0) else ""
        where = (f"inside the session of {day0:%Y-%m-%d} ({open_i:%H:%M}-{close_i:%H:%M}{lunch}): "
                 "day 0 is that session (intraday)")
    else:
        if local_date == day0:
            timing = "before_open"
            where = f"before the open on the same local date ({open_i:%H:%M})"
        elif i > 0 and local_date == sessions[i - 1] and t >= closes[i - 1]:
            timing = "after_close"
            prev_close = pd.Timestamp(closes[i - 1], tz="UTC").tz_convert(tz)
            where = f"after the close of {sessions[i - 1]:%Y-%m-%d} ({prev_close:%H:%M})"
        else:
            timing = "non_session"
            where = "on a local date that is not a session (weekend or holiday)"
        where += f": day 0 is the next session to open, {day0:%Y-%m-%d} (opens {open_i:%H:%M})"
    basis = rec.get("time_basis")
    basis = None if basis is None or (not isinstance(basis, str) and pd.isna(basis)) else str(basis)
    if untimed:
        what = (f"{eid}: no time of day, so by rule it is placed at the end of its local day, "
                f"{_fmt_local(instant, str(rec['timezone']))} (= {instant:%Y-%m-%d %H:%M:%S} UTC; "
                "for US events that is after the US close)")
    else:
        if isinstance(rec.get("time_local"), str) and "date" in rec:
            what = (f"{eid}: {pd.Timestamp(rec['date']):%Y-%m-%d} {rec['time_local']} "
                    f"{rec['timezone']}")
            if basis == "by":
                what += " (by: an upper bound, the news was public by then)"
            elif basis:
                what += f" ({basis})"
            what += f" = {instant:%Y-%m-%d %H:%M} UTC"
        else:
            what = f"{eid}: {instant:%Y-%m-%d %H:%M:%S} UTC"
    rule = f"{what}. In {code} time ({tz}) that is {local:%Y-%m-%d %H:%M}, {where}."
    return Alignment(eid, code, day0, timing, untimed, rule, instant, None if untimed else basis)


def _event_rows(events, source: pd.DataFrame | None) -> list[dict]:
    if isinstance(events, pd.DataFrame):
        return [dict(r) for _, r in events.iterrows()]
    if isinstance(events, (str, pd.Series, Mapping, pd.Timestamp, _dt.datetime)):
        events = [events]
    return [_as_event(e, source) for e in events]


def _codes(calendars) -> list[str]:
    if isinstance(calendars, str):
        return [c.strip() for c in calendars.split(",") if c.strip()]
    return [c if isinstance(c, str) else _calendar(c)[0] for c in calendars]


def align_many(events, calendars, *, source: pd.DataFrame | None = None) -> pd.DataFrame:
    """Align several events to several markets.

    ``events`` is a calendar frame (e.g. :func:`load_events`, possibly filtered) or a list of ids /
    :data:`KEY_EVENTS` names (looked up in ``source``, default the bundled calendar);
    ``calendars`` a code or a list of codes. Returns a tidy frame with one row per (event, market):
    ``event_id, calendar, day0, timing, untimed, instant``.
    """
    rows = []
    for rec in _event_rows(events, source):
        for code in _codes(calendars):
            a = align(rec, code)
            rows.append(
                {"event_id": a.event_id, "calendar": a.calendar, "day0": a.day0,
                 "timing": a.timing, "untimed": a.untimed, "instant": a.instant}
            )
    cols = ["event_id", "calendar", "day0", "timing", "untimed", "instant"]
    out = pd.DataFrame(rows, columns=cols)
    out["day0"] = pd.to_datetime(out["day0"])
    out["untimed"] = out["untimed"].astype(bool)
    return out


def parse_window(window) -> tuple[int, int]:
    """(-5, 10) from a pair or a string such as "-5:10"."""
    if isinstance(window, str):
        m = re.fullmatch(r"\s*([+-]?\d+)\s*:\s*([+-]?\d+)\s*", window)
        if not m:
            raise ValidationError(
                f"window {window!r} is not START:END. Fix: write two session offsets such as "
                "-5:10 (five sessions before day 0 to ten after)."
            )
        lo, hi = int(m.group(1)), int(m.group(2))
    else:
        try:
            lo, hi = (int(v) for v in window)
        except (TypeError, ValueError):
            raise ValidationError(
                f"window {window!r} is not a pair of integers. Fix: pass e.g. (-5, 10)."
            ) from None
    if lo > hi:
        raise ValidationError(f"window ({lo}, {hi}) starts after it ends. Fix: put the smaller "
                              "offset first, e.g. (-5, 10).")
    return lo, hi


def _day0_of(event_or_day0, calendar, events) -> tuple[pd.Timestamp, str]:
    code, cal = _calendar(calendar)
    if isinstance(event_or_day0, Alignment):
        if event_or_day0.calendar != code:
            raise ValidationError(
                f"the alignment is for {event_or_day0.calendar}, not {code}. Fix: align the event "
                f"to {code} first."
            )
        return event_or_day0.day0, code
    is_date = isinstance(event_or_day0, _dt.date) and not isinstance(event_or_day0, _dt.datetime)
    if isinstance(event_or_day0, str) and _is_date(event_or_day0):
        is_date = True
    if isinstance(event_or_day0, pd.Timestamp) and event_or_day0.tzinfo is None:
        is_date = True
    if is_date:
        day0 = pd.Timestamp(event_or_day0).normalize()
        sessions = _arrays(cal)[0]
        if day0 not in sessions:
            raise ValidationError(
                f"{day0:%Y-%m-%d} is not a {code} session (weekend, holiday or outside "
                f"{sessions[0]:%Y-%m-%d}..{sessions[-1]:%Y-%m-%d}). Fix: pass a session date as "
                "day 0, or pass the event so that day 0 is found by align()."
            )
        return day0, code
    return align(event_or_day0, code, events=events).day0, code


def event_window(event_or_day0, calendar, window=(-5, 10), *,
                 events: pd.DataFrame | None = None) -> pd.DataFrame:
    """The market's session at every offset of ``window`` around day 0.

    ``event_or_day0`` is an event (as for :func:`align`), an :class:`Alignment`, or a day-0 session
    date (tz-naive Timestamp, ``datetime.date`` or ``"YYYY-MM-DD"``). Offsets count the market's own
    sessions, so weekends and holidays are skipped. Returns ``offset`` (int) and ``session``.
    """
    lo, hi = parse_window(window)
    day0, code = _day0_of(event_or_day0, calendar, events)
    sessions = _arrays(_calendar(code)[1])[0]
    pos = int(sessions.get_loc(day0))
    if pos + lo < 0:
        raise ValidationError(
            f"window ({lo}, {hi}) around {day0:%Y-%m-%d} starts before the first {code} session "
            f"({sessions[0]:%Y-%m-%d}). Fix: shorten the window."
        )
    if pos + hi >= len(sessions):
        raise ValidationError(
            f"window ({lo}, {hi}) around {day0:%Y-%m-%d} ends after the last {code} session "
            f"({sessions[-1]:%Y-%m-%d}). Fix: shorten the window."
        )
    offsets = np.arange(lo, hi + 1)
    return pd.DataFrame({"offset": offsets, "session": sessions[pos + offsets]})


def events_in_window(events: pd.DataFrame | None, event_id: str, calendar,
                     window=(-5, 10)) -> pd.DataFrame:
    """The other events whose day 0 (on ``calendar``) falls inside ``event_id``'s window.

    They are reported, not merged: one row per other event with ``event_id, date, kind, actor,
    title, day0, offset, timing, untimed``. Events outside the calendar's range are skipped.
    """
    events = load_events() if events is None else events
    target = get_event(event_id, events)
    win = event_window(target, calendar, window, events=events)
    first, last = win["session"].iloc[0], win["session"].iloc[-1]
    offset_of = dict(zip(win["session"], win["offset"]))
    rows = []
    for _, ev in events.iterrows():
        if ev["event_id"] == target["event_id"]:
            continue
        try:
            a = align(ev, calendar)
        except ValidationError:
            continue
        if first <= a.day0 <= last:
            rows.append(
                {"event_id": ev["event_id"], "date": ev["date"], "kind": ev["kind"],
                 "actor": ev["actor"], "title": ev["title"], "day0": a.day0,
                 "offset": int(offset_of[a.day0]), "timing": a.timing, "untimed": a.untimed}
            )
    cols = ["event_id", "date", "kind", "actor", "title", "day0", "offset", "timing", "untimed"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["offset", "date"], kind="stable").reset_index(drop=True)


def day0_table(events: pd.DataFrame | None, event_ids: Iterable[str], calendars,
               *, flag_untimed: bool = True) -> pd.DataFrame:
    """A display table: rows are events (as named in ``event_ids``), columns markets.

    Cells read ``"2025-04-03"`` or ``"2025-04-09 (intraday)"``; with ``flag_untimed`` an untimed
    event's cell says so, e.g. ``"2025-02-03 (untimed)"`` or ``"2025-03-04 (intraday, untimed)"``.
    """
    events = load_events() if events is None else events
    codes = _codes(calendars)
    names = list(event_ids)
    table = pd.DataFrame(index=pd.Index(names, name="event"),
                         columns=pd.Index(codes, name="market"), dtype=object)
    for name in names:
        row = get_event(name, events)
        for code in codes:
            a = align(row, code)
            notes = ["intraday"] if a.intraday else []
            if a.untimed and flag_untimed:
                notes.append("untimed")
            suffix = f" ({', '.join(notes)})" if notes else ""
            table.loc[name, code] = f"{a.day0:%Y-%m-%d}{suffix}"
    return table


# --------------------------------------------------------------------------------------------
# reciprocal rates
# --------------------------------------------------------------------------------------------

#: The 10% baseline that applied from 00:01 EDT 5 Apr 2025 to every partner not in Annex I
#: (except Canada and Mexico, under separate IEEPA orders).
BASELINE_RATE_PCT = 10.0
#: Floor of the published formula, percent.
FLOOR_PCT = 10.0
#: USTR's elasticity of import demand and the (retail-price) pass-through it used.
EPSILON = 4.0
PHI_USTR = 0.25
#: The import-price pass-through AEI (Corinth and Veuger) say should have been used.
PHI_AEI = 0.945
#: Ratio of the AEI-corrected to the published formula value before the floor: 0.25/0.945.
AEI_SCALE = PHI_USTR / PHI_AEI

RATE_COLUMNS: tuple[str, ...] = (
    "iso2",
    "country",
    "reciprocal_rate_pct",
    "us_claimed_tariffs_charged_pct",
    "in_annex_I",
    "annex_I_first_version_pct",
    "rate_from_2025_08_07_pct",
    "rate_from_2025_08_07_note",
    "note",
    "confidence",
    "source_url",
    "rate_from_2025_08_07_source",
)
_RATE_NUMERIC = ("reciprocal_rate_pct", "us_claimed_tariffs_charged_pct",
                 "annex_I_first_version_pct", "rate_from_2025_08_07_pct")


def _pct_or_blank(v: str) -> bool:
    if v == "":
        return True
    try:
        x = float(v)
    except ValueError:
        return False
    return 0 <= x <= 100


def _num(v: str) -> float:
    return float(v) if v != "" else math.nan


_RATE_HINTS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "iso2_format": ("not a two-letter upper-case code",
                        "use the ISO 3166-1 alpha-2 code (EU for the European Union)"),
        "field_uniqueness": ("duplicate iso2", "list each economy once"),
        "country_present": ("the country name is empty", "give the economy's name"),
        "pct_value": ("not a percentage between 0 and 100", "write a number such as 26, or leave "
                      "it blank when not known"),
        "annex_value": ("in_annex_I must be yes or no", "write yes or no"),
        "source_present": ("no usable source", "give at least one http(s) URL, seed:FILE or "
                           "github:OWNER/REPO/PATH; separate several with ' ; '"),
        "annex_rate_range": ("an Annex I economy needs an announced rate of 11-50%",
                             "check reciprocal_rate_pct or in_annex_I"),
        "first_version_only_in_annex": (
            "a first-version Annex I rate is given for an economy not in Annex I",
            "clear annex_I_first_version_pct or set in_annex_I to yes"),
        "announced_at_least_half_charged": (
            "announced rate is below half the chart's 'tariffs charged' value, which the published "
            "formula (rate = max(10, half of it, rounded up)) rules out",
            "check that the two columns are not swapped"),
        "aug_rate_sourced": ("a 7 Aug rate without a source", "fill rate_from_2025_08_07_source"),
    }
)
_RATE_COLUMN_OF = MappingProxyType(
    {"annex_rate_range": "reciprocal_rate_pct",
     "first_version_only_in_annex": "annex_I_first_version_pct",
     "announced_at_least_half_charged": "reciprocal_rate_pct",
     "aug_rate_sourced": "rate_from_2025_08_07_source"}
)


@functools.cache
def _rates_schema():
    import pandera.pandas as pa

    def col(*checks, unique=False):
        return pa.Column(None, checks=list(checks), unique=unique, nullable=False)

    pct = functools.partial(pa.Check, _pct_or_blank, element_wise=True, name="pct_value")

    def annex_range(df):
        r = df["reciprocal_rate_pct"].map(lambda v: _num(v) if _pct_or_blank(v) else math.nan)
        return (df["in_annex_I"] != "yes") | ((r >= 11) & (r <= 50))

    def first_only_in_annex(df):
        return (df["annex_I_first_version_pct"] == "") | (df["in_annex_I"] == "yes")

    def at_least_half(df):
        ok = []
        for a, c in zip(df["reciprocal_rate_pct"], df["us_claimed_tariffs_charged_pct"]):
            if a == "" or c == "" or not (_pct_or_blank(a) and _pct_or_blank(c)):
                ok.append(True)
            else:
                ok.append(float(a) >= float(c) / 2 - 1e-9)
        return pd.Series(ok, index=df.index)

    def aug_sourced(df):
        return (df["rate_from_2025_08_07_pct"] == "") | (df["rate_from_2025_08_07_source"] != "")

    return pa.DataFrameSchema(
        {
            "iso2": col(pa.Check(lambda v: bool(re.fullmatch(r"[A-Z]{2}", v)), element_wise=True,
                                 name="iso2_format"), unique=True),
            "country": col(pa.Check(lambda v: v != "", element_wise=True, name="country_present")),
            "reciprocal_rate_pct": col(pct()),
            "us_claimed_tariffs_charged_pct": col(pct()),
            "in_annex_I": col(pa.Check(lambda v: v in ("yes", "no"), element_wise=True,
                                       name="annex_value")),
            "annex_I_first_version_pct": col(pct()),
            "rate_from_2025_08_07_pct": col(pct()),
            "rate_from_2025_08_07_note": col(),
            "note": col(),
            "confidence": col(),
            "source_url": col(pa.Check(_sources_ok, element_wise=True, name="source_present")),
            "rate_from_2025_08_07_source": col(),
        },
        checks=[
            pa.Check(annex_range, name="annex_rate_range"),
            pa.Check(first_only_in_annex, name="first_version_only_in_annex"),
            pa.Check(at_least_half, name="announced_at_least_half_charged"),
            pa.Check(aug_sourced, name="aug_rate_sourced"),
        ],
        strict=True,
        name="reciprocal rates",
    )


def load_reciprocal_rates(path: str | Path | None = None) -> pd.DataFrame:
    """The 2 April 2025 reciprocal rates by economy, validated.

    Columns (percent unless noted): ``iso2``, ``country``, ``reciprocal_rate_pct`` (announced: the
    Rose Garden chart = corrected Annex I), ``us_claimed_tariffs_charged_pct`` (the chart's
    "tariffs charged to the USA"), ``in_annex_I`` (bool), ``annex_I_first_version_pct`` (the first
    Annex I where it differed), ``rate_from_2025_08_07_pct`` and its ``_note`` and ``_source``,
    ``note``, ``confidence``, ``source_url``. Blanks are NaN, never invented.
    """
    path = RATES_PATH if path is None else Path(path)
    origin = path.name if path.resolve() == RATES_PATH.resolve() else str(path)
    raw = _strip_frame(_read_csv_strings(path, origin, "reciprocal rates"))
    problems = []
    for c in raw.columns:
        if c not in RATE_COLUMNS:
            problems.append(f"{origin}, column {c!r}: unknown column. Fix: the columns are "
                            f"{', '.join(RATE_COLUMNS)}.")
    for c in RATE_COLUMNS:
        if c not in raw.columns:
            problems.append(f"{origin}, column {c!r}: missing. Fix: add the column.")
    if problems:
        _raise(problems, "the reciprocal rates", [origin])
    raw = raw[list(RATE_COLUMNS)]
    problems = _run_schema(_rates_schema(), raw, origin, "iso2", _RATE_HINTS, _RATE_COLUMN_OF)
    if problems:
        _raise(problems, "the reciprocal rates", [origin])
    out = raw.copy()
    for c in _RATE_NUMERIC:
        out[c] = raw[c].map(_num).astype(float)
    out["in_annex_I"] = raw["in_annex_I"] == "yes"
    for c in RATE_COLUMNS:
        if c not in _RATE_NUMERIC and c != "in_annex_I":
            out[c] = out[c].replace("", np.nan)
    return out


def tariff_measures(rates: pd.DataFrame | None = None, *, with_notes: bool = False) -> pd.DataFrame:
    """Three measures of each economy's 2 April "reciprocal" tariff, in percent, indexed by iso2.

    ``announced``
        The rate announced on 2 April (Rose Garden chart = corrected Annex I). For the chart-only
        territories (Saint Pierre and Miquelon, Reunion, Norfolk Island) this is the chart value,
        although the 10% baseline applied. NaN for economies outside the reciprocal regime (Canada,
        Mexico, Russia).
    ``formula_unfloored``
        The published USTR formula before the 10% floor and the halving: the chart's "tariffs
        charged to the USA", which is 100 x (US deficit / US imports) because epsilon = 4 and
        phi = 0.25 cancel. NaN where the data cannot give it: the chart value was not found, or the
        chart printed the 10% floor (then the true ratio is at most 20% and is negative where the
        US runs a surplus, but its value is not in the data).
    ``formula_aei``
        The formula with AEI's pass-through phi = 0.945 instead of 0.25:
        max(10, 1/2 x formula_unfloored x 0.25/0.945). Where ``formula_unfloored`` is NaN but the
        announced rate r is known, the published formula gives r >= 1/2 x ratio (it rounds up), so
        ratio <= 2r and the AEI value is at most 0.265 x r; when that is at most 10 (r <= 37, true
        of every such row) the AEI value is the 10% floor whatever the exact ratio. NaN otherwise.

    With ``with_notes=True`` a ``note`` column says, per row, what was left NaN or derived and why.
    """
    rates = load_reciprocal_rates() if rates is None else rates
    out = []
    for _, r in rates.iterrows():
        announced = float(r["reciprocal_rate_pct"])
        charged = float(r["us_claimed_tariffs_charged_pct"])
        notes = []
        if math.isnan(announced):
            notes.append("no announced reciprocal rate (outside the reciprocal regime): all "
                         "measures NaN")
            out.append((r["iso2"], math.nan, math.nan, math.nan, "; ".join(notes)))
            continue
        if not r["in_annex_I"] and announced > FLOOR_PCT:
            notes.append("chart-only territory: announced is the chart value; not in Annex I, so "
                         "the 10% baseline applied")
        if math.isnan(charged):
            unfloored = math.nan
            notes.append("formula_unfloored NaN: the chart's 'tariffs charged' value was not found "
                         "in a source read")
        elif charged <= FLOOR_PCT and announced == FLOOR_PCT:
            unfloored = math.nan
            notes.append("formula_unfloored NaN: the chart printed the 10% floor; the deficit/"
                         "imports ratio (at most 20%, negative under a US surplus) is not in the "
                         "data")
        else:
            unfloored = charged
        if not math.isnan(unfloored):
            aei = max(FLOOR_PCT, 0.5 * unfloored * AEI_SCALE)
        elif 0.5 * (2 * announced) * AEI_SCALE <= FLOOR_PCT:
            aei = FLOOR_PCT
            notes.append(f"formula_aei = 10 from the bound ratio <= 2 x announced = "
                         f"{2 * announced:g}%, which the AEI formula floors at 10")
        else:
            aei = math.nan
            notes.append("formula_aei NaN: ratio unknown and not bounded below the floor")
        out.append((r["iso2"], announced, unfloored, aei, "; ".join(notes)))
    frame = pd.DataFrame(out, columns=["iso2", "announced", "formula_unfloored", "formula_aei",
                                       "note"]).set_index("iso2")
    frame["note"] = frame["note"].replace("", np.nan)
    return frame if with_notes else frame.drop(columns="note")
