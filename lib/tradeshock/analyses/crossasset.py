"""Selloff and rebound across assets: loss recovery, daily cross-asset moves, correlation regimes.

Units follow the project conventions: price levels in their own units (index points, USD, ...);
returns are simple returns as fractions in the inputs; tables made for people say their units in
the column names (``percent``; ``bp`` for changes of yields, which are never returns).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tradeshock.errors import StudyError

__all__ = ["recovery_table", "daily_moves", "common_dates", "correlation_comparison",
           "pairwise_correlations"]


def _ts(value, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise StudyError(f"{what}: {value!r} is not a date; give 'YYYY-MM-DD'.") from None
    if ts is pd.NaT:
        raise StudyError(f"{what}: {value!r} is not a date.")
    return ts.normalize()


def recovery_table(levels: pd.DataFrame, pre_shock_date, trough_by,
                   checkpoints: Mapping[str, object]) -> pd.DataFrame:
    """Per series: drawdown from the *pre_shock_date* close to the trough, and the share recovered.

    ``levels`` is wide (date x series) price levels. The trough is the lowest close strictly after
    *pre_shock_date* up to *trough_by* (inclusive). Drawdown (percent) = trough / pre-shock - 1.
    For each checkpoint (label -> date, or ``None`` for the series' last observation) the close
    used is the last one on or before that date, and::

        share recovered (percent) = 100 * (close - trough) / (pre-shock - trough)

    so 0 = still at the trough, 100 = back at the pre-shock close, above 100 = above it. Columns:
    ``pre-shock close, trough date, trough close, drawdown (%)`` then, per checkpoint,
    ``<label> date`` and ``recovered by <label> (% of loss)``. Raises StudyError when a series has
    no close on *pre_shock_date* or no observation after it, or when a checkpoint is before the
    trough.
    """
    pre = _ts(pre_shock_date, "pre_shock_date")
    end = _ts(trough_by, "trough_by")
    if end <= pre:
        raise StudyError(f"trough_by ({end.date()}) must be after pre_shock_date ({pre.date()}).")
    rows = []
    for sym in levels.columns:
        s = levels[sym].dropna().sort_index()
        if pre not in s.index:
            raise StudyError(f"recovery_table: series {sym!r} has no close on {pre.date()} "
                             "(the pre-shock date); pick a date it traded.")
        seg = s.loc[(s.index > pre) & (s.index <= end)]
        if seg.empty:
            raise StudyError(f"recovery_table: series {sym!r} has no close after {pre.date()} "
                             f"up to {end.date()}.")
        tdate = seg.idxmin()
        p0, tr = float(s[pre]), float(s[tdate])
        row = {"series": sym, "pre-shock close": p0, "trough date": tdate, "trough close": tr,
               "drawdown (%)": 100.0 * (tr / p0 - 1.0)}
        for label, when in checkpoints.items():
            if when is None:
                cdate = s.index[-1]
            else:
                cdate = s.loc[:_ts(when, f"checkpoint {label!r}")].index.max()
            if pd.isna(cdate) or cdate < tdate:
                raise StudyError(f"recovery_table: checkpoint {label!r} ({when}) is before the "
                                 f"trough of {sym!r} ({tdate.date()}); use a later date.")
            loss = p0 - tr
            row[f"{label} date"] = cdate
            row[f"recovered by {label} (% of loss)"] = (
                100.0 * (float(s[cdate]) - tr) / loss if loss > 0 else np.nan)
        rows.append(row)
    return pd.DataFrame(rows).set_index("series")


def daily_moves(returns: pd.DataFrame, measures: Mapping[str, str],
                names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Returns as fractions and yield changes in bp -> a table for people with units in the names.

    ``measures`` maps each column to ``simple_return`` (shown x100 as ``"<name> (%)"``) or
    ``bp_change`` (shown as it is, ``"<name> (bp)"``); e.g. ``wide_returns(...).attrs["measures"]``.
    ``log_return`` columns are shown x100 as ``"<name> (log %)"``.
    """
    names = dict(names or {})
    out = {}
    for col in returns.columns:
        m = measures.get(col)
        label = names.get(col, col)
        if m == "bp_change":
            out[f"{label} (bp)"] = returns[col]
        elif m == "simple_return":
            out[f"{label} (%)"] = 100.0 * returns[col]
        elif m == "log_return":
            out[f"{label} (log %)"] = 100.0 * returns[col]
        else:
            raise StudyError(f"daily_moves: no measure for column {col!r} ({m!r}); give "
                             "simple_return, log_return or bp_change.")
    return pd.DataFrame(out, index=returns.index)


def common_dates(moves: pd.DataFrame, start=None,
                 end=None) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """Rows between *start* and *end* (inclusive) where every column has a value.

    Returns ``(aligned, dropped)``: the complete rows and the dates in the range that were dropped
    because some series had no observation (different calendars: FRED series skip bond-market
    holidays, futures trade on other days). Nothing is filled.
    """
    seg = moves.sort_index()
    if start is not None:
        seg = seg.loc[_ts(start, "start"):]
    if end is not None:
        seg = seg.loc[:_ts(end, "end")]
    complete = seg.notna().all(axis=1)
    return seg.loc[complete], seg.index[~complete.to_numpy()]


def pairwise_correlations(moves: pd.DataFrame, periods: Mapping[str, tuple],
                          pairs: Sequence[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Pearson correlations of each pair of columns, one column per period, on common dates.

    ``periods`` maps a label to ``(start, end)`` (inclusive). Within each period only rows where
    all columns of *moves* have a value are used (:func:`common_dates`); the number of those rows
    is given as ``n (<label>)``. ``pairs`` defaults to every pair of columns. The result is
    indexed by (series a, series b), with the difference of the last period minus the first.
    """
    cols = list(moves.columns)
    if pairs is None:
        pairs = [(a, b) for i, a in enumerate(cols) for b in cols[i + 1:]]
    for a, b in pairs:
        for c in (a, b):
            if c not in cols:
                raise StudyError(f"pairwise_correlations: {c!r} is not a column ({cols}).")
    res = pd.DataFrame(index=pd.MultiIndex.from_tuples(pairs, names=["series a", "series b"]))
    labels = list(periods)
    if not labels:
        raise StudyError("pairwise_correlations: give at least one period.")
    for label in labels:
        start, end = periods[label]
        aligned, _ = common_dates(moves, start, end)
        if len(aligned) < 3:
            raise StudyError(f"pairwise_correlations: period {label!r} has {len(aligned)} common "
                             "dates; need at least 3.")
        corr = aligned.corr()
        res[f"corr ({label})"] = [corr.loc[a, b] for a, b in pairs]
        res[f"n ({label})"] = len(aligned)
    if len(labels) > 1:
        res["change"] = res[f"corr ({labels[-1]})"] - res[f"corr ({labels[0]})"]
    return res


def correlation_comparison(moves: pd.DataFrame,
                           periods: Mapping[str, tuple]) -> dict[str, pd.DataFrame]:
    """One correlation matrix per period (label -> matrix), each on that period's common dates."""
    out = {}
    for label, (start, end) in periods.items():
        aligned, _ = common_dates(moves, start, end)
        out[label] = aligned.corr()
        out[label].attrs["n"] = len(aligned)
    return out
