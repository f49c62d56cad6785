"""The fault matrix of issue 17, siblings: the cases the issue's examples stand for.

"Where an example above is one of a kind, look for its siblings: every command that writes, every
input that can change a result, every signal a scheduler sends." Each test is one sibling, with
its user-facing message asserted (what, where, how to fix) and nothing already good lost:

- writes: ``data pin --out``, ``study --out``, ``--bundle-to`` and ``refresh --no-render --out``
  refuse the project's source folders and folders of files tradeshock did not make; ``data
  fetch`` no longer says "ok" for a download the cache could not keep; a corrupted cache entry on
  a read-only disk is ignored with a true message; refresh words a state file it cannot write;
  an ``OSError`` no command worded is one line, not a traceback; ``doctor`` reports a refused
  reports folder and temporary files left by a crash;
- signals: SIGTERM, SIGHUP and Ctrl-C stop every command with one line, the right exit status
  (143, 129, 130), temporary files removed and the previous good state kept;
- inputs: the fingerprint that decides "up to date" covers the event calendar and universe as
  the library reads them, package versions and the kernel spec, the pinned snapshot, cache and
  snapshot folder by content, and not ``TRADESHOCK_OFFLINE`` (decided, documented).

No test depends on the wall clock; data are the committed fixtures, or synthetic where said.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import needs_kernel
from helpers import tiny_notebook as _tiny_notebook
from tradeshock.cli import main
from tradeshock.core import fileset
from tradeshock.core.signals import exit_status, stop_reason
from tradeshock.data.cache import PriceCache
from tradeshock.data.pin import pin
from tradeshock.data.pindest import check_pin_dest
from tradeshock.errors import (
    CacheCorruptionWarning,
    CacheWriteWarning,
    DataError,
    OutputFolderError,
    RenderError,
    Terminated,
)
from tradeshock.paths import PROJECT_ROOT
from tradeshock.pipeline import fingerprint as F
from tradeshock.pipeline.bundle import check_bundle_dest

SINCE = "2025-03-01"
needs_project = pytest.mark.skipif(PROJECT_ROOT is None, reason="needs the project checkout")


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


def _no_traceback(res) -> None:
    assert "Traceback" not in res.output, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ================================================================= writes: pin --out


@needs_project
def test_sibling_pin_out_refuses_the_project_and_its_source_folders(no_snapshot_env, mini_copy):
    """`data pin --out` replaces a whole folder: --out notebooks (or the project, lib, reports,
    data/events) would have swapped the project's files; refused before any work."""
    before = _tree(PROJECT_ROOT / "notebooks")
    for target in ("notebooks", ".", "lib/tradeshock", "reports", "data/events", "data"):
        folder = (PROJECT_ROOT / target).resolve()
        res = _cli("data", "pin", str(mini_copy), "--out", str(folder), "--since", SINCE)
        _no_traceback(res)
        assert res.exit_code == 2, (target, res.output)
        msg = " ".join(res.output.split())
        assert f"--out {folder} is" in msg  # what, where
        assert "replaces its output folder as a whole" in msg and "nothing was written" in msg
        assert "Fix: pin into the project's data/snapshot (drop --out)" in msg  # how
    assert _tree(PROJECT_ROOT / "notebooks") == before
    assert not (PROJECT_ROOT / "notebooks" / "manifest.json").exists()


def test_sibling_pin_out_refuses_a_folder_of_other_files(no_snapshot_env, mini_copy, tmp_path):
    """A folder that is not a pinned snapshot (someone's files) is refused; a new, an empty and
    an existing pinned-snapshot folder are fine."""
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.tex").write_text("do not lose me")
    res = _cli("data", "pin", str(mini_copy), "--out", str(other), "--since", SINCE)
    _no_traceback(res)
    assert res.exit_code == 2
    assert "holds files that are not a pinned snapshot (thesis.tex)" in res.output
    assert "move those files away first" in res.output
    assert sorted(p.name for p in other.iterdir()) == ["thesis.tex"]
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(DataError, match="is a file, not a folder"):
        check_pin_dest(a_file)

    empty = tmp_path / "empty"
    empty.mkdir()
    check_pin_dest(empty)
    check_pin_dest(tmp_path / "new")
    pin(mini_copy, out_dir=empty, since=SINCE)
    check_pin_dest(empty)  # a pinned snapshot: re-pinning it is the normal case
    (empty / "NOTES.txt").write_text("kept")  # foreign files inside a snapshot are carried over
    check_pin_dest(empty)


