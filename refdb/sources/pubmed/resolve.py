"""Find the PubMed record for a title, a DOI or PMIDs.

A title is searched as a ``[Title]`` phrase, then (when the page glued two words together, as in
"Mechanisms inDepression") with the glued words split, then as loose words. The candidates are
fetched and scored with rapidfuzz on normalised titles, nudged by year and first author when they
are known. Notices (retractions, errata, comments, expressions of concern) are never accepted as
the study itself, however well their title matches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from refdb.identifiers import normalise_doi, pmid_or_none
from refdb.records import Reference, fold, normalise_title
from refdb.sources.pubmed.client import EFETCH_BATCH, EutilsClient
from refdb.sources.pubmed.parse import strip_markup

DEFAULT_THRESHOLD = 90.0
"""Score (0-100) a candidate needs to be accepted without a human looking."""

NOTICE_TITLE_PREFIXES = (
    "retraction",
    "retracted",
    "notice of retraction",
    "erratum",
    "correction",
    "corrigendum",
    "comment on",
    "expression of concern",
)
NOTICE_TYPES = frozenset(
    {
        "Retraction of Publication",
        "Published Erratum",
        "Erratum",
        "Comment",
        "Expression of Concern",
    }
)

_GLUED = re.compile(r"\b([a-z]{2,})([A-Z][a-z]{2,})\b")
_LOOSE_STOPWORDS = frozenset(
    ("a", "an", "the", "of", "on", "in", "for", "and", "to", "with", "at", "by", "from", "or")
)


@dataclass
class Candidate:
    """One PubMed record considered for a title, with its score (0-100)."""

    reference: Reference
    score: float
    notice: bool = False


@dataclass
class Resolution:
    """The outcome of a title lookup: the accepted record (or None) and every candidate."""

    title: str
    accepted: Reference | None = None
    candidates: list[Candidate] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)

    @property
    def best(self) -> Candidate | None:
        """The highest-scoring candidate that is not a notice."""
        studies = [c for c in self.candidates if not c.notice]
        return studies[0] if studies else None


def is_notice(ref: Reference) -> bool:
    """True for a retraction, erratum, comment or expression-of-concern record."""
    if NOTICE_TYPES.intersection(ref.publication_types):
        return True
    title = strip_markup(ref.title).lstrip("[( ").casefold()
    return title.startswith(NOTICE_TITLE_PREFIXES)


def title_similarity(a: str, b: str) -> float:
    """0-100: rapidfuzz ratio of the normalised titles, also compared with spaces removed.

    The spaceless comparison forgives a missing or extra space ('inDepression').
    """
    na, nb = normalise_title(strip_markup(a)), normalise_title(strip_markup(b))
    if not na or not nb:
        return 0.0
    return max(
        float(fuzz.ratio(na, nb)),
        float(fuzz.ratio(na.replace(" ", ""), nb.replace(" ", ""))),
    )


def score_candidate(
    title: str, ref: Reference, *, year: int | None = None, first_author: str | None = None
) -> float:
    """Title similarity, +3/-10 for a matching/mismatching year (±1 tolerated) and author."""
    score = title_similarity(title, ref.title)
    if year and ref.year:
        if ref.year == year:
            score += 3
        elif abs(ref.year - year) > 1:
            score -= 10
    if first_author and ref.first_author:
        if fold(first_author).strip() == fold(ref.first_author).strip():
            score += 3
        else:
            score -= 10
    return max(0.0, min(100.0, score))


def clean_title(title: str) -> str:
    """A title as typed on a page, tidied for searching: no trailing period, single spaces."""
    text = " ".join(strip_markup(title).split())
    return text.rstrip(". ").strip()


def title_queries(title: str) -> list[str]:
    """The esearch terms tried in turn: phrase, phrase with glued words split, loose words."""
    clean = clean_title(title)
    phrase = clean.replace('"', " ")
    queries = [f'"{phrase}"[Title]']
    split = _GLUED.sub(r"\1 \2", phrase)
    if split != phrase:
        queries.append(f'"{split}"[Title]')
    words = [w for w in normalise_title(split).split() if w not in _LOOSE_STOPWORDS]
    if words:
        queries.append(" AND ".join(f"{w}[Title]" for w in words))
    return queries


def resolve_title(
    client: EutilsClient,
    title: str,
    *,
    year: int | None = None,
    first_author: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    retmax: int = 10,
) -> Resolution:
    """Look a title up on PubMed; accept the best non-notice candidate at or above threshold."""
    return continue_title(client, Resolution(title=title), year, first_author, threshold, retmax)


def first_title_search(client: EutilsClient, title: str, retmax: int = 10) -> list[str]:
    """The candidate PMIDs of a title's first query (its phrase): the one esearch that settles
    most titles, whose records a list import fetches in the batches its PMIDs go in."""
    return client.esearch(title_queries(title)[0], retmax=retmax)


def resolution_from(
    title: str,
    candidates: Sequence[Reference],
    *,
    year: int | None = None,
    first_author: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> Resolution:
    """A title's resolution from its first query's records, already fetched; `continue_title`
    tries the other queries when none is accepted."""
    resolution = Resolution(title=title, queries=[title_queries(title)[0]])
    _add_candidates(resolution, candidates, year, first_author, threshold)
    return resolution


def continue_title(
    client: EutilsClient,
    resolution: Resolution,
    year: int | None = None,
    first_author: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    retmax: int = 10,
) -> Resolution:
    """Try a title's queries not tried yet, in turn, until a candidate is accepted."""
    seen = {c.reference.pmid for c in resolution.candidates if c.reference.pmid}
    for query in title_queries(resolution.title):
        if resolution.accepted is not None:
            break
        if query in resolution.queries:
            continue
        resolution.queries.append(query)
        new_ids = [i for i in client.esearch(query, retmax=retmax) if i not in seen]
        seen.update(new_ids)
        if new_ids:
            refs = client.fetch_references(new_ids)
            _add_candidates(resolution, refs, year, first_author, threshold)
    return resolution


