"""What the library looks like to its readers: the evidence page, an export, the static site,
and what changed, each a query of the store handed to its renderer (read only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from refdb.errors import RefdbError
from refdb.formats import BIBLIOGRAPHY_FORMATS, DEFAULT_STYLE, EXPORT_FORMATS, UNFILED_HEADING
from refdb.records import IndicationSpec, Reference
from refdb.store.library import Library

if TYPE_CHECKING:
    from refdb.render.feed import StudyDates
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
    from refdb.render.page import render_page

    return render_page(_grouped(library, indication), style=style, fmt=fmt, levels=levels)


def _grouped(library: Library, indication: str | None) -> list[tuple[str, list[Reference]]]:
    """The page's groups: one indication's, or every indication's and then "Other studies"."""
    groups = library.page_groups(indication)
    if indication is None:
        unfiled = library.unfiled()
        if unfiled:
            groups.append((UNFILED_HEADING, unfiled))
    return groups


@dataclass
class SiteReport:
    """What `site` wrote: the folder, how many studies it shows, and its files."""

    path: Path
    studies: int
    files: list[str]


def site(
    library: Library,
    outdir: Path,
    *,
    style: str = DEFAULT_STYLE,
    indications: Sequence[str] = (),
) -> SiteReport:
    """Write the static evidence site into `outdir`, atomically (built beside it, swapped in).

    Studies are grouped under their indications in page order (only the named ones, when
    `indications` is given; otherwise studies filed under none follow as "Other studies").
    A folder there that refdb did not write, and that is not empty, is refused (RefdbError).
    """
    from refdb.publish import publish_folder
    from refdb.render.site import MARKER, SiteGroup, distinct_studies, render_site

    wanted = {name.casefold() for name in indications}
    infos = library.indications()
    for name in indications:
        if not any(info.name.casefold() == name.casefold() for info in infos):
            library.page_groups(name)  # raises the store's "no such indication" error
    groups = [
        SiteGroup(info.name, heading, refs)
        for info in infos
        if not wanted or info.name.casefold() in wanted
        for heading, refs in library.page_groups(info.name)
    ]
    if not wanted:
        unfiled = library.unfiled()
        if unfiled:
            groups.append(SiteGroup("", UNFILED_HEADING, unfiled))
    shown = {group.name for group in groups}
    specs = [IndicationSpec(i.name, i.heading, i.position) for i in infos if i.name in shown]
    from refdb.store.changes import last_change

    distinct = distinct_studies(groups)
    files = render_site(
        groups,
        style=style,
        indications=specs,
        dates=_study_dates(library, distinct),
        updated=last_change(library.db),
    )
    publish_folder(outdir, files, marker=MARKER)
    return SiteReport(outdir, len(distinct), sorted(files))


def _study_dates(library: Library, refs: Sequence[Reference]) -> dict[str, StudyDates]:
    """When each study (by key) entered the library and last changed, from the log."""
    from refdb.render.feed import StudyDates
    from refdb.store.changes import study_times

    times = study_times(library.db, [ref.id for ref in refs if ref.id is not None])
    dates = {}
    for ref in refs:
        found = times.get(ref.id) if ref.id is not None else None
        if found is not None:
            dates[ref.key or ""] = StudyDates(found.added or found.changed, found.changed)
    return dates


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
        from refdb.render.page import render_bibliography

        return render_bibliography(_grouped(library, indication), style=style, fmt=fmt)
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


def changes_text(report: ChangeReport) -> str:
    """A changes report as text, in a page reader's words (`refdb changes`)."""
    from refdb.render.changes import render_changes

    return render_changes(report)


def changes_json(report: ChangeReport) -> dict[str, Any]:
    """A changes report as JSON (`refdb changes --json`)."""
    from refdb.render.changes import changes_json as to_json

    return to_json(report)
