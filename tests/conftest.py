"""Shared test fixtures.

Every test gets its own empty price cache (``TRADESHOCK_CACHE`` in a tmp dir), so no test reads
or writes the real ``data/cache``. Tests that need the offline snapshot of ``../shared`` find it
through ``TRADESHOCK_SNAPSHOT`` or ``<repo>/../shared/data/market`` and are skipped otherwise.

Files kept for people to look at (browser screenshots) go to ``$TRADESHOCK_ARTIFACTS``, default
``test-artifacts/browser/``, through the ``artifacts`` fixture; their paths are listed at the end
of the run. ``--update-readme-shots`` makes tests/test_browser.py rewrite docs/img/*.png.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "market"
MINI_SNAPSHOT = FIXTURES / "mini_snapshot"
MALFORMED = FIXTURES / "malformed"
PINNED = ROOT / "data" / "snapshot"

#: Published S&P 500 closes, 2-9 April 2025 (issue 3).
SP500_CLOSES = {
    "2025-04-02": 5670.97, "2025-04-03": 5396.52, "2025-04-04": 5074.08,
    "2025-04-07": 5062.25, "2025-04-08": 4982.77, "2025-04-09": 5456.90,
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-readme-shots",
        action="store_true",
        help="tests/test_browser.py renders every notebook and rewrites the README screenshots "
        "docs/img/index.png and docs/img/report-figure.png",
    )


class Artifacts:
    """A folder for files a test keeps (screenshots); :meth:`add` lists a file for the summary."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.files: list[Path] = []

    def path(self, name: str) -> Path:
        """Where to write the artifact ``name`` (the folder is created on demand)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / name

    def add(self, path: Path) -> Path:
        self.files.append(path)
        print(f"artifact: {path}")
        return path


_ARTIFACTS = pytest.StashKey[Artifacts]()


@pytest.fixture(scope="session")
def artifacts(request: pytest.FixtureRequest) -> Artifacts:
    """The artifacts folder: $TRADESHOCK_ARTIFACTS, else <repo>/test-artifacts/browser."""
    env = os.environ.get("TRADESHOCK_ARTIFACTS", "").strip()
    folder = Path(env) if env else ROOT / "test-artifacts" / "browser"
    return request.config.stash.setdefault(_ARTIFACTS, Artifacts(folder.resolve()))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    kept = config.stash.get(_ARTIFACTS, None)
    if kept is not None and kept.files:
        terminalreporter.write_sep("-", f"test artifacts in {kept.folder}")
        for path in kept.files:
            terminalreporter.write_line(str(path))


def shared_snapshot_dir() -> Path | None:
    """The shared offline snapshot: $TRADESHOCK_SNAPSHOT, else <repo>/../shared/data/market."""
    env = os.environ.get("TRADESHOCK_SNAPSHOT", "").strip()
    for cand in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "data" / "market"]:
        if (cand / "universe.csv").is_file():
            return cand
    return None


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never touch the real data/cache: each test has its own empty cache folder."""
    monkeypatch.setenv("TRADESHOCK_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def shared_snapshot() -> Path:
    path = shared_snapshot_dir()
    if path is None:
        pytest.skip("the shared offline snapshot is absent: set TRADESHOCK_SNAPSHOT or put "
                    "../shared/data/market beside the repository")
    return path


@pytest.fixture
def no_snapshot_env(monkeypatch):
    """No snapshot folder from the environment."""
    monkeypatch.delenv("TRADESHOCK_SNAPSHOT", raising=False)
    monkeypatch.delenv("TRADESHOCK_PINNED_DIR", raising=False)
    monkeypatch.delenv("TRADESHOCK_OFFLINE", raising=False)


class NetworkDown(ConnectionError):
    pass


@pytest.fixture
def network_down(monkeypatch):
    """yfinance and FRED (pandas-datareader) raise a network error; retries do not sleep.

    Returns a dict counting the calls made to each.
    """
    import pandas_datareader.fred
    import yfinance

    from tradeshock.data import online

    calls = {"yahoo": 0, "fred": 0}

    def download(*args, **kwargs):
        calls["yahoo"] += 1
        raise NetworkDown("Failed to establish a new connection: [Errno -3] name resolution")

    class FredReader:
        def __init__(self, *args, **kwargs):
            calls["fred"] += 1

        def read(self):
            raise NetworkDown("Failed to establish a new connection (fred.stlouisfed.org)")

        def close(self):
            pass

    monkeypatch.setattr(yfinance, "download", download)
    monkeypatch.setattr(pandas_datareader.fred, "FredReader", FredReader)
    monkeypatch.setattr(online, "ONLINE", online.OnlineSettings(timeout=1, attempts=2, backoff=0))
    return calls


@pytest.fixture
def mini_copy(tmp_path) -> Path:
    """A writable copy of the hand-made mini snapshot folder."""
    return Path(shutil.copytree(MINI_SNAPSHOT, tmp_path / "mini"))


@pytest.fixture
def pinned_copy(tmp_path) -> Path:
    """A writable copy of the committed pinned snapshot."""
    if not (PINNED / "manifest.json").is_file():
        pytest.fail("data/snapshot has no manifest.json: run `tradeshock data pin` (issue 11)")
    return Path(shutil.copytree(PINNED, tmp_path / "pinned"))
