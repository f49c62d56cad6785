"""Scheduled refresh: bring in new market data, then re-render the reports it changes.

:func:`refresh` (and ``tradeshock refresh``) does, holding ``OUT/.tradeshock-refresh.lock`` for
the whole run (a second, overlapping refresh exits naming the holder; a lock left by a crashed
run is detected, cleared and reported):

1. **New data.** Online (the default unless ``TRADESHOCK_OFFLINE`` is set): every universe series
   is updated in the cache from its online source (:func:`update_series`). Offline
   (``snapshot=`` / ``--snapshot``, or ``TRADESHOCK_SNAPSHOT`` when offline): the snapshot folder
   is validated as ``tradeshock data import`` validates it
   (:func:`~tradeshock.data.foldercheck.validate_snapshot_folder`: strict CSV parsing, then
   :func:`~tradeshock.data.validate.validate_prices`; errors stop the refresh before anything is
   rendered) and the render runs with ``TRADESHOCK_SNAPSHOT`` set to it.
2. **Compare** the last date of every series, as ``load_prices`` would serve it
   (:func:`data_state`), with the data the reports were last rendered from
   (``OUT/.tradeshock-refresh.json``, written by the previous refresh).
3. **Render** with :func:`tradeshock.pipeline.render.render_notebooks`. Its input fingerprint
   covers the cache by content (:func:`~tradeshock.pipeline.fingerprint.data_fingerprint`);
   refresh also keeps, per report, a digest of the data state it
   was rendered from (:func:`data_digest`) and forces exactly the reports whose digest is out of
   date. Everything else is left to the render's own fingerprints.

Nothing here invents or fills prices: a series that fails to download keeps what it had, and
the refresh fails (reports untouched) only when every series failed (after
:data:`GIVE_UP_AFTER` failures in a row with no success, the rest are not tried).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.core.envvars import temporary_environ
from tradeshock.core.fileio import atomic_write_text
from tradeshock.core.fileset import describe_os_error
from tradeshock.core.timefmt import iso_date
from tradeshock.data.cache import PriceCache, standardize
from tradeshock.data.foldercheck import FolderReport, validate_snapshot_folder
from tradeshock.data.online import fetch_online, is_offline
from tradeshock.data.snapshot import DEFAULT_SINCE, resolve_snapshot_dir
from tradeshock.data.status import series_status
from tradeshock.data.universe import load_universe, lookup
from tradeshock.data.validate import validate_prices
from tradeshock.errors import DataError, PartialDataWarning, RenderError
from tradeshock.pipeline import reportindex
from tradeshock.paths import PROJECT_ROOT
from tradeshock.pipeline.lock import RenderLock
from tradeshock.pipeline.outdir import check_out_dir
from tradeshock.pipeline.naming import default_out_dir, output_name, resolve_notebooks
from tradeshock.pipeline.outputs import OK, UP_TO_DATE
from tradeshock.pipeline.render import render_notebooks

__all__ = [
    "LOCK_NAME",
    "STATE_NAME",
    "LOOKBACK_DAYS",
    "GIVE_UP_AFTER",
    "SeriesFetch",
    "SeriesChange",
    "RefreshResult",
    "refresh",
    "update_series",
    "update_cache",
    "online_symbols",
    "same_vintage",
    "data_state",
    "data_digest",
    "load_state",
]

#: The refresh's own lock in the output folder (the render takes ``.tradeshock-render.lock``).
LOCK_NAME = ".tradeshock-refresh.lock"
#: What the reports in the output folder were rendered from (hidden: not a report).
STATE_NAME = ".tradeshock-refresh.json"
STATE_FORMAT = "tradeshock-refresh/1"
#: Days before the cached last date that an update downloads again, to check the vintage.
LOOKBACK_DAYS = 7
#: Failed downloads in a row, with none successful yet, after which the rest are not tried.
GIVE_UP_AFTER = 5
NOT_TRIED = "not tried"
_RTOL = 1e-6


# ============================================================================================
# Results


@dataclass(frozen=True)
class SeriesFetch:
    """The online update of one series."""

    symbol: str
    #: ``extended`` (rows added), ``same`` (nothing new), ``new`` (first download),
    #: ``refetched`` (earlier values changed upstream: the whole range was downloaded again)
    #: or ``failed`` (the cache was left as it was).
    status: str
    last_before: pd.Timestamp | None = None
    last_after: pd.Timestamp | None = None
    rows_added: int = 0
    error: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass(frozen=True)
class SeriesChange:
    """A series' last date as the reports used it (``before``) and as it is now (``after``)."""

    symbol: str
    before: str | None
    after: str | None
    source: str

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def older(self) -> bool:
        return bool(self.before and self.after and self.after < self.before)


