"""`tradeshock doctor` reports a healthy install and names a broken one's problem and its fix."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tradeshock.pipeline import doctor
from tradeshock.data.cache import PriceCache
from tradeshock.cli import main
from tradeshock.data.prices import load_prices
from tradeshock.data.pin import copy_pinned


def test_healthy_install_passes_every_check(tmp_path):
    checks = doctor.run_checks(reports=tmp_path / "reports", cache=tmp_path / "cache")
    assert [c.name for c in checks if not c.ok] == []
    result = CliRunner().invoke(main, ["doctor", "--reports", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "installation healthy" in result.output


def test_missing_kernel_is_named_with_its_fix(tmp_path):
    c = doctor.check_kernel("no-such-kernel-xyz")
    assert not c.ok and "no Jupyter kernel named 'no-such-kernel-xyz'" in c.detail
    assert "make kernel" in c.fix
    result = CliRunner().invoke(main, ["doctor", "--kernel", "no-such-kernel-xyz",
                                       "--reports", str(tmp_path)])
    assert result.exit_code == 1
    assert "FAIL kernel" in result.output and "fix: run `make kernel`" in result.output


def test_modified_pinned_file_is_reported(tmp_path):
    pinned = copy_pinned(tmp_path / "snap")
    target = next(pinned.glob("series*.parquet"))
    target.write_bytes(target.read_bytes()[:1000])  # truncated
    c = doctor.check_pinned(pinned)
    assert not c.ok and target.name in c.detail
    assert "git checkout data/snapshot" in c.fix


def test_corrupted_cache_entry_is_reported_and_removed(tmp_path):
    cache = tmp_path / "cache"
    df = load_prices("^GSPC", "2025-04-01", "2025-04-10", source="pinned")
    PriceCache(cache).write("^GSPC", df.drop(columns="source"), origin="pinned")
    assert doctor.check_cache(cache).ok
    pfile = next(Path(cache).glob("*.parquet"))
    pfile.write_bytes(b"not a parquet file")
    c = doctor.check_cache(cache)
    assert not c.ok and "^GSPC" in c.detail and "removed" in c.detail
    assert doctor.check_cache(cache).ok  # removed, so healthy again


def test_unwritable_reports_folder_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    c = doctor.check_reports(blocker / "reports")  # a folder inside a file cannot be made
    assert not c.ok and "not writable" in c.detail and "--out" in c.fix


def test_bad_snapshot_folder_is_reported(tmp_path):
    c = doctor.check_snapshot_folder(tmp_path)
    assert not c.ok and "no universe.csv" in c.detail


def test_snapshot_folder_with_a_missing_series_file_is_reported(mini_copy):
    assert doctor.check_snapshot_folder(mini_copy).ok
    assert doctor.check_snapshot_folder(mini_copy).detail.endswith(": 5 series files")
    (mini_copy / "SPY.csv").unlink()
    c = doctor.check_snapshot_folder(mini_copy)
    assert not c.ok and "1 series file(s) listed in universe.csv are missing (SPY)" in c.detail
    assert "TRADESHOCK_SNAPSHOT" in c.fix


def test_online_sources_reachable_or_a_note(monkeypatch):
    """Reachable hosts are ok; unreachable ones are a note naming the host and the offline way,
    not a failure (the pinned snapshot serves); TRADESHOCK_OFFLINE skips the check."""
    import socket

    monkeypatch.delenv("TRADESHOCK_OFFLINE", raising=False)
    tried = []

    class _Conn:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def up(addr, timeout=None):
        tried.append(addr)
        return _Conn()

    monkeypatch.setattr(socket, "create_connection", up)
    c = doctor.check_online()
    assert c.ok and not c.note and c.detail == "Yahoo Finance, FRED reachable"
    assert tried == [("query1.finance.yahoo.com", 443), ("fred.stlouisfed.org", 443)]

    def down(addr, timeout=None):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", down)
    c = doctor.check_online()
    assert c.ok and c.note
    assert "unreachable: Yahoo Finance (query1.finance.yahoo.com: Name or service not known)" in c.detail
    assert "tradeshock refresh --snapshot DIR" in c.detail
    result = CliRunner().invoke(main, ["doctor"])
    assert "note online sources   unreachable" in result.output

    monkeypatch.setenv("TRADESHOCK_OFFLINE", "1")
    assert doctor.check_online().detail == "not checked: TRADESHOCK_OFFLINE is set"
