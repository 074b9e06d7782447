"""`refdb site OUTDIR`: the static evidence site."""

from __future__ import annotations

from pathlib import Path

import typer

from refdb.cli.context import handled, library, note, note_kept

# `refdb.api` is imported when the command runs, so that `refdb --help` loads none of it.


def site_command(
    ctx: typer.Context,
    outdir: Path = typer.Argument(..., help="The site's folder (replaced whole on each build)."),
    style: str = typer.Option("ama", "--style", "-s", help="ama, apa, vancouver, or a .csl path."),
    indications: list[str] = typer.Option(
        [], "--indication", "-i", help="Only these indications (repeat for more)."
    ),
    keep: bool = typer.Option(
        False, "--keep", help="Rewrite the site after every later change to the library."
    ),
) -> None:
    """A self-contained static evidence site: an index with levels, a chart and filters
    (also from the URL: index.html?indication=CRPS&level=rct), a page per study, downloads."""
    from refdb import api

    lib = library(ctx)
    if keep:
        options = api.OutputOptions(
            kind="site", fmt="html", style=style, indications=tuple(indications)
        )
        note_kept(f"site to {api.keep_output(lib, outdir, options)}")
        return
    count = api.site(lib, outdir, style=style, indications=indications).studies
    note(f"wrote site to {outdir} ({count} stud{'y' if count == 1 else 'ies'})")


def register(app: typer.Typer) -> None:
    """Add the site command to the app."""
    app.command("site")(handled(site_command))