# ================================================================ writes: the price cache


@needs_project
def test_sibling_cache_dir_refuses_source_folders(no_snapshot_env, mini_copy):
    """`data --cache-dir data/snapshot import` (or TRADESHOCK_CACHE=notebooks) wrote cache
    entries into the pinned snapshot or among the sources; refused, nothing written."""
    before = _tree(PROJECT_ROOT / "data" / "snapshot")
    for target in ("data/snapshot", "notebooks", "data", "."):
        folder = (PROJECT_ROOT / target).resolve()
        res = _cli("data", "--cache-dir", str(folder), "import", str(mini_copy))
        _no_traceback(res)
        assert res.exit_code == 2, res.output
        msg = " ".join(res.output.split())
        assert f"the price cache {folder} is" in msg and "nothing was written" in msg
        assert "Fix: use the default cache" in msg and "TRADESHOCK_CACHE=DIR" in msg
    assert _tree(PROJECT_ROOT / "data" / "snapshot") == before
    assert not list((PROJECT_ROOT / "notebooks").glob("*.parquet"))


# ================================================================ writes: study --out

_RETURNS = (
    "date,A,B,M\n"
    + "".join(f"2024-01-{d:02d},{(d % 5 - 2) / 100},{(d % 3 - 1) / 100},{(d % 4 - 1.5) / 100}\n"
              for d in range(2, 31))
)  # synthetic returns: only the write path is under test


def _study(out: Path, returns: Path):
    return _cli("study", "--returns", str(returns), "--market", "M", "--model", "market",
                "--estimation", "2024-01-02:2024-01-20", "--event", "2024-01-22:2024-01-26",
                "--min-obs", "5", "--n-boot", "100", "--out", str(out))


@needs_project
def test_sibling_study_out_refuses_source_folders(tmp_path):
    """`study --out notebooks` (or data/snapshot, the project) wrote CSVs among the sources."""
    returns = tmp_path / "r.csv"
    returns.write_text(_RETURNS)
    for target in ("notebooks", "data/snapshot", "."):
        folder = (PROJECT_ROOT / target).resolve()
        res = _study(folder, returns)
        _no_traceback(res)
        assert res.exit_code == 2, res.output
        msg = " ".join(res.output.split())
        assert f"--out {folder} is the project folder or one of its source folders" in msg
        assert "choose a new or empty folder with --out" in msg
        assert not (folder / "daily_tests.csv").exists()


def test_sibling_study_out_never_over_files_it_did_not_write(tmp_path):
    """A folder holding someone's estimates.csv is refused (nothing written); tables an earlier
    study wrote (recognised by their header) are replaced as a set."""
    returns = tmp_path / "r.csv"
    returns.write_text(_RETURNS)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "estimates.csv").write_text("my own estimates\n")
    res = _study(theirs, returns)
    _no_traceback(res)
    assert res.exit_code == 2
    msg = " ".join(res.output.split())
    assert f"--out {theirs} already holds estimates.csv, which tradeshock study did not" in msg
    assert "(not a study table)" in msg
    assert "nothing was written" in msg and "move those files away first" in msg
    assert sorted(p.name for p in theirs.iterdir()) == ["estimates.csv"]
    assert (theirs / "estimates.csv").read_text() == "my own estimates\n"

    ours = tmp_path / "ours"
    assert _study(ours, returns).exit_code == 0
    first = _tree(ours)
    assert sorted(first) == sorted(["daily_tests.csv", "car_tests.csv", "abnormal_returns.csv",
                                    "estimates.csv", "excluded.csv"])
    res = _study(ours, returns)  # the same study again: allowed, same bytes
    assert res.exit_code == 0, res.output
    assert _tree(ours) == first


def test_sibling_study_out_read_only_is_a_message(tmp_path, monkeypatch):
    """11. `study --out` on a read-only disk: one line, nothing written (the full-disk case is
    in test_faults_data)."""
    from tradeshock.core import fileio

    returns = tmp_path / "r.csv"
    returns.write_text(_RETURNS)
    out = tmp_path / "ro"

    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system", str(out))

    monkeypatch.setattr(fileio, "make_temp_dir", read_only)
    res = _study(out, returns)
    _no_traceback(res)
    assert res.exit_code == 2
    assert f"cannot write the study tables to {out}: Read-only file system" in res.output
    assert "Nothing was written" in res.output


