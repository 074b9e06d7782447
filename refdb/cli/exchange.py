"""Commands that exchange files: import and export."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from refdb import api
from refdb.cli.context import (
    command_line,
    handled,
    library,
    note,
    progress_bar,
    show_value,
    write_output,
)
from refdb.cli.writing import report


class ExportFormat(StrEnum):
    bibtex = "bibtex"
    biblatex = "biblatex"
    csl_json = "csl-json"
    ris = "ris"
    text = "text"
    markdown = "markdown"
    html = "html"


def import_command(
    ctx: typer.Context,
    path: Path = typer.Argument(
        ..., help=".bib, .ris, .json (CSL-JSON) or .txt (one title a line)."
    ),
    indications: list[str] = typer.Option([], "--indication", "-i", help="File under these."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; write nothing."),
) -> None:
    """Import references: each is added, or merged into the study it already is."""
    if path.suffix.lower() == ".txt":
        from refdb.cli.pubmed import import_titles_command_body

        import_titles_command_body(ctx, path, indications, dry_run)
        return
    with progress_bar(f"importing {path.name}") as progress:
        summary = api.import_file(
            library(ctx),
            path,
            indications=indications,
            dry_run=dry_run,
            command=command_line(),
            progress=progress,
        )
    for result in summary.results:
        if result.action in ("added", "updated"):
            note(f"{result.action} {result.key}")
        for change in result.changes:
            if change.skipped:
                note(
                    f"  {result.key}: kept {change.field} {show_value(change.old)} ({change.skipped})"
                )
    report(summary)


def export_command(
    ctx: typer.Context,
    fmt: ExportFormat = typer.Option(..., "--format", "-f", help="Output format."),
    style: str = typer.Option("ama", "--style", "-s", help="ama, apa, vancouver, or a .csl path."),
    indication: str | None = typer.Option(None, "--indication", "-i", help="Only this indication."),
    ascii: bool = typer.Option(False, "--ascii", help="BibTeX: LaTeX escapes instead of UTF-8."),
    output: str | None = typer.Option(None, "--output", "-o", help="Write to this file."),
) -> None:
    """The library, or one indication, in an exchange format or as a formatted bibliography."""
    text = api.export(library(ctx), fmt.value, style=style, indication=indication, ascii=ascii)
    write_output(text, output)


def register(app: typer.Typer) -> None:
    """Add the exchange commands to the app."""
    app.command("import")(handled(import_command))
    app.command("export")(handled(export_command))
