"""Searching N studies: `Library.search` (SQLite FTS5) vs loading every study and filtering.

The baseline is what a search without the index would do: `Library.studies()`, then keep the
studies whose title, abstract, authors, journal or key contain every word of the query.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _common import Figure, best_of, parse_options, print_table, sqlite_url, synthetic_references

from refdb.records import Reference
from refdb.store.library import Library

QUERIES = (
    "ketamine",
    "esketamine depression",
    "fibromyalgia veterans",
    "schwartzman",
    "crossover adolescents pain",
    "no such word anywhere",
)


def _haystack(ref: Reference) -> str:
    authors = " ".join(
        " ".join(p for p in (a.family, a.given, a.literal) if p) for a in ref.authors
    )
    parts = (ref.key, ref.title, authors, ref.container_title, ref.container_title_short)
    return " ".join(p for p in (*parts, ref.abstract) if p).casefold()


def filter_studies(refs: Sequence[Reference], query: str) -> list[Reference]:
    """The baseline's match: every word of the query starts a word of the study's text.

    A substring found at a word start, as FTS5 matches the prefix queries refdb sends
    ("ketamine" finds "ketamine-assisted" but not "esketamine").
    """
    patterns = [re.compile(rf"(?<!\w){re.escape(w)}") for w in re.findall(r"\w+", query.casefold())]
    return [ref for ref in refs if all(p.search(_haystack(ref)) for p in patterns)]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the search figures; returns the exit status."""
    options = parse_options(argv, __doc__ or "", size=2000, quick_size=200)
    refs = synthetic_references(options.size)
    n = len(refs)
    with tempfile.TemporaryDirectory(prefix="refdb-bench-") as tmp:
        library = Library(sqlite_url(Path(tmp) / "search.db"))
        try:
            library.save(refs, source="bibtex:bench.bib", command="bench search")
            found_fts = {q: len(library.search(q, limit=n)) for q in QUERIES}
            loaded = library.studies()
            found_scan = {q: len(filter_studies(loaded, q)) for q in QUERIES}

            def fts() -> None:
                for query in QUERIES:
                    library.search(query, limit=n)

            def fts_top50() -> None:
                for query in QUERIES:
                    library.search(query)

            def scan() -> None:
                for query in QUERIES:
                    filter_studies(library.studies(), query)

            def scan_loaded() -> None:
                for query in QUERIES:
                    filter_studies(loaded, query)

            times = {
                name: best_of(options.repeats, run)
                for name, run in (
                    ("scan", scan),
                    ("fts", fts),
                    ("top50", fts_top50),
                    ("loaded", scan_loaded),
                )
            }
        finally:
            library.close()
    searches = len(QUERIES)
    print_table(
        f"Search: {searches} queries over {n} studies (n = queries)",
        Figure("load studies() + filter in Python, per query", searches, times["scan"]),
        [
            Figure("Library.search, FTS5, all matches (refdb)", searches, times["fts"]),
            Figure("Library.search, FTS5, default limit 50", searches, times["top50"]),
            Figure("filter only (studies already loaded)", searches, times["loaded"]),
        ],
    )
    print(f"{'query':<28}  {'FTS5':>6}  {'scan':>6}")
    for query in QUERIES:
        print(f"{query:<28}  {found_fts[query]:>6}  {found_scan[query]:>6}")
    same = found_fts == found_scan
    print(f"check: FTS5 and the scan found the same number of studies: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
