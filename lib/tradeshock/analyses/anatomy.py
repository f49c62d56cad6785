"""The shape of a shock: drawdowns, troughs, recoveries, and AR/CAR paths with bands.

Levels are price or index levels (points); returns and ARs are simple returns as fractions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def drawdown_table(levels: pd.DataFrame, peak_date, trough_by, pre_shock_date) -> pd.DataFrame:
    """Per series: the close on *peak_date*, the lowest close from it to *trough_by* (inclusive),
    the drawdown in percent, and the first date on/after the trough when the close regained the
    *pre_shock_date* close and the peak close (NaT when not regained within the data).

    ``levels`` is wide (date x series). Drawdown = trough / peak - 1, in percent.
    """
    peak_date, trough_by, pre = (pd.Timestamp(d) for d in (peak_date, trough_by, pre_shock_date))
    rows = []
    for sym in levels.columns:
        s = levels[sym].dropna()
        if peak_date not in s.index or pre not in s.index:
            rows.append({"series": sym, "note": "no close on the peak or pre-shock date"})
            continue
        seg = s.loc[peak_date:trough_by]
        trough_date = seg.idxmin()
        after = s.loc[trough_date:]
        regained_pre = after.index[after >= s[pre]]
        regained_peak = after.index[after >= s[peak_date]]
        rows.append({
            "series": sym,
            "peak close": s[peak_date],
            "trough date": trough_date,
            "trough close": s[trough_date],
            "drawdown (%)": 100 * (s[trough_date] / s[peak_date] - 1),
            "pre-shock close": s[pre],
            "regained pre-shock close": regained_pre[0] if len(regained_pre) else pd.NaT,
            "regained peak close": regained_peak[0] if len(regained_peak) else pd.NaT,
            "data end": s.index[-1],
        })
    return pd.DataFrame(rows).set_index("series")


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
