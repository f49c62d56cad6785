"""Price levels and returns from long prices: :func:`price_levels`, :func:`returns`,
:func:`wide_returns`.

Units: prices give simple returns (``simple_return``) or log returns (``log_return``) as
fractions (0.01 = 1%); series quoted in percent (yields, spreads: ``measure=bp_change`` in
``data/universe.csv``) give changes in basis points (``bp_change``), never returns. Each series
uses its own observation dates; nothing is reindexed or filled.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from tradeshock.data.universe import load_universe
from tradeshock.errors import DataError

__all__ = ["price_levels", "returns", "wide_returns"]


def _long(prices: pd.DataFrame) -> pd.DataFrame:
    """Accept long prices, or a wide date × symbol frame of levels (as ``close``)."""
    if "symbol" in prices.columns and "date" in prices.columns:
        return prices
    wide = prices.copy()
    wide.index = pd.DatetimeIndex(wide.index, name="date")
    out = wide.stack().rename("close").reset_index()
    out.columns = ["date", "symbol", "close"]
    return out


def _levels_long(prices: pd.DataFrame, basis: str) -> tuple[pd.DataFrame, dict]:
    """Long ``symbol, date, level`` (NaN rows dropped) and the basis used per symbol."""
    if basis not in ("auto", "close", "adj_close"):
        raise DataError(f"basis={basis!r} is not one of auto, close, adj_close")
    df = _long(prices)
    dup = df.duplicated(["symbol", "date"])
    if dup.any():
        first = df[dup].iloc[0]
        raise DataError(
            f"{int(dup.sum())} duplicate (symbol, date) row(s), e.g. {first['symbol']} "
            f"{pd.Timestamp(first['date']):%Y-%m-%d}: levels and returns need one row per date. "
            "Drop them first with validate_prices(prices, on_problem='drop')."
        )
    has_adj = "adj_close" in df.columns
    parts, used = [], {}
    for sym, g in df.groupby("symbol", sort=False):
        g = g.sort_values("date", kind="stable")
        close = g["close"] if "close" in g else pd.Series(np.nan, index=g.index)
        adj = g["adj_close"] if has_adj else pd.Series(np.nan, index=g.index)
        if basis == "close":
            lvl, how = close, "close"
        elif basis == "adj_close":
            lvl, how = adj, "adj_close"
        elif adj.notna().sum() == 0:
            lvl, how = close, "close"
        elif close[adj.isna()].notna().sum() == 0:
            lvl, how = adj, "adj_close"
        else:
            # adj_close for part of the series (firms: Yahoo daily, then IEX closes). Continue
            # with close after the last adj_close row only where the two agree there (adjusted
            # as of that date); never splice bases that disagree.
            last = adj.last_valid_index()
            after = g["date"] > g.loc[last, "date"]
            ok = abs(adj[last] / close[last] - 1) < 1e-6 if pd.notna(close[last]) else False
            lvl = adj.copy()
            if ok:
                lvl[after] = close[after]
                how = f"adj_close, then close from {g.loc[after, 'date'].min():%Y-%m-%d}"
            else:
                how = "adj_close"
                if close[after].notna().any():
                    warnings.warn(
                        f"{sym}: adj_close ends {g.loc[last, 'date']:%Y-%m-%d} and differs "
                        "from close there; later close-only rows are left out", stacklevel=3)
        parts.append(pd.DataFrame({"symbol": sym, "date": g["date"].to_numpy(),
                                   "level": pd.to_numeric(lvl, errors="coerce").to_numpy()}))
        used[sym] = how
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["symbol", "date", "level"])
    return out[out["level"].notna()], used


def price_levels(prices: pd.DataFrame, basis: str = "auto") -> pd.DataFrame:
    """Wide date × symbol price levels.

    ``basis="auto"``: per series, ``adj_close`` where the series has it (adjusted-only ETFs and
    total-return levels), else ``close``; ``"close"`` or ``"adj_close"`` force one column.
    Dates where a series has no value stay NaN (never filled). ``attrs["basis"]`` gives the
    column used per symbol.
    """
    lv, used = _levels_long(prices, basis)
    wide = lv.pivot(index="date", columns="symbol", values="level").sort_index()
    wide = wide.reindex(columns=list(used))
    wide.columns.name = "symbol"
    wide.attrs["basis"] = used
    return wide


def _measures(symbols, universe) -> dict[str, str]:
    uni = load_universe() if universe is None else universe
    m = dict(zip(uni["symbol"], uni["measure"]))
    return {s: m.get(s, "simple_return") for s in symbols}


def returns(prices: pd.DataFrame, kind: str = "simple", basis: str = "auto",
            universe: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-series changes between consecutive observations, tidy:
    ``symbol, date, value, measure, prev_date``.

    Prices give ``simple_return`` (``kind="simple"``) or ``log_return`` (``kind="log"``), as
    fractions (0.01 = 1%). Series quoted in percent (``measure=bp_change`` in the universe:
    yields, spreads) give changes in **basis points** (``bp_change``) whatever *kind* is: never
    returns. Each series uses its own observation dates: the change on a date is from the
    previous observation of that series (``prev_date``), with no reindexing and no filling.
    """
    if kind not in ("simple", "log"):
        raise DataError(f"kind={kind!r} is not one of simple, log")
    lv, _ = _levels_long(prices, basis)
    meas = _measures(lv["symbol"].unique(), universe)
    lv = lv.sort_values(["symbol", "date"], kind="stable")
    g = lv.groupby("symbol", sort=False)
    prev = g["level"].shift(1)
    prev_date = g["date"].shift(1)
    bp = lv["symbol"].map(meas).eq("bp_change")
    if kind == "simple":
        val = lv["level"] / prev - 1.0
        pmeasure = "simple_return"
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            val = np.log(lv["level"] / prev)
        pmeasure = "log_return"
    val = val.where(~bp, (lv["level"] - prev) * 100.0)
    out = pd.DataFrame({
        "symbol": lv["symbol"].to_numpy(),
        "date": lv["date"].to_numpy(),
        "value": val.to_numpy(dtype="float64"),
        "measure": np.where(bp, "bp_change", pmeasure),
        "prev_date": prev_date.to_numpy(),
    })
    out = out[prev.notna().to_numpy()].reset_index(drop=True)
    out["prev_date"] = out["prev_date"].astype("datetime64[ns]")
    order = {s: i for i, s in enumerate(dict.fromkeys(_long(prices)["symbol"]))}
    out = out.sort_values(["symbol", "date"], kind="stable",
                          key=lambda c: c.map(order) if c.name == "symbol" else c)
    out = out.reset_index(drop=True)
    out.attrs["measures"] = {s: ("bp_change" if meas[s] == "bp_change" else pmeasure) for s in meas}
    return out


def wide_returns(prices: pd.DataFrame, kind: str = "simple", basis: str = "auto",
                 universe: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`returns` as a date × symbol table (NaN where a series has no observation)."""
    r = returns(prices, kind=kind, basis=basis, universe=universe)
    wide = r.pivot(index="date", columns="symbol", values="value").sort_index()
    wide = wide.reindex(columns=list(dict.fromkeys(r["symbol"])))
    wide.attrs["measures"] = r.attrs.get("measures", {})
    return wide
