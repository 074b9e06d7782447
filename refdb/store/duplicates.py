"""Likely duplicates: the same DOI or PMID, or a near-identical title with the same year."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from refdb.records import Reference
from refdb.store.models import Study, StudyIndication
from refdb.store.rows import to_reference

TITLE_THRESHOLD = 92.0
"""rapidfuzz ratio (0-100) of normalised titles above which two studies of one year match."""


@dataclass
class DuplicatePair:
    """Two studies that are likely one, the older first, with a score and the reason."""

    keep: Reference
    other: Reference
    score: float
    reason: str


def _pair_reason(a: Study, b: Study) -> tuple[float, str] | None:
    ids_a = {(i.kind, i.value.lower()) for i in a.identifiers if i.kind in ("pmid", "doi")}
    ids_b = {(i.kind, i.value.lower()) for i in b.identifiers if i.kind in ("pmid", "doi")}
    shared = ids_a & ids_b
    if shared:
        kind, value = sorted(shared)[0]
        return 100.0, f"same {kind.upper()} {value}"
    kinds_a, kinds_b = dict(ids_a), dict(ids_b)
    if any(k in kinds_a and k in kinds_b and kinds_a[k] != kinds_b[k] for k in ("pmid", "doi")):
        return None  # different identifiers of the same kind: different studies
    if a.year is not None and b.year is not None and a.year != b.year:
        return None
    score = float(fuzz.ratio(a.title_norm, b.title_norm))
    if score >= TITLE_THRESHOLD:
        return score, "near-identical title" + (f" and year {a.year}" if a.year else "")
    return None


def find_duplicates(session: Session) -> list[DuplicatePair]:
    """Every likely duplicate pair, best match first."""
    studies = session.scalars(
        select(Study)
        .options(
            selectinload(Study.identifiers),
            selectinload(Study.authors),
            selectinload(Study.links).selectinload(StudyIndication.indication),
        )
        .order_by(Study.id)
    ).all()
    # Only studies of the same year (or of unknown year) can be one study: compare within
    # those buckets rather than every pair.
    by_year: dict[int | None, list[Study]] = {}
    for study in studies:
        by_year.setdefault(study.year, []).append(study)
    undated = by_year.get(None, [])
    candidates: set[tuple[int, int]] = set()
    for year, bucket in by_year.items():
        pool = bucket if year is None else bucket + undated
        for i, first in enumerate(pool):
            for second in pool[i + 1 :]:
                candidates.add((min(first.id, second.id), max(first.id, second.id)))
    by_id = {s.id: s for s in studies}
    pairs: list[DuplicatePair] = []
    for first_id, second_id in sorted(candidates):
        first, second = by_id[first_id], by_id[second_id]
        found = _pair_reason(first, second)
        if found:
            pairs.append(DuplicatePair(to_reference(first), to_reference(second), *found))
    pairs.sort(key=lambda p: (-p.score, p.keep.id or 0, p.other.id or 0))
    return pairs
