"""The fault matrix of issue 17, data side: every write of market data all or nothing, every data
change seen by the render fingerprint, degenerate study inputs named, no network said plainly.

Like ``test_faults.py``: each case asserts the message in its three parts (what, where, how to
fix) and that nothing good was lost. A full or read-only disk is simulated by patching the one
function that writes (we run as root: chmod would not stop us). No network: the downloaders are
fakes. Every output and cache lives under ``tmp_path``.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tradeshock.cli import main
from tradeshock.core import fileset
from tradeshock.core.fileset import describe_os_error, replace_folder, stage_files
from tradeshock.data import online
from tradeshock.data.cache import PriceCache
from tradeshock.data.pin import pin
from tradeshock.data.prices import load_prices
from tradeshock.data.snapshot import PinnedSnapshot
from tradeshock.data.validate import validate_prices
from tradeshock.engine.study import event_study
from tradeshock.errors import DataUnavailableError, NetworkError, StudyError
from tradeshock.pipeline.fingerprint import data_fingerprint
from helpers import needs_kernel
from helpers import tiny_notebook as _tiny_notebook

SINCE = "2025-04-01"


def _cli(*args: str):
    """``tradeshock ARGS`` as a user runs it: library errors become one line and exit 2."""
    return CliRunner().invoke(main, list(args))


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under *folder* (hidden ones too) by relative path -> bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _full_disk_at(m: pytest.MonkeyPatch, n: int) -> dict[str, int]:
    """The *n*-th file written through :mod:`tradeshock.core.fileset` fails with ENOSPC."""
    real = fileset._write_bytes
    calls = {"n": 0}

    def write(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == n:
            with open(path, "wb") as fh:  # half a file, as a full disk leaves it
                fh.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data)

    m.setattr(fileset, "_write_bytes", write)
    return calls


def _no_traceback(res) -> None:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert isinstance(res.exception, SystemExit), repr(res.exception)


def _bump_close(folder: Path, date: str = "2025-04-03", old: str = "5396.52",
                new: str = "5396.53") -> None:
    """Change one close of GSPC.csv, same length (a correction of one cent)."""
    f = folder / "GSPC.csv"
    st = f.stat()
    text = f.read_text()
    assert f"{date},,,,{old}," in text
    f.write_text(text.replace(f"{date},,,,{old},", f"{date},,,,{new},"))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime: only content


# ============================================================================ 3. data pin


def test_fault_17_pin_disk_full_keeps_the_previous_pin(no_snapshot_env, mini_copy, tmp_path,
                                                       monkeypatch):
    """3/11. The disk fills on the 3rd file of a re-pin: the previous pin stays byte-identical,
    no staging folder is left, and the message says what, where and how (no traceback)."""
    out = tmp_path / "pinned"
    pin(mini_copy, out_dir=out, since=SINCE)
    (out / "NOTES.txt").write_text("a file tradeshock did not make\n")
    before = _tree(out)
    with open(mini_copy / "GSPC.csv", "a") as fh:  # new data: every file changes
        fh.write("2025-04-11,,,,5363.36,,\n")

    with monkeypatch.context() as m:
        calls = _full_disk_at(m, 3)
        res = _cli("data", "pin", str(mini_copy), "--out", str(out), "--since", SINCE)
    _no_traceback(res)
    msg = res.output
    assert f"could not write the pinned snapshot {out}" in msg  # what, where
    assert "the disk is full (No space left on device" in msg  # why
    assert "the previous pinned snapshot was kept unchanged" in msg  # nothing lost
    assert "Fix: free space on that disk" in msg and "--out DIR" in msg  # how
    assert calls["n"] == 3
    assert _tree(out) == before, "the previous pin must stay byte-identical"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mini", "pinned"], "no staging left"
    PinnedSnapshot(out).verify(force=True)

    # with space again the same command switches to the new set, keeping the foreign file
    res = _cli("data", "pin", str(mini_copy), "--out", str(out), "--since", SINCE)
    assert res.exit_code == 0, res.output
    assert "extended: ^GSPC 2025-04-10 -> 2025-04-11 (+1 rows)" in res.output
    assert (out / "NOTES.txt").read_text() == "a file tradeshock did not make\n"
    assert json.loads((out / "manifest.json").read_text())["series"]["^GSPC"]["last"] == \
        "2025-04-11"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mini", "pinned"]


def test_fault_17_pin_read_only_or_failed_switch(no_snapshot_env, mini_copy, tmp_path,
                                                 monkeypatch):
    """3/11. A read-only parent folder, or a rename that fails at the switch: the old folder is
    restored, a message instead of a traceback."""
    out = tmp_path / "pinned"
    pin(mini_copy, out_dir=out, since=SINCE)
    before = _tree(out)
    with open(mini_copy / "GSPC.csv", "a") as fh:
        fh.write("2025-04-11,,,,5363.36,,\n")

    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path))

    with monkeypatch.context() as m:
        m.setattr(fileset, "make_temp_dir", read_only)
        res = _cli("data", "pin", str(mini_copy), "--out", str(out), "--since", SINCE)
    _no_traceback(res)
    assert "could not write the pinned snapshot" in res.output
    assert "the file system is read-only" in res.output
    assert "kept unchanged" in res.output and f"make {tmp_path} writable" in res.output
    assert _tree(out) == before

    # the rename of the new folder into place fails: the old one is renamed back
    real_rename = os.rename
    seen = []

    def rename(src, dst):
        seen.append((Path(src).name, Path(dst).name))
        if Path(dst) == out and ".new." in Path(src).name:
            raise OSError(errno.EIO, "Input/output error", str(dst))
        return real_rename(src, dst)

    with monkeypatch.context() as m:
        m.setattr(fileset.os, "rename", rename)
        res = _cli("data", "pin", str(mini_copy), "--out", str(out), "--since", SINCE)
    _no_traceback(res)
    assert "an input/output error of the disk" in res.output and "kept unchanged" in res.output
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mini", "pinned"]
    assert any(".old." in dst for _, dst in seen), "the old folder was moved aside, then back"


def test_fault_17_replace_folder_and_stage_files_units(tmp_path):
    """The helpers on their own: a failing build or validation leaves the target as it was;
    a failing file of a set removes the files of the set already written."""
    target = tmp_path / "t"
    target.mkdir()
    (target / "a").write_text("old")

    def build_fails(tmp: Path) -> None:
        (tmp / "a").write_text("new")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        replace_folder(target, build_fails)
    assert _tree(target) == {"a": b"old"} and [p.name for p in tmp_path.iterdir()] == ["t"]

    def refuse(tmp: Path) -> None:
        raise ValueError("does not verify")

    with pytest.raises(ValueError):
        replace_folder(target, lambda tmp: (tmp / "a").write_text("new"), validate=refuse)
    assert _tree(target) == {"a": b"old"} and [p.name for p in tmp_path.iterdir()] == ["t"]

    replace_folder(target, lambda tmp: (tmp / "b").write_text("new"))
    assert _tree(target) == {"b": b"new"} and [p.name for p in tmp_path.iterdir()] == ["t"]

    def bad_writer(path: Path) -> None:
        raise OSError(errno.EDQUOT, "Disk quota exceeded", str(path))

    stage = tmp_path / "stage"
    with pytest.raises(OSError) as err:
        stage_files(stage, {"x": b"1", "y": b"2", "z": bad_writer})
    assert list(stage.iterdir()) == []
    assert describe_os_error(err.value).startswith("the disk quota is exceeded")


# ============================================================================ 6/11. data import


def test_fault_17_import_disk_full_is_all_or_nothing(no_snapshot_env, mini_copy, tmp_path,
                                                     monkeypatch):
    """6/11. The disk fills on the 3rd file of an import: no series is replaced (the cache keeps
    the previous import byte for byte, so nothing half-imported is served ahead of the pinned
    data), no staging folder is left, and the message says so with the fix."""
    cache = PriceCache(tmp_path / "cache")
    res = _cli("data", "--cache-dir", str(cache.path), "import", str(mini_copy))
    assert res.exit_code == 0, res.output
    before = _tree(cache.path)
    _bump_close(mini_copy)
    with open(mini_copy / "SPY.csv", "a") as fh:
        fh.write("2025-04-11,,,,,540.0,1500\n")

    with monkeypatch.context() as m:
        _full_disk_at(m, 3)
        res = _cli("data", "--cache-dir", str(cache.path), "import", str(mini_copy))
    _no_traceback(res)
    msg = res.output
    assert f"could not import into the cache {cache.path}" in msg  # what, where
    assert "the disk is full (No space left on device" in msg  # why
    assert "nothing was imported (the cache keeps what it had)" in msg  # nothing lost
    assert "--cache-dir DIR" in msg and "TRADESHOCK_CACHE" in msg  # how
    assert _tree(cache.path) == before, "all or nothing"
    df = load_prices("^GSPC", "2025-04-03", "2025-04-03", cache_dir=cache.path)
    assert df["close"].tolist() == [5396.52] and df.attrs["sources"] == {"^GSPC": "cache"}

    res = _cli("data", "--cache-dir", str(cache.path), "import", str(mini_copy))
    assert res.exit_code == 0, res.output
    df = load_prices("^GSPC", "2025-04-03", "2025-04-03", cache_dir=cache.path)
    assert df["close"].tolist() == [5396.53]
    assert not [p for p in cache.path.iterdir() if p.name.startswith(".")], "staging removed"


def test_fault_17_cache_write_set_rolls_back_a_failed_switch(tmp_path, monkeypatch):
    """6. A move that fails half-way through the switch puts every replaced entry back."""
    cache = PriceCache(tmp_path / "cache")
    old = pd.DataFrame({"date": pd.to_datetime(["2025-04-01", "2025-04-02"]),
                        "close": [1.0, 2.0]})
    cache.write_set([{"symbol": s, "prices": old, "origin": "test"} for s in ("A", "B", "C")])
    before = _tree(cache.path)
    new = old.assign(close=[1.5, 2.5])
    real_replace, n = os.replace, {"k": 0}

    def replace(src, dst):
        n["k"] += 1
        if n["k"] == 4:  # A is in, B's parquet too; B's index fails
            raise OSError(errno.EIO, "Input/output error", str(dst))
        return real_replace(src, dst)

    with monkeypatch.context() as m, pytest.raises(OSError):
        m.setattr(os, "replace", replace)
        cache.write_set([{"symbol": s, "prices": new, "origin": "test"} for s in ("A", "B", "C")])
    assert _tree(cache.path) == before
    assert cache.read("A").prices["close"].tolist() == [1.0, 2.0]


def test_fault_17_import_of_bad_rows_offers_cli_options(no_snapshot_env, mini_copy, tmp_path):
    """11. Validation errors name the rows and offer the CLI's own options (never a Python
    call); --exclude and --drop-bad then import, saying what was left out."""
    (mini_copy / "SPY.csv").write_text(
        "date,open,high,low,close,adj_close,volume\n2025-04-01,,,,,-5,\n2025-04-02,,,,,500,\n"
        "2025-04-03,,,,,480,\n")
    cache = tmp_path / "cache"
    res = _cli("data", "--cache-dir", str(cache), "import", str(mini_copy))
    _no_traceback(res)
    msg = res.output
    assert "fail validation (1 error(s)); nothing was imported" in msg  # what
    assert "SPY 2025-04-01: non_positive (adj_close=-5)" in msg  # where
    assert f"tradeshock data import {mini_copy} --exclude SPY" in msg  # how, as CLI
    assert "--drop-bad" in msg and "--since 2025-04-02" in msg
    assert "on_problem" not in msg
    assert not cache.exists() or not list(cache.glob("*.json"))

    res = _cli("data", "--cache-dir", str(cache), "import", str(mini_copy), "--exclude", "SPY")
    assert res.exit_code == 0, res.output
    assert "left out (--exclude): SPY" in res.output
    assert "SPY" not in PriceCache(cache).symbols() and "^GSPC" in PriceCache(cache).symbols()

    res = _cli("data", "--cache-dir", str(cache), "import", str(mini_copy), "--drop-bad")
    assert res.exit_code == 0, res.output
    assert "dropped 1 row(s)" in res.output and "SPY 2025-04-01 (non_positive" in res.output
    spy = PriceCache(cache).read("SPY").prices
    assert spy["date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-04-02", "2025-04-03"]


# ============================================================================ 7. fingerprints


def test_fault_17_fingerprint_sees_a_changed_close_wherever_it_is_served(
        no_snapshot_env, mini_copy, tmp_path, monkeypatch, pinned_copy):
    """7. A changed close of the same length and modification time changes the data fingerprint:
    through the cache (data import), the snapshot folder (TRADESHOCK_SNAPSHOT) and the pinned
    snapshot. Files of other tools' temporary writes (dot files) do not."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("TRADESHOCK_CACHE", str(cache))
    monkeypatch.setenv("TRADESHOCK_PINNED_DIR", str(pinned_copy))
    f0 = data_fingerprint()
    assert f0 == data_fingerprint()
    assert _cli("data", "import", str(mini_copy)).exit_code == 0
    f1 = data_fingerprint()
    assert f1 != f0, "an import changes what is served"
    snap_copy = Path(str(mini_copy) + "-2")
    shutil.copytree(mini_copy, snap_copy)
    _bump_close(snap_copy)
    assert _cli("data", "import", str(snap_copy)).exit_code == 0
    f2 = data_fingerprint()
    assert f2 != f1, "a changed close in the cache must be seen"
    (cache / ".x.parquet.123.tmp").write_bytes(b"half")
    assert data_fingerprint() == f2, "temporary files are not data"

    monkeypatch.setenv("TRADESHOCK_SNAPSHOT", str(mini_copy))
    s1 = data_fingerprint()
    _bump_close(mini_copy)
    assert data_fingerprint() != s1, "a same-size, same-mtime edit of the snapshot folder"

    p1 = data_fingerprint()
    f = pinned_copy / "SOURCES.md"
    st = f.stat()
    f.write_bytes(f.read_bytes().replace(b"#", b"%", 1))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert data_fingerprint() != p1, "the pinned folder's content counts"


