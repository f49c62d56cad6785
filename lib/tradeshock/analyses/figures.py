"""Small matplotlib helpers every notebook uses: one house style, labelled axes, events, sources.

Every figure in a report has a title, axis labels **with units**, the events marked, and a source
line (data source and as-of date). The helpers make that the easy path::

    from tradeshock.analyses.figures import new_figure, mark_events, add_source_line

    fig, ax = new_figure(title="S&P 500 around the 2025 tariff announcements",
                         xlabel="Date", ylabel="Index level", yunits="points")
    ax.plot(prices.index, prices["^GSPC"])
    mark_events(ax, events)                       # vertical lines coloured and labelled by kind
    add_source_line(fig, "Yahoo Finance via pinned snapshot", as_of=prices.index.max())

:func:`check_figure` lists what a figure is missing (tests call it); :func:`save_png` writes a
PNG atomically. In a notebook the figures show as PNG (the render embeds them as data URIs).
"""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "HOUSE_STYLE",
    "KIND_COLORS",
    "use_house_style",
    "new_figure",
    "label_axes",
    "add_source_line",
    "mark_events",
    "check_figure",
    "save_png",
    "plot_levels",
    "plot_paths",
]

#: Okabe-Ito palette (colour-blind safe), in the order lines are drawn.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

#: rcParams of the house style.
HOUSE_STYLE: dict[str, Any] = {
    "figure.figsize": (9.0, 4.8),
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "figure.constrained_layout.use": True,
    "font.size": 10.5,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.prop_cycle": None,  # set from PALETTE in use_house_style
    "legend.frameon": False,
    "legend.fontsize": 9,
    "lines.linewidth": 1.6,
    "date.autoformatter.day": "%d %b",
    "date.autoformatter.month": "%b %Y",
}

#: Colour per event kind (the calendar's ``kind`` column); other kinds get grey.
KIND_COLORS: dict[str, str] = {
    "announcement": "#D55E00",
    "escalation": "#B3261E",
    "retaliation": "#CC79A7",
    "de-escalation": "#009E73",
    "deal": "#0072B2",
    "negotiation": "#56B4E9",
    "legal": "#6B6B6B",
}
_OTHER_KIND = "#9E9E9E"
_SOURCE_GID = "tradeshock-source-line"


def use_house_style() -> None:
    """Apply the house style to matplotlib, and in a Jupyter kernel show figures as PNG."""
    import matplotlib as mpl
    from cycler import cycler

    style = dict(HOUSE_STYLE)
    # 8 colours solid, then dashed, then dotted: up to 24 lines are told apart (a 9th line
    # would otherwise repeat the 1st one's colour and style)
    style["axes.prop_cycle"] = cycler(linestyle=["-", "--", ":"]) * cycler(color=PALETTE)
    mpl.rcParams.update(style)
    try:
        from IPython import get_ipython

        if get_ipython() is not None:
            from matplotlib_inline.backend_inline import set_matplotlib_formats

            set_matplotlib_formats("png")
    except ImportError:  # pragma: no cover - IPython always present with the kernel
        pass


def _require(value: str | None, what: str) -> str:
    if value is None or not str(value).strip():
        raise ValueError(f"a figure needs {what}; pass it (house style: title, labels with units)")
    return str(value).strip()


def _with_units(label: str, units: str | None) -> str:
    return f"{label} ({units})" if units else label


def label_axes(
    ax: Any,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    yunits: str,
    xunits: str | None = None,
) -> Any:
    """Set title and axis labels; ``yunits`` is required (e.g. ``"%"``, ``"bp"``,
    ``"index points"``, ``"fraction"``), ``xunits`` optional (dates need none).
    Raises ``ValueError`` when one is empty."""
    ax.set_title(_require(title, "a title"))
    ax.set_xlabel(_with_units(_require(xlabel, "an x-axis label"), xunits))
    ax.set_ylabel(_with_units(_require(ylabel, "a y-axis label"), _require(yunits, "y-axis units")))
    return ax


def new_figure(
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    yunits: str,
    xunits: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> tuple[Any, Any]:
    """A house-style figure with one labelled axes: returns ``(fig, ax)``."""
    import matplotlib.pyplot as plt

    use_house_style()
    fig, ax = plt.subplots(figsize=figsize)
    label_axes(ax, title=title, xlabel=xlabel, ylabel=ylabel, yunits=yunits, xunits=xunits)
    return fig, ax


def _date_text(value: Any) -> str:
    if value is None:
        raise ValueError("add_source_line needs the data's as-of date")
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "date") and callable(value.date):
        return value.date().isoformat()
    return str(value)


