"""Loading market prices: :func:`load_prices` and its source chain (cache → snapshot folder →
pinned snapshot → online), and :func:`source_summary`, the line that says where prices came from.

Frames are long ("tidy"): one row per series and date. Prices carry the columns
``symbol, date, open, high, low, close, adj_close, volume, source``; dates are tz-naive
``datetime64[ns]`` session dates; ``source`` says which source served the series (``cache``,
``snapshot``, ``pinned``, ``yahoo`` or ``fred``). ``df.attrs["sources"]`` maps symbol → source and
``df.attrs["as_of"]`` is the last date in the frame.

Where prices come from (``source="auto"``), per series, the first that has it
(:data:`SOURCE_ORDER`):

1. the local cache (``data/cache/``, ``$TRADESHOCK_CACHE`` or ``cache_dir=``): written by
   online fetches and ``tradeshock data import``;
2. a snapshot folder: ``snapshot=`` or ``$TRADESHOCK_SNAPSHOT`` (read at call time);
3. the pinned snapshot committed in ``data/snapshot/`` (integrity-checked on first use);
4. online: yfinance for Yahoo symbols, FRED (pandas-datareader) for FRED series, as
   ``data/universe.csv`` says; with a timeout, retries with back-off, and the result written to
   the cache (:mod:`tradeshock.data.online`). ``$TRADESHOCK_OFFLINE=1`` switches this step off.

A source "has" a series when it holds observations in the requested range and, for the start,
reaches back to *start* (or to the series' own first observation, when the series starts later).
The end is not required: a source serves what it has up to its as-of date (see ``attrs``).
``start=None`` means "all the history the serving source holds".
"""

from __future__ import annotations

import pandas as pd

from tradeshock.core.timefmt import to_date
from tradeshock.data.cache import PRICE_COLUMNS, PriceCache
from tradeshock.data.daterange import clip, range_label
from tradeshock.data.online import fetch_online, is_offline
from tradeshock.data.snapshot import PinnedSnapshot, SnapshotFolder, resolve_snapshot_dir
from tradeshock.data.universe import load_universe, lookup
from tradeshock.errors import DataError, DataUnavailableError

__all__ = ["OUTPUT_COLUMNS", "SOURCE_ORDER", "SourceChain", "load_prices", "source_summary"]

#: Columns of :func:`load_prices`' frame.
OUTPUT_COLUMNS = ("symbol",) + PRICE_COLUMNS + ("source",)
#: The sources of prices, in the order ``source="auto"`` tries them (the last two: the series'
#: own online source, yahoo or fred).
SOURCE_ORDER = ("cache", "snapshot", "pinned", "yahoo", "fred")


class SourceChain:
    """The sources of one :func:`load_prices` (or ``series_status``) call, resolved once: the
    environment is read when the call starts, the snapshot folder when first needed."""

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
            df = clip(entry.prices, start, end)
            return (df, "") if len(df) else (None, "cached, but no rows in range")
        if name == "snapshot":
            folder = self.folder
            if folder is None:
                return None, "no snapshot folder (--snapshot / TRADESHOCK_SNAPSHOT not set)"
            if not folder.has(sym):
                return None, f"not in snapshot folder {folder.path}"
            df = clip(folder.read_series(sym), start, end)
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
            if (strict_start and start is not None and info.get("truncated")
                    and start < min(cut, first)):
                return None, (f"pinned only from {info['first']} (pinned since "
                              f"{ps.manifest.get('since')})")
            df = clip(ps.series(sym).drop(columns="symbol"), start, end)
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
            df = clip(df, start, end)
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
    :class:`~tradeshock.errors.UnknownSymbolError` for symbols not in ``data/universe.csv``
    (with close matches) and :class:`DataUnavailableError` naming every series no source could
    serve, the range, what was tried and how to fix it.
    """
    if isinstance(symbols, str):
        symbols = [symbols]
    symbols = list(dict.fromkeys(symbols))
    if not symbols:
        raise DataError("load_prices: no symbols given")
    allowed = ("auto", "online") + SOURCE_ORDER
    if source not in allowed:
        raise DataError(f"source={source!r} is not one of {', '.join(allowed)}")
    uni = load_universe() if universe is None else universe
    rows = lookup(symbols, uni)
    start, end = to_date(start), to_date(end)
    if start is not None and end is not None and start > end:
        raise DataError(f"start {start:%Y-%m-%d} is after end {end:%Y-%m-%d}")
    src = SourceChain(snapshot, cache_dir, pinned, uni)

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
    lines = [f"no source could serve {len(failures)} series for {range_label(start, end)}:"]
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
    the caller prints the date itself, as ``figures.add_source_line`` does) the data's as-of
    date."""
    served = prices.attrs.get("sources") or dict.fromkeys(prices["symbol"].unique(),
                                                          prices.attrs.get("source", "?"))
    counts: dict[str, int] = {}
    for src in served.values():
        counts[src] = counts.get(src, 0) + 1
    last = prices.attrs.get("as_of", prices["date"].max() if len(prices) else None)
    parts = ", ".join(f"{_SOURCE_NAMES.get(k, k)} ({n} series)" for k, n in counts.items())
    when = f"; data as of {pd.Timestamp(last):%Y-%m-%d}" if as_of and last is not None else ""
    return f"Market data: {parts}{when}."
