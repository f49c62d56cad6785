"""Market prices: loading (cache → snapshot folder → pinned snapshot → online), validation
against exchange calendars, price levels and returns.

Frames are long ("tidy"): one row per series and date. Prices carry the columns
``symbol, date, open, high, low, close, adj_close, volume, source``; dates are tz-naive
``datetime64[ns]`` session dates; ``source`` says which source served the series (``cache``,
``snapshot``, ``pinned``, ``yahoo`` or ``fred``). ``df.attrs["sources"]`` maps symbol → source and
``df.attrs["as_of"]`` is the last date in the frame.

Where prices come from (``source="auto"``), per series, the first that has it:

1. the local cache (``data/cache/``, ``$TRADESHOCK_CACHE`` or ``cache_dir=``): written by
   online fetches and ``tradeshock data import``;
2. a snapshot folder: ``snapshot=`` or ``$TRADESHOCK_SNAPSHOT`` (read at call time);
3. the pinned snapshot committed in ``data/snapshot/`` (integrity-checked on first use);
4. online: yfinance for Yahoo symbols, FRED (pandas-datareader) for FRED series, as
   ``data/universe.csv`` says; with a timeout, retries with back-off, and the result written to
   the cache. ``$TRADESHOCK_OFFLINE=1`` switches this step off.

A source "has" a series when it holds observations in the requested range and, for the start,
reaches back to *start* (or to the series' own first observation, when the series starts later).
The end is not required: a source serves what it has up to its as-of date (see ``attrs``).
``start=None`` means "all the history the serving source holds".
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from tradeshock.data.cache import PRICE_COLUMNS, PriceCache, standardize
from tradeshock.errors import DataError, DataUnavailableError, PartialDataWarning
from tradeshock.data.snapshot import (
    MEMBER_FLAG, PinnedSnapshot, SnapshotFolder, resolve_snapshot_dir,
)
from tradeshock.data.universe import load_universe, lookup, unknown_symbol_message
from tradeshock.core.timefmt import to_date

OUTPUT_COLUMNS = ("symbol",) + PRICE_COLUMNS + ("source",)
FIRM_OUTPUT_COLUMNS = ("symbol", "date", "close", "adj_close", "volume", "source", "feed")
SOURCES = ("cache", "snapshot", "pinned", "yahoo", "fred")
_LEVEL_COLUMNS = ("open", "high", "low", "close", "adj_close")

#: Firm series whose first rows are not trading of the listed company (Yahoo pre-listing
#: history): symbol -> first real session. ``load_firms`` drops the earlier rows.
PRE_LISTING = {"SW": "2024-07-08"}  # Smurfit Westrock began NYSE trading on 2024-07-08


@dataclass
class OnlineSettings:
    """Timeout per request (seconds), attempts per series, first back-off pause (doubles)."""

    timeout: float = 20.0
    attempts: int = 3
    backoff: float = 1.0


ONLINE = OnlineSettings()


def _range_label(start, end) -> str:
    a = start.strftime("%Y-%m-%d") if start is not None else "first available"
    b = end.strftime("%Y-%m-%d") if end is not None else "latest"
    return f"{a} .. {b}"


def _clip(df: pd.DataFrame, start, end) -> pd.DataFrame:
    m = np.ones(len(df), dtype=bool)
    if start is not None:
        m &= (df["date"] >= start).to_numpy()
    if end is not None:
        m &= (df["date"] <= end).to_numpy()
    return df[m]


# --------------------------------------------------------------------------- online


class _NoData(Exception):
    pass


def is_offline() -> bool:
    """Whether ``TRADESHOCK_OFFLINE`` switches online access off (any value but empty, 0,
    false, no), read at call time."""
    return os.environ.get("TRADESHOCK_OFFLINE", "").strip() not in ("", "0", "false", "no")


def _with_retries(fn, what: str):
    last: Exception | None = None
    for attempt in range(max(1, ONLINE.attempts)):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - network/library errors of any kind
            last = exc
            if attempt + 1 < ONLINE.attempts:
                time.sleep(ONLINE.backoff * (2 ** attempt))
    raise DataUnavailableError(
        f"{what}: failed after {ONLINE.attempts} attempt(s): {type(last).__name__}: {last}"
    ) from last


def fetch_yahoo(ticker: str, start=None, end=None) -> pd.DataFrame:
    """Daily bars of *ticker* from Yahoo (yfinance), as :data:`PRICE_COLUMNS`.

    ``auto_adjust=False``: ``close`` as quoted, ``adj_close`` dividend/split adjusted. Retries
    with back-off (:data:`ONLINE`); raises :class:`DataUnavailableError` when it fails.
    """
    start, end = to_date(start), to_date(end)

    def once():
        import yfinance

        kw = dict(interval="1d", auto_adjust=False, actions=False, progress=False,
                  threads=False, timeout=ONLINE.timeout)
        if start is None:
            kw["period"] = "max"
        else:
            kw["start"] = start.strftime("%Y-%m-%d")
        if end is not None:  # yfinance's end is exclusive
            kw["end"] = (end + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
        raw = yfinance.download(ticker, **kw)
        return _parse_yahoo(raw, ticker)

    return _with_retries(once, f"Yahoo download of {ticker}")


def _yahoo_error(ticker: str) -> str:
    try:
        from yfinance import shared

        return str(getattr(shared, "_ERRORS", {}).get(ticker, "")) or "no rows returned"
    except Exception:  # noqa: BLE001
        return "no rows returned"


def _parse_yahoo(raw: pd.DataFrame | None, ticker: str) -> pd.DataFrame:
    if raw is None or len(raw) == 0:
        raise _NoData(f"Yahoo returned no data for {ticker} ({_yahoo_error(ticker)})")
    df = raw.copy()
    if isinstance(df.columns, pd.MultiIndex):
        price_level = next(
            (i for i in range(df.columns.nlevels)
             if {"Close", "Adj Close"} & set(df.columns.get_level_values(i))), 0,
        )
        other = [i for i in range(df.columns.nlevels) if i != price_level]
        for lvl in sorted(other, reverse=True):
            vals = df.columns.get_level_values(lvl)
            if ticker in set(vals):
                df = df.xs(ticker, axis=1, level=lvl)
            else:
                df = df.droplevel(lvl, axis=1)
    names = {"Open": "open", "High": "high", "Low": "low", "Close": "close",
             "Adj Close": "adj_close", "Volume": "volume"}
    df = df.rename(columns=names)
    if not ({"close", "adj_close"} & set(df.columns)):
        raise _NoData(f"Yahoo data for {ticker} have no Close column: {list(df.columns)}")
    idx = pd.DatetimeIndex(df.index)
    if idx.tz is not None:
        idx = idx.tz_localize(None)  # keep the exchange-local session date
    df = df.reset_index(drop=True)
    df["date"] = idx.normalize()
    out = standardize(df)
    out = out[out["close"].notna() | out["adj_close"].notna()]
    if out.empty:
        raise _NoData(f"Yahoo returned only empty rows for {ticker}")
    return out.drop_duplicates("date").sort_values("date").reset_index(drop=True)


def fetch_fred(series_id: str, start=None, end=None) -> pd.DataFrame:
    """A FRED series through pandas-datareader, as :data:`PRICE_COLUMNS` (value in ``close``)."""
    start, end = to_date(start), to_date(end)

    def once():
        import pandas_datareader.fred as pdr_fred

        reader = pdr_fred.FredReader(
            symbols=series_id,
            start=start if start is not None else pd.Timestamp("1900-01-01"),
            end=end if end is not None else pd.Timestamp.today().normalize(),
            retry_count=1, pause=0.0, timeout=ONLINE.timeout,
        )
        try:
            raw = reader.read()
        finally:
            try:
                reader.close()
            except Exception:  # noqa: BLE001
                pass
        if raw is None or len(raw) == 0:
            raise _NoData(f"FRED returned no data for {series_id}")
        col = series_id if series_id in raw.columns else raw.columns[0]
        df = pd.DataFrame({"date": pd.DatetimeIndex(raw.index).normalize(),
                           "close": pd.to_numeric(raw[col], errors="coerce").to_numpy()})
        out = standardize(df)
        return out[out["close"].notna()].sort_values("date").reset_index(drop=True)

    return _with_retries(once, f"FRED download of {series_id}")


def fetch_online(symbol: str, start=None, end=None, *, universe=None, cache_dir=None,
                 write_cache: bool = True) -> pd.DataFrame:
    """Download one universe series from its online source and (by default) cache it."""
    row = lookup([symbol], universe).iloc[0]
    fetch = fetch_yahoo if row["online_source"] == "yahoo" else fetch_fred
    start, end = to_date(start), to_date(end)
    df = fetch(row["online_symbol"], start, end)
    missing = _missing_tail(df, row, start, end)
    partial = bool(missing)
    if partial:
        warnings.warn(
            f"{row['online_source']} returned {symbol} only up to {df['date'].max():%Y-%m-%d} for "
            f"{_range_label(start, end)}: {len(missing)} {row['exchange_calendar']} session(s) "
            f"missing ({missing[0]:%Y-%m-%d} .. {missing[-1]:%Y-%m-%d}). They are not filled; the "
            f"cache marks the download partial so a complete source serves them later. To fix: "
            f"retry (`tradeshock data fetch {symbol}`) or use a snapshot (TRADESHOCK_SNAPSHOT).",
            PartialDataWarning,
            stacklevel=2,
        )
    if write_cache:
        try:
            PriceCache(cache_dir).write(
                symbol, df, origin=row["online_source"], covered_start=start,
                covered_end=(df["date"].max() if partial or end is None else end),
                partial=partial,
                online_symbol=row["online_symbol"],
                fetched=pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        except OSError as exc:
            warnings.warn(f"could not write {symbol} to the cache: {exc}", stacklevel=2)
    return df


def _missing_tail(df: pd.DataFrame, row, start, end) -> list[pd.Timestamp]:
    """Sessions of the series' calendar after the last row returned, up to *end* (capped at
    yesterday, UTC: today's bar may not exist yet). Empty when the download reaches the end or
    the series has no exchange calendar (FRED series publish on their own schedule)."""
    code = str(row.get("exchange_calendar") or "")
    if not len(df) or not code or code == "nan":
        return []
    last = pd.Timestamp(df["date"].max())
    stop = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize() - pd.Timedelta(days=1)
    if end is not None:
        stop = min(stop, end)
    if stop <= last:
        return []
    try:
        sessions = get_calendar(code).sessions_in_range(last + pd.Timedelta(days=1), stop)
    except Exception:  # noqa: BLE001 - outside the calendar's bounds: nothing to compare with
        return []
    return [pd.Timestamp(s).tz_localize(None) if pd.Timestamp(s).tzinfo else pd.Timestamp(s)
            for s in sessions]


# --------------------------------------------------------------------------- load_prices


class _Sources:
    """The sources of one load_prices call, resolved once (env read at call time)."""

    def __init__(self, snapshot, cache_dir, pinned, universe):
        self.cache = PriceCache(cache_dir)
        self._snapshot_arg = snapshot
        self._folder: SnapshotFolder | None | bool = False
        self.pinned = PinnedSnapshot(pinned)
        self.universe = universe

    @property
    def folder(self) -> SnapshotFolder | None:
        if self._folder is False:
            d = resolve_snapshot_dir(self._snapshot_arg)
            self._folder = SnapshotFolder(d) if d is not None else None
        return self._folder

    def try_source(self, name: str, row, start, end, strict_start: bool):
        """(frame or None, why-not) for one series from one source."""
        sym = row["symbol"]
        if name == "cache":
            entry = self.cache.read(sym)
            if entry is None:
                return None, f"not in the cache ({self.cache.path})"
            if strict_start and not entry.covers(start, end):
                return None, f"cached only from {entry.covered_start:%Y-%m-%d}"
            if (strict_start and entry.detail.get("partial") and end is not None
                    and entry.covered_end is not None and end > entry.covered_end):
                return None, (f"the cached download was partial (ends "
                              f"{entry.covered_end:%Y-%m-%d})")
            df = _clip(entry.prices, start, end)
            return (df, "") if len(df) else (None, "cached, but no rows in range")
        if name == "snapshot":
            folder = self.folder
            if folder is None:
                return None, "no snapshot folder (--snapshot / TRADESHOCK_SNAPSHOT not set)"
            if not folder.has(sym):
                return None, f"not in snapshot folder {folder.path}"
            df = _clip(folder.read_series(sym), start, end)
            return (df, "") if len(df) else (None, f"no rows in range in {folder.path}")
        if name == "pinned":
            ps = self.pinned
            if not ps.exists():
                return None, f"no pinned snapshot in {ps.path}"
            if not ps.has(sym):
                return None, "not in the pinned snapshot"
            info = ps.info(sym)
            first = pd.Timestamp(info["first"])
            since = ps.manifest.get("since")
            cut = pd.Timestamp(since) if since else first
            # A series cut at the pin's --since date covers every request from that date on
            # (the first session may fall a few days after it, e.g. 2023-10-01 was a Sunday).
            if strict_start and start is not None and info.get("truncated") and start < min(cut, first):
                return None, (f"pinned only from {info['first']} (pinned since "
                              f"{ps.manifest.get('since')})")
            df = _clip(ps.series(sym).drop(columns="symbol"), start, end)
            return (df, "") if len(df) else (None, "pinned, but no rows in range")
        if name in ("yahoo", "fred"):
            if row["online_source"] != name:
                return None, f"{sym} is a {row['online_source']} series, not {name}"
            if is_offline():
                return None, "online access switched off (TRADESHOCK_OFFLINE is set)"
            try:
                df = fetch_online(sym, start, end, universe=self.universe,
                                  cache_dir=self.cache.path)
            except DataUnavailableError as exc:
                return None, str(exc)
            df = _clip(df, start, end)
            return (df, "") if len(df) else (None, f"{name} returned no rows in range")
        raise ValueError(name)


def load_prices(
    symbols,
    start=None,
    end=None,
    source: str = "auto",
    snapshot=None,
    cache_dir=None,
    *,
    pinned=None,
    universe: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Daily prices of universe *symbols* (str or list) between *start* and *end* (inclusive).

    ``source``: ``auto`` (cache → snapshot folder → pinned → online, per series), or one of
    ``cache``, ``snapshot``, ``pinned``, ``yahoo``, ``fred``, ``online`` (the series' own online
    source) to use only that source. ``snapshot``: a snapshot folder (default
    ``$TRADESHOCK_SNAPSHOT``). ``cache_dir``: default ``$TRADESHOCK_CACHE`` or ``data/cache``.
    ``pinned``: the pinned snapshot folder (default ``data/snapshot``).

    Returns the long frame described in the module docstring. Raises
    :class:`~tradeshock.universe.UnknownSymbolError` for symbols not in ``data/universe.csv``
    (with close matches) and :class:`DataUnavailableError` naming every series no source could
    serve, the range, what was tried and how to fix it.
    """
    if isinstance(symbols, str):
        symbols = [symbols]
    symbols = list(dict.fromkeys(symbols))
    if not symbols:
        raise DataError("load_prices: no symbols given")
    allowed = ("auto", "online") + SOURCES
    if source not in allowed:
        raise DataError(f"source={source!r} is not one of {', '.join(allowed)}")
    uni = load_universe() if universe is None else universe
    rows = lookup(symbols, uni)
    start, end = to_date(start), to_date(end)
    if start is not None and end is not None and start > end:
        raise DataError(f"start {start:%Y-%m-%d} is after end {end:%Y-%m-%d}")
    src = _Sources(snapshot, cache_dir, pinned, uni)

    frames, served, failures = [], {}, {}
    for _, row in rows.iterrows():
        if source == "auto":
            chain = ["cache", "snapshot", "pinned", row["online_source"]]
        elif source == "online":
            chain = [row["online_source"]]
        else:
            chain = [source]
        tried = []
        for name in chain:
            df, why = src.try_source(name, row, start, end, strict_start=(source == "auto"))
            if df is not None:
                df = df.copy()
                df.insert(0, "symbol", row["symbol"])
                df["source"] = name
                frames.append(df)
                served[row["symbol"]] = name
                break
            tried.append(f"{name}: {why}")
        else:
            failures[row["symbol"]] = tried
    if failures:
        raise DataUnavailableError(_unavailable_message(failures, start, end, source))
    out = pd.concat(frames, ignore_index=True)[list(OUTPUT_COLUMNS)]
    out["source"] = out["source"].astype(str)
    out.attrs["sources"] = served
    out.attrs["as_of"] = out["date"].max()
    out.attrs["as_of_by_symbol"] = out.groupby("symbol", sort=False)["date"].max().to_dict()
    return out


