"""tradeshock refresh: new data in, reports re-rendered, locks, failures.

No network: online downloads go to a stand-in for ``yfinance.download`` that answers with the real
``^GSPC`` rows of the shared offline snapshot up to a date the test chooses ("what Yahoo has so
far"); every other ticker fails like an unreachable network. Offline refreshes use an *older*
real snapshot (the shared folder's ^GSPC and DGS10 files with the rows after 2025-12-31 removed)
and then the full shared folder as the newer one. No price is made up; the only synthetic
numbers are in the unit test of :func:`same_vintage`, which compares two small frames.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import MALFORMED
from tradeshock.pipeline import refresh as RF
from tradeshock.data.cache import PriceCache
from tradeshock.pipeline.outputs import OK, UP_TO_DATE
from helpers import needs_kernel

SYMBOL = "^GSPC"
OLD_CUT = "2025-12-31"  # the older snapshot ends here
ONLINE_CUT = "2026-03-31"  # "Yahoo" first has data up to here


def _cli(*args: str):
    from tradeshock.cli import main

    return CliRunner().invoke(main, ["refresh", *args], catch_exceptions=False)


# ============================================================================================
# Fixtures


@pytest.fixture
def nb_dir(tmp_path) -> Path:
    """A tiny notebook that loads ^GSPC with load_prices and records its as-of date."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = new_notebook(cells=[
        new_markdown_cell("# gspc"),
        new_code_cell(f'symbol = "{SYMBOL}"', metadata={"tags": ["parameters"]}),
        new_code_cell(
            "from tradeshock.data.prices import load_prices\n"
            "from tradeshock.pipeline.provenance import record\n"
            'prices = load_prices(symbol, start="2025-01-02")\n'
            'record(as_of=prices["date"].max(), source=prices.attrs["sources"][symbol])'
        ),
    ])
    nb.metadata["kernelspec"] = {"name": "tradeshock", "display_name": "tradeshock",
                                 "language": "python"}
    nbformat.write(nb, folder / "gspc.ipynb")
    return folder


def _real_rows(shared: Path, file: str, until: str | None = None) -> pd.DataFrame:
    df = pd.read_csv(shared / file, parse_dates=["date"])
    return df if until is None else df[df["date"] <= pd.Timestamp(until)]


@pytest.fixture
def old_snapshot(shared_snapshot, tmp_path) -> Path:
    """An older real snapshot: ^GSPC and DGS10 of the shared folder, rows up to OLD_CUT only."""
    folder = tmp_path / "old_snapshot"
    folder.mkdir()
    uni = pd.read_csv(shared_snapshot / "universe.csv", dtype=str, keep_default_na=False)
    rows = uni[uni["symbol"].isin([SYMBOL, "DGS10"])].copy()
    for i, r in rows.iterrows():
        lines = (shared_snapshot / r["file"]).read_text().splitlines()
        kept = [lines[0]] + [ln for ln in lines[1:] if ln[:10] <= OLD_CUT]
        (folder / r["file"]).write_text("\n".join(kept) + "\n")
        rows.loc[i, ["last_date", "rows"]] = [kept[-1][:10], str(len(kept) - 1)]
    rows.to_csv(folder / "universe.csv", index=False)
    if (shared_snapshot / "PROVENANCE.md").is_file():
        (folder / "PROVENANCE.md").write_text((shared_snapshot / "PROVENANCE.md").read_text())
    return folder


class Unreachable(ConnectionError):
    pass