@needs_kernel
def test_fault_17_render_is_not_up_to_date_after_a_changed_import(no_snapshot_env, mini_copy,
                                                                   tmp_path, monkeypatch):
    """7. `tradeshock render` after `data import` of a changed close runs the report again
    (it used to say "up to date" and keep the old figures)."""
    from tradeshock.pipeline import render as R
    from tradeshock.pipeline.outputs import OK, UP_TO_DATE

    monkeypatch.setenv("TRADESHOCK_CACHE", str(tmp_path / "cache"))
    nb = _tiny_notebook(tmp_path / "close.ipynb", "day: str = '2025-04-03'",
                        "from tradeshock.data.prices import load_prices\n"
                        "print(load_prices('^GSPC', day, day)['close'].iat[0])")
    assert _cli("data", "import", str(mini_copy)).exit_code == 0
    out = tmp_path / "reports"
    first = R.render_notebooks([nb], out)
    assert first["close"].status == OK, first["close"].error
    assert R.render_notebooks([nb], out)["close"].status == UP_TO_DATE
    _bump_close(mini_copy)
    assert _cli("data", "import", str(mini_copy)).exit_code == 0
    third = R.render_notebooks([nb], out)
    assert third["close"].status == OK and third["close"].executed
    assert "5396.53" in (out / "close.ipynb").read_text()


