"""The shape of a shock: drawdowns, troughs, recoveries, and AR/CAR paths with bands.

Levels are price or index levels (points); returns and ARs are simple returns as fractions.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tradeshock.errors import StudyError


def _date(value, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        ts = pd.NaT
    if ts is pd.NaT:
        raise StudyError(f"{what}: {value!r} is not a date. Fix: give 'YYYY-MM-DD'.")
    return ts.normalize()


def _first_at_or_above(after: pd.Series, level: float) -> pd.Timestamp:
    hit = after.index[after >= level]
    return hit[0] if len(hit) else pd.NaT


def drawdown_table(levels: pd.DataFrame, reference, trough_by, *,
                   regain: Mapping[str, object] | None = None,
                   checkpoints: Mapping[str, object] | None = None,
                   trough_from: object = None) -> pd.DataFrame:
    """The one drawdown rule: per series, the loss from the *reference* close to the trough, when
    it was regained, and how much of it had come back at each checkpoint.

    ``levels`` is wide (date x series, price or index levels). For each series:

    * **trough**: the lowest close strictly after *reference*, up to *trough_by* (inclusive);
      with *trough_from* (e.g. an event's day 0) only closes from that date on count, so a low
      between the reference and the event is not taken for the event's trough;
    * ``drawdown (%)`` = trough close / reference close - 1, in percent;
    * ``regained reference``: the first date after the trough with a close at or above the
      reference close (NaT when not within the data); for each ``regain`` entry (label -> date)
      ``regained <label>``: the same against that date's close;
    * for each checkpoint (label -> date, or ``None`` for the series' last close): ``<label>
      date``, the last close on or before it, and ``recovered by <label> (% of loss)`` =
      100 x (close - trough) / (reference - trough): 0 = still at the trough, 100 = back at the
      reference close. NaN, with a note, when the checkpoint comes before the trough or after
      the series' data end (never the last close in its place), or when there was no loss.

    A series that cannot be measured (no close on the reference or a regain date, no close after
    the reference up to *trough_by*) keeps its row with NaN values and a ``note`` saying why, as
    every cross-section here does; a table where no series can be measured raises StudyError.
    """
    ref, end = _date(reference, "reference date"), _date(trough_by, "trough_by")
    if end <= ref:
        raise StudyError(f"trough_by ({end:%Y-%m-%d}) is not after the reference date "
                         f"({ref:%Y-%m-%d}). Fix: look for the trough after the reference close.")
    regain = {k: _date(v, f"regain date {k!r}") for k, v in (regain or {}).items()}
    checkpoints = {k: (None if v is None else _date(v, f"checkpoint {k!r}"))
                   for k, v in (checkpoints or {}).items()}
    start = ref if trough_from is None else max(
        ref, _date(trough_from, "trough_from") - pd.Timedelta(days=1))
    rows = [_drawdown_row(levels[sym].dropna().sort_index(), sym, ref, end, regain, checkpoints,
                          start) for sym in levels.columns]
    out = pd.DataFrame(rows).set_index("series")
    if len(out) and out["trough date"].isna().all():
        raise StudyError(
            f"drawdown_table: no series can be measured from {ref:%Y-%m-%d} to {end:%Y-%m-%d} ("
            + "; ".join(f"{s}: {n}" for s, n in out["note"].items()) + "). Fix: choose a reference "
            "date on which the series traded and a trough_by date after it.")
    return out


def _drawdown_row(s: pd.Series, sym: str, ref: pd.Timestamp, end: pd.Timestamp,
                  regain: Mapping[str, pd.Timestamp],
                  checkpoints: Mapping[str, pd.Timestamp | None],
                  start: pd.Timestamp | None = None) -> dict:
    row: dict = {"series": sym, "reference date": ref, "reference close": np.nan,
                 "trough date": pd.NaT, "trough close": np.nan, "drawdown (%)": np.nan,
                 "regained reference": pd.NaT}
    row.update({f"regained {k}": pd.NaT for k in regain})
    for k in checkpoints:
        row[f"{k} date"], row[f"recovered by {k} (% of loss)"] = pd.NaT, np.nan
    row["data end"] = s.index[-1] if len(s) else pd.NaT
    notes = []
    missing = [f"{d:%Y-%m-%d}" for d in (ref, *regain.values()) if d not in s.index]
    start = ref if start is None else start
    seg = s.loc[(s.index > start) & (s.index <= end)]
    if missing or seg.empty:
        row["note"] = (f"no close on {', '.join(missing)}" if missing else
                       f"no close after {start:%Y-%m-%d} up to {end:%Y-%m-%d}")
        return row
    tdate = seg.idxmin()
    p0, tr = float(s[ref]), float(s[tdate])
    after = s.loc[tdate:]
    row.update({"reference close": p0, "trough date": tdate, "trough close": tr,
                "drawdown (%)": 100.0 * (tr / p0 - 1.0),
                "regained reference": _first_at_or_above(after, p0)})
    for k, d in regain.items():
        row[f"regained {k}"] = _first_at_or_above(after, float(s[d]))
    for k, when in checkpoints.items():
        if when is not None and when > s.index[-1]:  # never the last close in its place
            notes.append(f"checkpoint {k} ({when:%Y-%m-%d}) is after the data end "
                         f"({s.index[-1]:%Y-%m-%d})")
            continue
        cdate = s.index[-1] if when is None else s.loc[:when].index.max()
        row[f"{k} date"] = cdate
        if pd.isna(cdate) or cdate < tdate:
            notes.append(f"checkpoint {k} ({'end of data' if when is None else f'{when:%Y-%m-%d}'})"
                         f" is before the trough ({tdate:%Y-%m-%d})")
        elif p0 > tr:
            row[f"recovered by {k} (% of loss)"] = 100.0 * (float(s[cdate]) - tr) / (p0 - tr)
    if p0 <= tr:
        notes.insert(0, f"no loss: no close after {ref:%Y-%m-%d} up to {end:%Y-%m-%d} is below "
                     "the reference close")
    row["note"] = "; ".join(notes) if notes else ""
    return row


def ar_paths(result, level: float = 0.95) -> pd.DataFrame:
    """AR and CAR paths per security with bands from the engine's per-security CAR test.

    One row per security and event day with the columns of ``result.abnormal_returns`` plus
    ``car`` (the AR summed from the first day of the event window), ``ar_low``/``ar_high`` and
    ``car_low``/``car_high``: ``value -/+ q se``, ``se`` the standard error of the one-day AR or of
    the CAR so far from :meth:`EventStudyResult.car_by_security
    <tradeshock.engine.results.EventStudyResult.car_by_security>` (``s_i sqrt(L + xs'(X'X)^-1
    xs)``: the estimation error of the normal-return model included, Campbell, Lo and MacKinlay
    1997, eq. 4.4.19; ARs uncorrelated across days) and ``q`` the ``(1 + level) / 2`` quantile of
    Student t with ``T_i - k_i`` degrees of freedom. Fractions, not percent.
    """
    ar = result.abnormal_returns.sort_values(["security", "day"]).reset_index(drop=True)
    ar["car"] = ar.groupby("security")["ar"].cumsum()
    days = [int(d) for d in result.days]
    if not days or ar.empty:
        return ar.assign(ar_low=np.nan, ar_high=np.nan, car_low=np.nan, car_high=np.nan)
    windows = [(d, d) for d in days] + [(days[0], d) for d in days if d != days[0]]
    tab = result.car_by_security(windows, level=level)
    one = tab[tab["window_start"] == tab["window_end"]]
    one = one.set_index(["security", "window_end"])[["ci_low", "ci_high"]]
    cum = tab[tab["window_start"] == days[0]].set_index(["security", "window_end"])
    key = pd.MultiIndex.from_arrays([ar["security"], ar["day"]])
    ar["ar_low"] = one["ci_low"].reindex(key).to_numpy()
    ar["ar_high"] = one["ci_high"].reindex(key).to_numpy()
    ar["car_low"] = cum["ci_low"].reindex(key).to_numpy()
    ar["car_high"] = cum["ci_high"].reindex(key).to_numpy()
    return ar
