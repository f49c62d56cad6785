"""Firm-level prices: the S&P 500 members (:func:`load_firms`) and their constituents list
(:func:`load_constituents`, :func:`sp500_members`), from a snapshot folder's ``firms/`` or the
pinned snapshot (never online, never cached).

Frames are long: ``symbol, date, close, adj_close, volume, source, feed``
(:data:`FIRM_OUTPUT_COLUMNS`), dates tz-naive session dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradeshock.core.timefmt import to_date
from tradeshock.data.daterange import clip, range_label
from tradeshock.data.snapshot import (
    MEMBER_FLAG, PinnedSnapshot, SnapshotFolder, resolve_snapshot_dir,
)
from tradeshock.data.universe import unknown_symbol_message
from tradeshock.errors import DataError, DataUnavailableError

__all__ = ["FIRM_OUTPUT_COLUMNS", "PRE_LISTING", "load_firms", "load_constituents",
           "sp500_members"]

#: Columns of :func:`load_firms`' frame.
FIRM_OUTPUT_COLUMNS = ("symbol", "date", "close", "adj_close", "volume", "source", "feed")

#: Firm series whose first rows are not trading of the listed company (Yahoo pre-listing
#: history): symbol -> first real session. ``load_firms`` drops the earlier rows.
PRE_LISTING = {"SW": "2024-07-08"}  # Smurfit Westrock began NYSE trading on 2024-07-08


def _firm_source(source: str, snapshot, pinned):
    if source not in ("auto", "snapshot", "pinned"):
        raise DataError(f"load_firms: source={source!r} is not one of auto, snapshot, pinned")
    if source in ("auto", "snapshot"):
        d = resolve_snapshot_dir(snapshot)
        if d is not None:
            folder = SnapshotFolder(d)
            if folder.has_firms():
                return "snapshot", folder
        if source == "snapshot":
            raise DataUnavailableError(
                "load_firms(source='snapshot'): no snapshot folder with firms/ (set "
                "TRADESHOCK_SNAPSHOT or pass snapshot=DIR)"
            )
    ps = PinnedSnapshot(pinned)
    if not ps.exists() or ps.firms_daily() is None and ps.firms_iex() is None:
        raise DataUnavailableError(
            f"no firm-level prices: the pinned snapshot {ps.path} has none and no snapshot "
            "folder with firms/ is set. Restore data/snapshot with `git checkout data/snapshot` "
            "or point TRADESHOCK_SNAPSHOT at a snapshot folder."
        )
    return "pinned", ps


def load_firms(
    start=None,
    end=None,
    symbols=None,
    source: str = "auto",
    snapshot=None,
    *,
    iex: str = "extend",
    pinned=None,
) -> pd.DataFrame:
    """Daily prices of S&P 500 members, long: ``symbol, date, close, adj_close, volume, source,
    feed``.

    The Yahoo daily file (``SP500_DAILY``: close and adj_close, 2023-10-02 … 2025-09-08) is the
    primary source (``feed="yahoo_daily"``). The IEX last-trade file (unadjusted, no adj_close,
    ``feed="iex"``) is used according to *iex*:

    - ``"extend"`` (default): only after the Yahoo file's last date, for symbols it holds;
    - ``"fill"``: also the symbols the Yahoo file lacks, over the whole IEX span (from
      2024-12-30: short estimation windows; IEX last trades, unadjusted);
    - ``"none"``: Yahoo daily only.

    Rows before a symbol's first real session (:data:`PRE_LISTING`: ``SW`` before 2024-07-08 is
    Yahoo pre-listing history of Smurfit Westrock) are dropped. ``source``: ``auto`` (snapshot
    folder if set and it has ``firms/``, else the pinned snapshot), ``snapshot`` or ``pinned``.
    Unknown *symbols* raise an error listing close matches.
    """
    if iex not in ("extend", "fill", "none"):
        raise DataError(f"load_firms: iex={iex!r} is not one of extend, fill, none")
    name, store = _firm_source(source, snapshot, pinned)
    daily, ix = store.firms_daily(), store.firms_iex()
    start, end = to_date(start), to_date(end)
    if symbols is not None:
        symbols = [symbols] if isinstance(symbols, str) else list(symbols)
        known = set(daily["symbol"]) if daily is not None else set()
        if ix is not None:
            known |= set(ix["symbol"]) if iex == "fill" or daily is None else set()
        unknown = [s for s in symbols if s not in known]
        if unknown:
            cons = store.constituents()
            listed = set(cons["symbol"]) if cons is not None else set()
            msgs = []
            for s in unknown:
                hint = ""
                if s in listed:
                    hint = (f"{s} is in the constituents file but has no Yahoo daily prices in "
                            "this source" + (" (its IEX closes: iex='fill')"
                                             if ix is not None and s in set(ix["symbol"]) else "")
                            + "; see SOURCES.md.")
                msgs.append(unknown_symbol_message(s, sorted(known), f"the firm prices ({name})",
                                                   hint))
            raise DataError("\n".join(msgs))
        daily = daily[daily["symbol"].isin(symbols)] if daily is not None else None
        ix = ix[ix["symbol"].isin(symbols)] if ix is not None else None
    parts = []
    daily_end = None
    if daily is not None and len(daily):
        daily_end = daily["date"].max()
        parts.append(daily.assign(feed="yahoo_daily"))
    if ix is not None and len(ix) and iex != "none":
        ix = ix.assign(adj_close=np.nan, feed="iex")
        if daily_end is None:
            parts.append(ix)
        else:
            have = set(daily["symbol"])
            keep = (ix["date"] > daily_end) & ix["symbol"].isin(have)
            if iex == "fill":
                keep |= ~ix["symbol"].isin(have)
            parts.append(ix[keep])
    df = clip(pd.concat(parts, ignore_index=True), start, end)
    for sym, first in PRE_LISTING.items():
        df = df[~((df["symbol"] == sym) & (df["date"] < pd.Timestamp(first)))]
    if df.empty:
        raise DataUnavailableError(
            f"load_firms: no firm prices for {range_label(start, end)} in the {name} source"
        )
    df = df.assign(source=name).sort_values(["symbol", "date"], kind="stable")
    out = df[list(FIRM_OUTPUT_COLUMNS)].reset_index(drop=True)
    out.attrs["source"] = name
    out.attrs["sources"] = dict.fromkeys(out["symbol"].unique(), name)
    out.attrs["as_of"] = out["date"].max()
    out.attrs["dropped_pre_listing"] = dict(PRE_LISTING)
    return out


def load_constituents(source: str = "auto", snapshot=None, *, pinned=None) -> pd.DataFrame:
    """S&P 500 constituents: ``symbol, name, gics_sector, gics_sub_industry, headquarters,
    date_added, cik, in_sp500_2025-04-01`` (bool: member on the eve of Liberation Day), …"""
    name, store = _firm_source(source, snapshot, pinned)
    df = store.constituents()
    if df is None:
        raise DataUnavailableError(f"no constituents file in the {name} source")
    df = df.copy()
    for col in df.columns:
        if col.startswith("in_"):
            df[col] = df[col].astype(str).str.strip().isin(["1", "True", "true"])
    df.attrs["source"] = name
    return df


def sp500_members(date: str = "2025-04-01", source: str = "auto", snapshot=None) -> list[str]:
    """Members of the S&P 500 on 1 April 2025 (the only membership date the data carry)."""
    if pd.Timestamp(date) != pd.Timestamp("2025-04-01"):
        raise DataError("membership is known for 2025-04-01 only (column in_sp500_2025-04-01)")
    cons = load_constituents(source, snapshot)
    return sorted(cons.loc[cons[MEMBER_FLAG], "symbol"])
