"""Benchmark of ``tradeshock render`` (not a test): ``python benchmarks/bench_render.py``.

Renders a suite of notebooks into a temporary folder and prints, in one run, for ``--jobs 1``
and ``--jobs 2``:

* **cold**: every notebook executed (``--force``) and exported: kernel start-up plus the work;
* **warm (API)**: the same call again with nothing changed: fingerprints checked, nothing
  executed, index and manifest rewritten (best of ``--repeat``);
* **warm (CLI)**: the same as a fresh ``tradeshock render`` process, i.e. what ``make report``
  costs when nothing changed, Python start-up and imports included (best of ``--repeat``).

The suite is ``notebooks/*.ipynb`` (the project's reports); while that folder has no notebooks it
falls back to four copies of the fixture ``tests/notebooks/good.ipynb`` (a parameters cell, a
house-style matplotlib figure, ``record()``), so the timings show kernel start-up and parallelism.
The data fingerprint reads ``TRADESHOCK_SNAPSHOT`` as the render does. Target (issue 6): warm < 3 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tradeshock.paths import PROJECT_ROOT
from tradeshock.pipeline.render import render_notebooks

WARM_TARGET = 3.0


def suite(notebooks_dir: Path, scratch: Path, copies: int) -> tuple[list[Path], str]:
    found = sorted(notebooks_dir.glob("*.ipynb"))
    if found:
        return found, f"{len(found)} notebooks in {notebooks_dir}"
    fixture = PROJECT_ROOT / "tests" / "notebooks" / "good.ipynb"
    folder = scratch / "suite"
    folder.mkdir()
    paths = []
    for i in range(copies):
        path = folder / f"good_{chr(ord('a') + i)}.ipynb"
        shutil.copy(fixture, path)
        paths.append(path)
    return paths, (
        f"{copies} copies of tests/notebooks/good.ipynb ({notebooks_dir} has no notebooks yet)"
    )


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def cli_warm(paths: list[Path], out: Path, jobs: int) -> float:
    cmd = [
        sys.executable,
        "-c",
        "from tradeshock.cli import main; main()",
        "render",
        *map(str, paths),
        "--out",
        str(out),
        "--jobs",
        str(jobs),
        "--no-progress",
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0 or "executed" not in proc.stdout:
        raise SystemExit(f"CLI render failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    if " 0 executed" not in proc.stdout:
        print("  (a warm CLI run re-rendered: inputs changed during the benchmark)")
    return seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notebooks-dir", type=Path, default=PROJECT_ROOT / "notebooks")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--copies", type=int, default=4, help="fixture copies in the fallback suite")
    ap.add_argument("--repeat", type=int, default=3, help="warm runs; the best is reported")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="bench_render_"))
    try:
        paths, described = suite(args.notebooks_dir, scratch, args.copies)
        print(f"tradeshock render benchmark: {described}")
        print(
            f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
            f"TRADESHOCK_SNAPSHOT={os.environ.get('TRADESHOCK_SNAPSHOT') or '(unset)'}"
        )
        rows = []
        for jobs in args.jobs:
            out = scratch / f"out-jobs{jobs}"
            cold, summary = timed(
                lambda out=out, jobs=jobs: render_notebooks(
                    paths, out, jobs=jobs, force=True, timeout=args.timeout
                )
            )
            failed = [r.name for r in summary.failed]
            if failed:
                print(f"  jobs={jobs}: failed: {', '.join(failed)} (times still reported)")
            warm_api: list[float] = []
            for _ in range(args.repeat + 3):
                seconds, warm = timed(
                    lambda out=out, jobs=jobs: render_notebooks(paths, out, jobs=jobs)
                )
                if warm.executed and not failed:
                    # An input changed since the cold run (e.g. a library file was edited):
                    # that run re-rendered; the next one measures "nothing changed" again.
                    print(
                        f"  jobs={jobs}: inputs changed during the benchmark; "
                        f"re-rendered {len(warm.executed)} notebook(s), measuring again"
                    )
                    continue
                warm_api.append(seconds)
                if len(warm_api) == args.repeat:
                    break
            if not warm_api:
                raise SystemExit("inputs kept changing; no warm run measured")
            warm_cli = (
                [cli_warm(paths, out, jobs) for _ in range(args.repeat)] if not failed else []
            )
            rows.append(
                (
                    jobs,
                    cold,
                    cold / len(paths),
                    min(warm_api),
                    min(warm_cli) if warm_cli else float("nan"),
                )
            )

        header = (
            f"{'jobs':>4}  {'cold (s)':>9}  {'cold/notebook':>13}  "
            f"{'warm API (s)':>12}  {'warm CLI (s)':>12}"
        )
        print()
        print(header)
        print("-" * len(header))
        for jobs, cold, per, wapi, wcli in rows:
            print(f"{jobs:>4}  {cold:>9.2f}  {per:>13.2f}  {wapi:>12.3f}  {wcli:>12.2f}")
        worst = max(max(r[3], r[4] if r[4] == r[4] else 0.0) for r in rows)
        verdict = "met" if worst < WARM_TARGET else "MISSED"
        print(f"\nwarm target < {WARM_TARGET:.0f} s: {verdict} (slowest warm run {worst:.2f} s)")
        if len(rows) >= 2 and rows[0][0] == 1:
            print(f"cold speed-up jobs {rows[1][0]} vs 1: {rows[0][1] / rows[1][1]:.2f}x")
        return 0 if worst < WARM_TARGET else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
