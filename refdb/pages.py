"""A kept page or formatted bibliography (`page -o FILE --keep`, `export --format
text|markdown|html -o FILE --keep`) written again after a change at the cost of what changed:
the studies the committed operation changed are read and formatted (`render.page_build`); every
other entry is taken from the file as it stands, with what the next rewrite needs kept in the
user cache folder (`renderings.kept_state`). The file is the one `refdb page` or `refdb export`
prints, byte for byte.

This joins the store and the renderers, so it lives at the library level, beside `kept.py`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from refdb import renderings
from refdb.formats import OutputOptions
from refdb.publish import write_atomically
from refdb.records import Reference
from refdb.render.page import DEFAULT_TITLE
from refdb.render.page_build import build_page
from refdb.store.changes import last_operation
from refdb.store.database import Committed
from refdb.store.library import Library


def _groups(library: Library, indication: str | None) -> list[tuple[str, list[int]]]:
    """The page's groups (heading, study ids in page order): one indication's, or every
    indication's and then "Other studies"; none left empty."""
    named = [indication] if indication is not None else []
    return [(section.heading, section.ids) for section in library.sections(named)]


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def write_page(
    library: Library, path: Path, options: OutputOptions, committed: Committed | None
) -> None:
    """Write a kept page or bibliography (OSError when the file cannot be written)."""
    operation = last_operation(library.db)  # first: what is read next is at least this new
    indication = options.indications[0] if options.indications else None
    groups = _groups(library, indication)
    page = options.kind == "page"
    state_file = renderings.kept_state(library, path)
    previous = None
    if committed is not None and not committed.indications:
        state = renderings.read_json(state_file)
        try:
            text = path.read_bytes()
        except OSError:
            text = None
        if (
            isinstance(state, dict)
            and text is not None
            and state.get("operation") == committed.previous
            and state.get("digest") == _digest(text)  # the file as that build wrote it
        ):
            previous = (state, text)

    def read(ids: Sequence[int]) -> Mapping[int, Reference]:
        return {ref.id: ref for ref in library.references(ids) if ref.id is not None}

    cache = renderings.citation_cache(library, options.style)
    build = build_page(
        groups,
        read,
        style=options.style,
        fmt=options.fmt,
        title=DEFAULT_TITLE if page else None,
        levels=options.levels if page else False,
        operation=operation,
        changed=committed.studies if previous is not None and committed else None,
        previous=previous,
        cache=cache,
    )
    write_atomically(path, build.text.decode("utf-8"))
    renderings.save(cache)
    renderings.write_json(state_file, {**build.state, "digest": _digest(build.text)})