def _unavailable_message(failures: dict, start, end, source: str) -> str:
    lines = [f"no source could serve {len(failures)} series for {_range_label(start, end)}:"]
    for sym, tried in failures.items():
        lines.append(f"  {sym}:")
        lines += [f"    - {t}" for t in tried]
    syms = " ".join(f"'{s}'" if not s.replace(".", "").isalnum() else s for s in failures)
    rng = ""
    if start is not None:
        rng += f" --start {start:%Y-%m-%d}"
    if end is not None:
        rng += f" --end {end:%Y-%m-%d}"
    lines.append(
        "How to fix: go online and run `tradeshock data fetch "
        f"{syms}{rng}` (or call load_prices with network access), or point TRADESHOCK_SNAPSHOT "
        "(or --snapshot DIR) at an offline snapshot folder that holds these series"
        + ("" if source == "auto" else f", or use source='auto' instead of {source!r}")
        + ". The pinned snapshot in data/snapshot covers the study period; "
        "`tradeshock data status` shows what each source holds."
    )
    return "\n".join(lines)


_SOURCE_NAMES = {"cache": "local cache", "snapshot": "offline snapshot folder",
                 "pinned": "pinned snapshot (data/snapshot)", "yahoo": "Yahoo Finance (yfinance)",
                 "fred": "FRED"}


