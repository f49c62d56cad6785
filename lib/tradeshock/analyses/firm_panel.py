"""The S&P 500 members over every event session, as ONE event study.

:func:`firm_panel` builds one observation per (member, session), with ids such as
``"AAPL@2025-04-09"`` (``id -> (security, day 0)``, see
:func:`tradeshock.engine.study.event_study`), runs the engine once, then tests each session's
cross-section from that one result (:meth:`EventStudyResult.group_car_tests`,
:func:`tradeshock.engine.groups.group_car_tests`): the
members share the session's date,
so beside the unadjusted BMP test (Boehmer, Musumeci and Poulsen 1991) the Kolari-Pynnönen (2010)
adjustment for cross-correlation is essential. Per GICS sector and direction, the members'
session CAARs are pooled with **sessions as the units** (cross-session t and exact sign tests).

Units: returns, ARs, CARs and CAARs are simple returns as fractions. The pinned firm prices
(Yahoo daily adjusted closes) end in September 2025; sessions whose windows reach past the data
are listed in ``not_covered``, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.analyses.calendar_study import cross_session_tests
from tradeshock.analyses.sessions import DIRECTIONS, EventSessions
from tradeshock.data.firms import load_constituents, load_firms
from tradeshock.data.prices import source_summary
from tradeshock.data.returns import wide_returns
from tradeshock.engine.study import event_study
from tradeshock.errors import StudyError
from tradeshock.core.windows import parse_window

__all__ = ["FirmInputs", "FirmPanelResult", "firm_observations", "firm_panel", "load_firm_inputs"]

_MEMBER_FLAG = "in_sp500_2025-04-01"


@dataclass(frozen=True)
class FirmInputs:
    """Member returns (sessions × symbols, fractions), sector and name per symbol, members
    without prices, the source line and the last date."""

    returns: pd.DataFrame
    sectors: dict[str, str]
    names: dict[str, str]
    without_prices: list[str]
    source: str
    as_of: pd.Timestamp


def load_firm_inputs(start: str = "2023-10-02", *, source: str = "auto", snapshot: Any = None,
                     members_only: bool = True) -> FirmInputs:
    """Daily total returns of the S&P 500 members on 1 April 2025 (:func:`load_firms` with
    ``iex="none"``: adjusted closes only, no unadjusted IEX last trades) and their GICS sectors
    (:func:`load_constituents`; ``"Unknown"`` when missing, listed, never dropped)."""
    firms = load_firms(start=start, source=source, snapshot=snapshot, iex="none")
    cons = load_constituents(source=source, snapshot=snapshot).drop_duplicates("symbol")
    rets = wide_returns(firms)
    members = set(cons.loc[cons[_MEMBER_FLAG], "symbol"]) if members_only else set(rets.columns)
    cols = [c for c in rets.columns if c in members]
    sec = cons.set_index("symbol")["gics_sector"].astype("string").str.strip()
    sectors = {c: (str(sec[c]) if c in sec.index and pd.notna(sec[c]) and sec[c] else "Unknown")
               for c in cols}
    names = dict(zip(cons["symbol"], cons["name"]))
    return FirmInputs(
        returns=rets[cols], sectors=sectors, names=names,
        without_prices=sorted(members - set(cols)),
        source=source_summary(firms, as_of=False).replace("Market data", "Firm prices"),
        as_of=pd.Timestamp(firms["date"].max()),
    )


def firm_observations(returns: pd.DataFrame, sessions: EventSessions, event: tuple[int, int]
                      ) -> tuple[dict[str, tuple[str, pd.Timestamp]], pd.DataFrame, pd.DataFrame]:
    """``(observations, covered, not_covered)``: ids ``"SYM@<session_id>" -> (SYM, day0)`` for the
    sessions whose event window ``event`` lies inside the returns' dates."""
    ses = sessions.sessions
    index = returns.index
    lo, hi = event
    cov, nc = [], []
    for r in ses.itertuples():
        if r.day0 not in index:
            nc.append((r.session_id, r.direction, f"day 0 {r.day0:%Y-%m-%d} is not in the firm "
                       f"data ({index[0]:%Y-%m-%d}..{index[-1]:%Y-%m-%d})"))
        elif index.get_loc(r.day0) + hi >= len(index):
            nc.append((r.session_id, r.direction, f"the firm data end {index[-1]:%Y-%m-%d}, "
                       f"before day {hi:+d} of this session"))
        else:
            cov.append(r.session_id)
    covered = ses.set_index("session_id").loc[cov]
    day0 = dict(zip(covered.index, covered["day0"]))
    cols = list(returns.columns)
    obs = {f"{c}@{sid}": (c, day0[sid]) for sid in cov for c in cols}
    not_covered = pd.DataFrame(nc, columns=["session_id", "direction", "reason"])
    return obs, covered, not_covered


