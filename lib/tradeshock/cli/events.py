"""``tradeshock events``: the tariff event calendar and day-0 alignment (a front end over
:mod:`tradeshock.events`)."""

from __future__ import annotations

import click
import pandas as pd

from tradeshock import events as ev
from tradeshock.events.schema import is_iso_date

_CAL_HELP = ("exchange_calendars code, e.g. XNYS, XTKS, XHKG, XETR, XLON; repeat the option or "
             "separate codes with commas for several")


def _opts(ctx: click.Context) -> dict:
    return ctx.obj if isinstance(ctx.obj, dict) else {}


def _load(ctx: click.Context) -> pd.DataFrame:
    obj = _opts(ctx)
    return ev.load_events(obj.get("file"), obj.get("extra") or None)


def _codes(values: tuple[str, ...]) -> list[str]:
    codes = [c.strip() for v in values for c in v.split(",") if c.strip()]
    return list(dict.fromkeys(codes))


@click.group("events")
@click.option("--file", "file_", type=click.Path(dir_okay=False), default=None,
              help="Calendar CSV to use instead of the bundled data/events/tariff_events_2025.csv.")
@click.option("--extra", multiple=True, type=click.Path(dir_okay=False),
              help="CSV of your own events (same columns and checks), merged with the calendar; "
                   "repeatable. Ids must be unique across files.")
@click.pass_context
def events(ctx: click.Context, file_: str | None, extra: tuple[str, ...]) -> None:
    """The 2025 tariff event calendar and exchange-aware day-0 alignment.

    Day 0 of an event for a market is the first session that trades after the announcement: the
    session in progress if it lands inside one (intraday), else the next session to open. Events
    without a time of day are placed at 23:59:59 of their local date (after the US close for US
    events) and flagged untimed.
    """
    ctx.obj = {"file": file_, "extra": list(extra)}


@events.command("list")
@click.option("--kind", multiple=True, type=click.Choice(list(ev.KINDS)),
              help="Only these kinds (repeatable).")
@click.option("--actor", default=None, help="Only events whose actor contains this text "
              "(case-insensitive), e.g. China.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only events on or after this local date (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only events on or before this local date (YYYY-MM-DD).")
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV (all columns) instead of a table.")
@click.pass_context
def list_(ctx: click.Context, kind, actor, since, until, as_csv) -> None:
    """List the calendar's events, optionally filtered."""
    df = _load(ctx)
    if kind:
        df = df[df["kind"].isin(kind)]
    if actor:
        df = df[df["actor"].fillna("").str.contains(actor, case=False, regex=False)]
    if since:
        df = df[df["date"] >= pd.Timestamp(since)]
    if until:
        df = df[df["date"] <= pd.Timestamp(until)]
    if as_csv:
        out = df.drop(columns=["origin"]).copy()
        out["date"] = out["date"].dt.strftime("%Y-%m-%d")
        click.echo(out.to_csv(index=False), nl=False)
        return
    if df.empty:
        click.echo("no events match", err=True)
        return
    rows = [("event_id", "date", "time", "kind", "actor", "title")]
    for _, r in df.iterrows():
        time = ("" if pd.isna(r["time_local"])
                else f"{r['time_local']} {r['timezone']} ({r['time_basis']})")
        rows.append((r["event_id"], f"{r['date']:%Y-%m-%d}", time, r["kind"],
                     "" if pd.isna(r["actor"]) else r["actor"], r["title"]))
    widths = [max(len(str(row[i])) for row in rows) for i in range(5)]
    for row in rows:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row[:5], widths)) + "  " + row[5])


@events.command("align")
@click.argument("event_ids", nargs=-1, metavar="EVENT_ID...")
@click.option("--calendar", "-c", "calendars", multiple=True, required=True, help=_CAL_HELP)
@click.option("--all-key", is_flag=True, help="Align every KEY_EVENTS event (liberation_day, "
              "pause, geneva, china_34, ...).")
