"""The fault matrix of issue 17, pipeline side: nothing lost, nothing stale, every message clear.

Each test is one case of the issue (numbers in the test names), asserts the user-facing message
(what is wrong, where, how to fix it) and that nothing already good was lost. Render cases need
the Jupyter kernel ``tradeshock`` and use tiny notebooks written into ``tmp_path``.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import needs_kernel
from helpers import tiny_notebook as _tiny_notebook

from tradeshock.cli import main
from tradeshock.core import fileio
from tradeshock.errors import FileSetError, OutputFolderError, RenderError, ValidationError
from tradeshock.paths import PROJECT_ROOT
from tradeshock.pipeline import bundle as B
from tradeshock.pipeline import render as R
from tradeshock.pipeline.outdir import check_out_dir
from tradeshock.pipeline.outputs import FAILED, LOCK_NAME, MARKER_NAME, OK, TMP_DIR_NAME
from tradeshock.pipeline.sweep import check_sweep_size, parse_sweep
from tradeshock.pipeline.tasks import RenderJob

HERE = Path(__file__).resolve().parent
NB = HERE / "notebooks"


def _visible(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if not p.name.startswith("."))


# ============================================================ 1. --out writes over a folder


@pytest.mark.skipif(PROJECT_ROOT is None, reason="needs the project checkout")
def test_fault17_01_out_refuses_project_source_folders(tmp_path):
    """1. --out notebooks / data/snapshot / the project root: refused before anything is written,
    saying which folder, why, and what to do."""
    nb_before = {p.name: p.read_bytes() for p in (PROJECT_ROOT / "notebooks").glob("*.ipynb")}
    for target, why in [
        (PROJECT_ROOT / "notebooks", "source files"),
        (PROJECT_ROOT / "data" / "snapshot", "the data and the pinned snapshot"),
        (PROJECT_ROOT / "data", "the data and the pinned snapshot"),
        (PROJECT_ROOT / "lib", "source files"),
    ]:
        with pytest.raises(OutputFolderError) as err:
            R.render_jobs([RenderJob("good", NB / "good.ipynb")], target)
        msg = str(err.value)
        assert f"--out {target} is" in msg and "the project's source folder" in msg  # what, where
        assert why in msg
        assert "choose an empty or new folder with --out" in msg  # how
    with pytest.raises(OutputFolderError, match="is the project folder"):
        check_out_dir(PROJECT_ROOT)
    res = CliRunner().invoke(main, ["render", "--notebooks-dir", str(NB), "good", "-o",
                                    str(PROJECT_ROOT / "notebooks")])
    assert res.exit_code == 2 and "source folder" in res.output and "Traceback" not in res.output
    after = {p.name: p.read_bytes() for p in (PROJECT_ROOT / "notebooks").glob("*.ipynb")}
    assert after == nb_before
    assert not (PROJECT_ROOT / "notebooks" / "index.html").exists()
    assert not (PROJECT_ROOT / "notebooks" / MARKER_NAME).exists()


def test_fault17_01b_out_refuses_a_folder_with_other_files(tmp_path):
    """1. A folder with its own index.html / manifest.json: refused, the files named, the fix
    given; an empty, new or marked folder is fine."""
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("my own site")
    (out / "manifest.json").write_text('{"name": "my app"}')
    with pytest.raises(OutputFolderError) as err:
        R.render_jobs([RenderJob("good", NB / "good.ipynb")], out)
    msg = str(err.value)
    assert f"--out {out} holds files tradeshock did not make (index.html, manifest.json)" in msg
    assert "choose an empty or new folder with --out" in msg
    assert f"create an empty file {out / MARKER_NAME}" in msg
    assert (out / "index.html").read_text() == "my own site"
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "manifest.json"]
    # a file given as --out
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputFolderError, match="is a file, not a folder"):
        check_out_dir(tmp_path / "afile")
    # new, empty, marked, or holding a tradeshock manifest: admitted
    check_out_dir(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_out_dir(tmp_path / "empty")
    (out / MARKER_NAME).write_text("")
    check_out_dir(out)
    old = tmp_path / "old-reports"
    old.mkdir()
    (old / "manifest.json").write_text(json.dumps({"reports": {}, "tradeshock_version": "0.1"}))
    (old / "x.html").write_text("a report")
    check_out_dir(old)


# ============================================================ 2. --bundle-to


def _fake_rendered(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER_NAME).write_text("")
    (out / "a.html").write_text("<html>a</html>")
    manifest = {"reports": {"a": {"name": "a", "status": OK, "html": "a.html"}},
                "tradeshock_version": "x"}
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "index.html").write_text('<a href="a.html">a</a>')
    return out


def test_fault17_02_bundle_to_never_overwrites_a_foreign_file(tmp_path):
    """2. --bundle-to an existing file tradeshock did not make (the index page, a zip of
    someone else's) or a folder: refused, the file untouched; a bundle it made is replaced."""
    out = _fake_rendered(tmp_path / "reports")
    index = (out / "index.html").read_text()
    with pytest.raises(OutputFolderError) as err:
        B.write_bundle(out, out / "index.html")
    msg = str(err.value)
    assert f"--bundle-to {out / 'index.html'}: that file exists" in msg
    assert "was not made by tradeshock" in msg
    assert "choose a new file name, or delete or move that file first" in msg
    assert (out / "index.html").read_text() == index
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("mine.txt", "someone else's")
    with pytest.raises(OutputFolderError, match="not made by tradeshock"):
        B.write_bundle(out, other)
    assert zipfile.ZipFile(other).namelist() == ["mine.txt"]
    with pytest.raises(OutputFolderError, match="is a folder; give a file name for the zip"):
        B.write_bundle(out, tmp_path)
    made = B.write_bundle(out, tmp_path / "mail.zip")
    assert B.is_bundle(made.path)
    again = B.write_bundle(out, tmp_path / "mail.zip")  # ours: replaced
    assert again.path.read_bytes() == made.path.read_bytes()
    res = CliRunner().invoke(main, ["render", "--notebooks-dir", str(NB), "good", "-o", str(out),
                                    "--bundle-to", str(out / "a.html")])
    assert res.exit_code == 2 and "not made by tradeshock" in res.output
    assert (out / "a.html").read_text() == "<html>a</html>"


def test_fault17_02b_bundle_to_unwritable_is_a_message(tmp_path, monkeypatch):
    """2. An unwritable --bundle-to (parent is a file; disk full): a message, no traceback."""
    out = _fake_rendered(tmp_path / "reports")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    with pytest.raises(RenderError) as err:
        B.write_bundle(out, blocker / "mail.zip")
    msg = str(err.value)
    assert f"could not write the bundle {blocker / 'mail.zip'}" in msg
    assert "choose another destination with --bundle-to" in msg
    assert blocker.read_text() == "a file"

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(B.zipfile.ZipFile, "writestr", full)
    with pytest.raises(RenderError, match="No space left on device; free some space"):
        B.write_bundle(out, tmp_path / "mail.zip")
    assert not list(tmp_path.glob(".mail.zip.*"))


# ============================================================ 4. unreadable manifest


@needs_kernel
def test_fault17_04_unreadable_manifest_is_rebuilt_and_reported(tmp_path):
    """4. A corrupt manifest.json: the next render rebuilds the other reports' entries from the
    executed notebooks on disk and says so; doctor and the bundle report it."""
    from tradeshock.pipeline.doctor import check_reports

    a = _tiny_notebook(tmp_path / "alpha.ipynb", "k: int = 1", "print(k)")
    b = _tiny_notebook(tmp_path / "bravo.ipynb", "k: int = 1", "print(k)")
    out = tmp_path / "out"
    R.render_notebooks([a, b], out, params={"alpha": {"k": 5}})
    (out / "manifest.json").write_text('{"reports": {"alpha": ')  # truncated
    check = check_reports(out)
    assert not check.ok and "manifest.json is not valid JSON" in check.detail
    assert "tradeshock render --out" in check.fix and "rebuilds the manifest" in check.fix
    with pytest.raises(RenderError, match="not valid JSON.*Run `tradeshock render`"):
        B.write_bundle(out)
    summary = R.render_notebooks([b], out)  # alpha is not in this run
    assert summary.notes and "rebuilt it from the 2 report(s) on disk (alpha, bravo)" in (
        summary.notes[0])
    manifest = json.loads((out / "manifest.json").read_text())["reports"]
    assert sorted(manifest) == ["alpha", "bravo"], "alpha vanished from the manifest"
    assert manifest["alpha"]["params"] == {"k": 5} and manifest["alpha"]["status"] == OK
    assert 'href="alpha.html"' in (out / "index.html").read_text()
    assert list(out.glob(".tradeshock-manifest-broken-*.json"))
    assert check_reports(out).ok
    assert "alpha.html" in B.write_bundle(out).members


# ============================================================ 5. commit of a pair


@needs_kernel
def test_fault17_05_failed_commit_rolls_back_the_pair(tmp_path, monkeypatch):
    """5. The HTML cannot be replaced (2nd file of the set): the notebook already moved is put
    back, so the message "the previous report was kept" is true; the index keeps the report."""
    nb = _tiny_notebook(tmp_path / "tiny.ipynb", "k: int = 1", "print('k is', k)")
    out = tmp_path / "out"
    R.render_notebooks([nb], out)
    good = {n: (out / n).read_bytes() for n in ("tiny.html", "tiny.ipynb")}
    real = R._replace

    def immutable_html(src, dst):
        if Path(dst) == out / "tiny.html":
            raise OSError(errno.EPERM, "Operation not permitted")
        return real(src, dst)

    monkeypatch.setattr(R, "_replace", immutable_html)
    summary = R.render_notebooks([nb], out, params={"k": 2}, executor="inline")
    rec = summary["tiny"]
    assert rec.status == FAILED
    assert f"cannot write to {out}: Operation not permitted" in rec.error
    assert "the previous tiny report was kept" in rec.error
    assert "existing reports were not touched" not in rec.error
    for name, data in good.items():
        assert (out / name).read_bytes() == data, f"{name} was replaced though the set failed"
    assert not [p for p in out.iterdir() if fileio.is_temp_name(p.name)], "backup left behind"
    entry = json.loads((out / "manifest.json").read_text())["reports"]["tiny"]
    assert entry["last_good_html"] == "tiny.html"


def test_fault17_05b_replace_together_roll_back_failure_is_named(tmp_path, monkeypatch):
    """5. When even the roll-back fails, the error names the files that hold the new version."""
    dst, src = tmp_path / "out", tmp_path / "new"
    dst.mkdir()
    src.mkdir()
    for n in ("a.ipynb", "a.html"):
        (dst / n).write_text("old " + n)
        (src / n).write_text("new " + n)
    real = os.replace

    def fail(s, d):
        if Path(d).name == "a.html" or Path(s).name.startswith(".a.ipynb"):
            raise OSError(errno.EIO, "Input/output error")
        return real(s, d)

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(FileSetError) as err:
        fileio.replace_together([(src / "a.ipynb", dst / "a.ipynb"), (src / "a.html",
                                                                       dst / "a.html")])
    assert err.value.replaced == [dst / "a.ipynb"]
    assert "could not be restored" in str(err.value) and "copy the backups back" in str(err.value)
    assert (dst / "a.html").read_text() == "old a.html"


# ============================================================ 6. study --out


def test_fault17_06_study_out_all_or_nothing(tmp_path, monkeypatch):
    """6. study --out on a full disk: no partial set of tables, a message instead of a
    traceback; the previous tables stay."""
    import shutil

    csv = tmp_path / "R.csv"
    shutil.copy(HERE / "results" / "estudy2" / "returns.csv", csv)
    out = tmp_path / "results"
    args = ["study", "--returns", str(csv), "--market", "MKT", "--estimation",
            "2023-01-02:2023-09-08", "--event", "2023-10-06:2023-10-24", "--out", str(out)]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(before) == 5
    real = fileio._fsync_replace
    calls = {"n": 0}

    def full(src, dst):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(fileio, "_fsync_replace", full)
    res = CliRunner().invoke(main, args + ["--car-window", "2023-10-06:2023-10-10"])
    assert res.exit_code == 2, res.output
    assert f"cannot write the study tables to {out}: No space left on device" in res.output
    assert "choose another folder with --out" in res.output and "Nothing was written" in res.output
    assert "Traceback" not in res.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# ============================================================ 9. SIGTERM


_SLOW_RENDER = """
import sys
from tradeshock.cli import main
sys.argv = ["tradeshock", "render", sys.argv[1], "-o", sys.argv[2], "--no-progress"]
main()
"""


@needs_kernel
def test_fault17_09_sigterm_stops_render_like_ctrl_c(tmp_path):
    """9. SIGTERM to `render`: one line, exit 143, the worker and the kernel stopped, the lock
    released, the previous reports untouched."""
    started = tmp_path / "started.json"
    nb = _tiny_notebook(
        tmp_path / "slow.ipynb", "k: int = 1",
        "import json, os, time\n"
        f"open({str(started)!r}, 'w').write(json.dumps({{'kernel': os.getpid(), "
        "'worker': int(os.environ['TRADESHOCK_WORKER_PID'])}))\n"
        "time.sleep(600)",
    )
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_RENDER, str(nb), str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not started.exists() or not started.read_text():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the notebook never started"
            time.sleep(0.2)
        pids = json.loads(started.read_text())
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    lines = [ln for ln in err.splitlines() if ln.strip() and "up to date" not in ln]
    assert lines[-1].startswith("error: render stopped by SIGTERM"), err
    assert "the lock on" in lines[-1] and "Run the same command again" in lines[-1]
    assert "Traceback" not in err
    assert not (out / LOCK_NAME).exists() and not (out / TMP_DIR_NAME).exists()
    deadline = time.monotonic() + 30
    for pid in (pids["worker"], pids["kernel"]):
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"process {pid} still running after SIGTERM to render")


