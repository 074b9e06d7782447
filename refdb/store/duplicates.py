"""Likely duplicates: the same DOI or PMID, or a near-identical title with the same year.

The rule for one pair is `pair_reason`. Finding the pairs does not apply it to every pair of
the library: candidates come from blocks that provably hold every pair the rule accepts, and
the rule then decides each candidate exactly as among all pairs.

- Pairs sharing a PMID or DOI: an index of the identifiers.
- Pairs whose titles can reach `TITLE_THRESHOLD`, looked for only where the rule allows a
  match: the same year (or an unknown year on either side), and no identifier kind held by
  both (two different PMIDs, or two different DOIs, are never one study). fuzz.ratio is
  100 * (1 - d / (len1 + len2)), d the insert/delete edit distance, so a score of 92 needs
  d <= 0.08 * (len1 + len2); two cheap lower bounds of d rule pairs out before any scoring:
  the difference in length, and the difference in letter counts (a common subsequence holds
  each letter at most as often as the poorer title, so d >= the sum over letters of
  |count1 - count2|; counting letters in shared bins only lowers the sum). Both are tested
  against 0.09 rather than 0.08, and the remaining pairs are scored with a cut-off of 91, so
  that no rounding at the edge loses a pair; `pair_reason` applies the threshold itself.
  Where most titles pass the counts (titles of the same words), rapidfuzz's `process.cdist`
  scores them all in C instead.

The studies are read with Core (id, year, normalised title, PMIDs and DOIs); References are
built only for the studies in the pairs found.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations, combinations_with_replacement
from typing import TYPE_CHECKING, NamedTuple

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from refdb.records import Reference
from refdb.store.models import Identifier, Study, table
from refdb.store.rows import references_for

if TYPE_CHECKING:  # numpy is loaded only when titles are compared
    import numpy as np
    from numpy.typing import NDArray

TITLE_THRESHOLD = 92.0
"""rapidfuzz ratio (0-100) of normalised titles above which two studies of one year match."""

_CUTOFF = TITLE_THRESHOLD - 1.0
"""The scoring's cut-off: below the threshold, so that no pair at the edge is lost to rounding;
`pair_reason` then applies the threshold itself."""
_SLACK = 1.0 - _CUTOFF / 100.0
_SHRINK = (1.0 - _SLACK) / (1.0 + _SLACK)
"""Titles of lengths a and b can score the cut-off only when |a - b| <= slack * (a + b), that
is when b lies between a * shrink and a / shrink (shrink = 0.835; the threshold itself needs
0.852)."""
_ROWS = 32
"""Titles compared at a time: a few titles of about one length against the titles whose
lengths they can meet (and, within one block, only the ones after them)..."""
_COLUMNS = 2048
"""...at most this many at once (the arrays of one step: 32 x 2048 x 48 counts)."""
_BINS = 48
_OWN = "abcdefghijklmnopqrstuvwxyz0123456789 "
_OWN_BIN = [_OWN.find(chr(code)) for code in range(128)]
"""Letter-count bins: one for each character of `_OWN`, the rest shared by all others."""
_KIND_BITS = {"pmid": 1, "doi": 2}


class StudyKey(NamedTuple):
    """What the rule reads of a study: its id, year, normalised title and PMIDs/DOIs."""

    id: int
    year: int | None
    title: str
    ids: frozenset[tuple[str, str]]  # (kind, value in lower case), kind "pmid" or "doi"

    @property
    def kinds(self) -> int:
        """The identifier kinds held, as bits (1: PMID, 2: DOI)."""
        return sum({_KIND_BITS[kind] for kind, _ in self.ids})


@dataclass
class DuplicatePair:
    """Two studies that are likely one, the older first, with a score and the reason."""

    keep: Reference
    other: Reference
    score: float
    reason: str


def pair_reason(a: StudyKey, b: StudyKey) -> tuple[float, str] | None:
    """The score and reason when `a` and `b` (the older first) are likely one study, else None.

    Different known years: never. The same PMID or DOI: 100. A different PMID, or a different
    DOI: never. Otherwise the normalised titles' rapidfuzz ratio, when it reaches the threshold.
    """
    if a.year is not None and b.year is not None and a.year != b.year:
        return None
    shared = a.ids & b.ids
    if shared:
        kind, value = min(shared)
        return 100.0, f"same {kind.upper()} {value}"
    if a.kinds & b.kinds:
        return None  # different identifiers of the same kind: different studies
    score = float(fuzz.ratio(a.title, b.title))
    if score >= TITLE_THRESHOLD:
        return score, "near-identical title" + (f" and year {a.year}" if a.year else "")
    return None


def study_keys(session: Session) -> list[StudyKey]:
    """Every study as the rule reads it, by id: two Core queries, no ORM objects."""
    studies, identifiers = table(Study), table(Identifier)
    held: dict[int, set[tuple[str, str]]] = {}
    for study_id, kind, value in session.execute(
        select(identifiers.c.study_id, identifiers.c.kind, identifiers.c.value).where(
            identifiers.c.kind.in_(tuple(_KIND_BITS))
        )
    ):
        held.setdefault(study_id, set()).add((kind, value.lower()))
    return [
        StudyKey(study_id, year, title, frozenset(held.get(study_id, ())))
        for study_id, year, title in session.execute(
            select(studies.c.id, studies.c.year, studies.c.title_norm).order_by(studies.c.id)
        )
    ]


def candidate_pairs(studies: Sequence[StudyKey]) -> set[tuple[int, int]]:
    """Id pairs (smaller first) holding every pair `pair_reason` accepts, and few others."""
    found: set[tuple[int, int]] = set()
    by_identifier: dict[tuple[str, str], list[int]] = {}
    for study in studies:
        for identifier in study.ids:
            by_identifier.setdefault(identifier, []).append(study.id)
    for same in by_identifier.values():
        if len(same) > 1:
            found.update(_ordered(a, b) for a, b in combinations(same, 2))
    blocks: dict[int | None, dict[int, list[StudyKey]]] = {}
    for study in studies:
        blocks.setdefault(study.year, {}).setdefault(study.kinds, []).append(study)
    undated = blocks.get(None, {})
    for year, by_kinds in blocks.items():
        # A year's studies meet that year's and the undated ones (the undated meet each other
        # once); two studies that both hold a PMID, or both a DOI, never match by title.
        meeting = [
            (first, second)
            for (kinds_a, first), (kinds_b, second) in combinations_with_replacement(
                by_kinds.items(), 2
            )
            if not kinds_a & kinds_b
        ]
        if year is not None:
            meeting += [
                (first, second)
                for kinds_a, first in by_kinds.items()
                for kinds_b, second in undated.items()
                if not kinds_a & kinds_b
            ]
        for first, second in meeting:
            found.update(_close_titles(first, second, first is second))
    return found


def _close_titles(
    left: list[StudyKey], right: list[StudyKey], same: bool
) -> Iterator[tuple[int, int]]:
    """Id pairs, one study from each side (or two of one side), whose titles score at least
    the cut-off: every pair whose lengths and letter counts allow it is scored."""
    import numpy as np

    queries = sorted(left, key=lambda s: len(s.title))
    choices = queries if same else sorted(right, key=lambda s: len(s.title))
    titles = [s.title for s in choices]
    lengths = [len(title) for title in titles]
    counts, sizes = _letter_counts(titles)
    mine, my_sizes = (counts, sizes) if same else _letter_counts([s.title for s in queries])
    dense = False  # the letter counts stop being worth it once most titles pass them
    for start in range(0, len(queries), _ROWS):
        rows = queries[start : start + _ROWS]
        low = start if same else bisect_left(lengths, len(rows[0].title) * _SHRINK)
        high = bisect_right(lengths, len(rows[-1].title) / _SHRINK)
        these, these_sizes = mine[start : start + _ROWS, None, :], my_sizes[start : start + _ROWS]
        for first in range(low, high, _COLUMNS):
            last = min(high, first + _COLUMNS)
            if dense:
                near = _scored(rows, titles[first:last])
            else:
                apart = np.abs(these - counts[None, first:last, :]).sum(axis=2)
                near = apart <= _SLACK * (these_sizes[:, None] + sizes[None, first:last])
                # Titles made of the same letters pass the counts: rapidfuzz scores them in C.
                dense = near.sum() * 8 > near.size
                if dense:
                    near &= _scored(rows, titles[first:last])
            for row, column in zip(*(ix.tolist() for ix in near.nonzero()), strict=True):
                a, b = rows[row], choices[first + column]
                if a.id != b.id and fuzz.ratio(a.title, b.title, score_cutoff=_CUTOFF):
                    yield _ordered(a.id, b.id)


def _scored(rows: Sequence[StudyKey], titles: Sequence[str]) -> NDArray[np.bool_]:
    """Which titles each row's title scores at least the cut-off with (rapidfuzz, in C)."""
    scores = process.cdist(
        [s.title for s in rows],
        titles,
        scorer=fuzz.ratio,
        score_cutoff=_CUTOFF,
        dtype="uint8",
        workers=-1,
    )
    found: NDArray[np.bool_] = scores > 0
    return found


