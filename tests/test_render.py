"""tradeshock render: real kernels and real papermill on the tiny fixtures in tests/notebooks/.

Outputs go to tmp_path folders, never to the project's reports/. The kernel-backed tests run in
about half a minute; the rest (parameters, names, locks, fingerprints, figures) need no kernel.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from tradeshock.pipeline import export as EX
from tradeshock.pipeline import render as R
from tradeshock.pipeline import tasks as T
from tradeshock.pipeline.executors import make_executor
from tradeshock.pipeline.export import external_references
from tradeshock.pipeline.fingerprint import data_fingerprint, input_fingerprint, library_fingerprint
from tradeshock.pipeline.lock import RenderLock
from tradeshock.pipeline.naming import (
    check_output_name,
    output_name,
    output_path,
    resolve_notebooks,
)
from tradeshock.pipeline.outputs import FAILED, LOCK_NAME, OK, TMP_DIR_NAME, UP_TO_DATE
from tradeshock.pipeline.process_executor import InlineExecutor, ProcessExecutor
from tradeshock.pipeline.provenance import (
    RECORD_MIME,
    _as_of_text,
    is_rendering,
    read_record,
    record,
)
from tradeshock.pipeline.tasks import ExecOptions, RenderJob, RenderTask
from tradeshock.errors import RenderError, ValidationError
from tradeshock.pipeline.params import (
    TextValue,
    coerce_value,
    inspect_parameters,
    read_params_file,
    resolve_parameters,
)
from helpers import kernel_available as _kernel_available
from helpers import needs_kernel
from helpers import tiny_notebook as _tiny_notebook

HERE = Path(__file__).resolve().parent
NB = HERE / "notebooks"
GOOD, FAILS, SLOW, DIES = (NB / f"{n}.ipynb" for n in ("good", "fails", "slow", "dies"))

slow = pytest.mark.slow

_FETCHED = [
    re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?\s*(https?:)?//", re.I),
    re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?\s*(https?:)?//", re.I),
    re.compile(r"@import\s+(url\()?\s*[\"']?\s*(https?:)?//", re.I),
]


def _cli(*args: str):
    from tradeshock.cli import main

    return CliRunner().invoke(main, ["render", *args], catch_exceptions=False)


def _assert_self_contained(text: str) -> None:
    for pattern in _FETCHED:
        assert not pattern.search(text), f"fetches from the network: {pattern.pattern}"
    assert external_references(text) == []
    assert "require.js" not in text and "mathjax" not in text.lower().replace("mathjax-", "")


def _error_outputs(path: Path) -> list:
    nb = nbformat.read(path, as_version=4)
    return [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]


# ============================================================================================
# One batch: a good and a failing notebook rendered in parallel


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    if not _kernel_available():
        pytest.skip("Jupyter kernel 'tradeshock' not registered (make kernel)")
    out = tmp_path_factory.mktemp("reports")
    summary = R.render_notebooks([GOOD, FAILS], out, jobs=2, timeout=60)
    return out, summary


@slow
def test_good_notebook_renders_self_contained_html_with_embedded_figure(batch):
    out, summary = batch
    rec = summary["good"]
    assert rec.status == OK and rec.executed and rec.error is None
    assert rec.html == out / "good.html" and rec.html.is_file()
    assert rec.ipynb == out / "good.ipynb" and rec.ipynb.is_file()
    text = rec.html.read_text()
    assert re.search(r'<img[^>]+src="data:image/png;base64,[A-Za-z0-9+/]{200}', text)
    _assert_self_contained(text)
    assert _error_outputs(rec.ipynb) == []
    assert "Traceback" not in text
    assert 'class="highlight' not in text, "code is hidden without --show-code"
    assert re.search(r'<meta[^>]*name="viewport"', text)
    assert "Data — source: synthetic fixture; data as of 2025-04-22" in text
    # the data as-of date and source come back from record() in the notebook
    assert rec.as_of == "2025-04-22" and rec.source == "synthetic fixture"
    meta = nbformat.read(rec.ipynb, as_version=4).metadata["tradeshock"]
    assert meta["as_of"] == "2025-04-22" and meta["status"] == "ok"
    # declared types reach the notebook as such (defaults, no parameters given)
    assert meta["record"]["types"] == ["str", "int", "float", "str", "bool", "list", "str"]
    assert meta["record"]["label"] == "NaN"


@slow
def test_failing_notebook_is_isolated_kept_and_marked_failed(batch):
    out, summary = batch
    assert not summary.ok
    assert [r.name for r in summary.failed] == ["fails"]
    rec = summary["fails"]
    assert rec.status == FAILED and rec.executed
    assert "ValueError: deliberate failure for the tests" in rec.error
    assert rec.html == out / "fails.failed.html" and rec.html.is_file()
    assert rec.ipynb == out / "fails.failed.ipynb" and rec.ipynb.is_file()
    assert not (out / "fails.html").exists(), "a failed run never looks like a finished report"
    text = rec.html.read_text()
    assert "This report failed to render" in text and "ValueError" in text
    _assert_self_contained(text)
    errors = _error_outputs(rec.ipynb)
    assert errors and errors[0].ename == "ValueError"
    assert "before the failure" in text
    executed = nbformat.read(rec.ipynb, as_version=4)
    assert executed.cells[-1].outputs == [], "execution stopped at the failing cell"
    assert summary["good"].status == OK  # the other notebook finished


@slow
def test_index_and_manifest_list_every_report(batch):
    out, summary = batch
    index = (out / "index.html").read_text()
    assert '<meta name="viewport" content="width=device-width' in index
    _assert_self_contained(index)
    assert "<script" not in index
    assert 'href="good.html"' in index and 'href="good.ipynb"' in index
    assert 'href="fails.failed.html"' in index and 'href="fails.failed.ipynb"' in index
    assert re.search(r'class="report failed"[^>]*id="fails"', index)
    assert "2025-04-22" in index and "synthetic fixture" in index
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["packages"]["papermill"] and manifest["packages"]["nbconvert"]
    good, fails = manifest["reports"]["good"], manifest["reports"]["fails"]
    assert good["status"] in (OK, UP_TO_DATE) and fails["status"] == FAILED
    assert set(good["inputs"]) == {"notebook", "params", "data", "library", "environment", "options"}
    assert good["as_of"] == "2025-04-22" and good["html"] == "good.html"
    assert good["seconds"] > 0 and fails["error"]


@slow
def test_second_run_with_nothing_changed_executes_nothing(batch):
    out, _ = batch
    before = (out / "good.html").read_bytes()
    again = R.render_notebooks([GOOD], out)
    assert [r.status for r in again.records] == [UP_TO_DATE]
    assert again.executed == []
    rec = again["good"]
    assert rec.as_of == "2025-04-22" and rec.seconds > 0  # carried over from the real run
    assert (out / "good.html").read_bytes() == before
    assert "up to date" in (out / "index.html").read_text()
    assert "fails" in json.loads((out / "manifest.json").read_text())["reports"]


@slow
def test_cli_exits_nonzero_naming_failures_and_reuses_up_to_date(batch):
    out, _ = batch
    result = _cli(
        "--notebooks-dir",
        str(NB),
        "good",
        "fails",
        "--out",
        str(out),
        "--timeout",
        "60",
        "--no-progress",
    )
    assert result.exit_code == 1
    assert "failed: fails (ValueError: deliberate failure for the tests" in result.output
    assert "good: up to date" in result.output and "fails: failed" in result.output
    assert "up to date" in result.output  # the summary table


@slow
def test_force_reexecutes(batch):
    out, _ = batch
    summary = R.render_notebooks([GOOD], out, force=True)
    assert summary["good"].status == OK and summary["good"].executed


@slow
def test_stale_lock_from_dead_process_is_cleared(batch):
    out, _ = batch
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / LOCK_NAME).write_text(
        json.dumps({"pid": dead.pid, "host": "here", "started": "earlier"})
    )
    summary = R.render_notebooks([GOOD], out)
    assert summary.cleared_stale_lock["pid"] == dead.pid
    assert summary["good"].status == UP_TO_DATE
    assert not (out / LOCK_NAME).exists()


@slow
def test_leftovers_of_an_interrupted_run_are_cleaned(batch):
    out, _ = batch
    staging = out / TMP_DIR_NAME / "run-1-dead"
    staging.mkdir(parents=True)
    (staging / "good.html").write_text("<html>half")
    (out / ".good.html.tmp-1-abc").write_text("half")
    R.render_notebooks([GOOD], out)
    assert not (out / TMP_DIR_NAME).exists()
    assert not list(out.glob(".*.tmp-*"))


# ============================================================================================
# Timeouts, dead kernels, parameters in a real kernel, keeping the last good report


@slow
@needs_kernel
def test_cell_timeout_and_dead_kernel_end_the_batch(tmp_path):
    summary = R.render_notebooks([SLOW, DIES], tmp_path, jobs=2, timeout=2)
    assert summary.seconds < 45
    slow_rec, dies_rec = summary["slow"], summary["dies"]
    assert slow_rec.status == FAILED and "per-cell timeout of 2 s" in slow_rec.error
    assert dies_rec.status == FAILED and "kernel died" in dies_rec.error
    for rec in (slow_rec, dies_rec):
        assert rec.html.is_file() and rec.html.name.endswith(".failed.html")
        assert "This report failed to render" in rec.html.read_text()
        assert _error_outputs(rec.ipynb), "the stopped cell carries an error output"
    index = (tmp_path / "index.html").read_text()
    assert index.count('class="report failed"') == 2


@slow
@needs_kernel
def test_worker_over_its_deadline_or_killed_fails_only_its_notebook(tmp_path):
    killer = _tiny_notebook(
        tmp_path / "killer.ipynb",
        "k = 1",
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
    )
    opts = ExecOptions(timeout=600)
    staging = str(tmp_path / "staging")
    tasks = [
        RenderTask(RenderJob("slow", SLOW), staging, opts, deadline=3),
        RenderTask(RenderJob("killer", killer), staging, opts, deadline=60),
        RenderTask(RenderJob("good", GOOD), staging, opts, deadline=60),
    ]
    results = {task.job.name: res for task, res in ProcessExecutor(jobs=2).run(tasks)}
    assert "over the notebook's time limit" in results["slow"].error
    assert "worker process died (signal 9)" in results["killer"].error
    assert results["good"].ok and Path(results["good"].html).is_file()
    for name in ("slow", "killer"):  # the parent salvaged what the worker had saved
        assert "This report failed to render" in Path(results[name].html).read_text()


@slow
@needs_kernel
def test_parameter_values_stay_literals_no_code_injection(tmp_path):
    marker = tmp_path / "pwned"
    crafted = (
        f'x"; open(r"{marker}", "w").write("1"); y = "\n'
        f"''' + open(r'{marker}', 'w').write('2') + '''\\\n"
        '"""; import os; os.system("touch pwned") #  </script><script>alert(1)</script>'
    )
    summary = R.render_notebooks(
        [GOOD], tmp_path / "out", params={"title": crafted, "n": "2"}, show_code=True
    )
    rec = summary["good"]
    assert rec.status == OK, rec.error
    shown = rec.html.read_text()
    assert "celltag_injected-parameters" in shown and 'class="highlight' in shown  # --show-code
    prov = nbformat.read(rec.ipynb, as_version=4).metadata["tradeshock"]["record"]
    assert prov["title"] == crafted
    assert prov["values"][0] == 2
    assert not marker.exists() and not (NB / "pwned").exists()
    index = (tmp_path / "out" / "index.html").read_text()
    assert "<script>alert(1)</script>" not in index
    assert "<script>alert(1)</script>" not in rec.html.read_text()