# ============================================================ 12. temporary files


@needs_kernel
def test_fault17_12_stale_temp_files_are_cleaned(tmp_path):
    """12. A crashed atomic write's `.NAME.XXXXXXXX.tmp` in reports/ is removed by the next
    render (the writer's names and the clean-up agree); other files are not touched."""
    nb = _tiny_notebook(tmp_path / "tiny.ipynb", "k: int = 1", "print(k)")
    out = tmp_path / "out"
    R.render_notebooks([nb], out)
    fd, stale = fileio.make_temp(out / "manifest.json")
    os.write(fd, b'{"half": ')
    os.close(fd)
    past = time.time() - 3600
    os.utime(stale, (past, past))
    assert fileio.is_temp_name(Path(stale).name)
    again = R.render_notebooks([nb], out)
    assert again["tiny"].ok
    assert not Path(stale).exists()
    assert _visible(out) == ["index.html", "manifest.json", "tiny.html", "tiny.ipynb"]


# ============================================================ 13. sweeps


def test_fault17_13_sweep_cap(tmp_path):
    """13. A sweep of more reports than --max-reports is refused before anything runs, with the
    count and how to raise the cap."""
    axes = [parse_sweep("a=" + ",".join(map(str, range(100)))),
            parse_sweep("b=" + ",".join(map(str, range(100))))]
    with pytest.raises(ValidationError) as err:
        check_sweep_size(10_000, 50, axes)
    msg = str(err.value)
    assert "the sweep would start 10000 reports (100 values of a x 100 values of b)" in msg
    assert "more than --max-reports 50" in msg and "pass --max-reports 10000 to confirm" in msg
    check_sweep_size(50, 50, axes)
    out = tmp_path / "out"
    values = ",".join(str(i) for i in range(60))
    res = CliRunner().invoke(main, ["render", "--notebooks-dir", str(NB), "good", "--sweep",
                                    f"n={values}", "-o", str(out)])
    assert res.exit_code == 2 and "the sweep would start 60 reports" in res.output
    assert not out.exists()


