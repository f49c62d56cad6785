"""A real headless browser over rendered reports: shared by tests/test_browser.py and the README
screenshots.

The browser is the system Chromium (Debian's ``chromium``, or the binary named by
``$TRADESHOCK_CHROMIUM``) driven by playwright; playwright's own browser download
(``playwright install``) is never used. Pages are opened from ``file://`` URLs in an offline
context whose every other request is aborted and recorded (:class:`PageLog`).

Run as a script (``make screenshots``) to regenerate the README pictures::

    .venv/bin/python tests/browser_shots.py [--out docs/img]

It renders every project notebook from the pinned snapshot (``TRADESHOCK_SNAPSHOT`` is ignored,
online access is off) into a temporary folder and writes ``index.png`` (the index, desktop width)
and ``report-figure.png`` (the first figure of ``02_us_indices``) into ``--out``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from tradeshock.core.envvars import temporary_environ

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
README_IMG = ROOT / "docs" / "img"
#: The report whose first figure the README shows.
FIGURE_REPORT = "02_us_indices"
#: README pictures: viewport and the size limit of each PNG.
SHOT_VIEWPORT = {"width": 1200, "height": 900}
SHOT_MAX_BYTES = 300_000
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")

INSTALL_HELP = (
    "install Debian's Chromium with `make browser` (runs `apt-get install -y chromium`, with "
    "sudo when not root), or set TRADESHOCK_CHROMIUM=/path/to/chromium (any Chromium or Chrome "
    "binary); set TRADESHOCK_SKIP_BROWSER=1 to skip the browser tests instead "
    "(never `playwright install`: tradeshock uses the system browser)"
)


class BrowserMissing(RuntimeError):
    """No usable Chromium or no playwright; the message says how to install them."""


def find_chromium() -> str:
    """The Chromium to drive: ``$TRADESHOCK_CHROMIUM``, else ``chromium`` (or a Chrome) on PATH."""
    env = os.environ.get("TRADESHOCK_CHROMIUM", "").strip()
    if env:
        path = shutil.which(env)
        if path is None:
            raise BrowserMissing(
                f"TRADESHOCK_CHROMIUM={env!r} is not an executable file; point it at a Chromium "
                f"binary or unset it to use `chromium` from PATH"
            )
        return path
    for name in _CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserMissing(
        f"no Chromium found on PATH (looked for {', '.join(_CANDIDATES)}); " + INSTALL_HELP
    )


@contextlib.contextmanager
def browser() -> Iterator[Any]:
    """A headless system Chromium (a playwright ``Browser``), closed on exit."""
    executable = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserMissing(
            "the Python package playwright is not installed: run `make install` (or "
            "`pip install -e '.[test]'`); do not run `playwright install`"
        ) from None
    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(executable_path=executable)
        except Exception as exc:  # playwright raises its own Error; keep the cause visible
            raise BrowserMissing(f"could not start {executable}: {exc}; " + INSTALL_HELP) from exc
        try:
            yield chromium
        finally:
            chromium.close()


# ============================================================================================
# Offline pages with everything that went wrong recorded


@dataclass
class PageLog:
    """What a page did that a self-contained report must not do."""

    external: list[str] = field(default_factory=list)  # requests aborted: not a file in root
    failed: list[str] = field(default_factory=list)  # file:// requests that failed (missing)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """One line per problem, empty when the page was clean."""
        return (
            [f"network request attempted: {u}" for u in self.external]
            + [f"file request failed: {u}" for u in self.failed]
            + [f"console error: {m}" for m in self.console_errors]
            + [f"uncaught exception: {m}" for m in self.page_errors]
        )


def file_path(url: str) -> Path:
    """The local path of a ``file://`` URL."""
    return Path(unquote(urlparse(url).path))


def offline_context(chromium: Any, root: Path, **options: Any) -> tuple[Any, PageLog]:
    """A browser context with the network off (``offline=True``) in which only files inside
    ``root`` (and ``data:``/``blob:`` URLs) load; every other request is aborted and recorded."""
    log = PageLog()
    root = root.resolve()
    context = chromium.new_context(offline=True, **options)

    def guard(route: Any) -> None:
        url = route.request.url
        scheme = urlparse(url).scheme
        inside = scheme == "file" and file_path(url).resolve().is_relative_to(root)
        if inside or scheme in ("data", "blob", "about"):
            route.continue_()
        else:
            log.external.append(url)
            route.abort()

    context.route("**/*", guard)
    return context, log


