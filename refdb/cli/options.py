"""The options several commands share, defined once (Typer's `Annotated` aliases)."""

from __future__ import annotations

from typing import Annotated

import typer

from refdb import api
from refdb.api import STYLE_HELP

Ref = Annotated[str, typer.Argument(help="Citation key (or old key), PMID, DOI or id.")]
Refs = Annotated[list[str], typer.Argument(help="Citation keys, PMIDs, DOIs or ids.")]
SomeRefs = Annotated[list[str] | None, typer.Argument(help="Citation keys, PMIDs, DOIs or ids.")]
Style = Annotated[str, typer.Option("--style", "-s", help=STYLE_HELP)]
Indication = Annotated[str | None, typer.Option("--indication", "-i", help="Only this indication.")]
Indications = Annotated[
    list[str] | None,
    typer.Option("--indication", "-i", help="Indications (repeat for more)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")]
Output = Annotated[str | None, typer.Option("--output", "-o", help="Write to this file.")]
Keep = Annotated[
    bool, typer.Option("--keep", help="Keep the output current: rewrite it after every change.")
]
ExportFormat = Annotated[api.ExportFormat, typer.Option("--format", "-f", help="Output format.")]
PageFormat = Annotated[api.PageFormat, typer.Option("--format", "-f", help="Output format.")]
