"""The `refdb` command line: parse, call one library function, print."""

from __future__ import annotations

import typer

from refdb.cli import (
    changes,
    curating,
    exchange,
    kept,
    pubmed,
    reading,
    site,
    watching,
    writing,
)
from refdb.cli.context import State

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="refdb: the curated evidence behind ketamine therapy, as a reference library.",
)


@app.callback()
def root(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None,
        "--db",
        envvar="REFDB_DATABASE_URL",
        help="SQLAlchemy URL (sqlite:///path.sqlite or postgresql+psycopg://...).",
    ),
) -> None:
    """Keep a curated library of studies; print it as an evidence page or export it."""
    ctx.obj = State(db)


reading.register(app)
writing.register(app)
curating.register(app)
exchange.register(app)
pubmed.register(app)
watching.register(app)
kept.register(app)
site.register(app)
changes.register(app)


def main() -> None:
    """Entry point of the `refdb` console script."""
    app(prog_name="refdb")