def open_page(context: Any, path: Path, log: PageLog) -> Any:
    """Open ``path`` in ``context`` with console errors, exceptions and failed loads logged."""
    page = context.new_page()
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))

    def failed(request: Any) -> None:
        if request.url.startswith("file:"):
            log.failed.append(f"{request.url} ({request.failure})")

    page.on("requestfailed", failed)
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page


_IMAGES_JS = """async () => Promise.all(Array.from(document.images).map(async (img) => {
  let error = null;
  try { await img.decode(); } catch (e) { error = String(e); }
  return {src: (img.getAttribute('src') || '').slice(0, 60), width: img.naturalWidth,
          height: img.naturalHeight, shown: img.getBoundingClientRect().width, error};
}))"""


def images(page: Any) -> list[dict[str, Any]]:
    """Every ``<img>`` after decoding: ``src`` (start), natural ``width``/``height``, the
    ``shown`` width in CSS pixels and the decode ``error`` (None when it decoded)."""
    return page.evaluate(_IMAGES_JS)


# ============================================================================================
# Rendering from the pinned snapshot, and the README pictures


@contextlib.contextmanager
def pinned_environment(cache_dir: Path) -> Iterator[None]:
    """Environment for renders that must use the pinned snapshot only: no snapshot folder from
    the environment, online access off, a private cache (restored on exit)."""
    changes = {
        "TRADESHOCK_SNAPSHOT": None,
        "TRADESHOCK_PINNED_DIR": None,
        "TRADESHOCK_OFFLINE": "1",
        "TRADESHOCK_CACHE": str(cache_dir),
    }
    with temporary_environ(changes):
        yield


def render_pinned(notebooks: Sequence[Path], out: Path, jobs: int = 2) -> Any:
    """Render ``notebooks`` into ``out`` from the pinned snapshot; raise if any failed."""
    from tradeshock.pipeline.render import render_notebooks

    with pinned_environment(out / ".cache"):
        summary = render_notebooks(notebooks, out, jobs=jobs, timeout=600)
    shutil.rmtree(out / ".cache", ignore_errors=True)
    failed = [f"{r.name}: {r.error}" for r in summary.records if r.status == "failed"]
    if failed:
        raise RuntimeError(
            "reports failed to render from the pinned snapshot:\n" + "\n".join(failed)
        )
    return summary


def readme_shots(chromium: Any, reports: Path, out: Path) -> list[Path]:
    """Write ``out/index.png`` (``reports/index.html`` at desktop width: its content column,
    first screen) and ``out/report-figure.png`` (the first figure of :data:`FIGURE_REPORT`,
    cropped to it).

    Raises ``RuntimeError`` when the page loads anything from outside ``reports``, logs an error,
    has no figure, or a picture exceeds :data:`SHOT_MAX_BYTES`.
    """
    out.mkdir(parents=True, exist_ok=True)
    context, log = offline_context(chromium, reports, viewport=SHOT_VIEWPORT, device_scale_factor=1)
    try:
        page = open_page(context, reports / "index.html", log)
        index_png = out / "index.png"
        box = page.locator("main").bounding_box()  # the content column, without side margins
        clip = {**box, "y": 0, "height": min(box["y"] + box["height"], SHOT_VIEWPORT["height"])}
        page.screenshot(path=str(index_png), clip=clip)
        page = open_page(context, reports / f"{FIGURE_REPORT}.html", log)
        if not images(page):
            raise RuntimeError(f"{FIGURE_REPORT}.html has no figure to show in the README")
        figure_png = out / "report-figure.png"
        page.locator("img").first.screenshot(path=str(figure_png))
    finally:
        context.close()
    if log.problems():
        raise RuntimeError(
            "the pages behind the README pictures are not clean:\n" + "\n".join(log.problems())
        )
    shots = [index_png, figure_png]
    big = [f"{p} is {p.stat().st_size:,} bytes" for p in shots if p.stat().st_size > SHOT_MAX_BYTES]
    if big:
        raise RuntimeError(f"README pictures over {SHOT_MAX_BYTES:,} bytes: {'; '.join(big)}")
    return shots


def main(argv: Sequence[str] | None = None) -> int:
    """``make screenshots``: render every notebook from the pinned data, photograph the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=README_IMG, help="folder for the PNG files")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks rendered at a time")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tradeshock-shots-") as tmp:
        reports = Path(tmp)
        render_pinned(sorted(NOTEBOOKS.glob("*.ipynb")), reports, jobs=args.jobs)
        try:
            with browser() as chromium:
                shots = readme_shots(chromium, reports, args.out)
        except BrowserMissing as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    for path in shots:
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
