"""The whole tariff calendar as one study (the ``07_tariff_calendar`` notebook, issue 18).

Thin orchestration over the calendar library, driven by the notebook's :data:`PARAMETERS`:

* :func:`~tradeshock.analyses.sessions.event_sessions` groups the events of the chosen ``kinds``
  into event sessions of the New York exchange (XNYS: every market of the study is US-listed),
  each with a direction (:data:`~tradeshock.analyses.sessions.DIRECTION_RULE`) and a reaction
  window (``untimed``: the two-session rule for events without a clock time, or day 0 alone);
* :func:`~tradeshock.analyses.calendar_study.market_table` runs one event study over every
  (market, session) observation: raw day-0 return, day-0 AR, reaction AR and CAR over
  ``car_window`` with their per-security tests; the cross-asset moves beside them; the ETF
  cross-sections with BMP (Boehmer, Musumeci and Poulsen 1991) and Kolari-Pynnönen (2010);
* :func:`~tradeshock.analyses.calendar_study.pooled_study` pools sessions by direction (sessions
  as the units: cross-session t and exact sign tests); sessions made only of measures taking
  effect on a date announced in advance are the placebo;
* :func:`~tradeshock.analyses.taco.taco_test` regresses escalation reactions on time (OLS, HC3)
  and measures the de-escalation vs escalation asymmetry;
* :func:`~tradeshock.analyses.firm_panel.firm_panel` (``firms``): the S&P 500 members over every
  session their prices cover, one event study, BMP and Kolari-Pynnönen per session and per GICS
  sector by direction;
* ``timed_robustness``: the pooled day-0 ARs of sessions built from timed events alone.

Units: returns, ARs and CARs are simple returns as fractions in frames and the CSV; tables and
text show percent (pp for differences and slopes). Day 0 is the first session that trades after
the announcement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.analyses import calendar_text as text
from tradeshock.analyses.calendar_study import (
    INDICES, MODELS, MarketTable, PooledResult, calendar_inputs, market_table, pool_sessions,
    pooled_study, table_csv_text,
)
from tradeshock.analyses.contract import (  # private helpers shared by the parameter types
    Choice, Contract, Flag, Kinds, Param, Symbol, Symbols, Window, _as_list, _Bad, _count,
)
from tradeshock.analyses.firm_panel import FirmPanelResult, firm_panel, load_firm_inputs
from tradeshock.analyses.sessions import (
    DIRECTION_RULE, DIRECTIONS, UNTIMED_MODES, EventSessions, event_sessions,
)
from tradeshock.analyses.taco import TacoResult, taco_test
from tradeshock.core.tables import Table, count_text
from tradeshock.engine.present import window_label
from tradeshock.errors import StudyError

__all__ = ["PARAMETERS", "CSV_NAME", "MARKET_GROUPS", "CALENDAR", "Markets", "Directions",
           "CalendarStudy", "study_calendar", "market_groups", "cross_asset_units"]

#: Exchange calendar of the study: every market is US-listed (indices, sector and country ETFs).
CALENDAR = "XNYS"
#: Group names a ``markets`` parameter may give, and the universe group each stands for.
MARKET_GROUPS: dict[str, str] = {"indices": "us_index", "sectors": "us_sector",
                                 "countries": "country_etf"}
#: File name of the tidy event × market table attached to the report.
CSV_NAME = "event_market_table.csv"
_ETF_GROUPS = ("us_sector", "country_etf")
_MEASURES = {"ar0": "day-0 AR", "ar_reaction": "reaction AR", "car": "CAR"}
_VARIANTS = {"all": "all", "no_overlap": "no overlap", "all_timed": "timed only"}


# ------------------------------------------------------------------------------ parameters
def _group_symbols(group: str, universe: pd.DataFrame) -> list[str]:
    if group == "us_index":
        return list(INDICES)
    return list(universe.loc[universe["group"] == group, "symbol"])


@dataclass(frozen=True)
class Markets(Symbols):
    """Markets of the study: symbols of ``data/universe.csv`` listed on the New York exchange,
    or group names (:data:`MARKET_GROUPS`: ``indices``, ``sectors``, ``countries``), in any mix.
    Parses to the list of symbols, groups expanded in universe order, each once."""

    def parse(self, value: Any, ctx) -> list[str]:
        items = _as_list(value, self.name)
        _count(items, self.min_items, self.max_items, "market")
        out, bad = [], []
        uni = ctx.universe
        for i, v in enumerate(items):
            if isinstance(v, str) and v.strip() in MARKET_GROUPS:
                out += _group_symbols(MARKET_GROUPS[v.strip()], uni)
                continue
            try:
                sym = Symbol.parse(self, v, ctx)
            except _Bad as exc:
                bad.append(f"item {i + 1} {exc.what}")
                continue
            cal = uni.loc[uni["symbol"] == sym, "exchange_calendar"].iloc[0]
            if cal != CALENDAR:
                bad.append(f"item {i + 1} = {sym!r} does not trade on {CALENDAR} "
                           f"(calendar {cal or 'none'})")
            out.append(sym)
        if bad:
            raise _Bad("; ".join(bad), "use US-listed indices or ETFs of data/universe.csv, or "
                       f"the groups {', '.join(MARKET_GROUPS)}")
        return list(dict.fromkeys(out))


@dataclass(frozen=True)
class Directions(Param):
    """A list of session directions (:data:`~tradeshock.analyses.sessions.DIRECTIONS`)."""

    min_items: int = 1

    def parse(self, value: Any, ctx) -> list[str]:
        items = _as_list(value, self.name)
        _count(items, self.min_items, None, "direction")
        bad = [d for d in items if d not in DIRECTIONS]
        if bad:
            raise _Bad(f"lists unknown direction(s) {', '.join(map(repr, bad))}",
                       f"use directions of the session rule: {', '.join(DIRECTIONS)}")
        return [str(d) for d in items]


def _consistency(v: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Checks across parameters: windows in order, lead market studied, proxy not studied,
    events of the chosen kinds in the calendar."""
    from tradeshock.events.calendar import load_events

    out = []
    est, cw = v["estimation_window"], v["car_window"]
    first = min(cw[0], -1 if v["untimed"] == "local_day" else 0)
    if est[1] >= first:
        out.append(("estimation_window", f"ends on day {est[1]}, inside the event window "
                    f"{first}:{max(cw[1], 0)} (CAR window and reaction windows)",
                    f"end it before day {first}, e.g. -260:-11"))
    if v["lead_market"] not in v["markets"]:
        out.append(("lead_market", f"= {v['lead_market']!r} is not among the markets studied",
                    "choose one of the markets, or add it to markets"))
    if v["model"] != "mean" and v["market_proxy"] in v["markets"]:
        out.append(("market_proxy", f"= {v['market_proxy']!r} is also a studied market (its "
                    f"abnormal return under model {v['model']!r} would be zero)",
                    "drop it from markets, choose another proxy, or use model 'mean'"))
    ev = load_events()
    if not ev["kind"].isin(v["kinds"]).any():
        out.append(("kinds", f"= {v['kinds']} matches no event of the calendar",
                    "choose kinds the calendar has (`tradeshock events list`)"))
    return out


