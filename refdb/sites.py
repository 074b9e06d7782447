"""The static evidence site of a library: the store's studies handed to `render.site_build`
and written into the site's folder at once (`publish`). After a change (a kept site), only the
studies the change reached are read and rendered again; the rest is taken from the site as it
stands.

This joins the store and the renderers, so it lives at the library level, beside `views.py`
and `kept.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from refdb import renderings
from refdb.formats import DEFAULT_STYLE
from refdb.publish import replace_folder, site_folder
from refdb.records import Reference
from refdb.render.feed import StudyDates
from refdb.render.page import DEFAULT_TITLE
from refdb.render.site import MARKER
from refdb.render.site_build import build_site
from refdb.render.site_state import GroupIds, Reader, read_state
from refdb.store.changes import last_change, last_operation, study_times
from refdb.store.database import Committed
from refdb.store.library import Library


@dataclass
class SiteReport:
    """What `site` wrote: the folder, how many studies it shows, and its files."""

    path: Path
    studies: int
    files: list[str]
    rendered: int = 0
    """How many studies were read and rendered (the others were kept as they were)."""


def _groups(library: Library, indications: Sequence[str]) -> list[GroupIds]:
    """The index's sections in page order: the named indications (or all, then the studies
    filed under none as "Other studies"), each with its studies' ids; none left empty."""
    return [GroupIds(s.name, s.heading, s.ids) for s in library.sections(indications)]


def _reader(library: Library) -> Reader:
    def read(ids: Sequence[int]) -> Mapping[int, tuple[Reference, StudyDates | None]]:
        """These studies, and when each entered the library and last changed (the log)."""
        refs = library.references(ids)
        times = study_times(library.db, [ref.id for ref in refs if ref.id is not None])
        found: dict[int, tuple[Reference, StudyDates | None]] = {}
        for ref in refs:
            assert ref.id is not None  # read from the store
            when = times.get(ref.id)
            dates = StudyDates(when.added or when.changed, when.changed) if when else None
            found[ref.id] = (ref, dates)
        return found

    return read


def write_site(
    library: Library,
    outdir: Path,
    *,
    style: str = DEFAULT_STYLE,
    indications: Sequence[str] = (),
    committed: Committed | None = None,
) -> SiteReport:
    """Write the static evidence site into `outdir` (see `api.site`). After `committed` (a
    kept site), only what it changed is rendered again, when the site there was written just
    before it (by the operation it follows); otherwise every study is."""
    operation = last_operation(library.db)  # first: what is read next is at least this new
    groups = _groups(library, indications)
    shown = {group.name for group in groups}
    specs = library.specs(shown)
    updated = last_change(library.db)
    cache = renderings.citation_cache(library, style)
    with site_folder(outdir, MARKER) as where:
        previous = None
        if committed is not None and not committed.indications:
            previous = read_state(where)
            if previous is not None and previous.state.get("operation") != committed.previous:
                previous = None  # the site there missed a change (a failed write, another build)
        build = build_site(
            groups,
            _reader(library),
            style=style,
            title=DEFAULT_TITLE,
            indications=specs,
            updated=updated,
            operation=operation,
            changed=committed.studies if previous is not None and committed else None,
            previous=previous,
            cache=cache,
        )
        replace_folder(where, build.files, marker=MARKER, linked=build.linked)
    renderings.save(cache)
    files = sorted([*build.files, *build.linked])
    return SiteReport(outdir, build.studies, files, build.rendered)
