"""Sweeps (one report per parameter value) and the Dask executor (issue 8, "Scale").

The first part is pure and fast: parsing ``--sweep``/``--sweep-file``, report names, validation
messages (no kernel, nothing written). The slow part renders for real: ``country_report`` over
three markets with the process executor (``--jobs 2``) and on a Dask ``LocalCluster`` of two
workers (the CI requirement "a sweep renders on Dask LocalCluster"), and a tiny notebook that
kills its own Dask worker. A kernel finds the pid of the worker running it in
``TRADESHOCK_WORKER_PID`` (set by :func:`tradeshock.pipeline.tasks.execute_task`; the kernel's
parent may be a launcher, so ``os.getppid()`` is not relied on). Outputs go to ``tmp_path``; market
data come from the committed pinned snapshot (``data/snapshot``) through a per-test empty cache.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from tradeshock.pipeline import render as R
from tradeshock.pipeline.executors import make_executor
from tradeshock.pipeline.naming import check_output_name, output_path
from tradeshock.pipeline.outputs import FAILED, OK, TMP_DIR_NAME
from tradeshock.pipeline.tasks import ExecOptions, RenderJob, RenderTask
from tradeshock.pipeline import sweep as S
from tradeshock.errors import RenderError, ValidationError
from tradeshock.pipeline.params import TextValue
from helpers import kernel_available as _kernel_available, needs_kernel

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NB = HERE / "notebooks"
GOOD = NB / "good.ipynb"
COUNTRY = ROOT / "notebooks" / "country_report.ipynb"
MARKETS = ["^N225", "^HSI", "^GDAXI"]

slow = pytest.mark.slow


def _cli(*args: str):
    from tradeshock.cli import main

    return CliRunner().invoke(main, ["render", *args], catch_exceptions=False)


def _rows(*texts: str) -> list[S.SweepRow]:
    return S.sweep_rows([S.parse_sweep(t) for t in texts])


# ============================================================================================
# Parsing --sweep and sweep files


def test_parse_sweep_values_in_order_as_text():
    axis = S.parse_sweep("symbol=^N225,^HSI, ^GDAXI ")
    assert axis.key == "symbol" and axis.values == ("^N225", "^HSI", "^GDAXI")
    assert all(isinstance(v, TextValue) for v in axis.values)  # coerced like -p values later
    windows = S.parse_sweep('event_window=["-1:5", "0:3"]')  # YAML list: values with ':' or ','
    assert windows.values == ("-1:5", "0:3")
    assert S.parse_sweep("title=[\"a,b\", c]").values == ("a,b", "c")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("symbol", "write KEY=VALUE1,VALUE2,...; e.g. --sweep symbol=^N225,^HSI,^GDAXI"),
        ("=^N225", "write KEY=VALUE1,VALUE2"),
        ("sym bol=^N225", "'sym bol' is not a parameter name"),
        ("symbol=", "no values after '='"),
        ("symbol=^N225,,^HSI", "value 2 is empty; remove the extra ','"),
        ("symbol=[^N225, ", "the value list is not valid YAML"),
    ],
)
def test_bad_sweep_specs_say_what_and_how(text, expected):
    with pytest.raises(ValidationError) as err:
        S.parse_sweep(text)
    assert f"--sweep {text!r}" in str(err.value) and expected in str(err.value)


def test_several_sweeps_are_a_cartesian_product_first_slowest():
    rows = _rows("symbol=^N225,^HSI", "event_window=-1:5,0:3")
    assert [r.values for r in rows] == [
        {"symbol": "^N225", "event_window": "-1:5"},
        {"symbol": "^N225", "event_window": "0:3"},
        {"symbol": "^HSI", "event_window": "-1:5"},
        {"symbol": "^HSI", "event_window": "0:3"},
    ]
    assert rows[3].where == "--sweep symbol value 2, --sweep event_window value 2"
    with pytest.raises(ValidationError, match="--sweep symbol given more than once; list all"):
        _rows("symbol=^N225", "symbol=^HSI")


def test_sweep_file_csv_one_report_per_row(tmp_path):
    path = tmp_path / "markets.csv"
    path.write_text("symbol,event_window\n^N225,-1:5\n\n^HSI,\n\"^GDAXI\",0:3\n")
    rows = S.read_sweep_file(path)
    assert [r.values for r in rows] == [
        {"symbol": "^N225", "event_window": "-1:5"},
        {"symbol": "^HSI"},  # empty cell: the notebook's default
        {"symbol": "^GDAXI", "event_window": "0:3"},
    ]
    assert [r.where for r in rows] == ["markets.csv line 2", "markets.csv line 4",
                                       "markets.csv line 5"]
    # crossed with --sweep
    crossed = S.sweep_rows([S.parse_sweep("estimation_window=-260:-11,-120:-11")], rows)
    assert len(crossed) == 6 and crossed[1].values["estimation_window"] == "-120:-11"
    with pytest.raises(ValidationError, match="swept both in the sweep file and with --sweep"):
        S.sweep_rows([S.parse_sweep("symbol=^FTSE")], rows)


def test_sweep_file_yaml_list_or_columns(tmp_path):
    listed = tmp_path / "a.yaml"
    listed.write_text("- {symbol: ^N225}\n- {symbol: ^HSI, event_window: '0:3'}\n")
    assert [r.values for r in S.read_sweep_file(listed)] == [
        {"symbol": "^N225"}, {"symbol": "^HSI", "event_window": "0:3"}]
    columns = tmp_path / "b.yml"
    columns.write_text("symbol: [^N225, ^HSI]\nevent_window: ['-1:5', '0:3']\n")
    rows = S.read_sweep_file(columns)  # read row by row, not crossed
    assert [r.values for r in rows] == [
        {"symbol": "^N225", "event_window": "-1:5"}, {"symbol": "^HSI", "event_window": "0:3"}]
    assert rows[1].where == "b.yml row 2"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("u.yaml", "symbol: [^N225, ^HSI]\nevent_window: ['0:3']\n",
         "columns have different lengths (symbol: 2, event_window: 1)"),
        ("l.yaml", "- ^N225\n", "item 1: '^N225' is not a mapping of parameters"),
        ("s.yaml", "just text\n", "got a str; write a list of mappings"),
        ("e.yaml", "", "has no rows"),
        ("c.csv", "symbol,symbol\n^N225,^HSI\n", "column(s) symbol repeat"),
        ("w.csv", "symbol,event_window\n^N225\n", "line 2: 1 value(s) for 2 column(s)"),
        ("h.csv", "sym bol\n^N225\n", "line 1, column 1: 'sym bol' is not a parameter name"),
        ("x.json", "[]", "unknown format '.json'; use .csv"),
    ],
)
def test_bad_sweep_files_name_file_and_place(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValidationError) as err:
        S.read_sweep_file(path)
    assert str(path) in str(err.value) and expected in str(err.value)
    with pytest.raises(ValidationError, match="does not exist; check the path"):
        S.read_sweep_file(tmp_path / "missing.csv")


# ============================================================================================
# Planning: names, validation before any work


def test_plan_names_reports_by_value_in_order_with_fixed_params():
    rows = _rows("symbol=^N225,^HSI,^GDAXI")
    jobs = S.plan_sweep([COUNTRY], rows, {"event_window": TextValue("0:3")})
    assert [j.name for j in jobs] == [
        "country_report-N225", "country_report-HSI", "country_report-GDAXI"]
    assert [j.params for j in jobs] == [
        {"event_window": "0:3", "symbol": s} for s in ("^N225", "^HSI", "^GDAXI")]
    assert all(j.notebook == COUNTRY.resolve() and j.notebook.is_absolute() for j in jobs)
    assert [j.label for j in jobs] == ["symbol=^N225", "symbol=^HSI", "symbol=^GDAXI"]
    both = S.plan_sweep([COUNTRY], _rows("symbol=^N225,^HSI", "event_window=-1:5,0:3"))
    assert [j.name for j in both] == [
        "country_report-N225-1_5", "country_report-N225-0_3",
        "country_report-HSI-1_5", "country_report-HSI-0_3"]
    assert both[1].label == "symbol=^N225, event_window=0:3"


def test_unknown_symbol_is_an_error_naming_the_value_before_any_work(tmp_path):
    with pytest.raises(ValidationError) as err:
        S.plan_sweep([COUNTRY], _rows("symbol=^N225,^HSX,GDAXI"))
    msg = str(err.value)
    assert msg.startswith("invalid sweep:")
    assert "swept value symbol='^HSX' (--sweep symbol value 2): unknown symbol '^HSX' in " \
           "data/universe.csv; did you mean: ^HSI?" in msg
    assert "swept value symbol='GDAXI' (--sweep symbol value 3)" in msg and "^GDAXI" in msg
    assert "Add a row to data/universe.csv" in msg  # how to fix
    # from the command line: exit 2, nothing written, no kernel started
    out = tmp_path / "reports"
    res = _cli("--notebooks-dir", str(COUNTRY.parent), "country_report",
               "--sweep", "symbol=^N225,^HSX", "--out", str(out))
    assert res.exit_code == 2 and "unknown symbol '^HSX'" in res.output
    assert not out.exists()


def test_fixed_values_and_events_are_checked_too():
    with pytest.raises(ValidationError) as err:
        S.plan_sweep([COUNTRY], _rows("symbol=^N225"),
                     {"events_studied": ["liberation_day", "liberation"]})
    msg = str(err.value)
    assert "notebook country_report, fixed parameter events_studied=" in msg
    assert "unknown event 'liberation'" in msg and "tradeshock events list" in msg


def test_type_errors_name_value_place_and_declaration(tmp_path):
    sweep_file = tmp_path / "n.csv"
    sweep_file.write_text("n\n3\nthree\n")
    with pytest.raises(ValidationError) as err:
        S.plan_sweep([GOOD], S.read_sweep_file(sweep_file))
    msg = str(err.value)
    assert "swept value n='three' (n.csv line 3): 'three' is not a whole number" in msg
    assert "notebook good declares `n: int = 3`, so give a int" in msg


def test_duplicates_conflicts_and_undeclared_parameters():
    with pytest.raises(ValidationError) as err:  # '3' and '03' are the same int
        S.plan_sweep([GOOD], _rows("n=3,4,03"))
    assert ("notebook good gets the same parameters twice, n=3 (--sweep n value 1 and --sweep n "
            "value 3); drop the duplicate") in str(err.value)
    with pytest.raises(ValidationError, match="symbol are both fixed .* and swept; drop one"):
        S.plan_sweep([COUNTRY], _rows("symbol=^N225"), {"symbol": TextValue("^HSI")})
    with pytest.raises(ValidationError) as err:
        S.plan_sweep([COUNTRY, GOOD], _rows("symbol=^N225"))
    msg = str(err.value)
    assert "notebook good" in msg and "does not declare the swept parameter 'symbol'" in msg
    assert "(it declares: flag, label, n, scale, start, symbols, title)" in msg
    with pytest.raises(ValidationError, match="the sweep has no values"):
        S.plan_sweep([COUNTRY], [])


def test_values_with_path_tricks_give_safe_unique_names_inside_out(tmp_path):
    values = ["../../etc/passwd", "..\\..\\win", "a/b", "a_b", "A_B", "/", "..", "x" * 300,
              "<script>", "nul"]
    rows = [S.SweepRow({"title": TextValue(v)}, f"row {i}", ("title",))
            for i, v in enumerate(values, 1)]
    jobs = S.plan_sweep([GOOD], rows)
    names = [j.name for j in jobs]
    assert len({n.lower() for n in names}) == len(values), names  # unique, even ignoring case
    out = tmp_path / "reports"
    for job in jobs:
        assert check_output_name(job.name) == job.name and len(job.name) <= 120
        assert "/" not in job.name and "\\" not in job.name and ".." not in job.name
        assert output_path(out, job.name, ".html").resolve().parent == out.resolve()
    assert names[0] == "good-etc_passwd" and names[2] != names[3]  # a/b vs a_b: digest added
    assert names[2].startswith("good-a_b-") and len(names[2]) == len("good-a_b-") + 6
    assert names[7].startswith("good-xxxx") and len(names[7]) == 120
    assert [j.params["title"] for j in jobs] == values  # the values themselves are untouched


def test_report_name_rules():
    assert S.report_name("country_report", {"symbol": "^N225"}) == "country_report-N225"
    assert S.report_name("good", {"flag": True, "symbols": ["^GSPC", "^IXIC"]}) == \
        "good-true-GSPC_IXIC"
    assert S.report_name("good", {"scale": 0.5}) == "good-0_5"


# ============================================================================================
# Executors: registry and clear errors (no cluster needed)


def test_dask_executor_is_registered_and_lazy():
    from tradeshock.pipeline.dask_executor import DaskExecutor

    ex = make_executor("dask", jobs=3)
    assert isinstance(ex, DaskExecutor) and ex.jobs == 3 and ex.scheduler is None
    assert make_executor("dask").jobs == 2  # local cluster default
    assert make_executor("dask", scheduler="tcp://h:8786").jobs is None  # all worker threads
    with pytest.raises(ValidationError, match="unknown executor 'spark'; choose one of: dask"):
        make_executor("spark")


def test_missing_distributed_is_a_clear_error(monkeypatch):
    from tradeshock.pipeline.dask_executor import DaskExecutor

    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    with pytest.raises(RenderError) as err:
        DaskExecutor(jobs=2)
    msg = str(err.value)
    assert "--executor dask needs the 'distributed' package, which cannot be imported" in msg
    assert "pip install 'distributed>=2024.8'" in msg and "--executor process" in msg


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    from tradeshock.pipeline.dask_executor import DaskExecutor

    task = RenderTask(RenderJob("good", GOOD), str(tmp_path), ExecOptions())
    ex = DaskExecutor(scheduler="tcp://127.0.0.1:1", connect_timeout=1)
    with pytest.raises(RenderError) as err:
        list(ex.run([task]))
    msg = str(err.value)
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in msg  # what, where
    assert "that `dask scheduler` runs there" in msg and "leave out --scheduler" in msg  # fix


def test_cli_executor_options_are_checked(tmp_path):
    res = _cli("good", "--notebooks-dir", str(NB), "--executor", "process",
               "--scheduler", "tcp://h:8786", "--out", str(tmp_path / "o"))
    assert res.exit_code == 2
    assert "--scheduler tcp://h:8786 needs --executor dask (got --executor process)" in res.output
    res = _cli("--notebooks-dir", str(NB), "--sweep", "n=1,2", "--out", str(tmp_path / "o"))
    assert res.exit_code == 2 and "a sweep needs the notebook to sweep" in res.output
    assert not (tmp_path / "o").exists()


# ============================================================================================
# Real sweeps


def _assert_three_markets(out: Path, res) -> dict:
    assert res.exit_code == 0, res.output
    names = [f"country_report-{s.lstrip('^')}" for s in MARKETS]
    for name in names:
        assert (out / f"{name}.html").is_file() and (out / f"{name}.ipynb").is_file()
        assert f"{name}: ok" in res.output
    manifest = json.loads((out / "manifest.json").read_text())
    entries = manifest["reports"]
    assert sorted(entries) == sorted(names)
    for name, symbol in zip(names, MARKETS, strict=True):
        assert entries[name]["status"] == OK and entries[name]["params"]["symbol"] == symbol
        assert entries[name]["record"]["symbol"] == symbol  # the notebook really got the value
        assert entries[name]["title"].endswith(f"(symbol={symbol})")  # told apart in the index
    index = (out / "index.html").read_text()
    for name, symbol in zip(names, MARKETS, strict=True):
        assert f'id="{name}"' in index and f"symbol = &quot;{symbol}&quot;" in index
    assert not (out / TMP_DIR_NAME).exists()
    return entries


@slow
@needs_kernel
def test_cli_sweep_three_markets_process_executor_jobs_2(tmp_path):
    out = tmp_path / "reports"
    args = ["--notebooks-dir", str(COUNTRY.parent), "country_report",
            "--sweep", "symbol=" + ",".join(MARKETS), "-p", "event_window", "0:3",
            "--jobs", "2", "--out", str(out), "--no-progress"]
    entries = _assert_three_markets(out, _cli(*args))
    assert {e["params"]["event_window"] for e in entries.values()} == {"0:3"}  # fixed -p value
    again = _cli(*args)  # nothing changed: nothing executed
    assert again.exit_code == 0 and again.output.count(": up to date") == 3


@slow
@needs_kernel
def test_cli_sweep_three_markets_on_dask_local_cluster(tmp_path):
    out = tmp_path / "reports"
    res = _cli("--notebooks-dir", str(COUNTRY.parent), "country_report",
               "--sweep", "symbol=" + ",".join(MARKETS), "--executor", "dask", "--jobs", "2",
               "--out", str(out))
    _assert_three_markets(out, res)


def _killer(path: Path) -> Path:
    """Prints its label; with ``die`` true it SIGKILLs the worker that runs it, then itself."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(cells=[
        new_markdown_cell("# Worker killer"),
        new_code_cell("label: str = 'a'\ndie: bool = False", metadata={"tags": ["parameters"]}),
        new_code_cell("print('alive', label)"),
        new_code_cell(
            "import os, signal\n"
            "if die:\n"
            "    os.kill(int(os.environ['TRADESHOCK_WORKER_PID']), signal.SIGKILL)\n"
            "    os.kill(os.getpid(), signal.SIGKILL)"
        ),
        new_code_cell("print('done', label)"),
    ])
    nb.metadata["kernelspec"] = {"name": "tradeshock", "display_name": "tradeshock",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def dask_scheduler():
    """A LocalCluster of 2 one-thread workers, configured as the executor configures its own
    (no retries of a task whose worker died, one task per thread), reached by its address."""
    if not _kernel_available():
        pytest.skip("Jupyter kernel 'tradeshock' not registered (make kernel)")
    import dask
    from distributed import LocalCluster

    settings = {"distributed.scheduler.allowed-failures": 0,
                "distributed.scheduler.worker-saturation": 1.0}
    with dask.config.set(settings), LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        silence_logs=logging.CRITICAL,
    ) as cluster:
        yield cluster.scheduler_address