@pytest.fixture
def fake_yahoo(monkeypatch, shared_snapshot):
    """yfinance.download answers ^GSPC with real rows up to ``state["until"]``; the rest fail.

    ``state["calls"]`` lists the (ticker, start, end) asked for.
    """
    import pandas_datareader.fred
    import yfinance
    from tradeshock.data import online

    gspc = _real_rows(shared_snapshot, "GSPC.csv")
    state = {"until": ONLINE_CUT, "calls": [], "fail": False}

    def download(ticker, start=None, end=None, period=None, **_):
        state["calls"].append((ticker, start, end))
        if ticker != SYMBOL or state["fail"]:
            raise Unreachable(f"Failed to establish a new connection ({ticker})")
        df = gspc[gspc["date"] <= pd.Timestamp(state["until"])]
        if start is not None:
            df = df[df["date"] >= pd.Timestamp(start)]
        if end is not None:  # exclusive, as in yfinance
            df = df[df["date"] < pd.Timestamp(end)]
        out = df.set_index("date")[["open", "high", "low", "close", "adj_close", "volume"]]
        out.columns = ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
        return out

    class FredReader:
        def __init__(self, *a, **k):
            pass

        def read(self):
            raise Unreachable("Failed to establish a new connection (fred)")

        def close(self):
            pass

    monkeypatch.setattr(yfinance, "download", download)
    monkeypatch.setattr(pandas_datareader.fred, "FredReader", FredReader)
    monkeypatch.setattr(online, "ONLINE", online.OnlineSettings(timeout=1, attempts=1, backoff=0))
    monkeypatch.delenv("TRADESHOCK_OFFLINE", raising=False)
    monkeypatch.delenv("TRADESHOCK_SNAPSHOT", raising=False)
    state["gspc"] = gspc
    return state


def _last(df: pd.DataFrame, until: str) -> str:
    return df.loc[df["date"] <= pd.Timestamp(until), "date"].max().strftime("%Y-%m-%d")


# ============================================================================================
# same_vintage and update_series (no kernel)


def test_same_vintage_compares_the_overlapping_dates_only():
    # synthetic numbers: this checks the comparison, not any market data
    d = pd.to_datetime(["2025-01-02", "2025-01-03", "2025-01-06", "2025-01-07"])
    cached = pd.DataFrame({"date": d[:3], "close": [1.0, 2.0, 3.0], "adj_close": [0.5, 1.0, 1.5]})
    fresh = pd.DataFrame({"date": d[1:], "close": [2.0, 3.0, 4.0], "adj_close": [1.0, 1.5, 2.0]})
    assert RF.same_vintage(cached, fresh)
    readjusted = fresh.assign(adj_close=fresh["adj_close"] * 0.99)
    assert not RF.same_vintage(cached, readjusted)
    assert not RF.same_vintage(cached, fresh.iloc[2:])  # no common date: cannot tell
    assert not RF.same_vintage(cached, fresh.assign(adj_close=float("nan")))


def test_update_series_downloads_then_appends_only_new_rows(fake_yahoo, tmp_path):
    gspc = fake_yahoo["gspc"]
    cache = PriceCache()
    first = RF.update_series(SYMBOL, end=ONLINE_CUT)
    assert first.status == "new" and first.last_after == pd.Timestamp(_last(gspc, ONLINE_CUT))
    assert fake_yahoo["calls"][-1][1] == "2023-10-01"  # no cache entry: from the pinned start
    meta = cache.info(SYMBOL)
    assert meta["covered_start"] == "2023-10-01" and meta["origin"] == "yahoo"

    again = RF.update_series(SYMBOL, end=ONLINE_CUT)
    assert again.status == "same" and again.rows_added == 0
    asked_from = pd.Timestamp(fake_yahoo["calls"][-1][1])
    assert asked_from == first.last_after - pd.Timedelta(days=RF.LOOKBACK_DAYS)
    assert cache.info(SYMBOL)["sha256"] == meta["sha256"], "nothing new: cache untouched"

    later = gspc["date"].max().strftime("%Y-%m-%d")
    fake_yahoo["until"] = later
    ext = RF.update_series(SYMBOL, end=later)
    expected = gspc[(gspc["date"] >= "2023-10-01")]
    assert ext.status == "extended" and ext.last_after == gspc["date"].max()
    assert ext.rows_added == int((expected["date"] > first.last_after).sum())
    cached = cache.read(SYMBOL)
    assert cached.covered_start == pd.Timestamp("2023-10-01")
    assert list(cached.prices["date"]) == list(expected["date"])
    assert cached.prices["close"].tolist() == pytest.approx(expected["close"].tolist())


