"""Global markets around a tariff shock and its rebound (``notebooks/04_global.ipynb``).

National indices are each aligned to **their own exchange calendar** (day 0 is the first session of
that exchange trading after the announcement) and studied in local currency; the US-listed
single-country ETFs all trade in New York, so they share one day 0 and one currency (USD) and make
a clean cross-section of economies. A constant-mean model over the estimation window gives each
market's abnormal returns; CARs over the parameter windows come with the engine's per-security
CAR test (Student t with the estimation-error term; Campbell, Lo and MacKinlay 1997, sec. 4.4),
through :func:`tradeshock.analyses.crosssection.market_cars`. The ETF selloff CARs are regressed on
the reciprocal tariff rates (OLS, HC3; :func:`~tradeshock.analyses.crosssection.tariff_slopes`), and
the ETFs of governments that negotiated are compared with those of governments that retaliated
(Welch 1947 unequal-variance t-test).

Everything a reader sees (titles, labels, table captions, the narrative of :func:`describe_global`)
is built from the parameters and the results, so other events, markets, windows and groups give
true text. A market without a return on its day 0, or whose windows the data cannot fill, is
listed with the reason, never dropped silently. Units: CAR columns of the study's frames are in
**percent** (as :func:`market_cars` returns them); tables say so in their labels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.analyses import crosssection
from tradeshock.analyses.contract import (
    Codes, Contract, EventRef, Event, History, Symbols, Window, before, disjoint,
)
from tradeshock.core.tables import Table
from tradeshock.engine.present import window_label
from tradeshock.events.align import align, event_window

__all__ = ["PARAMETERS", "RATES_EVENT", "GlobalStudy", "short_name", "country_names",
           "study_global", "chart_span", "describe_global", "lead", "as_of_summary",
           "known_countries"]

def known_countries() -> set[str]:
    """ISO2 codes a group may list: economies of the reciprocal-rates table and countries of
    the universe's series."""
    from tradeshock.data.universe import load_universe
    from tradeshock.events.rates import load_reciprocal_rates

    uni = load_universe()["country"].dropna().astype(str)
    return set(load_reciprocal_rates()["iso2"].astype(str)) | {c for c in uni if len(c) == 2}


