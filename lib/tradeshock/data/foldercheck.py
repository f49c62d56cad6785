"""Validating an offline snapshot folder as a whole: :func:`validate_snapshot_folder`.

The one check behind every command that takes in a snapshot folder (``tradeshock data import``,
``tradeshock data pin``, the offline ``tradeshock refresh --snapshot DIR`` and
``tradeshock doctor``):

1. the folder's ``universe.csv`` parses and lists the series (else :class:`DataError` /
   :class:`SnapshotFormatError` at once: it is not a snapshot folder);
2. every series file it lists for the requested series exists and parses strictly
   (:func:`~tradeshock.data.snapshot.read_price_csv`: errors name file and line);
3. the series, from *since* on, pass :func:`~tradeshock.data.validate.validate_prices` against
   their exchange calendars.

Problems of steps 2 and 3 are collected in a :class:`FolderReport`, not raised: each caller decides
what stops it (:meth:`FolderReport.raise_for_errors`) and words what it did not do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tradeshock.data.snapshot import SnapshotFolder
from tradeshock.data.universe import load_universe
from tradeshock.data.validate import PROBLEM_COLUMNS, format_problems, validate_prices
from tradeshock.errors import DataError

__all__ = ["FolderReport", "validate_snapshot_folder"]


@dataclass
class FolderReport:
    """What :func:`validate_snapshot_folder` found in one snapshot folder."""

    folder: SnapshotFolder
    #: Rows before this date were not read into :attr:`series` (None: all rows).
    since: pd.Timestamp | None
    #: The universe the series were validated against (with the folder's own rows for its
    #: series not in ``data/universe.csv`` when those were included).
    universe: pd.DataFrame
    #: The series checked, in order.
    checked: list[str] = field(default_factory=list)
    #: Series of the folder that are not in ``data/universe.csv`` (checked only when included).
    unlisted: list[str] = field(default_factory=list)
    #: Series asked for that the folder's ``universe.csv`` does not list.
    absent: list[str] = field(default_factory=list)
    #: Series whose file is missing or malformed: symbol -> the error (names file and line).
    unreadable: dict[str, DataError] = field(default_factory=dict)
    #: The prices read (:data:`~tradeshock.data.cache.PRICE_COLUMNS`), rows from :attr:`since` on.
    series: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: First date and number of rows of each series' whole file (before the :attr:`since` cut).
    spans: dict[str, tuple[pd.Timestamp, int]] = field(default_factory=dict)
    #: Series read whose file has no row from :attr:`since` on.
    empty: list[str] = field(default_factory=list)
    #: :func:`validate_prices` problems of :attr:`series` (errors and warnings).
    problems: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(PROBLEM_COLUMNS)))

    @property
    def path(self) -> Path:
        return self.folder.path

    @property
    def errors(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == "error"]

    @property
    def warnings(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] != "error"]

    @property
    def ok(self) -> bool:
        """No unreadable file and no validation error (warnings are facts of real data)."""
        return not self.unreadable and not len(self.errors)

    @property
    def last(self) -> dict[str, pd.Timestamp]:
        """The last date of each series read."""
        return {s: pd.Timestamp(df["date"].max()) for s, df in self.series.items()}

    def warning_counts(self) -> list[str]:
        """The warnings counted per problem: ``["missing_session: 26 in 4 series", …]``."""
        warn = self.warnings
        if not len(warn):
            return []
        counts = warn.groupby("problem")["symbol"].agg(["size", "nunique"])
        return [f"{k}: {r['size']} in {r['nunique']} series" for k, r in counts.iterrows()]

    def raise_for_errors(self, consequence: str, fix: str = "") -> None:
        """Raise for an unreadable file (its own error, naming file and line) or validation
        errors (a :class:`DataError` listing them, saying *consequence*, e.g. "nothing was
        written", and *fix*); return when there is none."""
        if len(self.unreadable) == 1:
            raise next(iter(self.unreadable.values()))
        if self.unreadable:
            raise DataError(
                f"{len(self.unreadable)} series files of snapshot folder {self.path} cannot be "
                f"read; {consequence}:\n" + "\n".join(str(e) for e in self.unreadable.values())
            )
        errors = self.errors
        if len(errors):
            raise DataError(
                f"the series of snapshot folder {self.path} fail validation ({len(errors)} "
                f"error(s)); {consequence}:\n{format_problems(errors, 15)}"
                + (f"\n{fix}" if fix else "")
            )


def validate_snapshot_folder(
    path: str | Path,
    symbols=None,
    *,
    since=None,
    universe: pd.DataFrame | None = None,
    include_unlisted: bool = False,
    read: bool = True,
) -> FolderReport:
    """Check the snapshot folder *path*; see the module docstring.

    *symbols*: the series to check (default: every series the folder lists, sorted). Series not
    in *universe* (default ``data/universe.csv``) are skipped and listed in ``unlisted``, unless
    *include_unlisted*: then they are validated with the folder's own metadata (units, calendar).
    *since*: read and validate rows from this date on (default: all). ``read=False`` only checks
    that ``universe.csv`` parses and every listed file exists (fast: nothing is parsed).

    Raises only when *path* is not a snapshot folder; every other problem is in the report.
    """
    folder = SnapshotFolder(path)
    ours = load_universe() if universe is None else universe
    known, listed = set(ours["symbol"]), set(folder.symbols)
    wanted = list(dict.fromkeys(symbols)) if symbols is not None else sorted(listed)
    rep = FolderReport(folder, pd.Timestamp(since) if since else None, ours)
    rep.absent = [s for s in wanted if s not in listed]
    rep.unlisted = [s for s in wanted if s in listed and s not in known]
    rep.checked = [s for s in wanted if s in listed and (s in known or include_unlisted)]
    for sym in rep.checked:
        _read_one(rep, sym, read)
    if include_unlisted and rep.unlisted:
        rep.universe = _with_folder_rows(ours, folder, rep.unlisted)
    if rep.series:
        frame = pd.concat([df.assign(symbol=s) for s, df in rep.series.items()],
                          ignore_index=True)
        rep.problems = validate_prices(frame, universe=rep.universe, on_problem="report")
    return rep


def _read_one(rep: FolderReport, sym: str, read: bool) -> None:
    f = rep.folder.file_for(sym)
    if not f.is_file():
        rep.unreadable[sym] = DataError(
            f"{rep.path / 'universe.csv'} lists {sym} but {f} does not exist. Restore the file, "
            "or take a fresh copy of the snapshot folder."
        )
        return
    if not read:
        return
    try:
        df = rep.folder.read_series(sym)
    except DataError as exc:  # SnapshotFormatError: names the file and line
        rep.unreadable[sym] = exc
        return
    rep.spans[sym] = (df["date"].min(), len(df))
    if rep.since is not None:
        df = df[df["date"] >= rep.since]
    if df.empty:
        rep.empty.append(sym)
    else:
        rep.series[sym] = df


def _with_folder_rows(ours: pd.DataFrame, folder: SnapshotFolder, symbols) -> pd.DataFrame:
    """*ours* plus the folder's ``universe.csv`` rows of *symbols*, with the measure their units
    imply (percent: ``bp_change``)."""
    add = folder.universe[folder.universe["symbol"].isin(symbols)].copy()
    add["measure"] = np.where(add.get("units", "") == "percent", "bp_change", "simple_return")
    return pd.concat([ours, add.reindex(columns=ours.columns, fill_value="")], ignore_index=True)
