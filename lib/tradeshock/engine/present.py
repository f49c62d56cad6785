"""Presentation of event-study results: the tables people read, built once, here.

In the manner of linearmodels and arch, a results object keeps its numbers in tidy frames and
shows them through :class:`~tradeshock.core.tables.Table` objects (text and HTML, percent with a
fixed number of decimals, p-values as numbers with ``<0.001`` below, human labels):

* :func:`battery_table` -- the test battery of one CAR window as one compact table
  (test x statistic, p-value, n), instead of a wide multi-level dump;
* :func:`daily_table` -- AAR per event day with the p-values of a few key tests;
* :func:`caar_table` -- CAAR and mean BHAR per window;
* :func:`summary` -- all of it under a header of settings (``EventStudyResult.summary()``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from tradeshock.core.tables import Summary, Table
from tradeshock.errors import StudyError

__all__ = ["TEST_LABELS", "test_label", "battery_table", "daily_table", "caar_table", "summary",
           "window_label"]

#: Test code -> how a reader knows it (with the paper).
TEST_LABELS: dict[str, str] = {
    "brown_warner_1980": "Brown–Warner (1980) t",
    "brown_warner_1985": "Brown–Warner (1985) t",
    "t_test": "Cross-sectional t",
    "patell": "Patell (1976) z",
    "boehmer": "BMP (Boehmer et al. 1991)",
    "kolari_pynnonen": "Kolari–Pynnönen (2010)",
    "lamb": "Lamb (1995)",
    "sign": "Sign test",
    "generalized_sign": "Generalized sign (Cowan 1992)",
    "corrado_sign": "Corrado–Zivney (1992) sign",
    "rank": "Corrado (1989) rank",
    "modified_rank": "Modified rank (Campbell–Wasley 1993)",
    "grank": "GRANK (Kolari–Pynnönen 2011)",
    "wilcoxon": "Wilcoxon signed rank",
    "bootstrap": "Bootstrap CAAR",
}
#: Daily tests shown beside the AAR in :func:`daily_table`.
KEY_DAILY = ("t_test", "boehmer", "kolari_pynnonen", "rank")


def test_label(code: str) -> str:
    """The reader's name of a test code (the code itself when it has none)."""
    return TEST_LABELS.get(code, code)


def window_label(a: int, b: int) -> str:
    """``day 0``, ``day +1`` or ``days -1..+5``."""
    def d(x: int) -> str:
        return "0" if x == 0 else f"{x:+d}"
    return f"day {d(a)}" if a == b else f"days {d(a)}..{d(b)}"


def battery_table(result: Any, window: Sequence[int] | None = None,
                  tests: Sequence[str] | None = None) -> Table:
    """The CAAR tests of one window: one row per test, its statistic, p-value and n."""
    ct = result.car_tests
    if window is None:
        window = tuple(result.car_windows[0])
    a, b = int(window[0]), int(window[1])
    rows = ct[(ct["window_start"] == a) & (ct["window_end"] == b)]
    if rows.empty:
        raise StudyError(f"no CAAR tests for window {a}..{b}; the study's CAR windows are "
                         f"{', '.join(f'{x}..{y}' for x, y in result.car_windows)}. Fix: pass one "
                         "of them, or add the window to car_windows.")
    if tests is not None:
        rows = rows[rows["test"].isin(tests)]
    frame = pd.DataFrame({
        "test": rows["test"].map(test_label).to_numpy(),
        "statistic": rows["statistic"].to_numpy(),
        "p_value": rows["p_value"].to_numpy(),
        "n": rows["n"].to_numpy(),
    }).set_index("test")
    caar = float(rows["caar"].iloc[0]) if "caar" in rows else float("nan")
    return Table(frame, caption=f"CAAR over {window_label(a, b)}: {100 * caar:.2f}%, and its tests",
                 formats={"statistic": "num:2", "p_value": "p", "n": "int"},
                 labels={"statistic": "statistic", "p_value": "p-value", "n": "securities"},
                 notes=["Two-sided p-values; the reference distribution of each test is in "
                        "tradeshock.engine.inference."])


def daily_table(result: Any, tests: Sequence[str] = KEY_DAILY) -> Table:
    """AAR per event day (percent) with the p-values of the key daily tests."""
    aar = result.aar.set_index("day")
    frame = pd.DataFrame({"date": aar["date"], "aar": aar["aar"], "n": aar["n"]})
    daily = result.tests
    present = [t for t in tests if t in set(daily["test"])]
    if present:
        # a test without any p-value (e.g. cross-sectional tests of one series) stays, as dashes
        pv = daily.pivot_table(index="day", columns="test", values="p_value").reindex(
            columns=present)
        for t in present:
            frame[f"p {t}"] = pv[t].reindex(frame.index)
    labels = {"date": "date", "aar": "AAR (%)", "n": "securities",
              **{f"p {t}": f"p: {test_label(t)}" for t in present}}
    formats = {"date": "date", "aar": "pct", "n": "int", **{f"p {t}": "p" for t in present}}
    frame.index.name = "day"
    return Table(frame, caption="Average abnormal return by event day, percent",
                 formats=formats, labels=labels)


def caar_table(result: Any) -> Table:
    """CAAR and mean BHAR per CAR window, percent."""
    c = result.caar
    frame = pd.DataFrame({
        "window": [window_label(int(a), int(b)) for a, b in zip(c["window_start"], c["window_end"])],
        "caar": c["caar"].to_numpy(), "mean_bhar": c["mean_bhar"].to_numpy(),
        "n": c["n"].to_numpy()}).set_index("window")
    return Table(frame, caption="Cumulative average abnormal return by window, percent",
                 formats={"caar": "pct", "mean_bhar": "pct", "n": "int"},
                 labels={"caar": "CAAR (%)", "mean_bhar": "mean BHAR (%)", "n": "securities"})


def summary(result: Any, tests: bool = True) -> Summary:
    """Settings, CAAR per window, the battery of each window and the AAR per day."""
    st = result.settings
    header = {
        "Model": result.model,
        "Securities": f"{result.n_securities} of {st['n_requested']}",
        "Estimation window": f"{st['estimation']} ({st['estimation_rows']} rows)",
        "Event window": f"{st['event']} ({st['event_rows']} rows)",
        "Min. est. obs": st["min_estimation_obs"],
        "Excluded": len(result.excluded),
    }
    tables = [caar_table(result)]
    if tests:
        tables += [battery_table(result, w) for w in result.car_windows]
        tables.append(daily_table(result))
    notes = ["Returns are simple returns (fractions); AR, CAAR and BHAR shown in percent."]
    if len(result.excluded):
        notes.append("Excluded: " + "; ".join(
            f"{s} ({r})" for s, r in zip(result.excluded.security, result.excluded.reason)))
    return Summary("Event study results", header=header, tables=tables, notes=notes)