def firm_panel(
    returns: pd.DataFrame | FirmInputs,
    sessions: EventSessions,
    *,
    model: str = "mean",
    market: pd.Series | None = None,
    estimation: Any = (-260, -11),
    car_window: Any = (-1, 1),
    sectors: Mapping[str, str] | None = None,
    tests: Sequence[str] | None = None,
    sector_tests: Sequence[str] = ("boehmer", "kolari_pynnonen"),
    min_estimation_obs: int = 100,
    n_boot: int = 2000,
    seed: int | None = 0,
    level: float = 0.95,
) -> FirmPanelResult:
    """Every member × every covered session as one :func:`event_study` call, tested per session.

    ``returns``: members' returns (fractions) or a :class:`FirmInputs`. ``model``: ``"mean"``
    (default, the whole move beyond each firm's drift, comparable to the index reactions of the
    market table) or ``"market"`` / ``"market_adjusted"`` against ``market`` (a Series, e.g. the
    S&P 500's returns; then a firm's AR is its move beyond its beta times the index). ``tests``:
    CAR tests of the per-session battery (default: all of
    :data:`tradeshock.engine.inference.CAR_TESTS`), run on the reaction window and the CAR
    window. ``sector_tests`` are run per (session, GICS sector) on the reaction window;
    ``sectors=None`` takes them from a :class:`FirmInputs` (or skips the sector tables).
    """
    if isinstance(returns, FirmInputs):
        sectors = returns.sectors if sectors is None else sectors
        src, as_of = returns.source, returns.as_of
        returns = returns.returns
    else:
        src, as_of = None, None
    if model != "mean" and market is None:
        raise StudyError(f"firm_panel: model {model!r} needs market= (the proxy's returns)")
    est = tuple(parse_window(estimation, "estimation window", kind="days"))
    cw = tuple(parse_window(car_window, "CAR window", kind="days"))
    lo = min(cw[0], int(sessions.sessions["start_offset"].min()))
    hi = max(cw[1], 0)
    obs, covered, not_cov = firm_observations(returns, sessions, (lo, hi))
    if not obs:
        raise StudyError("firm_panel: no session lies inside the firm data; see not_covered")
    mser = None if market is None else market.reindex(returns.index)
    res = event_study(returns, obs, model=model, market=mser, estimation=est, event=(lo, hi),
                      car_windows=[cw], min_estimation_obs=min_estimation_obs, n_boot=n_boot,
                      seed=seed)
    kept = res.securities
    sym = np.array([i.split("@", 1)[0] for i in kept], dtype=object)
    sid = np.array([i.split("@", 1)[1] for i in kept], dtype=object)
    start = covered.loc[sid, "start_offset"].to_numpy(dtype=int)
    t_r = res.security_car_t(np.column_stack([start, np.zeros_like(start)]))
    cars = pd.DataFrame({"id": kept, "symbol": sym, "session_id": sid,
                         "sector": [(sectors or {}).get(s, "Unknown") for s in sym],
                         "car_reaction": t_r["car"].to_numpy(),
                         "t_reaction": t_r["statistic"].to_numpy(),
                         "p_reaction": t_r["p_value"].to_numpy()})
    groups = {s: list(g["id"]) for s, g in cars.groupby("session_id", sort=False)}
    wins = {s: [(int(covered.at[s, "start_offset"]), 0), tuple(cw)] for s in groups}
    st = res.group_car_tests(groups, wins, tests, n_boot=n_boot, seed=seed)
    st = st.rename(columns={"group": "session_id"})
    st.insert(1, "window", np.where((st["window_start"] == cw[0]) & (st["window_end"] == cw[1]),
                                    "car", "reaction"))
    st = st.join(covered[["day0", "direction"]], on="session_id")
    sector_session = None
    if sectors is not None and sector_tests:
        sg = {(s, sec): list(g["id"]) for (s, sec), g in cars.groupby(["session_id", "sector"])}
        sw = {k: [(int(covered.at[k[0], "start_offset"]), 0)] for k in sg}
        sector_session = res.group_car_tests(sg, sw, list(sector_tests), n_boot=n_boot,
                                             seed=seed)
        sector_session.insert(0, "session_id", [g[0] for g in sector_session["group"]])
        sector_session["group"] = [g[1] for g in sector_session["group"]]
        sector_session = sector_session.rename(columns={"group": "sector"})
        sector_session = sector_session.join(covered[["direction"]], on="session_id")
    return FirmPanelResult(
        study=res, cars=cars, session_tests=st, sector_session=sector_session,
        covered=covered.reset_index(), not_covered=not_cov, level=level,
        settings={"model": model, "estimation": est, "car_window": cw, "event_window": (lo, hi),
                  "min_estimation_obs": min_estimation_obs, "n_firms": returns.shape[1],
                  "n_observations": len(obs), "tests": tests},
        source=src, as_of=as_of,
    )