@needs_kernel
def test_fault17_13b_second_sweep_with_other_fixed_values_is_refused(tmp_path):
    """13. A second sweep with other fixed -p values would replace same-named reports made with
    other parameters: refused, naming them, suggesting --replace; with it, replaced."""
    nb = _tiny_notebook(tmp_path / "sw.ipynb", "k: int = 1\nm: int = 0", "print(k, m)")
    out = tmp_path / "out"
    base = ["render", str(nb), "--sweep", "k=1,2", "-o", str(out), "--no-progress"]
    first = CliRunner().invoke(main, base + ["-p", "m", "7"])
    assert first.exit_code == 0, first.output
    html = (out / "sw-1.html").read_bytes()
    second = CliRunner().invoke(main, base + ["-p", "m", "8"])
    assert second.exit_code == 2, second.output
    msg = second.output
    assert "2 report(s) in" in msg and "same name but were made with other parameters" in msg
    assert "sw-1 (made with m = 7, k = 1; now m = 8, k = 1)" in msg
    assert "Pass --replace to replace them" in msg
    assert (out / "sw-1.html").read_bytes() == html
    same = CliRunner().invoke(main, base + ["-p", "m", "7"])  # same parameters: fine
    assert same.exit_code == 0 and same.output.count(": up to date") == 2, same.output
    third = CliRunner().invoke(main, base + ["-p", "m", "8", "--replace"])
    assert third.exit_code == 0, third.output
    entry = json.loads((out / "manifest.json").read_text())["reports"]["sw-1"]
    assert entry["params"] == {"k": 1, "m": 8}


