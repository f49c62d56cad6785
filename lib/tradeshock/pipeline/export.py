"""HTML export: an executed notebook as one self-contained page, with nbconvert.

:func:`export_html` uses nbconvert's ``lab`` template without the scripts it would fetch from a CDN
(require.js, MathJax, mermaid, widgets), with figures embedded as PNG data URIs and the code hidden
unless ``show_code`` (cells tagged ``remove-cell``, ``remove-input`` or ``remove-output`` are
honoured), so a report opens from ``file://`` offline; the page is written atomically.
:func:`external_references` lists what a page would still load from the network (an export
warning, and the tests' check).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tradeshock.core.fileio import atomic_write_text

__all__ = ["export_html", "external_references"]

_TEMPLATE_NAME = "tradeshock_report.html.j2"
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{#- Self-contained: no require.js, MathJax, mermaid or widget scripts from a CDN. -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style type="text/css">
  body.jp-Notebook { max-width: 1100px; margin: 0 auto; padding: 0 12px; }
  .jp-OutputArea-output img { max-width: 100%; height: auto; }
  .jp-OutputArea-output table { display: block; overflow-x: auto; }
</style>
{%- endblock extra_css -%}
"""


def _exporter(show_code: bool) -> Any:
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", "remove_cell"}
    config.TagRemovePreprocessor.remove_input_tags = {"remove-input", "remove_input", "hide-input"}
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output", "remove_output"}
    exporter = HTMLExporter(
        config=config,
        template_name="lab",
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
    )
    exporter.exclude_input = not show_code
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    exporter.theme = "light"
    return exporter


def export_html(
    nb: Any, html_path: str | Path, *, show_code: bool = False, title: str | None = None
) -> list[str]:
    """Write ``nb`` as self-contained HTML (atomically); return warnings, e.g. an external
    resource a notebook output referenced (see :func:`external_references`)."""
    exporter = _exporter(show_code)
    resources = {"metadata": {"name": title or Path(html_path).stem}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    atomic_write_text(Path(html_path), body)
    return [f"the HTML loads {ref} from the network" for ref in external_references(body)]


_EXTERNAL = [
    re.compile(
        r"<(?:script|link|img|iframe|embed|source|video|audio|object)\b[^>]*?"
        r"\b(?:src|href|data)\s*=\s*[\"']?\s*((?:https?:)?//[^\"'\s>]+)",
        re.I,
    ),
    re.compile(r"@import\s+(?:url\()?\s*[\"']?\s*((?:https?:)?//[^\"'\s)]+)", re.I),
    re.compile(r"url\(\s*[\"']?\s*((?:https?:)?//[^\"'\s)]+)", re.I),
]


def external_references(html_text: str) -> list[str]:
    """URLs a page would fetch from the network: ``<script src>``, ``<link href>``, images,
    frames, CSS ``@import``/``url()`` with an ``http(s)://`` or ``//`` address (links the
    reader may click, ``<a href>``, are not fetched and not listed)."""
    found: list[str] = []
    for pattern in _EXTERNAL:
        for m in pattern.finditer(html_text):
            if m.group(1) not in found:
                found.append(m.group(1))
    return found