@slow
@needs_kernel
def test_failed_run_keeps_previous_good_report_and_a_good_run_clears_the_failure(tmp_path):
    nb = _tiny_notebook(
        tmp_path / "flip.ipynb",
        "fail: bool = False",
        'if fail:\n    raise RuntimeError("flipped")\nprint("fine")',
    )
    out = tmp_path / "out"
    first = R.render_notebooks([nb], out)
    assert first["flip"].status == OK
    good_bytes = (out / "flip.html").read_bytes()

    second = R.render_notebooks([nb], out, params={"fail": "true"})
    rec = second["flip"]
    assert rec.status == FAILED and "RuntimeError: flipped" in rec.error
    assert (out / "flip.html").read_bytes() == good_bytes, "the last good report stays"
    assert rec.html == out / "flip.failed.html" and rec.last_good_html == out / "flip.html"
    index = (out / "index.html").read_text()
    assert 'href="flip.failed.html"' in index and "last good report" in index

    third = R.render_notebooks([nb], out)
    assert third["flip"].status == OK and third["flip"].executed
    assert not (out / "flip.failed.html").exists() and not (out / "flip.failed.ipynb").exists()


@slow
@needs_kernel
def test_interrupted_export_leaves_previous_report_and_no_partial(tmp_path, monkeypatch):
    nb = _tiny_notebook(tmp_path / "tiny.ipynb", "k: int = 1", "print(k)")
    out = tmp_path / "out"
    R.render_notebooks([nb], out)
    good_bytes = (out / "tiny.html").read_bytes()

    def killed_midway(nb_node, html_path, **kw):
        Path(html_path).write_text("<html><body>half a rep")  # the staging copy only
        raise KeyboardInterrupt

    monkeypatch.setattr(T, "export_html", killed_midway)
    with pytest.raises(KeyboardInterrupt):
        R.render_notebooks([nb], out, params={"k": 2}, executor="inline")
    assert (out / "tiny.html").read_bytes() == good_bytes
    assert sorted(p.name for p in out.iterdir()) == [
        ".tradeshock-reports",  # the marker of a reports folder (issue 17)
        "index.html",
        "manifest.json",
        "tiny.html",
        "tiny.ipynb",
    ]


