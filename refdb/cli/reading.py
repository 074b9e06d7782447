"""Commands that read: list, show, indications, page."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import typer

from refdb.cli.context import (
    command_line,
    handled,
    library,
    print_json,
    stdout_console,
    write_or_keep,
)

if TYPE_CHECKING:
    from refdb.records import Reference

# `refdb.api`, the store and rich's Table are imported by the commands that use them, when they
# run, so that `refdb --help` loads none of them.


class PageFormat(StrEnum):
    markdown = "markdown"
    html = "html"
    text = "text"


def _status(ref: Reference) -> str:
    return ref.status or ""


def list_command(
    ctx: typer.Context,
    indication: str | None = typer.Option(None, "--indication", "-i", help="Only this indication."),
    level: str | None = typer.Option(
        None, "--level", "-l", help="Only this evidence level (rct, meta-analysis, review, ...)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A table of the studies (key, first author, year, title, indications, level, status)."""
    refs = library(ctx).studies(indication, level)
    if as_json:
        print_json([ref.to_dict() for ref in refs])
        return
    from rich.table import Table

    from refdb.evidence import label_of

    table = Table("key", "first author", "year", "title", "indications", "level", "status")
    for ref in refs:
        table.add_row(
            ref.key,
            ref.first_author,
            str(ref.year or ""),
            ref.title,
            ", ".join(ref.indications),
            label_of(ref),
            _status(ref),
        )
    stdout_console().print(table)


def show_command(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Citation key, PMID, DOI or numeric id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One study in full."""
    found = library(ctx).get(ref)
    if as_json:
        print_json(found.to_dict())
        return
    from refdb.render.summary import describe

    stdout_console().print(describe(found), markup=False, soft_wrap=True)


def indications_command(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="An indication to change."),
    rename: str | None = typer.Option(None, "--rename", help="New name."),
    heading: str | None = typer.Option(None, "--heading", help="New page heading."),
    position: int | None = typer.Option(
        None, "--position", min=1, max=10**6, help="New place on the page (1: first)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The indications with their headings, order and counts; or change one."""
    if name is not None:
        from refdb import api

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
    fmt: PageFormat = typer.Option(PageFormat.markdown, "--format", "-f", help="Output format."),
    style: str = typer.Option("ama", "--style", "-s", help="ama, apa, vancouver, or a .csl path."),
    indication: str | None = typer.Option(None, "--indication", "-i", help="Only this indication."),
    no_levels: bool = typer.Option(False, "--no-levels", help="Leave out the evidence levels."),
    output: str | None = typer.Option(None, "--output", "-o", help="Write to this file."),
    keep: bool = typer.Option(
        False, "--keep", help="Keep the -o file current: rewrite it after every change."
    ),
) -> None:
    """The evidence page: studies under their indications' headings, with their evidence
    levels and PubMed and DOI links."""
    from refdb import api

    options = api.OutputOptions(
        kind="page",
        fmt=fmt.value,
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
