"""The render output's table of contents: ``manifest.json`` (machine) and ``index.html`` (people).

``manifest.json`` holds one entry per report (name, status, parameters, data as-of date and
source, run time, file names, error, input fingerprints) plus the versions of the packages that
made them. It is also the render's memory: the next render compares fingerprints with it to skip
reports whose inputs did not change. Entries of reports not in the current run stay, so rendering
one notebook never drops the others from the index.

``index.html`` is one self-contained page (inline CSS, no script, no network) that lists every
report with a status badge and links; it reflows to a single column on a phone-width screen.
File names in both are relative to the output folder, so the folder can be moved or zipped.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tradeshock import __version__
from tradeshock.core.fileio import atomic_write_text
from tradeshock.core.timefmt import utc_now
from tradeshock.pipeline.outputs import FAILED, INDEX_NAME, MANIFEST_NAME, OK, UP_TO_DATE

__all__ = ["load_manifest", "write_manifest", "write_index", "index_html", "package_versions"]

#: The format of the render's ``manifest.json`` (not the pinned snapshot's manifest).
INDEX_MANIFEST_FORMAT = 1
_PACKAGES = (
    "papermill",
    "nbconvert",
    "nbclient",
    "nbformat",
    "ipykernel",
    "jupyter_client",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "linearmodels",
    "arch",
    "matplotlib",
    "exchange_calendars",
    "pyarrow",
    "yfinance",
)
_versions_cache: dict[str, str | None] | None = None


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a report's numbers and rendering depend on."""
    global _versions_cache
    if _versions_cache is None:
        from importlib.metadata import PackageNotFoundError, version

        found: dict[str, str | None] = {
            "python": platform.python_version(),
            "tradeshock": __version__,
        }
        for name in _PACKAGES:
            try:
                found[name] = version(name)
            except PackageNotFoundError:
                found[name] = None
        _versions_cache = found
    return dict(_versions_cache)


def load_manifest(out_dir: str | Path) -> dict[str, Any]:
    """The manifest in ``out_dir``, or an empty one when missing or unreadable (then every report
    is simply rendered again)."""
    path = Path(out_dir) / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("reports"), dict):
        data = {"reports": {}}
    return data


def _clean(value: Any) -> Any:
    """JSON-safe: non-finite floats become strings ("nan", "inf")."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def write_manifest(out_dir: str | Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``manifest.json`` atomically (with format, versions and a timestamp)."""
    data = dict(manifest)
    data["format"] = INDEX_MANIFEST_FORMAT
    data["tradeshock_version"] = __version__
    data["packages"] = package_versions()
    data.setdefault("generated_at", utc_now())
    data["reports"] = {k: data["reports"][k] for k in sorted(data.get("reports", {}))}
    path = Path(out_dir) / MANIFEST_NAME
    atomic_write_text(path, json.dumps(_clean(data), indent=2, allow_nan=False) + "\n")
    return path