def test_update_series_downloads_the_whole_range_again_when_values_changed(
        fake_yahoo, monkeypatch):
    RF.update_series(SYMBOL, end=ONLINE_CUT)
    monkeypatch.setattr(RF, "same_vintage", lambda cached, fresh: False)
    fake_yahoo["calls"].clear()
    res = RF.update_series(SYMBOL, end=ONLINE_CUT)
    assert res.status == "refetched"
    starts = [c[1] for c in fake_yahoo["calls"]]
    assert len(starts) == 2 and starts[1] == "2023-10-01", "tail first, then the whole range"
    assert PriceCache().read(SYMBOL).covered_start == pd.Timestamp("2023-10-01")


def test_failed_download_is_reported_and_leaves_the_cache(fake_yahoo):
    RF.update_series(SYMBOL, end=ONLINE_CUT)
    sha = PriceCache().info(SYMBOL)["sha256"]
    fake_yahoo["fail"] = True
    res = RF.update_series(SYMBOL, end=ONLINE_CUT)
    assert res.status == "failed" and not res.ok
    assert "Yahoo download of ^GSPC" in res.error and "Failed to establish" in res.error
    assert res.last_after == res.last_before
    assert PriceCache().info(SYMBOL)["sha256"] == sha


# ============================================================================================
# Failures that must leave the reports alone (no kernel)


def _existing_reports(out: Path) -> dict[str, bytes]:
    out.mkdir(parents=True, exist_ok=True)
    (out / ".tradeshock-reports").write_text("")  # a reports folder tradeshock made
    (out / "index.html").write_text("<p>the last good reports</p>")
    (out / "gspc.html").write_text("<p>report</p>")
    return {p.name: p.read_bytes() for p in out.iterdir()}