# ================================================================== writes: --bundle-to


@needs_project
def test_sibling_bundle_to_refuses_source_folders(tmp_path):
    """`--bundle-to notebooks/x.zip` (a new file, so not caught by "never over a file we did not
    make") dropped a zip among the sources; refused before the render."""
    for rel in ("notebooks/reports.zip", "data/snapshot/reports.zip", "reports.zip"):
        dest = (PROJECT_ROOT / rel).resolve()
        with pytest.raises(OutputFolderError) as err:
            check_bundle_dest(dest)
        msg = str(err.value)
        assert f"--bundle-to's folder {dest.parent} is the project folder or one of" in msg
        assert "--bundle-to /tmp/reports.zip" in msg
    res = _cli("render", "--bundle-to", str(PROJECT_ROOT / "notebooks" / "r.zip"), "nothing")
    _no_traceback(res)
    assert res.exit_code == 2
    assert not (PROJECT_ROOT / "notebooks" / "r.zip").exists()
    check_bundle_dest(tmp_path / "reports.zip")  # elsewhere: fine


# ============================================================== writes: refresh


@needs_project
def test_sibling_refresh_no_render_checks_out_before_writing_its_lock(tmp_path):
    """`refresh --no-render --out notebooks` wrote its lock file into notebooks/: the folder is
    now checked with or without rendering."""
    target = PROJECT_ROOT / "notebooks"
    res = _cli("refresh", "--no-render", "--out", str(target), "--snapshot", str(tmp_path))
    _no_traceback(res)
    assert res.exit_code == 2
    assert "the project's source folder" in res.output
    assert not (target / ".tradeshock-refresh.lock").exists()


def test_sibling_refresh_state_write_failure_is_a_message(tmp_path, monkeypatch):
    """The refresh's state file on a full disk: a RenderError saying the reports are in place
    and what the next refresh will do, not a traceback after a successful render."""
    from tradeshock.pipeline import refresh as RF

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / RF.STATE_NAME))

    monkeypatch.setattr(RF, "atomic_write_text", full)
    with pytest.raises(RenderError) as err:
        RF._save_state(tmp_path, {"format": 1})
    msg = str(err.value)
    assert f"could not record the refresh in {tmp_path / RF.STATE_NAME}" in msg
    assert "the disk is full" in msg and "renders them again" in msg and "Fix: free space" in msg


# ================================================================== writes: data fetch


def _fred_frame(*_a, **_k) -> pd.DataFrame:
    """Synthetic FRED download (the network is not used)."""
    from tradeshock.data.cache import standardize

    days = pd.to_datetime(["2025-01-02", "2025-01-03"])
    return standardize(pd.DataFrame({"date": days, "close": [4.57, 4.60]}))


def test_sibling_fetch_says_when_the_cache_cannot_keep_a_download(tmp_path, monkeypatch):
    """`data fetch` on a full cache disk printed "ok" (only a Python warning said the series was
    not kept); now it stops with what, where and how, and nothing half-written."""
    from tradeshock.data import online

    monkeypatch.setattr(online, "fetch_fred", _fred_frame)
    monkeypatch.delenv("TRADESHOCK_OFFLINE", raising=False)

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(PriceCache, "write", full)
    with pytest.warns(CacheWriteWarning, match="the disk is full"):
        online.fetch_online("DGS10", "2025-01-01", "2025-01-03")
    res = _cli("data", "fetch", "DGS10", "--start", "2025-01-01", "--end", "2025-01-03")
    _no_traceback(res)
    assert res.exit_code == 2
    msg = " ".join(res.output.split())
    assert "ok DGS10" not in msg
    assert "data fetch stopped: could not write DGS10 to the cache" in msg  # what, where
    assert "the disk is full" in msg and "was not kept" in msg  # why, state
    assert "tradeshock data --cache-dir DIR fetch" in msg  # how


