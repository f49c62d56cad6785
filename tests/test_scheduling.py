"""The scheduling recipes of docs/scheduling.md: each file in docs/recipes/ is included in the
page verbatim, parses, and calls make targets and tradeshock commands that exist.

Optional tools are used when present and skipped cleanly otherwise: croniter, systemd-analyze,
apache-airflow (never installed by the tests).
"""

from __future__ import annotations

import ast
import builtins
import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RECIPES = DOCS / "recipes"
PAGE = DOCS / "scheduling.md"
CRON = RECIPES / "tradeshock.cron"
SERVICE = RECIPES / "tradeshock-refresh.service"
TIMER = RECIPES / "tradeshock-refresh.timer"
WORKFLOW = RECIPES / "github-actions-refresh.yml"
DAG = RECIPES / "airflow_tradeshock_dag.py"
PLACEHOLDER = "/opt/tradeshock"

_INCLUDE = re.compile(r"<!-- include: (?P<path>\S+) -->\n```[\w-]*\n(?P<body>.*?)```", re.S)


# ============================================================================================
# Helpers: cron fields, tradeshock command lines, make targets

_CRON_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
_NAMES = {3: "jan feb mar apr may jun jul aug sep oct nov dec".split(),
          4: "sun mon tue wed thu fri sat".split()}


def cron_field_ok(text: str, index: int) -> bool:
    """A cron field (``*``, ``1-5``, ``*/15``, ``1,3,5``, names for months and weekdays)."""
    lo, hi = _CRON_RANGES[index]
    names = _NAMES.get(index, [])

    def value(v: str) -> int | None:
        if v.isdigit():
            return int(v)
        if v.lower() in names:
            return names.index(v.lower()) + (1 if index == 3 else 0)
        return None

    for part in text.split(","):
        m = re.fullmatch(r"(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(\d+))?", part)
        if not m or (m.group(2) is not None and int(m.group(2)) == 0):
            return False
        if m.group(1) == "*":
            continue
        ends = [value(v) for v in m.group(1).split("-")]
        if any(e is None or not lo <= e <= hi for e in ends) or ends[0] > ends[-1]:
            return False
    return True


def check_cron(expr: str) -> None:
    fields = expr.split()
    assert len(fields) == 5, f"{expr!r}: a cron schedule has 5 fields"
    for i, f in enumerate(fields):
        assert cron_field_ok(f, i), f"{expr!r}: field {i + 1} ({f!r}) is not valid"
    try:
        from croniter import croniter
    except ImportError:
        return
    assert croniter.is_valid(expr)


def test_the_cron_field_check_rejects_bad_fields():
    for bad in ("60 22 * * 1-5", "30 24 * * *", "30 22 0 * *", "30 22 * 13 *", "30 22 * * 8",
                "30 22 * * 5-1", "*/0 * * * *", "30 22 * *", "30 22 * * mon-xyz"):
        with pytest.raises(AssertionError):
            check_cron(bad)
    check_cron("30 22 * * mon-fri")
    check_cron("*/15 0-6,22 1 jan,jul 0")


def tradeshock_calls(command: str) -> list[list[str]]:
    """The argument lists after each ``tradeshock`` (or ``.venv/bin/tradeshock``) in a shell line;
    redirections (``>> log``, ``2>&1``) are left out."""
    calls = []
    for part in re.split(r"&&|\|\||;|\|", command):
        part = re.sub(r"\d?>&\d|\d?>>?\s*\S+|<\s*\S+", " ", part)
        words = shlex.split(part, comments=True)
        for i, w in enumerate(words):
            if w == "tradeshock" or w.endswith("/bin/tradeshock"):
                calls.append(words[i + 1:])
    return calls


def check_tradeshock_call(args: list[str]) -> None:
    """The command exists and its options parse (nothing is executed)."""
    import click
    from tradeshock.cli import main

    assert args, "tradeshock is called without a command"
    cmd = main.get_command(click.Context(main), args[0])
    assert cmd is not None, f"`tradeshock {args[0]}` is not a command"
    cmd.make_context(args[0], list(args[1:]))  # raises click.UsageError on a bad option


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, re.M))


