"""The shape of a shock: drawdowns, troughs, recoveries, and AR/CAR paths with bands.

Levels are price or index levels (points); returns and ARs are simple returns as fractions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


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
    """AR and CAR paths per security with symmetric bands from the estimation-window residual sd.

    Band for AR on a day: ``± z * s_i``; for the CAR after k days of the event window:
    ``± z * s_i * sqrt(k)`` (Campbell, Lo and MacKinlay 1997, ch. 4, eq. 4.4.19 with the
    estimation-error term neglected; assumes ARs uncorrelated across days). ``s_i`` is the OLS
    residual sd of the estimation window (``estimates.resid_sd``). Fractions, not percent.
    """
    z = stats.norm.ppf(0.5 + level / 2)
    ar = result.abnormal_returns.sort_values(["security", "day"]).copy()
    sd = result.estimates.set_index("security")["resid_sd"]
    ar["sd"] = ar["security"].map(sd)
    ar["car"] = ar.groupby("security")["ar"].cumsum()
    k = ar.groupby("security").cumcount() + 1
    ar["ar_low"], ar["ar_high"] = ar["ar"] - z * ar["sd"], ar["ar"] + z * ar["sd"]
    ar["car_low"] = ar["car"] - z * ar["sd"] * np.sqrt(k)
    ar["car_high"] = ar["car"] + z * ar["sd"] * np.sqrt(k)
    return ar.drop(columns="sd")
