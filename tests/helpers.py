"""Helpers shared by the render-side tests (imported as ``helpers``: pytest puts tests/ on the path)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest


def kernel_available() -> bool:
    """Whether the Jupyter kernel ``tradeshock`` is registered (``make kernel``)."""
    from jupyter_client.kernelspec import KernelSpecManager

    return "tradeshock" in KernelSpecManager().find_kernel_specs()


needs_kernel = pytest.mark.skipif(
    not kernel_available(), reason="Jupyter kernel 'tradeshock' not registered (make kernel)"
)


def tiny_notebook(path: Path, params: str, body: str) -> Path:
    """A notebook with a tagged parameters cell and one code cell, written to *path*."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(
        cells=[
            new_markdown_cell(f"# {path.stem}"),
            new_code_cell(params, metadata={"tags": ["parameters"]}),
            new_code_cell(body),
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "tradeshock",
        "display_name": "tradeshock",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path
