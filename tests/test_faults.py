"""The fault matrix of issue 9: one test per fault case, each a clear error and nothing lost.

Every test asserts the user-facing message in its three parts -- what is wrong, where (file, row,
column, series, date, folder) and how to fix it -- and that nothing already good was lost or
half-written (cache entries, previous reports, the index). The detailed behaviour of each layer is
tested in its own module (test_market, test_snapshot, test_cli_data, test_study, test_events,
test_render); here each case is checked end to end from the user's side.

No network: yfinance and FRED are patched at their download boundary (``network_down`` in
conftest). Every output and cache lives under ``tmp_path``. The render cases (10-14) need the
Jupyter kernel ``tradeshock`` and use tiny notebooks written into ``tmp_path``.
"""

from __future__ import annotations

import errno
import json
import shutil
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import MALFORMED, MINI_SNAPSHOT, SP500_CLOSES

from tradeshock import events as ev
from tradeshock.pipeline import render as R
from tradeshock.pipeline.naming import output_name, output_path, resolve_notebooks
from tradeshock.pipeline.outputs import (
    FAILED,
    LOCK_NAME,
    MARKER_NAME,
    OK,
    TMP_DIR_NAME,
    UP_TO_DATE,
)
from tradeshock.pipeline.tasks import RenderJob
from tradeshock.data.cache import CacheCorruptionWarning, PriceCache
from tradeshock.errors import (
    DataUnavailableError,
    PartialDataWarning,
    RenderError,
    SnapshotFormatError,
    StudyError,
    ValidationError,
)
from tradeshock.data.prices import load_prices
from tradeshock.data.snapshot import read_price_csv
from tradeshock.engine.study import event_study
from tradeshock.data.universe import UnknownSymbolError
from helpers import needs_kernel
from helpers import tiny_notebook as _tiny_notebook

HERE = Path(__file__).resolve().parent
FAULTS = HERE / "data" / "faults"
NB = HERE / "notebooks"
GOOD = NB / "good.ipynb"
WINDOW = ("2025-04-02", "2025-04-09")


def _yahoo_frame(ticker: str, dates: list[str], closes: list[float]) -> pd.DataFrame:
    """A frame shaped like yfinance.download(..., auto_adjust=False) output (hand-made)."""
    idx = pd.DatetimeIndex(dates, name="Date")
    cols = pd.MultiIndex.from_product(
        [["Adj Close", "Close", "High", "Low", "Open", "Volume"], [ticker]],
        names=["Price", "Ticker"])
    data = np.array([[c, c, c, c, c, 1e9] for c in closes])
    return pd.DataFrame(data, index=idx, columns=cols)


def _sp500_frame(ticker: str, **_kw) -> pd.DataFrame:
    days = list(SP500_CLOSES)[:3]
    return _yahoo_frame(ticker, days, [SP500_CLOSES[d] for d in days])


def _cache_files(cache: PriceCache) -> list[str]:
    return sorted(p.name for p in cache.path.iterdir()) if cache.path.exists() else []


def _report_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


# =============================================================================== data faults


def test_fault_01_unknown_symbol(no_snapshot_env, network_down):
    """1. An unknown symbol: named, where it was looked up, close matches and how to add one."""
    with pytest.raises(UnknownSymbolError) as err:
        load_prices(["GSPC", "SPY"], *WINDOW)
    msg = str(err.value)
    assert "unknown symbol 'GSPC'" in msg  # what
    assert "data/universe.csv" in msg  # where
    assert "did you mean: ^GSPC" in msg and "Add a row to data/universe.csv" in msg  # how
    assert "load_firms" in msg  # single stocks live elsewhere
    assert network_down == {"yahoo": 0, "fred": 0}, "fails before any download"
    # nothing was cached for the good symbol of the same call
    assert _cache_files(PriceCache()) == []
    # the good symbol alone still loads
    assert load_prices("SPY", *WINDOW).attrs["sources"] == {"SPY": "pinned"}