#: What the parameters of ``notebooks/07_tariff_calendar.ipynb`` must be.
PARAMETERS = Contract(
    "07_tariff_calendar",
    [
        Kinds("kinds", help="event kinds of the calendar to study"),
        Directions("directions", help="session directions to pool and report"),
        Choice("untimed", choices=UNTIMED_MODES,
               help="the reaction window of events without a clock time"),
        Window("car_window", lo=-10, hi=10, help="the short CAR window around day 0"),
        Window("estimation_window", lo=-1000, hi=-1, help="the estimation window"),
        Choice("model", choices=MODELS, help="the normal-return model"),
        Symbol("market_proxy", priced=True, exchange=True,
               help="the proxy of the market model"),
        Markets("markets", priced=True, help="US-listed symbols or groups (indices, sectors, "
                "countries)"),
        Symbol("lead_market", priced=True, exchange=True,
               help="the market the text and the TACO test lead with"),
        Symbols("cross_asset", min_items=0, help="cross-asset series shown beside the markets"),
        Flag("timed_robustness", help="True to pool the timed events alone as well"),
        Flag("firms", help="True to run the S&P 500 firm panel"),
    ],
    checks=[_consistency],
)


def market_groups(symbols: list[str], universe: pd.DataFrame) -> dict[str, str]:
    """Symbol -> group of the table: ``us_index`` for the three US indices, else the universe
    group (``us_sector``, ``country_etf``, ...)."""
    grp = dict(zip(universe["symbol"], universe["group"]))
    return {s: "us_index" if s in INDICES else str(grp.get(s, "market")) for s in symbols}


