"""Project-level checks: the two install manifests agree, notebooks are committed clean, and a
wheel (a non-editable install) carries its package data and works outside the project."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from conftest import SP500_CLOSES

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split(spec: str) -> tuple[str, str]:
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", spec)
    assert m, spec
    return _norm(m.group(1)), m.group(3).replace(" ", "")


def _pyproject() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(meta["dependencies"]) + list(meta["optional-dependencies"]["test"])
    return dict(_split(s) for s in specs)


def _conda() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, ver = _split(dep)
            if name not in {"python", "pip"}:
                out[name] = ver
    return out


def test_environment_yml_and_pyproject_list_the_same_packages():
    pip, conda = _pyproject(), _conda()
    assert sorted(set(pip) - set(conda)) == [], "in pyproject.toml only"
    assert sorted(set(conda) - set(pip)) == [], "in environment.yml only"
    assert {k: conda[k] for k in pip} == pip, "version bounds differ"


def test_environment_yml_python_matches_requires_python():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pythons = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert pythons == ["python" + meta["requires-python"]]


def test_notebooks_are_committed_without_outputs_and_have_parameters_cell():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"{path.name} has outputs"
                assert cell.get("execution_count") is None, f"{path.name} has execution counts"
        tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: exactly one cell tagged 'parameters'"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make report" in readme


# What the wheel test runs in a fresh interpreter (outside any project, the unpacked wheel on
# PYTHONPATH): package data, the pinned-snapshot error, then the pinned snapshot named by env.
_OUTSIDE = """
import json, os, sys
from pathlib import Path
import tradeshock
from tradeshock import load_events, load_prices, load_universe, tariff_measures
from tradeshock.data.snapshot import PinnedSnapshot
from tradeshock.errors import PinnedSnapshotError
from tradeshock.paths import PROJECT_ROOT
out = {"file": tradeshock.__file__, "project": str(PROJECT_ROOT), "events": len(load_events()),
       "universe": len(load_universe()), "measures": len(tariff_measures())}
try:
    PinnedSnapshot()
except PinnedSnapshotError as exc:
    out["error"] = str(exc)
os.environ["TRADESHOCK_PINNED_DIR"] = sys.argv[1]
df = load_prices("^GSPC", "2025-04-02", "2025-04-09")
out["sources"] = df.attrs["sources"]
out["closes"] = dict(zip(df["date"].dt.strftime("%Y-%m-%d"), df["close"]))
print(json.dumps(out))
"""


def _build_tree(dest: Path) -> Path:
    """The files a wheel is built from, copied with their symlinks (so nothing is built in the
    checkout, and no stale build/ folder can leak into the wheel)."""
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(ROOT / "lib", dest / "lib", symlinks=True, ignore=skip)
    shutil.copytree(ROOT / "data" / "events", dest / "data" / "events")
    shutil.copy(ROOT / "data" / "universe.csv", dest / "data" / "universe.csv")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    return dest


def test_wheel_carries_package_data_and_works_outside_a_project(tmp_path):
    """`pip wheel` (offline: --no-deps --no-build-isolation) gives a wheel whose
    tradeshock/resources/ holds the real files of data/events and data/universe.csv (not links);
    unpacked on PYTHONPATH and run from a folder outside any project, the package data load, the
    pinned snapshot's absence is a PinnedSnapshotError naming the fix, and
    TRADESHOCK_PINNED_DIR=data/snapshot serves prices."""
    have = version("setuptools")
    if int(have.split(".")[0]) < 77:
        pytest.skip(f"setuptools {have} here; the build backend needs setuptools>=77 "
                    "(pyproject.toml [build-system]); `make install` installs the test extra")
    src = _build_tree(tmp_path / "src")
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "--wheel-dir", str(wheels), str(src)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = wheels.glob("tradeshock-*.whl")

    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert not any(n.startswith("tradeshock/data/market") for n in names)
        for res in ("universe.csv", "events/tariff_events_2025.csv",
                    "events/reciprocal_rates_2025.csv", "events/README.md"):
            info = zf.getinfo(f"tradeshock/resources/{res}")
            assert (info.external_attr >> 16) & 0o170000 != 0o120000, f"{res} is a link"
            original = ROOT / "data" / res
            assert zf.read(info) == original.read_bytes(), f"{res} differs from data/{res}"
        zf.extractall(site)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TRADESHOCK_") and k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(site), TRADESHOCK_OFFLINE="1",
               XDG_CACHE_HOME=str(tmp_path / "xdg-cache"))
    run = subprocess.run([sys.executable, "-c", _OUTSIDE, str(ROOT / "data" / "snapshot")],
                         cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(out["file"]).is_relative_to(site), out["file"]  # the wheel, not the checkout
    assert out["project"] == "None"
    assert out["events"] >= 20 and out["universe"] >= 80 and out["measures"] >= 50
    assert "TRADESHOCK_PROJECT" in out["error"] and "TRADESHOCK_PINNED_DIR" in out["error"]
    assert out["sources"] == {"^GSPC": "pinned"}
    assert out["closes"] == pytest.approx(SP500_CLOSES)


def _tradeshock_imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, inside a function?) for every tradeshock import of a source file."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom) and (child.module or "").startswith("tradeshock"):
                out.append((child.module, in_function))
            elif isinstance(child, ast.Import):
                out.extend((a.name, in_function) for a in child.names
                           if a.name.startswith("tradeshock"))
            visit(child, nested)

    visit(tree, False)
    return out


def test_data_layer_imports_only_lower_layers_at_module_level_without_cycles():
    """lib/tradeshock/data may import errors, paths, core and itself, at module level only (no
    lazy import dodging a cycle), and its modules import each other without a cycle."""
    allowed = ("tradeshock.errors", "tradeshock.paths", "tradeshock.core", "tradeshock.data")
    graph: dict[str, set[str]] = {}
    for path in sorted((ROOT / "lib" / "tradeshock" / "data").glob("*.py")):
        imports = _tradeshock_imports(path)
        assert [m for m, lazy in imports if lazy] == [], f"{path.name}: import inside a function"
        bad = [m for m, _ in imports if not m.startswith(allowed)]
        assert bad == [], f"{path.name} imports a higher layer: {bad}"
        graph[path.stem] = {m.split(".")[2] for m, _ in imports
                            if m.startswith("tradeshock.data.")}
    done: set[str] = set()

    def visit(node, stack):
        assert node not in stack, f"import cycle: {' -> '.join([*stack, node])}"
        if node not in done:
            for nxt in graph.get(node, ()):
                visit(nxt, [*stack, node])
            done.add(node)

    for node in graph:
        visit(node, [])
