"""Start-up cost of the `tradeshock` command, before and after the lazy imports of issue 15.

Runs, as whole processes, in one run and on one machine:

* ``tradeshock --help``;
* ``tradeshock study`` on a CSV of 500 securities (SYNTHETIC returns, drawn here with a fixed seed:
  this measures the command, not a market) with the market model and the default battery;
* ``python -c "import tradeshock.cli"`` (what every command pays before it starts working),

each ``--repeat`` times, for this checkout and for a baseline checkout (``--baseline REV``, a git
revision; default the last commit before the library was split into subpackages), and prints the
median wall time of each and the ratio baseline / ours. It also prints the ten slowest imports of
``tradeshock study`` by ``python -X importtime``.

    .venv/bin/python benchmarks/bench_startup.py [--repeat 5] [--baseline 4157cc7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "4157cc7"  # main before issue 15 (flat package, eager CLI imports)


def synthetic_returns(path: Path, n_securities: int = 500, n_days: int = 400) -> None:
    """SYNTHETIC returns (not market data): market factor + noise, fixed seed."""
    rng = np.random.default_rng(2025)
    dates = pd.bdate_range("2023-01-02", periods=n_days)
    mkt = rng.normal(0.0004, 0.01, n_days)
    beta = rng.uniform(0.5, 1.5, n_securities)
    rets = mkt[:, None] * beta + rng.normal(0, 0.015, (n_days, n_securities))
    frame = pd.DataFrame(rets, index=dates, columns=[f"S{i:03d}" for i in range(n_securities)])
    frame.insert(0, "MKT", mkt)
    frame.index.name = "date"
    frame.round(6).to_csv(path)


def checkout(rev: str, where: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(where), rev],
                   check=True, capture_output=True)
    return where


def timed(cmd: list[str], env: dict, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = subprocess.run(cmd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if res.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{res.stderr[-2000:]}")
    return statistics.median(times)


def slowest_imports(cmd: list[str], env: dict, n: int = 10) -> list[tuple[int, str]]:
    res = subprocess.run([sys.executable, "-X", "importtime", *cmd], env=env, capture_output=True,
                         text=True)
    rows = []
    for line in res.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cum, name = (p.strip() for p in line[len("import time:"):].split("|"))
            if "." not in name.strip():  # top-level packages only
                rows.append((int(cum), name.strip()))
    return sorted(rows, reverse=True)[:n]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        tmp = Path(tmp)
        csv = tmp / "returns.csv"
        synthetic_returns(csv)
        base = checkout(args.baseline, tmp / "baseline")
        try:
            runs = {}
            for label, lib in (("baseline", base / "lib"), ("ours", ROOT / "lib")):
                env = dict(os.environ, PYTHONPATH=str(lib))
                entry = [sys.executable, "-c", "from tradeshock.cli import main; main()"]
                study_cmd = entry + ["study", "--returns", str(csv), "--market", "MKT",
                                     "--model", "market", "--estimation", "-250:-11",
                                     "--event", "-1:5", "--day0", "2024-06-03",
                                     "--out", str(tmp / f"out-{label}")]
                runs[label] = {
                    "tradeshock --help": timed(entry + ["--help"], env, args.repeat),
                    "import tradeshock.cli": timed([sys.executable, "-c", "import tradeshock.cli"],
                                                   env, args.repeat),
                    "tradeshock study (500 securities)": timed(study_cmd, env, args.repeat),
                }
                if label == "ours":
                    top = slowest_imports(study_cmd[1:], env)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                           capture_output=True)
    print(f"Start-up, median of {args.repeat} runs (seconds), baseline = {args.baseline}")
    print(f"{'command':<36}{'baseline':>10}{'ours':>10}{'ratio':>8}")
    for what in runs["ours"]:
        b, o = runs["baseline"][what], runs["ours"][what]
        print(f"{what:<36}{b:>10.2f}{o:>10.2f}{b / o:>7.1f}x")
    print("\nSlowest top-level imports of `tradeshock study` now (cumulative, ms):")
    for us, name in top:
        print(f"  {name:<28}{us / 1000:>8.0f}")


if __name__ == "__main__":
    main()