@slow
@needs_kernel
def test_dask_worker_that_dies_fails_only_its_report(tmp_path, dask_scheduler):
    """A task kills its Dask worker: that report is failed with a clear error, the rest are OK
    (through the ``--scheduler ADDRESS`` path)."""
    from tradeshock.pipeline.dask_executor import DaskExecutor

    notebook = _killer(tmp_path / "killer.ipynb")
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text("- {label: a}\n- {label: b, die: true}\n- {label: c}\n- {label: d}\n")
    jobs = S.plan_sweep([notebook], S.read_sweep_file(sweep_file))
    assert [j.name for j in jobs] == ["killer-a", "killer-b-true", "killer-c", "killer-d"]
    out = tmp_path / "reports"
    summary = R.render_jobs(jobs, out, timeout=60, executor=DaskExecutor(scheduler=dask_scheduler))
    dead = summary["killer-b-true"]
    assert dead.status == FAILED
    assert dead.error.startswith("the Dask worker running it died: worker tcp://")
    assert "killed, crashed or out of memory" in dead.error
    assert dead.html == out / "killer-b-true.failed.html"  # salvaged by the parent
    assert "This report failed to render" in dead.html.read_text()
    for name in ("killer-a", "killer-c", "killer-d"):
        rec = summary[name]
        assert rec.status == OK and rec.html == out / f"{name}.html", rec.error
    manifest = json.loads((out / "manifest.json").read_text())
    assert {n: e["status"] for n, e in manifest["reports"].items()} == {
        "killer-a": "ok", "killer-b-true": "failed", "killer-c": "ok", "killer-d": "ok"}
    assert 'class="report failed" id="killer-b-true"' in (out / "index.html").read_text()


@slow
@needs_kernel
def test_dask_task_over_its_deadline_is_given_up(tmp_path, dask_scheduler):
    """The wall-clock deadline holds on Dask too: the parent stops waiting and fails the task."""
    from nbformat.v4 import new_code_cell, new_notebook
    from tradeshock.pipeline.dask_executor import DaskExecutor

    nb = new_notebook(cells=[new_code_cell("import time\ntime.sleep(30)")])
    nb.metadata["kernelspec"] = {"name": "tradeshock", "display_name": "tradeshock",
                                 "language": "python"}
    nbformat.write(nb, tmp_path / "sleeper.ipynb")
    task = RenderTask(RenderJob("sleeper", tmp_path / "sleeper.ipynb"),
                        str(tmp_path / "staging"), ExecOptions(timeout=8), deadline=2)
    [(done, result)] = list(DaskExecutor(scheduler=dask_scheduler, poll=0.1).run([task]))
    assert done is task and not result.ok
    assert re.match(r"stopped waiting after \d+ s, over the notebook's time limit \(2 s",
                    result.error)
    assert "raise --timeout" in result.error
