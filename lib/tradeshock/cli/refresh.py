"""``tradeshock refresh``: fetch new market data, then re-render what changed (front end only).

All the work is :func:`tradeshock.refresh.refresh`; this module parses options, prints what
changed (per series and per report, old and new as-of dates) and sets the exit code: 0 all good
or nothing new, 1 a notebook failed, 2 bad usage, a locked output folder or no new data.
"""

from __future__ import annotations

from pathlib import Path

import click

#: Series listed one per line in the summary; more are counted.
_SHOWN = 15


@click.command("refresh")
@click.argument("notebooks", nargs=-1, metavar="[NOTEBOOK]...")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder [default: the project's reports/].")
@click.option("--snapshot", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Refresh offline from this (newer) snapshot folder, in the format of "
              "../shared/data/market. Default: online, or $TRADESHOCK_SNAPSHOT when "
              "TRADESHOCK_OFFLINE is set.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Notebooks executed in parallel (one process each).")
@click.option("--force", is_flag=True, help="Re-execute every notebook, changed data or not.")
@click.option("--render/--no-render", default=True, show_default=True,
              help="Render after updating the data (--no-render: update the data only).")
@click.option("--notebooks-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where NOTEBOOK names are looked up [default: the project's notebooks/].")
@click.option("--timeout", type=click.FloatRange(min=1), default=600, show_default=True,
              help="Per-cell time limit in seconds.")
@click.pass_context
def refresh(ctx: click.Context, notebooks, out, snapshot, jobs, force, render, notebooks_dir,
            timeout) -> None:
    """Fetch new market data, then re-render the reports whose data changed.

    Online (default): every series of data/universe.csv is updated in the cache from Yahoo/FRED
    (a series that fails keeps its data and is reported; if all fail nothing is rendered).
    Offline (--snapshot DIR, or TRADESHOCK_SNAPSHOT with TRADESHOCK_OFFLINE=1): the snapshot
    folder is validated and the reports are rendered from it. Prints each series' last date
    before and after, and each report's data as-of date. One refresh at a time per output
    folder (OUT/.tradeshock-refresh.lock). Made for cron/systemd: see docs/scheduling.md.

    \b
    Examples:
      tradeshock refresh
      TRADESHOCK_OFFLINE=1 tradeshock refresh --snapshot ../shared/data/market
      tradeshock refresh 02_us_indices --out /tmp/reports --jobs 2
    """
    from tradeshock.pipeline.refresh import NOT_TRIED
    from tradeshock.pipeline.refresh import refresh as run

    def fetched(f) -> None:
        if not f.ok and not f.error.startswith(NOT_TRIED):  # the error message counts those
            click.secho(f"FAILED {f.symbol}: {f.error}", fg="red", err=True)

    def announce(record) -> None:
        took = "" if record.seconds is None or not record.executed else \
            f" in {record.seconds:.1f} s"
        click.echo(f"{record.name}: {record.status}{took}", err=True)

    from tradeshock.core.signals import exit_status, stop_reason, terminate_as_interrupt

    try:
        with terminate_as_interrupt():
            result = run(notebooks, out, snapshot=snapshot, jobs=jobs, force=force,
                         render=render, notebooks_dir=notebooks_dir, timeout=timeout,
                         on_fetch=fetched, on_record=announce)
    except KeyboardInterrupt as exc:  # SIGTERM, SIGHUP (Terminated) or Ctrl-C
        click.secho(f"error: refresh stopped by {stop_reason(exc)}: running notebooks were "
                    "stopped and the locks released; series already downloaded and finished "
                    "reports were kept. Run it again to finish.", fg="red", err=True)
        ctx.exit(exit_status(exc))
    _print(result)
    if result.exit_code:
        names = ", ".join(f"{r.name} ({r.error})" for r in result.summary.failed)
        click.secho(f"failed: {names}; their last good reports were kept", fg="red", err=True)
    ctx.exit(result.exit_code)


def _print(result) -> None:
    for info, what in ((result.cleared_stale_lock, "refresh"),
                       (result.summary and result.summary.cleared_stale_lock, "render")):
        if info:
            click.secho(f"cleared a stale {what} lock left by pid {info.get('pid')} (started "
                        f"{info.get('started')}), which is no longer running", fg="yellow")
    if result.mode == "online":
        counts: dict[str, int] = {}
        for f in result.fetches:
            counts[f.status] = counts.get(f.status, 0) + 1
        click.echo(f"online: {len(result.fetches)} series checked ("
                   + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + ")")
        for f in result.fetches:
            if f.note:
                click.secho(f"  {f.symbol}: {f.note}", fg="yellow")
    else:
        click.echo(f"snapshot folder {result.snapshot}: validated")
    for note in result.notes:
        click.secho(f"note: {note}", fg="yellow")

    changed = result.changed
    before = max((s.before for s in changed if s.before), default=None)
    after = max((s.after for s in changed if s.after), default=None)
    if changed:
        click.echo(f"new data in {len(changed)} of {len(result.series)} series, as of "
                   f"{before or '—'} -> {after or '—'}"
                   + (" (no earlier refresh recorded: compared with the data before it)"
                      if result.first_refresh else "") + ":")
        width = max(len(s.symbol) for s in changed[:_SHOWN])
        for s in changed[:_SHOWN]:
            flag = "  OLDER than before" if s.older else ""
            click.echo(f"  {s.symbol:<{width}}  {s.before or '—'} -> {s.after or '—'}  "
                       f"({s.source}){flag}")
        if len(changed) > _SHOWN:
            click.echo(f"  … and {len(changed) - _SHOWN} more")
    else:
        click.echo(f"no new data: {len(result.series)} series, latest {result.as_of or '—'}")
    older = [s.symbol for s in changed if s.older]
    if older:
        click.secho(f"warning: {len(older)} series now end earlier than before "
                    f"({', '.join(older[:8])}): is this the right snapshot folder?",
                    fg="yellow", err=True)
    failed = result.failed_fetches
    if failed:
        click.secho(f"{len(failed)} of {len(result.fetches)} series failed to download and keep "
                    f"their data: {' '.join(f.symbol for f in failed)}", fg="yellow", err=True)

    summary = result.summary
    if summary is None:
        click.echo("data updated; nothing rendered (--no-render)")
        return
    if result.first_refresh and result.forced:
        click.echo(f"no earlier refresh recorded in {result.out_dir}: each report is rendered "
                   "once from the current data")
    for r in summary.records:
        old = result.reports_before.get(r.name)
        dates = f"{old or '—'} -> {r.as_of or '—'}" if r.executed else (r.as_of or "—")
        took = f"  {r.seconds:.1f} s" if r.executed and r.seconds is not None else ""
        click.echo(f"  {r.name}: {r.status}, data as of {dates}{took}")
    if not summary.executed and not summary.failed:
        click.echo(f"reports are up to date as of {result.reports_as_of or '—'}")
    else:
        click.echo(f"{len(summary.executed)} of {len(summary.records)} report(s) executed, "
                   f"{len(summary.failed)} failed in {summary.seconds:.1f} s -> {summary.index}")