@dataclass
class RefreshResult:
    """The outcome of :func:`refresh`."""

    mode: str  # "online" or "snapshot"
    out_dir: Path
    series: list[SeriesChange]
    snapshot: Path | None = None
    fetches: list[SeriesFetch] = field(default_factory=list)
    summary: Any = None  # tradeshock.pipeline.render.RenderSummary, None with render=False
    forced: list[str] = field(default_factory=list)
    reports_before: dict[str, str | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    cleared_stale_lock: dict[str, Any] | None = None
    first_refresh: bool = False

    @property
    def changed(self) -> list[SeriesChange]:
        return [s for s in self.series if s.changed]

    @property
    def failed_fetches(self) -> list[SeriesFetch]:
        return [f for f in self.fetches if not f.ok]

    @property
    def as_of(self) -> str | None:
        """The latest date of any series now."""
        return max((s.after for s in self.series if s.after), default=None)

    @property
    def reports_as_of(self) -> str | None:
        """The latest data as-of date the reports state (else the data's)."""
        dates = [r.as_of for r in (self.summary.records if self.summary else []) if r.as_of]
        return max(dates, default=None) or self.as_of

    @property
    def executed(self) -> list[Any]:
        return list(self.summary.executed) if self.summary else []

    @property
    def exit_code(self) -> int:
        """0 all good (or nothing new), 1 a notebook failed."""
        return 1 if self.summary is not None and self.summary.failed else 0


# ============================================================================================
# Data state: what load_prices would serve, per series


def data_state(
    snapshot: str | Path | None = None,
    cache_dir: str | Path | None = None,
    universe: pd.DataFrame | None = None,
) -> dict[str, dict[str, Any]]:
    """Per universe series, what ``load_prices(source="auto")`` serves offline now: ``last``
    (ISO date or None), ``source``, ``rows`` and, for cached series, the cache file's sha256.

    ``snapshot`` defaults to ``$TRADESHOCK_SNAPSHOT`` (read now), like :func:`load_prices`.
    """
    uni = load_universe() if universe is None else universe
    st = series_status(None, snapshot=snapshot, cache_dir=cache_dir, universe=uni,
                       missing_sessions=False)
    known = set(uni["symbol"])
    cache = PriceCache(cache_dir)
    out: dict[str, dict[str, Any]] = {}
    for r in st.itertuples():
        if r.symbol not in known:
            continue
        rec: dict[str, Any] = {"last": iso_date(r.last), "source": r.source, "rows": int(r.rows)}
        if r.source == "cache":
            rec["sha256"] = (cache.info(r.symbol) or {}).get("sha256")
        out[r.symbol] = rec
    return out


def data_digest(state: Mapping[str, Mapping[str, Any]]) -> str:
    """sha256 of a :func:`data_state` (changes when any series gains rows, changes source or
    its cached content changes)."""
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


# ============================================================================================
# Online: update the cache


def same_vintage(cached: pd.DataFrame, fresh: pd.DataFrame, rtol: float = _RTOL) -> bool:
    """True when *fresh* agrees with *cached* on every date both hold (close and adj_close, where
    both have a value), so fresh rows can be appended without splicing two adjustment vintages.

    False when they share no date, or a value differs: a dividend or split re-adjusted the
    history, a source revised it, or the cached last bar was taken intraday.
    """
    both = cached.merge(fresh, on="date", suffixes=("_c", "_f"))
    if both.empty:
        return False
    for col in ("close", "adj_close"):
        c, f = both[f"{col}_c"].to_numpy(float), both[f"{col}_f"].to_numpy(float)
        m = ~np.isnan(c) & ~np.isnan(f)
        if (np.isnan(c) != np.isnan(f)).any() or not np.allclose(c[m], f[m], rtol=rtol, atol=0):
            return False
    return True


def _download(symbol: str, start: pd.Timestamp | None, end: pd.Timestamp | None,
              universe: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """One online download (not cached); the partial-download warning, if any, as a note."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = fetch_online(symbol, start, end, universe=universe, write_cache=False)
    note = None
    for w in caught:
        if issubclass(w.category, PartialDataWarning):
            note = str(w.message).split(". They are not filled")[0]
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return standardize(df).sort_values("date").reset_index(drop=True), note


def update_series(
    symbol: str,
    *,
    end: Any = None,
    cache_dir: str | Path | None = None,
    universe: pd.DataFrame | None = None,
    lookback_days: int = LOOKBACK_DAYS,
    since: str | None = None,
) -> SeriesFetch:
    """Bring one series' cache entry up to *end* (default: latest) from its online source.

    With a cache entry, only ``last - lookback_days .. end`` is downloaded; when those rows agree
    with the cache (:func:`same_vintage`) the newer rows are appended, else the entry's whole
    range is downloaded again (the cache never splices vintages). Without one, the series is
    downloaded from *since* (default: the pinned snapshot's start, 2023-10-01). The result is
    validated (:func:`~tradeshock.data.validate.validate_prices`) from *since* on before it is
    written; any failure leaves the cache as it was and is returned, not raised.
    """
    uni = load_universe() if universe is None else universe
    row = lookup([symbol], uni).iloc[0]
    since_ts = pd.Timestamp(since or DEFAULT_SINCE)
    end_ts = None if end is None else pd.Timestamp(end).normalize()
    cache = PriceCache(cache_dir)
    entry = cache.read(symbol)
    old = None if entry is None or entry.prices.empty else entry.prices
    last_before = None if old is None else pd.Timestamp(old["date"].max())
    try:
        if old is None:
            covered = since_ts
            df, note = _download(symbol, covered, end_ts, uni)
            status = "new"
        else:
            covered = entry.covered_start
            tail, note = _download(symbol, last_before - pd.Timedelta(days=lookback_days), end_ts,
                                   uni)
            if same_vintage(old, tail):
                newer = tail[tail["date"] > last_before]
                df = pd.concat([old, newer], ignore_index=True) if len(newer) else old
                status = "extended" if len(newer) else "same"
            else:
                df, note = _download(symbol, covered, end_ts, uni)
                status = "refetched"
    except DataError as exc:
        return SeriesFetch(symbol, "failed", last_before, last_before, error=str(exc))
    checked = df[df["date"] >= since_ts].assign(symbol=symbol)
    problems = (validate_prices(checked, universe=uni, on_problem="report") if len(checked)
                else pd.DataFrame(columns=["severity"]))
    errors = problems[problems["severity"] == "error"]
    if len(errors):
        shown = "; ".join(f"{r.date:%Y-%m-%d} {r.problem} ({r.detail})"
                          for r in errors.head(3).itertuples())
        return SeriesFetch(symbol, "failed", last_before, last_before, error=(
            f"the downloaded data fail validation ({len(errors)} error(s): {shown}); the cache "
            f"entry was left as it was. Retry later (`tradeshock refresh`)."))
    last_after = pd.Timestamp(df["date"].max())
    added = int((df["date"] > last_before).sum()) if last_before is not None else len(df)
    if status == "same":
        return SeriesFetch(symbol, status, last_before, last_after, 0, note=note)
    try:
        cache.write(
            symbol, df, origin=row["online_source"], covered_start=covered,
            covered_end=(last_after if note or end_ts is None else end_ts), partial=bool(note),
            online_symbol=row["online_symbol"], refresh=status,
            fetched=pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    except OSError as exc:
        return SeriesFetch(symbol, "failed", last_before, last_before, error=(
            f"could not write the cache entry in {cache.path}: {describe_os_error(exc)}; the "
            "entry was left as it was. Free space or make the cache writable (or set "
            "TRADESHOCK_CACHE to another folder), then retry."))
    return SeriesFetch(symbol, status, last_before, last_after, added, note=note)


def online_symbols(universe: pd.DataFrame | None = None) -> list[str]:
    """The universe series that have an online source (``online_source`` yahoo or fred)."""
    uni = load_universe() if universe is None else universe
    has = uni["online_source"].isin(["yahoo", "fred"]) & (uni["online_symbol"].str.strip() != "")
    return list(uni.loc[has, "symbol"])


def update_cache(
    symbols: Sequence[str] | None = None,
    *,
    end: Any = None,
    cache_dir: str | Path | None = None,
    universe: pd.DataFrame | None = None,
    lookback_days: int = LOOKBACK_DAYS,
    give_up_after: int | None = GIVE_UP_AFTER,
    on_fetch: Callable[[SeriesFetch], None] | None = None,
) -> list[SeriesFetch]:
    """:func:`update_series` for *symbols* (default: every series with an online source).

    When the first *give_up_after* downloads all fail (the network is down, the source blocks
    us), the remaining series are not tried, so an unattended run fails in seconds rather than
    after every series' retries; they are returned as failed, with ``error`` saying so.
    """
    uni = load_universe() if universe is None else universe
    out: list[SeriesFetch] = []
    for sym in list(symbols) if symbols is not None else online_symbols(uni):
        if give_up_after and len(out) >= give_up_after and not any(f.ok for f in out):
            res = SeriesFetch(sym, "failed", error=(
                f"{NOT_TRIED}: the first {give_up_after} downloads all failed"))
        else:
            res = update_series(sym, end=end, cache_dir=cache_dir, universe=uni,
                                lookback_days=lookback_days)
        out.append(res)
        if on_fetch:
            on_fetch(res)
    return out


# ============================================================================================
# State kept in the output folder


def load_state(out_dir: str | Path) -> dict[str, Any]:
    """``OUT/.tradeshock-refresh.json``, or ``{}`` when absent or unreadable."""
    path = Path(out_dir) / STATE_NAME
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) and state.get("format") == STATE_FORMAT else {}


def _save_state(out_dir: Path, state: Mapping[str, Any]) -> None:
    """Write the refresh state; a disk that refuses it is a :class:`RenderError` saying that the
    reports are in place but the next refresh will render them again."""
    try:
        atomic_write_text(out_dir / STATE_NAME,
                          json.dumps(state, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        raise RenderError(
            f"could not record the refresh in {out_dir / STATE_NAME}: {describe_os_error(exc)}. "
            "The data and the reports rendered by this refresh are in place, but the next "
            "refresh does not know what they were rendered from and renders them again. Fix: "
            f"free space on that disk or make {out_dir} writable."
        ) from None


# ============================================================================================
# The refresh


def refresh(
    notebooks: Sequence[str] = (),
    out_dir: str | Path | None = None,
    *,
    snapshot: str | Path | None = None,
    jobs: int = 1,
    force: bool = False,
    render: bool = True,
    online: bool | None = None,
    today: Any = None,
    notebooks_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    lookback_days: int = LOOKBACK_DAYS,
    timeout: float = 600,
    kernel: str = "tradeshock",
    on_fetch: Callable[[SeriesFetch], None] | None = None,
    on_record: Callable[[Any], None] | None = None,
) -> RefreshResult:
    """Fetch new data, then render the reports it changes; see the module docstring.

    ``notebooks``: names as for ``tradeshock render`` (none: every notebook). ``snapshot``: a
    snapshot folder to refresh from offline; without it, ``online`` (default: unless
    ``TRADESHOCK_OFFLINE``) fetches into the cache up to ``today`` (default: the current UTC
    date), else ``$TRADESHOCK_SNAPSHOT`` is the folder. ``render=False`` updates the data only.

    Raises :class:`DataError` when there is no new data to refresh from (offline without a
    snapshot folder, a snapshot folder that fails validation, every download failed) and
    :class:`~tradeshock.errors.RenderError` when another refresh holds the lock; in each case
    the reports are left as they were.
    """

    out = Path(out_dir) if out_dir is not None else default_out_dir()
    paths = resolve_notebooks(list(notebooks), notebooks_dir) if render else []
    if snapshot is not None or online is False or (online is None and is_offline()):
        mode = "snapshot"
    else:
        mode = "online"
    if today is None:
        today = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()

    # before the lock file is made (also with render=False, which still writes the lock):
    # never write into a folder that is not ours
    check_out_dir(out, default=default_out_dir() if PROJECT_ROOT is not None else None)
    lock = RenderLock(out, name=LOCK_NAME, purpose="refresh")
    with lock:
        uni = load_universe()
        state = load_state(out)
        before = data_state(cache_dir=cache_dir, universe=uni)
        result = RefreshResult(mode=mode, out_dir=out, series=[],
                               cleared_stale_lock=lock.cleared_stale, first_refresh=not state)
        env = {"TRADESHOCK_CACHE": None if cache_dir is None else str(Path(cache_dir).resolve()),
               "TRADESHOCK_SNAPSHOT": None}
        if mode == "snapshot":
            after = _from_snapshot(result, snapshot, cache_dir, uni)
            if snapshot is not None:  # absolute: the kernel may run in another folder
                env["TRADESHOCK_SNAPSHOT"] = str(Path(result.snapshot).resolve())
        else:
            after = _from_online(result, today, cache_dir, uni, lookback_days, on_fetch)
        used = {s: {"last": v} for s, v in (state.get("series") or {}).items()} or before
        result.series = [
            SeriesChange(s, (used.get(s) or {}).get("last"), rec["last"], rec["source"])
            for s, rec in after.items()
        ]
        if not render:
            return result
        digest = data_digest(after)
        previous = reportindex.load_manifest(out).get("reports", {})
        names = [output_name(p.stem) for p in paths]
        result.reports_before = {n: (previous.get(n) or {}).get("as_of") for n in names}
        done = state.get("reports") or {}
        result.forced = sorted(n for n in names if (done.get(n) or {}).get("data") != digest)
        # None leaves a variable as it is
        with temporary_environ({k: v for k, v in env.items() if v is not None}):
            result.summary = _render(paths, out, set(result.forced), force, jobs=jobs,
                                     timeout=timeout, kernel=kernel, on_record=on_record)
            post = data_state(cache_dir=cache_dir, universe=uni)
        _record_state(out, state, result, post, digest)
        return result


def _from_snapshot(result: RefreshResult, snapshot: str | Path | None,
                   cache_dir: str | Path | None, uni: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Validate the snapshot folder (its universe series since :data:`DEFAULT_SINCE`); the data
    state with it."""
    snap_dir = resolve_snapshot_dir(snapshot)
    if snap_dir is None:
        raise DataError(
            "no new data to refresh from: offline (TRADESHOCK_OFFLINE is set) and no snapshot "
            "folder given. Pass --snapshot DIR (a newer snapshot folder), set "
            "TRADESHOCK_SNAPSHOT, or unset TRADESHOCK_OFFLINE to fetch online. The reports in "
            f"{result.out_dir} were not touched."
        )
    check = validate_snapshot_folder(snap_dir, since=DEFAULT_SINCE, universe=uni)
    check.raise_for_errors("nothing was rendered and the reports were not touched",
                           "Fix those rows, or point --snapshot at another folder.")
    if not check.series:
        raise DataError(
            f"snapshot folder {check.path} holds none of the series of data/universe.csv with "
            f"data since {DEFAULT_SINCE}; point --snapshot (or TRADESHOCK_SNAPSHOT) at a "
            "folder in the format of ../shared/data/market"
        )
    result.snapshot = check.path
    after = data_state(snapshot=snap_dir, cache_dir=cache_dir, universe=uni)
    if check.warning_counts():
        result.notes.append("validation warnings (kept, as `tradeshock data import` keeps "
                            "them): " + "; ".join(check.warning_counts()))
    result.notes += _shadowed(after, check)
    return after


def _from_online(result: RefreshResult, today: Any, cache_dir: str | Path | None,
                 uni: pd.DataFrame, lookback_days: int,
                 on_fetch: Callable[[SeriesFetch], None] | None) -> dict[str, dict[str, Any]]:
    """Update the cache online; the data state after it. Raises when every series failed."""
    fetches = update_cache(online_symbols(uni), end=today, cache_dir=cache_dir, universe=uni,
                           lookback_days=lookback_days, on_fetch=on_fetch)
    result.fetches = fetches
    failed = [f for f in fetches if not f.ok]
    if fetches and len(failed) == len(fetches):
        tried = sum(1 for f in failed if not (f.error or "").startswith(NOT_TRIED))
        rest = f"; after the first {tried} the rest were not tried" if tried < len(failed) else ""
        raise DataError(
            f"all {len(fetches)} series failed to download (first: {failed[0].symbol}: "
            f"{failed[0].error}{rest}). Check the network access to Yahoo/FRED, or refresh "
            "offline from a snapshot folder (`tradeshock refresh --snapshot DIR`). Nothing was "
            f"rendered; the reports in {result.out_dir} were not touched."
        )
    return data_state(cache_dir=cache_dir, universe=uni)


def _shadowed(after: Mapping[str, Mapping[str, Any]], check: FolderReport) -> list[str]:
    """Series the cache serves although the snapshot folder has newer rows."""
    hidden = [
        f"{s} (cache {rec['last']}, snapshot {check.last[s]:%Y-%m-%d})"
        for s, rec in after.items()
        if rec["source"] == "cache" and s in check.last and rec["last"]
        and check.last[s] > pd.Timestamp(rec["last"])
    ]
    if not hidden:
        return []
    return [
        f"{len(hidden)} series are served from the cache, which load_prices tries before the "
        f"snapshot folder, though the snapshot has newer rows: {', '.join(hidden[:8])}"
        + (" …" if len(hidden) > 8 else "")
        + f". To use the snapshot's, load it into the cache: `tradeshock data import "
        f"{check.path}`."
    ]


def _render(paths: list[Path], out: Path, forced: set[str], force: bool, **kw: Any) -> Any:
    """render_notebooks, re-executing the reports in *forced* (their data moved) or all."""
    return render_notebooks(paths, out, force=True if force else set(forced), **kw)


def _record_state(out: Path, state: dict[str, Any], result: RefreshResult,
                  post: Mapping[str, Mapping[str, Any]], digest: str) -> None:
    """Remember what each report was rendered from (failed reports keep their old entry)."""
    post_digest = data_digest(post)
    reports = dict(state.get("reports") or {})
    for rec in result.summary.records:
        if rec.status == OK:
            reports[rec.name] = {"data": post_digest, "as_of": rec.as_of}
        elif rec.status == UP_TO_DATE:
            reports[rec.name] = {"data": digest, "as_of": rec.as_of}
    _save_state(out, {
        "format": STATE_FORMAT,
        "mode": result.mode,
        "snapshot": str(result.snapshot) if result.snapshot else None,
        "refreshed_at": pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        "series": {s: rec["last"] for s, rec in post.items()},
        "reports": reports,
    })