@slow
@needs_kernel
def test_disk_full_while_writing_fails_clearly_and_keeps_previous_report(tmp_path, monkeypatch):
    import errno

    nb = _tiny_notebook(tmp_path / "tiny.ipynb", "k: int = 1", "print(k)")
    out = tmp_path / "out"
    R.render_notebooks([nb], out)
    good_bytes = (out / "tiny.html").read_bytes()

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(T, "atomic_write_text", full)  # the executed notebook
    monkeypatch.setattr(EX, "atomic_write_text", full)  # its HTML
    summary = R.render_notebooks([nb], out, params={"k": 2}, executor="inline")
    rec = summary["tiny"]
    assert rec.status == FAILED
    assert "writing the executed notebook failed" in rec.error
    assert "No space left on device" in rec.error and "free disk space" in rec.error
    assert (out / "tiny.html").read_bytes() == good_bytes


# ============================================================================================
# Parameters: validation before execution, coercion to declared types


def test_bad_parameters_fail_before_execution_with_message(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValidationError) as exc:
        R.render_notebooks([GOOD], out, params={"nn": 3})
    msg = str(exc.value)
    assert "unknown parameter 'nn'" in msg and "Did you mean 'n'" in msg
    assert "good declares: flag, label, n, scale, start, symbols, title" in msg
    with pytest.raises(ValidationError) as exc:
        R.render_notebooks([GOOD], out, params={"n": "abc", "scale": "1,5"})
    msg = str(exc.value)
    assert "parameter 'n' of notebook good" in msg and "'abc' is not a whole number" in msg
    assert "`n: int = 3`" in msg and "'1,5' is not a number" in msg
    assert not out.exists(), "nothing written before validation passes"