def test_fault_02_event_date_outside_the_data(no_snapshot_env, network_down, monkeypatch):
    """2. An event date outside the data: the study, the calendar and the price loader say so."""
    rng = np.random.default_rng(2)
    idx = pd.bdate_range("2022-01-03", periods=300)
    mkt = pd.Series(rng.normal(0, 0.01, 300), idx, name="MKT")
    rets = pd.DataFrame(rng.normal(0, 0.01, (300, 3)), idx, columns=["A", "B", "C"])

    # day 0 after the returns end: what, the data's range, and how to fix
    with pytest.raises(StudyError) as err:
        event_study(rets, "2030-01-02", market=mkt)
    msg = str(err.value)
    assert "day 0 2030-01-02 is not a row of returns" in msg
    assert "(data 2022-01-03..2023-02-24)" in msg
    assert "align the event to a session first (tradeshock events align)" in msg

    # day 0 inside the data but its event window runs past the end: excluded and listed
    res = event_study(rets, idx[-3], market=mkt, estimation=(-250, -11), event=(-1, 5))
    assert res.n_securities == 0
    exc = res.excluded.set_index("security")
    assert sorted(exc.index) == ["A", "B", "C"]
    assert set(exc.reason) == {"missing_event_data"}
    assert all("beyond the data" in d for d in exc.detail)

    # an announcement before the exchange calendar starts
    with pytest.raises(ValidationError) as err:
        ev.align(pd.Timestamp("1989-06-01 12:00", tz="America/New_York"), "XNYS")
    msg = str(err.value)
    assert "is before the first XNYS session (1990-01-02; calendars start 1990-01-01)" in msg
    assert "Fix: drop the event or use a market whose calendar covers it" in msg

    # prices asked for dates no source holds (offline): every source listed with its reason
    monkeypatch.setenv("TRADESHOCK_OFFLINE", "1")
    with pytest.raises(DataUnavailableError) as err:
        load_prices("^GSPC", "2030-01-02", "2030-02-01")
    msg = str(err.value)
    assert "no source could serve 1 series for 2030-01-02 .. 2030-02-01" in msg
    assert "pinned: pinned, but no rows in range" in msg
    assert "TRADESHOCK_OFFLINE is set" in msg
    assert "tradeshock data fetch '^GSPC' --start 2030-01-02 --end 2030-02-01" in msg
    assert "TRADESHOCK_SNAPSHOT" in msg
    assert network_down == {"yahoo": 0, "fred": 0}
    assert _cache_files(PriceCache()) == []


def test_fault_03_estimation_window_too_short_for_some(no_snapshot_env):
    """3. Estimation window too short for some securities: they are excluded and listed with the
    reason and counts; the rest proceed with finite numbers."""
    rng = np.random.default_rng(3)
    n = 330
    idx = pd.bdate_range("2022-01-03", periods=n)
    mkt = pd.Series(rng.normal(0.0003, 0.01, n), idx, name="MKT")
    beta = rng.uniform(0.5, 1.5, 5)
    rets = pd.DataFrame(mkt.to_numpy()[:, None] * beta + rng.normal(0, 0.01, (n, 5)), idx,
                        columns=["NEW1", "NEW2", "OLD1", "OLD2", "OLD3"])
    rets.iloc[:270, 0] = np.nan  # NEW1 listed 30 sessions before day 0: 20 estimation rows
    rets.iloc[:285, 1] = np.nan  # NEW2 listed 15 sessions before day 0: 5 estimation rows
    d0 = idx[300]
    res = event_study(rets, d0, market=mkt, estimation=(-260, -11), event=(-1, 5))
    exc = res.excluded.set_index("security")
    assert sorted(exc.index) == ["NEW1", "NEW2"]
    assert set(exc.reason) == {"too_few_estimation_obs"}
    assert "20 usable rows" in exc.at["NEW1", "detail"]
    assert "5 usable rows" in exc.at["NEW2", "detail"]
    assert all("at least 30" in d for d in exc.detail)  # what would be needed
    # the rest proceed, and every number they carry is finite
    assert res.securities == ["OLD1", "OLD2", "OLD3"]
    assert len(res.excluded) + res.n_securities == 5
    for frame in (res.abnormal_returns, res.car, res.aar, res.caar):
        assert not frame.select_dtypes("number").isna().any().any()
    assert not set(res.car["security"]) & {"NEW1", "NEW2"}


