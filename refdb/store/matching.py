"""Identity: which stored study an incoming record is, as the contract says.

A record is the study that holds its PMID, else its DOI (with no other PMID). An entry whose
key is a stored key or alias is that study when their identities agree. Without a shared
identifier, a record is the study whose normalised title, year and first author's family
name agree with its own, when nothing contradicts it (another PMID or DOI, another volume, a
book against an article) and no other record of the same batch took that study: within one
file, entries under different keys are different studies unless they share a PMID or DOI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from refdb.identifiers import doi_key
from refdb.records import Reference, fold, normalise_title, title_key, title_key_of
from refdb.store.models import AuthorRow, Identifier, Study
from refdb.store.queries import identifier_owners, key_owners
from refdb.store.rows import chunks

_ARTICLES = frozenset(
    ["article", "article-journal", "article-magazine", "article-newspaper", "review"]
)


def type_family(csl_type: str) -> str | None:
    """Types that may be one work ('article-journal' and 'article'); None for 'document',
    which says nothing."""
    if csl_type == "document":
        return None
    return "article" if csl_type in _ARTICLES else csl_type


@dataclass
class _Stored:
    """What identifies a stored study."""

    key: str
    title_key: str
    pmid: str | None = None
    doi: str | None = None
    volume: str | None = None
    type: str = "article-journal"


@dataclass
class Match:
    """The stored study a record is, and why."""

    study_id: int
    reason: str


def _contradicts(stored: _Stored, ref: Reference) -> bool:
    if stored.pmid and ref.pmid and stored.pmid != ref.pmid:
        return True
    if stored.doi and ref.doi and stored.doi != doi_key(ref.doi):
        return True
    if stored.volume and ref.volume and fold(stored.volume) != fold(ref.volume):
        return True
    families = (type_family(stored.type), type_family(ref.type))
    return None not in families and families[0] != families[1]


def _agrees(stored: _Stored, ref: Reference) -> bool:
    """A stored study whose key a record names is that record's study when the two share
    an identifier, or their title keys are one, and nothing contradicts it."""
    if _contradicts(stored, ref):
        return False
    if (stored.pmid and stored.pmid == ref.pmid) or (
        stored.doi and ref.doi and stored.doi == doi_key(ref.doi)
    ):
        return True
    return stored.title_key == title_key(ref)


def _load(session: Session, ids: set[int]) -> dict[int, _Stored]:
    found: dict[int, _Stored] = {}
    firsts: dict[int, str] = {}
    for chunk in chunks(sorted(ids)):
        for study_id, family, literal in session.execute(
            select(AuthorRow.study_id, AuthorRow.family, AuthorRow.literal).where(
                AuthorRow.study_id.in_(chunk), AuthorRow.position == 0
            )
        ):
            firsts[study_id] = family or literal or ""
        for study_id, key, title_norm, year, volume, kind in session.execute(
            select(
                Study.id, Study.key, Study.title_norm, Study.year, Study.volume, Study.type
            ).where(Study.id.in_(chunk))
        ):
            found[study_id] = _Stored(
                key=key,
                title_key=title_key_of(title_norm, year, firsts.get(study_id, "")),
                volume=volume,
                type=kind,
            )
        for study_id, kind, value in session.execute(
            select(Identifier.study_id, Identifier.kind, Identifier.value).where(
                Identifier.study_id.in_(chunk), Identifier.kind.in_(("pmid", "doi"))
            )
        ):
            if kind == "pmid":
                found[study_id].pmid = value
            else:
                found[study_id].doi = value.lower()
    return found


def match_all(session: Session, groups: Sequence[Sequence[Reference]]) -> list[Match | None]:
    """The stored study each group of records is (None: a new study), in a few queries per
    500. A group is the entries of one file that share a PMID or DOI: it is the study any
    of them is."""
    refs = [ref for group in groups for ref in group]
    keys = {k for ref in refs for k in [ref.key, *ref.aliases] if k}
    by_key = key_owners(session, keys)
    by_pmid = identifier_owners(session, "pmid", [r.pmid for r in refs if r.pmid])
    by_doi = identifier_owners(session, "doi", [r.doi for r in refs if r.doi])
    titles = sorted({normalise_title(r.title) for r in refs})
    by_title: dict[str, list[int]] = {}
    for chunk in chunks(titles):
        for study_id, title_norm in session.execute(
            select(Study.id, Study.title_norm).where(Study.title_norm.in_(chunk))
        ):
            by_title.setdefault(title_norm, []).append(study_id)
    wanted = {*by_key.values(), *by_pmid.values(), *by_doi.values()}
    wanted.update(i for ids in by_title.values() for i in ids)
    stored = _load(session, wanted)
    claimed: set[int] = set()
    matches: list[Match | None] = []
    for group in groups:
        found = next(
            (
                m
                for ref in group
                if (m := _match_one(ref, stored, by_key, by_pmid, by_doi, by_title, claimed))
            ),
            None,
        )
        if found is not None:
            claimed.add(found.study_id)
        matches.append(found)
    return matches


def _match_one(
    ref: Reference,
    stored: dict[int, _Stored],
    by_key: dict[str, int],
    by_pmid: dict[str, int],
    by_doi: dict[str, int],
    by_title: dict[str, list[int]],
    claimed: set[int],
) -> Match | None:
    for key in [ref.key, *ref.aliases]:
        owner = by_key.get(key or "")
        if owner is not None and _agrees(stored[owner], ref):
            return Match(owner, f"key {key}")
    if ref.pmid and ref.pmid in by_pmid:
        return Match(by_pmid[ref.pmid], f"PMID {ref.pmid}")
    if ref.doi and doi_key(ref.doi) in by_doi:
        owner = by_doi[doi_key(ref.doi)]
        if not (stored[owner].pmid and ref.pmid):
            return Match(owner, f"DOI {ref.doi}")
    wanted = title_key(ref)
    for candidate in by_title.get(normalise_title(ref.title), []):
        study = stored[candidate]
        if candidate in claimed or study.title_key != wanted or _contradicts(study, ref):
            continue
        return Match(candidate, "the same title, year and first author")
    return None
