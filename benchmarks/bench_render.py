"""Rendering: the evidence page with the parsed CSL style cached vs parsed afresh, and N
references in AMA plain text through refdb vs plain citeproc-py without refdb's rules.

refdb parses each CSL style once per process (`csl_styles.load_style`, an lru_cache) and applies its
citeproc-js fix-up rules to the parsed style and to every item; the page's cold run clears that
cache first. The plain citeproc-py baseline parses the style once, outside the timing, and
renders the same items with none of the rules.
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import Figure, best_of, parse_options, print_table, sqlite_url, synthetic_references
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON

from refdb import api
from refdb.csl import to_csl
from refdb.records import Reference
from refdb.render.citations import format_bibliography, resolve_style
from refdb.render.csl_styles import load_style


def plain_citeproc(style: Any, refs: Sequence[Reference]) -> list[str]:
    """The baseline: the references through citeproc-py as it is, plain text."""
    items = []
    for n, ref in enumerate(refs):
        item = to_csl(ref, with_custom=False)
        item["id"] = f"item-{n}"
        items.append(item)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
        for item in items:
            bibliography.register(Citation([CitationItem(item["id"])]))
        bibliography.sort()
        return [str(entry) for entry in bibliography.bibliography()]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the rendering figures; returns the exit status."""
    options = parse_options(argv, __doc__ or "", size=300, quick_size=30)
    with tempfile.TemporaryDirectory(prefix="refdb-bench-") as tmp:
        library = api.open_library(sqlite_url(Path(tmp) / "render.db"))
        try:
            api.seed(library)
            studies = sum(len(section.ids) for section in library.sections())
            # The first page in the process (nothing cached, nothing warmed): timed once.
            start = time.perf_counter()
            api.page(library)
            first = time.perf_counter() - start
            cold = best_of(options.repeats, lambda: api.page(library), setup=load_style.cache_clear)
            api.page(library)
            warm = best_of(options.repeats, lambda: api.page(library))
        finally:
            library.close()
    print_table(
        "Evidence page (refdb.api.page, AMA markdown, seeded library; n = studies)",
        Figure("cold: style parsed (cache cleared)", studies, cold),
        [
            Figure("warm: parsed style cached (refdb)", studies, warm),
            Figure("first call in the process (one run)", studies, first),
        ],
    )

    refs = synthetic_references(options.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        style = CitationStylesStyle(str(resolve_style("ama")), validate=False)
    plain_lines = plain_citeproc(style, refs)
    refdb_lines = format_bibliography(refs, "ama", "text").splitlines()
    baseline = best_of(options.repeats, lambda: plain_citeproc(style, refs))
    ours = best_of(options.repeats, lambda: format_bibliography(refs, "ama", "text"))
    print_table(
        f"AMA plain text for {len(refs)} references (style parsed beforehand)",
        Figure("plain citeproc-py, no fix-up rules", len(refs), baseline),
        [Figure("format_bibliography with refdb's rules (refdb)", len(refs), ours)],
    )
    print("first entry, plain citeproc-py:", plain_lines[0])
    print("first entry, refdb:            ", refdb_lines[0])
    same_count = len(plain_lines) == len(refdb_lines) == len(refs)
    print(f"check: both printed {len(refs)} entries: {'yes' if same_count else 'NO'}")
    return 0 if same_count and studies > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
