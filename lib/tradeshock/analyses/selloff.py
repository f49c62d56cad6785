"""Selloff and rebound across assets (the ``05_selloff_rebound`` notebook).

A *selloff event* and a *rebound event* of the calendar (by default Liberation Day, 2 April 2025,
and the 9 April pause) fix every date of the report, on the exchange calendar of the first index
(the *reference calendar*, XNYS for US indices):

* the **selloff sessions** run from the selloff's day 0 (the first session that trades after the
  announcement) to the session before the rebound's day 0, or ``selloff_sessions`` of them; the
  **rebound sessions** are ``rebound_sessions`` sessions from the rebound's day 0; both keep only
  sessions that every index's exchange trades (an event-day dummy needs a return in each);
* the **pre-event close** (drawdown reference) is the session before the selloff's day 0 on each
  index's own exchange calendar; the trough is looked for up to day ``+trough_within``;
* **checkpoints** are events (the close of their day 0), session offsets from the selloff's day 0
  (``18`` or ``"+18"``), ISO dates, or ``"end"`` (each series' last close); labels are the dates;
* the daily cross-asset table and the post-shock correlation period are windows of sessions
  relative to the selloff's day 0; the estimation period is the ``estimation_sessions`` sessions
  ending on the pre-event close.

Refused before any work (the contract): indices on exchanges where either event has a different
day 0 (one set of event-day dummies would put one market's rebound on another's selloff day; give
``selloff_days`` and ``rebound_days`` to override), a non-price series leading ``cross_assets``, a
post-shock period under 3 sessions, two checkpoints on one date, and a trough search or checkpoint
window the data cannot fill (a checkpoint after a series' data end gets a note, never the last
close in its place). The market proxy is loaded only for ``model = "market"``.

Raw dates (``reference_date``, ``selloff_days``, ``rebound_days``) remain possible as optional
overrides. Drawdowns follow the one rule of :func:`tradeshock.analyses.anatomy.drawdown_table`
(a checkpoint before the trough is a note, not a crash). Event-dummy regressions (Karafiath 1988)
and their SUR system (Binder 1985) come from :mod:`tradeshock.engine.regression`.

Units: returns and abnormal returns are simple returns as fractions in frames, percent in tables
and text; yield changes in basis points; drawdowns and recovered shares in percent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.analyses import crossasset
from tradeshock.analyses.anatomy import drawdown_table
from tradeshock.analyses.contract import (
    Choice,
    Contract,
    Date,
    Event,
    EventRef,
    History,
    Integer,
    Param,
    Symbol,
    Symbols,
    Window,
    _as_list,
    _Bad,
    _Context,
)
from tradeshock.core.tables import Table
from tradeshock.data.universe import exchange_calendar_of
from tradeshock.engine import regression
from tradeshock.errors import StudyError
from tradeshock.events import align, get_calendar

__all__ = ["PARAMETERS", "SHORT_NAMES", "Checkpoints", "Dates", "Plan", "SelloffStudy",
           "make_plan", "run", "rebased_figure", "correlation_figure", "describe"]

#: Short labels of the daily table and correlation figure (others use the display name).
SHORT_NAMES: dict[str, str] = {
    "^GSPC": "S&P 500", "^IXIC": "Nasdaq Comp.", "^DJI": "Dow", "^RUT": "Russell 2000",
    "DX-Y.NYB": "DXY", "DTWEXBGS": "Broad dollar", "DGS10": "10y yield", "GC=F": "Gold fut.",
    "GLD": "Gold (GLD)", "CL=F": "WTI fut.", "DCOILWTICO": "WTI spot"}


# ------------------------------------------------------------------------------ parameter types
@dataclass(frozen=True)
class Dates(Param):
    """A list of ISO dates (session dates), at least ``min_items`` long, in increasing order."""

    min_items: int = 1

    def parse(self, value: Any, ctx: _Context) -> list[pd.Timestamp]:
        if isinstance(value, str) and value.strip().startswith("["):
            value = _as_list(value, self.name)  # papermill -p NAME '["2025-04-03"]'
        items = [value] if isinstance(value, str) and "," not in value else value
        if isinstance(items, str):
            items = [v.strip() for v in items.split(",") if v.strip()]
        if not isinstance(items, (list, tuple)):
            raise _Bad(f"is a {type(value).__name__}, not a list of dates",
                       "write a list such as ['2025-04-03', '2025-04-04']")
        if len(items) < self.min_items:
            raise _Bad("is empty", f"list at least {self.min_items} date")
        out = [Date.parse(self, v, ctx) for v in items]
        if out != sorted(set(out)):
            raise _Bad("is not in increasing order without repeats",
                       "list each date once, in order")
        return out


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint as given: ``kind`` is ``event``, ``offset``, ``date`` or ``end``."""

    kind: str
    value: Any