def add_source_line(fig: Any, source: str, as_of: Any, *, note: str | None = None) -> None:
    """Write "Source: SOURCE. Data as of DATE." (and an optional note) under the figure.

    Calling it again replaces the previous source line. Returns nothing, so a notebook cell may
    end with it without printing a ``Text(...)`` repr (it is the one text of ``fig.texts`` with gid
    ``tradeshock-source-line``).
    """
    source = _require(source, "a data source")
    text = f"Source: {source.rstrip('.')}. Data as of {_date_text(as_of)}."
    if note:
        text += f" {note.strip()}"
    for old in [t for t in fig.texts if t.get_gid() == _SOURCE_GID]:
        old.remove()
    # Just below the figure's bottom edge: clear of the x-axis label whatever the layout; the
    # house style (and Jupyter's inline backend) save with a tight bounding box, which takes it in.
    fig.text(
        0.01,
        -0.01,
        "\n".join(textwrap.wrap(text, 140)),
        ha="left",
        va="top",
        fontsize=8,
        color="#5f6368",
        gid=_SOURCE_GID,
    )


def _pick(
    columns: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str
) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            raise KeyError(f"events have no column {wanted!r} for {what}; columns: {list(columns)}")
        return wanted
    return next((c for c in candidates if c in columns), None)


def _event_rows(
    events: Any, date_col: str | None, kind_col: str | None, label_col: str | None
) -> list[tuple[Any, str, str]]:
    """(date, kind, label) triples from a DataFrame, a mapping or (date, kind[, label]) tuples."""
    import pandas as pd

    if isinstance(events, pd.DataFrame):
        cols = list(events.columns)
        dcol = _pick(
            cols, date_col, ("day0", "date", "announced", "announced_at", "timestamp"), "dates"
        )
        kcol = _pick(cols, kind_col, ("kind",), "kinds")
        lcol = _pick(
            cols, label_col, ("label", "short_label", "short_title", "title", "event_id"), "labels"
        )
        if dcol is None:
            if isinstance(events.index, pd.DatetimeIndex):
                dates = list(events.index)
            else:
                raise KeyError(f"events need a date column (e.g. 'date'); columns: {cols}")
        else:
            dates = list(events[dcol])
        kinds = list(events[kcol]) if kcol else ["event"] * len(events)
        labels = list(events[lcol]) if lcol else [""] * len(events)
        return list(zip(dates, kinds, labels, strict=True))
    if isinstance(events, Mapping):
        return [(d, "event", str(lbl)) for d, lbl in events.items()]
    rows = []
    for item in events:
        item = tuple(item)
        rows.append(
            (
                item[0],
                str(item[1]) if len(item) > 1 else "event",
                str(item[2]) if len(item) > 2 else "",
            )
        )
    return rows


