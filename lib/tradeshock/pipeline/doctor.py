"""Checks of an installation: kernel, packages, data sources, cache, reports folder.

Each check returns a :class:`Check` (name, ok, detail, fix); :func:`run_checks` runs them all and
never raises, so a broken install is described rather than crashing the command that examines it.
"""

from __future__ import annotations

import importlib
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from tradeshock.paths import PROJECT_ROOT

#: Import names of the runtime dependencies (pyproject.toml lists them as distributions).
IMPORTS: tuple[str, ...] = (
    "numpy", "pandas", "scipy", "matplotlib", "statsmodels", "linearmodels", "arch", "yfinance",
    "pandas_datareader", "exchange_calendars", "pyarrow", "pandera", "ipykernel", "ipywidgets",
    "papermill", "nbconvert", "nbformat", "nbclient", "dask", "distributed", "click", "rich",
    "tqdm", "yaml",
)


@dataclass(frozen=True)
class Check:
    """One finding: ``ok`` True/False, what was seen, and how to fix it when not ok."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    note: bool = False  # ok, but worth saying (e.g. online sources unreachable: offline use)


#: Hosts of the online sources, checked by :func:`check_online` (TCP connect to port 443).
ONLINE_HOSTS: tuple[tuple[str, str], ...] = (
    ("Yahoo Finance", "query1.finance.yahoo.com"),
    ("FRED", "fred.stlouisfed.org"),
)


def check_kernel(name: str = "tradeshock") -> Check:
    """The Jupyter kernel the renderer uses is registered and points at an existing Python."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        try:
            spec = KernelSpecManager().get_kernel_spec(name)
        except NoSuchKernel:
            return Check("kernel", False, f"no Jupyter kernel named {name!r}",
                         "run `make kernel` (or `python -m ipykernel install --sys-prefix --name tradeshock`)")
        exe = spec.argv[0]
        if os.path.isabs(exe) and not os.path.exists(exe):
            return Check("kernel", False, f"kernel {name!r} points at a missing Python {exe}",
                         "re-register it: `make kernel`")
        return Check("kernel", True, f"{name!r} -> {exe}")
    except Exception as exc:  # noqa: BLE001 - a doctor reports, it does not crash
        return Check("kernel", False, f"cannot inspect kernels: {exc}", "reinstall: `make install`")


def check_packages(names: tuple[str, ...] = IMPORTS) -> Check:
    """Every runtime dependency imports."""
    broken = []
    for mod in names:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                importlib.import_module(mod)
        except Exception as exc:  # noqa: BLE001
            broken.append(f"{mod} ({type(exc).__name__}: {exc})")
    if broken:
        return Check("packages", False, "cannot import " + "; ".join(broken),
                     "reinstall the project: `.venv/bin/pip install -e .` (or `make clean install`)")
    return Check("packages", True, f"{len(names)} packages import")


def check_pinned(path: str | Path | None = None) -> Check:
    """The pinned snapshot exists and every file matches its sha256 in ``manifest.json``."""
    from tradeshock.data.snapshot import PinnedSnapshot

    ps = PinnedSnapshot(path)
    try:
        if not ps.exists():
            return Check("pinned snapshot", False, f"no manifest.json in {ps.path}",
                         "restore it: `git checkout data/snapshot`, or `tradeshock data pin SNAPSHOT_DIR`")
        ps.verify(force=True)
        return Check("pinned snapshot", True,
                     f"{len(ps.manifest['files'])} files match their sha256; as of {ps.manifest.get('as_of')}")
    except Exception as exc:  # noqa: BLE001
        return Check("pinned snapshot", False, str(exc).split("\n")[0],
                     "restore it: `git checkout data/snapshot`, or `tradeshock data pin SNAPSHOT_DIR`")


def check_snapshot_folder(snapshot: str | Path | None = None) -> Check:
    """The offline snapshot folder named by ``snapshot`` / ``TRADESHOCK_SNAPSHOT``, if any, is usable:
    its ``universe.csv`` parses and every series file it lists exists (files are not parsed here:
    ``tradeshock data import`` and ``tradeshock refresh --snapshot`` validate every row)."""
    from tradeshock.data.foldercheck import validate_snapshot_folder

    folder = snapshot or os.environ.get("TRADESHOCK_SNAPSHOT")
    if not folder:
        return Check("snapshot folder", True, "none set (TRADESHOCK_SNAPSHOT unset); the pinned snapshot serves")
    fix = ("point TRADESHOCK_SNAPSHOT at a snapshot folder (universe.csv + one CSV per series), "
           "or unset it")
    try:
        report = validate_snapshot_folder(folder, include_unlisted=True, read=False)
    except Exception as exc:  # noqa: BLE001 - not a snapshot folder (no or bad universe.csv)
        return Check("snapshot folder", False, str(exc).split("\n")[0], fix)
    if report.unreadable:
        missing = list(report.unreadable)
        return Check("snapshot folder", False,
                     f"{report.path}: {len(missing)} series file(s) listed in universe.csv are "
                     f"missing ({', '.join(missing[:8])}{' …' if len(missing) > 8 else ''})", fix)
    return Check("snapshot folder", True, f"{report.path}: {len(report.checked)} series files")


