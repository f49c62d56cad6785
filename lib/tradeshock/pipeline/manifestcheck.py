"""A render folder's ``manifest.json`` that cannot be read: said, and rebuilt from the reports.

The manifest is the index's memory: a report not in it vanishes from ``index.html`` and from the
bundle. So an unreadable or malformed manifest is never dropped without a word:
:func:`manifest_problem` says what is wrong with it (``tradeshock doctor`` and the bundle report
it), and :func:`load_or_rebuild` (used by the render) rebuilds one entry per report from the
executed notebooks on disk (``NAME.ipynb`` and ``NAME.failed.ipynb`` carry the render's record in
``metadata["tradeshock"]``), keeps the broken file as ``.tradeshock-manifest-broken-*.json`` for
inspection, and returns a note saying so. Rebuilt entries have no input fingerprint, so those
reports are executed again on their next render.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from tradeshock.core.fileio import sha256_file
from tradeshock.core.timefmt import utc_now
from tradeshock.pipeline import reportindex
from tradeshock.pipeline.naming import check_output_name
from tradeshock.pipeline.outputs import (
    FAILED,
    HIDDEN_PREFIX,
    MANIFEST_NAME,
    OK,
    attachments_dir_name,
)
from tradeshock.errors import ValidationError

__all__ = ["load_or_rebuild", "manifest_problem", "rebuild_entries"]


def manifest_problem(out_dir: str | Path) -> str | None:
    """What is wrong with ``OUT/manifest.json`` (None when it is missing or fine)."""
    path = Path(out_dir) / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror or exc})"
    except ValueError as exc:
        return f"{path} is not valid JSON ({exc})"
    if not isinstance(data, dict) or not isinstance(data.get("reports"), dict):
        return f"{path} is not a tradeshock render manifest (no 'reports' mapping)"
    bad = [k for k, v in data["reports"].items() if not isinstance(v, dict) or "status" not in v]
    if bad:
        return f"{path} has malformed entries: {', '.join(map(str, bad[:5]))}"
    return None


def _entry(out: Path, ipynb: Path, failed: bool) -> dict[str, Any] | None:
    try:
        meta = json.loads(ipynb.read_text(encoding="utf-8")).get("metadata", {}).get("tradeshock")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(meta, dict):
        return None
    name = ipynb.name.removesuffix(".failed.ipynb" if failed else ".ipynb")
    try:
        check_output_name(name)
    except ValidationError:
        return None
    html = out / f"{name}{'.failed' if failed else ''}.html"
    entry: dict[str, Any] = {
        "name": name,
        "status": FAILED if failed or meta.get("status") == FAILED else OK,
        "title": name,
        "params": meta.get("params") or {},
        "as_of": meta.get("as_of"),
        "source": meta.get("source"),
        "record": meta.get("record") or {},
        "html": html.name if html.is_file() else None,
        "ipynb": ipynb.name,
        "error": meta.get("error"),
        "rendered_at": None,
        "seconds": None,
        "rebuilt": True,
    }
    if entry["status"] == OK and html.is_file():
        entry["html_sha256"] = sha256_file(html)
    files = out / attachments_dir_name(name)
    if not failed and files.is_dir():
        record = entry["record"] if isinstance(entry["record"], dict) else {}
        entry["attachments"] = [
            {
                "name": p.name,
                "file": f"{files.name}/{p.name}",
                "description": str(record.get(f"attachment:{p.name}") or ""),
                "bytes": p.stat().st_size,
            }
            for p in sorted(files.iterdir())
            if p.is_file() and not p.name.startswith(".")
        ]
    return entry


def rebuild_entries(out_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Manifest entries rebuilt from the executed notebooks in ``out_dir``."""
    out = Path(out_dir)
    entries: dict[str, dict[str, Any]] = {}
    for ipynb in sorted(out.glob("*.ipynb")):
        if ipynb.name.endswith(".failed.ipynb"):
            continue
        entry = _entry(out, ipynb, failed=False)
        if entry and entry["html"]:
            entries[entry["name"]] = entry
    for ipynb in sorted(out.glob("*.failed.ipynb")):
        entry = _entry(out, ipynb, failed=True)
        if not entry:
            continue
        good = entries.get(entry["name"])
        if good is not None:
            entry["last_good_html"] = good["html"]
        if entry["html"] or good is not None:
            entries[entry["name"]] = entry
    return entries


def load_or_rebuild(out_dir: str | Path) -> tuple[dict[str, Any], str | None]:
    """The manifest of ``out_dir`` and a note: None when it was fine or missing; else the entries
    rebuilt from the reports on disk and a note saying what happened (call under the lock)."""
    out = Path(out_dir)
    problem = manifest_problem(out)
    if problem is None:
        return reportindex.load_manifest(out), None
    entries = rebuild_entries(out)
    kept = out / f"{HIDDEN_PREFIX}manifest-broken-{utc_now().replace(':', '')[:17]}.json"
    with contextlib.suppress(OSError):
        os.replace(out / MANIFEST_NAME, kept)
    names = ", ".join(sorted(entries)) or "none"
    note = (
        f"{problem}; rebuilt it from the {len(entries)} report(s) on disk ({names}); the broken "
        f"file is kept as {kept.name}. Rebuilt reports are executed again on their next render"
    )
    return {"reports": entries}, note