def _no_render(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("render_notebooks must not be called")

    monkeypatch.setattr(RF, "render_notebooks", boom)


def test_every_download_failing_exits_2_and_keeps_the_reports(
        network_down, monkeypatch, tmp_path, nb_dir):
    monkeypatch.delenv("TRADESHOCK_OFFLINE", raising=False)
    monkeypatch.delenv("TRADESHOCK_SNAPSHOT", raising=False)
    _no_render(monkeypatch)
    out = tmp_path / "reports"
    before = _existing_reports(out)
    res = _cli("--out", str(out), "--notebooks-dir", str(nb_dir))
    n, tried = len(RF.online_symbols()), RF.GIVE_UP_AFTER
    assert res.exit_code == 2
    assert f"all {n} series failed to download" in res.output
    assert f"after the first {tried} the rest were not tried" in res.output
    assert "Check the network" in res.output and "were not touched" in res.output
    assert f"FAILED {SYMBOL}: Yahoo download of {SYMBOL}" in res.output
    assert res.output.count("FAILED ") == tried, "one line per series tried"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    attempts = 2  # the network_down fixture's retry setting
    assert network_down["yahoo"] + network_down["fred"] == tried * attempts


def test_offline_without_a_snapshot_folder_exits_2(monkeypatch, tmp_path, nb_dir):
    monkeypatch.setenv("TRADESHOCK_OFFLINE", "1")
    monkeypatch.delenv("TRADESHOCK_SNAPSHOT", raising=False)
    _no_render(monkeypatch)
    out = tmp_path / "reports"
    before = _existing_reports(out)
    res = _cli("--out", str(out), "--notebooks-dir", str(nb_dir))
    assert res.exit_code == 2
    assert "no new data to refresh from" in res.output and "--snapshot DIR" in res.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_malformed_snapshot_exits_2_naming_file_and_line(monkeypatch, tmp_path, nb_dir):
    monkeypatch.delenv("TRADESHOCK_SNAPSHOT", raising=False)
    _no_render(monkeypatch)
    snap = tmp_path / "bad"
    snap.mkdir()
    (snap / "universe.csv").write_text("symbol,file\n^GSPC,GSPC.csv\n")
    (snap / "GSPC.csv").write_bytes((MALFORMED / "bad_date.csv").read_bytes())
    out = tmp_path / "reports"
    before = _existing_reports(out)
    res = _cli("--out", str(out), "--snapshot", str(snap), "--notebooks-dir", str(nb_dir))
    assert res.exit_code == 2
    assert "GSPC.csv" in res.output and "line 4" in res.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_unknown_notebook_is_bad_usage(tmp_path, nb_dir):
    res = _cli("--out", str(tmp_path / "r"), "--notebooks-dir", str(nb_dir), "nope")
    assert res.exit_code == 2 and "notebook 'nope' not found" in res.output


# ============================================================================================
# The refresh lock (no kernel)

_HOLDER = (
    "import sys\n"
    "from tradeshock.pipeline.lock import RenderLock\n"
    "lock = RenderLock(sys.argv[1], name=sys.argv[2], purpose='refresh').acquire()\n"
    "print('ready', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_a_second_refresh_exits_2_naming_the_holder(tmp_path, mini_copy, nb_dir, monkeypatch):
    monkeypatch.delenv("TRADESHOCK_SNAPSHOT", raising=False)
    out = tmp_path / "reports"
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out), RF.LOCK_NAME],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"  # it holds the lock now
        res = _cli("--out", str(out), "--snapshot", str(mini_copy), "--no-render")
        assert res.exit_code == 2
        assert "another tradeshock refresh is already writing to" in res.output
        assert f"pid {holder.pid} on" in res.output and "delete" in res.output
        assert not (out / RF.STATE_NAME).exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    res = _cli("--out", str(out), "--snapshot", str(mini_copy), "--no-render")
    assert res.exit_code == 0, res.output  # the lock went with its holder


def test_a_stale_lock_of_a_dead_process_is_cleared_and_said(tmp_path, mini_copy, monkeypatch):
    monkeypatch.delenv("TRADESHOCK_SNAPSHOT", raising=False)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "reports"
    out.mkdir()
    (out / RF.LOCK_NAME).write_text(json.dumps({
        "pid": dead.pid, "host": "localhost", "started": "2026-01-05T22:30:00+00:00",
        "command": "tradeshock refresh", "purpose": "refresh"}))
    res = _cli("--out", str(out), "--snapshot", str(mini_copy), "--no-render")
    assert res.exit_code == 0, res.output
    assert (f"cleared a stale refresh lock left by pid {dead.pid} (started "
            "2026-01-05T22:30:00+00:00), which is no longer running") in res.output
    assert "nothing rendered (--no-render)" in res.output
    assert not (out / RF.LOCK_NAME).exists()
    assert not (out / RF.STATE_NAME).exists(), "no render: the reports' data did not change"


# ============================================================================================
# Whole refreshes with a real kernel


