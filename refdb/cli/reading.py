"""Commands that read: list, show, indications, page."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from refdb import api
from refdb.api import DEFAULT_STYLE
from refdb.cli.context import (
    command_line,
    handled,
    library,
    print_json,
    stdout_console,
    write_or_keep,
)
from refdb.cli.options import AsJson, Indication, Keep, Output, PageFormat, Ref, Style

if TYPE_CHECKING:
    from refdb.api import Reference


def _status(ref: Reference) -> str:
    return ref.status or ""


def list_command(
    ctx: typer.Context,
    indication: Indication = None,
    level: str | None = typer.Option(
        None, "--level", "-l", help="Only this evidence level (rct, meta-analysis, review, ...)."
    ),
    as_json: AsJson = False,
) -> None:
    """A table of the studies (key, first author, year, title, indications, level, status)."""
    if as_json:
        print_json(library(ctx).records(indication, level))
        return
    refs = library(ctx).studies(indication, level)
    from rich.table import Table

    table = Table("key", "first author", "year", "title", "indications", "level", "status")
    for ref in refs:
        table.add_row(
            ref.key,
            ref.first_author,
            str(ref.year or ""),
            ref.title,
            ", ".join(ref.indications),
            api.level_label(ref),
            _status(ref),
        )
    stdout_console().print(table)


def show_command(
    ctx: typer.Context,
    ref: Ref,
    as_json: AsJson = False,
) -> None:
    """One study in full."""
    found = library(ctx).get(ref)
    if as_json:
        print_json(found.to_dict())
        return
    sys.stdout.write(api.describe(found) + "\n")  # plain text: no console needed


def indications_command(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="An indication to change."),
    rename: str | None = typer.Option(None, "--rename", help="New name."),
    heading: str | None = typer.Option(None, "--heading", help="New page heading."),
    position: int | None = typer.Option(
        None, "--position", min=1, max=10**6, help="New place on the page (1: first)."
    ),
    as_json: AsJson = False,
) -> None:
    """The indications with their headings, order and counts; or change one."""
    if name is not None:
        api.update_indication(
            library(ctx),
            name,
            command=command_line(),
            rename=rename,
            heading=heading,
            position=position,
        )
    infos = library(ctx).indications()
    if as_json:
        print_json([vars(i) for i in infos])
        return
    from rich.table import Table

    table = Table("order", "name", "heading", "studies")
    for info in infos:
        table.add_row(str(info.position), info.name, info.heading, str(info.count))
    stdout_console().print(table)


def page_command(
    ctx: typer.Context,
    fmt: PageFormat = "markdown",
    style: Style = DEFAULT_STYLE,
    indication: Indication = None,
    no_levels: bool = typer.Option(False, "--no-levels", help="Leave out the evidence levels."),
    output: Output = None,
    keep: Keep = False,
) -> None:
    """The evidence page: studies under their indications' headings, with their evidence
    levels and PubMed and DOI links."""
    options = api.OutputOptions(
        kind="page",
        fmt=fmt,
        style=style,
        indications=(indication,) if indication else (),
        levels=not no_levels,
    )
    write_or_keep(ctx, options, output, keep)


def register(app: typer.Typer) -> None:
    """Add the reading commands to the app."""
    app.command("list")(handled(list_command))
    app.command("show")(handled(show_command))
    app.command("indications")(handled(indications_command))
    app.command("page")(handled(page_command))
