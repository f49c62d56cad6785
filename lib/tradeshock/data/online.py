"""Online sources: Yahoo Finance (yfinance) and FRED (pandas-datareader), with a timeout, retries
with back-off and, for universe series, the result written to the cache.

``TRADESHOCK_OFFLINE`` (any value but empty, 0, false, no; read at call time, :func:`is_offline`)
switches online access off for :func:`~tradeshock.data.prices.load_prices` and the refresh.
A download that fails because the network is down (DNS, connection, timeout; also when yfinance
only logs it) raises :class:`~tradeshock.errors.NetworkError` saying so (:func:`network_cause`);
yfinance's own log lines and warnings are silenced during a download.
Frames are :data:`~tradeshock.data.cache.PRICE_COLUMNS` (tz-naive session dates).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.error import URLError

import pandas as pd

from tradeshock.core.fileset import describe_os_error
from tradeshock.core.timefmt import to_date
from tradeshock.data.cache import PriceCache, standardize
from tradeshock.data.calendars import get_calendar
from tradeshock.data.daterange import range_label
from tradeshock.data.universe import lookup
from tradeshock.errors import (
    CacheWriteWarning,
    DataUnavailableError,
    NetworkError,
    PartialDataWarning,
)

__all__ = ["OnlineSettings", "ONLINE", "is_offline", "fetch_yahoo", "fetch_fred", "fetch_online",
           "network_cause"]


@dataclass
class OnlineSettings:
    """Timeout per request (seconds), attempts per series, first back-off pause (doubles)."""

    timeout: float = 20.0
    attempts: int = 3
    backoff: float = 1.0


#: The settings every fetch reads at call time (replace it to change them, e.g. in tests).
ONLINE = OnlineSettings()


class _NoData(Exception):
    pass


def is_offline() -> bool:
    """Whether ``TRADESHOCK_OFFLINE`` switches online access off (any value but empty, 0,
    false, no), read at call time."""
    return os.environ.get("TRADESHOCK_OFFLINE", "").strip() not in ("", "0", "false", "no")


class _Unreachable(ConnectionError):
    """A download library reported a network failure without raising it (yfinance logs it)."""


#: Words of network failures in messages of libraries that wrap them (pandas-datareader's
#: RemoteDataError, yfinance's log): DNS, refused or reset connections, timeouts.
_NETWORK_WORDS = (
    "could not resolve host", "name resolution", "nameresolutionerror", "failed to resolve",
    "name or service not known", "nodename nor servname", "getaddrinfo failed", "dnserror",
    "failed to establish a new connection", "max retries exceeded", "connection refused",
    "connection reset", "network is unreachable", "no route to host", "timed out",
    "connecttimeout", "connectionerror",
)


def network_cause(exc: BaseException | None) -> str | None:
    """What network failure *exc* (or an exception in its cause chain) is, e.g. ``"DNS lookup
    failed"``; None when it is not a network failure (a bad symbol, a parse error)."""
    seen = 0
    while exc is not None and seen < 20:
        seen += 1
        text = f"{type(exc).__name__}: {exc}".lower()
        dns = isinstance(exc, socket.gaierror) or any(
            w in text for w in ("resolve", "name resolution", "dnserror", "getaddrinfo",
                                "name or service not known", "nodename nor servname"))
        if dns:
            return "DNS lookup failed (host name not resolved: no network or no DNS?)"
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout, URLError)) or any(
                w in text for w in _NETWORK_WORDS):
            return "the connection failed or timed out (no network, proxy or firewall?)"
        exc = exc.__cause__ or exc.__context__
    return None


def _with_retries(fn, what: str):
    last: Exception | None = None
    for attempt in range(max(1, ONLINE.attempts)):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - network/library errors of any kind
            last = exc
            if attempt + 1 < ONLINE.attempts:
                time.sleep(ONLINE.backoff * (2 ** attempt))
    msg = f"{what}: failed after {ONLINE.attempts} attempt(s): {type(last).__name__}: {last}"
    cause = network_cause(last)
    if cause:
        raise NetworkError(f"{msg} -- the network is the cause: {cause}") from last
    raise DataUnavailableError(msg) from last


@contextmanager
def _quiet_yfinance():
    """Silence yfinance during one download (its log lines and pandas warnings) and collect its
    log messages, so a network failure it swallows can be told (see :func:`fetch_yahoo`)."""
    logger = logging.getLogger("yfinance")
    said: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                said.append(record.getMessage())
            except Exception:  # noqa: BLE001
                pass

    saved = (logger.handlers[:], logger.propagate)
    logger.handlers, logger.propagate = [_Collect(logging.DEBUG)], False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield said
    finally:
        logger.handlers, logger.propagate = saved


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
        with _quiet_yfinance() as said:
            raw = yfinance.download(ticker, **kw)
        if raw is None or len(raw) == 0:
            told = " ".join(said)
            if any(w in told.lower() for w in _NETWORK_WORDS + ("resolve",)):
                raise _Unreachable(f"Yahoo could not be reached for {ticker}: "
                                   f"{told.strip()[:300]}")
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
            f"{range_label(start, end)}: {len(missing)} {row['exchange_calendar']} session(s) "
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
            warnings.warn(f"could not write {symbol} to the cache {PriceCache(cache_dir).path}: "
                          f"{describe_os_error(exc)}", CacheWriteWarning, stacklevel=2)
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
