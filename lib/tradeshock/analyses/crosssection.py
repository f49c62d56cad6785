"""The global cross-section: per-market CARs, CAR vs the 2 April tariff rate, negotiators vs China

Helpers for ``notebooks/04_global.ipynb``. Returns are simple returns as **fractions**; the
tables returned here say their units in their column names (``_pct`` = percent, ``pp`` =
percentage points).

* :func:`market_cars` runs one constant-mean event study per market, each market with its own day 0
  (an ``id -> (column, day0)`` mapping, so event time counts each market's own sessions), and
  returns one row per market with the CAR of each window in percent and its t test (the engine's
  per-security CAR test).
* :func:`country_rates` maps an economy's ISO code to its row of
  :func:`tradeshock.events.tariff_measures` (EU members take the EU rate; Hong Kong the China rate,
  which the 2 April order applied to it).
* :func:`tariff_slopes` regresses CAR (percent) on each tariff measure by OLS with HC3 errors and
  reports the slope in percentage points of CAR **per 10 points of tariff**.
* :func:`welch_test` compares two groups' CARs with Welch's unequal-variance t-test.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from tradeshock.errors import StudyError
from tradeshock.engine.study import event_study

__all__ = ["EU_MEMBERS", "RATE_ALIAS", "MEASURES", "market_cars", "country_rates", "ols_hc3",
           "tariff_slopes", "welch_test"]

#: The EU's 27 members: the 2 April order set one rate for the whole European Union.
EU_MEMBERS = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI "
                       "ES SE".split())
#: Economies without a row of their own in the rates table, and the row whose rate applied.
RATE_ALIAS: Mapping[str, str] = {"HK": "CN", "MO": "CN"}
#: The three tariff measures of :func:`tradeshock.events.tariff_measures`, in display order.
MEASURES: tuple[str, ...] = ("announced", "formula_unfloored", "formula_aei")


def market_cars(returns: pd.DataFrame, day0s: Mapping[str, pd.Timestamp],
                windows: Sequence[tuple[int, int]], *,
                estimation: tuple[int, int] = (-260, -11)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Constant-mean CARs per market, each at its own day 0, with each CAR's t test.

    ``day0s`` maps a column of ``returns`` to its day 0 (a session of that market). The event
    window is the span of ``windows``. Returns ``(table, excluded)``: ``table`` indexed by column
    with, per window ``(a, b)``, ``CAR a..b (%)``, ``t a..b`` and ``p a..b``: the engine's
    per-security CAR test (:meth:`EventStudyResult.car_by_security
    <tradeshock.engine.results.EventStudyResult.car_by_security>`: CAR over its standard error
    ``s sqrt(L + L**2 / T)``, the constant mean's estimation error included, Student t with
    ``T - 1`` degrees of freedom, two-sided p), and ``excluded`` the engine's exclusions
    (security, reason, detail).
    """
    if not day0s:
        raise StudyError("market_cars: no markets given. Fix: pass a mapping column -> day 0.")
    missing = [c for c in day0s if c not in returns.columns]
    if missing:
        raise StudyError(f"market_cars: columns {missing} are not in the returns frame. "
                         "Fix: load them first.")
    windows = [tuple(int(x) for x in w) for w in windows]
    ev = (min(a for a, _ in windows), max(b for _, b in windows))
    ids = {c: (c, pd.Timestamp(d)) for c, d in day0s.items()}
    res = event_study(returns[list(day0s)], ids, model="mean", estimation=estimation, event=ev,
                      car_windows=windows)
    tests = res.car_by_security(windows).set_index(["security", "window_start", "window_end"])
    rows = []
    kept = [c for c in day0s if c in set(res.car["security"])]
    for c in kept:
        row = {"day 0": pd.Timestamp(day0s[c]).date()}
        for a, b in windows:
            t = tests.loc[(c, a, b)]
            row[f"CAR {a}..{b} (%)"] = 100 * float(t["car"])
            row[f"t {a}..{b}"], row[f"p {a}..{b}"] = float(t["statistic"]), float(t["p_value"])
        rows.append(pd.Series(row, name=c))
    table = pd.DataFrame(rows)
    return table, res.excluded