class FirmPanelResult:
    """Result of :func:`firm_panel`.

    * ``study``: the one :class:`~tradeshock.engine.study.EventStudyResult` (ids ``SYM@session``);
    * ``cars``: per observation ``id, symbol, session_id, sector, car_reaction, t_reaction,
      p_reaction`` (per-firm t, :func:`security_car_t`);
    * ``session_tests``: the battery per session and window (tidy);
    * :meth:`caar`: one row per session with the reaction CAAR, BMP and Kolari-Pynnönen;
    * :meth:`by_sector`: per direction and GICS sector, the sector's session CAARs pooled with
      sessions as units; ``sector_session``: BMP and Kolari-Pynnönen per (session, sector).
    """

    def __init__(self, *, study, cars, session_tests, sector_session, covered, not_covered,
                 level, settings, source=None, as_of=None) -> None:
        self.study = study
        self.cars = cars
        self.session_tests = session_tests
        self.sector_session = sector_session
        self.covered = covered
        self.not_covered = not_covered
        self.level = level
        self.settings = settings
        self.source = source
        self.as_of = as_of

    def __repr__(self) -> str:
        return (f"<FirmPanelResult {self.study.n_securities} observations, "
                f"{len(self.covered)} sessions, model={self.settings['model']}>")

    def caar(self, window: str = "reaction") -> pd.DataFrame:
        """One row per session: ``session_id, day0, direction, n, caar, t_test_p, boehmer,
        boehmer_p, kolari_pynnonen, kolari_pynnonen_p, rbar`` for ``window`` (``reaction`` or
        ``car``); tests missing from the battery are left out."""
        st = self.session_tests[self.session_tests["window"] == window]
        if st.empty:
            raise StudyError(f"caar: no tests for window {window!r}; use 'reaction' or 'car'")
        base = st.groupby("session_id", sort=False).agg(
            day0=("day0", "first"), direction=("direction", "first"), n=("n", "max"),
            caar=("caar", "first"), rbar=("rbar", "first"))
        for test in ("t_test", "boehmer", "kolari_pynnonen"):
            s = st[st["test"] == test].set_index("session_id")
            if len(s):
                base[test] = s["statistic"]
                base[f"{test}_p"] = s["p_value"]
        return base.reset_index()

    def by_sector(self) -> pd.DataFrame:
        """Per direction and sector: the sector's reaction CAAR per session, pooled over sessions.

        ``direction, sector, n (sessions), mean, median, sd, se, t, p_t, ci_low, ci_high, n_pos,
        n_neg, p_sign, mean_firms`` (cross-session t and exact sign tests, as
        :func:`tradeshock.analyses.calendar_study.pool_sessions`).
        """
        c = self.cars.join(self.covered.set_index("session_id")["direction"], on="session_id")
        per = c.groupby(["direction", "sector", "session_id"]).agg(
            caar=("car_reaction", "mean"), firms=("car_reaction", "count")).reset_index()
        rows = []
        for (d, sec), g in per.groupby(["direction", "sector"]):
            rows.append({"direction": d, "sector": sec,
                         **cross_session_tests(g["caar"].to_numpy(dtype=float), self.level),
                         "mean_firms": float(g["firms"].mean())})
        out = pd.DataFrame(rows)
        order = {d: i for i, d in enumerate(DIRECTIONS)}
        return out.sort_values(["direction", "mean"], key=lambda s: s.map(order)
                               if s.name == "direction" else s).reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """:meth:`caar` of the reaction window."""
        return self.caar("reaction")

    def summary(self) -> str:
        """Text table: the per-session CAAR with BMP and Kolari-Pynnönen p-values."""
        st = self.settings
        c = self.caar("reaction")
        lines = [
            "S&P 500 members over the event sessions".center(78), "=" * 78,
            f"Model {st['model']}; estimation {st['estimation'][0]}..{st['estimation'][1]}; "
            f"{st['n_firms']} firms x {len(self.covered)} sessions = {st['n_observations']} "
            f"observations ({len(self.study.excluded)} excluded); one event_study call",
            f"Sessions not covered by the firm data: {len(self.not_covered)}",
            "-" * 78,
            f"{'session':<12}{'direction':<15}{'n':>5}{'CAAR %':>9}{'p BMP':>9}{'p KP':>9}"
            f"{'rbar':>7}",
        ]
        for r in c.itertuples():
            lines.append(f"{r.session_id:<12}{r.direction:<15}{r.n:>5}{100 * r.caar:>9.2f}"
                         f"{getattr(r, 'boehmer_p', np.nan):>9.4f}"
                         f"{getattr(r, 'kolari_pynnonen_p', np.nan):>9.4f}{r.rbar:>7.3f}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