def test_sibling_corrupt_cache_entry_on_a_read_only_disk(tmp_path, monkeypatch):
    """A corrupted cache entry that cannot be removed (read-only cache): the read said "it was
    removed" or raised PermissionError from inside load_prices; now it is ignored, truthfully."""
    cache = PriceCache(tmp_path / "cache")
    cache.write("DGS10", _fred_frame(), origin="fred", covered_start=None, covered_end=None)
    pfile = next((tmp_path / "cache").glob("*.parquet"))
    pfile.write_bytes(b"not parquet")

    def read_only(self, symbol):
        raise PermissionError(errno.EACCES, "Permission denied", str(pfile))

    monkeypatch.setattr(PriceCache, "remove", read_only)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cache.read("DGS10") is None
    text = " ".join(str(w.message) for w in caught if w.category is CacheCorruptionWarning)
    assert "is corrupted" in text and "could not be removed (Permission denied" in text
    assert "delete" in text and "is ignored" in text and "it was removed" not in text


# ============================================================ OSError: no traceback, ever


def test_sibling_an_unworded_os_error_is_one_line(monkeypatch, mini_copy):
    """Any OSError a command did not word itself (here: `data pin` hit by EIO) is one line with
    the reason and the fix, exit 2, not a traceback."""
    from tradeshock.data import pin as P

    def broken(*a, **k):
        raise OSError(errno.EIO, "Input/output error", "/dev/sdb1")

    monkeypatch.setattr(P, "pin", broken)
    res = _cli("data", "pin", str(mini_copy))
    _no_traceback(res)
    assert res.exit_code == 2
    msg = " ".join(res.output.split())
    assert "error: tradeshock data could not complete: an input/output error of the disk" in msg
    assert "'/dev/sdb1'" in msg and "none was left half-written" in msg and "Fix:" in msg


# ====================================================================== signals


@pytest.mark.parametrize("sig, status, name", [(signal.SIGTERM, 143, "SIGTERM"),
                                               (signal.SIGHUP, 129, "SIGHUP")])
def test_sibling_signal_during_pin_keeps_the_previous_pin(no_snapshot_env, mini_copy, tmp_path,
                                                          monkeypatch, sig, status, name):
    """A scheduler's SIGTERM (or a closed terminal's SIGHUP) in the middle of `data pin`: the
    build's temporary folder is removed, the previous pin is byte-identical, one line says what
    happened, exit 128 + signal. (Python's default ended the process without clean-up.)"""
    out = tmp_path / "pinned"
    pin(mini_copy, out_dir=out, since=SINCE)
    before = _tree(out)
    with open(mini_copy / "GSPC.csv", "a") as fh:
        fh.write("2025-04-11,,,,5363.36,,\n")
    real = fileset._write_bytes
    count = {"n": 0}

    def killed_midway(path, data):
        count["n"] += 1
        if count["n"] == 2:
            os.kill(os.getpid(), sig)  # delivered to the main thread: raises there
        real(path, data)

    monkeypatch.setattr(fileset, "_write_bytes", killed_midway)
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
    res = _cli("data", "pin", str(mini_copy), "--out", str(out), "--since", SINCE)
    _no_traceback(res)
    assert res.exit_code == status, res.output
    msg = " ".join(res.output.split())
    assert f"error: tradeshock data stopped by {name}" in msg
    assert "Run the same command again to finish" in msg
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mini", "pinned"], "temp left"
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)) == handlers


