"""refdb as a Python library: each function is one command, sources → store → renderers."""

from __future__ import annotations

from collections.abc import Sequence

from refdb.config import default_database_url
from refdb.sources.seeds import SEED_SOURCE, load_seeds
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


__all__: Sequence[str] = ["Library", "open_library", "page", "seed"]