def source_summary(prices: pd.DataFrame, as_of: bool = True) -> str:
    """One line for reports: which sources served *prices* and (unless ``as_of=False``, e.g. when
    the caller prints the date itself, as ``figures.add_source_line`` does) the data's as-of date."""
    served = prices.attrs.get("sources") or dict.fromkeys(prices["symbol"].unique(),
                                                          prices.attrs.get("source", "?"))
    counts: dict[str, int] = {}
    for src in served.values():
        counts[src] = counts.get(src, 0) + 1
    last = prices.attrs.get("as_of", prices["date"].max() if len(prices) else None)
    parts = ", ".join(f"{_SOURCE_NAMES.get(k, k)} ({n} series)" for k, n in counts.items())
    when = f"; data as of {pd.Timestamp(last):%Y-%m-%d}" if as_of and last is not None else ""
    return f"Market data: {parts}{when}."


# --------------------------------------------------------------------------- firms


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
    df = _clip(pd.concat(parts, ignore_index=True), start, end)
    for sym, first in PRE_LISTING.items():
        df = df[~((df["symbol"] == sym) & (df["date"] < pd.Timestamp(first)))]
    if df.empty:
        raise DataUnavailableError(
            f"load_firms: no firm prices for {_range_label(start, end)} in the {name} source"
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


# --------------------------------------------------------------------------- levels, returns


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


# --------------------------------------------------------------------------- validation

PROBLEM_COLUMNS = ("symbol", "date", "problem", "severity", "detail")
#: Problems that make a row wrong (dropped by on_problem="drop"; "raise" fails on them).
ERRORS = ("bad_date", "non_numeric", "non_positive", "missing_price", "duplicate_date",
          "out_of_range")
#: Facts of real data worth knowing; only ``not_a_session`` rows are dropped by "drop".
WARNINGS = ("missing_session", "not_a_session", "weekend_date", "repeated_values",
            "non_positive_intraday")
CHECKS = ("numeric", "duplicates", "range", "calendar", "repeats")
#: Identical consecutive values reported as a run from this length on.
REPEAT_THRESHOLD = {"percent": 10, "default": 5}
CALENDAR_START = pd.Timestamp("1990-01-01")


@lru_cache(maxsize=None)
def get_calendar(code: str):
    """An exchange_calendars calendar with an explicit start (1990-01-01, or the calendar's
    earliest date), so sessions do not depend on today's date; cached per process."""
    import exchange_calendars as xcals

    try:  # the calendar class's earliest date, without building a calendar
        from exchange_calendars.calendar_utils import global_calendar_dispatcher as gcd

        bound = gcd._calendar_factories[xcals.resolve_alias(code)].bound_min()
    except Exception:  # noqa: BLE001 - private API moved: fall back to no bound
        bound = None
    start = max(CALENDAR_START, bound) if bound is not None else CALENDAR_START
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xcals.get_calendar(code, start=start)


def validate_prices(
    prices: pd.DataFrame,
    start=None,
    end=None,
    universe: pd.DataFrame | None = None,
    on_problem: str = "report",
    *,
    default_calendar: str | None = None,
    checks=CHECKS,
    strict: bool = False,
):
    """Check long prices series by series; returns or acts on the problems found.

    Problems (``symbol, date, problem, severity, detail``):

    - errors: ``bad_date``, ``non_numeric`` (text in a price column), ``non_positive`` (a
      close or adj_close ≤ 0; not checked for series in percent, which can be ≤ 0; an open,
      high or low ≤ 0 with a good close, as Yahoo writes for a missing intraday value, is the
      warning ``non_positive_intraday``), ``missing_price`` (no
      close and no adj_close), ``duplicate_date`` (the later rows), ``out_of_range`` (outside
      *start*..*end*);
    - warnings: ``missing_session`` (a session of the series' exchange calendar between its
      first and last observation without a row), ``not_a_session`` (a row on a day the
      calendar is closed), ``weekend_date`` (series without calendar), ``repeated_values``
      (the same value on many consecutive observations: :data:`REPEAT_THRESHOLD`).

    The calendar is the universe's ``exchange_calendar`` (``default_calendar`` for symbols not
    in the universe, e.g. ``"XNYS"`` for firms). ``on_problem``:

    - ``"report"``: return the problems frame;
    - ``"raise"``: raise :class:`DataError` listing them if there is any error (any problem at
      all with ``strict=True``); else return the (warning-only) problems;
    - ``"drop"``: return *prices* without the rows that have an error or ``not_a_session``
      (keeping the first of duplicate dates), with the problems in ``attrs["problems"]``.
      Missing sessions and repeated runs cannot be dropped; they stay reported.
    """
    if on_problem not in ("report", "raise", "drop"):
        raise DataError(f"on_problem={on_problem!r} is not one of report, raise, drop")
    checks = set(checks)
    df = prices.reset_index(drop=True)
    if "symbol" not in df.columns or "date" not in df.columns:
        raise DataError("validate_prices needs a long frame with 'symbol' and 'date' columns")
    uni = load_universe() if universe is None else universe
    units = dict(zip(uni["symbol"], uni["units"]))
    cal_of = dict(zip(uni["symbol"], uni["exchange_calendar"]))
    start, end = to_date(start), to_date(end)
    probs: list[tuple] = []  # (row index or -1, symbol, date, problem, detail)

    dates = df["date"]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates, errors="coerce", format="mixed")
    if dates.dt.tz is not None:
        dates = dates.dt.tz_localize(None)
    sym = df["symbol"].astype(str)
    for i in np.flatnonzero(dates.isna().to_numpy()):
        probs.append((i, sym[i], pd.NaT, "bad_date", f"date {df['date'][i]!r} is not a date"))

    num = {}
    for c in _LEVEL_COLUMNS:
        if c not in df.columns:
            continue
        s = df[c]
        if pd.api.types.is_numeric_dtype(s):
            num[c] = s.astype("float64")
            continue
        coerced = pd.to_numeric(s, errors="coerce")
        txt = s.astype(str).str.strip()
        bad = s.notna() & ~txt.isin(["", "nan", "None", "<NA>"]) & coerced.isna()
        if "numeric" in checks:
            for i in np.flatnonzero(bad.to_numpy()):
                probs.append((i, sym[i], dates[i], "non_numeric", f"{c}={s[i]!r}"))
        num[c] = coerced.astype("float64")

    if "numeric" in checks:
        pct = sym.map(units).eq("percent").to_numpy()
        for c, s in num.items():
            bad = (s <= 0).to_numpy() & ~pct
            kind = "non_positive" if c in ("close", "adj_close") else "non_positive_intraday"
            for i in np.flatnonzero(bad):
                probs.append((i, sym[i], dates[i], kind, f"{c}={s[i]:g}"))
        close = num.get("close", pd.Series(np.nan, index=df.index))
        adj = num.get("adj_close", pd.Series(np.nan, index=df.index))
        nonum = {p[0] for p in probs if p[3] == "non_numeric"}
        for i in np.flatnonzero((close.isna() & adj.isna()).to_numpy()):
            if i not in nonum:
                probs.append((i, sym[i], dates[i], "missing_price", "no close and no adj_close"))

    if "duplicates" in checks:
        key = pd.DataFrame({"s": sym, "d": dates})
        for i in np.flatnonzero(key.duplicated(keep="first").to_numpy() & dates.notna().to_numpy()):
            probs.append((i, sym[i], dates[i], "duplicate_date", "date repeated; first row kept"))

    if "range" in checks and (start is not None or end is not None):
        out = np.zeros(len(df), dtype=bool)
        if start is not None:
            out |= (dates < start).to_numpy()
        if end is not None:
            out |= (dates > end).to_numpy()
        for i in np.flatnonzero(out):
            probs.append((i, sym[i], dates[i], "out_of_range",
                          f"outside {_range_label(start, end)}"))

    if checks & {"calendar", "repeats"}:
        basis_val = num.get("adj_close", pd.Series(np.nan, index=df.index)).where(
            lambda x: x.notna(), num.get("close", pd.Series(np.nan, index=df.index)))
        frame = pd.DataFrame({"symbol": sym, "date": dates, "v": basis_val})
        frame = frame[frame["date"].notna()]
        for s, g in frame.groupby("symbol", sort=False):
            g = g.sort_values("date", kind="stable")
            if "calendar" in checks:
                probs += _calendar_problems(s, g, cal_of.get(s) or default_calendar or "",
                                            start, end)
            if "repeats" in checks:
                thr = REPEAT_THRESHOLD["percent" if units.get(s) == "percent" else "default"]
                probs += _repeat_problems(s, g, thr)

    problems = pd.DataFrame(probs, columns=["_row", "symbol", "date", "problem", "detail"])
    problems["severity"] = np.where(problems["problem"].isin(ERRORS), "error", "warning")
    problems["date"] = pd.to_datetime(problems["date"]).astype("datetime64[ns]")
    problems = problems.sort_values(["symbol", "date", "problem"], kind="stable")
    problems = problems.reset_index(drop=True)
    public = problems[list(PROBLEM_COLUMNS)].copy()

    if on_problem == "report":
        return public
    if on_problem == "raise":
        bad = public if strict else public[public["severity"] == "error"]
        if len(bad):
            shown = "\n".join(f"  {r.symbol} {r.date:%Y-%m-%d}: {r.problem} ({r.detail})"
                              if pd.notna(r.date) else f"  {r.symbol}: {r.problem} ({r.detail})"
                              for r in bad.head(20).itertuples())
            more = f"\n  … and {len(bad) - 20} more" if len(bad) > 20 else ""
            counts = bad["problem"].value_counts().to_dict()
            raise DataError(
                f"price validation failed: {len(bad)} problem(s) {counts}:\n{shown}{more}\n"
                "Fix the data, or call validate_prices(..., on_problem='drop') to drop the bad "
                "rows."
            )
        return public
    drop_rows = set(problems.loc[problems["problem"].isin(ERRORS + ("not_a_session",))
                                 & (problems["_row"] >= 0), "_row"].astype(int))
    kept = prices.reset_index(drop=True).drop(index=sorted(drop_rows)).reset_index(drop=True)
    kept.attrs = dict(prices.attrs)
    kept.attrs["problems"] = public
    return kept