def test_sibling_ctrl_c_during_import_is_one_line(no_snapshot_env, mini_copy, tmp_path,
                                                  monkeypatch):
    """Ctrl-C in `data import`: click printed "Aborted!" and exit 1; now the same line as a
    signal, exit 130, and the cache as it was."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("TRADESHOCK_CACHE", str(cache))

    def interrupted(self, items):
        list(items)
        raise KeyboardInterrupt

    monkeypatch.setattr(PriceCache, "write_set", interrupted)
    res = _cli("data", "import", str(mini_copy))
    _no_traceback(res)
    assert res.exit_code == 130
    assert "tradeshock data stopped by Ctrl-C" in res.output
    assert not cache.exists() or not list(cache.glob("*.parquet"))


def test_sibling_stop_reason_names_the_signal():
    """render and refresh said "SIGTERM" for a SIGHUP too, and exited 143 for both."""
    hup = Terminated("stopped by signal SIGHUP")
    hup.signum = signal.SIGHUP
    assert (stop_reason(hup), exit_status(hup)) == ("SIGHUP", 129)
    assert (stop_reason(Terminated("x")), exit_status(Terminated("x"))) == ("SIGTERM", 143)
    assert (stop_reason(KeyboardInterrupt()), exit_status(KeyboardInterrupt())) == ("Ctrl-C", 130)


# ====================================================================== doctor


@needs_project
def test_sibling_doctor_reports_refused_folder_and_crash_leftovers(tmp_path):
    """doctor said "writable" for --reports notebooks (a folder every render refuses) and was
    silent about temporary files left by a crash."""
    from tradeshock.pipeline.doctor import check_reports

    bad = check_reports(PROJECT_ROOT / "notebooks")
    assert not bad.ok and "source folder" in bad.detail and "render into a new" in bad.fix
    out = tmp_path / "reports"
    out.mkdir()
    (out / ".index.html.abcd1234.tmp").write_text("half")
    c = check_reports(out)
    assert c.ok and c.note
    assert "1 temporary file(s) left by an interrupted run (.index.html.abcd1234.tmp)" in c.detail
    (out / ".index.html.abcd1234.tmp").unlink()
    c = check_reports(out)
    assert c.ok and not c.note


# ============================================================ inputs: the fingerprint


@pytest.fixture
def resources_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the package data (calendar, rates, universe) the fingerprint reads."""
    dest = Path(shutil.copytree(F.RESOURCES, tmp_path / "resources", symlinks=False))
    monkeypatch.setattr(F, "RESOURCES", dest)
    return dest


def _fp(data_dir: Path, **kw) -> str:
    return F.data_fingerprint(data_dir, pinned=data_dir / "snapshot", **kw)


def test_sibling_fingerprint_sees_the_calendar_the_library_reads(tmp_path, resources_copy):
    """The calendar and universe are read from package data (links into data/ in a checkout,
    copies in an install, or another checkout's data/ under TRADESHOCK_PROJECT): a changed row
    there must make reports out of date even when the project's data/ did not change."""
    data_dir = tmp_path / "data"
    (data_dir / "events").mkdir(parents=True)
    base = _fp(data_dir)
    assert base == _fp(data_dir)
    cal = resources_copy / "events" / "tariff_events_2025.csv"
    text = cal.read_text()
    assert "Liberation" in text
    cal.write_text(text.replace("Liberation", "Liberatiom", 1))  # one row, same size
    assert _fp(data_dir) != base, "a changed calendar row"
    cal.write_text(text)
    assert _fp(data_dir) == base
    uni = resources_copy / "universe.csv"
    uni.write_text(uni.read_text() + "\n")
    assert _fp(data_dir) != base, "a changed universe"


def test_sibling_fingerprint_sees_project_data_files(tmp_path, resources_copy):
    """data/events/* and data/*.csv of the project (what a curator edits) count too."""
    data_dir = tmp_path / "data"
    (data_dir / "events").mkdir(parents=True)
    (data_dir / "events" / "tariff_events_2025.csv").write_text("event_id\nA\n")
    (data_dir / "universe.csv").write_text("symbol\nX\n")
    base = _fp(data_dir)
    (data_dir / "events" / "tariff_events_2025.csv").write_text("event_id\nB\n")
    assert _fp(data_dir) != base
    (data_dir / "events" / "tariff_events_2025.csv").write_text("event_id\nA\n")
    (data_dir / "universe.csv").write_text("symbol\nY\n")
    assert _fp(data_dir) != base