@dataclass(frozen=True)
class Checkpoints(Param):
    """Where the share of the loss recovered is measured: a list of events (ids or short names;
    ``"rebound"`` is the rebound event), session offsets from the selloff's day 0 (``19`` or
    ``"+19"``), ISO dates, or ``"end"`` (each series' last close)."""

    def parse(self, value: Any, ctx: _Context) -> list[Checkpoint]:
        from tradeshock.analyses.contract import _event_ref
        from tradeshock.events.schema import is_iso_date

        if isinstance(value, str) and value.strip().startswith("["):
            items: list = _as_list(value, self.name)  # papermill -p NAME '["rebound", 18]'
        elif isinstance(value, str):
            items = [v.strip() for v in value.split(",") if v.strip()]
        else:
            items = list(value) if isinstance(value, (list, tuple)) else [value]
        if not items:
            raise _Bad("is empty", "list at least one checkpoint, e.g. ['rebound', 19, 'end']")
        out, bad = [], []
        for i, v in enumerate(items):
            text = str(v).strip()
            if isinstance(v, bool):
                bad.append(f"item {i + 1} = {v!r}")
            elif isinstance(v, int) or text.lstrip("+").isdigit():
                out.append(Checkpoint("offset", int(text)))
            elif text in ("end", "rebound"):
                out.append(Checkpoint(text if text == "end" else "event", text))
            elif is_iso_date(text[:10]) and len(text) == 10:
                out.append(Checkpoint("date", pd.Timestamp(text)))
            else:
                try:
                    out.append(Checkpoint("event", _event_ref(text, ctx)))
                except _Bad as exc:
                    bad.append(f"item {i + 1} {exc.what}")
        if bad:
            raise _Bad("; ".join(bad), "give events, session offsets (e.g. 19), ISO dates or "
                       "'end'")
        if len(set(out)) != len(out):
            raise _Bad("lists a checkpoint twice", "list each checkpoint once")
        return out


