"""The notebook preamble: check the parameters, load enough history, returns, provenance.

Every notebook starts the same way, in one call after its parameters cell::

    from tradeshock.analyses import us_indices as analysis
    from tradeshock.pipeline.preamble import start
    s = start(analysis.PARAMETERS, globals())

:func:`start` checks every parameter against the analysis' :class:`~tradeshock.analyses.contract.
Contract` (one error listing every problem, before any work), loads the prices of every symbol the
parameters name, **from early enough for the requested windows** (the contract's history needs,
computed on each market's exchange calendar), refuses a window the data cannot fill with the range
they do cover (never cut silently), builds levels and returns, and records the provenance (sources
and an honest as-of date) that the report index shows. The result, :class:`Setup`, is what the
notebook works with: ``s.p`` (checked parameters), ``s.prices``, ``s.levels``, ``s.returns``,
``s.events``, ``s.names`` and ``s.source_line()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tradeshock.analyses.contract import Contract, Need, Parameters, Symbol
from tradeshock.data.prices import load_prices, source_summary
from tradeshock.data.returns import price_levels, wide_returns
from tradeshock.data.universe import display_name, load_universe, series_info
from tradeshock.errors import ValidationError
from tradeshock.events.calendar import load_events
from tradeshock.pipeline.provenance import record

__all__ = ["Setup", "start", "coverage", "as_of_text"]

#: Calendar days loaded before the first needed session (its return needs the previous close).
SLACK_DAYS = 10


@dataclass
class Setup:
    """What a notebook works with after :func:`start` (see the module docstring)."""

    p: Parameters
    events: pd.DataFrame
    prices: pd.DataFrame
    levels: pd.DataFrame
    returns: pd.DataFrame
    names: dict[str, str]
    universe: pd.DataFrame
    needs: list[Need] = field(default_factory=list)
    #: Data loaded apart from the preamble (:meth:`also_loaded`), one text each.
    extra_sources: list[str] = field(default_factory=list)

    @property
    def last_dates(self) -> dict[str, pd.Timestamp]:
        """Last date with data, per series."""
        return {s: pd.Timestamp(d) for s, d in self.prices.groupby("symbol")["date"].max().items()}

    @property
    def as_of(self) -> pd.Timestamp:
        """The last date every series has data for (the earliest of the series' last dates)."""
        return min(self.last_dates.values())

    def as_of_text(self) -> str:
        return as_of_text(self.last_dates, self.names)

    def source_line(self, note: str = "") -> str:
        """The source line of figures and tables: sources, then an optional note."""
        text = source_summary(self.prices, as_of=False)
        if self.extra_sources:
            text = f"{text.rstrip('.')}; {'; '.join(self.extra_sources)}."
        return f"{text} {note}".strip()

    def also_loaded(self, what: str, data: pd.Series | pd.DataFrame, source: str,
                    show: bool = True) -> None:
        """Record data loaded apart from the preamble (e.g. a longer history of one series for
        another study): ``what`` it is, its first and last date, and its ``source`` join the
        source line, and the provenance is recorded again (``also_loaded``)."""
        idx = data.dropna(how="all").index if len(data) else data.index
        span = f", {idx[0]:%Y-%m-%d} to {idx[-1]:%Y-%m-%d}" if len(idx) else ", no rows"
        self.extra_sources.append(f"{what}: {source.rstrip('. ')}{span}")
        if show:
            record(as_of=self.as_of, source=self.source_line(), as_of_detail=self.as_of_text(),
                   also_loaded="; ".join(self.extra_sources))

    def info(self, symbol: str) -> dict[str, Any]:
        """The universe row of ``symbol`` (name, units, exchange_calendar, ...)."""
        return series_info(symbol, self.universe)

    def title(self, event: Any) -> str:
        """An event's title as readers know it (an EventRef, or an event id)."""
        eid = getattr(event, "event_id", event)
        hit = self.events.loc[self.events["event_id"] == eid, "title"]
        return str(hit.iloc[0]) if len(hit) else str(eid)


#: At most this many series are named in an as-of text; the others are counted.
AS_OF_LISTED = 4


def as_of_text(last: Mapping[str, pd.Timestamp], names: Mapping[str, str] | None = None,
               listed: int | None = AS_OF_LISTED) -> str:
    """"2026-06-24" when every series ends then, else the common date and the exceptions, e.g.
    "2026-06-24 (Dow Jones Industrial Average to 2026-03-05; CBOE Volatility Index to 2026-07-23)".
    The first date is the last one every series has (what a table across the series can use).
    At most ``listed`` exceptions are named (the earliest first) and the rest counted ("and 9
    more"); ``None`` names them all."""
    if not last:
        return "no data"
    names = names or {}
    dates = pd.Series(last).map(pd.Timestamp)
    common = dates.min()
    mode = dates.mode().iloc[-1]

    def named(items: pd.Series) -> list[str]:
        out = [f"{names.get(s, s)} to {d:%Y-%m-%d}" for s, d in items.items()]
        if listed is not None and len(out) > listed:
            order = items.sort_values(kind="stable").index[:listed]
            out = [f"{names.get(s, s)} to {items[s]:%Y-%m-%d}" for s in order]
            out[-1] += f" and {len(items) - listed} more"
        return out

    if len(dates) > 1 and dates.value_counts().max() == 1:  # all differ: no "most", list them
        return f"{common:%Y-%m-%d} for all series (" + "; ".join(named(dates)) + ")"
    head = f"{common:%Y-%m-%d}" if common == mode else f"{common:%Y-%m-%d} for all series"
    odd = named(dates[dates != mode])
    if not odd:
        return head
    return f"{head} (most to {mode:%Y-%m-%d}; {'; '.join(odd)})" if common != mode else (
        f"{head} ({'; '.join(odd)})")


def _symbols(contract: Contract, p: Parameters) -> list[str]:
    out: list[str] = []
    for param in contract.params:
        if isinstance(param, Symbol) and param.used(p):  # not a proxy the model does not use
            v = p.get(param.name)
            out += v if isinstance(v, list) else ([v] if v else [])
    return list(dict.fromkeys(out))


def coverage(symbols: Sequence[str], prices: pd.DataFrame | None = None) -> dict[str, tuple]:
    """First and last date with data per symbol, from ``prices`` or as served now."""
    if prices is None:
        prices = load_prices(list(symbols))
    span = prices.groupby("symbol")["date"].agg(["min", "max"])
    return {s: (span.at[s, "min"], span.at[s, "max"]) if s in span.index else (None, None)
            for s in symbols}


def _check_filled(needs: Sequence[Need], prices: pd.DataFrame) -> None:
    have = coverage(sorted({n.symbol for n in needs}), prices)
    problems = []
    for n in needs:
        first, last = have.get(n.symbol, (None, None))
        if first is None:
            problems.append(f"{n.symbol}: no data at all ({n.why})")
        elif n.first < first or n.last > last:
            problems.append(f"{n.why} needs {n.symbol} from {n.first:%Y-%m-%d} to "
                            f"{n.last:%Y-%m-%d}, but its data cover {first:%Y-%m-%d} to "
                            f"{last:%Y-%m-%d}")
    if problems:
        raise ValidationError(
            "the data cannot fill the requested windows (nothing was cut):\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nFix: shorten the windows, or choose events and series the data cover "
              "(`tradeshock data status` lists each series' range).")


#: record() keys that are not parameters (a parameter of one of these names is not recorded).
_RESERVED = frozenset({"as_of", "source", "as_of_detail", "last_dates"})


def start(contract: Contract, namespace: Mapping[str, Any], *, since: Any = None,
          symbols: Sequence[str] = (), show: bool = True) -> Setup:
    """Check, load and record (see the module docstring).

    ``namespace`` holds the parameter values (a notebook passes ``globals()``); ``since`` loads
    from an earlier date than the windows need (e.g. a chart's first date); ``symbols`` adds
    series the parameters do not name. Raises ValidationError before any loading when a
    parameter is wrong, and after loading when the data cannot fill a window.
    """
    events = load_events()
    universe = load_universe()
    p = contract.check(namespace, events=events, universe=universe)
    needs = contract.needs(p, events=events, universe=universe)
    wanted = list(dict.fromkeys(_symbols(contract, p) + list(symbols)))
    if not wanted:
        raise ValidationError(f"{contract.notebook}: the parameters name no series to load. "
                              "Fix: give at least one symbol.")
    first = min([n.first for n in needs] + ([pd.Timestamp(since)] if since is not None else []),
                default=None)
    load_from = None if first is None else first - pd.Timedelta(days=SLACK_DAYS)
    prices = load_prices(wanted, start=load_from, universe=universe)
    _check_filled(needs, prices)
    names = {s: display_name(s, universe) for s in wanted}
    setup = Setup(p, events, prices, price_levels(prices), wide_returns(prices, universe=universe),
                  names, universe, needs)
    if show:
        given = {k: v for k, v in p.raw.items()
                 if isinstance(v, str | int | float | bool) and k not in _RESERVED}
        record(as_of=setup.as_of, source=source_summary(prices, as_of=False),
               as_of_detail=setup.as_of_text(),
               last_dates={k: f"{v:%Y-%m-%d}" for k, v in setup.last_dates.items()}, **given)
    return setup
