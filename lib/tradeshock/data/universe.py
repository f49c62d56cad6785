"""The study's universe: which market series it uses and what each one is.

``data/universe.csv`` (committed, ours) holds one row per series:

======================  ==========================================================================
column                  meaning
======================  ==========================================================================
symbol                  the study's name for the series (Yahoo form for Yahoo data, FRED id else)
name                    human-readable name
group                   us_equity, us_sector, intl_equity, country_etf, rates, bond_etf, fx,
                        commodity, volatility (for tables and notebook sections)
asset_class             equity_index, etf, rate, fx, commodity, volatility
country, currency       ISO codes (country blank for cross-border FX pairs)
exchange_calendar       exchange_calendars code of the market the series trades on, or blank
                        (FRED rates/FX, spot commodities, futures, Yahoo FX: no exchange calendar)
home_calendar           for country ETFs and indices: the calendar of the home market whose
                        stocks the series holds (EWH trades on XNYS, holds XHKG stocks)
units                   ``index points``, ``price`` or ``percent``
price_basis             ``raw`` (close as quoted; ETFs also carry a dividend-adjusted adj_close),
                        ``adjusted`` (only adj_close: dividend/split adjusted, total return) or
                        ``yahoo_fx_snapshot`` (Yahoo FX: value dated t tracks the previous NY day)
measure                 ``simple_return`` for prices, ``bp_change`` for yields quoted in percent
quote                   quote direction / unit, e.g. ``JPY per USD``, ``USD per troy ounce``
rise_means              FX only: ``USD stronger`` or ``USD weaker`` when the series rises
online_source           ``yahoo`` (yfinance) or ``fred`` (pandas-datareader)
online_symbol           the ticker or FRED id to download
snapshot_file           file name of the series in an offline snapshot folder
transcribed             1 when the snapshot copy was transcribed page by page (see PROVENANCE)
notes                   caveats an analyst must know
======================  ==========================================================================
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pandas as pd

from tradeshock.paths import resource_path
from tradeshock.errors import UnknownSymbolError, ValidationError

#: Default location of the committed universe metadata.
UNIVERSE_PATH = resource_path("universe.csv")

COLUMNS = (
    "symbol", "name", "group", "asset_class", "country", "currency", "exchange_calendar",
    "home_calendar", "units", "price_basis", "measure", "quote", "rise_means", "online_source",
    "online_symbol", "snapshot_file", "transcribed", "notes",
)
REQUIRED = ("symbol", "name", "asset_class", "units", "price_basis", "measure",
            "online_source", "online_symbol")
ALLOWED = {
    "units": {"index points", "price", "percent"},
    "price_basis": {"raw", "adjusted", "yahoo_fx_snapshot"},
    "measure": {"simple_return", "bp_change"},
    "online_source": {"yahoo", "fred"},
}

_CACHE: dict[tuple[str, int, int], pd.DataFrame] = {}


def load_universe(path: str | Path | None = None) -> pd.DataFrame:
    """Read and check ``data/universe.csv`` (or *path*); one row per series, indexed 0..n-1.

    Text columns are strings with ``""`` for blank; ``transcribed`` is a bool. Raises
    :class:`~tradeshock.errors.ValidationError` naming the file and row when a column is missing,
    a symbol repeats, or a value is outside its allowed set.
    """
    p = Path(path) if path is not None else UNIVERSE_PATH
    try:
        st = p.stat()
    except FileNotFoundError:
        raise ValidationError(
            f"universe file {p} not found; restore it with `git checkout data/universe.csv`"
        ) from None
    key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _read_checked(p)
    return _CACHE[key].copy()


def _read_checked(p: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file name
        raise ValidationError(f"{p}: cannot be read as CSV ({exc})") from exc
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ValidationError(f"{p}: missing column(s) {', '.join(missing)}")
    for col in COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df = df.apply(lambda s: s.str.strip())
    for i, row in df.iterrows():
        line = i + 2  # header is line 1
        for col in REQUIRED:
            if not row[col]:
                raise ValidationError(f"{p}, line {line}: empty {col!r} for {row['symbol']!r}")
        for col, allowed in ALLOWED.items():
            if row[col] not in allowed:
                raise ValidationError(
                    f"{p}, line {line} ({row['symbol']}): {col}={row[col]!r} is not one of "
                    f"{sorted(allowed)}"
                )
        if row["units"] == "percent" and row["measure"] != "bp_change":
            raise ValidationError(
                f"{p}, line {line} ({row['symbol']}): a yield in percent must have "
                "measure=bp_change (changes in basis points, never returns)"
            )
    dup = df["symbol"][df["symbol"].duplicated()]
    if len(dup):
        raise ValidationError(f"{p}: symbol(s) listed twice: {', '.join(dup)}")
    df["transcribed"] = df["transcribed"].isin(["1", "true", "True", "yes"])
    return df.reset_index(drop=True)


def close_matches(name: str, candidates, n: int = 5) -> list[str]:
    """Symbols in *candidates* that look like *name* (case-insensitive, ``^``/``=X`` tolerant)."""
    cands = list(candidates)
    folded = {}
    for c in cands:
        folded.setdefault(_fold(c), c)
    hits = difflib.get_close_matches(_fold(name), list(folded), n=n, cutoff=0.6)
    out = [folded[h] for h in hits]
    # also symbols containing the query (e.g. "GSPC" -> "^GSPC", "JPY" -> "JPY=X", "DEXJPUS")
    q = _fold(name)
    if len(q) >= 3:
        out += [c for c in cands if q in _fold(c) and c not in out]
    return out[:n]


def _fold(s: str) -> str:
    return s.upper().replace("^", "").replace("=X", "").replace("=F", "").replace("-", "")


def unknown_symbol_message(symbol: str, candidates, where: str, hint: str = "") -> str:
    """The message for an unknown symbol: what, where, close matches, how to fix."""
    matches = close_matches(symbol, candidates)
    msg = f"unknown symbol {symbol!r} in {where}"
    msg += f"; did you mean: {', '.join(matches)}?" if matches else "; no close match."
    if hint:
        msg += f" {hint}"
    return msg


def lookup(symbols, universe: pd.DataFrame | None = None) -> pd.DataFrame:
    """The universe rows for *symbols* (str or list), in the order given.

    Raises :class:`UnknownSymbolError` listing close matches for any symbol not in the universe.
    """
    if isinstance(symbols, str):
        symbols = [symbols]
    uni = load_universe() if universe is None else universe
    by_symbol = uni.set_index("symbol", drop=False)
    unknown = [s for s in symbols if s not in by_symbol.index]
    if unknown:
        msgs = [
            unknown_symbol_message(
                s, uni["symbol"], "data/universe.csv",
                "Add a row to data/universe.csv to use a new series; S&P 500 members are loaded "
                "with tradeshock.load_firms().",
            )
            for s in unknown
        ]
        raise UnknownSymbolError("\n".join(msgs))
    return by_symbol.loc[list(symbols)].reset_index(drop=True)


def series_info(symbol: str, universe: pd.DataFrame | None = None) -> dict:
    """One series' metadata as a dict (see the module docstring for the fields)."""
    return lookup([symbol], universe).iloc[0].to_dict()


