"""US sectors around the April 2025 tariff shock: helpers for ``notebooks/03_sectors.ipynb``.

Thin functions on top of the engine (:func:`tradeshock.study.event_study`,
:func:`tradeshock.regression.sur_event_regression`) that turn its tidy results into the tables and
sentences the sector notebook shows. Units follow the project convention: every return, CAR and
net CAR here is a **simple return as a fraction** (0.01 = 1 %); columns that hold percent say
``_pct`` in their names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.errors import StudyError

__all__ = [
    "SECTOR_ETFS",
    "BROAD_ETFS",
    "car_table",
    "offset_date",
    "reversal_table",
    "firm_sectors",
    "sector_caar_tests",
    "top_movers",
    "describe_sectors",
    "describe_firms",
]

#: SPDR Select Sector ETFs and the GICS sector each tracks.
SECTOR_ETFS: dict[str, str] = {
    "XLK": "Information Technology",
    "XLF": "Financials",
    "XLE": "Energy",
    "XLV": "Health Care",
    "XLI": "Industrials",
    "XLY": "Consumer Discretionary",
    "XLP": "Consumer Staples",
    "XLU": "Utilities",
    "XLB": "Materials",
    "XLRE": "Real Estate",
    "XLC": "Communication Services",
}
#: Broad US equity ETFs shown beside the sectors.
BROAD_ETFS: dict[str, str] = {"SPY": "S&P 500", "QQQ": "Nasdaq-100", "IWM": "Russell 2000"}


def offset_date(index: pd.DatetimeIndex, day0: Any, k: int) -> pd.Timestamp:
    """The session ``k`` rows after (``k < 0``: before) ``day0`` in ``index`` (sorted sessions)."""
    index = pd.DatetimeIndex(index).sort_values()
    d0 = pd.Timestamp(day0)
    if d0 not in index:
        raise StudyError(f"offset_date: day 0 {d0.date()} is not a row of the index; align it first")
    i = index.get_loc(d0) + k
    if not 0 <= i < len(index):
        raise StudyError(
            f"offset_date: offset {k} from {d0.date()} falls outside the data "
            f"({index[0].date()} .. {index[-1].date()})"
        )
    return index[i]


def car_table(result, window: tuple[int, int] | None = None, level: float = 0.95) -> pd.DataFrame:
    """Per-security CAR over ``window`` with its t test and confidence interval, sorted by CAR.

    Columns ``security, car, ci_low, ci_high, se, t, df, p, n_days`` (fractions), from the
    engine's per-security CAR test (:meth:`EventStudyResult.car_by_security
    <tradeshock.engine.results.EventStudyResult.car_by_security>`): ``se`` is the CAR's standard
    error including the estimation error of the normal-return model (Campbell, Lo and MacKinlay
    1997, eq. 4.4.19), ``t = car / se``, ``p`` its two-sided p-value and ``ci_low``/``ci_high``
    the ``level`` interval, both from Student t with ``df`` (estimation rows minus parameters)
    degrees of freedom. ``window`` (a CAR window of the study) defaults to the result's first.
    """
    if window is None:
        window = result.car_windows[0]
    a, b = int(window[0]), int(window[1])
    if (a, b) not in result.car_windows:
        raise StudyError(
            f"car_table: window ({a}, {b}) is not a CAR window of this result; it has "
            f"{result.car_windows}. Pass it in event_study(car_windows=...)."
        )
    tab = result.car_by_security((a, b), level=level)
    out = tab.rename(columns={"statistic": "t", "p_value": "p"})
    cols = ["security", "car", "ci_low", "ci_high", "se", "t", "df", "p", "n_days"]
    return out[cols].sort_values("car").reset_index(drop=True)


def reversal_table(sur, selloff_days: Sequence[str], rebound_days: Sequence[str],
                   alpha: float = 0.05) -> pd.DataFrame:
    """Which series reversed fully: one row per series of a :class:`SUREventResult`.

    Columns ``series, selloff_car, rebound_car, net_car, se, stat, p, verdict`` (CARs as
    fractions: sums of the event-day dummies). ``verdict``: ``"full reversal not rejected"`` when
    ``p >= alpha``; otherwise ``"fell short"`` (net CAR < 0) or ``"overshot"`` (net CAR > 0).
    """
    g = sur.gammas.pivot(index="day", columns="series", values="gamma")  # fractions
    sell, reb = list(selloff_days), list(rebound_days)
    missing = [d for d in sell + reb if d not in g.index]
    if missing:
        raise StudyError(f"reversal_table: event days {missing} are not dummies of the regression "
                         f"(it has {list(g.index)})")
    tab = sur.wald_full_reversal_by_series(sell, reb).set_index("series")
    tab.insert(0, "selloff_car", g.loc[sell].sum())
    tab.insert(1, "rebound_car", g.loc[reb].sum())
    tab["verdict"] = np.where(
        tab["p"] >= alpha, "full reversal not rejected",
        np.where(tab["net_car"] < 0, "fell short", "overshot"))
    return tab.reset_index()


def firm_sectors(constituents: pd.DataFrame, symbols: Sequence[str]) -> pd.Series:
    """GICS sector of each symbol (index: symbol), from ``market.load_constituents()``.

    Symbols without a sector get ``"Unknown"`` (listed, never dropped silently).
    """
    sec = constituents.drop_duplicates("symbol").set_index("symbol")["gics_sector"]
    sec = sec.astype("string").str.strip().replace("", pd.NA)
    return sec.reindex(list(symbols)).fillna("Unknown").rename("sector").astype(str)


def sector_caar_tests(
    returns: pd.DataFrame,
    market_returns: pd.Series,
    day0: Any,
    sectors: Mapping[str, str] | pd.Series,
    *,
    estimation: tuple[int, int] = (-260, -11),
    event: tuple[int, int] = (0, 3),
    window: tuple[int, int] | None = None,
    tests: Sequence[str] = ("boehmer", "kolari_pynnonen"),
    min_estimation_obs: float = 30,
) -> pd.DataFrame:
    """Market-model CAAR of each sector's firms with ``tests`` side by side, one row per sector.

    Runs :func:`~tradeshock.study.event_study` on each sector's columns of ``returns`` (simple
    returns, fractions) and returns ``sector, n, caar`` (fraction) and, per test,
    ``<test>_stat`` and ``<test>_p`` (two-sided), sorted by CAAR. The default pair shows the
    standardized cross-sectional test of Boehmer, Musumeci and Poulsen (1991) and its adjustment
    for cross-correlation by Kolari and Pynnönen (2010): firms of one sector share the event date.
    """
    from tradeshock.engine.study import event_study

    sectors = pd.Series(sectors)
    window = tuple(window or event)
    rows = []
    for sector, members in sectors.groupby(sectors):
        cols = [c for c in members.index if c in returns.columns]
        if len(cols) < 2:
            continue
        res = event_study(returns[cols], day0, model="market", market=market_returns,
                          estimation=estimation, event=event, car_windows=[window],
                          car_test_names=list(tests), min_estimation_obs=min_estimation_obs)
        ct = res.car_tests.set_index("test")
        row: dict[str, Any] = {"sector": sector, "n": int(ct["n"].iloc[0]),
                               "caar": float(ct["caar"].iloc[0])}
        for t in tests:
            row[f"{t}_stat"] = float(ct.loc[t, "statistic"])
            row[f"{t}_p"] = float(ct.loc[t, "p_value"])
        rows.append(row)
    return pd.DataFrame(rows).sort_values("caar").reset_index(drop=True)


def top_movers(cars: pd.DataFrame, n: int = 20, *, names: Mapping[str, str] | None = None,
               sectors: Mapping[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` most negative and ``n`` most positive CARs of a :func:`car_table` frame.

    Returns ``(losers, gainers)``, each ``security, name, sector, car`` (fraction), losers from the
    worst, gainers from the best.
    """
    df = cars[["security", "car"]].copy()
    df.insert(1, "name", df["security"].map(dict(names) if names is not None else {}))
    df.insert(2, "sector", df["security"].map(dict(sectors) if sectors is not None else {}))
    ordered = df.sort_values("car", kind="stable")
    losers = ordered.head(n).reset_index(drop=True)
    gainers = ordered.tail(n).iloc[::-1].reset_index(drop=True)
    return losers, gainers


def _pct(x: float) -> str:
    return f"{100 * x:+.2f}%"


def describe_sectors(selloff: pd.DataFrame, rebound: pd.DataFrame, reversal: pd.DataFrame,
                     labels: Mapping[str, str] | None = None, alpha: float = 0.05) -> str:
    """A short "what the data say" paragraph (Markdown) computed from the tables it cites.

    ``selloff``/``rebound``: :func:`car_table` frames of the ETFs; ``reversal``:
    :func:`reversal_table`. Every number in the text is one of those tables' values.
    """
    lab = dict(labels or {})

    def name(s: str) -> str:
        return f"{lab[s]} ({s})" if s in lab else s

    s = selloff.sort_values("car")
    r = rebound.sort_values("car")
    worst, best = s.iloc[0], s.iloc[-1]
    n_neg_sig = int(((s["car"] < 0) & (s["p"] < alpha)).sum())
    parts = [
        f"Over the selloff window the market-model CAR ranges from {_pct(worst['car'])} for "
        f"{name(worst['security'])} to {_pct(best['car'])} for {name(best['security'])} "
        f"(selloff CAR table); {n_neg_sig} of {len(s)} ETFs have a negative CAR with p < {alpha} "
        "against the estimation-window volatility.",
        f"On the pause day the abnormal return runs from {_pct(r.iloc[0]['car'])} "
        f"({name(r.iloc[0]['security'])}) to {_pct(r.iloc[-1]['car'])} "
        f"({name(r.iloc[-1]['security'])}) (rebound CAR table).",
    ]
    full = reversal[reversal["p"] >= alpha]["series"].tolist()
    short = reversal[(reversal["p"] < alpha) & (reversal["net_car"] < 0)]["series"].tolist()
    over = reversal[(reversal["p"] < alpha) & (reversal["net_car"] > 0)]["series"].tolist()
    rev = (f"In the SUR reversal table, full reversal (selloff + rebound dummies sum to zero) is "
           f"not rejected at {alpha:.0%} for {len(full)} of {len(reversal)} series")
    if short:
        rev += "; the rebound fell short for " + ", ".join(name(x) for x in short)
    if over:
        rev += "; it overshot for " + ", ".join(name(x) for x in over)
    parts.append(rev + ".")
    return " ".join(parts)


def describe_firms(overall: pd.DataFrame, by_sector: pd.DataFrame, alpha: float = 0.05) -> str:
    """The firm-level sentences of "what the data say", computed from the tables they cite.

    ``overall``: ``result.car_tests`` of the firm study (one window); ``by_sector``:
    :func:`sector_caar_tests` with the ``boehmer`` and ``kolari_pynnonen`` columns.
    """
    o = overall.set_index("test")
    caar, n = float(o["caar"].iloc[0]), int(o["n"].iloc[0])
    bmp_p, kp_p = float(o.loc["boehmer", "p_value"]), float(o.loc["kolari_pynnonen", "p_value"])
    text = (f"Across the {n} S&P 500 members the selloff CAAR is {_pct(caar)} (firm battery table): "
            f"BMP gives p = {bmp_p:.2g}, and after the Kolari-Pynnönen adjustment for "
            f"cross-correlation p = {kp_p:.2g}.")
    sig_bmp = int((by_sector["boehmer_p"] < alpha).sum())
    sig_kp = int((by_sector["kolari_pynnonen_p"] < alpha).sum())
    worst = by_sector.sort_values("caar").iloc[0]
    text += (f" By sector (sector CAAR table), {sig_bmp} of {len(by_sector)} sector CAARs have "
             f"BMP p < {alpha} but only {sig_kp} keep p < {alpha} with the adjustment; the lowest "
             f"is {worst['sector']} at {_pct(worst['caar'])} (KP p = "
             f"{worst['kolari_pynnonen_p']:.2g}).")
    return text