def test_tradeshock_refresh_help_runs_from_the_console_script():
    script = Path(sys.executable).with_name("tradeshock")
    if not script.is_file():
        pytest.skip(f"no console script beside {sys.executable} (pip install -e .)")
    res = subprocess.run([str(script), "refresh", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert "Usage: tradeshock refresh [OPTIONS] [NOTEBOOK]..." in res.stdout
    for option in ("--out", "--snapshot", "--jobs", "--force", "--no-render"):
        assert option in res.stdout


# ============================================================================================
# The page includes every recipe verbatim


def test_the_page_includes_every_recipe_verbatim():
    page = PAGE.read_text()
    included = {m["path"]: m["body"] for m in _INCLUDE.finditer(page)}
    files = {f"docs/recipes/{p.name}" for p in RECIPES.iterdir() if p.is_file()}
    assert set(included) == files, "every recipe file is included once, and only those"
    for path, body in included.items():
        assert body == (ROOT / path).read_text(), f"{path} and docs/scheduling.md differ"


# ============================================================================================
# cron


def _cron_entries() -> list[tuple[str, str]]:
    out = []
    for line in CRON.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"^[A-Z_]+=", line):  # environment line, e.g. CRON_TZ=UTC
            continue
        fields = line.split(None, 5)
        assert len(fields) == 6, f"cron line without a command: {line!r}"
        out.append((" ".join(fields[:5]), fields[5]))
    return out


def test_cron_line_is_valid_and_runs_tradeshock_refresh():
    entries = _cron_entries()
    assert len(entries) == 1
    expr, command = entries[0]
    check_cron(expr)
    assert expr == "30 22 * * 1-5", "weekdays 22:30 (UTC) after the US close"
    assert command.startswith("cd /path/to/tradeshock && ")
    calls = tradeshock_calls(command)
    assert calls == [["refresh"]]
    for args in calls:
        check_tradeshock_call(args)
    assert ">> reports/refresh.log 2>&1" in command
    assert "CRON_TZ=UTC" in CRON.read_text()


# ============================================================================================
# systemd


def _unit(path: Path) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",),
                                   comment_prefixes=("#", ";"))
    cp.optionxform = str  # keys are case-sensitive
    cp.read_string(path.read_text())
    return cp


def test_systemd_units_have_the_required_keys():
    service, timer = _unit(SERVICE), _unit(TIMER)
    assert service["Unit"]["Description"] and timer["Unit"]["Description"]
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["WorkingDirectory"] == PLACEHOLDER
    exec_start = service["Service"]["ExecStart"]
    assert exec_start.startswith(f"{PLACEHOLDER}/.venv/bin/tradeshock ")
    for args in tradeshock_calls(exec_start):
        check_tradeshock_call(args)
    assert tradeshock_calls(exec_start) == [["refresh"]]
    assert timer["Timer"]["OnCalendar"] == "Mon..Fri *-*-* 22:30:00 UTC"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert SERVICE.stem == TIMER.stem, "the timer starts the service of the same name"


def _systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed")
    return tool


