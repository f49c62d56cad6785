"""Validation of long prices against their exchange calendars: :func:`validate_prices` and the
problems it reports (:data:`PROBLEM_COLUMNS`; errors :data:`ERRORS`, warnings :data:`WARNINGS`).

Calendars come from the registry :func:`tradeshock.data.calendars.get_calendar` (sessions from
1990-01-01, or the calendar's own earliest date); a series' calendar is its ``exchange_calendar``
in ``data/universe.csv``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradeshock.core.timefmt import to_date
from tradeshock.data.calendars import get_calendar
from tradeshock.data.daterange import range_label
from tradeshock.data.universe import load_universe
from tradeshock.errors import DataError

__all__ = ["PROBLEM_COLUMNS", "ERRORS", "WARNINGS", "CHECKS", "REPEAT_THRESHOLD",
           "OHLC_TOLERANCE", "STRICT_OHLC_CLASSES", "ohlc_is_strict", "validate_prices",
           "format_problems"]

PROBLEM_COLUMNS = ("symbol", "date", "problem", "severity", "detail")
#: Problems that make a row wrong (dropped by on_problem="drop"; "raise" fails on them).
ERRORS = ("bad_date", "non_numeric", "non_positive", "missing_price", "duplicate_date",
          "out_of_range", "ohlc_inconsistent")
#: Facts of real data worth knowing; only ``not_a_session`` rows are dropped by "drop".
WARNINGS = ("missing_session", "not_a_session", "weekend_date", "repeated_values",
            "non_positive_intraday", "ohlc_unusual")
CHECKS = ("numeric", "duplicates", "range", "calendar", "repeats", "ohlc")
#: Relative tolerance of the OHLC check (rounding of stored decimals, not real gaps).
OHLC_TOLERANCE = 1e-6
#: Asset classes whose open and close must lie within the day's low..high (one session, one
#: venue): cash indices, ETFs, stocks. Futures (``=F``), FX (``=X``), yields, commodities and
#: volatility indices often take open/high/low from another session: only a warning there.
STRICT_OHLC_CLASSES = ("equity_index", "etf", "equity", "stock", "")
#: Identical consecutive values reported as a run from this length on.
REPEAT_THRESHOLD = {"percent": 10, "default": 5}
_LEVEL_COLUMNS = ("open", "high", "low", "close", "adj_close")


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
      *start*..*end*), ``ohlc_inconsistent`` (open or close above the high or below the low, or
      low above high, beyond :data:`OHLC_TOLERANCE`, for cash indices, ETFs and stocks:
      :func:`ohlc_is_strict`; the same for futures, FX, yields is the warning ``ohlc_unusual``);
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
    sym = df["symbol"].astype(str)
    dates, probs = _dates(df, sym)  # probs: (row index or -1, symbol, date, problem, detail)
    num = _numbers(df, sym, dates, "numeric" in checks, probs)
    if "numeric" in checks:
        _value_problems(num, sym, dates, units, probs)
    if "ohlc" in checks:
        _ohlc_problems(num, sym, dates, uni, probs)
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
                          f"outside {range_label(start, end)}"))
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
    return _act(prices, _problems_frame(probs), on_problem, strict)


def format_problems(problems: pd.DataFrame, limit: int = 20) -> str:
    """Problems as indented lines ``  SYMBOL YYYY-MM-DD: problem (detail)``, at most *limit* of
    them, then ``… and N more``."""
    shown = "\n".join(f"  {r.symbol} {r.date:%Y-%m-%d}: {r.problem} ({r.detail})"
                      if pd.notna(r.date) else f"  {r.symbol}: {r.problem} ({r.detail})"
                      for r in problems.head(limit).itertuples())
    more = f"\n  … and {len(problems) - limit} more" if len(problems) > limit else ""
    return shown + more


def _dates(df: pd.DataFrame, sym: pd.Series) -> tuple[pd.Series, list[tuple]]:
    """The dates as tz-naive datetimes (NaT where not a date) and the ``bad_date`` problems."""
    dates = df["date"]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates, errors="coerce", format="mixed")
    if dates.dt.tz is not None:
        dates = dates.dt.tz_localize(None)
    probs = [(i, sym[i], pd.NaT, "bad_date", f"date {df['date'][i]!r} is not a date")
             for i in np.flatnonzero(dates.isna().to_numpy())]
    return dates, probs


def _numbers(df, sym, dates, check: bool, probs: list[tuple]) -> dict[str, pd.Series]:
    """The price columns as floats (NaN where not a number); ``non_numeric`` problems if
    *check*."""
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
        if check:
            for i in np.flatnonzero(bad.to_numpy()):
                probs.append((i, sym[i], dates[i], "non_numeric", f"{c}={s[i]!r}"))
        num[c] = coerced.astype("float64")
    return num


def _value_problems(num, sym, dates, units: dict, probs: list[tuple]) -> None:
    """``non_positive`` (close, adj_close), ``non_positive_intraday`` (open, high, low; neither
    for series in percent) and ``missing_price`` rows, appended to *probs*."""
    pct = sym.map(units).eq("percent").to_numpy()
    for c, s in num.items():
        bad = (s <= 0).to_numpy() & ~pct
        kind = "non_positive" if c in ("close", "adj_close") else "non_positive_intraday"
        for i in np.flatnonzero(bad):
            probs.append((i, sym[i], dates[i], kind, f"{c}={s[i]:g}"))
    close = num.get("close", pd.Series(np.nan, index=sym.index))
    adj = num.get("adj_close", pd.Series(np.nan, index=sym.index))
    nonum = {p[0] for p in probs if p[3] == "non_numeric"}
    for i in np.flatnonzero((close.isna() & adj.isna()).to_numpy()):
        if i not in nonum:
            probs.append((i, sym[i], dates[i], "missing_price", "no close and no adj_close"))


def ohlc_is_strict(symbol: str, asset_class: str = "", name: str = "") -> bool:
    """Whether a series' OHLC must be consistent (error) rather than only looked at (warning):
    its asset class is in :data:`STRICT_OHLC_CLASSES` (unknown counts as a stock) and it is not
    a future or an FX rate (symbol ending ``=F`` or ``=X``, or "future" in its name)."""
    if symbol.endswith(("=F", "=X")) or "future" in name.lower():
        return False
    return (asset_class or "").strip() in STRICT_OHLC_CLASSES


def _ohlc_problems(num, sym, dates, uni: pd.DataFrame, probs: list[tuple]) -> None:
    """``ohlc_inconsistent`` / ``ohlc_unusual`` rows (see :func:`validate_prices`), appended to
    *probs*. Rows with an open, high or low <= 0 (Yahoo's "missing intraday value") are left to
    ``non_positive_intraday``."""
    if not {"high", "low"} <= set(num) or not ({"open", "close"} & set(num)):
        return
    hi, lo = num["high"].to_numpy(float), num["low"].to_numpy(float)
    ok = np.isfinite(hi) & np.isfinite(lo) & (lo > 0)
    if "open" in num:
        op = num["open"].to_numpy(float)
        ok &= ~(np.isfinite(op) & (op <= 0))
    if not ok.any():
        return
    cls = dict(zip(uni["symbol"], uni["asset_class"])) if "asset_class" in uni else {}
    names = dict(zip(uni["symbol"], uni["name"])) if "name" in uni else {}
    tol = OHLC_TOLERANCE
    vals = {c: num[c].to_numpy(float) for c in ("open", "close") if c in num}
    with np.errstate(invalid="ignore"):
        bad = ok & (lo > hi * (1 + tol))
        for v in vals.values():
            bad |= ok & ((v > hi * (1 + tol)) | (v < lo * (1 - tol)))
    strict: dict[str, bool] = {}
    for i in np.flatnonzero(bad):
        what = []
        if lo[i] > hi[i] * (1 + tol):
            what.append(f"low {lo[i]:g} above high {hi[i]:g}")
        for c in ("open", "close"):
            v = vals[c][i] if c in vals else np.nan
            if np.isfinite(v) and v > hi[i] * (1 + tol):
                what.append(f"{c} {v:g} above high {hi[i]:g}")
            elif np.isfinite(v) and v < lo[i] * (1 - tol):
                what.append(f"{c} {v:g} below low {lo[i]:g}")
        if not what:
            continue
        s = sym[i]
        if s not in strict:
            strict[s] = ohlc_is_strict(s, str(cls.get(s, "") or ""), str(names.get(s, "") or ""))
        if strict[s]:
            probs.append((i, s, dates[i], "ohlc_inconsistent", "; ".join(what)))
        else:
            probs.append((i, s, dates[i], "ohlc_unusual", "; ".join(what)
                          + " (futures/FX/yields: open, high, low often from another session)"))


def _problems_frame(probs: list[tuple]) -> pd.DataFrame:
    """The problems, sorted, with their severity (and the ``_row`` they refer to, -1 for none)."""
    problems = pd.DataFrame(probs, columns=["_row", "symbol", "date", "problem", "detail"])
    problems["severity"] = np.where(problems["problem"].isin(ERRORS), "error", "warning")
    problems["date"] = pd.to_datetime(problems["date"]).astype("datetime64[ns]")
    problems = problems.sort_values(["symbol", "date", "problem"], kind="stable")
    return problems.reset_index(drop=True)


def _act(prices: pd.DataFrame, problems: pd.DataFrame, on_problem: str, strict: bool):
    """What ``validate_prices`` returns (or raises) for *on_problem*."""
    public = problems[list(PROBLEM_COLUMNS)].copy()
    if on_problem == "report":
        return public
    if on_problem == "raise":
        bad = public if strict else public[public["severity"] == "error"]
        if len(bad):
            counts = bad["problem"].value_counts().to_dict()
            raise DataError(
                f"price validation failed: {len(bad)} problem(s) {counts}:\n"
                f"{format_problems(bad)}\n"
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
