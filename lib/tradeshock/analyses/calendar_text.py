""""What the data say" for the calendar study, written from its results.

Every number in these sentences is read from a results object (:class:`EventSessions`,
:class:`MarketTable`, :class:`PooledResult`, :class:`TacoResult`, :class:`FirmPanelResult`);
every verdict ("significant", "contradicts the claim", "too few sessions to test") follows from
those numbers and ``alpha``, so the text stays true when the parameters or the data change.
Percentages are the fractions of the results times 100; "pp" are percentage points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tradeshock.analyses.calendar_study import MarketTable, PooledResult
from tradeshock.analyses.firm_panel import FirmPanelResult
from tradeshock.analyses.sessions import EventSessions
from tradeshock.analyses.taco import TacoResult
from tradeshock.core.tables import count_text

__all__ = [
    "describe_asymmetry",
    "describe_cross_sections",
    "describe_firms",
    "describe_largest",
    "describe_placebo",
    "describe_pooled",
    "describe_sessions",
    "describe_taco",
    "what_the_data_say",
]


def _pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:+.{digits}f}%" if np.isfinite(x) else "n/a"


def _pp(x: float, digits: int = 2) -> str:
    return f"{100 * x:+.{digits}f} pp" if np.isfinite(x) else "n/a"


def _p(p: float) -> str:
    if not np.isfinite(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _ci(lo: float, hi: float, level: float) -> str:
    return f"{int(round(100 * level))}% CI {_pct(lo)} to {_pct(hi)}"


def _name(series: str, names: Mapping[str, str] | None = None) -> str:
    """The series as a reader knows it: the three US indices by name, others by their display
    name in ``names`` (e.g. ``"iShares MSCI Japan ETF"``), the symbol only when unnamed."""
    base = {"^GSPC": "the S&P 500", "^IXIC": "the Nasdaq Composite", "^RUT": "the Russell 2000"}
    if series in base:
        return base[series]
    return str(names[series]) if names and series in names else series


def describe_sessions(sessions: EventSessions) -> str:
    """Counts of sessions by direction, the window rule, and the unclassified sessions."""
    s = sessions.sessions
    c = sessions.counts()
    counts = ", ".join(f"{v} {k}" for k, v in c.items())
    st = sessions.settings
    text = (f"The {count_text(st['n_events'], 'calendar event')} fall"
            f"{'s' if st['n_events'] == 1 else ''} on {count_text(len(s), 'event session')} of "
            f"{sessions.calendar} ({counts}); events that share a day 0 are one observation. "
            f"{sessions.untimed_rule} {sessions.overlap_rule}")
    n2 = int((s["n_window"] > 1).sum())
    text += f" {n2} of the {len(s)} sessions have a two-session reaction window."
    u = sessions.unclassified
    if len(u):
        text += (" The direction rule leaves " + "; ".join(
            f"{r.session_id} ({r.kinds})" for r in u.itertuples()) + " unclassified.")
    return text


def describe_largest(table: MarketTable, market: str = "^GSPC", n: int = 3,
                     alpha: float = 0.05, *,
                     names: Mapping[str, str] | None = None) -> str:
    """The ``n`` largest reactions of ``market`` in absolute value, with their direction."""
    t = table.to_frame()
    s = t[t["market"] == market].dropna(subset=["ar_reaction"])
    if s.empty:
        return f"There is no reaction of {_name(market, names)} in the table."
    s = s.reindex(s["ar_reaction"].abs().sort_values(ascending=False).index).head(n)
    parts = [f"{r.day0:%d %b} ({r.direction}, {_pct(r.ar_reaction)}, p {_p(r.p_reaction)})"
             for r in s.itertuples()]
    text = f"The {len(s)} largest reactions of {_name(market, names)} were " + "; ".join(parts) + "."
    mixed = s[s["direction"] == "mixed"]
    if len(mixed):
        text += (" Mixed sessions (escalation and de-escalation news on one day 0, e.g. "
                 + ", ".join(f"{d:%d %b}" for d in mixed["day0"])
                 + ") are in neither pooled group.")
    return text


def describe_pooled(pooled: PooledResult, series: str = "^GSPC", measure: str = "ar_reaction",
                    alpha: float = 0.05, directions: Sequence[str] = ("escalation",
                                                                      "de-escalation"), *,
                     names: Mapping[str, str] | None = None) -> str:
    """Pooled mean reaction per direction (sessions as units) and the robustness variants."""
    lvl = pooled.settings["level"]
    what = {"ar_reaction": "reaction", "ar0": "day-0 AR", "car": "CAR"}.get(measure, measure)
    parts = []
    for d in directions:
        if not pooled.has(d, series=series, measure=measure):
            parts.append(f"There is no {d} session for {_name(series, names)}.")
            continue
        r = pooled.get(d, series=series, measure=measure)
        if r["n"] < 2:
            parts.append(f"Only {r['n']} {d} session: too few to test.")
            continue
        sig = "different from zero" if r["p_t"] < alpha else "not distinguishable from zero"
        parts.append(
            f"Across the {r['n']} {d}-like sessions the {what} of {_name(series, names)} averaged "
            f"{_pct(r['mean'])} ({_ci(r['ci_low'], r['ci_high'], lvl)}; t test p {_p(r['p_t'])}, "
            f"{sig} at {alpha:.0%}; {r['n_neg']} negative and {r['n_pos']} positive, sign test "
            f"p {_p(r['p_sign'])}).")
    if pooled.has("escalation", series=series, measure=measure, variant="all_timed"):
        r = pooled.get("escalation", series=series, measure=measure, variant="all_timed")
        label = "sessions whose events all carry a clock time"
        if r["n"] < 2:
            parts.append(f"Restricted to {label}, {r['n']} escalation-like session remains "
                         f"({_pct(r['mean'])}): too few for a test, so this robustness check "
                         "can neither confirm nor refute the pooled result.")
        else:
            parts.append(f"Restricted to {label} ({r['n']} escalation-like), the mean is "
                         f"{_pct(r['mean'])} ({_ci(r['ci_low'], r['ci_high'], lvl)}, p "
                         f"{_p(r['p_t'])}).")
    cw = pooled.settings.get("car_window")
    for v, label in (("all", "all"), ("no_overlap", "the non-overlapping")):
        if measure == "car" or not pooled.has("escalation", series=series, measure="car",
                                               variant=v):
            continue
        r = pooled.get("escalation", series=series, measure="car", variant=v)
        win = f" {cw[0]:+d}..{cw[1]:+d}" if cw else ""
        if r["n"] < 2:
            parts.append(f"Over the CAR window{win}, {label} escalation-like sessions number "
                         f"{r['n']}: too few for a test.")
        else:
            dropped = ("; windows that share a session with another are dropped"
                       if v == "no_overlap" else "")
            parts.append(f"Over the CAR window{win} ({label} {r['n']} escalation-like "
                         f"sessions{dropped}) the mean CAR is {_pct(r['mean'])} "
                         f"({_ci(r['ci_low'], r['ci_high'], lvl)}, p {_p(r['p_t'])}).")
    return " ".join(parts)


def describe_placebo(pooled: PooledResult, table: MarketTable | None = None,
                     series: str = "^GSPC", measure: str = "ar_reaction",
                     alpha: float = 0.05, *,
                     names: Mapping[str, str] | None = None) -> str:
    """Whether effective dates announced in advance (the placebo) moved ``series``."""
    if not pooled.has("effective", series=series, measure=measure):
        return ("No session consists only of effective dates, so the placebo cannot be run with "
                "these events.")
    r = pooled.get("effective", series=series, measure=measure)
    dates = ""
    if table is not None:
        t = table.to_frame()
        d = t.loc[(t["direction"] == "effective") & (t["market"] == series), "day0"]
        dates = " (" + ", ".join(f"{x:%d %b}" for x in d.drop_duplicates()) + ")"
    head = (f"Placebo: on the {r['n']} sessions with nothing but a measure taking effect on a "
            f"date announced in advance{dates}, {_name(series, names)} moved {_pct(r['mean'])} on "
            "average")
    if r["n"] < 2:
        return head + "; one session is too few to test."
    text = head + f" ({_ci(r['ci_low'], r['ci_high'], pooled.settings['level'])}; t test p " \
                  f"{_p(r['p_t'])}, sign test p {_p(r['p_sign'])})."
    if r["p_t"] < alpha or r["p_sign"] < alpha:
        text += (" The placebo fails: these dates did move the market, which points to other news "
                 "on those days or to measures the market had not priced in advance.")
    else:
        bound = max(abs(r["ci_low"]), abs(r["ci_high"]))
        text += (f" No evidence that effective dates moved the market, as expected if markets "
                 f"price announcements, not dates; with {r['n']} sessions, though, the interval "
                 f"cannot exclude average moves of up to {100 * bound:.2f}%.")
    return text


def describe_cross_sections(table: MarketTable, group: str = "us_sector",
                            alpha: float = 0.05) -> str:
    """How often the ETF cross-section's reaction is significant by BMP vs Kolari-Pynnönen."""
    cx = table.cross_sections
    if cx.empty or group not in set(cx["group"]):
        return ""
    c = cx[(cx["group"] == group) & (cx["window"] == "reaction")]
    piv = c.pivot_table(index="session_id", columns="test", values="p_value")
    if not {"boehmer", "kolari_pynnonen"} <= set(piv.columns):
        return ""
    nb = int((piv["boehmer"] < alpha).sum())
    nk = int((piv["kolari_pynnonen"] < alpha).sum())
    rb = float(c["rbar"].median())
    label = {"us_sector": "sector ETFs", "country_etf": "country ETFs"}.get(group, group)
    return (f"The {label} share each session's date, and their estimation-window residuals are "
            f"correlated (median average correlation {rb:.2f}): the unadjusted BMP test finds a "
            f"reaction CAAR with p < {alpha} on {nb} of {len(piv)} sessions, the "
            f"Kolari-Pynnönen adjustment on {nk}.")