def test_cli_bad_parameter_exits_2_with_message(tmp_path):
    result = _cli("--notebooks-dir", str(NB), "good", "-p", "n", "3.5", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "'3.5' is not a whole number" in result.output
    assert not (tmp_path / "good.html").exists()
    result = _cli(
        "--notebooks-dir", str(NB), "good", "-p", "x; import os", "1", "--out", str(tmp_path)
    )
    assert result.exit_code == 2 and "Python identifier" in result.output
    result = _cli("--notebooks-dir", str(NB), "dies", "-p", "n", "1", "--out", str(tmp_path))
    assert result.exit_code == 2 and "no cell tagged 'parameters'" in result.output


def test_parameters_are_coerced_to_declared_types():
    specs = inspect_parameters(GOOD).specs
    assert {k: s.type_name for k, s in specs.items()} == {
        "title": "str",
        "n": "int",
        "scale": "float",
        "start": "str",
        "flag": "bool",
        "symbols": "list[str]",
        "label": "str",
    }
    assert specs["n"].help == "number of weeks" and specs["n"].default == 3
    c = coerce_value
    assert c(specs["n"], TextValue("3")) == 3 and type(c(specs["n"], "3")) is int
    for bad in ("3.5", "abc", 3.5, True, ""):
        with pytest.raises(ValueError):
            c(specs["n"], bad)
    assert c(specs["scale"], "2") == 2.0 and c(specs["scale"], 2) == 2.0
    assert c(specs["scale"], "NaN") != c(specs["scale"], "NaN")  # declared float: nan is fine
    assert c(specs["title"], TextValue("NaN")) == "NaN"  # a str stays a str
    assert c(specs["label"], TextValue("NaN")) == "NaN"
    assert c(specs["start"], TextValue("2025-04-09")) == "2025-04-09"
    import datetime as dt

    assert c(specs["start"], dt.date(2025, 4, 9)) == "2025-04-09"  # YAML dates -> ISO strings
    assert c(specs["flag"], "no") is False and c(specs["flag"], "TRUE") is True
    with pytest.raises(ValueError):
        c(specs["flag"], "maybe")
    assert c(specs["symbols"], TextValue("[^N225, ^HSI]")) == ["^N225", "^HSI"]
    assert c(specs["symbols"], TextValue("^N225,^HSI")) == ["^N225", "^HSI"]
    assert c(specs["symbols"], ("a",)) == ["a"]
    with pytest.raises(ValueError):
        c(specs["title"], None)


def test_parameter_inference_from_annotations(tmp_path):
    nb = _tiny_notebook(
        tmp_path / "ann.ipynb",
        "import datetime\n"
        "a: str | None = None      # optional string\n"
        "b: Optional[int] = None\n"
        "c = None                  # untyped\n"
        "d: datetime.date = datetime.date(2025, 4, 2)\n"
        "e: list[int] = [1, 2]\n"
        "f = {'x': 1}\n"
        "g = [\n    'multi',\n    'line',\n]\n",
        "",
    )
    specs = inspect_parameters(nb).specs
    assert specs["a"].type_name == "str | None" and specs["a"].help == "optional string"
    assert specs["b"].type_name == "int | None"
    assert specs["c"].kind == "any" and specs["d"].kind == "date"
    assert specs["e"].type_name == "list[int]" and specs["f"].kind == "dict"
    assert specs["g"].kind == "list" and specs["g"].default == ["multi", "line"]
    c = coerce_value
    assert c(specs["a"], TextValue("none")) is None and c(specs["a"], "x") == "x"
    assert c(specs["b"], "7") == 7
    assert c(specs["c"], TextValue("NaN")) == "NaN"  # NaN text never becomes a float
    assert c(specs["c"], TextValue("2025-04-02")) == "2025-04-02"
    assert c(specs["c"], TextValue("12")) == 12 and c(specs["c"], TextValue("[1, 2]")) == [1, 2]
    assert c(specs["c"], "12") == "12"  # a YAML/Python string stays a string
    assert c(specs["d"], "2025-04-09") == "2025-04-09"
    with pytest.raises(ValueError):
        c(specs["d"], "9 April")
    assert c(specs["e"], TextValue("1,2,3")) == [1, 2, 3]
    with pytest.raises(ValueError):
        c(specs["e"], TextValue("1,x"))
    assert c(specs["f"], TextValue("{y: 2}")) == {"y": 2}


def test_parameters_across_notebooks_and_per_notebook_sections(tmp_path):
    declared = {"good": inspect_parameters(GOOD), "fails": inspect_parameters(FAILS)}
    both = resolve_parameters({"n": "2", "title": "T"}, declared)
    assert both == {"good": {"n": 2, "title": "T"}, "fails": {"n": 2}}
    per = resolve_parameters({"good": {"scale": 3}, "n": 5}, declared)
    assert per == {"good": {"scale": 3.0, "n": 5}, "fails": {"n": 5}}
    with pytest.raises(ValidationError, match="unknown parameter 'title'"):
        resolve_parameters({"fails": {"title": "x"}}, declared)
    yaml_file = tmp_path / "p.yaml"
    yaml_file.write_text("start: 2025-04-09\nlabel: NaN\nn: 4\nsymbols: [a, b]\n")
    values = read_params_file(yaml_file)
    resolved = resolve_parameters(values, {"good": declared["good"]})["good"]
    assert resolved == {"start": "2025-04-09", "label": "NaN", "n": 4, "symbols": ["a", "b"]}
    yaml_file.write_text("- a\n- b\n")
    with pytest.raises(ValidationError, match="must be a mapping"):
        read_params_file(yaml_file)


def test_papermill_writes_coerced_values_as_literals():
    from papermill.translators import PythonTranslator

    crafted = 'a"; import os; os.system("echo hi") #\n\'\'\'"""\\'
    code = PythonTranslator.codify({"title": crafted, "x": float("nan"), "xs": ["a", 1]})
    namespace: dict = {}
    exec(compile(code, "<parameters>", "exec"), {"__builtins__": {"float": float}}, namespace)
    assert namespace["title"] == crafted and namespace["xs"] == ["a", 1]
    assert namespace["x"] != namespace["x"]
    import ast

    tree = ast.parse(code)
    assert all(isinstance(s, ast.Assign) for s in tree.body), "only assignments of literals"


# ============================================================================================
# Names and paths never leave the output folder


@pytest.mark.parametrize(
    "name",
    [
        "../evil",
        "..",
        "a/b",
        "/etc/passwd",
        ".hidden",
        "a\\b",
        "index",
        "Manifest",
        "",
        "x" * 121,
        "nul\x00",
        "a..b/../c",
        "-rf",
        "sp ace",
    ],
)
def test_unsafe_report_names_are_rejected(name, tmp_path):
    with pytest.raises(ValidationError):
        check_output_name(name)
    with pytest.raises(ValidationError):
        R.render_jobs([RenderJob(name, GOOD)], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_names_from_free_text_stay_inside_out(tmp_path):
    for text in ["../../etc/passwd", "a/../../b", "..\\..\\win", "^N225", "x\ny", "…ü"]:
        try:
            name = output_name(text)
        except ValidationError:
            continue
        path = output_path(tmp_path, name, ".html")
        assert path.resolve().parent == tmp_path.resolve()
        assert "/" not in name and ".." not in name
    assert output_name("country_report ^N225") == "country_report_N225"
    with pytest.raises(ValidationError):
        output_path(tmp_path, "ok", "/../x.html")


def test_notebook_names_resolve_inside_the_notebooks_folder(tmp_path):
    assert resolve_notebooks(["good"], NB) == [GOOD]
    assert resolve_notebooks(["goo"], NB) == [GOOD]  # unique prefix
    assert resolve_notebooks([], NB) == sorted(NB.glob("*.ipynb"))
    for bad in ["../../etc/passwd", "../test_render", "nothere"]:
        with pytest.raises(ValidationError, match="not found"):
            resolve_notebooks([bad], NB)
    with pytest.raises(RenderError, match="no notebooks"):
        resolve_notebooks([], tmp_path)
    result = _cli("--notebooks-dir", str(NB), "../../etc/passwd", "--out", str(tmp_path))
    assert result.exit_code == 2 and "not found" in result.output


# ============================================================================================
# Lock


def test_lock_prevents_a_second_render(tmp_path):
    out = tmp_path / "out"
    with RenderLock(out):
        with pytest.raises(RenderError) as exc:
            R.render_notebooks([GOOD], out)
        msg = str(exc.value)
        assert "already writing to" in msg and f"pid {os.getpid()}" in msg
        result = _cli("--notebooks-dir", str(NB), "good", "--out", str(out))
        assert result.exit_code == 2 and "already writing" in result.output
    assert not (out / LOCK_NAME).exists()


def test_lock_held_by_another_process(tmp_path):
    out = tmp_path / "out"
    code = (
        "import sys, time; from tradeshock.pipeline.lock import RenderLock\n"
        f"lock = RenderLock({str(out)!r}).acquire(); print('locked', flush=True); time.sleep(30)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(RenderError, match=f"pid {proc.pid}"):
            RenderLock(out).acquire()
    finally:
        proc.kill()
        proc.wait()
    lock = RenderLock(out).acquire()  # the OS released it with the process: stale, cleared
    assert lock.cleared_stale["pid"] == proc.pid
    lock.release()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_output_folder_is_a_clear_error(tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    (out / "keep.html").write_text("old")
    out.chmod(0o555)
    try:
        with pytest.raises(RenderError, match="cannot write to"):
            R.render_notebooks([GOOD], out)
        assert (out / "keep.html").read_text() == "old"
    finally:
        out.chmod(0o755)


# ============================================================================================
# Fingerprints


def test_fingerprint_changes_with_each_input(tmp_path, monkeypatch):
    monkeypatch.delenv("TRADESHOCK_SNAPSHOT", raising=False)
    nb = tmp_path / "nb.ipynb"
    shutil.copy(GOOD, nb)
    data = tmp_path / "data"
    (data / "events").mkdir(parents=True)
    (data / "events" / "tariff_events_2025.csv").write_text("event_id,date\nE1,2025-04-02\n")
    d0 = data_fingerprint(data)
    base = input_fingerprint(nb, {"n": 2}, data=d0)
    assert base == input_fingerprint(nb, {"n": 2}, data=d0)
    assert base.digest != input_fingerprint(nb, {"n": 3}, data=d0).digest
    assert base.digest != input_fingerprint(nb, {"n": 2}, data=d0, show_code=True).digest
    assert base.digest != input_fingerprint(nb, {"n": 2}, data=d0, library="other").digest

    # outputs and execution counts do not count; cell sources do
    parsed = nbformat.read(nb, as_version=4)
    parsed.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x")]
    parsed.cells[2].execution_count = 7
    nbformat.write(parsed, nb)
    assert input_fingerprint(nb, {"n": 2}, data=d0) == base
    parsed.cells[2].source += "\n# edited"
    nbformat.write(parsed, nb)
    assert input_fingerprint(nb, {"n": 2}, data=d0).parts["notebook"] != base.parts["notebook"]

    (data / "events" / "tariff_events_2025.csv").write_text("event_id,date\nE1,2025-04-03\n")
    d1 = data_fingerprint(data)
    assert d1 != d0
    (data / "snapshot").mkdir()
    (data / "snapshot" / "manifest.json").write_text("{}")
    d2 = data_fingerprint(data)
    assert d2 != d1
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "SPX.csv").write_text("date,close\n")
    monkeypatch.setenv("TRADESHOCK_SNAPSHOT", str(snap))
    d3 = data_fingerprint(data)
    assert d3 != d2 and d3 == data_fingerprint(data)
    (snap / "universe.csv").write_text("symbol\nSPX\n")
    assert data_fingerprint(data) != d3
    assert len(library_fingerprint()) == 64


def test_library_fingerprint_covers_the_whole_package_but_cli(tmp_path):
    import tradeshock

    assert library_fingerprint() == library_fingerprint(Path(tradeshock.__file__).parent)
    pkg = tmp_path / "tradeshock"
    for rel in ("__init__.py", "engine/study.py", "pipeline/render.py", "cli/render.py"):
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(f"# {rel}\n")
    base = library_fingerprint(pkg)
    (pkg / "cli" / "render.py").write_text("# the command line does not change a report\n")
    assert library_fingerprint(pkg) == base
    (pkg / "engine" / "study.py").write_text("# an edit to the engine does\n")
    assert library_fingerprint(pkg) != base


# ============================================================================================
# record() and the index page


def test_record_outside_a_kernel_returns_payload_and_reads_back():
    import datetime as dt

    assert record(as_of=dt.datetime(2025, 6, 30, 16, 0), source="pinned snapshot") is None
    assert _as_of_text(dt.datetime(2025, 6, 30, 16, 0)) == "2025-06-30"
    assert _as_of_text("2025-06-30T00:00:00") == "2025-06-30"
    pd = pytest.importorskip("pandas")
    assert _as_of_text(pd.Timestamp("2025-06-30 16:00")) == "2025-06-30"
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "data": {RECORD_MIME: {"as_of": "2025-06-01"}},
                    }
                ],
            },
            {"cell_type": "markdown", "source": "x"},
            {
                "cell_type": "code",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "data": {RECORD_MIME: {"as_of": "2025-06-30", "source": "s"}},
                    }
                ],
            },
        ]
    }
    assert read_record(nb) == {"as_of": "2025-06-30", "source": "s"}
    assert not is_rendering()