def _calendar_problems(sym, g, code, start, end) -> list[tuple]:
    out = []
    d = pd.DatetimeIndex(g["date"])
    if not code:
        for i, day in zip(g.index[d.day_of_week >= 5], d[d.day_of_week >= 5]):
            out.append((i, sym, day, "weekend_date", f"{day:%A}; no exchange calendar"))
        return out
    try:
        cal = get_calendar(code)
    except Exception as exc:  # noqa: BLE001
        out.append((-1, sym, pd.NaT, "missing_session", f"calendar {code!r} unusable: {exc}"))
        return out
    lo = max(d.min(), cal.first_session, start or d.min())
    hi = min(d.max(), cal.last_session, end or d.max())
    if lo > hi:
        return out
    sessions = cal.sessions_in_range(lo, hi)
    have = pd.DatetimeIndex(d.unique())
    for day in sessions.difference(have):
        out.append((-1, sym, day, "missing_session", f"{code} session without a row"))
    inside = (d >= lo) & (d <= hi)
    extra = ~d.isin(sessions) & inside
    for i, day in zip(g.index[extra], d[extra]):
        out.append((i, sym, day, "not_a_session", f"{code} is closed on {day:%a %Y-%m-%d}"))
    return out


def _repeat_problems(sym, g, threshold) -> list[tuple]:
    v = g["v"].to_numpy()
    dates = g["date"].to_numpy()
    if len(v) < threshold:
        return []
    change = np.r_[True, v[1:] != v[:-1]]
    run_id = np.cumsum(change)
    out = []
    counts = np.bincount(run_id)
    for rid in np.flatnonzero(counts >= threshold):
        idx = np.flatnonzero(run_id == rid)
        if np.isnan(v[idx[0]]):
            continue
        out.append((-1, sym, pd.Timestamp(dates[idx[0]]), "repeated_values",
                    f"{v[idx[0]]:g} on {len(idx)} consecutive observations through "
                    f"{pd.Timestamp(dates[idx[-1]]):%Y-%m-%d}"))
    return out