def describe_taco(taco: TacoResult, market: str = "^GSPC", alpha: float = 0.05, *,
                     names: Mapping[str, str] | None = None) -> str:
    """The TACO verdict for ``market`` from the signed-AR regression, its power and the break."""
    st = taco.settings
    lvl = st["level"]
    r = taco.get(market, "signed", "days")
    if not np.isfinite(r["slope"]):
        return (f"TACO: with {int(r['n'])} escalation-like sessions for {_name(market, names)} in this "
                "sample a trend cannot be estimated (a slope needs at least four).")
    text = (f"TACO, tested: regressing {_name(market, names)}'s reaction to the {int(r['n'])} "
            f"escalation-like sessions on time gives a slope of {_pp(r['slope'], 3)} per 30 days "
            f"({int(round(100 * lvl))}% CI {_pp(r['ci_low'], 3)} to {_pp(r['ci_high'], 3)}; "
            f"OLS with HC3 errors, p {_p(r['p'])}). The claim predicts a positive slope "
            "(escalations hurting less as the year went on). ")
    if r["p"] < alpha and r["slope"] > 0:
        text += "The data support it: the slope is positive and significant."
    elif r["p"] < alpha:
        text += ("The pinned data contradict it: the slope is negative and significant, so "
                 "escalations hurt more, not less, later in the year.")
    else:
        text += (f"The data neither confirm nor refute it: the slope is not significant, and with "
                 f"{int(r['n'])} sessions only a slope of about {_pp(r['mds'], 2)} per 30 days "
                 f"would be detected with {int(100 * st['power'])}% power.")
    a = taco.get(market, "absolute", "days")
    if np.isfinite(a["slope"]):
        text += (f" In absolute value the reactions changed by {_pp(a['slope'], 3)} per 30 days "
                 f"(p {_p(a['p'])}).")
    ba = taco.before_after.set_index("market").loc[market]
    brk = f"{st['break_date']:%d %B %Y}"
    if ba["n_after"] >= 1 and ba["n_before"] >= 1:
        text += (f" Before {brk} escalations moved it {_pct(ba['mean_before'])} on average "
                 f"({int(ba['n_before'])} sessions), from then on {_pct(ba['mean_after'])} "
                 f"({int(ba['n_after'])}); the difference, {_pp(ba['diff'])}, has Welch p "
                 f"{_p(ba['p'])}.")
        if np.isfinite(ba["p_after_zero"]):
            if ba["p_after_zero"] < alpha and ba["mean_after"] < 0:
                text += (f" After {brk} escalations still moved the market down significantly "
                         f"(p {_p(ba['p_after_zero'])}): the pinned data contradict the claim "
                         "that markets shrugged them off.")
            elif ba["p_after_zero"] < alpha:
                text += (f" After {brk} escalation days were significantly up days (p "
                         f"{_p(ba['p_after_zero'])}, {int(ba['n_after'])} sessions): not a "
                         "shrug either, so the claim's 'no reaction' does not describe them.")
            else:
                text += (f" The post-{brk} mean is not distinguishable from zero (p "
                         f"{_p(ba['p_after_zero'])}), in line with the claim, on "
                         f"{int(ba['n_after'])} sessions.")
    sec = taco.regressions[(taco.regressions["y"] == "signed")
                           & (taco.regressions["x"] == "days")
                           & (taco.regressions["market"] != market)].dropna(subset=["p"])
    if len(sec):
        up = int(((sec["p"] < alpha) & (sec["slope"] > 0)).sum())
        down = sec[(sec["p"] < alpha) & (sec["slope"] < 0)]["market"].tolist()
        holm = int((sec["p_holm"] < alpha).sum())
        text += (f" Of the {len(sec)} other markets tested, {up} show a significantly positive "
                 f"slope and {len(down)} a significantly negative one"
                 + (f" ({', '.join(_name(m, names) for m in down)})" if down else "")
                 + f" (unadjusted p < {alpha}); {holm} survive a Holm adjustment across them.")
    return text