@click.option("--explain", is_flag=True, help="Also print the rule that gave each day 0 (stderr).")
@click.pass_context
def align_cmd(ctx: click.Context, event_ids, calendars, all_key, explain) -> None:
    """Print the day-0 session (YYYY-MM-DD) of EVENT_ID for each market, plus 'intraday' when the
    announcement fell inside that session.

    EVENT_ID is an event_id of the calendar or a short KEY_EVENTS name such as pause. With one
    event and one market the output is just the date (and 'intraday'); otherwise each line starts
    with the event and/or the market. Untimed events get a note on stderr.

    \b
    Example:
      tradeshock events align E2025-04-09-pause --calendar XNYS   ->  2025-04-09 intraday
    """
    names = list(event_ids) + ([k for k in ev.KEY_EVENTS] if all_key else [])
    if not names:
        raise click.UsageError("give at least one EVENT_ID (or --all-key)")
    codes = _codes(calendars)
    df = _load(ctx)
    for name in names:
        row = ev.get_event(name, df)
        for code in codes:
            a = ev.align(row, code)
            parts = ([name] if len(names) > 1 else []) + ([code] if len(codes) > 1 else [])
            parts.append(f"{a.day0:%Y-%m-%d}")
            if a.intraday:
                parts.append("intraday")
            click.echo(" ".join(parts))
            if explain:
                click.echo(f"  {a.rule}", err=True)
        if pd.isna(row["timestamp"]) and not explain:
            click.echo(f"note: {row['event_id']} has no time of day; by the untimed rule it is "
                       f"placed at 23:59:59 {row['timezone']} on {row['date']:%Y-%m-%d}, so "
                       "'intraday' reflects that assumed time (see --explain)", err=True)


@events.command("window")
@click.argument("event_id")
@click.option("--calendar", "-c", required=True, help="exchange_calendars code, e.g. XNYS.")
@click.option("--window", "-w", default="-5:10", show_default=True,
              help="START:END in sessions relative to day 0, e.g. -5:10.")
@click.option("--others/--no-others", default=True, show_default=True,
              help="Report other events whose day 0 falls in the window (on stderr).")
@click.pass_context
def window_cmd(ctx: click.Context, event_id, calendar, window, others) -> None:
    """Print the session at each offset of the window around EVENT_ID's day 0, one 'OFFSET
    YYYY-MM-DD' line per offset. Offsets count the market's sessions: holidays are skipped.

    EVENT_ID is an event_id, a KEY_EVENTS name, or a day-0 session date (YYYY-MM-DD). Other
    events whose day 0 falls in the window are listed on stderr (reported, not merged).

    \b
    Example:
      tradeshock events window liberation_day --calendar XNYS --window -5:10
    """
    df = _load(ctx)
    if is_iso_date(event_id):  # a day-0 session date instead of an event
        win = ev.event_window(event_id, calendar, window)
        row = None
    else:
        row = ev.get_event(event_id, df)
        win = ev.event_window(row, calendar, window, events=df)
    for off, sess in zip(win["offset"], win["session"]):
        click.echo(f"{int(off)} {sess:%Y-%m-%d}")
    if others and row is not None:
        inside = ev.events_in_window(df, row["event_id"], calendar, window)
        if not inside.empty:
            click.echo(f"{len(inside)} other event(s) with day 0 in this window (reported, not "
                       "merged):", err=True)
            for _, r in inside.iterrows():
                flag = " untimed" if r["untimed"] else ""
                click.echo(f"  {int(r['offset'])} {r['day0']:%Y-%m-%d} {r['event_id']} "
                           f"[{r['kind']}{flag}]", err=True)


@events.command("kinds")
def kinds_cmd() -> None:
    """List the kinds of event and what each means."""
    for k, v in ev.KINDS.items():
        click.echo(f"{k:<14} {v}")


@events.command("check")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False))
@click.pass_context
def check_cmd(ctx: click.Context, paths) -> None:
    """Validate the calendar (and PATHS, your own event CSVs, merged with it); print a summary."""
    obj = _opts(ctx)
    extra = list(obj.get("extra") or []) + list(paths)
    df = ev.load_events(obj.get("file"), extra or None)
    timed = int(df["timed"].sum())
    click.echo(f"ok: {len(df)} events ({timed} timed, {len(df) - timed} untimed) from "
               f"{', '.join(dict.fromkeys(df['origin']))}")