def _letter_counts(titles: Sequence[str]) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """Each title's characters counted in `_BINS` bins (a-z, 0-9 and the space each in its own,
    any other character in one of the rest by its code point), and each title's length."""
    import numpy as np

    sizes = np.fromiter(map(len, titles), dtype=np.int64, count=len(titles))
    counts = np.zeros((len(titles), _BINS), dtype=np.int32)
    own = np.array(_OWN_BIN, dtype=np.int64)
    for start in range(0, len(titles), _COLUMNS):  # in slices: a few MB at a time
        part = titles[start : start + _COLUMNS]
        text = "".join(part).encode("utf-32-le", "surrogatepass")
        codes = np.frombuffer(text, dtype="<u4").astype(np.int64)
        mine = own[np.minimum(codes, 127)]
        bins = np.where((codes < 128) & (mine >= 0), mine, len(_OWN) + codes % (_BINS - len(_OWN)))
        owner = np.repeat(np.arange(len(part), dtype=np.int64), sizes[start : start + _COLUMNS])
        counted = np.bincount(owner * _BINS + bins, minlength=len(part) * _BINS)
        counts[start : start + len(part)] = counted.reshape(len(part), _BINS)
    return counts, sizes


def _ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def find_duplicates(session: Session) -> list[DuplicatePair]:
    """Every likely duplicate pair, best match first (ties: by the older study's id)."""
    studies = study_keys(session)
    by_id = {study.id: study for study in studies}
    scored: list[tuple[float, int, int, str]] = []
    for a, b in candidate_pairs(studies):
        found = pair_reason(by_id[a], by_id[b])
        if found:
            scored.append((-found[0], a, b, found[1]))
    scored.sort()
    wanted = sorted({i for _, a, b, _ in scored for i in (a, b)})
    references = {ref.id: ref for ref in references_for(session, wanted)}
    return [
        DuplicatePair(references[a], references[b], -negated, reason)
        for negated, a, b, reason in scored
    ]