#: A trailing note of where a series comes from, which readers of a table do not need.
_SOURCE_NOTE = re.compile(r"\s*\((?:FRED|EIA|investing\.com)\b[^)]*\)\s*$")


def display_name(symbol: str, universe: pd.DataFrame | None = None) -> str:
    """The series' name as a reader knows it: the universe name without its source note
    ("Nasdaq Composite (FRED NASDAQCOM)" -> "Nasdaq Composite"); the symbol if unknown."""
    uni = load_universe() if universe is None else universe
    hit = uni.loc[uni["symbol"] == symbol, "name"]
    return _SOURCE_NOTE.sub("", str(hit.iloc[0])) if len(hit) else str(symbol)


def exchange_calendar_of(symbol: str, universe: pd.DataFrame | None = None,
                         default: str = "XNYS") -> str:
    """The exchange-calendar code of a series (``"XTKS"`` for ^N225); ``default`` for series
    without one (FRED yields, FX) or unknown symbols."""
    uni = load_universe() if universe is None else universe
    hit = uni.loc[uni["symbol"] == symbol, "exchange_calendar"]
    code = str(hit.iloc[0]) if len(hit) and isinstance(hit.iloc[0], str) else ""
    return code or default


__all__ = [
    "UNIVERSE_PATH", "COLUMNS", "UnknownSymbolError", "load_universe", "lookup", "series_info",
    "display_name", "exchange_calendar_of", "close_matches", "unknown_symbol_message",
]