# --------------------------------------------------------------------------- status


def series_status(
    symbols=None,
    start=None,
    end=None,
    snapshot=None,
    cache_dir=None,
    *,
    pinned=None,
    universe: pd.DataFrame | None = None,
    missing_sessions: bool = True,
) -> pd.DataFrame:
    """Per series, the offline source ``load_prices(source="auto")`` would use, without going
    online: ``symbol, name, first, last, rows, source, missing_sessions, note``.

    ``source`` is ``cache``, ``snapshot`` or ``pinned``, else ``online (yahoo|fred)`` when only
    the network could serve it. Series of the snapshot folder that are not in the universe are
    listed too (note says so).
    """
    uni = load_universe() if universe is None else universe
    start, end = to_date(start), to_date(end)
    src = _Sources(snapshot, cache_dir, pinned, uni)
    if symbols is None:
        known = uni
        extra = [] if src.folder is None else [
            s for s in src.folder.symbols if s not in set(uni["symbol"])]
    else:
        known = lookup(symbols, uni)  # raises with close matches for unknown symbols
        extra = []
    rows = []
    for _, row in known.iterrows():
        rec = {"symbol": row["symbol"], "name": row["name"], "first": None, "last": None,
               "rows": 0, "source": f"online ({row['online_source']})", "missing_sessions": None,
               "note": ""}
        for name in ("cache", "snapshot", "pinned"):
            df, why = src.try_source(name, row, start, end, strict_start=True)
            if df is not None:
                rec.update(first=df["date"].min(), last=df["date"].max(), rows=len(df),
                           source=name)
                if missing_sessions and row["exchange_calendar"]:
                    p = validate_prices(df.assign(symbol=row["symbol"]), start, end, uni,
                                        checks=("calendar",))
                    rec["missing_sessions"] = int((p["problem"] == "missing_session").sum())
                break
        else:
            rec["note"] = "not available offline"
        rows.append(rec)
    for s in extra:
        df = src.folder.read_series(s)
        df = _clip(df, start, end)
        rows.append({"symbol": s, "name": src.folder.row(s).get("name", ""),
                     "first": df["date"].min() if len(df) else None,
                     "last": df["date"].max() if len(df) else None, "rows": len(df),
                     "source": "snapshot", "missing_sessions": None,
                     "note": "not in data/universe.csv"})
    out = pd.DataFrame(rows, columns=["symbol", "name", "first", "last", "rows", "source",
                                      "missing_sessions", "note"])
    out["missing_sessions"] = out["missing_sessions"].astype("Int64")
    return out


__all__ = [
    "load_prices", "load_firms", "load_constituents", "sp500_members", "price_levels", "returns",
    "wide_returns", "validate_prices", "series_status", "source_summary", "fetch_yahoo",
    "fetch_fred", "fetch_online", "is_offline", "get_calendar", "ONLINE", "OnlineSettings", "PRE_LISTING",
    "SOURCES",
]
