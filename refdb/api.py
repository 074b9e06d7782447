"""refdb as a Python library: each function is one command, sources → store → renderers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from refdb.config import default_database_url
from refdb.errors import RefdbError
from refdb.records import IndicationSpec, Reference
from refdb.sources.bibtex import declared_indications
from refdb.sources.files import read_references
from refdb.sources.seeds import SEED_SOURCE, load_seeds
from refdb.sources.textfile import read_text
from refdb.store.library import Library, SaveSummary


def open_library(url: str | None = None) -> Library:
    """Open (creating and migrating on first use) the library at a SQLAlchemy URL."""
    return Library(url or default_database_url())


def seed(library: Library, *, command: str = "refdb seed") -> SaveSummary:
    """Load the clinic's list from `seeds/`; a second run changes nothing."""
    data = load_seeds()
    return library.save(data.studies, source=SEED_SOURCE, command=command, specs=data.indications)


def page(
    library: Library,
    *,
    style: str = "ama",
    fmt: str = "markdown",
    indication: str | None = None,
) -> str:
    """The evidence page: studies grouped under their indications' headings, formatted."""
    from refdb.render.page import render_page

    return render_page(library.page_groups(indication), style=style, fmt=fmt)


EXPORT_FORMATS = ("bibtex", "biblatex", "csl-json", "ris", "text", "markdown", "html")
FILE_SOURCES = {".bib": "bibtex", ".ris": "ris", ".json": "csl-json"}
UNFILED_HEADING = "Other studies"


def import_file(
    library: Library,
    path: Path,
    *,
    indications: Sequence[str] = (),
    dry_run: bool = False,
    command: str = "refdb import",
    progress: Callable[[int, int], None] | None = None,
) -> SaveSummary:
    """Import a `.bib`, `.ris` or CSL-JSON file: each entry added, or merged into its match."""
    if path.is_dir():
        raise RefdbError(f"{path}: a folder, not a file")
    if not path.is_file():
        raise RefdbError(f"{path}: no such file")
    refs = read_references(path)
    specs = declared_indications(read_text(path)) if path.suffix.lower() == ".bib" else []
    source = f"{FILE_SOURCES.get(path.suffix.lower(), 'file')}:{path.name}"
    return library.save(
        refs,
        source=source,
        command=command,
        indications=indications,
        dry_run=dry_run,
        specs=specs,
        progress=progress,
    )


def export(
    library: Library,
    fmt: str,
    *,
    style: str = "ama",
    indication: str | None = None,
    ascii: bool = False,
) -> str:
    """The library (or one indication) in an exchange format or as a formatted bibliography."""
    if fmt not in EXPORT_FORMATS:
        raise RefdbError(f"unknown format {fmt!r} (use {', '.join(EXPORT_FORMATS)})")
    if fmt in ("text", "markdown", "html"):
        from refdb.render.page import render_bibliography

        groups: list[tuple[str, list[Reference]]] = list(library.page_groups(indication))
        if indication is None:
            unfiled = [ref for ref in library.studies() if not ref.indications]
            if unfiled:
                groups.append((UNFILED_HEADING, unfiled))
        return render_bibliography(groups, style=style, fmt=fmt)
    refs = library.studies(indication)
    if fmt == "csl-json":
        from refdb.render.csljson import render_csl_json

        return render_csl_json(refs)
    if fmt == "ris":
        from refdb.render.ris import render_ris

        return render_ris(refs)
    from refdb.render.bibtex import render_biblatex, render_bibtex

    # Declare only the indications these studies are filed under, in page order.
    used = {name for ref in refs for name in ref.indications}
    specs = [
        IndicationSpec(i.name, i.heading, i.position)
        for i in library.indications()
        if i.name in used
    ]
    render = render_biblatex if fmt == "biblatex" else render_bibtex
    return render(refs, ascii=ascii, indications=specs)


__all__: Sequence[str] = ["Library", "export", "import_file", "open_library", "page", "seed"]
