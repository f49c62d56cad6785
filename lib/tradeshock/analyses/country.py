"""One market around the tariff events (the ``country_report`` notebook).

Each event is aligned to **the market's own exchange calendar** (day 0 is the first session of
that exchange that trades after the announcement); a constant-mean study of the market's simple
returns gives its abnormal returns (AR) and the cumulative abnormal return (CAR) over the
parameter ``car_window``, with the per-security CAR test of the engine (Student t with the
estimation-error term; Campbell, Lo and MacKinlay 1997, sec. 4.4). Events on which the market
did not trade on day 0, or whose windows the data cannot fill, are reported, never dropped
silently. Units: AR and CAR as fractions in frames, percent in tables and text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tradeshock.analyses.anatomy import ar_paths
from tradeshock.analyses.contract import (
    Contract, EventRef, Events, History, Symbol, Window, before, inside,
)
from tradeshock.analyses.overlap import shared_day0_lines
from tradeshock.analyses.timing import timing_text
from tradeshock.core.tables import Table
from tradeshock.engine.present import window_label
from tradeshock.engine.results import EventStudyResult
from tradeshock.engine.study import event_study
from tradeshock.events.align import Alignment, align

__all__ = ["PARAMETERS", "CountryStudy", "study_market", "car_paths", "chart_span", "event_marks",
           "describe", "legend_label"]

#: The fewest estimation-window sessions a study may ask for: the engine's default
#: ``min_estimation_obs`` of :func:`~tradeshock.engine.study.event_study` (a shorter window
#: could only give a report without results, so the contract refuses it before any work).
MIN_ESTIMATION_SESSIONS = 30

#: What the parameters of ``notebooks/country_report.ipynb`` must be.
PARAMETERS = Contract(
    "country_report",
    [
        Symbol("symbol", help="a traded index or ETF of data/universe.csv", priced=True,
               exchange=True),
        Events("events_studied", help="event ids or short names"),
        Window("estimation_window", help="the estimation window",
               min_length=MIN_ESTIMATION_SESSIONS),
        Window("event_window", help="the event window"),
        Window("car_window", help="the CAR window"),
    ],
    rules=[before("estimation_window", "event_window"), inside("car_window", "event_window")],
    history=[History(("symbol",), ("events_studied",), ("estimation_window", "event_window"))],
)


@dataclass
class CountryStudy:
    """Per-event studies of one market: alignments, results and what could not be studied."""

    symbol: str
    name: str
    calendar: str
    car_window: tuple[int, int]
    alignments: dict[str, Alignment]
    events: dict[str, EventRef]
    results: dict[str, EventStudyResult] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def day0_table(self) -> Table:
        """Day 0 of each event on this market, its timing, and whether the time was known."""
        rows = [{"event": self.events[e].label, "day0": a.day0,
                 "timing": timing_text(a),
                 "time known": "no (end of day assumed)" if a.untimed else "yes"}
                for e, a in self.alignments.items()]
        return Table(pd.DataFrame(rows).set_index("event"),
                     caption=f"Day 0 of each event on {self.name} ({self.calendar} sessions)",
                     formats={"day0": "date"}, labels={"day0": "day 0"},
                     notes=["Day 0 is the first session that trades after the announcement; "
                            "an event without a time of day is placed at the end of its day."])

    def to_frame(self, percent: bool = False) -> pd.DataFrame:
        """One row per event: day 0, AR on day 0, CAR over ``car_window`` with its test (t, df,
        p), or a note saying why the event could not be studied. Fractions unless ``percent``."""
        a, b = self.car_window
        rows = []
        for e, ref in self.events.items():
            row: dict[str, Any] = {"event_id": e, "event": ref.label,
                                   "day0": self.alignments[e].day0}
            res = self.results.get(e)
            if res is None:
                row["note"] = self.notes.get(e, "")
            else:
                t = res.car_by_security(_car_windows(self.car_window)).set_index(
                    ["window_start", "window_end"])
                d0, cw = t.loc[(0, 0)], t.loc[(a, b)]
                row.update(ar0=d0["car"], t0=d0["statistic"], p0=d0["p_value"], car=cw["car"],
                           car_low=cw["ci_low"], car_high=cw["ci_high"], t=cw["statistic"],
                           df=cw["df"], p=cw["p_value"], note="")
            rows.append(row)
        out = pd.DataFrame(rows)
        if percent:
            for col in ("ar0", "car", "car_low", "car_high"):
                if col in out:
                    out[col] = 100 * out[col]
        return out

    def car_table(self) -> Table:
        """AR on day 0 and CAR over the window, percent, with t and p, per event."""
        f = self.to_frame().set_index("event")
        cols = [c for c in ("day0", "ar0", "t0", "p0", "car", "t", "p", "note") if c in f]
        wl = window_label(*self.car_window)
        return Table(f[cols], caption=f"{self.name}: abnormal returns per event, percent",
                     formats={"day0": "date", "ar0": "pct", "t0": "num:2", "p0": "p",
                              "car": "pct", "t": "num:2", "p": "p", "note": "text"},
                     labels={"day0": "day 0", "ar0": "AR day 0 (%)", "t0": "t", "p0": "p",
                             "car": f"CAR {wl} (%)", "t": "t (CAR)", "p": "p (CAR)"},
                     notes=["Constant-mean model; t is the per-security CAR test (Student t with "
                            "the estimation-error term, Campbell, Lo and MacKinlay 1997, 4.4)."])


def study_market(returns: pd.Series, symbol: str, name: str, calendar: str,
                 events: Sequence[EventRef], estimation: tuple[int, int], event: tuple[int, int],
                 car_window: tuple[int, int], *,
                 calendar_frame: pd.DataFrame | None = None) -> CountryStudy:
    """Study each event on one market (see the module docstring).

    ``returns`` holds the market's simple returns (fractions) on its own sessions; an event whose
    day 0 has no return, or whose windows the data cannot fill, gets a note instead of a result.
    """
    s = returns.dropna()
    out = CountryStudy(symbol, name, calendar, tuple(car_window),
                       {e.event_id: align(e.event_id, calendar, events=calendar_frame)
                        for e in events}, {e.event_id: e for e in events})
    for e, al in out.alignments.items():
        if al.day0 not in s.index:
            out.notes[e] = (f"no return on day 0 ({al.day0:%Y-%m-%d}): {name} did not trade "
                            "or the data have no close that day")
            continue
        res = event_study(s.to_frame(symbol), al.day0, model="mean", estimation=estimation,
                          event=event, car_windows=_car_windows(car_window))
        if len(res.excluded):
            out.notes[e] = "; ".join(res.excluded["detail"].astype(str))
        else:
            out.results[e] = res
    return out


def _car_windows(car_window: Sequence[int]) -> list[tuple[int, int]]:
    """Day 0 and the CAR window, once each (a CAR window ``0:0`` is day 0 itself)."""
    return list(dict.fromkeys([(0, 0), (int(car_window[0]), int(car_window[1]))]))


def car_paths(study: CountryStudy) -> dict[str, pd.DataFrame]:
    """Per studied event (keyed by a legend label: its title, shortened to fit a legend, and
    its date, so that a cut title still says which event): ``day``, ``car`` and its 95% band,
    fractions."""
    return {legend_label(study.events[e]): ar_paths(r) for e, r in study.results.items()}


def legend_label(ref: EventRef, width: int = 44) -> str:
    """``Title… (2 Apr 2025)`` within about ``width`` + 14 characters (legends cut at 60)."""
    title = ref.title if len(ref.title) <= width else ref.title[: width - 1].rstrip() + "…"
    return f"{title} ({ref.date:%-d %b %Y})"


def chart_span(study: CountryStudy, months: int = 3) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Dates of the level chart: ``months`` before the first day 0 to ``months`` after the last."""
    days = [a.day0 for a in study.alignments.values()]
    off = pd.DateOffset(months=months)
    return min(days) - off, max(days) + off