def _add_candidates(
    resolution: Resolution,
    refs: Sequence[Reference],
    year: int | None,
    first_author: str | None,
    threshold: float,
) -> None:
    for ref in refs:
        resolution.candidates.append(
            Candidate(
                reference=ref,
                score=score_candidate(resolution.title, ref, year=year, first_author=first_author),
                notice=is_notice(ref),
            )
        )
    resolution.candidates.sort(key=lambda c: (c.notice, -c.score))
    best = resolution.best
    if best is not None and best.score >= threshold:
        resolution.accepted = best.reference


def resolve_doi(client: EutilsClient, doi: str) -> Reference | None:
    """The PubMed record whose DOI is `doi`, or None when PubMed has none."""
    wanted = normalise_doi(doi)
    if not wanted:
        return None
    ids = client.lookup_doi(wanted)
    if not ids:
        return None
    return record_with_doi(client.fetch_references(ids), wanted)


def record_with_doi(refs: Sequence[Reference], doi: str) -> Reference | None:
    """The record among `refs` whose DOI is `doi` (DOIs are case-insensitive), never a
    notice; None when there is none."""
    wanted = (normalise_doi(doi) or "").lower()
    for ref in refs:
        if wanted and (ref.doi or "").lower() == wanted and not is_notice(ref):
            return ref
    return None


def fetch_pmids(
    client: EutilsClient,
    pmids: Sequence[str | int],
    progress: Callable[[int, int], None] | None = None,
) -> list[Reference]:
    """The records for the PMIDs, in the order asked; PMIDs PubMed does not know are absent.

    One efetch per EFETCH_BATCH PMIDs; `progress(done, total)` is called after each."""
    wanted = list(dict.fromkeys(p for p in (pmid_or_none(x) for x in pmids) if p))
    by_pmid: dict[str | None, Reference] = {}
    for start in range(0, len(wanted), EFETCH_BATCH):
        by_pmid.update(
            (ref.pmid, ref) for ref in client.fetch_references(wanted[start : start + EFETCH_BATCH])
        )
        if progress is not None:
            progress(min(start + EFETCH_BATCH, len(wanted)), len(wanted))
    return [by_pmid[p] for p in wanted if p in by_pmid]