# ============================================================ 14. attachments


@needs_kernel
def test_fault17_14_attachments_move_with_the_report(tmp_path, monkeypatch):
    """14. A notebook's attachments land in NAME_files/ with the report (one set), the index
    links them with their description, the manifest lists them and the bundle carries them; a
    failed commit keeps the previous attachments."""
    nb = _tiny_notebook(
        tmp_path / "att.ipynb", "k: int = 1",
        "from tradeshock.pipeline.provenance import attach\n"
        "attach('table.csv', f'a,b\\n{k},2\\n', 'the tidy table')",
    )
    out = tmp_path / "out"
    summary = R.render_notebooks([nb], out)
    rec = summary["att"]
    assert rec.status == OK, rec.error
    assert (out / "att_files" / "table.csv").read_text() == "a,b\n1,2\n"
    assert rec.attachments == [{"name": "table.csv", "file": "att_files/table.csv",
                                "description": "the tidy table", "bytes": 8}]
    entry = json.loads((out / "manifest.json").read_text())["reports"]["att"]
    assert entry["attachments"][0]["file"] == "att_files/table.csv"
    index = (out / "index.html").read_text()
    assert 'href="att_files/table.csv"' in index and "the tidy table" in index
    assert 'att_files/table.csv' in (out / "att.html").read_text()  # the report links it
    b = B.write_bundle(out)
    assert "att_files/table.csv" in b.members
    assert zipfile.ZipFile(b.path).read("att_files/table.csv") == b"a,b\n1,2\n"

    real = R._replace

    def full(src, dst):
        if Path(dst) == out / "att.html":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(R, "_replace", full)
    again = R.render_notebooks([nb], out, params={"k": 3}, executor="inline")
    assert again["att"].status == FAILED and "the previous att report was kept" in again[
        "att"].error
    assert (out / "att_files" / "table.csv").read_text() == "a,b\n1,2\n", "attachment replaced"