def mark_events(
    ax: Any,
    events: Any,
    *,
    date_col: str | None = None,
    kind_col: str | None = None,
    label_col: str | None = None,
    kinds: Iterable[str] | None = None,
    label: bool = True,
    max_label: int = 32,
    min_label_gap: float = 0.025,
    legend: bool = True,
    colors: Mapping[str, str] | None = None,
) -> list[Any]:
    """Draw a dashed vertical line per event, coloured by kind, labelled at the top.

    ``events`` is the event calendar (a DataFrame with a date column such as ``date``/``day0``,
    ``kind``, and ``label``/``title``; or ``(date, kind, label)`` tuples, or ``{date: label}``).
    Events outside the x-range are skipped. ``kinds`` keeps only those kinds; ``label=False``
    draws lines only; a label closer than ``min_label_gap`` (fraction of the axis width) to the
    previous one is left out so labels never overlap (the line stays); labels are cut to
    ``max_label`` characters. The legend gets one entry per kind drawn. Returns the line artists.
    """
    import pandas as pd

    palette = {**KIND_COLORS, **(colors or {})}
    keep = set(kinds) if kinds is not None else None
    has_data = bool(ax.lines or ax.collections or ax.patches)
    lo, hi = ax.get_xlim()
    lines, seen = [], set()
    last_label = None
    rows = _event_rows(events, date_col, kind_col, label_col)
    rows = sorted(
        (r for r in rows if r[0] is not None and r[0] == r[0]),
        key=lambda r: pd.Timestamp(r[0]).value,
    )
    for date, kind, text in rows:
        if keep is not None and kind not in keep:
            continue
        ts = pd.Timestamp(date)
        if ts.tzinfo is not None:
            ts = ts.tz_convert(None)
        x = ax.xaxis.convert_units(ts.to_pydatetime())
        if has_data and not lo <= x <= hi:
            continue
        color = palette.get(kind, _OTHER_KIND)
        line = ax.axvline(
            x,
            color=color,
            linestyle="--",
            linewidth=1.0,
            alpha=0.85,
            zorder=1,
            label=kind if kind not in seen else "_nolegend_",
        )
        seen.add(kind)
        lines.append(line)
        frac = (x - lo) / (hi - lo) if has_data and hi > lo else None
        crowded = frac is not None and last_label is not None and frac - last_label < min_label_gap
        if label and text and str(text) != "nan" and not crowded:
            text = str(text)
            short = text if len(text) <= max_label else text[: max_label - 1] + "…"
            ax.annotate(
                short,
                xy=(x, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(2, -4),
                textcoords="offset points",
                rotation=90,
                ha="left",
                va="top",
                fontsize=7.5,
                color=color,
                clip_on=True,
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
            )
            last_label = frac
    if has_data:
        ax.set_xlim(lo, hi)
    if legend and seen:
        ax.legend(loc="best")
    return lines


def check_figure(fig: Any) -> list[str]:
    """What a figure lacks under the house style (empty list: nothing): a title on every axes
    that holds data, axis labels with units in parentheses on the y-axis, and a source line."""
    problems = []
    for i, ax in enumerate(fig.axes):
        if not (ax.lines or ax.collections or ax.patches or ax.images):
            continue
        where = f"axes {i}"
        if not ax.get_title() and not ax.get_title("left") and not fig._suptitle:
            problems.append(f"{where}: no title")
        if not ax.get_xlabel():
            problems.append(f"{where}: no x-axis label")
        ylabel = ax.get_ylabel()
        if not ylabel:
            problems.append(f"{where}: no y-axis label")
        elif "(" not in ylabel:
            problems.append(f"{where}: y-axis label {ylabel!r} states no units, e.g. '(%)'")
    if not any(t.get_gid() == _SOURCE_GID for t in fig.texts):
        problems.append("no source line (add_source_line)")
    return problems


def save_png(fig: Any, path: str | Path, *, dpi: int | None = None) -> Path:
    """Save ``fig`` as PNG at ``path`` atomically (a temporary file, then a rename)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"save_png writes PNG files; {path} does not end in .png")
    from tradeshock.core.fileio import make_temp

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = make_temp(path)  # named so that fileio.clean_temp recognises a crashed one
    os.close(fd)
    tmp = Path(name)
    try:
        fig.savefig(tmp, format="png", dpi=dpi)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def plot_levels(levels: Any, *, title: str, ylabel: str, yunits: str, names: Mapping[str, str]
                | None = None, start: Any = None, end: Any = None, rebase: Any = None,
                events: Any = None) -> tuple[Any, Any]:
    """Price or index levels over dates, each series on **its own** dates (a holiday of one
    market leaves no gap in another's line); ``rebase`` (a date) rescales each series to 100 at
    its close on that date (or the last close before it). ``events`` are marked with
    :func:`mark_events`. Returns ``(fig, ax)``; the caller adds the source line."""
    import pandas as pd

    frame = levels.to_frame() if isinstance(levels, pd.Series) else levels
    names = dict(names or {})
    fig, ax = new_figure(title=title, xlabel="Date", ylabel=ylabel, yunits=yunits)
    for col in frame.columns:
        s = frame[col].dropna()
        if rebase is not None:
            base = s.loc[: pd.Timestamp(rebase)]
            if base.empty:
                continue
            s = 100 * s / float(base.iloc[-1])
        s = s.loc[pd.Timestamp(start) if start is not None else None:
                  pd.Timestamp(end) if end is not None else None]
        ax.plot(s.index, s.to_numpy(), label=names.get(col, str(col)), lw=1.2)
    if rebase is not None:
        ax.axhline(100, color="black", lw=0.6)
    if events is not None:
        mark_events(ax, events)
    if len(frame.columns) > 1:
        ax.legend(fontsize=8)
    return fig, ax


def plot_paths(paths: Mapping[str, Any], column: str = "car", *, title: str, xlabel: str,
               ylabel: str = "Cumulative abnormal return", yunits: str = "percent",
               band: bool = True, label_of: Mapping[str, str] | None = None) -> tuple[Any, Any]:
    """AR or CAR paths in event time, one line per key of ``paths`` (frames with ``day``,
    ``column`` and, with ``band``, ``<column>_low``/``<column>_high``), fractions shown in
    percent. A path frame with a ``security`` column draws one line per security."""
    fig, ax = new_figure(title=title, xlabel=xlabel, ylabel=ylabel, yunits=yunits)
    label_of = dict(label_of or {})
    for key, frame in paths.items():
        groups = frame.groupby("security") if "security" in frame and frame["security"].nunique(
        ) > 1 else [(key, frame)]
        for name, g in groups:
            line, = ax.plot(g["day"], 100 * g[column], marker="o",
                            label=label_of.get(name, str(name))[:60])
            if band and f"{column}_low" in g:
                ax.fill_between(g["day"], 100 * g[f"{column}_low"], 100 * g[f"{column}_high"],
                                color=line.get_color(), alpha=0.12)
    ax.axhline(0, color="black", lw=0.6)
    ax.axvline(0, color="grey", ls=":", lw=1)
    if paths:
        ax.legend(fontsize=8)
    else:  # nothing could be studied: say so on the chart instead of an empty frame
        ax.text(0.5, 0.5, "No path to draw: no event could be studied (see the table above)",
                transform=ax.transAxes, ha="center", va="center", fontsize=9, color="grey")
    return fig, ax