def test_index_page_escapes_and_reflows():
    from tradeshock.pipeline.reportindex import index_html

    page = index_html(
        {
            "reports": {
                "x": {
                    "name": "x",
                    "status": "failed",
                    "title": "<b>T</b>",
                    "params": {"t": "<script>"},
                    "html": "x.failed.html",
                    "ipynb": "x.failed.ipynb",
                    "error": "E <img src=x>",
                    "last_good_html": "x.html",
                    "detail": "tb",
                }
            }
        }
    )
    assert "<script>" not in page and "<img src=x>" not in page and "&lt;b&gt;T" in page
    assert "@media (max-width: 480px)" in page and 'name="viewport"' in page
    assert 'href="x.html">last good report' in page
    _assert_self_contained(page)


def test_external_reference_detection():
    bad = [
        '<script src="https://cdn.example/require.js"></script>',
        "<link rel='stylesheet' href='//fonts.example/css'>",
        "<style>@import url(https://x/y.css);</style>",
        '<img src="http://x/y.png">',
    ]
    for text in bad:
        assert external_references(text), text
    fine = [
        '<a href="https://example.com">a link</a>',
        '<img src="data:image/png;base64,AAAA">',
        "<script>var x = 1;</script>",
        "/* https://github.com in a comment */",
    ]
    for text in fine:
        assert external_references(text) == [], text