def check_online(hosts: tuple[tuple[str, str], ...] = ONLINE_HOSTS, timeout: float = 3.0) -> Check:
    """Whether the online sources (Yahoo, FRED) can be reached: a TCP connection to port 443.

    Unreachable is a note, not a failure: the pinned snapshot (or a snapshot folder) serves the
    reports offline; only ``tradeshock data fetch`` and an online ``tradeshock refresh`` need it.
    """
    import socket

    from tradeshock.data.online import is_offline

    if is_offline():
        return Check("online sources", True, "not checked: TRADESHOCK_OFFLINE is set", note=True)
    up, down = [], []
    for label, host in hosts:
        try:
            with socket.create_connection((host, 443), timeout=timeout):
                up.append(label)
        except OSError as exc:
            down.append(f"{label} ({host}: {exc.strerror or type(exc).__name__})")
    if not down:
        return Check("online sources", True, f"{', '.join(up)} reachable")
    return Check(
        "online sources", True,
        f"unreachable: {'; '.join(down)}. Reports render from the pinned snapshot; online "
        "updates (`tradeshock data fetch`, `tradeshock refresh`) need network access, or use "
        "`tradeshock refresh --snapshot DIR` with a newer snapshot folder",
        note=True,
    )


def check_cache(path: str | Path | None = None) -> Check:
    """Every cache entry passes its schema and checksum (corrupted entries are reported and removed)."""
    from tradeshock.data.cache import CacheCorruptionWarning, PriceCache

    cache = PriceCache(path)
    bad = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CacheCorruptionWarning)
        symbols = cache.symbols()
        for sym in symbols:
            if cache.read(sym) is None:
                bad.append(sym)
    if bad:
        return Check("cache", False,
                     f"{len(bad)} corrupted entr{'y' if len(bad) == 1 else 'ies'} in {cache.path} "
                     f"({', '.join(bad)}), now removed",
                     "nothing more to do: the series reload from the next source on first use")
    del caught
    return Check("cache", True, f"{len(symbols)} entries in {cache.path}, all intact")


def check_reports(path: str | Path | None = None) -> Check:
    """The reports folder exists (or can be created), is writable, and its ``manifest.json`` (if
    any) can be read."""
    p = Path(path) if path else (PROJECT_ROOT or Path.cwd()) / "reports"
    refused = _refused_out_dir(p)
    if refused:
        return Check("reports folder", False, refused,
                     "render into a new or empty folder, or the project's reports/ "
                     "(`tradeshock render --out DIR`, `tradeshock doctor --reports DIR`)")
    try:
        p.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=p, prefix=".doctor-", delete=True):
            pass
    except OSError as exc:
        return Check("reports folder", False, f"{p} is not writable ({exc.strerror or exc})",
                     f"make it writable (`chmod u+w {p}`), free disk space, or render with --out DIR")
    from tradeshock.pipeline.manifestcheck import manifest_problem

    problem = manifest_problem(p)
    if problem:
        return Check("reports folder", False, problem,
                     f"run `tradeshock render --out {p}`: it rebuilds the manifest from the "
                     "reports on disk (and keeps the broken file beside it)")
    leftovers = _leftovers(p)
    if leftovers:
        return Check("reports folder", True,
                     f"{p} is writable; {len(leftovers)} temporary file(s) left by an "
                     f"interrupted run ({', '.join(leftovers[:3])}"
                     f"{' …' if len(leftovers) > 3 else ''}): the next render removes them",
                     note=True)
    return Check("reports folder", True, f"{p} is writable")


def _refused_out_dir(p: Path) -> str | None:
    """Why a render would refuse ``p`` as its output folder (None when it would write there)."""
    from tradeshock.errors import OutputFolderError
    from tradeshock.pipeline.naming import default_out_dir
    from tradeshock.pipeline.outdir import check_out_dir

    try:
        check_out_dir(p, default=default_out_dir() if PROJECT_ROOT is not None else None)
    except OutputFolderError as exc:
        return str(exc)
    return None


def _leftovers(p: Path) -> list[str]:
    """Temporary files and staging folders of crashed writes in ``p``."""
    from tradeshock.core.fileio import is_temp_name
    from tradeshock.pipeline.outputs import TMP_DIR_NAME

    try:
        names = sorted(os.listdir(p))
    except OSError:
        return []
    return [n for n in names if is_temp_name(n) or n == TMP_DIR_NAME]


def run_checks(*, kernel: str = "tradeshock", reports: str | Path | None = None,
               cache: str | Path | None = None, pinned: str | Path | None = None,
               snapshot: str | Path | None = None, online: bool = True) -> list[Check]:
    """All checks, in order: kernel, packages, pinned snapshot, snapshot folder, online sources
    (unless ``online=False``), cache, reports."""
    checks = [check_kernel(kernel), check_packages(), check_pinned(pinned),
              check_snapshot_folder(snapshot)]
    if online:
        checks.append(check_online())
    return checks + [check_cache(cache), check_reports(reports)]