def country_rates(countries: Mapping[str, str] | pd.Series,
                  measures: pd.DataFrame) -> pd.DataFrame:
    """The tariff measures of each security's economy.

    ``countries`` maps a security to an ISO2 code; ``measures`` is
    :func:`tradeshock.events.tariff_measures` (indexed by iso2). Returns one row per security with
    ``country``, ``rate_of`` (the row used: the EU for its members, China for Hong Kong) and the
    measure columns; an economy with no row gives NaN there (reported, not dropped).
    """
    rows = []
    for sec, iso in dict(countries).items():
        key = "EU" if iso in EU_MEMBERS else RATE_ALIAS.get(iso, iso)
        vals = (measures.loc[key] if key in measures.index
                else pd.Series(np.nan, index=measures.columns))
        rows.append(pd.Series({"country": iso, "rate_of": key, **vals.to_dict()}, name=sec))
    return pd.DataFrame(rows)


def ols_hc3(y: Iterable[float], x: Iterable[float]):
    """OLS of y on a constant and x with HC3 standard errors (statsmodels results object)."""
    y, x = np.asarray(y, float), np.asarray(x, float)
    return sm.OLS(y, sm.add_constant(x, has_constant="add")).fit(cov_type="HC3")


def tariff_slopes(car_pct: pd.Series, rates: pd.DataFrame, measures: Sequence[str] = MEASURES,
                  *, per: float = 10.0) -> pd.DataFrame:
    """CAR (percent) on each tariff measure (percent): OLS, HC3 errors, slope per ``per`` points.

    Rows with a NaN CAR or measure are dropped per measure and counted (``n_dropped``). Returns one
    row per measure: ``slope (pp per 10 pts)``, ``se``, ``t``, ``p``, ``intercept (%)``, ``n``,
    ``n_dropped``, ``r2``. A measure with fewer than 3 usable rows or no variation gives NaN
    figures (with its ``n``), never an error.
    """
    out = []
    label = f"slope (pp per {per:g} pts)"
    for m in measures:
        d = pd.concat([car_pct.rename("car"), rates[m].rename("x")], axis=1)
        n_all = len(d)
        d = d.dropna()
        row = {"measure": m, "n": len(d), "n_dropped": n_all - len(d)}
        if len(d) >= 3 and d["x"].nunique() > 1:
            fit = ols_hc3(d["car"], d["x"])
            row.update({label: per * fit.params[1], "se": per * fit.bse[1], "t": fit.tvalues[1],
                        "p": fit.pvalues[1], "intercept (%)": fit.params[0], "r2": fit.rsquared})
        else:
            row.update({k: np.nan for k in (label, "se", "t", "p", "intercept (%)", "r2")})
        out.append(row)
    cols = ["measure", label, "se", "t", "p", "intercept (%)", "n", "n_dropped", "r2"]
    return pd.DataFrame(out)[cols].set_index("measure")


def welch_test(a: Iterable[float], b: Iterable[float]) -> dict:
    """Welch's t-test (unequal variances) of mean(a) - mean(b); NaNs dropped.

    Returns ``n_a, n_b, mean_a, mean_b, diff, t, p`` (t and p NaN when a group has fewer than 2).
    """
    a = np.asarray([v for v in a if np.isfinite(v)], float)
    b = np.asarray([v for v in b if np.isfinite(v)], float)
    out = {"n_a": len(a), "n_b": len(b), "mean_a": a.mean() if len(a) else np.nan,
           "mean_b": b.mean() if len(b) else np.nan}
    out["diff"] = out["mean_a"] - out["mean_b"]
    if len(a) >= 2 and len(b) >= 2:
        t, p = stats.ttest_ind(a, b, equal_var=False)
        out["t"], out["p"] = float(t), float(p)
    else:
        out["t"], out["p"] = np.nan, np.nan
    return out