def test_executor_registry():
    assert isinstance(make_executor("process", jobs=2), ProcessExecutor)
    assert isinstance(make_executor("inline"), InlineExecutor)
    with pytest.raises(ValidationError, match="unknown executor 'spark'"):
        make_executor("spark")
    with pytest.raises(ValidationError):
        make_executor("process", jobs=0)


# ============================================================================================
# Figures: the house style every notebook uses


@pytest.fixture()
def plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as pyplot

    yield pyplot
    pyplot.close("all")


def test_house_style_figure_with_events_and_source_line(plt, tmp_path):
    import pandas as pd
    from tradeshock.analyses import figures as F

    dates = pd.bdate_range("2025-03-03", "2025-05-30")
    fig, ax = F.new_figure(title="S&P 500", xlabel="Date", ylabel="Index level", yunits="points")
    ax.plot(dates, range(len(dates)))
    events = pd.DataFrame(
        {
            "event_id": ["a", "b", "c", "d"],
            "date": ["2025-04-02", "2025-04-03", "2025-04-09", "2025-08-01"],  # d: outside the data
            "kind": ["announcement", "escalation", "de-escalation", "deal"],
            "title": ["Liberation Day", "Selloff", "90-day pause " * 5, "Later"],
        }
    )
    lines = F.mark_events(ax, events)
    assert len(lines) == 3
    labels = [t.get_text() for t in ax.texts]
    assert labels[0] == "Liberation Day" and len(labels) == 2  # 3 April is too close to label
    assert labels[1].endswith("…") and len(labels[1]) == 32
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "announcement",
        "escalation",
        "de-escalation",
    ]
    assert lines[0].get_color() == F.KIND_COLORS["announcement"]
    assert ax.get_ylabel() == "Index level (points)"
    assert F.check_figure(fig) == ["no source line (add_source_line)"]
    assert F.add_source_line(fig, "Yahoo Finance", as_of=pd.Timestamp("2025-05-30")) is None
    F.add_source_line(fig, "Yahoo Finance via pinned snapshot", as_of=dt_date(2025, 5, 30))
    sources = [t.get_text() for t in fig.texts]
    assert sources == ["Source: Yahoo Finance via pinned snapshot. Data as of 2025-05-30."]
    assert F.check_figure(fig) == []
    png = F.save_png(fig, tmp_path / "fig.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]


def test_house_style_requires_title_labels_and_units(plt):
    from tradeshock.analyses import figures as F

    with pytest.raises(ValueError, match="y-axis units"):
        F.new_figure(title="T", xlabel="Date", ylabel="Return", yunits="")
    with pytest.raises(ValueError, match="a title"):
        F.new_figure(title=" ", xlabel="Date", ylabel="Return", yunits="%")
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    ax.set_ylabel("Return")
    problems = F.check_figure(fig)
    assert "axes 0: no title" in problems and "axes 0: no x-axis label" in problems
    assert any("states no units" in p for p in problems)
    with pytest.raises(ValueError):
        F.add_source_line(fig, "", as_of="2025-05-30")
    with pytest.raises(ValueError, match="PNG"):
        F.save_png(fig, "figure.svg")


def dt_date(*args):
    import datetime as dt

    return dt.date(*args)


@needs_kernel
def test_force_by_name_reexecutes_only_those(tmp_path):
    """force=True re-executes everything; force={names} only those reports (refresh uses it)."""
    out = tmp_path / "out"
    first = R.render_notebooks([GOOD, FAILS], out, timeout=60)
    assert {r.name: r.status for r in first.records} == {"good": OK, "fails": FAILED}
    again = R.render_notebooks([GOOD], out, force={"good"}, timeout=60)
    assert [(r.name, r.status, r.executed) for r in again.records] == [("good", OK, True)]
    other = R.render_notebooks([GOOD], out, force={"elsewhere"}, timeout=60)
    assert [(r.name, r.status, r.executed) for r in other.records] == [
        ("good", UP_TO_DATE, False)
    ]