def cross_asset_units(symbols: list[str], universe: pd.DataFrame) -> dict[str, str]:
    """Unit of each cross-asset series' moves: ``bp`` for yields quoted in percent, ``points``
    for volatility indices, ``fraction`` (a simple return) for prices."""
    u = universe.set_index("symbol")
    return {s: "bp" if u.at[s, "measure"] == "bp_change" else
            "points" if u.at[s, "group"] == "volatility" else "fraction" for s in symbols}


# ------------------------------------------------------------------------------------ study
@dataclass
class CalendarStudy:
    """Every result of the notebook; methods turn them into tables, figures and text."""

    settings: dict[str, Any]
    names: dict[str, str]
    sessions: EventSessions
    table: MarketTable
    pooled: PooledResult
    taco: TacoResult
    firms: FirmPanelResult | None = None
    timed: PooledResult | None = None
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def lead(self) -> str:
        return self.settings["lead_market"]

    def name(self, symbol: str) -> str:
        return self.names.get(symbol, symbol)

    def provenance(self) -> dict[str, str]:
        """What the report used besides the market prices, for
        :func:`tradeshock.pipeline.provenance.record`: the firm prices' source and last date
        when the firm panel ran, else why it did not."""
        if self.firms is None:
            return {"firm_prices": "not used: " + self.notes.get("firms", "firm panel not run")}
        out = {"firm_prices": (self.firms.source or "firm prices").rstrip(". ")}
        if self.firms.as_of is not None:
            out["firm_prices_as_of"] = f"{pd.Timestamp(self.firms.as_of):%Y-%m-%d}"
        return out

    # ---- header and rules
    def header(self) -> str:
        st, t = self.settings, self.table.to_frame()
        proxy = f" against {self.name(st['market_proxy'])}" if st["model"] != "mean" else ""
        return (f"**{count_text(len(self.sessions), 'event session')}** from "
                f"{count_text(self.sessions.settings['n_events'], 'event')} of kinds "
                f"{', '.join(st['kinds'])}; {t['market'].nunique()} series; "
                f"model {st['model']}{proxy}, estimation "
                f"{window_label(*st['estimation_window'])}, CAR window "
                f"{window_label(*st['car_window'])}; {CALENDAR} sessions; data to "
                f"{pd.Timestamp(st['as_of']):%Y-%m-%d} (the last date every series has).")

    def rules_text(self) -> str:
        """The direction rule, the untimed-event rule and the overlap rule, as Markdown."""
        return (f"**Directions.** {DIRECTION_RULE}\n\n**Events without a clock time.** "
                f"{self.sessions.untimed_rule}\n\n**Overlaps.** {self.sessions.overlap_rule}")

    # ---- sessions
    def sessions_table(self) -> Table:
        s = self.sessions.sessions.set_index("day0")
        f = pd.DataFrame({"direction": s["direction"], "titles": s["titles"].str.replace(
            " | ", "; "), "kinds": s["kinds"], "n": s["n_events"], "window": s["n_window"],
            "timed": np.where(s["all_timed"], "yes", "no")}, index=s.index)
        f.index.name = "day 0"
        notes = [f"Sessions of the {CALENDAR} calendar; events sharing a day 0 are one session."]
        nc = self.table.not_covered
        if len(nc):
            notes.append("Not in the market data: " + "; ".join(
                f"{r.session_id} ({r.reason})" for r in nc.itertuples()) + ".")
        if len(self.table.excluded):
            notes.append(f"{len(self.table.excluded)} market × session observations excluded "
                         "by the engine (too little estimation data): "
                         + ", ".join(map(str, self.table.excluded.index[:10])) + ".")
        return Table(f, caption="Event sessions: events sharing a day 0, with the direction "
                     "their kinds give", formats={"n": "int", "window": "int"},
                     labels={"titles": "events", "n": "n", "window": "reaction window (sessions)",
                             "timed": "all timed"}, notes=notes)

    def unclassified_table(self) -> Table:
        u = self.sessions.unclassified
        cap = "Sessions the direction rule could not classify"
        if u.empty:
            return Table(pd.DataFrame({"sessions": ["none"]}), caption=cap + ": none",
                         index=False, notes=["Every session got a direction."])
        return Table(u.set_index("day0").rename_axis("day 0")[["kinds", "event_ids", "reason"]],
                     caption=cap,
                     labels={"event_ids": "events"},
                     notes=["These sessions are in the heat map and the CSV but in no pooled "
                            "direction."])

    # ---- event × market
    def heatmap(self):
        """Heat map of the reaction AR (%), sessions down, markets across, cross-asset moves
        beside (:func:`~tradeshock.analyses.calendar_study.heatmap_figure`)."""
        return self.table.heatmap()

    def csv_text(self) -> str:
        """The tidy event × market table as CSV (fractions; dates ``YYYY-MM-DD``), with the
        session's event ids and titles."""
        t = self.table.to_frame()
        s = self.sessions.sessions.set_index("session_id")
        t.insert(1, "event_ids", t["session_id"].map(s["event_ids"]))
        t.insert(2, "events", t["session_id"].map(s["titles"]))
        t = t.rename(columns={"session_id": "event_session", "raw0": "raw_day0_return",
                              "ar0": "ar_day0", "t_car": "statistic_car", "p_car": "p_value_car",
                              "t_reaction": "statistic_reaction",
                              "p_reaction": "p_value_reaction", "estimation": "estimation_window"})
        if self.table.source:
            t["data_source"] = self.table.source
            t["as_of"] = f"{pd.Timestamp(self.table.as_of):%Y-%m-%d}"
        return table_csv_text(t)

    def csv_description(self) -> str:
        t, st = self.table.to_frame(), self.settings
        return (f"event session × market, {t['session_id'].nunique()} sessions × "
                f"{t['market'].nunique()} series: raw day-0 return, day-0 AR, reaction AR, CAR "
                f"{window_label(*st['car_window'])} with t statistics and p-values; model "
                f"{st['model']}, estimation {window_label(*st['estimation_window'])}; fractions")

    # ---- pooled
    def pooled_table(self, robustness: bool = False) -> Table:
        """Pooled means per direction (the chosen ``directions``): all sessions, every series
        and measure; with ``robustness``, the lead market only, on the sessions whose windows
        overlap no other session's and on those whose events all have a clock time."""
        f = self.pooled.to_frame()
        f = f[f["direction"].isin(self.settings["directions"])]
        f = (f[(f["variant"] != "all") & (f["series"] == self.lead)] if robustness
             else f[f["variant"] == "all"])
        f = f.assign(series=f["series"].map(lambda x: self._series_label(x)),
                     measure=f["measure"].map(_MEASURES), variant=f["variant"].map(_VARIANTS))
        f = f.set_index(["direction", "series", "measure", "variant"])
        cols = ["n", "mean", "ci_low", "ci_high", "p_t", "n_neg", "n_pos", "p_sign"]
        lvl = int(round(100 * self.pooled.settings["level"]))
        cap = "Mean reaction per direction, sessions as the units (%)" + (
            f": {self.name(self.lead)}, robustness samples" if robustness else "")
        return Table(f[cols], caption=cap,
                     formats={"n": "int", "mean": "pct", "ci_low": "pct", "ci_high": "pct",
                              "p_t": "p", "n_neg": "int", "n_pos": "int", "p_sign": "p"},
                     labels={"n": "sessions", "mean": "mean (%)", "ci_low": f"{lvl}% CI low",
                             "ci_high": f"{lvl}% CI high", "p_t": "p (t)", "n_neg": "down",
                             "n_pos": "up", "p_sign": "p (sign)"},
                     notes=["Cross-session Student t test with its confidence interval and exact "
                            "sign test (one value per session); group rows average the group's "
                            "markets per session. CAR window "
                            f"{window_label(*self.settings['car_window'])}. Variants: all "
                            "sessions; sessions whose window overlaps no other; sessions whose "
                            "events all have a clock time."])

    def _series_label(self, series: str) -> str:
        groups = {"us_sector (mean)": "sector ETFs (mean)",
                  "country_etf (mean)": "country ETFs (mean)"}
        return groups.get(series, self.name(series))

    def cross_section_table(self) -> Table:
        """Per session, each ETF group's reaction CAAR with the unadjusted BMP test and the
        Kolari-Pynnönen adjustment for cross-correlation, side by side."""
        cx = self.table.cross_sections
        if cx.empty:
            return Table(pd.DataFrame({"note": ["no ETF group (sectors or countries) with two "
                                                "or more markets among the markets studied"]}),
                         caption="ETF cross-sections: none", index=False)
        c = cx[cx["window"] == "reaction"]
        wide = c.pivot_table(index=["day0", "group"], columns="test", values="p_value")
        base = c.groupby(["day0", "group"])[["caar", "rbar", "n"]].first()
        f = base.join(wide[[t for t in ("boehmer", "kolari_pynnonen") if t in wide]])
        f.index.names = ["day 0", "ETF group"]
        f = f.rename(index={"us_sector": "sector ETFs", "country_etf": "country ETFs"})
        return Table(f, caption="ETF cross-sections per session: reaction CAAR (%), BMP beside "
                     "Kolari-Pynnönen", formats={"caar": "pct", "rbar": "num:2", "n": "int",
                                                 "boehmer": "p", "kolari_pynnonen": "p"},
                     labels={"caar": "CAAR (%)", "rbar": "mean residual corr.", "n": "ETFs",
                             "boehmer": "p BMP", "kolari_pynnonen": "p Kolari-Pynnönen"},
                     notes=["ETFs of a group share the session's date; BMP (Boehmer, Musumeci "
                            "and Poulsen 1991) ignores their cross-correlation, Kolari and "
                            "Pynnönen (2010) adjust for it."])

    def placebo_text(self) -> str:
        return text.describe_placebo(self.pooled, self.table, self.lead, names=self.names)

    # ---- TACO
    def taco_table(self) -> Table:
        r = self.taco.regressions
        f = r.assign(market=r["market"].map(self.name)).set_index(["market", "y", "x"])
        lvl = int(round(100 * self.taco.settings["level"]))
        cols = ["n", "slope", "ci_low", "ci_high", "p", "p_holm", "mds"]
        return Table(f[cols], caption="TACO: escalation reactions regressed on time (OLS, HC3), "
                     "slopes in pp per 30 days (x = days) or per session (x = order)",
                     formats={"n": "int", "slope": "pct:3", "ci_low": "pct:3", "ci_high": "pct:3",
                              "p": "p", "p_holm": "p", "mds": "pct:3"},
                     labels={"n": "sessions", "slope": "slope (pp)",
                             "ci_low": f"{lvl}% CI low (pp)", "ci_high": f"{lvl}% CI high (pp)",
                             "p_holm": "p (Holm)", "mds": "min. detectable (pp)"},
                     notes=["y signed: the claim predicts a positive slope; y absolute: a "
                            "negative one. HC3: MacKinnon and White (1985). Min. detectable: the "
                            f"slope found with {int(100 * self.taco.settings['power'])}% power."])

    def asymmetry_table(self) -> Table:
        a = self.taco.asymmetry
        f = a.assign(market=a["market"].map(self.name)).set_index("market")
        cols = ["n_deescalation", "mean_deescalation", "n_escalation", "minus_mean_escalation",
                "diff", "ci_low", "ci_high", "p"]
        lvl = int(round(100 * self.taco.settings["level"]))
        return Table(f[cols], caption="Asymmetry: de-escalation reaction minus the sign-flipped "
                     "escalation reaction (%)", formats={c: "pct" for c in cols[1:-1]} | {
                         "n_deescalation": "int", "n_escalation": "int", "p": "p"},
                     labels={"n_deescalation": "de-esc. sessions", "mean_deescalation":
                             "de-esc. mean (%)", "n_escalation": "esc. sessions",
                             "minus_mean_escalation": "-esc. mean (%)", "diff": "difference (pp)",
                             "ci_low": f"{lvl}% CI low", "ci_high": f"{lvl}% CI high",
                             "p": "p (Welch)"})

    def taco_figure(self, source: str, as_of: Any):
        return self.taco.figure(self.lead, source=source, as_of=as_of, name=self.name(self.lead))

    def taco_text(self) -> str:
        return (text.describe_taco(self.taco, self.lead, names=self.names) + "\n\n"
                + text.describe_asymmetry(self.taco, self.lead, names=self.names))

    # ---- firms
    def firm_session_table(self) -> Table:
        if self.firms is None:
            return _note_table("Firm panel", self.notes.get("firms", ""))
        c = self.firms.caar("reaction").set_index("day0").rename_axis("day 0")
        cols = [x for x in ("direction", "n", "caar", "boehmer", "boehmer_p", "kolari_pynnonen",
                            "kolari_pynnonen_p", "rbar") if x in c]
        nc = self.firms.not_covered
        st = self.settings
        model = f"model {st['model']}" + (f" against {self.name(st['market_proxy'])}"
                                          if st["model"] != "mean" else "")
        notes = [f"{(self.firms.source or 'Firm prices').rstrip('. ')}; {model}, estimation "
                 f"{window_label(*st['estimation_window'])}, as the study; reaction window per "
                 "session."]
        if len(nc):
            notes.append("Not covered by the firm prices: " + "; ".join(
                f"{r.session_id} ({r.reason})" for r in nc.itertuples()) + ".")
        return Table(c[cols], caption="S&P 500 members per session: reaction CAAR (%) with BMP "
                     "and Kolari-Pynnönen", formats={"n": "int", "caar": "pct", "boehmer":
                                                     "num:2", "boehmer_p": "p",
                                                     "kolari_pynnonen": "num:2",
                                                     "kolari_pynnonen_p": "p", "rbar": "num:3"},
                     labels={"n": "firms", "caar": "CAAR (%)", "boehmer": "BMP z",
                             "boehmer_p": "p BMP", "kolari_pynnonen": "KP z",
                             "kolari_pynnonen_p": "p KP", "rbar": "mean residual corr."},
                     notes=notes)

    def firm_sector_table(self) -> Table:
        if self.firms is None:
            return _note_table("Firm sectors by direction", self.notes.get("firms", ""))
        b = self.firms.by_sector()
        b = b[b["direction"].isin(self.settings["directions"])].set_index(["direction", "sector"])
        lvl = int(round(100 * self.firms.level))
        cols = ["n", "mean", "ci_low", "ci_high", "p_t", "p_sign", "mean_firms"]
        return Table(b[cols], caption="GICS sectors by direction: the sector's reaction CAAR per "
                     "session, pooled over sessions (%)",
                     formats={"n": "int", "mean": "pct", "ci_low": "pct", "ci_high": "pct",
                              "p_t": "p", "p_sign": "p", "mean_firms": "num:0"},
                     labels={"n": "sessions", "mean": "mean CAAR (%)", "ci_low": f"{lvl}% CI low",
                             "ci_high": f"{lvl}% CI high", "p_t": "p (t)", "p_sign": "p (sign)",
                             "mean_firms": "firms per session"},
                     notes=["Sessions are the units: cross-session t and exact sign tests."])

    # ---- timed events alone
    def timed_table(self) -> Table:
        """Day-0 AR of the lead market per direction: all sessions vs sessions of timed events
        alone (built from the timed events only, each with a one-session window)."""
        if self.timed is None:
            return _note_table("Timed events alone", self.notes.get("timed", ""))
        allp = pool_sessions(self.table, market=self.lead, measure="ar0").to_frame()
        tp = self.timed.to_frame()
        cols = ["n", "mean", "ci_low", "ci_high", "p_t"]
        f = allp.set_index("direction")[cols].join(tp.set_index("direction")[cols],
                                                   how="outer", lsuffix="_all", rsuffix="_timed")
        f = f.reindex([d for d in DIRECTIONS if d in f.index and d in
                       self.settings["directions"]])
        fm = {f"{c}_{v}": ("int" if c == "n" else "p" if c == "p_t" else "pct")
              for c in cols for v in ("all", "timed")}
        lb = {f"{c}_{v}": f"{lab} ({v})" for c, lab in zip(cols, ["sessions", "mean (%)",
                                                                  "CI low", "CI high", "p (t)"])
              for v in ("all", "timed")}
        return Table(f, caption=f"{self.name(self.lead)}: day-0 AR per direction, all sessions "
                     "vs timed events alone (%)", formats=fm, labels=lb,
                     notes=["Timed-only sessions group the events with a clock time; their "
                            "day 0 follows the announcement instant."])

    # ---- text
    def describe(self) -> str:
        """"What the data say", computed from the results (Markdown paragraphs)."""
        lead, d = self.lead, self.settings["directions"]
        paras = [text.describe_sessions(self.sessions),
                 text.describe_largest(self.table, lead, names=self.names),
                 text.describe_pooled(self.pooled, lead, directions=[x for x in d if x in (
                     "escalation", "de-escalation")] or d[:1], names=self.names),
                 self.placebo_text()]
        paras += [text.describe_cross_sections(self.table, g) for g in _ETF_GROUPS]
        paras.append(self.taco_text())
        if self.firms is not None:
            paras.append(text.describe_firms(self.firms, self.table, market=lead))
        paras += [self.timed_text()] + [v[:1].upper() + v[1:] + "." for v in self.notes.values()]
        return "\n\n".join(p for p in paras if p)

    def timed_text(self) -> str:
        if self.timed is None or not self.timed.has("escalation", series=self.lead,
                                                    measure="ar0"):
            return ""
        r = self.timed.get("escalation", series=self.lead, measure="ar0")
        return (f"Timed events alone: {int(r['n'])} escalation-like session(s) of timed events "
                f"moved {self.name(self.lead)} {100 * r['mean']:+.2f}% on day 0 on average"
                + (f" (p {text._p(r['p_t'])})." if np.isfinite(r["p_t"]) else
                   "; too few to test."))


