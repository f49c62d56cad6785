"""Rendered reports and their index in a real headless browser (system Chromium via playwright).

Two project notebooks are rendered once for the module from the pinned snapshot (every notebook
with ``--update-readme-shots``), then each page is opened from ``file://`` with the network off:
no request may leave the report folder, nothing may be logged as an error, every figure must
decode, every link must resolve, and the index must read well on a phone. Screenshots are kept in
the artifacts folder (see ``artifacts`` in conftest.py); the README pictures are made by the same
code (tests/browser_shots.py) and rewritten with ``--update-readme-shots`` or ``make screenshots``.

A missing Chromium fails these tests with the fix (``make browser``); set
``TRADESHOCK_SKIP_BROWSER=1`` to skip them instead.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import browser_shots as B
import pytest

#: The reports checked on every run: a timeline and an event study with several figures.
CHECKED = ["01_event_calendar", "02_us_indices"]
DESKTOP = {"viewport": B.SHOT_VIEWPORT, "device_scale_factor": 1}

pytestmark = pytest.mark.slow


def _skip_requested() -> bool:
    return os.environ.get("TRADESHOCK_SKIP_BROWSER", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def chromium():
    """The system Chromium, once per module; missing it fails with how to install it."""
    if _skip_requested():
        pytest.skip("TRADESHOCK_SKIP_BROWSER is set: browser checks skipped")
    stack = contextlib.ExitStack()
    try:
        browser = stack.enter_context(B.browser())
    except B.BrowserMissing as exc:
        pytest.fail(f"browser tests cannot run: {exc}", pytrace=False)
    with stack:
        yield browser


@pytest.fixture(scope="module")
def update_shots(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-readme-shots"))


@pytest.fixture(scope="module")
def reports(chromium, update_shots, tmp_path_factory) -> tuple[Path, Any]:
    """(folder, render summary): reports rendered from the pinned snapshot, once per module."""
    out = tmp_path_factory.mktemp("browser-reports")
    names = [p.stem for p in sorted(B.NOTEBOOKS.glob("*.ipynb"))] if update_shots else CHECKED
    summary = B.render_pinned([B.NOTEBOOKS / f"{n}.ipynb" for n in names], out)
    return out.resolve(), summary


def _links(page: Any) -> list[dict[str, Any]]:
    """Every ``<a href>``: the attribute, the absolute URL, and for ``#fragment`` links whether
    the element it points at exists."""
    return page.eval_on_selector_all(
        "a[href]",
        """els => els.map(a => {
             const raw = a.getAttribute('href');
             if (!raw.startsWith('#')) return {raw, url: a.href, found: null};
             // as browsers do: the fragment as written, else percent-decoded
             const id = raw.slice(1);
             let decoded = id;
             try { decoded = decodeURIComponent(id); } catch (e) {}
             const found = !!(document.getElementById(id) || document.getElementById(decoded));
             return {raw, url: a.href, found};
           })""",
    )


def _broken_links(links: list[dict[str, Any]], root: Path, *, web_ok: bool) -> list[str]:
    bad = []
    for link in links:
        raw, url = link["raw"], link["url"]
        if raw.startswith("#"):
            if not link["found"]:
                bad.append(f"{raw!r}: no element with that id")
        elif url.startswith("file:"):
            path = B.file_path(url)
            if not path.is_file():
                bad.append(f"{raw!r}: {path} does not exist")
            elif not path.resolve().is_relative_to(root):
                bad.append(f"{raw!r}: {path} is outside the report folder")
        elif not (web_ok and url.startswith(("http://", "https://", "mailto:"))):
            bad.append(f"{raw!r}: not a file in the report folder")
    return bad


# The layout viewport's width: on a mobile page Chrome widens window.innerWidth to fit content
# that overflows (it zooms out), so innerWidth would hide the very overflow looked for.
_OVERFLOW_JS = """() => {
  const w = document.documentElement.clientWidth;
  const wide = Array.from(document.querySelectorAll('body *'))
    .filter(el => el.getBoundingClientRect().right > w + 1)
    .slice(0, 5).map(el => `${el.tagName.toLowerCase()}.${el.className}`);
  return {scrollWidth: document.documentElement.scrollWidth, width: w,
          innerWidth: window.innerWidth, wide};
}"""

_FONT_JS = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const text = n.textContent.trim();
    const el = n.parentElement;
    const box = el.getBoundingClientRect();
    if (!text || box.width === 0 || box.height === 0) continue;
    out.push({px: parseFloat(getComputedStyle(el).fontSize), text: text.slice(0, 40),
              where: `${el.tagName.toLowerCase()}.${el.className}`});
  }
  return {body: parseFloat(getComputedStyle(document.body).fontSize), texts: out};
}"""


def _check_phone_layout(page: Any) -> list[str]:
    """No horizontal scrolling and no text under 12 CSS px on the current (phone) page."""
    problems = []
    o = page.evaluate(_OVERFLOW_JS)
    width = page.viewport_size["width"]
    if max(o["scrollWidth"], o["innerWidth"]) > width + 1 or o["width"] > width + 1:
        problems.append(
            f"scrolls sideways: page {o['scrollWidth']} px wide on a {width} px screen; "
            f"too wide: {', '.join(o['wide']) or '?'}"
        )
    f = page.evaluate(_FONT_JS)
    if f["body"] < 12:
        problems.append(f"body text is {f['body']} px (< 12)")
    small = [t for t in f["texts"] if t["px"] < 12]
    problems += [f"{t['px']} px text {t['text']!r} in {t['where']}" for t in small[:5]]
    if not f["texts"]:
        problems.append("no visible text")
    return problems


