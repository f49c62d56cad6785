"""The ``tradeshock`` command line: a thin front end over the library.

Each command group lives in its own module (``data``, ``events``, ``study``, ``render``) and is
registered here; a group that fails to import does not take the others down.
"""

from __future__ import annotations

import importlib

import click

from tradeshock import __version__
from tradeshock.errors import TradeshockError

_GROUPS = ("data", "events", "study", "render", "doctor", "refresh")


class _Main(click.Group):
    def invoke(self, ctx: click.Context):  # noqa: D102 - click API
        try:
            return super().invoke(ctx)
        except TradeshockError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            ctx.exit(2)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tradeshock")
def main() -> None:
    """tradeshock: how markets reacted to the 2025 US tariff shocks.

    Market data, the tariff event calendar, event studies and rendered reports.
    """


for _name in _GROUPS:
    try:
        _module = importlib.import_module(f"tradeshock.cli.{_name}")
    except ModuleNotFoundError as _exc:  # group not written yet
        if _exc.name != f"tradeshock.cli.{_name}":
            raise
        continue
    main.add_command(getattr(_module, _name))