def event_marks(study: CountryStudy) -> list[tuple[pd.Timestamp, str, str]]:
    """(day 0, kind, title) of each event, for :func:`~tradeshock.analyses.figures.mark_events`."""
    return [(study.alignments[e].day0, ref.kind, ref.title) for e, ref in study.events.items()]


def describe(study: CountryStudy, alpha: float = 0.05) -> str:
    """"What the data say" about one market, as Markdown bullets built from the results."""
    f = study.to_frame()
    wl = window_label(*study.car_window)
    lines = []
    done = f[f["note"] == ""] if "note" in f else f
    if done.empty:
        return (f"- No event could be studied on {study.name}: "
                + "; ".join(f"{r.event}: {r.note}" for r in f.itertuples()) + ".")
    lines.append(_extremes(study.name, wl, done))
    sig = done[done["p"] < alpha]
    lines.append(f"- {len(sig)} of {len(done)} studied events moved {study.name} by more than its "
                 f"estimation-window volatility explains at the {100 * alpha:g}% level over {wl}"
                 + (": " + ", ".join(sig["event"]) if len(sig) else "") + ".")
    skipped = f[f["note"] != ""] if "note" in f else f.iloc[0:0]
    if len(skipped):
        lines.append("- Not studied: " + "; ".join(f"{r.event} ({r.note})"
                                                 for r in skipped.itertuples()) + ".")
    lines += shared_day0_lines({e: a.day0 for e, a in study.alignments.items()},
                               {e: r.label for e, r in study.events.items()}, study.calendar)
    intraday = [study.events[e].label for e, a in study.alignments.items()
                if a.intraday and not a.untimed]
    if intraday:
        lines.append(f"- Announced during {study.calendar}'s trading hours, so day 0 is that "
                     f"same session: {', '.join(intraday)}.")
    assumed = [study.events[e].label for e, a in study.alignments.items()
               if a.intraday and a.untimed]
    if assumed:
        lines.append(f"- No time of day is known for {', '.join(assumed)}: placed at the end of "
                     f"its local day, which falls during {study.calendar}'s session, so day 0 is "
                     "that session and may only partly reflect the news.")
    return "\n".join(lines)