def describe_asymmetry(taco: TacoResult, market: str = "^GSPC", alpha: float = 0.05, *,
                     names: Mapping[str, str] | None = None) -> str:
    """Was a walk-back worth more or less than a threat, in absolute value?"""
    a = taco.asymmetry.set_index("market").loc[market]
    if not np.isfinite(a["diff"]):
        return (f"Asymmetry: too few de-escalation ({int(a['n_deescalation'])}) or escalation "
                f"({int(a['n_escalation'])}) sessions to compare.")
    bigger = "more" if a["diff"] > 0 else "less"
    verdict = ("significant" if a["p"] < alpha else "not significant")
    return (f"Asymmetry: de-escalation-like sessions moved {_name(market, names)} "
            f"{_pct(a['mean_deescalation'])} "
            f"on average, escalation-like ones {_pct(-a['minus_mean_escalation'])}; a walk-back "
            f"was worth {abs(100 * a['diff']):.2f} pp {bigger} than a threat in absolute value "
            f"({int(round(100 * taco.settings['level']))}% CI {_pp(a['ci_low'])} to "
            f"{_pp(a['ci_high'])}; Welch p {_p(a['p'])}, {verdict} at {alpha:.0%}).")


def describe_firms(firms: FirmPanelResult, table: MarketTable | None = None, n: int = 3,
                   alpha: float = 0.05, market: str = "^GSPC") -> str:
    """Firm CAARs on the largest sessions with BMP and KP, and sectors by direction.

    "Largest" is by ``market``'s reaction in ``table`` (by the CAAR itself without a table, or
    when ``market`` is not in it)."""
    c = firms.caar("reaction")
    t = None if table is None else table.to_frame()
    if t is not None and market in set(t["market"]):
        size = t[t["market"] == market].set_index("session_id")["ar_reaction"].abs()
        c = c.assign(size=c["session_id"].map(size))
    else:
        c = c.assign(size=c["caar"].abs())
    top = c.sort_values("size", ascending=False).head(n)
    parts = [f"{r.day0:%d %b} ({r.direction}): CAAR {_pct(r.caar)}, BMP p {_p(r.boehmer_p)}, "
             f"Kolari-Pynnönen p {_p(r.kolari_pynnonen_p)}" for r in top.itertuples()]
    nb = int((c["boehmer_p"] < alpha).sum())
    nk = int((c["kolari_pynnonen_p"] < alpha).sum())
    text = (f"Firms: {firms.settings['n_firms']} S&P 500 members over "
            f"{count_text(len(c), 'session')}, one "
            f"event study of {firms.settings['n_observations']} observations. On the largest "
            "sessions: " + "; ".join(parts) + ". "
            f"Firms sharing a date are correlated (average residual correlation "
            f"{c['rbar'].min():.2f} to {c['rbar'].max():.2f}): BMP finds p < {alpha} on {nb} of "
            f"{len(c)} sessions, Kolari-Pynnönen on {nk}.")
    if len(firms.not_covered):
        text += (" Not covered by the firm prices (they end "
                 f"{pd.Timestamp(firms.as_of or firms.study.estimates['day0'].max()):%d %B %Y}): "
                 + ", ".join(firms.not_covered["session_id"]) + ".")
    bs = firms.by_sector()
    esc = bs[bs["direction"] == "escalation"].dropna(subset=["mean"])
    if len(esc) >= 2:
        lo, hi = esc.iloc[0], esc.iloc[-1]
        text += (f" On escalation-like sessions the hardest-hit sector was {lo['sector']} "
                 f"({_pct(lo['mean'])} per session, p {_p(lo['p_t'])}, {int(lo['n'])} sessions), "
                 f"the least {hi['sector']} ({_pct(hi['mean'])}, p {_p(hi['p_t'])}).")
    return text


def what_the_data_say(
    *,
    sessions: EventSessions,
    table: MarketTable,
    pooled: PooledResult,
    taco: TacoResult | None = None,
    firms: FirmPanelResult | None = None,
    market: str = "^GSPC",
    alpha: float = 0.05,
) -> str:
    """The whole "What the data say" section as Markdown paragraphs."""
    paras = [describe_sessions(sessions), describe_largest(table, market, alpha=alpha),
             describe_pooled(pooled, market, alpha=alpha),
             describe_placebo(pooled, table, market, alpha=alpha),
             describe_cross_sections(table, alpha=alpha)]
    if taco is not None:
        paras += [describe_taco(taco, market, alpha), describe_asymmetry(taco, market, alpha)]
    if firms is not None:
        paras.append(describe_firms(firms, table, alpha=alpha))
    if table.source:
        st = table.settings
        paras.append(f"{table.source.rstrip('.')}, as of {pd.Timestamp(table.as_of):%Y-%m-%d}. "
                     f"Normal-return model: {st['model']}"
                     + (f" against {st['proxy']}" if st["proxy"] else "")
                     + f", estimated over days {st['estimation'][0]}..{st['estimation'][1]}.")
    return "\n\n".join(p for p in paras if p)