def write_index(out_dir: str | Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``index.html`` atomically from the manifest."""
    path = Path(out_dir) / INDEX_NAME
    atomic_write_text(path, index_html(manifest))
    return path


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _href(name: str) -> str:
    return quote(name, safe="")


def _params_text(params: Mapping[str, Any] | None) -> str:
    if not params:
        return "defaults"
    return ", ".join(
        f"{k} = {json.dumps(_clean(v), ensure_ascii=False)}" for k, v in params.items()
    )


def _seconds_text(seconds: Any) -> str:
    if seconds is None:
        return "—"
    s = float(seconds)
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def _when(stamp: Any) -> str:
    if not stamp:
        return "—"
    try:
        t = dt.datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    return t.strftime("%Y-%m-%d %H:%M UTC")


_BADGE = {OK: ("ok", "ok"), UP_TO_DATE: ("up to date", "current"), FAILED: ("failed", "failed")}

_CSS = """
:root { --fg:#1d1d1f; --muted:#5f6368; --line:#dadce0; --bg:#ffffff; --card:#f8f9fa;
  --ok:#137333; --okbg:#e6f4ea; --cur:#1a5fb4; --curbg:#e8f0fe; --bad:#b3261e; --badbg:#fce8e6; }
* { box-sizing: border-box; }
body { margin:0; color:var(--fg); background:var(--bg);
  font: 16px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Arial, sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .2rem 0 .3rem; }
p.meta { color: var(--muted); margin: 0 0 1rem; font-size: .9rem; }
ul.reports { list-style: none; margin: 0; padding: 0; display: grid; gap: .75rem; }
li.report { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: .8rem 1rem; overflow-wrap: anywhere; }
li.report.failed { border-color: var(--bad); }
.head { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem;
  justify-content: space-between; }
.head a.title { font-weight: 600; font-size: 1.1rem; color: #0b57d0; text-decoration: none; }
.head a.title:hover { text-decoration: underline; }
.file { color: var(--muted); font-size: .85rem;
  font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.badge { font-size: .8rem; font-weight: 600; padding: .1rem .55rem; border-radius: 999px;
  white-space: nowrap; }
.badge.ok { color: var(--ok); background: var(--okbg); }
.badge.current { color: var(--cur); background: var(--curbg); }
.badge.failed { color: var(--bad); background: var(--badbg); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .9rem;
  margin: .6rem 0 0; font-size: .92rem; }
dt { color: var(--muted); }
dd { margin: 0; }
p.error { color: var(--bad); margin: .6rem 0 0; font-size: .92rem; }
p.links { margin: .5rem 0 0; font-size: .92rem; }
p.links a { margin-right: .9rem; }
div.attachments { margin: .5rem 0 0; font-size: .92rem; }
div.attachments ul { margin: .2rem 0 0; padding-left: 1.2rem; }
details { margin-top: .4rem; font-size: .85rem; }
pre { white-space: pre-wrap; background: #fff; border: 1px solid var(--line); padding: .5rem;
  border-radius: 6px; max-height: 20rem; overflow: auto; }
@media (max-width: 480px) {
  main { padding: .6rem; }
  dl { grid-template-columns: 1fr; }
  dt { margin-top: .3rem; }
}
"""


def index_html(manifest: Mapping[str, Any]) -> str:
    """The index page for a manifest (see the module docstring)."""
    reports = [manifest["reports"][k] for k in sorted(manifest.get("reports", {}))]
    counts = {s: sum(1 for r in reports if r.get("status") == s) for s in (OK, UP_TO_DATE, FAILED)}
    summary = " · ".join(
        [f"{len(reports)} report{'s' if len(reports) != 1 else ''}"]
        + [f"{n} {_BADGE[s][0]}" for s, n in counts.items() if n]
        + [f"updated {_when(manifest.get('generated_at') or utc_now())}", f"tradeshock {__version__}"]
    )
    items = [_item(r) for r in reports] or ['<li class="report">No reports yet.</li>']
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>tradeshock reports</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        "<h1>tradeshock reports</h1>\n"
        f'<p class="meta">{_e(summary)}</p>\n'
        '<ul class="reports">\n' + "\n".join(items) + "\n</ul>\n</main>\n</body>\n</html>\n"
    )


def _source_text(source: Any) -> str:
    """A report's source line without the prefix and full stop notebooks print around it."""
    text = str(source).strip()
    text = text.removeprefix("Market data:").strip().rstrip(".")
    return text or str(source)


def _attachments_html(items: list[Any]) -> str:
    """Links to a report's attachments (name, description, size), one per line."""
    rows = []
    for a in items:
        if not isinstance(a, Mapping) or not a.get("file"):
            continue
        href = "/".join(_href(part) for part in str(a["file"]).split("/"))
        text = _e(a.get("name") or a["file"])
        desc = f" — {_e(a['description'])}" if a.get("description") else ""
        size = f" ({int(a['bytes']):,} bytes)" if isinstance(a.get("bytes"), int) else ""
        rows.append(f'<li><a href="{href}" download>{text}</a>{desc}{size}</li>')
    if not rows:
        return ""
    return '<div class="attachments">Attachments:<ul>' + "".join(rows) + "</ul></div>"


def _item(r: Mapping[str, Any]) -> str:
    status = r.get("status", FAILED)
    label, css = _BADGE.get(status, (status, "failed"))
    name = r.get("name", "?")
    title = r.get("title") or name
    html_file = r.get("html")
    head_link = (
        f'<a class="title" href="{_href(html_file)}">{_e(title)}</a>' if html_file else _e(title)
    )
    rows = [("Data as of", r.get("as_of") or "not recorded")]
    if r.get("source"):
        rows.append(("Data source", _source_text(r["source"])))
    rows += [
        ("Parameters", _params_text(r.get("params"))),
        ("Run time", _seconds_text(r.get("seconds"))),
        ("Rendered", _when(r.get("rendered_at"))),
    ]
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
    parts = [
        f'<li class="report {css}" id="{_e(name)}">',
        f'<div class="head">{head_link}<span class="badge {css}">{_e(label)}</span></div>',
        f'<div class="file">{_e(name)}</div>',
        f"<dl>{dl}</dl>",
    ]
    links = []
    if status == FAILED:
        parts.append(f'<p class="error">{_e(r.get("error") or "failed")}</p>')
        if html_file:
            links.append(f'<a href="{_href(html_file)}">failed run (HTML)</a>')
        if r.get("ipynb"):
            links.append(f'<a href="{_href(r["ipynb"])}">failed run (notebook)</a>')
        if r.get("last_good_html"):
            links.append(f'<a href="{_href(r["last_good_html"])}">last good report</a>')
    elif r.get("ipynb"):
        links.append(f'<a href="{_href(r["ipynb"])}">executed notebook</a>')
    if links:
        parts.append(f'<p class="links">{"".join(links)}</p>')
    attached = _attachments_html(r.get("attachments") or [])
    if attached:
        parts.append(attached)
    for warning in r.get("warnings") or []:
        parts.append(f'<p class="error">warning: {_e(warning)}</p>')
    if status == FAILED and r.get("detail"):
        parts.append(f"<details><summary>Traceback</summary><pre>{_e(r['detail'])}</pre></details>")
    parts.append("</li>")
    return "\n".join(parts)