def test_fault17_01c_refresh_checks_its_output_folder_first(tmp_path):
    """1. `refresh` writes a report folder too: a folder with other files is refused before
    its lock file or any data is touched."""
    from tradeshock.pipeline import refresh as RF

    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    with pytest.raises(OutputFolderError) as err:
        RF.refresh(["good"], out, notebooks_dir=NB, snapshot=tmp_path / "nowhere")
    assert f"--out {out} holds files tradeshock did not make (notes.txt)" in str(err.value)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    res = CliRunner().invoke(main, ["refresh", "--notebooks-dir", str(NB), "good", "-o", str(out),
                                    "--snapshot", str(tmp_path)])
    assert res.exit_code == 2 and "holds files tradeshock did not make" in res.output, res.output


def test_fault17_09b_terminate_as_interrupt_raises_once():
    """9. Inside the context SIGTERM raises Terminated (a KeyboardInterrupt) once; outside, the
    previous handler is back."""
    from tradeshock.core.signals import terminate_as_interrupt
    from tradeshock.errors import Terminated

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), terminate_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the signal arrives first
    assert issubclass(Terminated, KeyboardInterrupt)
    assert signal.getsignal(signal.SIGTERM) == before


@needs_kernel
def test_fault17_05c_index_unwritable_after_a_commit_says_what_moved(tmp_path, monkeypatch):
    """5. The index cannot be written after a report was moved into place: the message names
    that report instead of claiming nothing was touched."""
    from tradeshock.pipeline import reportindex

    nb = _tiny_notebook(tmp_path / "tiny.ipynb", "k: int = 1", "print(k)")
    out = tmp_path / "out"
    R.render_notebooks([nb], out)

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(reportindex, "write_index", full)
    with pytest.raises(RenderError) as err:
        R.render_notebooks([nb], out, params={"k": 2}, executor="inline")
    msg = str(err.value)
    assert f"cannot write to {out}: No space left on device" in msg
    assert "the report(s) tiny of this run were already moved into place" in msg
    assert "not touched" not in msg


@needs_kernel
def test_fault17_14b_attachments_the_new_run_no_longer_makes_are_removed(tmp_path):
    """14. Attachments belong to the report that made them: a later good run that attaches
    nothing removes the old folder in the same step, so the index never links a stale file."""
    nb = _tiny_notebook(
        tmp_path / "att.ipynb", "k: int = 1",
        "from tradeshock.pipeline.provenance import attach\n"
        "if k:\n    attach('t.csv', 'a\\n1\\n', 'a table')",
    )
    out = tmp_path / "out"
    assert R.render_notebooks([nb], out)["att"].attachments
    assert (out / "att_files" / "t.csv").is_file()
    rec = R.render_notebooks([nb], out, params={"k": 0})["att"]
    assert rec.status == OK and rec.attachments == []
    assert not (out / "att_files").exists()
    assert "att_files" not in (out / "index.html").read_text()
