"""The library's layout holds: imports go one way, no cycle, no function too long to read.

Layers, lowest first (docs/architecture.md): ``errors, paths, core`` -> ``data`` -> ``events`` ->
``engine`` -> ``analyses`` -> ``pipeline`` -> ``cli``. A module may import its own layer and the
layers below it, never above, counting imports inside functions too (a lazy import that dodges a
cycle is still a cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib" / "tradeshock"

LAYERS = {"errors": 0, "paths": 0, "core": 0, "resources": 0, "data": 1, "events": 2,
          "engine": 3, "analyses": 4, "pipeline": 5, "cli": 6}
#: Longest function or method allowed (lines, decorators excluded); the anchors' longest fit.
MAX_FUNCTION_LINES = 150


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(LIB.rglob("*.py")):
        rel = path.relative_to(LIB.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom | ast.Import, is_pkg: bool) -> list[str]:
    """Absolute tradeshock module names an import statement refers to."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = module.split(".")
            base = base if is_pkg else base[:-1]
            base = base[: len(base) - (node.level - 1)]
            stem = ".".join(base + ([node.module] if node.module else []))
        else:
            stem = node.module or ""
        names = [stem]
        for alias in node.names:  # `from tradeshock.data import prices` imports a module
            if f"{stem}.{alias.name}" in MODULES:
                names.append(f"{stem}.{alias.name}")
    return [n for n in names if n == "tradeshock" or n.startswith("tradeshock.")]


def _in_type_checking(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in ast.walk(node):
                if hasattr(sub, "lineno"):
                    lines.add(sub.lineno)
    return lines


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _in_type_checking(tree)
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and node.lineno not in skip:
                for name in _resolve(module, node, path.name == "__init__.py"):
                    # the nearest known module: tradeshock.data.prices.x -> tradeshock.data.prices
                    while name not in MODULES and "." in name:
                        name = name.rsplit(".", 1)[0]
                    if name != module:
                        targets.add(name)
        graph[module] = targets
    return graph


GRAPH = _imports()


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_every_module_belongs_to_a_layer():
    stray = [m for m in MODULES if m != "tradeshock" and _layer(m) is None]
    assert not stray, f"modules outside the layers {sorted(LAYERS)}: {stray}"


def test_imports_go_down_the_layers_only():
    bad = []
    for module, targets in GRAPH.items():
        if module == "tradeshock":
            continue  # the lazy public API (PEP 562) names modules as strings only
        for target in targets:
            if target == "tradeshock":
                continue  # __version__
            if _layer(target) > _layer(module):
                bad.append(f"{module} imports {target}")
    assert not bad, "imports against the layer order:\n" + "\n".join(sorted(bad))


def test_no_import_cycle():
    sys_graph = {m: {t for t in ts if t in MODULES and t != "tradeshock"}
                 for m, ts in GRAPH.items() if m != "tradeshock"}
    # a package's __init__ importing its own modules is not a cycle with them
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sys_graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(sys_graph):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_cycle_check_can_fail():
    """The checks above see a cycle and an upward import when there is one (they can fail)."""
    fake = ast.parse("from tradeshock.pipeline import render\n")
    names = _resolve("tradeshock.data.prices", fake.body[0], False)
    assert "tradeshock.pipeline.render" in names
    assert _layer("tradeshock.pipeline.render") > _layer("tradeshock.data.prices")


def test_subpackages_say_their_job_and_what_they_may_import():
    for pkg in LIB.iterdir():
        init = pkg / "__init__.py"
        if pkg.is_dir() and init.is_file():
            doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
            assert len(doc) > 80, f"{init}: the docstring should say the subpackage's job"
            if pkg.name != "cli":
                assert "may import" in doc.lower(), f"{init}: say what the subpackage may import"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_function_is_too_long(module):
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    long = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            if n > MAX_FUNCTION_LINES:
                long.append(f"{node.name} ({n} lines, line {node.lineno})")
    assert not long, f"{module}: functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_cli_loads_a_command_only_when_it_runs():
    """`tradeshock --help` lists every command without importing pandas or any command module;
    each listed command is the module of its name (cli/<name>.py)."""
    import importlib
    import subprocess
    import sys

    from tradeshock.cli import COMMANDS

    code = ("import sys\nfrom click.testing import CliRunner\nfrom tradeshock.cli import main\n"
            "out = CliRunner().invoke(main, ['--help']).output\n"
            "print(sorted(m for m in sys.modules if m.startswith(('pandas', 'tradeshock.cli.'))))\n"
            "print(out)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, _, help_text = res.stdout.partition("\n")
    assert loaded == "[]", f"--help imported {loaded}"
    for name in COMMANDS:
        assert name in help_text
        command = getattr(importlib.import_module(f"tradeshock.cli.{name}"), name)
        assert command.name == name
