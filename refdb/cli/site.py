"""`refdb site OUTDIR`: the static evidence site."""

from __future__ import annotations

from pathlib import Path

import typer

from refdb import api
from refdb.api import DEFAULT_STYLE
from refdb.cli.context import handled, library, note, note_kept
from refdb.cli.options import Indications, Keep, Style


def site_command(
    ctx: typer.Context,
    outdir: Path = typer.Argument(..., help="The site's folder (replaced whole on each build)."),
    style: Style = DEFAULT_STYLE,
    indications: Indications = None,
    keep: Keep = False,
) -> None:
    """A self-contained static evidence site: an index with levels, a chart and filters
    (also from the URL: index.html?indication=CRPS&level=rct), a page per study, downloads."""
    lib = library(ctx)
    indications = indications or []
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