def test_fault_04_malformed_snapshot_csv(no_snapshot_env, mini_copy):
    """4. A malformed snapshot CSV (bad date, text in a price column, duplicate dates): file, line
    and problem named; an import stops before loading anything, the cache keeps what it had."""
    cases = [
        (MALFORMED / "bad_date.csv", "line 4", "bad date '2025-04-31'"),
        (MALFORMED / "text_in_price.csv", "line 3", "column close: 'n/a' is not a number"),
        (MALFORMED / "duplicate_date.csv", "line 5",
         "duplicate date 2025-04-02 (first on line 3)"),
        (FAULTS / "GSPC_duplicate.csv", "line 4", "duplicate date 2025-04-02 (first on line 3)"),
    ]
    for path, line, what in cases:
        with pytest.raises(SnapshotFormatError) as err:
            read_price_csv(path)
        msg = str(err.value)
        assert path.name in msg and line in msg and what in msg, msg

    # through a snapshot folder: the series, its file and line
    shutil.copy(FAULTS / "GSPC_duplicate.csv", mini_copy / "GSPC.csv")
    with pytest.raises(SnapshotFormatError) as err:
        load_prices("^GSPC", snapshot=mini_copy)
    msg = str(err.value)
    assert "GSPC.csv" in msg and "line 4" in msg and "duplicate date 2025-04-02" in msg

    # an import of the bad folder after a good import: refused, the good cache is untouched
    from tradeshock.cli import main

    runner = CliRunner()
    res = runner.invoke(main, ["data", "import", str(MINI_SNAPSHOT)])
    assert res.exit_code == 0, res.output
    cache = PriceCache()
    before = {p.name: p.read_bytes() for p in cache.path.iterdir()}
    good = load_prices("^GSPC", "2025-04-02", "2025-04-04", source="cache")
    shutil.copy(MALFORMED / "text_in_price.csv", mini_copy / "GSPC.csv")
    res = runner.invoke(main, ["data", "import", str(mini_copy)])
    assert res.exit_code == 2
    assert "GSPC.csv" in res.output and "line 3" in res.output and "'n/a'" in res.output
    after = {p.name: p.read_bytes() for p in cache.path.iterdir()}
    assert after == before, "a refused import changed the cache"
    again = load_prices("^GSPC", "2025-04-02", "2025-04-04", source="cache")
    pd.testing.assert_frame_equal(again, good)


def test_fault_05_corrupted_parquet_cache(no_snapshot_env, monkeypatch, network_down):
    """5. A truncated/corrupted parquet cache file: detected with a warning naming the series and
    file, removed (never used), the next source serves; other cache entries are kept."""
    import yfinance

    monkeypatch.setattr(yfinance, "download", _sp500_frame)
    load_prices(["^GSPC", "SPY"], "2025-04-02", "2025-04-04", source="yahoo")
    cache = PriceCache()
    gspc_parquet, gspc_meta = cache._files("^GSPC")
    spy_parquet, spy_meta = cache._files("SPY")
    spy_bytes = spy_parquet.read_bytes()
    gspc_parquet.write_bytes(gspc_parquet.read_bytes()[:100])  # truncated

    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pytest.fail("network used"))
    with pytest.warns(CacheCorruptionWarning) as caught:
        df = load_prices(["^GSPC", "SPY"], "2025-04-02", "2025-04-04")
    text = " ".join(str(w.message) for w in caught)
    assert f"cache entry for ^GSPC in {cache.path} is corrupted" in text  # what, where
    assert "it was removed and the series is loaded from the next source" in text  # what happens
    assert df.attrs["sources"] == {"^GSPC": "pinned", "SPY": "cache"}
    assert not gspc_parquet.exists() and not gspc_meta.exists()
    assert spy_parquet.read_bytes() == spy_bytes and spy_meta.exists()
    gspc = df[df["symbol"] == "^GSPC"].set_index(df[df["symbol"] == "^GSPC"]["date"])
    assert gspc["close"].tolist() == pytest.approx([SP500_CLOSES[d] for d in
                                                    list(SP500_CLOSES)[:3]])


