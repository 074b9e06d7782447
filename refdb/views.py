"""What the library looks like to its readers: the evidence page, an export, and what changed,
each a query of the store handed to its renderer (read only; the site is `sites.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from refdb.errors import RefdbError
from refdb.formats import BIBLIOGRAPHY_FORMATS, DEFAULT_STYLE, EXPORT_FORMATS
from refdb.records import Reference
from refdb.store.library import Library

if TYPE_CHECKING:
    from refdb.store.changes import ChangeReport


def page(
    library: Library,
    *,
    style: str = DEFAULT_STYLE,
    fmt: str = "markdown",
    indication: str | None = None,
    levels: bool = True,
) -> str:
    """The evidence page: studies grouped under their indications' headings, formatted, each
    with its evidence level unless `levels` is False. Without `indication`, studies filed
    under none follow as "Other studies", as in `export` and `site`."""
    from refdb import renderings
    from refdb.render.page import render_page

    cache = renderings.citation_cache(library, style)
    groups = _grouped(library, indication)
    text = render_page(groups, style=style, fmt=fmt, levels=levels, cache=cache)
    renderings.save(cache)
    return text


def _grouped(library: Library, indication: str | None) -> list[tuple[str, list[Reference]]]:
    """The page's groups: one indication's, or every indication's and then "Other studies"."""
    named = [indication] if indication is not None else []
    return [(s.heading, library.references(s.ids)) for s in library.sections(named)]


def export(
    library: Library,
    fmt: str,
    *,
    style: str = DEFAULT_STYLE,
    indication: str | None = None,
    ascii: bool = False,
) -> str:
    """The library (or one indication) in an exchange format or as a formatted bibliography."""
    if fmt not in EXPORT_FORMATS:
        raise RefdbError(f"unknown format {fmt!r} (use {', '.join(EXPORT_FORMATS)})")
    if fmt in BIBLIOGRAPHY_FORMATS:
        from refdb import renderings
        from refdb.render.page import render_bibliography

        cache = renderings.citation_cache(library, style)
        groups = _grouped(library, indication)
        text = render_bibliography(groups, style=style, fmt=fmt, cache=cache)
        renderings.save(cache)
        return text
    refs = library.studies(indication, provenance=False)
    if fmt == "csl-json":
        from refdb.render.csljson import render_csl_json

        return render_csl_json(refs)
    if fmt == "ris":
        from refdb.render.ris import render_ris

        return render_ris(refs)
    from refdb.render.bibtex import render_biblatex, render_bibtex

    # Declare only the indications these studies are filed under, in page order.
    specs = library.specs({name for ref in refs for name in ref.indications})
    render = render_biblatex if fmt == "biblatex" else render_bibtex
    return render(refs, ascii=ascii, indications=specs)


def changes(library: Library, since: str | None = None) -> ChangeReport:
    """What changed since a date ("2026-11-01", local time; or an ISO 8601 time) or after an
    operation ("12"), as a reader of the page would say it. Without `since`: since a kept
    page or site was last written, or, when none is kept, since the library began."""
    from datetime import datetime

    from refdb.store.changes import changes_since, last_page_written

    if since is None:
        written = last_page_written(library.db)
        if written is None:
            return changes_since(library.db)
        return changes_since(library.db, since=written[0], basis="kept", basis_path=written[1])
    text = since.strip()
    if text.isdigit():
        return changes_since(library.db, since_operation=int(text), basis="operation")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RefdbError(
            f"--since {since!r}: neither a date (2026-11-01), a time (2026-11-01T09:30) "
            "nor an operation number (see `refdb history`)"
        ) from None
    return changes_since(library.db, since=moment.astimezone(), basis="date")