# ============================================================================ 7. OHLC


def _ohlc(symbol: str, o: float, h: float, lo: float, c: float) -> pd.DataFrame:
    days = pd.to_datetime(["2025-04-01", "2025-04-02"])
    return pd.DataFrame({"symbol": symbol, "date": days, "open": [100.0, o], "high": [101.0, h],
                         "low": [99.0, lo], "close": [100.5, c], "adj_close": np.nan,
                         "volume": 1.0})


@pytest.mark.parametrize("symbol, severity", [
    ("^GSPC", "error"), ("SPY", "error"), ("ES=F", "warning"), ("EURUSD=X", "warning"),
    ("^TNX", "warning"), ("GC=F", "warning"),
])
def test_fault_17_ohlc_consistency(symbol, severity):
    """7. A close above the day's high: an error for cash indices and ETFs (the row named),
    a warning for futures, FX and yields, whose OHLC often come from different sessions."""
    uni_symbols = set(pd.read_csv(Path(__file__).parents[1] / "data" / "universe.csv")["symbol"])
    if symbol not in uni_symbols:
        pytest.skip(f"{symbol} not in data/universe.csv")
    p = validate_prices(_ohlc(symbol, 100.0, 102.0, 98.0, 103.0), checks=("ohlc",))
    assert len(p) == 1
    row = p.iloc[0]
    assert row.severity == severity and row.date == pd.Timestamp("2025-04-02")
    assert row.problem == ("ohlc_inconsistent" if severity == "error" else "ohlc_unusual")
    assert "close 103 above high 102" in row.detail
    # within the tolerance (stored decimals), and Yahoo's zero intraday values: not flagged
    assert validate_prices(_ohlc(symbol, 100.0, 102.0, 98.0, 102.00001), checks=("ohlc",)).empty
    assert validate_prices(_ohlc(symbol, 0.0, 0.0, 0.0, 103.0), checks=("ohlc",)).empty


