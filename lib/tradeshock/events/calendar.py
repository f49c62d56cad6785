"""The tariff event calendar: columns and vocabularies, schema validation, loading, look-up.

:func:`load_events` reads the bundled ``tariff_events_2025.csv`` (and any events a user adds, from
another CSV or a list of dicts), validates every row with a pandera schema and adds a tz-aware UTC
``timestamp`` (``NaT`` when the time of day is not known) and a ``timed`` flag. Any problem raises
:class:`tradeshock.errors.ValidationError` naming the file, the 1-based data row, the ``event_id``,
the column and how to fix it.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import functools
import zoneinfo
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.errors import ValidationError
from tradeshock.events.schema import (
    _EVENT_ID, is_iso_date, _is_time_or_blank, _is_timezone, _local_time_problem, _raise,
    _read_csv_strings, _run_schema, _sources_ok, _strip_frame,
)
from tradeshock.paths import resource_path

__all__ = [
    "EVENTS_PATH",
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "KINDS",
    "TIME_BASES",
    "KEY_EVENTS",
    "load_events",
    "validate_events",
    "get_event",
]

#: The bundled calendar (package data, the same file as ``data/events/`` of the repository).
EVENTS_PATH = resource_path("events", "tariff_events_2025.csv")

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
            "date": text(pa.Check(is_iso_date, element_wise=True, name="date_format")),
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