def _note_table(caption: str, note: str) -> Table:
    return Table(pd.DataFrame({"note": [note or "not run"]}), caption=f"{caption}: not run",
                 index=False)


def study_calendar(p: Mapping[str, Any], prices: pd.DataFrame, universe: pd.DataFrame,
                   events: pd.DataFrame, names: Mapping[str, str], *,
                   as_of: Any = None) -> CalendarStudy:
    """Run the study for checked parameters ``p`` (:data:`PARAMETERS`) on ``prices`` (long
    frame with every symbol the parameters name, e.g. a preamble's ``s.prices``).

    Raises :class:`StudyError` when no session lies in the data; a robustness part that cannot
    run (no timed event among the kinds, no session in the firm data) gets a note instead.
    """
    markets = list(p["markets"])
    proxy = p["market_proxy"] if p["model"] != "mean" else None
    inp = calendar_inputs(prices, market_groups(markets, universe),
                          raw_series=cross_asset_units(list(p["cross_asset"]), universe),
                          proxy=proxy, universe=universe, calendar=CALENDAR)
    ses = event_sessions(events, CALENDAR, kinds=p["kinds"], untimed=p["untimed"])
    kw = dict(model=p["model"], proxy=proxy, estimation=p["estimation_window"],
              car_window=p["car_window"], names=dict(names))
    table = market_table(inp, ses, markets=markets, **kw)
    lead = p["lead_market"]
    present = set(table.to_frame()["group"])
    pooled = pooled_study(table, markets=[lead], groups=[g for g in _ETF_GROUPS if g in present],
                          measures=tuple(_MEASURES))
    sectors = [m for m in markets if market_groups([m], universe)[m] == "us_sector" and m != lead]
    taco = taco_test(table, markets=[lead] + sectors)
    settings = {k: p[k] for k in PARAMETERS.names()} | {
        "as_of": prices["date"].max() if as_of is None else as_of}
    table.as_of = settings["as_of"]  # figures and the CSV: the date every series reaches
    out = CalendarStudy(settings, dict(names), ses, table, pooled, taco)
    if p["timed_robustness"]:
        out.timed, note = _timed(inp, events, p, kw, lead)
        if note:
            out.notes["timed"] = note
    else:
        out.notes["timed"] = "timed events alone: not run (timed_robustness = False)"
    if p["firms"]:
        out.firms, note = _firms(inp, ses, p, proxy)
        if note:
            out.notes["firms"] = note
    else:
        out.notes["firms"] = "firm panel not run (firms = False)"
    return out


def _timed(inp, events, p, kw, lead) -> tuple[PooledResult | None, str]:
    try:
        ts = event_sessions(events, CALENDAR, kinds=p["kinds"], untimed=p["untimed"],
                            timed_only=True)
        tt = market_table(inp, ts, markets=[lead], **kw)
    except StudyError as exc:
        return None, f"timed events alone: not run ({exc})"
    return pool_sessions(tt, market=lead, measure="ar0"), ""


def _firms(inp, ses, p, proxy) -> tuple[FirmPanelResult | None, str]:
    fi = load_firm_inputs()
    market = inp.returns[proxy] if proxy else None
    try:
        panel = firm_panel(fi, ses, model=p["model"], market=market,
                           estimation=p["estimation_window"], car_window=p["car_window"])
    except StudyError as exc:
        return None, f"firm panel not run ({exc})"
    return panel, ""