def _extremes(name: str, wl: str, done: pd.DataFrame) -> str:
    """The largest fall and the largest rise of the CAR over the studied events, named as what
    they are: one event is described alone; when every CAR has one sign, the other extreme is
    "the smallest fall" (or rise), not a "rise" (or "fall")."""
    def car(r: pd.Series, t: bool = False) -> str:
        return (f"CAR {100 * r['car']:+.2f}% (" + (f"t = {r['t']:.2f}, " if t else "")
                + f"{_p(r['p'])})")

    worst, best = done.loc[done["car"].idxmin()], done.loc[done["car"].idxmax()]
    if len(done) == 1:
        return (f"- Over {wl}, {name} moved by {car(worst, t=True)} after "
                f"{worst['event']}.")
    if worst["car"] >= 0:  # every CAR a rise
        return (f"- Every studied event was followed by a rise of {name} over {wl}: the largest "
                f"after {best['event']}, {car(best, t=True)}; the smallest after "
                f"{worst['event']}, {car(worst)}.")
    if best["car"] <= 0:  # every CAR a fall
        return (f"- Every studied event was followed by a fall of {name} over {wl}: the largest "
                f"after {worst['event']}, {car(worst, t=True)}; the smallest after "
                f"{best['event']}, {car(best)}.")
    return (f"- The largest fall of {name} over {wl} came after {worst['event']}: "
            f"CAR {100 * worst['car']:+.2f}% (t = {worst['t']:.2f}, "
            f"{_p(worst['p'])}); the largest rise after {best['event']}: "
            f"{100 * best['car']:+.2f}% ({_p(best['p'])}).")


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
