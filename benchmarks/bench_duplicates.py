"""Finding likely duplicates: year-bucketed candidate pairs vs comparing every pair.

About 5% of the N studies are planted near-duplicates of another study (the same title with a
small slip, the same year, no identifiers). refdb's `find_duplicates` only compares studies of
the same (or an unknown) year; the baseline compares every pair with the same per-pair rule
(shared DOI/PMID, else rapidfuzz title ratio), so both must report the same pairs.
"""

from __future__ import annotations

import random
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from _common import Figure, best_of, parse_options, print_table, sqlite_url, synthetic_references
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from refdb.records import Reference
from refdb.store.duplicates import DuplicatePair, _pair_reason, find_duplicates
from refdb.store.library import Library
from refdb.store.models import Study, StudyIndication
from refdb.store.rows import to_reference

PLANTED_SHARE = 0.05


def _slip(title: str, rng: random.Random) -> str:
    """The title as a careless re-typing gives it: one letter dropped or doubled, or a comma."""
    words = title.split()
    n = rng.randrange(len(words))
    word = words[n]
    kind = rng.randrange(3)
    if kind == 0 and len(word) > 3:
        cut = rng.randrange(1, len(word) - 1)
        words[n] = word[:cut] + word[cut + 1 :]
    elif kind == 1:
        words[n] = word[0] + word
    else:
        words[n] = word + ","
        words.insert(n + 1, "and")
    return " ".join(words)


def studies_with_duplicates(n: int) -> tuple[list[Reference], int]:
    """`n` studies, about 5% of them planted near-duplicates; and how many were planted."""
    rng = random.Random(7)
    planted = max(1, round(n * PLANTED_SHARE))
    originals = synthetic_references(n - planted)
    copies = []
    for original in rng.sample(originals, planted):
        copy = replace(original, title=_slip(original.title, rng), doi=None, pmid=None, key=None)
        copies.append(copy)
    return originals + copies, planted


def every_pair(library: Library) -> list[DuplicatePair]:
    """The baseline: `find_duplicates` without the year buckets, every pair compared."""
    with library.db.reading() as session:
        studies = session.scalars(
            select(Study)
            .options(
                selectinload(Study.identifiers),
                selectinload(Study.authors),
                selectinload(Study.links).selectinload(StudyIndication.indication),
            )
            .order_by(Study.id)
        ).all()
        pairs: list[DuplicatePair] = []
        for i, first in enumerate(studies):
            for second in studies[i + 1 :]:
                found = _pair_reason(first, second)
                if found:
                    pairs.append(DuplicatePair(to_reference(first), to_reference(second), *found))
        pairs.sort(key=lambda p: (-p.score, p.keep.id or 0, p.other.id or 0))
        return pairs


def bucketed(library: Library) -> list[DuplicatePair]:
    """refdb's way: `find_duplicates` in a reading session."""
    with library.db.reading() as session:
        return find_duplicates(session)


def _ids(pairs: Sequence[DuplicatePair]) -> set[tuple[int | None, int | None]]:
    return {(p.keep.id, p.other.id) for p in pairs}


def main(argv: Sequence[str] | None = None) -> int:
    """Print the duplicate-finding figures; returns the exit status."""
    options = parse_options(argv, __doc__ or "", size=1500, quick_size=150)
    refs, planted = studies_with_duplicates(max(options.size, 2))
    n = len(refs)
    with tempfile.TemporaryDirectory(prefix="refdb-bench-") as tmp:
        library = Library(sqlite_url(Path(tmp) / "duplicates.db"))
        try:
            summary = library.save(refs, source="bibtex:bench.bib", command="bench duplicates")
            if summary.count("added") != n:
                print(f"expected {n} studies added, got {summary.count('added')}")
                return 1
            results: dict[str, list[DuplicatePair]] = {}

            def run_baseline() -> None:
                results["baseline"] = every_pair(library)

            def run_refdb() -> None:
                results["refdb"] = bucketed(library)

            baseline = best_of(options.repeats, run_baseline)
            refdb_time = best_of(options.repeats, run_refdb)
        finally:
            library.close()
    print_table(
        f"Duplicates: {n} studies, {planted} planted near-duplicates",
        Figure("every pair compared", n, baseline),
        [Figure("year-bucketed candidates, find_duplicates (refdb)", n, refdb_time)],
    )
    found_all, found_refdb = results["baseline"], results["refdb"]
    print(f"pairs found: every pair {len(found_all)}, find_duplicates {len(found_refdb)}")
    same = _ids(found_all) == _ids(found_refdb)
    print(f"check: both found the same pairs: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
