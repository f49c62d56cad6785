"""Selloff and rebound across assets: daily cross-asset moves and correlation regimes.

Drawdown, trough and recovery follow the one rule of :func:`tradeshock.analyses.anatomy.drawdown_table`.

Units follow the project conventions: price levels in their own units (index points, USD, ...);
returns are simple returns as fractions in the inputs; tables made for people say their units in
the column names (``percent``; ``bp`` for changes of yields, which are never returns).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from tradeshock.errors import StudyError

__all__ = ["daily_moves", "common_dates", "correlation_comparison",
           "pairwise_correlations"]


def _ts(value, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise StudyError(f"{what}: {value!r} is not a date; give 'YYYY-MM-DD'.") from None
    if ts is pd.NaT:
        raise StudyError(f"{what}: {value!r} is not a date.")
    return ts.normalize()


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
