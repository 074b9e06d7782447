"""Storing N references: one `Library.save` transaction vs one transaction per reference.

Also times re-importing the same N references into the filled library (all unchanged), which
is the cost of matching each incoming reference to the study it already is.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _common import Figure, best_of, parse_options, print_table, sqlite_url, synthetic_references

from refdb.records import Reference
from refdb.store.library import Library

SOURCE = "bibtex:bench.bib"


class _FreshLibrary:
    """A new, migrated SQLite library per timed run (migration is not timed)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self.library: Library | None = None

    def setup(self) -> None:
        self.close()
        self.count += 1
        self.library = Library(sqlite_url(self.folder / f"bench-{self.count}.db"))

    def close(self) -> None:
        if self.library is not None:
            self.library.close()
            self.library = None

    @property
    def current(self) -> Library:
        assert self.library is not None
        return self.library


def _save_batch(library: Library, refs: Sequence[Reference]) -> None:
    summary = library.save(refs, source=SOURCE, command="bench import")
    if summary.count("added") != len(refs):
        raise SystemExit(f"expected {len(refs)} added, got {summary.count('added')}")


def _save_each(library: Library, refs: Sequence[Reference]) -> None:
    for ref in refs:
        library.save([ref], source=SOURCE, command="bench import")


def main(argv: Sequence[str] | None = None) -> int:
    """Print the import figures; returns the exit status."""
    options = parse_options(argv, __doc__ or "", size=500, quick_size=100)
    refs = synthetic_references(options.size)
    n = len(refs)
    with tempfile.TemporaryDirectory(prefix="refdb-bench-") as tmp:
        fresh = _FreshLibrary(Path(tmp))
        try:
            each = best_of(
                options.repeats, lambda: _save_each(fresh.current, refs), setup=fresh.setup
            )
            batch = best_of(
                options.repeats, lambda: _save_batch(fresh.current, refs), setup=fresh.setup
            )
            # The last library holds all N: import them again, every one unchanged.
            library = fresh.current
            unchanged: list[int] = []

            def reimport() -> None:
                summary = library.save(refs, source=SOURCE, command="bench reimport")
                unchanged.append(summary.count("unchanged"))

            again = best_of(options.repeats, reimport)
        finally:
            fresh.close()
    print_table(
        "Import: Library.save into a new SQLite file",
        Figure("one transaction per reference", n, each),
        [
            Figure("one transaction for all (refdb)", n, batch),
            Figure("re-import, all unchanged (one transaction)", n, again),
        ],
    )
    ok = all(count == n for count in unchanged)
    print(f"check: re-import left all {n} unchanged: {'yes' if ok else 'NO'} {unchanged}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