def test_fault_06_network_down(no_snapshot_env, network_down, monkeypatch, tmp_path):
    """6. The network is down for yfinance (and FRED): every source and its reason listed, the
    network error and the retries shown, how to fix; nothing half-written into the cache."""
    monkeypatch.setenv("TRADESHOCK_PINNED_DIR", str(tmp_path / "no-pinned"))
    with pytest.raises(DataUnavailableError) as err:
        load_prices(["^GSPC", "DGS10"], *WINDOW)
    msg = str(err.value)
    assert "no source could serve 2 series for 2025-04-02 .. 2025-04-09" in msg  # what
    for needle in ("^GSPC", "DGS10", "cache", "snapshot", "pinned", "yahoo", "fred"):  # where
        assert needle in msg, needle
    assert "NetworkDown" in msg and "after 2 attempt(s)" in msg
    assert "tradeshock data fetch" in msg and "TRADESHOCK_SNAPSHOT" in msg  # how
    assert network_down == {"yahoo": 2, "fred": 2}
    assert _cache_files(PriceCache()) == []


def test_fault_07_yfinance_empty_or_partial(no_snapshot_env, network_down, monkeypatch):
    """7. yfinance returns an empty frame (clear error, nothing cached) or a partial one (only the
    sessions it returned are used and the result says where they end; never padded)."""
    import yfinance

    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pd.DataFrame())
    with pytest.raises(DataUnavailableError) as err:
        load_prices("^GSPC", *WINDOW, source="yahoo")
    msg = str(err.value)
    assert "Yahoo returned no data for ^GSPC" in msg
    assert "2025-04-02" in msg and "2025-04-09" in msg
    assert _cache_files(PriceCache()) == []

    # partial: two of the six sessions asked for -- the real closes, nothing padded or invented,
    # and the data's as-of date says where they end
    monkeypatch.setattr(yfinance, "download", lambda t, **k: _yahoo_frame(
        t, ["2025-04-02", "2025-04-03"], [5670.97, 5396.52]))
    with pytest.warns(PartialDataWarning, match=r"only up to 2025-04-03 .* 4 XNYS session"):
        df = load_prices("^GSPC", *WINDOW, source="yahoo")
    assert df["date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-04-02", "2025-04-03"]
    assert df["close"].tolist() == [5670.97, 5396.52]
    assert not df["close"].isna().any()
    assert df.attrs["as_of"] == pd.Timestamp("2025-04-03")


