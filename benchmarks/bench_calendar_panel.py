"""Benchmark of the calendar firm panel (issue 18; not a test).

Run: ``python benchmarks/bench_calendar_panel.py [--repeat 3] [--n-boot 2000] [--source pinned]``.

The S&P 500 members (about 490, real prices of the pinned snapshot unless ``--source`` says
otherwise) over every event session of the 2025 tariff calendar that their prices cover, with the
full CAR test battery (12 tests incl. a 2000-draw bootstrap) on two windows per session (the
reaction window and the CAR window -1..+1), constant-mean model, estimation -260..-11:

* **one call**: :func:`tradeshock.analyses.firm_panel.firm_panel`, i.e. ONE
  :func:`tradeshock.engine.study.event_study` over every (firm, session) observation (ids
  ``SYM@<session>``), then the battery per session from that one result
  (:meth:`EventStudyResult.group_car_tests`, :mod:`tradeshock.engine.groups`);
* **loop**: :func:`event_study` once per session on the same firms, reading ``car_tests``.

Both compute the same statistics; the script checks that they agree (max relative difference)
before it reports times. Times are the best of ``--repeat`` rounds after a warm-up round, the
variants alternating within each round (same run, same machine load); the engine alone (ARs and
CARs without the battery) is timed the same way, to show where the time goes. Memory: peak of
Python allocations (``tracemalloc``) during one extra run of the one-call panel, and the process's
peak resident set size at the end. Target (issue 18): the whole panel under 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd
from tradeshock.analyses.firm_panel import firm_observations, firm_panel, load_firm_inputs
from tradeshock.analyses.sessions import event_sessions
from tradeshock.engine.study import event_study

EST = (-260, -11)
CAR = (-1, 1)


def one_call(inp, sessions, n_boot: int):
    return firm_panel(inp, sessions, estimation=EST, car_window=CAR, sector_tests=(),
                      n_boot=n_boot, seed=0)


def per_session_loop(inp, covered: pd.DataFrame, event: tuple[int, int], n_boot: int,
                     tests: bool = True):
    frames = []
    for r in covered.itertuples():
        res = event_study(inp.returns, r.day0, model="mean", estimation=EST, event=event,
                          car_windows=[(int(r.start_offset), 0), CAR], min_estimation_obs=100,
                          n_boot=n_boot, seed=0)
        if tests:
            frames.append(res.car_tests.assign(session_id=r.session_id))
        else:
            frames.append(res.car)
    return pd.concat(frames, ignore_index=True)


def core_one_call(inp, sessions, event: tuple[int, int]):
    """The engine alone (no battery): one event_study over every observation, CARs read."""
    obs, _, _ = firm_observations(inp.returns, sessions, event)
    res = event_study(inp.returns, obs, model="mean", estimation=EST, event=event,
                      car_windows=[CAR], min_estimation_obs=100)
    return res.car


def interleaved(fns: dict, repeat: int) -> tuple[dict, dict]:
    """Best time of each function over ``repeat`` rounds, the functions alternating within a
    round (so that a change of machine load hits all of them), after one warm-up round."""
    outs = {k: f() for k, f in fns.items()}
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for k, f in fns.items():
            t0 = time.perf_counter()
            outs[k] = f()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best, outs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--source", default="pinned", choices=["pinned", "snapshot", "auto"])
    args = ap.parse_args(argv)
    os.environ.setdefault("TRADESHOCK_OFFLINE", "1")
    t0 = time.perf_counter()
    inp = load_firm_inputs(source=args.source)
    sessions = event_sessions()
    t_load = time.perf_counter() - t0

    panel0 = one_call(inp, sessions, args.n_boot)
    covered = panel0.covered
    event = panel0.settings["event_window"]
    best, outs = interleaved({
        "one": lambda: one_call(inp, sessions, args.n_boot),
        "loop": lambda: per_session_loop(inp, covered, event, args.n_boot),
        "core_one": lambda: core_one_call(inp, sessions, event),
        "core_loop": lambda: per_session_loop(inp, covered, event, args.n_boot, tests=False),
    }, args.repeat)
    panel, loop = outs["one"], outs["loop"]
    t_one, t_loop = best["one"], best["loop"]
    a = panel.session_tests.set_index(["session_id", "window_start", "window_end", "test"])
    b = loop.set_index(["session_id", "window_start", "window_end", "test"]).loc[a.index]
    diff = np.abs(a["statistic"] - b["statistic"]) / np.maximum(np.abs(b["statistic"]), 1e-12)
    max_rel = float(np.nanmax(diff.to_numpy()))
    if not max_rel < 1e-8:
        print(f"the two computations disagree: max relative difference {max_rel:.2e}")
        return 1

    tracemalloc.start()
    one_call(inp, sessions, args.n_boot)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux

    n_obs = panel.settings["n_observations"]
    n_tests = len(panel.session_tests)
    print(f"calendar firm panel benchmark (Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.machine()})")
    print(f"data: {inp.source.rstrip('.')}, to {inp.as_of:%Y-%m-%d}; loaded in {t_load:.1f} s")
    print(f"panel: {inp.returns.shape[1]} firms x {len(covered)} sessions = {n_obs} observations "
          f"({len(panel.study.excluded)} excluded); {len(panel.not_covered)} sessions past the "
          "data")
    print(f"battery: {n_tests} test rows ({n_tests // (2 * len(covered))} CAR tests x 2 windows x "
          f"{len(covered)} sessions), bootstrap {args.n_boot} draws")
    print(f"{'best of ' + str(args.repeat) + ', seconds':<40}{'one call':>10}{'loop':>10}"
          f"{'ratio':>8}")
    print(f"{'whole panel (engine + battery)':<40}{t_one:>10.2f}{t_loop:>10.2f}"
          f"{t_loop / t_one:>8.2f}")
    print(f"{'engine only (ARs, CARs; no battery)':<40}{best['core_one']:>10.2f}"
          f"{best['core_loop']:>10.2f}{best['core_loop'] / best['core_one']:>8.2f}")
    print(f"{'battery (difference)':<40}{t_one - best['core_one']:>10.2f}"
          f"{t_loop - best['core_loop']:>10.2f}")
    print("ratio = loop / one call (above 1: the one call is faster)")
    print(f"max relative difference of the statistics: {max_rel:.1e}")
    print(f"peak Python allocations (tracemalloc), one call: {peak / 2**20:.0f} MiB; "
          f"process peak RSS: {maxrss:.0f} MiB")
    print(f"target: whole panel under 10 s -> {'met' if t_one < 10 else 'NOT met'} "
          f"({t_one:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