def test_sibling_fingerprint_environment_variables(tmp_path, resources_copy, monkeypatch):
    """TRADESHOCK_SNAPSHOT (path and content), TRADESHOCK_CACHE and TRADESHOCK_PINNED_DIR
    (content) change the fingerprint; TRADESHOCK_OFFLINE does not (decided: online or offline,
    the served data come from the same files, which are hashed; a download lands in the cache)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.delenv("TRADESHOCK_SNAPSHOT", raising=False)
    monkeypatch.delenv("TRADESHOCK_PINNED_DIR", raising=False)
    monkeypatch.setenv("TRADESHOCK_CACHE", str(tmp_path / "cache"))
    base = F.data_fingerprint(data_dir)
    monkeypatch.setenv("TRADESHOCK_OFFLINE", "1")
    assert F.data_fingerprint(data_dir) == base
    monkeypatch.delenv("TRADESHOCK_OFFLINE")

    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "GSPC.csv").write_text("date,close\n2025-04-03,5396.52\n")
    monkeypatch.setenv("TRADESHOCK_SNAPSHOT", str(snap))
    with_snap = F.data_fingerprint(data_dir)
    assert with_snap != base
    (snap / "GSPC.csv").write_text("date,close\n2025-04-03,5396.53\n")
    assert F.data_fingerprint(data_dir) != with_snap
    monkeypatch.delenv("TRADESHOCK_SNAPSHOT")

    cache2 = tmp_path / "cache2"
    cache2.mkdir()
    (cache2 / "X.json").write_text("{}")
    monkeypatch.setenv("TRADESHOCK_CACHE", str(cache2))
    assert F.data_fingerprint(data_dir) != base
    monkeypatch.setenv("TRADESHOCK_CACHE", str(tmp_path / "cache"))

    pinned = tmp_path / "pinned"
    pinned.mkdir()
    (pinned / "manifest.json").write_text('{"files": {}}')
    monkeypatch.setenv("TRADESHOCK_PINNED_DIR", str(pinned))
    p1 = F.data_fingerprint()
    (pinned / "manifest.json").write_text('{"files": {"a": 1}}')
    assert F.data_fingerprint() != p1
    same = tmp_path / "pinned-copy"
    shutil.copytree(pinned, same)
    monkeypatch.setenv("TRADESHOCK_PINNED_DIR", str(same))
    assert F.data_fingerprint() == F.data_fingerprint(pinned=pinned), "content, not path"


def test_sibling_fingerprint_package_versions_and_kernel(tmp_path, monkeypatch):
    """An upgraded pandas / statsmodels / exchange_calendars, or a kernel re-registered with
    another interpreter, can change a result: the environment part changes, so does the digest;
    the Jupyter plumbing (papermill) does not count."""
    nb = _tiny_notebook(tmp_path / "nb.ipynb", "x: int = 1", "print(x)")
    versions = {"python": "3.12.0", "pandas": "2.2.3", "statsmodels": "0.14.4",
                "exchange_calendars": "4.5", "papermill": "2.6.0"}
    monkeypatch.setattr(F, "package_versions", lambda: dict(versions))
    monkeypatch.setattr(F, "_kernel_spec", lambda k: {"argv": ["/venv/bin/python"], "env": {}})
    kw = {"data": "d", "library": "l"}
    base = F.input_fingerprint(nb, {"x": 1}, **kw)
    assert "environment" in base.parts
    assert F.input_fingerprint(nb, {"x": 1}, **kw) == base
    for pkg, new in (("pandas", "2.3.0"), ("statsmodels", "0.15.0"),
                     ("exchange_calendars", "4.6"), ("python", "3.13.0")):
        old = versions[pkg]
        versions[pkg] = new
        assert F.input_fingerprint(nb, {"x": 1}, **kw).digest != base.digest, pkg
        versions[pkg] = old
    versions["papermill"] = "9.9"
    assert F.input_fingerprint(nb, {"x": 1}, **kw).digest == base.digest
    monkeypatch.setattr(F, "_kernel_spec", lambda k: {"argv": ["/other/python"], "env": {}})
    assert F.input_fingerprint(nb, {"x": 1}, **kw).digest != base.digest
    assert F.input_fingerprint(nb, {"x": 2}, **kw).digest != base.digest  # parameters


def test_sibling_fingerprint_library_source(tmp_path):
    """A changed library module (not cli/) changes the library part."""
    pkg = tmp_path / "tradeshock"
    (pkg / "engine").mkdir(parents=True)
    (pkg / "cli").mkdir()
    (pkg / "engine" / "study.py").write_text("X = 1\n")
    (pkg / "cli" / "x.py").write_text("Y = 1\n")
    base = F.library_fingerprint(pkg)
    (pkg / "cli" / "x.py").write_text("Y = 2\n")
    assert F.library_fingerprint(pkg) == base, "the command line does not change results"
    (pkg / "engine" / "study.py").write_text("X = 2\n")
    assert F.library_fingerprint(pkg) != base


@needs_kernel
def test_sibling_render_after_a_calendar_change_is_not_up_to_date(tmp_path, monkeypatch):
    """End to end: render, render again (up to date), change one row of the event calendar the
    library reads, render: executed again, not "up to date"."""
    from tradeshock.pipeline import render as R
    from tradeshock.pipeline.outputs import OK, UP_TO_DATE

    res_copy = Path(shutil.copytree(F.RESOURCES, tmp_path / "resources", symlinks=False))
    monkeypatch.setattr(F, "RESOURCES", res_copy)
    nb = _tiny_notebook(tmp_path / "cal.ipynb", "n: int = 1", "print(n)")
    out = tmp_path / "reports"
    assert R.render_notebooks([nb], out)["cal"].status == OK
    assert R.render_notebooks([nb], out)["cal"].status == UP_TO_DATE
    cal = res_copy / "events" / "tariff_events_2025.csv"
    cal.write_text(cal.read_text().replace("Liberation", "Liberatiom", 1))
    third = R.render_notebooks([nb], out)["cal"]
    assert third.status == OK and third.executed
    manifest = json.loads((out / "manifest.json").read_text())
    assert "environment" in manifest["reports"]["cal"]["inputs"]


def test_sibling_sigterm_between_two_moves_of_a_set_rolls_back(tmp_path):
    """A report's notebook, attachments and HTML move as one set; SIGTERM (Terminated) after the
    first move left a new notebook beside the old HTML (only OSError was rolled back). Now the
    set is as it was, and no backup file is left."""
    from tradeshock.core.fileio import replace_together

    dst = tmp_path / "out"
    dst.mkdir()
    for name in ("r.ipynb", "r.html"):
        (dst / name).write_text(f"old {name}")
    new = tmp_path / "new"
    new.mkdir()
    for name in ("r.ipynb", "r.html"):
        (new / name).write_text(f"new {name}")
    moves = {"n": 0}

    def stopped_midway(src, d):
        moves["n"] += 1
        if moves["n"] == 2:
            raise Terminated("stopped by signal SIGTERM")
        os.replace(src, d)

    with pytest.raises(Terminated):
        replace_together([(new / "r.ipynb", dst / "r.ipynb"), (new / "r.html", dst / "r.html")],
                         replace=stopped_midway)
    assert {p.name: p.read_text() for p in dst.iterdir()} == {
        "r.ipynb": "old r.ipynb", "r.html": "old r.html"}


# ====================================================== temporary files of a killed writer


def _aged(path: Path) -> Path:
    os.utime(path, (0, 0))  # last modified in 1970: a crashed run's (no wall clock needed)
    return path


def test_sibling_pin_killed_between_renames_is_recovered(no_snapshot_env, mini_copy, tmp_path):
    """`kill -9` of `data pin` between its two renames left data/snapshot missing (every render
    failed) and the previous snapshot in .snapshot.old.XXXXXXXX.tmp; a killed build left
    .snapshot.new.XXXXXXXX.tmp forever. The next pin restores and removes them, and says so."""
    from tradeshock.data.pindest import recover_pin_dest

    out = tmp_path / "pinned"
    pin(mini_copy, out_dir=out, since=SINCE)
    before = _tree(out)
    aside = tmp_path / ".pinned.old.AbCd1234.tmp"
    os.rename(out, aside)
    _aged(aside)
    build = tmp_path / ".pinned.new.EfGh5678.tmp"
    build.mkdir()
    (build / "series.parquet").write_bytes(b"half")
    _aged(build)
    fresh = tmp_path / ".pinned.new.IjKl9012.tmp"  # a pin running now: not touched
    fresh.mkdir()
    other = tmp_path / ".notes.txt.MnOp3456.tmp"  # another writer's: not touched
    other.write_text("x")
    _aged(other)

    notes = recover_pin_dest(out, now=10_000.0)
    assert notes[0] == f"restored {out} from {aside.name}, left by an interrupted pin"
    assert "removed 1 temporary folder(s)" in notes[1] and build.name in notes[1]
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == sorted(
        [fresh.name, other.name])

    shutil.rmtree(fresh)
    res = _cli("data", "pin", str(mini_copy), "--out", str(out), "--since", SINCE)
    assert res.exit_code == 0, res.output  # nothing left to recover: a plain re-pin
    assert "interrupted pin" not in res.output


def test_sibling_study_and_bundle_remove_a_killed_run_leftovers(tmp_path, monkeypatch):
    """A study or bundle killed with -9 left its staging folder / temporary zip in the user's
    folder forever; the next run removes those older than an hour, and only its own names."""
    import time

    from tradeshock.core.fileio import clean_temp_of

    returns = tmp_path / "r.csv"
    returns.write_text(_RETURNS)
    out = tmp_path / "study"
    out.mkdir()
    staging = out / ".tradeshock-set.AbCd1234.tmp"
    staging.mkdir()
    (staging / "daily_tests.csv").write_text("half")
    _aged(staging)
    backup = out / ".estimates.csv.EfGh5678.tmp"
    backup.write_text("old")
    theirs = out / ".thesis.tex.IjKl9012.tmp"  # someone else's temporary file
    theirs.write_text("x")
    _aged(theirs)
    _aged(backup)
    assert _study(out, returns).exit_code == 0
    hidden = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    assert hidden == [theirs.name]

    zip_dest = tmp_path / "share" / "r.zip"
    zip_dest.parent.mkdir()
    left = zip_dest.parent / ".r.zip.QrSt3456.tmp"
    left.write_bytes(b"PK half")
    _aged(left)
    assert clean_temp_of(zip_dest, time.time() - 3600) == [left]



def test_sibling_fingerprint_sees_modules_beside_the_notebook(tmp_path, monkeypatch):
    """The kernel runs in the notebook's folder, so a notebook can `import helper` from a
    helper.py beside it; a changed helper must re-render. Without modules beside it, the
    notebook part is the notebook's digest alone (no re-render for existing reports)."""
    monkeypatch.setattr(F, "_kernel_spec", lambda k: "spec")
    nb = _tiny_notebook(tmp_path / "nb.ipynb", "x: int = 1", "import helper\nprint(helper.X)")
    kw = {"data": "d", "library": "l", "environment": "e"}
    alone = F.input_fingerprint(nb, {}, **kw)
    assert alone.parts["notebook"] == F.notebook_digest(nb)
    (tmp_path / "helper.py").write_text("X = 1\n")
    with_helper = F.input_fingerprint(nb, {}, **kw)
    assert with_helper.digest != alone.digest
    (tmp_path / "helper.py").write_text("X = 2\n")
    assert F.input_fingerprint(nb, {}, **kw).digest != with_helper.digest