def test_systemd_timer_calendar_is_valid():
    tool = _systemd_analyze()
    spec = _unit(TIMER)["Timer"]["OnCalendar"]
    res = subprocess.run([tool, "calendar", spec], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert f"Normalized form: {spec}" in res.stdout
    bad = subprocess.run([tool, "calendar", "Mon..Fri 25:61"], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode != 0, "the check can fail"


def test_systemd_units_verify(tmp_path):
    tool = _systemd_analyze()
    script = Path(sys.executable).with_name("tradeshock")
    if not script.is_file():
        pytest.skip("no tradeshock console script to point ExecStart at")
    for unit in (SERVICE, TIMER):
        text = unit.read_text()
        text = text.replace(f"{PLACEHOLDER}/.venv/bin/tradeshock", str(script))
        (tmp_path / unit.name).write_text(text.replace(PLACEHOLDER, str(ROOT)))
    res = subprocess.run([tool, "verify", str(tmp_path / SERVICE.name),
                          str(tmp_path / TIMER.name)], capture_output=True, text=True, timeout=120)
    if res.returncode != 0 and re.search(r"(?i)failed to connect to bus|not been booted|"
                                         r"failed to initialize manager", res.stderr):
        pytest.skip(f"systemd-analyze verify cannot run here: {res.stderr.strip()[:200]}")
    assert res.returncode == 0, res.stderr
    assert "tradeshock-refresh" not in res.stderr, res.stderr


# ============================================================================================
# GitHub Actions


def _workflow() -> dict:
    wf = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(wf, dict)
    if True in wf:  # YAML 1.1 reads the key `on` as the boolean true
        wf["on"] = wf.pop(True)
    return wf


def _steps(wf: dict) -> list[dict]:
    return [s for job in wf["jobs"].values() for s in job.get("steps", [])]


def test_workflow_triggers_on_a_valid_schedule_and_by_hand():
    wf = _workflow()
    crons = [s["cron"] for s in wf["on"]["schedule"]]
    assert crons == ["30 22 * * 1-5"]
    for expr in crons:
        check_cron(expr)
    assert "workflow_dispatch" in wf["on"]


def test_workflow_checks_out_sets_up_python_311_and_uploads_the_reports():
    steps = _steps(_workflow())
    uses = {s["uses"].split("@")[0]: s for s in steps if "uses" in s}
    assert "actions/checkout" in uses
    assert str(uses["actions/setup-python"]["with"]["python-version"]) == "3.11"
    assert uses["actions/upload-artifact"]["with"]["path"].rstrip("/") == "reports"
    assert uses["actions/upload-pages-artifact"]["with"]["path"].rstrip("/") == "reports"
    assert "data/cache" in uses["actions/cache"]["with"]["path"]
    for s in steps:
        if "uses" in s:
            assert re.fullmatch(r"[\w-]+/[\w-]+@v\d+", s["uses"]), f"pin a major: {s['uses']}"


def test_workflow_runs_only_make_targets_and_tradeshock_commands_that_exist():
    targets = make_targets()
    runs = [s["run"] for s in _steps(_workflow()) if "run" in s]
    assert runs, "the workflow runs something"
    seen_refresh = False
    for run in runs:
        for line in run.splitlines():
            for part in re.split(r"&&|;", line):
                words = shlex.split(part, comments=True)
                if words[:1] == ["make"]:
                    missing = [t for t in words[1:] if not t.startswith("-") and "=" not in t
                               and t not in targets]
                    assert not missing, f"make targets not in the Makefile: {missing}"
            for args in tradeshock_calls(line):
                check_tradeshock_call(args)
                seen_refresh |= args[0] == "refresh"
    assert seen_refresh


# ============================================================================================
# Airflow


def _dag_tree() -> ast.Module:
    return ast.parse(DAG.read_text(), filename=str(DAG))


def test_airflow_dag_compiles_and_every_name_it_uses_is_defined():
    tree = _dag_tree()
    compile(tree, str(DAG), "exec")
    defined = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    assert used <= defined, f"names used but never imported or assigned: {used - defined}"
    imports = {(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
               for a in n.names}
    assert ("airflow.providers.papermill.operators.papermill", "PapermillOperator") in imports


def _literal(tree: ast.Module, name: str):
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name
                                                for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not assigned at the top of {DAG.name}")


def test_airflow_dag_runs_every_notebook_after_a_data_refresh():
    tree = _dag_tree()
    names = _literal(tree, "NOTEBOOKS")
    assert names == sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    bash = [kw.value for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, "id", None) == "BashOperator"
            for kw in n.keywords if kw.arg == "bash_command"]
    assert len(bash) == 1
    command = "".join(v.value for v in ast.walk(bash[0])
                      if isinstance(v, ast.Constant) and isinstance(v.value, str))
    calls = tradeshock_calls(command)
    assert calls == [["refresh", "--no-render"]]
    for args in calls:
        check_tradeshock_call(args)
    check_cron(next(kw.value.value for n in ast.walk(tree) if isinstance(n, ast.Call)
                    and getattr(n.func, "id", None) == "DAG" for kw in n.keywords
                    if kw.arg == "schedule"))


def test_airflow_dag_loads_in_a_dagbag(tmp_path, monkeypatch):
    pytest.importorskip("airflow", reason="apache-airflow is not installed (not needed)")
    pytest.importorskip("airflow.providers.papermill",
                        reason="apache-airflow-providers-papermill is not installed")
    from airflow.models import DagBag

    monkeypatch.setenv("TRADESHOCK_HOME", str(ROOT))
    folder = tmp_path / "dags"
    folder.mkdir()
    shutil.copy(DAG, folder / DAG.name)
    bag = DagBag(dag_folder=str(folder), include_examples=False)
    assert bag.import_errors == {}
    dag = bag.get_dag("tradeshock_refresh")
    notebooks = _literal(_dag_tree(), "NOTEBOOKS")
    assert len(dag.tasks) == 1 + len(notebooks)
    refresh = dag.get_task("refresh_data")
    assert {t.task_id for t in refresh.downstream_list} == {f"run_{n}" for n in notebooks}
