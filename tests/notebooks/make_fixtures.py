"""Regenerate the fixture notebooks of tests/test_render.py: python tests/notebooks/make_fixtures.py

Tiny on purpose (each runs in about a second on a warm kernel):

- ``good``: a ``parameters`` cell with one parameter of each kind, a house-style matplotlib figure
  with events and a source line, and ``record()`` of the data as-of date and the values it got;
- ``fails``: raises ``ValueError`` in its third cell (the cell after it never runs);
- ``slow``: one cell sleeps 60 s (per-cell timeout);
- ``dies``: the kernel kills itself (dead-kernel detection); it has no ``parameters`` cell.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
KERNELSPEC = {"name": "tradeshock", "display_name": "Python (tradeshock)", "language": "python"}


def notebook(*cells):
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):  # stable ids: regenerating changes nothing
        cell.id = f"cell-{i}"
    return nb


def params(source):
    return new_code_cell(source, metadata={"tags": ["parameters"]})


GOOD = notebook(
    new_markdown_cell(
        "# Good fixture\n\nA line drawn over synthetic dates, with two events marked."
    ),
    params(
        'title: str = "Fixture report"   # figure title\n'
        "n: int = 3                       # number of weeks\n"
        "scale: float = 1.5               # slope, points per day\n"
        'start: str = "2025-04-02"        # ISO date; stays a string\n'
        "flag: bool = True\n"
        'symbols: list[str] = ["^GSPC", "^IXIC"]\n'
        'label = "NaN"                    # untyped string default\n'
    ),
    new_code_cell(
        "import matplotlib.pyplot as plt\n"
        "import pandas as pd\n"
        "from tradeshock.analyses.figures import add_source_line, mark_events, new_figure\n"
        "from tradeshock.pipeline.provenance import record\n"
        "\n"
        "dates = pd.bdate_range(start, periods=max(n, 2) * 5)\n"
        "values = [scale * i for i in range(len(dates))]\n"
        'fig, ax = new_figure(title=title, xlabel="Date", ylabel="Level", yunits="points")\n'
        "ax.plot(dates, values)\n"
        'mark_events(ax, [(dates[2], "announcement", "Liberation Day"),\n'
        '                 (dates[5], "de-escalation", "Pause")])\n'
        'add_source_line(fig, "synthetic fixture data", as_of=dates[-1])\n'
        "plt.show()"
    ),
    new_markdown_cell("The line rises by `scale` points per business day."),
    new_code_cell(
        'record(as_of=dates[-1], source="synthetic fixture", title=title, label=label,\n'
        "       types=[type(v).__name__ for v in (title, n, scale, start, flag, symbols, label)],\n"
        "       values=[n, scale, start, flag, symbols])"
    ),
)

FAILS = notebook(
    new_markdown_cell("# Failing fixture"),
    params("n: int = 1"),
    new_code_cell('print("before the failure")'),
    new_code_cell('raise ValueError("deliberate failure for the tests")'),
    new_code_cell('print("never printed")'),
)

SLOW = notebook(
    new_markdown_cell("# Slow fixture"),
    params("seconds: float = 60.0"),
    new_code_cell("import time\ntime.sleep(seconds)"),
    new_code_cell('print("done")'),
)

DIES = notebook(
    new_markdown_cell("# Dying fixture"),
    new_code_cell('print("alive")'),
    new_code_cell("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
    new_code_cell('print("never printed")'),
)

if __name__ == "__main__":
    for name, nb in {"good": GOOD, "fails": FAILS, "slow": SLOW, "dies": DIES}.items():
        nbformat.validate(nb)
        nbformat.write(nb, HERE / f"{name}.ipynb")
        print(HERE / f"{name}.ipynb")
