"""`refdb changes`: what changed in the library, as a reader of the page would say it."""

from __future__ import annotations

import typer

from refdb import api
from refdb.cli.context import handled, library, print_json
from refdb.cli.options import AsJson


def changes_command(
    ctx: typer.Context,
    since: str | None = typer.Option(
        None,
        "--since",
        metavar="DATE|OPERATION",
        help="A date (2026-11-01, local time), a time (2026-11-01T09:30) or an operation "
        "number (changes after it). Default: since a kept page or site was last published "
        "(written by its own command).",
    ),
    as_json: AsJson = False,
) -> None:
    """Studies added and removed, retractions and corrections, level changes: for the
    clinic's "what's new on our evidence page" note."""
    report = api.changes(library(ctx), since)
    if as_json:
        print_json(api.changes_json(report))
        return
    typer.echo(api.changes_text(report))


def register(app: typer.Typer) -> None:
    """Add the changes command to the app."""
    app.command("changes")(handled(changes_command))
