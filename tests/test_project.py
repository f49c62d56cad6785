"""Project-level checks: the two install manifests agree, notebooks are committed clean."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

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
