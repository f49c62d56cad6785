"""``tradeshock data``: status, import, fetch, pin, check."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import MALFORMED, MINI_SNAPSHOT

from tradeshock.cli import main
from tradeshock.data.prices import load_prices


@pytest.fixture
def run(no_snapshot_env):
    runner = CliRunner()

    def invoke(*args, **kw):
        return runner.invoke(main, ["data", *args], catch_exceptions=False, **kw)

    return invoke


@pytest.mark.parametrize("cmd", [[], ["status"], ["import"], ["fetch"], ["pin"], ["check"]])
def test_every_command_has_help(run, cmd):
    res = run(*cmd, "--help")
    assert res.exit_code == 0 and "Usage:" in res.output


def test_status_lists_every_series_with_source_and_coverage(run):
    res = run("status")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].split()[:7] == ["symbol", "name", "first", "last", "rows", "source", "missing"]
    gspc = next(line for line in lines if line.startswith("^GSPC "))
    assert "2023-10-02" in gspc and "pinned" in gspc
    assert "89 series: 89 pinned" in res.output


def test_status_with_a_snapshot_folder(run):
    res = run("--snapshot", str(MINI_SNAPSHOT), "status", "--csv")
    assert res.exit_code == 0, res.output
    from io import StringIO

    st = pd.read_csv(StringIO(res.output)).set_index("symbol")
    assert st.loc["^GSPC", "source"] == "snapshot" and st.loc["^GSPC", "rows"] == 9
    assert st.loc["^GSPC", "missing_sessions"] == 0
    assert st.loc["^VIX", "source"] == "pinned"  # not in the mini folder


def test_status_of_unknown_symbol_suggests(run):
    res = CliRunner().invoke(main, ["data", "status", "GSPC"])
    assert res.exit_code == 2 and "^GSPC" in res.output


def test_check_passes_on_the_committed_snapshot(run):
    res = run("check")
    assert res.exit_code == 0, res.output
    assert "files match their sha256" in res.output
    assert "pinned: 89 series, as of" in res.output
    assert "market data OK" in res.output


def test_check_fails_clearly_on_a_corrupted_pinned_file(pinned_copy, monkeypatch):
    monkeypatch.delenv("TRADESHOCK_SNAPSHOT", raising=False)
    monkeypatch.setenv("TRADESHOCK_PINNED_DIR", str(pinned_copy))
    f = pinned_copy / "firms_daily.parquet"
    f.write_bytes(f.read_bytes()[:-10])
    res = CliRunner().invoke(main, ["data", "check"])
    assert res.exit_code != 0
    assert "firms_daily.parquet is modified or truncated" in res.output
    assert "git checkout data/snapshot" in res.output


def test_pin_then_no_changes(run, mini_copy, tmp_path):
    out = tmp_path / "pinned"
    res = run("pin", str(mini_copy), "--since", "2025-04-01", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "new pinned snapshot: 5 series" in res.output
    res = run("pin", str(mini_copy), "--since", "2025-04-01", "--out", str(out))
    assert "no changes" in res.output


def test_import_loads_the_snapshot_into_the_cache(run):
    res = run("import", str(MINI_SNAPSHOT))
    assert res.exit_code == 0, res.output
    assert "imported 5 series" in res.output
    df = load_prices(["^GSPC", "EWJ"], "2025-04-02", "2025-04-04")
    assert df.attrs["sources"] == {"^GSPC": "cache", "EWJ": "cache"}


def test_import_stops_on_a_malformed_file(run, mini_copy):
    shutil.copy(MALFORMED / "bad_date.csv", mini_copy / "GSPC.csv")
    res = CliRunner().invoke(main, ["data", "import", str(mini_copy)])
    assert res.exit_code == 2
    assert "GSPC.csv" in res.output and "line 4" in res.output


def test_fetch_writes_the_cache_and_reports_failures(run, monkeypatch, network_down):
    import yfinance

    def download(ticker, **kw):
        if ticker == "SPY":
            raise ConnectionError("network unreachable")
        idx = pd.DatetimeIndex(["2025-04-02", "2025-04-03"], name="Date")
        return pd.DataFrame({"Close": [5670.97, 5396.52], "Adj Close": [5670.97, 5396.52]},
                            index=idx)

    monkeypatch.setattr(yfinance, "download", download)
    res = CliRunner().invoke(main, ["data", "fetch", "^GSPC", "SPY", "--start", "2025-04-02",
                                    "--end", "2025-04-03"])
    assert res.exit_code == 1
    assert "ok     ^GSPC" in res.output and "FAILED SPY" in res.output
    df = load_prices("^GSPC", "2025-04-02", "2025-04-03")
    assert df.attrs["sources"] == {"^GSPC": "cache"}