def test_fault_17_import_refuses_a_close_above_the_high(no_snapshot_env, mini_copy, tmp_path):
    """7. `data import` of a close above that day's high is refused with the row named."""
    f = mini_copy / "GSPC.csv"
    f.write_text(f.read_text().replace("2025-04-03,,,,5396.52,,",
                                       "2025-04-03,5600,5500,5390,5596.52,,"))
    res = _cli("data", "--cache-dir", str(tmp_path / "cache"), "import", str(mini_copy))
    _no_traceback(res)
    assert ("^GSPC 2025-04-03: ohlc_inconsistent (open 5600 above high 5500; close 5596.52 "
            "above high 5500)") in res.output
    assert "nothing was imported" in res.output and "--exclude ^GSPC" in res.output


def test_fault_17_pinned_data_has_no_ohlc_error():
    """7. Calibration: the committed pinned snapshot passes the OHLC check (futures and FX rows
    that are off are warnings only), so the defaults still render."""
    series = PinnedSnapshot().series()
    p = validate_prices(series, checks=("ohlc",))
    assert not len(p[p["severity"] == "error"]), p[p["severity"] == "error"].head()
    assert set(p["problem"]) <= {"ohlc_unusual"}


# ============================================================================ 8. study inputs


def _returns(seed: int = 8) -> tuple[pd.DataFrame, pd.Series]:
    """Synthetic returns (seeded normal noise on a market line) for 3 securities."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2024-01-01", periods=120)
    m = pd.Series(rng.normal(0, 0.01, 120), idx, name="MKT")
    r = pd.DataFrame({c: 0.8 * m + rng.normal(0, 0.01, 120) for c in ("A", "B", "C")})
    return r, m


def test_fault_17_study_zero_variance_and_infinite_returns_are_excluded(no_snapshot_env):
    """8. A constant security (residual sd 0) is excluded as zero_variance; an infinite return as
    non_finite_return with its date; the rest of the study is unchanged."""
    r, m = _returns()
    d0 = r.index[100]
    base = event_study(r, d0, market=m, estimation=(-90, -11), event=(-1, 5))
    bad = r.assign(Z=0.001, I=r["A"])
    bad.loc[r.index[50], "I"] = np.inf
    res = event_study(bad, d0, market=m, estimation=(-90, -11), event=(-1, 5), model="mean")
    exc = res.excluded.set_index("security")
    assert exc.at["Z", "reason"] == "zero_variance"
    detail = exc.at["Z", "detail"]
    assert detail.startswith("residual sd ") and float(detail.split()[2]) <= 1e-10
    assert "in the estimation window -90..-11 (model 'mean')" in detail
    assert "stale price" in exc.at["Z", "detail"]
    assert exc.at["I", "reason"] == "non_finite_return"
    assert f"1 infinite return(s) in column 'I': {r.index[50].date()} (inf)" in \
        exc.at["I", "detail"]
    assert sorted(res.ar_matrix.columns) == ["A", "B", "C"]
    res2 = event_study(bad, d0, market=m, estimation=(-90, -11), event=(-1, 5))
    assert set(res2.excluded["reason"]) == {"zero_variance", "non_finite_return"}
    pd.testing.assert_frame_equal(res2.ar_matrix, base.ar_matrix)  # the others: same numbers
    # -inf is named the same way (it is not "below -1": it is not a return)
    bad.loc[r.index[50], "I"] = -np.inf
    res3 = event_study(bad, d0, market=m, estimation=(-90, -11), event=(-1, 5))
    assert res3.excluded.set_index("security").at["I", "reason"] == "non_finite_return"

    # an infinite market value would touch every security: refused, naming the date
    m2 = m.copy()
    m2.iloc[40] = np.inf
    with pytest.raises(StudyError) as err:
        event_study(r, d0, market=m2, estimation=(-90, -11), event=(-1, 5))
    assert f"market: 'MKT' on {r.index[40].date()} is inf, not a finite return" in str(err.value)
    assert "leave a missing value empty" in str(err.value)


def test_fault_17_study_cli_refuses_duplicate_column_names(tmp_path):
    """8. A CSV whose header repeats a security is refused, naming it (pandas would silently
    read the second as 'A.1')."""
    r, m = _returns()
    csv = tmp_path / "r.csv"
    frame = pd.concat([r, m], axis=1).reset_index(names="date")
    frame.columns = ["date", "A", "B", "A", "MKT"]
    frame.to_csv(csv, index=False, date_format="%Y-%m-%d")
    out = tmp_path / "out"
    res = _cli("study", "--returns", str(csv), "--market", "MKT", "--estimation",
               f"{r.index[10].date()}:{r.index[89].date()}", "--event",
               f"{r.index[99].date()}:{r.index[105].date()}", "--out", str(out))
    _no_traceback(res)
    assert f"{csv}, line 1: column name(s) used more than once: 'A' in columns 2, 4" in \
        res.output
    assert "give each security one column with a unique name" in res.output
    assert not out.exists()


def test_fault_17_study_cli_names_an_infinite_value(tmp_path):
    """8. 'inf' in a returns CSV: the security is excluded and named on the terminal."""
    r, m = _returns()
    r.loc[r.index[30], "B"] = np.inf
    csv = tmp_path / "r.csv"
    pd.concat([r, m], axis=1).reset_index(names="date").to_csv(csv, index=False,
                                                               date_format="%Y-%m-%d")
    out = tmp_path / "out"
    res = _cli("study", "--returns", str(csv), "--market", "MKT", "--estimation",
               f"{r.index[10].date()}:{r.index[89].date()}", "--event",
               f"{r.index[99].date()}:{r.index[105].date()}", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "excluded B: non_finite_return (1 infinite return(s) in column 'B'" in res.output
    assert "non_finite_return" in (out / "excluded.csv").read_text()


# ============================================================================ 10. no network


def test_fault_17_fetch_without_network_gives_up_early(no_snapshot_env, network_down, tmp_path):
    """10. `data fetch` offline: a bounded number of attempts (5 series x 2 tries), the network
    named as the cause, a short output and a one-line fix; exit non-zero."""
    res = _cli("data", "--cache-dir", str(tmp_path / "cache"), "fetch")
    _no_traceback(res)
    assert network_down["yahoo"] + network_down["fred"] == 5 * 2, network_down
    out = res.output
    assert out.count("FAILED") == 5 and len(out.splitlines()) <= 7, out
    assert "data fetch gave up after 5 consecutive network failures" in out
    assert "series not tried" in out
    assert "the connection failed or timed out (no network" in out  # the cause, not ...
    assert "Yahoo returned no data" not in out
    assert "TRADESHOCK_SNAPSHOT" in out and "pinned snapshot" in out  # how
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def test_fault_17_swallowed_yfinance_dns_error_is_named(no_snapshot_env, monkeypatch, caplog):
    """10. yfinance logs a DNS failure and returns an empty frame: the error says network, and
    yfinance's log lines do not reach the terminal."""
    import yfinance

    calls = {"n": 0}

    def download(ticker, **kw):
        calls["n"] += 1
        logging.getLogger("yfinance").error(
            f"['{ticker}']: DNSError('Failed to perform, curl: (6) Could not resolve host: "
            "query2.finance.yahoo.com')")
        return pd.DataFrame()

    monkeypatch.setattr(yfinance, "download", download)
    monkeypatch.setattr(online, "ONLINE", online.OnlineSettings(timeout=1, attempts=2, backoff=0))
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(NetworkError) as err:
            online.fetch_yahoo("^GSPC", "2025-04-01", "2025-04-09")
    msg = str(err.value)
    assert "Yahoo download of ^GSPC: failed after 2 attempt(s)" in msg
    assert "the network is the cause: DNS lookup failed" in msg
    assert isinstance(err.value, DataUnavailableError)  # callers that catch it still do
    assert calls["n"] == 2
    assert "Could not resolve host" not in caplog.text, "yfinance's log is silenced"

    # an empty frame without a network message stays "no data" (a bad or delisted symbol)
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pd.DataFrame())
    with pytest.raises(DataUnavailableError) as err:
        online.fetch_yahoo("^GSPC", "2025-04-01", "2025-04-09")
    assert not isinstance(err.value, NetworkError)
    assert "Yahoo returned no data for ^GSPC" in str(err.value)


def test_fault_17_network_cause_reads_the_cause_chain():
    """10. The network is found in the cause chain (socket.gaierror, ConnectionError, urllib)
    and in wrapped messages (pandas-datareader); other errors are not blamed on it."""
    import socket
    from urllib.error import URLError

    try:
        try:
            raise socket.gaierror(-3, "Temporary failure in name resolution")
        except OSError as exc:
            raise RuntimeError("download failed") from exc
    except RuntimeError as wrapped:
        assert online.network_cause(wrapped).startswith("DNS lookup failed")
    assert online.network_cause(URLError("refused")) is not None
    assert online.network_cause(OSError("HTTPSConnectionPool(host='fred.stlouisfed.org'): Max "
                                        "retries exceeded")) is not None
    assert online.network_cause(ValueError("no Close column")) is None