@pytest.mark.slow
@pytest.mark.snapshot
@needs_kernel
def test_offline_refresh_renders_then_is_up_to_date_then_moves_with_a_newer_snapshot(
        old_snapshot, shared_snapshot, nb_dir, tmp_path, no_snapshot_env, monkeypatch):
    monkeypatch.setenv("TRADESHOCK_OFFLINE", "1")
    out = tmp_path / "reports"
    gspc = _real_rows(shared_snapshot, "GSPC.csv")
    old_as_of, new_as_of = _last(gspc, OLD_CUT), gspc["date"].max().strftime("%Y-%m-%d")
    args = ("--out", str(out), "--notebooks-dir", str(nb_dir))

    first = _cli(*args, "--snapshot", str(old_snapshot))
    assert first.exit_code == 0, first.output
    assert "gspc: ok, data as of — -> " + old_as_of in first.output
    report = json.loads((out / "manifest.json").read_text())["reports"]["gspc"]
    assert report["as_of"] == old_as_of and report["source"] == "snapshot"

    second = _cli(*args, "--snapshot", str(old_snapshot))
    assert second.exit_code == 0, second.output
    assert "no new data" in second.output
    assert f"reports are up to date as of {old_as_of}" in second.output
    assert "gspc: up to date" in second.output

    third = _cli(*args, "--snapshot", str(shared_snapshot))
    assert third.exit_code == 0, third.output
    assert f"{SYMBOL}  {old_as_of} -> {new_as_of}  (snapshot)" in third.output
    assert f"gspc: ok, data as of {old_as_of} -> {new_as_of}" in third.output
    assert json.loads((out / "manifest.json").read_text())["reports"]["gspc"]["as_of"] == \
        new_as_of
    assert f"data as of {new_as_of}" in (out / "gspc.html").read_text()
    state = RF.load_state(out)
    assert state["series"][SYMBOL] == new_as_of and state["reports"]["gspc"]["as_of"] == new_as_of
    assert not (out / RF.LOCK_NAME).exists()


@pytest.mark.slow
@pytest.mark.snapshot
@needs_kernel
def test_online_refresh_counts_new_cache_rows_although_the_render_fingerprint_ignores_the_cache(
        fake_yahoo, nb_dir, tmp_path):
    out = tmp_path / "reports"
    gspc = fake_yahoo["gspc"]
    first_as_of, later = _last(gspc, ONLINE_CUT), gspc["date"].max().strftime("%Y-%m-%d")

    first = RF.refresh(out_dir=out, notebooks_dir=nb_dir, today=ONLINE_CUT)
    assert first.mode == "online" and first.exit_code == 0
    fetch = {f.symbol: f for f in first.fetches}
    assert fetch[SYMBOL].status == "new"
    assert not fetch["DGS10"].ok and "FRED download of DGS10" in fetch["DGS10"].error
    assert len(first.failed_fetches) == len(first.fetches) - 1, "failures reported, not fatal"
    rec = first.summary["gspc"]
    assert rec.status == OK and rec.as_of == first_as_of and rec.source == "cache"

    second = RF.refresh(out_dir=out, notebooks_dir=nb_dir, today=ONLINE_CUT)
    assert {f.symbol: f.status for f in second.fetches}[SYMBOL] == "same"
    assert second.changed == [] and second.forced == [] and second.executed == []
    assert second.summary["gspc"].status == UP_TO_DATE
    assert second.reports_as_of == first_as_of

    fake_yahoo["until"] = later
    third = RF.refresh(out_dir=out, notebooks_dir=nb_dir, today=later)
    assert {f.symbol: f.status for f in third.fetches}[SYMBOL] == "extended"
    change = {c.symbol: c for c in third.changed}[SYMBOL]
    assert (change.before, change.after, change.source) == (first_as_of, later, "cache")
    assert third.forced == ["gspc"], "the cache is not in the render fingerprint: forced"
    assert third.summary["gspc"].status == OK and third.summary["gspc"].as_of == later
    assert third.reports_before == {"gspc": first_as_of}


@pytest.mark.slow
@needs_kernel
def test_a_failing_notebook_makes_refresh_exit_1(tmp_path, mini_copy, monkeypatch):
    monkeypatch.delenv("TRADESHOCK_SNAPSHOT", raising=False)
    out = tmp_path / "reports"
    fixtures = Path(__file__).resolve().parent / "notebooks"
    res = _cli("--out", str(out), "--snapshot", str(mini_copy), "--notebooks-dir", str(fixtures),
               "fails")
    assert res.exit_code == 1, res.output
    assert "fails: failed" in res.output and "their last good reports were kept" in res.output
    assert (out / "fails.failed.html").is_file()
    assert "fails" not in RF.load_state(out)["reports"], "a failed report is forced next time"
