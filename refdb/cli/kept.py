"""`refdb outputs`: the files kept current by `--keep`, and `outputs remove PATH`."""

from __future__ import annotations

import typer

from refdb import api
from refdb.cli.context import handled, library, note, print_json, stdout_console
from refdb.cli.options import AsJson

outputs_app = typer.Typer(
    help="The files kept current by --keep (format, path, last written).",
    invoke_without_command=True,
)


def list_outputs(
    ctx: typer.Context,
    as_json: AsJson = False,
) -> None:
    """The files kept current by --keep: format, path, when last written."""
    if ctx.invoked_subcommand is not None:
        return
    infos = api.kept(library(ctx))
    if as_json:
        print_json([vars(info) for info in infos])
        return
    if not infos:
        note("no kept outputs (write one with `refdb export ... -o FILE --keep`)")
        return
    from rich.table import Table

    table = Table("kind", "format", "style", "indication", "path", "last written", "problem")
    for info in infos:
        written = info.last_written_at
        table.add_row(
            info.kind,
            info.format,
            info.style or "",
            ", ".join(info.indications) or "all",
            info.path,
            written.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if written else "never",
            info.last_error or "",
        )
    stdout_console().print(table)


def remove_output(
    ctx: typer.Context,
    path: str = typer.Argument(..., help="A kept file (as `refdb outputs` lists it)."),
) -> None:
    """Stop keeping a file current (the file itself stays)."""
    note(f"no longer keeping {api.stop_keeping(library(ctx), path)} current")


def register(app: typer.Typer) -> None:
    """Add the `outputs` commands to the app."""
    outputs_app.callback()(handled(list_outputs))
    outputs_app.command("remove")(handled(remove_output))
    app.add_typer(outputs_app, name="outputs")