def _order_problems(v: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The rebound comes after the selloff: its New York day 0 is later. (Windows may overlap:
    each market's selloff and rebound are separate studies.)"""
    sell, reb = v["selloff_event"], v["rebound_event"]
    d_sell = align(sell.event_id, "XNYS").day0
    d_reb = align(reb.event_id, "XNYS").day0
    if d_reb > d_sell:
        return []
    what = "is the selloff's own event" if reb.event_id == sell.event_id else (
        f"({reb.label}, New York day 0 {d_reb:%Y-%m-%d}) does not come after the selloff "
        f"({sell.label}, New York day 0 {d_sell:%Y-%m-%d})")
    return [("rebound_event", what, "choose a rebound event later than the selloff event")]

#: The fewest estimation sessions the engine accepts (``event_study(min_estimation_obs=30)``).
MIN_ESTIMATION_SESSIONS = 30


def _estimation_problems(v: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The estimation window holds at least :data:`MIN_ESTIMATION_SESSIONS` sessions (refused
    here rather than failing inside the kernel)."""
    a, b = v["estimation_window"]
    if b - a + 1 >= MIN_ESTIMATION_SESSIONS:
        return []
    return [("estimation_window", f"= '{a}:{b}' holds {b - a + 1} sessions, fewer than the "
             f"{MIN_ESTIMATION_SESSIONS} the model needs",
             f"give at least {MIN_ESTIMATION_SESSIONS} sessions, e.g. '-260:-11'")]


#: What the parameters of ``notebooks/04_global.ipynb`` must be.
PARAMETERS = Contract(
    "04_global",
    [
        Symbols("indices", help="national equity indices (local currency)", priced=True,
                exchange=True),
        Symbols("etfs", help="US-listed single-country ETFs", groups=("country_etf",),
                priced=True, exchange=True, min_items=0),
        Event("selloff_event", help="the event of the shock (id or short name)"),
        Event("rebound_event", help="the event of the rebound (id or short name)"),
        Event("retaliation_event", help="the retaliators' announcement, or None", optional=True),
        Window("selloff_window", help="the selloff CAR window"),
        Window("rebound_window", help="the rebound CAR window"),
        Window("negotiation_window", help="the window around the rebound day 0 for the "
               "negotiators-vs-retaliators test"),
        Window("estimation_window", help="the estimation window"),
        Codes("negotiators", length=2, known=lambda: known_countries()),
        Codes("retaliators", length=2, known=lambda: known_countries()),
    ],
    rules=[before("estimation_window", "selloff_window"),
           before("estimation_window", "rebound_window"),
           before("estimation_window", "negotiation_window"),
           disjoint("negotiators", "retaliators")],
    checks=[lambda v: _order_problems(v), lambda v: _estimation_problems(v)],
    history=[
        History(("indices",), ("selloff_event",), ("estimation_window", "selloff_window")),
        History(("indices",), ("rebound_event",),
                ("estimation_window", "rebound_window", "negotiation_window")),
    ],
)

#: The event whose reciprocal rates the tariff measures hold (``events.tariff_measures``).
RATES_EVENT = "liberation_day"

_FAMILY = re.compile(r"^(?:iShares(?: MSCI)?|WisdomTree|VanEck|SPDR|Global X|Franklin FTSE)\s+")
_TAIL = re.compile(r"\s+(?:ETF|Fund|Index Fund)$")


def short_name(name: str) -> str:
    """A fund's name without its family and wrapper: "iShares MSCI South Korea ETF" -> "South
    Korea", "WisdomTree India Earnings Fund" -> "India Earnings"; other names as they are."""
    out = _TAIL.sub("", _FAMILY.sub("", str(name).strip()))
    return out or str(name)


def country_names(codes: Sequence[str], rates: pd.DataFrame | None = None) -> dict[str, str]:
    """ISO2 code -> country name from the reciprocal-rates table (the code when it has none)."""
    if rates is None:
        from tradeshock.events.rates import load_reciprocal_rates

        rates = load_reciprocal_rates()
    known = dict(zip(rates["iso2"], rates["country"]))
    missing = [c for c in codes if c not in known]
    if missing:  # EU members and others without a rate: the name of their country ETF
        from tradeshock.data.universe import load_universe

        uni = load_universe()
        etf = uni[(uni["group"] == "country_etf") & uni["country"].isin(missing)]
        for c, name in zip(etf["country"], etf["name"]):
            known.setdefault(c, short_name(name))
    return {c: str(known.get(c, c)) for c in codes}


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "p not defined"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _pp(x: float) -> str:
    return f"{x:+.2f}%"


@dataclass
class GlobalStudy:
    """The global cross-section of one shock and its rebound (see the module docstring)."""

    selloff: EventRef
    rebound: EventRef
    retaliation: EventRef | None
    windows: dict[str, tuple[int, int]]
    indices: list[str]
    etfs: list[str]
    names: dict[str, str]
    info: pd.DataFrame                      # universe rows of the markets, indexed by symbol
    day0: dict[str, dict[str, pd.Timestamp]]  # "selloff"/"rebound" -> symbol -> day 0
    index_cars: pd.DataFrame                # market_cars frames (CAR in percent), by symbol
    etf_cars: pd.DataFrame
    notes: dict[str, str] = field(default_factory=dict)  # symbol -> why it was not studied
    short: dict[str, str] = field(default_factory=dict)  # symbol -> shorter estimation window
    rates: pd.DataFrame | None = None       # country_rates of the ETFs
    slopes: pd.DataFrame | None = None      # tariff_slopes of the ETF selloff CARs
    groups: dict[str, list[str]] = field(default_factory=dict)  # codes per group
    group_names: dict[str, str] = field(default_factory=dict)   # ISO2 -> country
    welch: pd.DataFrame | None = None
    neg_sessions: list[pd.Timestamp] = field(default_factory=list)  # NY sessions of the window
    alpha: float = 0.05

    # ---- column names of the CAR frames
    def col(self, what: str, window: str, stat: str = "CAR") -> str:
        """Column of the CAR frames: ``col("selloff", "selloff_window")`` -> ``selloff CAR
        0..3 (%)``; ``stat`` ``t`` or ``p`` gives the test columns."""
        a, b = self.windows[window]
        return f"{what} CAR {a}..{b} (%)" if stat == "CAR" else f"{what} {stat} {a}..{b}"

    def wl(self, window: str) -> str:
        return window_label(*self.windows[window])

    # ---- tables
    def day0_table(self) -> Table:
        """Day 0 of both events on each index's own calendar, and on the ETFs' calendar(s)."""
        rows = [{"market": self.names.get(s, s), "symbol": s,
                 "calendar": self.info.at[s, "exchange_calendar"],
                 "selloff": self.day0["selloff"][s], "rebound": self.day0["rebound"][s]}
                for s in self.indices]
        etf_cal = self.info.loc[self.etfs, "exchange_calendar"] if self.etfs else pd.Series()
        for cal, members in etf_cal.groupby(etf_cal, sort=False):
            first = members.index[0]
            rows.append({"market": f"{len(members)} country ETF{'s' if len(members) > 1 else ''}",
                         "symbol": ", ".join(members.index[:3]) + (", ..." if len(members) > 3
                                                                   else ""),
                         "calendar": cal, "selloff": self.day0["selloff"][first],
                         "rebound": self.day0["rebound"][first]})
        f = pd.DataFrame(rows).set_index("market")
        return Table(f, caption=f"Day 0 of {self.selloff.label} and {self.rebound.label} on each "
                     "market's own exchange calendar",
                     formats={"selloff": "date", "rebound": "date"},
                     labels={"selloff": "day 0, selloff", "rebound": "day 0, rebound"},
                     notes=["Day 0 is the first session of the exchange that trades after the "
                            "announcement; an event without a time of day is placed at the end "
                            "of its day."])

    def _car_table(self, frame: pd.DataFrame, extra: Sequence[str], caption: str,
                   extra_windows: Sequence[str] = ()) -> Table:
        cols: dict[str, tuple[str, str]] = {}
        for what, win in [("selloff", "selloff_window"), ("rebound", "rebound_window")] + [
                ("rebound", w) for w in extra_windows]:
            for stat, fmt in (("CAR", "num:2"), ("t", "num:2"), ("p", "p")):
                c = self.col(what, win, stat)
                cols[c] = (fmt, f"{what} {self.wl(win)}: " + ("CAR (%)" if stat == "CAR"
                                                               else stat))
        f = frame.reindex(columns=list(extra) + [c for c in cols if c in frame.columns])
        f.insert(0, "name", [short_name(self.names.get(s, s)) for s in f.index])
        labels = {c: lab for c, (_, lab) in cols.items()}
        formats = {c: fmt for c, (fmt, _) in cols.items()}
        notes = [f"Selloff: {self.selloff.label}; rebound: {self.rebound.label}. Constant-mean "
                 "model; t is the per-security CAR test (Student t with the estimation-error "
                 "term, Campbell, Lo and MacKinlay 1997, 4.4); two-sided p."]
        gone = [f"{s} ({self.notes[s]})" for s in frame.attrs.get("asked", []) if s in self.notes]
        if gone:
            notes.append("Not studied: " + "; ".join(gone) + ".")
        brief = [f"{s} {self.short[s]}" for s in f.index if s in self.short]
        if brief:
            notes.append("Data shorter than the estimation window: " + "; ".join(brief) + ".")
        asked = frame.attrs.get("asked", [])
        empty = ("none listed in the parameters" if not asked else
                 "none of the listed markets could be studied (see the note)")
        return Table(f, caption=caption, formats={**formats, "currency": "text",
                                                  "country": "text"},
                     labels={**labels, "name": "market"}, notes=notes, empty=empty)

    def index_table(self) -> Table:
        """Selloff and rebound CAR of each national index, local currency, own day 0."""
        f = self.index_cars.copy()
        f["currency"] = self.info["currency"].reindex(f.index)
        f.attrs["asked"] = self.indices
        return self._car_table(f, ["currency"], "National indices: CAR in percent, local "
                               "currency, each from its own day 0")

    def etf_table(self) -> Table:
        """Selloff and rebound CAR of each country ETF (USD, New York day 0), worst first."""
        f = self.etf_cars.copy()
        f["country"] = self.info["country"].reindex(f.index)
        if len(f):
            f = f.sort_values(self.col("selloff", "selloff_window"))
        f.attrs["asked"] = self.etfs
        extra = ["negotiation_window"] if "negotiation_window" in self.windows and self.windows[
            "negotiation_window"] != self.windows["rebound_window"] else []
        t = self._car_table(f, ["country"], "Country ETFs: CAR in percent, USD, New York "
                            "day 0, lowest selloff CAR first", extra)
        if not self.etfs:
            t.empty = "no country ETF: the parameter etfs is empty"
        return t

    def pairs_table(self) -> Table:
        """Each national index beside its country's ETFs: the gap mixes the currency move with
        the different day 0 and trading hours."""
        sc, rc = self.col("selloff", "selloff_window"), self.col("rebound", "rebound_window")
        rows = []
        for s in self.index_cars.index:
            c = self.info.at[s, "country"]
            for e in [e for e in self.etf_cars.index if self.info.at[e, "country"] == c]:
                rows.append({"index": self.names.get(s, s), "ETF": e,
                             "i_sell": self.index_cars.at[s, sc], "e_sell": self.etf_cars.at[e, sc],
                             "i_reb": self.index_cars.at[s, rc], "e_reb": self.etf_cars.at[e, rc]})
        f = pd.DataFrame(rows, columns=["index", "ETF", "i_sell", "e_sell", "i_reb", "e_reb"])
        sw, rw = self.wl("selloff_window"), self.wl("rebound_window")
        return Table(f.set_index("index"), caption="Each national index (local currency, own day "
                     "0) beside its country's ETFs (USD, New York day 0): CAR in percent",
                     formats={c: "num:2" for c in ("i_sell", "e_sell", "i_reb", "e_reb")},
                     labels={"i_sell": f"index, selloff {sw}", "e_sell": f"ETF, selloff {sw}",
                             "i_reb": f"index, rebound {rw}", "e_reb": f"ETF, rebound {rw}"},
                     notes=["The gap between an index and its ETF mixes the currency move with "
                            "the different day 0 and trading hours."],
                     empty="no national index studied has a country ETF of its country among "
                           "the ETFs studied")

    def slopes_table(self) -> Table:
        """The tariff-rate regressions, one row per measure."""
        s = self.slopes if self.slopes is not None else pd.DataFrame()
        slope = [c for c in s.columns if c.startswith("slope")]
        f = s.rename(columns={slope[0]: "slope"} if slope else {})
        f.index = [MEASURE_LABELS.get(m, m) for m in f.index]
        f.index.name = "tariff measure"
        notes = []
        if self.rates is not None:
            for m in s.index:
                gone = self.rates.index[self.rates[m].isna()].tolist()
                notes.append(f"{MEASURE_LABELS.get(m, m)}: N = {int(s.at[m, 'n'])}; without a "
                             f"value: {', '.join(gone) or 'none'}.")
        notes.append("OLS of the ETF selloff CAR (percent) on the measure (percent), HC3 "
                     "standard errors; EU members take the EU rate, Hong Kong China's.")
        return Table(f, caption=f"Selloff CAR {self.wl('selloff_window')} of the country ETFs "
                     f"against the reciprocal tariff rates: slope in percentage points of CAR per "
                     "10 points of tariff",
                     formats={"slope": "num:2", "se": "num:2", "t": "num:2", "p": "p",
                              "intercept (%)": "num:2", "n": "int", "n_dropped": "int",
                              "r2": "num:3"},
                     labels={"slope": "slope (pp per 10 pts)", "n_dropped": "dropped",
                             "r2": "R²"}, notes=notes,
                     empty="no country ETF studied, so no slope is estimated")

    def welch_table(self) -> Table:
        """Negotiators against retaliators: mean CARs and Welch's t-test per window."""
        f = self.welch if self.welch is not None else pd.DataFrame()
        fmt = {"n_a": "int", "n_b": "int", "mean_a": "num:2", "mean_b": "num:2", "diff": "num:2",
               "t": "num:2", "p": "p"}
        members = [f"{g}: {', '.join(self.group_etfs(g)) or 'no ETF'}"
                   for g in ("negotiators", "retaliators")]
        return Table(f, caption="Country ETFs of governments that negotiated against those of "
                     "governments that retaliated around "
                     f"{self.rebound.label}: mean CAR in percent, Welch's t-test",
                     formats=fmt, labels={"n_a": "N negotiators", "n_b": "N retaliators",
                                          "mean_a": "mean negotiators (%)",
                                          "mean_b": "mean retaliators (%)",
                                          "diff": "difference (pp)", "t": "Welch t"},
                     notes=[f"{'; '.join(members)}.", "Welch's t-test needs two ETFs per group; "
                            "with fewer, t and p are not defined."],
                     empty="no country ETF studied, so the groups are not compared")

    def group_etfs(self, group: str) -> list[str]:
        """The studied ETFs of a group (``negotiators`` or ``retaliators``)."""
        codes = set(self.groups.get(group, []))
        return [e for e in self.etf_cars.index if self.info.at[e, "country"] in codes]

    def scatter_frame(self) -> pd.DataFrame:
        """ETF selloff CAR (percent) and announced rate (percent), rows with both."""
        if self.rates is None or self.etf_cars.empty:
            return pd.DataFrame(columns=["car", "rate"])
        return pd.concat([self.etf_cars[self.col("selloff", "selloff_window")].rename("car"),
                          self.rates["announced"].rename("rate")], axis=1).dropna()


#: Reader's names of the tariff measures.
MEASURE_LABELS: dict[str, str] = {
    "announced": "announced rate",
    "formula_unfloored": "formula, before floor and halving",
    "formula_aei": "formula, pass-through 0.945 (AEI)",
}


def _day0s(symbols: Sequence[str], event: EventRef, info: pd.DataFrame,
           events: pd.DataFrame | None) -> dict[str, pd.Timestamp]:
    return {s: align(event.event_id, info.at[s, "exchange_calendar"], events=events).day0
            for s in symbols}


def _cars(returns: pd.DataFrame, day0s: Mapping[str, pd.Timestamp],
          windows: Sequence[tuple[int, int]], estimation: tuple[int, int], notes: dict[str, str],
          what: str, short: dict[str, str]) -> pd.DataFrame:
    """market_cars on the markets that have a return on their day 0 (the others get a note in
    ``notes``); a market whose data start inside the estimation window is estimated on what
    there is (the engine's minimum applies) and gets a note in ``short``."""
    ok = {}
    for s, d in day0s.items():
        col = returns[s] if s in returns.columns else pd.Series(dtype=float)
        if d not in col.index or not np.isfinite(col.get(d, np.nan)):
            notes[s] = (f"no return on its {what} day 0 ({d:%Y-%m-%d}): the market did not trade "
                        "or the data have no close that day")
        else:
            ok[s] = d
    wins = list(dict.fromkeys(tuple(w) for w in windows))
    if not ok:
        return pd.DataFrame()
    want = estimation[1] - estimation[0] + 1
    for s, d in ok.items():
        own = returns[s].dropna()
        pos = int(own.index.get_loc(d))
        if pos + estimation[0] < 0:
            n = pos + estimation[1] + 1
            short.setdefault(s, f"estimated on {max(n, 0)} of {want} sessions before its {what} "
                             f"day 0 (its data start {own.index[0]:%Y-%m-%d})")
    table, excluded = crosssection.market_cars(returns, ok, wins, estimation=estimation)
    for r in excluded.itertuples():
        notes[str(r.security)] = f"{r.reason}: {r.detail}"
    return table.rename(columns=lambda c: f"{what} {c}")


def study_global(returns: pd.DataFrame, p: Mapping[str, Any], universe: pd.DataFrame,
                 events: pd.DataFrame | None = None, *, names: Mapping[str, str] | None = None,
                 measures: pd.DataFrame | None = None, rates: pd.DataFrame | None = None,
                 alpha: float = 0.05) -> GlobalStudy:
    """Run the whole cross-section for checked parameters ``p`` (see :data:`PARAMETERS`).

    ``returns``: simple returns (fractions), one column per symbol on its own sessions;
    ``universe``: ``data/universe.csv``; ``measures``: ``events.tariff_measures()`` and
    ``rates``: ``events.load_reciprocal_rates()`` (both loaded when omitted).
    """
    from tradeshock.events.rates import load_reciprocal_rates, tariff_measures

    measures = tariff_measures() if measures is None else measures
    rates = load_reciprocal_rates() if rates is None else rates
    indices, etfs = list(p["indices"]), list(p["etfs"])
    info = universe.drop_duplicates("symbol").set_index("symbol").loc[
        list(dict.fromkeys(indices + etfs))]
    names = dict(names or {s: str(info.at[s, "name"]) for s in info.index})
    w = {k: tuple(p[k]) for k in ("selloff_window", "rebound_window", "negotiation_window",
                                  "estimation_window")}
    day0 = {"selloff": _day0s(indices + etfs, p["selloff_event"], info, events),
            "rebound": _day0s(indices + etfs, p["rebound_event"], info, events)}
    notes: dict[str, str] = {}
    short: dict[str, str] = {}
    est = w["estimation_window"]

    def both(syms: list[str], reb_windows: list[tuple[int, int]]) -> pd.DataFrame:
        if not syms:
            return pd.DataFrame()
        sell = _cars(returns, {s: day0["selloff"][s] for s in syms}, [w["selloff_window"]], est,
                     notes, "selloff", short)
        reb = _cars(returns, {s: day0["rebound"][s] for s in syms}, reb_windows, est, notes,
                    "rebound", short)
        kept = [s for s in syms if s in sell.index and s in reb.index]
        return pd.concat([sell.reindex(kept), reb.reindex(kept)], axis=1)

    study = GlobalStudy(p["selloff_event"], p["rebound_event"], p.get("retaliation_event"), w,
                        indices, etfs, names, info, day0,
                        both(indices, [w["rebound_window"]]),
                        both(etfs, [w["rebound_window"], w["negotiation_window"]]), notes,
                        alpha=alpha)
    study.short = short
    groups = {"negotiators": list(p["negotiators"]), "retaliators": list(p["retaliators"])}
    study.groups = groups
    study.group_names = country_names(groups["negotiators"] + groups["retaliators"], rates)
    if not study.etf_cars.empty:
        study.rates = crosssection.country_rates(info.loc[study.etf_cars.index, "country"],
                                                 measures)
        study.slopes = crosssection.tariff_slopes(
            study.etf_cars[study.col("selloff", "selloff_window")], study.rates)
        study.welch = _welch(study)
        cal = info.at[study.etf_cars.index[0], "exchange_calendar"]
        a = align(study.rebound.event_id, cal, events=events)
        study.neg_sessions = list(event_window(a, cal, w["negotiation_window"])["session"])
    return study


def _welch(study: GlobalStudy) -> pd.DataFrame:
    neg, ret = study.group_etfs("negotiators"), study.group_etfs("retaliators")
    rows = []
    windows = ["rebound_window"] + (["negotiation_window"] if study.windows["negotiation_window"]
                                    != study.windows["rebound_window"] else [])
    for win in windows:
        c = study.col("rebound", win)
        t = crosssection.welch_test(study.etf_cars.loc[neg, c], study.etf_cars.loc[ret, c])
        rows.append(pd.Series(t, name=f"rebound {study.wl(win)}"))
    out = pd.DataFrame(rows)
    out.index.name = "window"
    out.attrs["windows"] = windows
    return out


def chart_span(study: GlobalStudy, before_days: int = 30,
               after_days: int = 51) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """(first date, last date, rebase date) of the level chart: ``before_days`` calendar days
    before the shock's announcement to ``after_days`` after the rebound's, rebased to the last
    close before the shock's announcement date."""
    first = min(study.selloff.date, study.rebound.date)
    last = max(study.selloff.date, study.rebound.date)
    return (first - pd.Timedelta(days=before_days), last + pd.Timedelta(days=after_days),
            study.selloff.date - pd.Timedelta(days=1))


def as_of_summary(last: Mapping[str, Any], names: Mapping[str, str] | None = None,
                  listed: int = 3) -> str:
    """The data's as-of date in a few words: the date most series end on, then the series that
    end earlier (``"2026-09-25; 2 series end earlier: CAC 40 (2026-02-20), FTSE 100
    (2026-02-20)"``), at most ``listed`` of them by name (the earliest) and how many more.
    When every series ends on a different date, the latest is the common one."""
    if not last:
        return "no data"
    names = names or {}
    dates = pd.Series({k: pd.Timestamp(v) for k, v in last.items()})
    counts = dates.value_counts()
    top = int(counts.max())
    common = max(d for d in counts.index if counts[d] == top) if top > 1 else dates.max()
    early = dates[dates < common].sort_values(kind="stable")
    if early.empty:
        return f"{common:%Y-%m-%d}"
    shown = [f"{names.get(k, k)} ({d:%Y-%m-%d})" for k, d in early.iloc[:listed].items()]
    more = len(early) - len(shown)
    tail = ", ".join(shown) + (f" and {more} more" if more else "")
    verb = "series ends" if len(early) == 1 else "series end"
    return f"{common:%Y-%m-%d}; {len(early)} {verb} earlier: {tail}"


def lead(study: GlobalStudy, as_of: str | Mapping[str, Any]) -> str:
    """The first line of the report: what is studied, with which data (``as_of``: a text, or
    each series' last date, summarised by :func:`as_of_summary`)."""
    def n(k: int, one: str, many: str) -> str:
        return f"{k} {one if k == 1 else many}"

    if not isinstance(as_of, str):
        as_of = as_of_summary(as_of, study.names)

    return (f"**{n(len(study.indices), 'national index', 'national indices')} and "
            f"{n(len(study.etfs), 'country ETF', 'country ETFs')}** "
            f"around {study.selloff.label} (selloff, CAR {study.wl('selloff_window')}) and "
            f"{study.rebound.label} (rebound, CAR {study.wl('rebound_window')}); constant-mean "
            f"model estimated over {study.wl('estimation_window')}; data to {as_of}.")


# ------------------------------------------------------------------------------------ narrative
def _selloff_text(s: GlobalStudy) -> str:
    sc, sp = s.col("selloff", "selloff_window"), s.col("selloff", "selloff_window", "p")
    wl, f = s.wl("selloff_window"), s.index_cars
    if f.empty:
        text = f"* **Selloff.** No national index could be studied around {s.selloff.label}."
    elif len(f) == 1:
        sym = f.index[0]
        text = (f"* **Selloff.** The only national index studied, {s.names.get(sym, sym)}, had a "
                f"CAR of {_pp(f.at[sym, sc])} over {wl} of its own sessions after "
                f"{s.selloff.label} ({_p(f.at[sym, sp])}).")
    else:
        worst, best = f[sc].idxmin(), f[sc].idxmax()
        text = (f"* **Selloff.** {int((f[sc] < 0).sum())} of {len(f)} national indices had a "
                f"negative CAR over {wl} of their own sessions after {s.selloff.label} "
                f"({int((f[sp] < s.alpha).sum())} with p < {s.alpha:g} in the CAR t test); the "
                f"{'largest fall' if f.at[worst, sc] < 0 else 'smallest rise'} was "
                f"{s.names.get(worst, worst)} ({_pp(f.at[worst, sc])}), the "
                f"{'smallest fall' if f.at[best, sc] < 0 else 'largest rise'} "
                f"{s.names.get(best, best)} ({_pp(f.at[best, sc])}).")
    e = s.etf_cars
    if len(e) == 1:
        we = e.index[0]
        text += (f" The only country ETF studied, {short_name(s.names.get(we, we))} ({we}), had "
                 f"a CAR of {_pp(e.at[we, sc])} ({_p(e.at[we, sp])}).")
    elif not e.empty:
        we = e[sc].idxmin()
        text += (f" {int((e[sc] < 0).sum())} of {len(e)} country ETFs had a negative CAR "
                 f"(lowest: {short_name(s.names.get(we, we))}, {we}, {_pp(e.at[we, sc])}).")
    return text


def _rebound_text(s: GlobalStudy) -> str:
    rc = s.col("rebound", "rebound_window")
    parts = []
    for f, what, verb in ((s.index_cars, "index", " was"), (s.etf_cars, "country-ETF", "")):
        if len(f) == 1:
            sym = f.index[0]
            name = s.names.get(sym, sym) if what == "index" else short_name(s.names.get(sym, sym))
            parts.append(f"the CAR of {name} ({sym}){verb} {_pp(f.at[sym, rc])}")
        elif len(f):
            parts.append(f"the median {what} CAR{verb} {_pp(f[rc].median())}")
    if not parts:
        return f"* **Rebound.** No market could be studied around {s.rebound.label}."
    return (f"* **Rebound.** Over {s.wl('rebound_window')} of {s.rebound.label} "
            f"{' and '.join(parts)}.")


def _tariff_text(s: GlobalStudy) -> str:
    from tradeshock.events.rates import FLOOR_PCT

    if s.slopes is None:
        return "* **Tariff rate.** No country ETF was studied, so no slope is estimated."
    if not np.isfinite(s.slopes.iloc[:, 0].astype(float)).any():
        k = int(s.slopes["n"].max()) if len(s.slopes) else 0
        same = (s.rates is not None and k > 1
                and s.rates["announced"].dropna().nunique() <= 1)
        return (f"* **Tariff rate.** With {k} country ETF{'s' if k != 1 else ''} with a tariff "
                f"rate{', all at the same announced rate' if same else ''}, no slope of the "
                f"selloff CAR ({s.wl('selloff_window')}) on the rate can be estimated.")
    out = []
    for m in s.slopes.index:
        r = s.slopes.loc[m]
        slope = r.iloc[0]
        lab = MEASURE_LABELS.get(m, m)
        if not np.isfinite(slope):
            out.append(f"with the {lab} not estimable (N = {int(r['n'])})")
        else:
            out.append(f"with the {lab} {slope:+.2f} pp (HC3 se {r['se']:.2f}, {_p(r['p'])}, "
                       f"N = {int(r['n'])}, {int(r['n_dropped'])} dropped)")
    text = (f"* **Tariff rate.** Per 10 points of tariff the ETF selloff CAR "
            f"({s.wl('selloff_window')}) changed by: {'; '.join(out)}.")
    if s.rates is not None and "formula_aei" in s.slopes.index and np.isfinite(
            s.slopes.loc["formula_aei"].iloc[0]):
        k = int((s.rates["formula_aei"].dropna() > FLOOR_PCT).sum())
        text += (f" The AEI formula's slope rests on the {k} ETF{'s' if k != 1 else ''} above "
                 f"the {FLOOR_PCT:g}% floor.")
    return text


def _groups_text(s: GlobalStudy) -> str:
    neg, ret = s.group_etfs("negotiators"), s.group_etfs("retaliators")

    def who(g: str) -> str:
        codes = s.groups.get(g, [])
        return _join([s.group_names.get(c, c) for c in codes]) or "none listed"

    head = f"* **Negotiators ({who('negotiators')}) vs retaliators ({who('retaliators')}).**"
    missing = [g for g, etfs in (("negotiators", neg), ("retaliators", ret)) if not etfs]
    if missing or s.welch is None or s.welch.empty:
        return (f"{head} No country ETF of the {' or the '.join(missing or ['two groups'])} is "
                "among the ETFs studied, so the two groups are not compared.")
    wr = s.welch.iloc[0]
    text = (f"{head} Over {s.wl('rebound_window')} of {s.rebound.label} the negotiators' ETFs "
            f"(N = {len(neg)}) averaged {_pp(wr['mean_a'])} against {_pp(wr['mean_b'])} for the "
            f"retaliators' (N = {len(ret)})")
    small = [g for g, etfs in (("negotiators", neg), ("retaliators", ret)) if len(etfs) < 2]
    if small:
        text += (f"; Welch's test is not defined, since the {' and the '.join(small)} "
                 f"group{'s have' if len(small) > 1 else ' has'} a single ETF "
                 f"({', '.join((neg if g == 'negotiators' else ret)[0] for g in small)}): read "
                 "the difference only as a description.")
    else:
        text += f": Welch t = {wr['t']:.2f}, {_p(wr['p'])}."
    if len(s.welch) > 1:
        wn = s.welch.iloc[1]
        text += (f" Over {s.wl('negotiation_window')} {_pp(wn['mean_a'])} against "
                 f"{_pp(wn['mean_b'])}" + ("" if small else f" (t = {wn['t']:.2f}, {_p(wn['p'])})")
                 + ".")
    text += _caveat(s, neg, ret, small)
    return text + _gap_text(s)


def _caveat(s: GlobalStudy, neg: list[str], ret: list[str], small: list[str]) -> str:
    if small:
        return ""
    text = " With groups this small the test can detect only large differences"
    same = [(g, etfs) for g, etfs in (("retaliators", ret), ("negotiators", neg))
            if s.info.loc[etfs, "country"].nunique() == 1]
    if same:
        g, etfs = same[0]
        country = s.group_names.get(s.info.at[etfs[0], "country"], s.info.at[etfs[0], "country"])
        last = s.welch.iloc[-1]
        text += (f", and the {g}' group is {len(etfs)} ETFs of the same market ({country}: "
                 f"{', '.join(etfs)}) whose near-identical returns make its variance, and so the "
                 f"Welch p-value, much too small: read the difference ({last['diff']:+.2f} pp "
                 f"over {s.wl(s.welch.attrs['windows'][-1])}), not the p-value")
    return text + "."


def _gap_text(s: GlobalStudy) -> str:
    """What the sessions of the negotiation window outside the rebound window added."""
    (na, nb), (ra, rb) = s.windows["negotiation_window"], s.windows["rebound_window"]
    if len(s.welch) < 2 or not (na <= ra and rb <= nb):
        return ""
    wr, wn = s.welch.iloc[0], s.welch.iloc[1]
    other = [d for k, d in zip(range(na, nb + 1), s.neg_sessions) if not ra <= k <= rb]
    add_neg, add_ret = wn["mean_a"] - wr["mean_a"], wn["mean_b"] - wr["mean_b"]
    when = _join([f"{d:%-d %b}" for d in other])
    text = (f" The other sessions of the window ({when}) contributed {_pp(add_ret)} to the "
            f"retaliators' window CAR against {_pp(add_neg)} for the negotiators")
    gap_other, gap_reb = add_neg - add_ret, wr["mean_a"] - wr["mean_b"]
    where = ("in those sessions, not on the rebound day" if abs(gap_other) > abs(gap_reb)
             else "on the rebound day itself")
    after = ""
    r = s.retaliation
    if r is not None and other:
        cal = s.info.at[s.etf_cars.index[0], "exchange_calendar"]
        d0 = align(r.event_id, cal).day0
        first = s.day0["selloff"].get(s.etf_cars.index[0], min(other))
        if first <= d0 <= max(other):  # a retaliation before the shock is not cited
            after = (f" (after {r.label}, day 0 {d0:%-d %b} in New York)" if d0 < min(other)
                     else f" (from {r.label}, day 0 {d0:%-d %b} in New York)")
        elif d0 > max(other):
            after = f" ({r.label} came later, day 0 {d0:%-d %b} in New York)"
    return text + f": most of the gap opened {where}{after}."


def describe_global(study: GlobalStudy) -> str:
    """"What the data say" as Markdown bullets, every number taken from the study's tables."""
    parts = [_selloff_text(study), _rebound_text(study), _tariff_text(study),
             _groups_text(study)]
    gone = [f"{study.names.get(s, s)} ({why})" for s, why in study.notes.items()]
    if gone:
        parts.append("* **Not studied.** " + "; ".join(gone) + ".")
    short = [f"{study.names.get(s, s)} ({why})" for s, why in study.short.items()]
    if short:
        parts.append("* **Shorter estimation.** " + "; ".join(short) + ".")
    return "\n".join(parts)


# ------------------------------------------------------------------------------------ figures
def levels_figure(study: GlobalStudy, levels: pd.DataFrame) -> tuple[Any, Any]:
    """The national indices rebased to 100 on the last close before the shock's announcement,
    each on its own sessions, with both events marked (the caller adds the source line)."""
    from tradeshock.analyses.figures import plot_levels

    first, last, base = chart_span(study)
    marks = [(e.date, e.kind, e.title) for e in (study.selloff, study.rebound)]
    title = (f"National equity indices around {study.selloff.date:%-d %B} and "
             f"{study.rebound.date:%-d %B %Y}")
    fig, ax = plot_levels(levels[study.indices], title=title, ylabel="Index level, rebased",
                          yunits=f"last close before {study.selloff.date:%-d %B %Y} = 100",
                          names=study.names, start=first, end=last, rebase=base, events=marks)
    ax.legend(fontsize=7, ncol=3, loc="lower right")
    return fig, ax


def cars_figure(study: GlobalStudy) -> tuple[Any, Any]:
    """Selloff and rebound CAR of each national index, bars side by side (percent)."""
    from tradeshock.analyses.figures import new_figure

    f = study.index_cars
    fig, ax = new_figure(title="Selloff and rebound CAR of national indices (each at its own "
                         "day 0)", xlabel="Index", ylabel="Cumulative abnormal return",
                         yunits="percent")
    x = np.arange(len(f))
    for shift, what, win, ev in ((-0.2, "selloff", "selloff_window", study.selloff),
                                 (0.2, "rebound", "rebound_window", study.rebound)):
        ax.bar(x + shift, f[study.col(what, win)] if len(f) else [], 0.4,
               label=f"{what}: {study.wl(win)} after {ev.date:%-d %b %Y}")  # each day 0
    ax.set_xticks(x, [study.names.get(s, s) for s in f.index], rotation=30, ha="right")
    ax.axhline(0, color="black", lw=0.6)
    ax.legend(fontsize=8)
    return fig, ax


def scatter_figure(study: GlobalStudy) -> tuple[Any, Any]:
    """ETF selloff CAR against the announced reciprocal rate, OLS line, labels that do not
    overlap (:func:`tradeshock.analyses.labels.annotate_points`)."""
    from tradeshock.analyses.figures import new_figure
    from tradeshock.analyses.labels import annotate_points

    d = study.scatter_frame()
    fig, ax = new_figure(title=f"Country ETFs: CAR after {study.selloff.date:%-d %B %Y} against "
                         "the announced reciprocal rate", xlabel="Announced reciprocal tariff rate",
                         xunits="percent", ylabel=f"CAR, {study.wl('selloff_window')} (New York)",
                         yunits="percent", figsize=(9, 6))
    if d.empty:  # nothing to plot: say so on the axes, not an empty grid with made-up ticks
        ax.text(0.5, 0.5, "No country ETF with a reciprocal rate was studied",
                transform=ax.transAxes, ha="center", va="center", color="#555555")
        ax.set_xticks([])
        ax.set_yticks([])
        return fig, ax
    ax.scatter(d["rate"], d["car"], color="#1f77b4", s=18)
    if study.slopes is not None and len(d) >= 3 and d["rate"].nunique() > 1:
        fit = crosssection.ols_hc3(d["car"], d["rate"])
        r = study.slopes.loc["announced"]
        xs = np.linspace(d["rate"].min(), d["rate"].max(), 50)
        ax.plot(xs, fit.params[0] + fit.params[1] * xs, color="#d62728",
                label=f"OLS: {r.iloc[0]:+.2f} pp per 10 pts (HC3 se {r['se']:.2f}, "
                      f"{_p(r['p'])}, N = {int(r['n'])})")
        ax.legend(fontsize=8, loc="lower left")
    annotate_points(ax, d["rate"], d["car"], list(d.index))
    return fig, ax