# ------------------------------------------------------------------------------ the plan
def _sessions(code: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(get_calendar(code).sessions)


class _Outside(StudyError):
    """A session offset beyond the exchange calendar; ``param`` names the parameter."""

    def __init__(self, param: str, text: str):
        super().__init__(text)
        self.param = param


def _at(sessions: pd.DatetimeIndex, day0: pd.Timestamp, offset: int,
        param: str = "") -> pd.Timestamp:
    here = int(sessions.get_loc(day0))
    pos = here + int(offset)
    if not 0 <= pos < len(sessions):
        room = here if offset < 0 else len(sessions) - 1 - here
        raise _Outside(param, f"reaches session {offset:+d} from day 0 {day0:%Y-%m-%d}, but the "
                       f"exchange calendar runs from {sessions[0]:%Y-%m-%d} to "
                       f"{sessions[-1]:%Y-%m-%d} ({room} sessions on that side of day 0)")
    return sessions[pos]


@dataclass
class Plan:
    """Every date of the report, derived from the events and the exchange calendars."""

    calendar: str
    selloff: EventRef
    rebound: EventRef
    selloff_day0: pd.Timestamp
    rebound_day0: pd.Timestamp
    references: dict[str, pd.Timestamp]
    selloff_days: list[pd.Timestamp]
    rebound_days: list[pd.Timestamp]
    trough_by: pd.Timestamp
    checkpoints: dict[str, pd.Timestamp | None]
    table: tuple[pd.Timestamp, pd.Timestamp]
    post: tuple[pd.Timestamp, pd.Timestamp]
    estimation: tuple[pd.Timestamp, pd.Timestamp]
    estimation_sessions: int
    #: checkpoints given twice in other words (``"rebound"`` and the offset of its day 0)
    same_checkpoints: list[str] = field(default_factory=list)

    @property
    def reference(self) -> pd.Timestamp:
        """The pre-event close on the reference calendar."""
        return self.references[self.calendar]

    @property
    def post_label(self) -> str:
        a, b = self.post
        return f"{a:%-d %b}–{b:%-d %b}" if a.year == b.year else f"{a:%-d %b %Y}–{b:%-d %b %Y}"

    def day_label(self, d: pd.Timestamp) -> str:
        return f"{d:%d %b}"

    def text(self) -> str:
        """The dates of the report as one Markdown paragraph."""
        sd = ", ".join(f"{d:%-d %b}" for d in self.selloff_days)
        rd = ", ".join(f"{d:%-d %b}" for d in self.rebound_days)
        e0, e1 = self.estimation
        return (f"**Selloff**: {self.selloff.label}, day 0 {self.selloff_day0:%Y-%m-%d} on "
                f"{self.calendar}; selloff sessions {sd} {self.selloff_day0:%Y}. **Rebound**: "
                f"{self.rebound.label}, day 0 {self.rebound_day0:%Y-%m-%d}; rebound sessions {rd}. "
                f"Pre-event close {self.reference:%Y-%m-%d}; trough looked for up to "
                f"{self.trough_by:%Y-%m-%d}. Estimation period: {e0:%Y-%m-%d} to {e1:%Y-%m-%d} "
                f"({self.estimation_sessions} {self.calendar} sessions ending on the pre-event "
                "close).")


def _selloff_days(p: Mapping[str, Any], sessions, s0, r0) -> list[pd.Timestamp]:
    if p.get("selloff_days"):
        return list(p["selloff_days"])
    if p.get("selloff_sessions"):
        return [_at(sessions, s0, k) for k in range(int(p["selloff_sessions"]))]
    return list(sessions[(sessions >= s0) & (sessions < r0)])


def make_plan(p: Mapping[str, Any], events: pd.DataFrame, universe: pd.DataFrame) -> Plan:
    """The dates of the report from checked parameters ``p`` (see the module docstring)."""
    cal = exchange_calendar_of(p["indices"][0], universe)
    sess = _sessions(cal)
    s0 = align(p["selloff_event"].event_id, cal, events=events).day0
    r0 = align(p["rebound_event"].event_id, cal, events=events).day0
    refs = {}
    for code in dict.fromkeys([cal] + [exchange_calendar_of(s, universe) for s in p["indices"]]):
        own = _sessions(code)
        d0 = align(p["selloff_event"].event_id, code, events=events).day0
        refs[code] = p.get("reference_date") or _at(own, d0, -1)
    # event days must be sessions of every index's exchange (a dummy needs a return in each)
    codes = list(refs)
    common = sess
    for code in codes[1:]:
        common = common.intersection(_sessions(code))
    reb = (list(p["rebound_days"]) if p.get("rebound_days") else
           [_at(common, common[common >= r0][0], k, "rebound_sessions")
            for k in range(int(p["rebound_sessions"]))])
    checkpoints: dict[str, pd.Timestamp | None] = {}
    same: list[str] = []
    for c in p["checkpoints"]:
        if c.kind == "end":
            checkpoints["end of data"] = None
            continue
        if c.kind == "event":
            ref = p["rebound_event"] if c.value == "rebound" else c.value
            d = align(ref.event_id, cal, events=events).day0
        elif c.kind == "offset":
            d = _at(sess, s0, c.value, "checkpoints")
        else:
            d = c.value
        label = f"{d:%-d %b}" if d.year == s0.year else f"{d:%-d %b %Y}"
        if label in checkpoints:
            given = f"{c.value:%Y-%m-%d}" if c.kind == "date" else str(c.value)
            same.append(f"{given} ({label})")
        checkpoints[label] = d
    checkpoints = dict(sorted(checkpoints.items(), key=lambda kv: (kv[1] is None, kv[1])))
    tw, pw, n = p["table_window"], p["post_window"], int(p["estimation_sessions"])
    if p.get("reference_date"):
        est = (_at(sess, sess[sess <= p["reference_date"]][-1], 1 - n, "estimation_sessions"),
               sess[sess <= p["reference_date"]][-1])
    else:
        est = (_at(sess, s0, -n, "estimation_sessions"), _at(sess, s0, -1))
    return Plan(cal, p["selloff_event"], p["rebound_event"], s0, r0, refs,
                [d for d in _selloff_days(p, sess, s0, r0)
                 if p.get("selloff_days") or d in common], reb,
                _at(sess, s0, p["trough_within"], "trough_within"), checkpoints,
                (_at(sess, s0, tw[0], "table_window"), _at(sess, s0, tw[1], "table_window")),
                (_at(sess, s0, pw[0], "post_window"), _at(sess, s0, pw[1], "post_window")),
                est, n, same)


def _calendar_problems(p: Mapping[str, Any], plan: Plan) -> list[tuple[str, str, str]]:
    """Indices whose exchanges put an event's day 0 on different dates cannot share one set of
    event-day dummies (one market's rebound day would be another's selloff day)."""
    if p.get("selloff_days") and p.get("rebound_days") or len(plan.references) < 2:
        return []
    from tradeshock.events import load_events

    ev = load_events()
    out = []
    for what, ref in (("selloff", plan.selloff), ("rebound", plan.rebound)):
        d0 = {code: align(ref.event_id, code, events=ev).day0 for code in plan.references}
        if len(set(d0.values())) > 1:
            by = "; ".join(f"{', '.join(s for s in p['indices'] if _cal(s) == code)} ({code}) "
                           f"day 0 {d:%Y-%m-%d}" for code, d in d0.items())
            out.append(("indices", f"mix exchanges on which the {what} event ({ref.label}) has "
                        f"different days 0: {by}; one set of event-day dummies would put one "
                        f"market's {what} session on another's wrong day",
                        "study indices of exchanges that share both events' day 0 in one run "
                        "(render the others separately), or give selloff_days and rebound_days"))
    return out


def _cal(symbol: str) -> str:
    return exchange_calendar_of(symbol)


def _order_problems(p: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Contract check: the selloff comes before the rebound, the days do not overlap."""
    from tradeshock.data.universe import load_universe
    from tradeshock.events import load_events

    try:
        plan = make_plan(p, load_events(), load_universe())
    except _Outside as exc:
        return [(exc.param, f"= {p[exc.param]!r} {exc}", "give a smaller value (the data may "
                 "cover even less: `tradeshock data status` lists each series' range)")]
    out = _calendar_problems(p, plan)
    if plan.rebound_day0 <= plan.selloff_day0 and not p.get("rebound_days"):
        out.append(("rebound_event", f"= {plan.rebound.label} has day 0 "
                    f"{plan.rebound_day0:%Y-%m-%d}, not after the selloff's day 0 "
                    f"{plan.selloff_day0:%Y-%m-%d} on {plan.calendar}",
                    "choose a rebound event after the selloff event"))
        return out  # the selloff sessions follow from the order: no second, derived problem
    if plan.same_checkpoints:
        out.append(("checkpoints", f"name a date twice: {', '.join(plan.same_checkpoints)} falls "
                    "on a date another checkpoint already names", "list each date once"))
    pw = p["post_window"]
    if pw[1] - pw[0] < 2:
        out.append(("post_window", f"= {pw[0]}:{pw[1]} has {pw[1] - pw[0] + 1} session(s); a "
                    "correlation needs at least 3 common dates", "give at least 3 sessions, "
                    "e.g. 0:18"))
    if not plan.selloff_days:
        out.append(("selloff_sessions", "leaves no selloff session",
                    "give selloff_sessions or a later rebound event"))
    elif plan.rebound_days[0] <= plan.selloff_days[-1]:
        out.append(("selloff_sessions", f"make the selloff run to "
                    f"{plan.selloff_days[-1]:%Y-%m-%d}, into the rebound sessions (from "
                    f"{plan.rebound_days[0]:%Y-%m-%d})", "give fewer selloff sessions"))
    if plan.selloff_days and plan.reference >= plan.selloff_days[0]:
        out.append(("reference_date", f"{plan.reference:%Y-%m-%d} is not before the first "
                    "selloff session", "give the last close before the selloff"))
    lead = p["cross_assets"][0]
    uni = load_universe().set_index("symbol")
    if lead in uni.index and uni.at[lead, "measure"] != "simple_return":
        out.append(("cross_assets", f"starts with {lead!r}, a {uni.at[lead, 'measure']} series; "
                    "the first series is the one the others are correlated with and the 'sell "
                    "America' test reads as stocks", "put an equity index or another price series "
                    f"first, e.g. [{p['indices'][0]!r}, {lead!r}, ...]"))
    if p["model"] == "market" and p["market_symbol"] in p["indices"]:
        out.append(("market_symbol", f"= {p['market_symbol']!r} is also one of the indices (its "
                    "abnormal return would be zero by construction)",
                    "choose another market proxy (e.g. ACWI) or model = 'mean'"))
    return out


#: What the parameters of ``notebooks/05_selloff_rebound.ipynb`` must be.
PARAMETERS = Contract(
    "05_selloff_rebound",
    [
        Symbols("indices", help="equity indices of data/universe.csv", priced=True,
                exchange=True),
        Symbols("cross_assets", help="series of the 'sell America' set (equity first)",
                min_items=2),
        Event("selloff_event", help="the event that started the selloff"),
        Event("rebound_event", help="the event of the rebound"),
        Integer("selloff_sessions", help="selloff sessions from day 0 (None: up to the "
                "rebound)", optional=True, lo=1, hi=60),
        Integer("rebound_sessions", help="rebound sessions from the rebound's day 0", lo=1,
                hi=20),
        Integer("trough_within", help="sessions after the selloff's day 0 to look for the trough",
                lo=1, hi=500),
        Checkpoints("checkpoints", help="events, session offsets, ISO dates or 'end'"),
        Window("table_window", help="sessions of the daily table", lo=-60, hi=250),
        Window("post_window", help="sessions of the post-shock correlation period", lo=0,
               hi=500),
        Integer("estimation_sessions", help="sessions ending on the pre-event close", lo=30),
        Choice("model", help="mean or market", choices=("mean", "market")),
        Symbol("market_symbol", help="the market proxy of model 'market'", priced=True,
               used_if=("model", "market")),
        Date("reference_date", help="a pre-event close date (override)", optional=True),
        Dates("selloff_days", help="selloff session dates (override)", optional=True),
        Dates("rebound_days", help="rebound session dates (override)", optional=True),
    ],
    history=[History(("indices", "cross_assets", "market_symbol"), ("selloff_event",),
                     ("table_window", "post_window"), sessions_before=("estimation_sessions",)),
             # the trough is looked for in the indices' data: never past their end
             History(("indices",), ("selloff_event",), (), sessions_after=("trough_within",))],
    checks=[_order_problems],
)


# ------------------------------------------------------------------------------ the study
@dataclass
class SelloffStudy:
    """Everything the report shows (see :func:`run`)."""

    plan: Plan
    indices: list[str]
    cross_assets: list[str]
    names: dict[str, str]
    short: dict[str, str]
    drawdowns: pd.DataFrame
    moves: pd.DataFrame
    columns: dict[str, str]
    measures: dict[str, str]
    groups: dict[str, str]
    periods: dict[str, tuple]
    common: dict[str, tuple[int, list[pd.Timestamp]]]
    matrices: dict[str, pd.DataFrame]
    pairs: pd.DataFrame
    gammas: pd.DataFrame
    wald: pd.DataFrame
    sur: Any = None
    notes: list[str] = field(default_factory=list)
    model: str = "mean"
    market: str = ""

    @property
    def lead(self) -> str:
        return self.indices[0]

    @property
    def sell_labels(self) -> list[str]:
        return [self.plan.day_label(d) for d in self.plan.selloff_days]

    @property
    def rebound_labels(self) -> list[str]:
        return [self.plan.day_label(d) for d in self.plan.rebound_days]

    # ---- tables
    def drawdown_table(self) -> Table:
        """Drawdown, trough and recovery per index (percent; dates as YYYY-MM-DD)."""
        f = self.drawdowns.rename(index=self.names)
        formats = {c: "date" for c in f.columns if c.endswith("date") or c.startswith("regained")
                   or c == "data end"}
        formats.update({c: "num:2" for c in f.columns if c.endswith("close")
                        or c.endswith("(%)") or c.endswith("(% of loss)")})
        formats["note"] = "text"
        return Table(f, caption="Drawdown from the pre-event close and share of the loss "
                     "recovered, per index", formats=formats,
                     notes=["Recovered share = 100 x (close - trough) / (pre-event close - "
                            "trough), last close on or before each checkpoint; 0 = still at the "
                            "trough, 100 = back at the pre-event close."])

    def daily_table(self) -> Table:
        a, b = self.plan.table
        d = self.moves.loc[a:b].copy()
        d.index = d.index.strftime("%a %d %b")
        d.index.name = "date"
        return Table(d, caption=f"Daily moves, {a:%-d %b} to {b:%-d %b %Y}: percent (yields: bp)",
                     formats={c: ("num:1" if c.endswith("(bp)") else "num:2") for c in d.columns})

    def correlation_tables(self) -> list[Table]:
        return [Table(m, caption=f"Correlation matrix, {label} (n = {m.attrs['n']} common dates)",
                      formats=dict.fromkeys(m.columns, "num:2"))
                for label, m in self.matrices.items()]

    def pairs_table(self) -> Table:
        f = self.pairs.copy()
        f.index = [b for _, b in f.index]
        f.index.name = f"with {self.columns[self.cross_assets[0]]}"
        return Table(f, caption=f"Correlation with {self.short[self.cross_assets[0]]} daily "
                     "moves, per period", formats={c: ("int" if c.startswith("n (") else "num:2")
                                                   for c in f.columns})

    def common_dates_text(self) -> str:
        lines = []
        for label, (n, dropped) in self.common.items():
            eg = (f" (e.g. {', '.join(f'{d:%Y-%m-%d}' for d in dropped[:4])})" if dropped
                  else "")
            lines.append(f"{label}: {n} common dates; {len(dropped)} dates dropped because some "
                         f"series had no value{eg}")
        return "\n".join(lines)

    def gamma_table(self) -> Table:
        cols = list(self.gammas.columns)
        model = ("constant-mean model" if self.model == "mean" else
                 f"market model against {self.names.get(self.market, self.market)}")
        return Table(self.gammas, caption=f"Abnormal return per event day ({model}): γ in "
                     "percent, and its t",
                     formats=dict.fromkeys(cols, "num:2"),
                     labels={c: (f"γ {c[1]} (%)" if c[0].startswith("γ") else f"t {c[1]}")
                             for c in cols})

    def wald_table(self) -> Table:
        return Table(self.wald, caption="Joint Wald tests per index (χ²): selloff days all zero; "
                     "full reversal (net CAR = 0)",
                     formats={"selloff = 0: χ²": "num:3", "df": "int", "p": "p:4",
                              "net CAR (%)": "num:3", "se (%)": "num:3",
                              "full reversal: χ²": "num:3", "p (reversal)": "p:4",
                              "estimation obs": "int"})

    def sur_tables(self) -> list[Table]:
        if self.sur is None:
            return []
        res = self.sur
        sg = res.gammas.assign(g=lambda d: 100 * d["gamma"]).pivot(index="day", columns="series",
                                                                   values="g")
        sg = sg.reindex(index=self.sell_labels + self.rebound_labels, columns=self.indices)
        sg = sg.rename(columns=self.short)
        jz = res.wald_joint_zero(self.sell_labels)
        fr = res.wald_full_reversal(self.sell_labels, self.rebound_labels)
        n = len(self.indices)
        tests = pd.DataFrame([
            {"null hypothesis": f"all selloff γ = 0, all {n} indices", "χ²": jz.stat,
             "df": jz.df, "p": jz.pval},
            {"null hypothesis": "full reversal in every index", "χ²": fr.stat, "df": fr.df,
             "p": fr.pval}]).set_index("null hypothesis")
        by = res.wald_full_reversal_by_series(self.sell_labels, self.rebound_labels)
        by = pd.DataFrame({"net CAR (%)": 100 * by["net_car"].to_numpy(),
                           "se (%)": 100 * by["se"].to_numpy(), "χ²": by["stat"].to_numpy(),
                           "p": by["p"].to_numpy()},
                          index=[self.short.get(s, s) for s in by["series"]])
        return [Table(sg, caption="Abnormal returns γ (percent), SUR",
                      formats=dict.fromkeys(sg.columns, "num:2")),
                Table(tests, caption="Joint tests across the indices (SUR, Binder 1985)",
                      formats={"χ²": "num:2", "df": "int", "p": "p:4"}),
                Table(by, caption="Full reversal per index in the system",
                      formats={"net CAR (%)": "num:3", "se (%)": "num:3", "χ²": "num:3",
                               "p": "p:4"})]

    def sur_note(self) -> str:
        if self.sur is None:
            return "; ".join(self.notes) or "No SUR system: it needs at least two indices."
        dropped = ", ".join(f"{d:%Y-%m-%d}" for d in self.sur.dropped_dates) or "none"
        return (f"{self.sur.nobs_estimation} estimation rows per equation; dropped for a missing "
                f"value in some index: {dropped}.")


def _moves(returns: pd.DataFrame, cross: Sequence[str], short: Mapping[str, str]):
    measures = dict(returns.attrs.get("measures", {}))
    moves = crossasset.daily_moves(returns[list(cross)], measures, names=short)
    return moves, dict(zip(cross, moves.columns)), {s: measures.get(s, "") for s in cross}


def _regressions(returns, indices, market, plan, short, names):
    eq = returns[list(indices)].dropna(how="all")
    days = {plan.day_label(d): d for d in plan.selloff_days + plan.rebound_days}
    sell = [plan.day_label(d) for d in plan.selloff_days]
    reb = [plan.day_label(d) for d in plan.rebound_days]
    e0, e1 = plan.estimation
    gam_rows, wald_rows = [], []
    for s in indices:
        res = regression.event_dummy_regression(eq[s], market, days, estimation_start=e0,
                                                estimation_end=e1)
        g = res.gammas.set_index("day")
        gam_rows.append(pd.concat({"γ (%)": 100 * g["gamma"], "t": g["t"]}).rename(short[s]))
        jz, fr = res.wald_joint_zero(sell), res.wald_full_reversal(sell, reb)
        wald_rows.append({"series": short[s], "selloff = 0: χ²": jz.stat, "df": jz.df,
                          "p": jz.pval, "net CAR (%)": 100 * fr.estimate, "se (%)": 100 * fr.se,
                          "full reversal: χ²": fr.stat, "p (reversal)": fr.pval,
                          "estimation obs": res.nobs_estimation})
    sur, notes = None, []
    if len(indices) >= 2:
        sur = regression.sur_event_regression(eq, market, days, estimation_start=e0,
                                              estimation_end=e1)
    else:
        notes.append(f"No SUR system: one index ({names[indices[0]]}) is a single equation, "
                     "whose tests are the ones above.")
    return pd.DataFrame(gam_rows), pd.DataFrame(wald_rows).set_index("series"), sur, notes


def run(plan: Plan, p: Mapping[str, Any], levels: pd.DataFrame, returns: pd.DataFrame,
        names: Mapping[str, str], universe: pd.DataFrame) -> SelloffStudy:
    """Drawdowns, daily moves, correlations and event-dummy regressions (module docstring).

    ``levels``/``returns``: wide frames (returns as fractions, with ``attrs["measures"]``)."""
    indices, cross = list(p["indices"]), list(p["cross_assets"])
    short = {s: SHORT_NAMES.get(s, names.get(s, s)) for s in dict.fromkeys(indices + cross)}
    parts = []
    for code, ref in plan.references.items():
        group = [s for s in indices if exchange_calendar_of(s, universe) == code]
        if group:
            parts.append(drawdown_table(levels[group], ref, plan.trough_by,
                                        checkpoints=plan.checkpoints))
    dd = pd.concat(parts).reindex(indices)
    moves, cols, measures = _moves(returns, cross, short)
    periods = {"estimation": plan.estimation, plan.post_label: plan.post}
    common = {}
    for label, (a, b) in periods.items():
        aligned, dropped = crossasset.common_dates(moves, a, b)
        common[label] = (len(aligned), list(dropped))
    mats = crossasset.correlation_comparison(moves, periods)
    pairs = [(cols[cross[0]], cols[s]) for s in cross[1:]]
    pc = crossasset.pairwise_correlations(moves, periods, pairs=pairs)
    market = returns[p["market_symbol"]] if p["model"] == "market" else None
    gam, wald, sur, notes = _regressions(returns, indices, market, plan, short, names)
    groups = dict(zip(universe["symbol"], universe["group"]))
    return SelloffStudy(plan, indices, cross, dict(names), short, dd, moves, cols, measures,
                        {s: groups.get(s, "") for s in cross}, periods, common, mats, pc, gam,
                        wald, sur, notes, p["model"], p["market_symbol"])


# ------------------------------------------------------------------------------ figures
def rebased_figure(study: SelloffStudy, levels: pd.DataFrame):
    """Indices rebased to 100 at the pre-event close, with the two events marked on their
    announcement dates."""
    from tradeshock.analyses.figures import plot_levels

    plan = study.plan
    marks = [(plan.selloff.date, plan.selloff.kind, plan.selloff.title),
             (plan.rebound.date, plan.rebound.kind, plan.rebound.title)]
    return plot_levels(levels[study.indices], names=study.names, rebase=plan.reference,
                       title=f"Indices rebased to 100 at the {plan.reference:%-d %B %Y} close",
                       ylabel=f"Level, {plan.reference:%-d %b %Y} = 100", yunits="index",
                       start=plan.reference - pd.Timedelta(days=14),
                       end=plan.trough_by + pd.Timedelta(days=31), events=marks)


def correlation_figure(study: SelloffStudy):
    """Correlation of each series' daily moves with the first cross-asset series, per period."""
    from tradeshock.analyses.figures import new_figure

    lead = study.short[study.cross_assets[0]]
    pc = study.pairs
    fig, ax = new_figure(title=f"Correlation of daily moves with the {lead}, before and after "
                         f"{study.plan.reference:%-d %B %Y}", xlabel="Series",
                         ylabel=f"Pearson correlation with {lead} daily moves",
                         yunits="coefficient")
    x = np.arange(len(pc))
    for i, label in enumerate(study.periods):
        ax.bar(x + (i - 0.5) * 0.38, pc[f"corr ({label})"], width=0.38,
               label=f"{label} (n = {pc[f'n ({label})'].iloc[0]})")
    ax.set_xticks(x, [b for _, b in pc.index], rotation=20, ha="right", fontsize=8)
    ax.axhline(0, color="black", lw=0.6)
    ax.legend(fontsize=8)
    return fig, ax


# ------------------------------------------------------------------------------ narrative
def _pv(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _first(study: SelloffStudy, test) -> str | None:
    return next((s for s in study.cross_assets[1:] if test(s)), None)


def _day(d: pd.Timestamp, plan: Plan) -> str:
    """``9 April``, or ``4 January 2027`` outside the selloff's year."""
    return f"{d:%-d %B}" if d.year == plan.selloff_day0.year else f"{d:%-d %B %Y}"


def _why_no_share(row: pd.Series, label: str, when: pd.Timestamp | None, name: str) -> str:
    """Why ``recovered by <label>`` is empty for this row (the drawdown table's note)."""
    note = str(row.get("note", ""))
    if note.startswith("no loss"):
        return "no loss"
    if when is not None and f"checkpoint {label} (" in note and "after the data end" in note:
        return f"after the {name}'s data end, {row['data end']:%-d %B %Y}"
    return f"before the {name}'s trough, {row['trough date']:%-d %B}"


def _drawdown_lines(study: SelloffStudy) -> list[str]:
    rec, lead = study.drawdowns, study.lead
    name = study.names[lead]
    row = rec.loc[lead]
    if pd.isna(row["trough date"]):
        return [f"- The drawdown of the {name} could not be measured: {row['note']}."]
    ref = row["reference date"]
    if row["drawdown (%)"] >= 0:
        lines = [f"- The {name} never closed below its {ref:%-d %B %Y} close up to "
                 f"{study.plan.trough_by:%-d %B %Y}: its lowest close after it, on "
                 f"{row['trough date']:%-d %B}, was {row['drawdown (%)']:+.1f}% against it, so "
                 "there is no loss to recover"]
    else:
        lines = [f"- From the {_day(ref, study.plan)} close the {name} fell "
                 f"{abs(row['drawdown (%)']):.1f}% to its trough on "
                 f"{_day(row['trough date'], study.plan)}"]
    ok = rec.dropna(subset=["drawdown (%)"])
    if len(ok) > 1:
        deep = ok["drawdown (%)"].idxmin()
        dd = ok.loc[deep, "drawdown (%)"]
        lines[0] += (f"; the deepest drawdown of the {len(ok)} indices was the "
                     f"{study.names[deep]}'s ({dd:.1f}%)" if dd < 0 else
                     f"; none of the {len(ok)} indices closed below its pre-event close")
    lines[0] += "."
    if row["drawdown (%)"] >= 0:
        return lines
    parts, missing = [], []
    for label, when in study.plan.checkpoints.items():
        v = row[f"recovered by {label} (% of loss)"]
        if pd.isna(v):
            missing.append(f"{label} ({_why_no_share(row, label, when, name)})")
        elif when is None:
            parts.append(f"{v:.0f}% by the end of its data ({row[f'{label} date']:%-d %B %Y})")
        else:
            parts.append(f"{v:.0f}% by the {_day(row[f'{label} date'], study.plan)} close")
    if parts:
        lines.append(f"- Share of the {name}'s loss won back: " + ", ".join(parts) + ".")
    if missing:
        lines.append(f"- No recovered share at {', '.join(missing)}.")
    dated = [k for k, w in study.plan.checkpoints.items() if w is not None]
    if dated and len(ok) > 1:
        col = rec[f"recovered by {dated[-1]} (% of loss)"].dropna()
        if len(col) > 1:
            when = _day(study.plan.checkpoints[dated[-1]], study.plan)
            lines.append(f"- Across the {len(col)} indices the share recovered by {when} "
                         f"ranged from {col.min():.0f}% to {col.max():.0f}%.")
    return lines


def _cross_lines(study: SelloffStudy) -> list[str]:
    plan, cols, moves = study.plan, study.columns, study.moves
    lead = study.cross_assets[0]
    lines = []
    sell = moves.loc[plan.selloff_days[0]:plan.selloff_days[-1]]
    cum = sell.sum()
    span = (f"{plan.selloff_days[0]:%-d %B}" if len(plan.selloff_days) == 1 else
            f"{plan.selloff_days[0]:%-d %B}–{plan.selloff_days[-1]:%-d %B}")
    lines.append(f"- Over the selloff sessions ({span}) the daily moves summed to "
                 + ", ".join(f"{c.rsplit(' (', 1)[0]} {cum[c]:+.1f}"
                             f"{' bp' if c.endswith('(bp)') else '%'}" for c in sell.columns)
                 + " (simple sums of the daily moves in the table; yields in basis points).")
    ycol = _first(study, lambda s: study.measures[s] == "bp_change")
    dx = _first(study, lambda s: study.groups[s] == "fx")
    post, pc = plan.post_label, study.pairs
    if ycol is not None:
        g = pc.loc[(cols[lead], cols[ycol])]
        lines.append(f"- The correlation of daily {study.short[lead]} moves with "
                     f"{study.short[ycol]} changes went from {g['corr (estimation)']:+.2f} in "
                     f"the estimation period to {g[f'corr ({post})']:+.2f} over {post} (n = "
                     f"{int(g['n (estimation)'])} and {int(g[f'n ({post})'])} common dates).")
    else:
        lines.append("- No yield is among the cross-asset series, so the 'sell America' test "
                     "(stocks and the dollar down while the yield rises) cannot be made.")
    if dx is not None and ycol is not None:
        a, b = plan.table
        tab = moves.loc[a:b]
        hit = tab.index[(tab[cols[lead]] < 0) & (tab[cols[dx]] < 0) & (tab[cols[ycol]] > 0)]
        det = "; ".join(f"{d:%-d %B} ({study.short[lead]} {tab.at[d, cols[lead]]:+.2f}%, "
                        f"{study.short[dx]} {tab.at[d, cols[dx]]:+.2f}%, {study.short[ycol]} "
                        f"{tab.at[d, cols[ycol]]:+.0f} bp)" for d in hit)
        lines.append(f"- In the daily table ({a:%-d %B}–{b:%-d %B}) the {study.short[lead]} and "
                     f"the {study.short[dx]} fell while the {study.short[ycol]} rose on "
                     f"{len(hit)} day(s)" + (f": {det}" if len(hit) else "") + ".")
    if dx is not None:
        g = pc.loc[(cols[lead], cols[dx])]
        lines.append(f"- The correlation of daily {study.short[lead]} moves with "
                     f"{study.short[dx]} returns went from {g['corr (estimation)']:+.2f} to "
                     f"{g[f'corr ({post})']:+.2f}.")
    return lines


def _regression_lines(study: SelloffStudy, alpha: float) -> list[str]:
    lead = study.short[study.lead]
    w, reb = study.wald.loc[lead], study.rebound_labels[0]
    gam = study.gammas
    g, t = gam.loc[lead, ("γ (%)", reb)], gam.loc[lead, ("t", reb)]
    n_sell = len(study.sell_labels)
    verdict = "rejected" if w["p (reversal)"] < alpha else "not rejected"
    joint = "non-zero" if w["p"] < alpha else "not distinguishable from zero"
    lines = [f"- Event-dummy regressions: the {lead}'s abnormal return on "
             f"{study.plan.rebound_days[0]:%-d %B} was {g:+.2f}% (t = {t:.1f}); the {n_sell} "
             f"selloff day(s) are jointly {joint} "
             f"(χ² = {w['selloff = 0: χ²']:.1f}, {_pv(w['p'])}); the net CAR of selloff plus "
             f"rebound is {w['net CAR (%)']:+.2f}% (se {w['se (%)']:.2f}), so full reversal is "
             f"{verdict} ({_pv(w['p (reversal)'])})."]
    n_rev = int((study.wald["p (reversal)"] >= alpha).sum())
    if study.sur is None:
        lines.append(f"- With one index there is no system test; full reversal is {verdict} "
                     f"for it at {100 * alpha:g}%.")
        return lines
    jz = study.sur.wald_joint_zero(study.sell_labels)
    fr = study.sur.wald_full_reversal(study.sell_labels, study.rebound_labels)
    lines.append(
        f"- Full reversal is not rejected at {100 * alpha:g}% for {n_rev} of {len(study.wald)} "
        f"indices one at a time; in the SUR system the selloff days are jointly "
        f"{'non-zero' if jz.pval < alpha else 'not distinguishable from zero'} across the "
        f"{len(study.indices)} indices (χ²({jz.df}) = {jz.stat:.1f}, {_pv(jz.pval)}), and full "
        f"reversal in every index is {'rejected' if fr.pval < alpha else 'not rejected'} "
        f"(χ²({fr.df}) = {fr.stat:.1f}, {_pv(fr.pval)}).")
    return lines


def describe(study: SelloffStudy, alpha: float = 0.05) -> str:
    """"What the data say", as Markdown bullets computed from the study."""
    return "\n".join(_drawdown_lines(study) + _cross_lines(study)
                     + _regression_lines(study, alpha))
