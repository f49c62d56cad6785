"""What the offline sources hold: :func:`series_status`, per series the source
:func:`~tradeshock.data.prices.load_prices` would use without going online, its coverage and its
missing sessions (``tradeshock data status`` and ``data check``, the refresh's data state).
"""

from __future__ import annotations

import pandas as pd

from tradeshock.core.timefmt import to_date
from tradeshock.data.daterange import clip
from tradeshock.data.prices import SourceChain
from tradeshock.data.universe import load_universe, lookup
from tradeshock.data.validate import validate_prices

__all__ = ["series_status"]


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
    src = SourceChain(snapshot, cache_dir, pinned, uni)
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
        df = clip(df, start, end)
        rows.append({"symbol": s, "name": src.folder.row(s).get("name", ""),
                     "first": df["date"].min() if len(df) else None,
                     "last": df["date"].max() if len(df) else None, "rows": len(df),
                     "source": "snapshot", "missing_sessions": None,
                     "note": "not in data/universe.csv"})
    out = pd.DataFrame(rows, columns=["symbol", "name", "first", "last", "rows", "source",
                                      "missing_sessions", "note"])
    out["missing_sessions"] = out["missing_sessions"].astype("Int64")
    return out