_FETCH_SCRIPT = """
import sys, time
from pathlib import Path
import pandas as pd
from tradeshock.data import online
from tradeshock.data.cache import standardize

ready = Path(sys.argv[1])

def slow_fred(series_id, start=None, end=None):  # synthetic: the network is not used
    ready.write_text("fetching")
    time.sleep(120)
    return standardize(pd.DataFrame({"date": pd.to_datetime(["2025-01-02"]), "close": [1.0]}))

online.fetch_fred = slow_fred
from tradeshock.cli import main
sys.argv = ["tradeshock", "data", "fetch", "DGS10", "--start", "2025-01-01", "--end", "2025-01-03"]
main()
"""


@pytest.mark.parametrize("sig, status, name", [(signal.SIGTERM, 143, "SIGTERM"),
                                               (signal.SIGHUP, 129, "SIGHUP")])
def test_sibling_scheduler_signal_stops_data_fetch_with_a_line(tmp_path, sig, status, name):
    """What `timeout`, `kill`, systemd and a closed terminal send, to a real `data fetch`
    process in the middle of a download: one line naming the signal, exit 128 + signal, no
    traceback (Python's default for SIGTERM was a silent exit, for SIGHUP too)."""
    import subprocess
    import sys
    import time

    ready = tmp_path / "ready"
    env = {**os.environ, "TRADESHOCK_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join(p for p in (str(Path(F.__file__).parents[2]),
                                                     os.environ.get("PYTHONPATH", "")) if p)}
    env.pop("TRADESHOCK_OFFLINE", None)
    proc = subprocess.Popen([sys.executable, "-c", _FETCH_SCRIPT, str(ready)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):  # until the download started (a guard, not a timing assumption)
            if ready.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert ready.exists(), proc.communicate(timeout=5)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == status, (out, err)
    text = " ".join(err.split())
    assert f"error: tradeshock data stopped by {name}" in text and "Traceback" not in err
    assert "Run the same command again to finish" in text
    cache = tmp_path / "cache"
    assert not cache.exists() or not list(cache.glob("*.parquet")), "nothing half-kept"
