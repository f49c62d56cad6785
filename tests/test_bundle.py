"""tradeshock render --bundle: one zip with the index and every report it links, for e-mail."""

from __future__ import annotations

import errno
import re
import zipfile
from pathlib import Path

import pytest
from tradeshock.pipeline import bundle as B
from tradeshock.pipeline import render as R
from tradeshock.pipeline.lock import RenderLock
from tradeshock.errors import RenderError
from helpers import kernel_available as _kernel_available

HERE = Path(__file__).resolve().parent
GOOD, FAILS = (HERE / "notebooks" / f"{n}.ipynb" for n in ("good", "fails"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    if not _kernel_available():
        pytest.skip("Jupyter kernel 'tradeshock' not registered (make kernel)")
    out = tmp_path_factory.mktemp("reports")
    R.render_notebooks([GOOD, FAILS], out, jobs=2, timeout=60)
    return out


def test_bundle_holds_the_index_and_every_page_it_links(rendered, tmp_path):
    b = B.write_bundle(rendered, tmp_path / "mail.zip")
    with zipfile.ZipFile(b.path) as zf:
        names = zf.namelist()
        assert zf.testzip() is None
        index = zf.read("index.html").decode()
        assert "open index.html" in zf.read("README.txt").decode()
    assert names[:2] == ["index.html", "manifest.json"] and names[-1] == "README.txt"
    assert {"good.html", "good.ipynb", "fails.failed.html", "fails.failed.ipynb"} <= set(names)
    links = {h for h in re.findall(r'href="([^"#?]+)"', index) if "://" not in h}
    assert links and links <= set(names), links - set(names)
    assert b.members == tuple(names) and b.bytes == b.path.stat().st_size
    for name in names:  # each page is the one in the folder, byte for byte
        if name != "README.txt":
            with zipfile.ZipFile(b.path) as zf:
                assert zf.read(name) == (rendered / name).read_bytes(), name


def test_bundle_default_place_and_same_bytes_twice(rendered):
    first = B.write_bundle(rendered)
    assert first.path == rendered / B.BUNDLE_NAME
    again = B.write_bundle(rendered)
    assert again.path.read_bytes() == first.path.read_bytes()
    assert B.BUNDLE_NAME not in again.members  # never packs itself


def test_nothing_rendered_is_a_clear_error(tmp_path):
    with pytest.raises(RenderError) as err:
        B.write_bundle(tmp_path)
    msg = str(err.value)
    assert f"no rendered reports to bundle in {tmp_path}" in msg
    assert "run `tradeshock render` first" in msg
    assert list(tmp_path.iterdir()) == [] or all(p.name.startswith(".") for p in tmp_path.iterdir())


def test_a_render_in_progress_blocks_the_bundle(rendered, tmp_path):
    with RenderLock(rendered):
        with pytest.raises(RenderError, match="already"):
            B.write_bundle(rendered, tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_disk_full_leaves_the_previous_bundle_and_no_partial(rendered, tmp_path, monkeypatch):
    dest = tmp_path / "mail.zip"
    good = B.write_bundle(rendered, dest).path.read_bytes()
    real = zipfile.ZipFile.writestr

    def full(self, info, data, *a, **k):
        if getattr(info, "filename", info) == "manifest.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, info, data, *a, **k)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full)
    with pytest.raises(RenderError) as err:
        B.write_bundle(rendered, dest)
    assert f"could not write the bundle {dest}: No space left on device" in str(err.value)
    assert dest.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["mail.zip"]


def test_cli_render_bundle(rendered, tmp_path):
    """`tradeshock render --bundle` zips after rendering (here: nothing to re-run) and says
    where; a failed notebook in the batch still gets bundled and the exit status stays 1."""
    from click.testing import CliRunner
    from tradeshock.cli import main

    runner = CliRunner()
    res = runner.invoke(main, ["render", str(GOOD), "--out", str(rendered), "--bundle"])
    assert res.exit_code == 0, res.output
    assert f"bundle: {rendered / B.BUNDLE_NAME}:" in res.output
    dest = tmp_path / "out" / "mail.zip"
    res = runner.invoke(main, ["render", str(GOOD), str(FAILS), "--out", str(rendered),
                               "--bundle-to", str(dest)])
    assert res.exit_code == 1
    with zipfile.ZipFile(dest) as zf:
        assert {"index.html", "good.html", "fails.failed.html"} <= set(zf.namelist())