def test_fault_07b_partial_yfinance_frame_is_reported(no_snapshot_env, network_down,
                                                       monkeypatch):
    """7 (partial). A partial yfinance frame is reported (series, last date returned, dates
    asked for) and does not shadow a complete source on later loads."""
    import yfinance

    monkeypatch.setattr(yfinance, "download", lambda t, **k: _yahoo_frame(
        t, ["2025-04-02", "2025-04-03"], [5670.97, 5396.52]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_prices("^GSPC", *WINDOW, source="yahoo")
    said = " ".join(str(w.message) for w in caught)
    assert "^GSPC" in said and "2025-04-03" in said and "2025-04-09" in said, repr(said)
    # the truncated download must not win over the complete pinned snapshot later on
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pytest.fail("network used"))
    again = load_prices("^GSPC", *WINDOW)
    assert len(again) == 6, again.attrs


def test_fault_08_malformed_event_calendar():
    """8. A malformed event calendar: each bad row named with file, row, event_id, column, what
    and a fix; the good row is not reported; nothing is half-loaded."""
    path = FAULTS / "calendar_two_bad_rows.csv"
    with pytest.raises(ValidationError) as err:
        ev.load_events(path)
    msg = str(err.value)
    assert msg.startswith("2 problems in the event calendar"), msg
    lines = msg.splitlines()
    date_line = next(ln for ln in lines if "row 2 " in ln)
    zone_line = next(ln for ln in lines if "row 3 " in ln)
    assert "calendar_two_bad_rows.csv, row 2 (event_id 'F-2'), column 'date'" in date_line
    assert "not a valid date" in date_line and "Fix:" in date_line
    assert "calendar_two_bad_rows.csv, row 3 (event_id 'F-3'), column 'timezone'" in zone_line
    assert "not a known IANA time zone" in zone_line and "Fix:" in zone_line
    assert "row 1 " not in msg and "F-1" not in msg
    assert len(err.value.problems) == 2
    # the bundled calendar is unaffected
    assert len(ev.load_events()) > 0


# =============================================================================== render faults


def test_fault_09_bad_notebook_parameter(tmp_path):
    """9. A notebook parameter of the wrong type or an unknown name: refused before anything runs,
    naming the parameter, the notebook, the declared type and close names."""
    out = tmp_path / "out"
    with pytest.raises(ValidationError) as err:
        R.render_notebooks([GOOD], out, params={"nn": 3})
    msg = str(err.value)
    assert "unknown parameter 'nn'" in msg and "Did you mean 'n'" in msg
    assert "good declares: flag, label, n, scale, start, symbols, title" in msg
    with pytest.raises(ValidationError) as err:
        R.render_notebooks([GOOD], out, params={"n": "3.5", "flag": "maybe"})
    msg = str(err.value)
    assert "parameter 'n' of notebook good" in msg and "'3.5' is not a whole number" in msg
    assert "`n: int = 3`" in msg
    assert "'maybe'" in msg and "flag" in msg
    assert not out.exists(), "nothing written before validation passes"

    # the same through the command line: exit 2, the message, no report
    from tradeshock.cli import main

    res = CliRunner().invoke(main, ["render", "--notebooks-dir", str(NB), "good", "-p", "n",
                                    "abc", "--out", str(out)])
    assert res.exit_code == 2 and "'abc' is not a whole number" in res.output
    assert not out.exists()


@needs_kernel
def test_fault_10_notebook_raises_mid_batch(tmp_path):
    """10. A notebook that raises mid-batch: the others finish, the index marks the failed one and
    links its failure page, its earlier good report stays, the batch is not ok."""
    a = _tiny_notebook(tmp_path / "alpha.ipynb", "k: int = 1", "print('alpha', k)")
    b = _tiny_notebook(tmp_path / "bravo.ipynb", "fail: bool = False",
                       "print('half way')\n"
                       "if fail:\n    raise RuntimeError('bravo broke at row 7')")
    c = _tiny_notebook(tmp_path / "charlie.ipynb", "k: int = 1", "print('charlie', k)")
    out = tmp_path / "out"
    first = R.render_notebooks([b], out)
    assert first["bravo"].status == OK
    bravo_good = (out / "bravo.html").read_bytes()

    summary = R.render_notebooks([a, b, c], out, params={"bravo": {"fail": "true"}}, jobs=2)
    assert not summary.ok
    assert [r.name for r in summary.failed] == ["bravo"]
    assert summary["alpha"].status == OK and summary["charlie"].status == OK
    rec = summary["bravo"]
    assert "RuntimeError: bravo broke at row 7" in rec.error
    assert rec.html == out / "bravo.failed.html" and rec.last_good_html == out / "bravo.html"
    assert (out / "bravo.html").read_bytes() == bravo_good, "the last good report stays"
    failed_page = rec.html.read_text()
    assert "This report failed to render" in failed_page and "bravo broke at row 7" in failed_page
    index = (out / "index.html").read_text()
    assert 'href="alpha.html"' in index and 'href="charlie.html"' in index
    assert 'href="bravo.failed.html"' in index and "last good report" in index
    manifest = json.loads((out / "manifest.json").read_text())["reports"]
    assert manifest["bravo"]["status"] == "failed" and manifest["alpha"]["status"] == "ok"
    assert not (out / TMP_DIR_NAME).exists() and not (out / LOCK_NAME).exists()


_KILL_DURING_EXPORT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from tradeshock.pipeline import render as R
    from tradeshock.pipeline import tasks as T

    out, nb = sys.argv[1], sys.argv[2]

    def killed_midway(nb_node, html_path, **kw):
        Path(html_path).write_text("<html><body>half a rep")
        print("exporting", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    T.export_html = killed_midway
    R.render_notebooks([nb], out, params={"k": 2}, executor="inline")
""")


@needs_kernel
def test_fault_11_killed_during_html_export(tmp_path):
    """11. The process killed (SIGKILL) during the HTML export: the previous report, index and
    manifest are intact, no finished-looking partial report exists, and the next run clears the
    leftovers and the stale lock."""
    nb = _tiny_notebook(tmp_path / "tiny.ipynb", "k: int = 1", "print(k)")
    out = tmp_path / "out"
    R.render_notebooks([nb], out)
    before = {n: (out / n).read_bytes() for n in
              ("tiny.html", "tiny.ipynb", "index.html", "manifest.json")}

    proc = subprocess.Popen([sys.executable, "-c", _KILL_DURING_EXPORT, str(out), str(nb)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, stderr
    assert "exporting" in stdout
    for name, data in before.items():
        assert (out / name).read_bytes() == data, f"{name} changed by the killed run"
    visible = [n for n in _report_files(out) if not n.startswith(".")]
    assert visible == ["index.html", "manifest.json", "tiny.html", "tiny.ipynb"]
    for p in out.rglob("*.html"):  # the half-written page is only in the hidden staging folder
        assert p.read_text().startswith("<html><body>half") == (TMP_DIR_NAME in p.parts)

    again = R.render_notebooks([nb], out)  # unchanged inputs: up to date, leftovers cleaned
    assert again.cleared_stale_lock and again.cleared_stale_lock["pid"] == proc.pid
    assert again["tiny"].status in (OK, UP_TO_DATE)
    assert (out / "tiny.html").read_bytes() == before["tiny.html"]
    assert _report_files(out) == [MARKER_NAME, "index.html", "manifest.json", "tiny.html",
                                  "tiny.ipynb"]


def test_fault_12_two_renders_at_once(tmp_path):
    """12. Two renders at once: the second stops with who holds the lock (pid, command) and what
    to do, and touches nothing of the first's folder."""
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER_NAME).write_text("")  # a reports folder tradeshock made (issue 17)
    (out / "keep.html").write_text("previous report")
    code = (
        "import time; from tradeshock.pipeline.lock import RenderLock\n"
        f"lock = RenderLock({str(out)!r}).acquire(); print('locked', flush=True); time.sleep(30)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(RenderError) as err:
            R.render_notebooks([GOOD], out)
        msg = str(err.value)
        assert f"already writing to {out}" in msg  # what, where
        assert f"pid {proc.pid}" in msg and "command:" in msg  # who
        assert "Wait for it to finish or render into another folder with --out" in msg  # how
        assert "delete" in msg and LOCK_NAME in msg
        from tradeshock.cli import main

        res = CliRunner().invoke(main, ["render", "--notebooks-dir", str(NB), "good",
                                        "--out", str(out)])
        assert res.exit_code == 2 and "already writing" in res.output
        assert sorted(n for n in _report_files(out)) == [LOCK_NAME, MARKER_NAME, "keep.html"]
        assert (out / "keep.html").read_text() == "previous report"
    finally:
        proc.kill()
        proc.wait()


@needs_kernel
def test_fault_13_disk_full_or_unwritable_reports(tmp_path, monkeypatch):
    """13. reports/ cannot be written (its parent is a file) or the disk fills while a report is
    moved into place: a clear error naming the folder, the reason and the fix; previous reports
    and the index keep working."""
    # unwritable: the output folder's parent is a file (we run as root, so no chmod)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file")
    with pytest.raises(RenderError) as err:
        R.render_notebooks([GOOD], blocker / "reports")
    msg = str(err.value)
    assert f"cannot write to {blocker / 'reports'}" in msg  # what, where
    assert "Not a directory" in msg  # why
    assert "Make it writable (or free disk space), or render into another folder with --out" in msg
    assert "existing reports were not touched" in msg
    assert blocker.read_text() == "a file"

    # disk full while moving the new report into place
    out, good, summary = _disk_full_at_commit(tmp_path, monkeypatch)
    rec = summary["tiny"]
    assert rec.status == FAILED and not summary.ok
    assert f"cannot write to {out}" in rec.error and "No space left on device" in rec.error
    assert "free disk space" in rec.error
    for name, data in good.items():
        assert (out / name).read_bytes() == data, f"{name} lost"
    assert not list(out.glob("tiny.failed.*")), "no half-moved failure page"
    assert not (out / TMP_DIR_NAME).exists()


def _disk_full_at_commit(tmp_path: Path, monkeypatch):
    """Render tiny.ipynb once, then again with the final move into out/ failing with ENOSPC.

    Returns the output folder, the good report's bytes before the failure, and the summary.
    """
    nb = _tiny_notebook(tmp_path / "tiny.ipynb", "k: int = 1", "print(k)")
    out = tmp_path / "out"
    R.render_notebooks([nb], out)
    good = {n: (out / n).read_bytes() for n in ("tiny.html", "tiny.ipynb")}
    real_replace = R._replace

    def full(src, dst):
        if Path(dst).parent == out and Path(dst).name.startswith("tiny"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(R, "_replace", full)
    return out, good, R.render_notebooks([nb], out, params={"k": 2}, executor="inline")


@needs_kernel
def test_fault_13b_disk_full_keeps_the_previous_report_in_the_index(tmp_path, monkeypatch):
    """13 (index). After a disk-full failure the index still links the previous good report and
    marks the notebook failed with the error."""
    out, _good, summary = _disk_full_at_commit(tmp_path, monkeypatch)
    assert summary["tiny"].status == FAILED
    manifest = json.loads((out / "manifest.json").read_text())["reports"]
    assert "tiny" in manifest, "the notebook vanished from manifest.json"
    assert manifest["tiny"]["status"] == "failed"
    assert "No space left on device" in manifest["tiny"]["error"]
    assert manifest["tiny"].get("last_good_html") == "tiny.html"
    index = (out / "index.html").read_text()
    assert 'href="tiny.html"' in index, "the previous good report must stay linked in the index"


@needs_kernel
def test_fault_14_parameter_value_injection(tmp_path):
    """14. A parameter value crafted to inject code into the parameters cell stays a literal
    string: the notebook sees exactly that text, nothing it contains is executed."""
    marker = tmp_path / "pwned"
    crafted = (
        f'x"\nopen(r"{marker}", "w").write("1")\ny = "'
        f"\\'''; open(r'{marker}', 'w'); '''"
        f'""" + __import__("os").system("touch {marker}") + """'
        "}} {{ # </script><script>alert(1)</script>"
    )
    nb = _tiny_notebook(tmp_path / "echo.ipynb", 'title: str = "default"',
                        "import json\nprint('VALUE=' + json.dumps(title))")
    out = tmp_path / "out"
    summary = R.render_notebooks([nb], out, params={"title": crafted})
    rec = summary["echo"]
    assert rec.status == OK, rec.error
    executed = nbformat.read(rec.ipynb, as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code"
                      for o in c.outputs)
    line = next(ln for ln in printed.splitlines() if ln.startswith("VALUE="))
    assert json.loads(line[len("VALUE="):]) == crafted
    assert not marker.exists()
    assert not (Path.cwd() / "pwned").exists()
    for page in (rec.html, out / "index.html"):  # shown escaped, never as live markup
        assert "<script>alert(1)</script>" not in page.read_text()


def test_fault_15_path_tricks(tmp_path):
    """15. Output names with ../ or other path tricks: refused with the rule and a fix, or turned
    into a safe name; nothing is written outside the output folder."""
    out = tmp_path / "reports"
    for bad in ["../evil", "../../etc/passwd", "/tmp/evil", "a/b", "..", ".hidden", "a\\b"]:
        with pytest.raises(ValidationError) as err:
            R.render_jobs([RenderJob(bad, GOOD)], out)
        msg = str(err.value)
        assert f"report name {bad!r} is not allowed" in msg  # what
        assert "use 1-120 letters, digits, '_' or '-', starting with a letter or digit" in msg
        assert "(no '/', '..' or other path parts)" in msg  # the rule, i.e. how to fix
    with pytest.raises(ValidationError, match="'index' is reserved for the render index; rename"):
        R.render_jobs([RenderJob("index", GOOD)], out)
    assert not out.exists() and not (tmp_path / "evil.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []

    # names made from free text (a sweep over symbols) stay inside the output folder
    for text in ["../../etc/passwd", "..\\..\\win", "a/../../b", "country_report ../^N225"]:
        try:
            name = output_name(text)
        except ValidationError:
            continue
        assert "/" not in name and "\\" not in name and ".." not in name
        path = output_path(out, name, ".html")
        assert path.resolve().parent == out.resolve(), (text, path)
    assert output_name("../../etc/passwd") == "etc_passwd"
    with pytest.raises(ValidationError):
        output_path(out, "ok", "/../x.html")
    # notebooks are found only inside the notebooks folder
    with pytest.raises(ValidationError) as err:
        resolve_notebooks(["../test_render"], NB)
    msg = str(err.value)
    assert "notebook '../test_render' not found" in msg and "available in" in msg