def test_index_opens_offline_and_every_link_resolves(chromium, reports, artifacts):
    out, summary = reports
    context, log = B.offline_context(chromium, out, **DESKTOP)
    with contextlib.closing(context):
        page = B.open_page(context, out / "index.html", log)
        links = _links(page)
        page.screenshot(
            path=str(artifacts.add(artifacts.path("index-desktop.png"))), full_page=True
        )
        titles = page.locator("a.title").all_inner_texts()
    assert log.problems() == []
    assert _broken_links(links, out, web_ok=False) == []
    linked = {B.file_path(link["url"]).name for link in links}
    for rec in summary.records:
        assert rec.status == "ok", f"{rec.name}: {rec.error}"
        assert {rec.html.name, rec.ipynb.name} <= linked, f"index does not link {rec.name}"
    assert len(titles) == len(summary.records) and all(t.strip() for t in titles)


def test_reports_open_offline_with_every_figure_decoded(chromium, reports, artifacts):
    out, summary = reports
    problems: list[str] = []
    for rec in summary.records:
        context, log = B.offline_context(chromium, out, **DESKTOP)
        with contextlib.closing(context):
            page = B.open_page(context, rec.html, log)
            figures = B.images(page)
            links = _links(page)
            if rec.name == B.FIGURE_REPORT:
                shot = artifacts.path(f"report-{rec.name}.png")
                page.screenshot(path=str(shot), full_page=True)
                artifacts.add(shot)
        problems += [f"{rec.name}: {p}" for p in log.problems()]
        problems += [f"{rec.name}: link {p}" for p in _broken_links(links, out, web_ok=True)]
        if not figures:
            problems.append(f"{rec.name}: no figure")
        for i, img in enumerate(figures):
            if img["error"] or not (img["width"] > 0 and img["height"] > 0 and img["shown"] > 0):
                problems.append(f"{rec.name}: image {i} ({img['src']}…) not shown: {img}")
    assert problems == [], "\n".join(problems)


def test_index_reads_well_on_a_phone(chromium, reports, artifacts):
    out, _ = reports
    context, log = B.offline_context(chromium, out, **B.PHONE)
    with contextlib.closing(context):
        page = B.open_page(context, out / "index.html", log)
        problems = _check_phone_layout(page)
        page.screenshot(path=str(artifacts.add(artifacts.path("index-phone.png"))), full_page=True)
    assert log.problems() == []
    assert problems == [], "\n".join(problems)


def test_reports_read_well_on_a_phone(chromium, reports):
    """Wide tables scroll inside their output area; the page itself never scrolls sideways."""
    out, summary = reports
    problems: list[str] = []
    for rec in summary.records:
        context, log = B.offline_context(chromium, out, **B.PHONE)
        with contextlib.closing(context):
            page = B.open_page(context, rec.html, log)
            problems += [f"{rec.name}: {p}" for p in _check_phone_layout(page) + log.problems()]
    assert problems == [], "\n".join(problems)


def test_index_with_a_failed_report_and_long_values_fits_a_phone(chromium, tmp_path):
    """The index's hardest content on a phone: a failure with an unbroken error message and an
    opened traceback, long parameter lists, the longest allowed report name."""
    from tradeshock.pipeline.reportindex import index_html

    long_name = "n" * 120
    manifest = {
        "generated_at": "2025-04-09T20:00:00+00:00",
        "reports": {
            "fails": {
                "name": "fails",
                "status": "failed",
                "title": "A report that failed",
                "params": {"symbols": ["^GSPC", "^DJI", "^IXIC", "^RUT"] * 8},
                "html": "fails.failed.html",
                "ipynb": "fails.failed.ipynb",
                "last_good_html": "fails.html",
                "error": "ValueError: " + "x" * 300,
                "detail": "Traceback (most recent call last):\n" + "  File " + "/a" * 200,
                "warnings": ["the HTML loads https://cdn.example/" + "y" * 200],
            },
            long_name: {
                "name": long_name,
                "status": "ok",
                "title": "T" * 150,
                "as_of": "2025-04-09",
                "source": "pinned snapshot " + "(s)" * 60,
                "seconds": 12.5,
                "rendered_at": "2025-04-09T20:00:00+00:00",
                "html": f"{long_name}.html",
                "ipynb": f"{long_name}.ipynb",
                "params": {"estimation_window": "-250:-11"},
            },
        },
    }
    (tmp_path / "index.html").write_text(index_html(manifest), encoding="utf-8")
    context, log = B.offline_context(chromium, tmp_path, **B.PHONE)
    with contextlib.closing(context):
        page = B.open_page(context, tmp_path / "index.html", log)
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        problems = _check_phone_layout(page)
    assert log.problems() == []
    assert problems == [], "\n".join(problems)


def test_readme_screenshots(chromium, reports, artifacts, update_shots):
    """The README pictures are made by this code on every run (into the artifacts folder), and
    written to docs/img with --update-readme-shots."""
    out, summary = reports
    if update_shots:
        assert len(summary.records) == len(list(B.NOTEBOOKS.glob("*.ipynb")))
    target = B.README_IMG if update_shots else artifacts.path("readme")
    shots = B.readme_shots(chromium, out, target)
    for path in shots:
        artifacts.add(path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert 0 < path.stat().st_size < B.SHOT_MAX_BYTES
