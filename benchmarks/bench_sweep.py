"""Benchmark of a render sweep (not a test): ``python benchmarks/bench_sweep.py [--n 50]``.

Renders ``notebooks/country_report.ipynb`` once per market (a sweep over ``symbol``) into a
temporary folder, every report executed (``force``), and prints in one run, for

* ``--jobs 1`` and ``--jobs 2`` with the process executor (a fresh process per report), and
* a Dask ``LocalCluster`` of 2 worker processes (``--executor dask --jobs 2``; cluster start-up
  and shut-down included in its total),

the total wall-clock time, the time per report (total / n), the mean execution time of one report
as measured inside its worker, and the speed-up vs ``--jobs 1`` (``jobs-1 total / total``).

The markets are the traded series of ``data/universe.csv`` (an exchange calendar and
``measure = simple_return``; the volatility index left out): 62 series, so ``--n`` up to 62 uses
one value per report (the default 50 is the issue's target). ``--n 6`` is a quick check. Prices
are loaded once before timing, with ``TRADESHOCK_CACHE`` pointing at a temporary folder (unless
set), so every configuration reads the same data the same way and the real cache is not touched.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tradeshock.paths import PROJECT_ROOT

NOTEBOOK = PROJECT_ROOT / "notebooks" / "country_report.ipynb"


def markets(n: int) -> list[str]:
    """The first ``n`` traded series of data/universe.csv, in file order."""
    from tradeshock.data.universe import load_universe

    u = load_universe()
    traded = u[(u.exchange_calendar != "") & (u.measure == "simple_return")]
    traded = traded[traded.group != "volatility"]
    symbols = list(traded.symbol)
    if n > len(symbols):
        raise SystemExit(f"--n {n}: data/universe.csv has only {len(symbols)} traded series")
    return symbols[:n]


def run(label: str, executor, jobs, out: Path, timeout: float):
    from tradeshock.pipeline.render import render_jobs

    t0 = time.perf_counter()
    summary = render_jobs(jobs, out, force=True, timeout=timeout, executor=executor)
    total = time.perf_counter() - t0
    failed = [f"{r.name} ({r.error})" for r in summary.failed]
    if failed:
        print(f"  {label}: {len(failed)} failed: {'; '.join(failed)[:2000]}")
    inner = [r.seconds for r in summary.records if r.seconds is not None]
    return total, sum(inner) / max(len(inner), 1), len(failed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="reports in the sweep (default 50)")
    ap.add_argument("--timeout", type=float, default=600, help="per-cell timeout, seconds")
    ap.add_argument(
        "--configs",
        nargs="+",
        default=["jobs1", "jobs2", "dask2"],
        choices=["jobs1", "jobs2", "dask2"],
        help="what to run (ratios need jobs1)",
    )
    args = ap.parse_args(argv)
    if args.n < 1:
        raise SystemExit("--n must be at least 1")

    scratch = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    os.environ.setdefault("TRADESHOCK_CACHE", str(scratch / "cache"))
    try:
        from tradeshock.pipeline.dask_executor import DaskExecutor
        from tradeshock.data.prices import load_prices
        from tradeshock.pipeline.process_executor import ProcessExecutor
        from tradeshock.pipeline.sweep import parse_sweep, plan_sweep, sweep_rows

        symbols = markets(args.n)
        jobs = plan_sweep([NOTEBOOK], sweep_rows([parse_sweep("symbol=" + ",".join(symbols))]))
        print(f"tradeshock sweep benchmark: country_report x {len(jobs)} markets "
              f"({', '.join(symbols[:6])}{', ...' if len(symbols) > 6 else ''})")
        print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
              f"TRADESHOCK_SNAPSHOT={os.environ.get('TRADESHOCK_SNAPSHOT') or '(unset)'}; "
              f"cache {os.environ['TRADESHOCK_CACHE']}")
        t0 = time.perf_counter()
        load_prices(symbols, start="2023-10-01")  # warm the cache once, outside the timings
        print(f"prices of {len(symbols)} markets loaded once before timing, "
              f"in {time.perf_counter() - t0:.1f} s")

        configs = {
            "jobs1": ("--jobs 1 (process)", lambda: ProcessExecutor(jobs=1)),
            "jobs2": ("--jobs 2 (process)", lambda: ProcessExecutor(jobs=2)),
            "dask2": ("dask LocalCluster(2)", lambda: DaskExecutor(jobs=2)),
        }
        rows = []
        for key in args.configs:
            label, make = configs[key]
            print(f"running {label} ...", flush=True)
            total, inner, n_failed = run(label, make(), jobs, scratch / key, args.timeout)
            rows.append((key, label, total, inner, n_failed))

        base = next((r[2] for r in rows if r[0] == "jobs1"), None)
        header = (f"{'configuration':<22} {'total (s)':>9} {'per report (s)':>14} "
                  f"{'in worker (s)':>13} {'speed-up vs jobs 1':>18} {'failed':>6}")
        print()
        print(header)
        print("-" * len(header))
        for _, label, total, inner, n_failed in rows:
            ratio = f"{base / total:.2f}x" if base else "n/a"
            print(f"{label:<22} {total:>9.1f} {total / len(jobs):>14.2f} {inner:>13.2f} "
                  f"{ratio:>18} {n_failed:>6}")
        print("\nper report = total / reports; in worker = mean execution + export time of one "
              "report inside its worker (kernel start-up included)")
        return 1 if any(r[4] for r in rows) else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
