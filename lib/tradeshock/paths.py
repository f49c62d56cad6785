"""Where tradeshock's files are: package data, the project checkout, the pinned snapshot.

* **Package data** (:func:`resource_path`): the event calendar, the reciprocal rates and the
  universe ship inside the package (``tradeshock/resources/``), so a non-editable ``pip install .``
  finds them. In the repository these are links to ``data/events/`` and ``data/universe.csv``,
  the files a curator edits.
* **The project** (:func:`find_project_root`): the checkout with ``notebooks/``, ``data/snapshot/``
  and ``reports/``. Found from ``TRADESHOCK_PROJECT``, else the checkout this package is installed
  from (editable install), else the current folder or one of its parents; ``None`` when none is.

Imports nothing of tradeshock but :mod:`tradeshock.errors`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["RESOURCES", "resource_path", "find_project_root", "user_cache_dir", "PROJECT_ROOT",
           "DATA_DIR"]

#: Package data folder.
RESOURCES = Path(__file__).resolve().parent / "resources"


def resource_path(*parts: str) -> Path:
    """A file of the package data, e.g. ``resource_path("events", "tariff_events_2025.csv")``."""
    return RESOURCES.joinpath(*parts)


def _is_project(path: Path) -> bool:
    return (path / "notebooks").is_dir() and (path / "data").is_dir()


def find_project_root(start: str | Path | None = None) -> Path | None:
    """The tradeshock project checkout: ``TRADESHOCK_PROJECT``, else the checkout holding this
    package (editable install), else ``start`` (default the current folder) or a parent of it
    with ``notebooks/`` and ``data/``; ``None`` when there is none."""
    env = os.environ.get("TRADESHOCK_PROJECT")
    if env:
        return Path(env).expanduser().resolve()
    here = Path(__file__).resolve().parents[2]
    if _is_project(here) and (here / "lib" / "tradeshock").is_dir():
        return here
    cur = Path(start if start is not None else Path.cwd()).resolve()
    for cand in (cur, *cur.parents):
        if _is_project(cand):
            return cand
    return None


#: The project checkout found at import (see :func:`find_project_root`); ``None`` outside one.
PROJECT_ROOT: Path | None = find_project_root()
#: ``PROJECT_ROOT / "data"`` (``None`` outside a project).
DATA_DIR: Path | None = PROJECT_ROOT / "data" if PROJECT_ROOT is not None else None


def user_cache_dir() -> Path:
    """The price cache outside a project: ``$XDG_CACHE_HOME/tradeshock`` (``~/.cache/tradeshock``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tradeshock"
