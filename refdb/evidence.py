"""The evidence level of a study, derived in one place from its PubMed publication types and
MeSH headings, with what it was derived from.

Levels, strongest first: `meta-analysis` (systematic reviews included), `rct`,
`clinical-trial` (not randomised), `observational`, `case-report`, `review` (narrative
reviews, editorials, letters, comments), `preclinical` (animal or in vitro) and
`unclassified`. MeSH "Animals" without "Humans" (or "In Vitro Techniques") makes a study
preclinical whatever its publication type says: a randomised trial in mice is not an RCT in
the sense a reader of a clinical evidence page means.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from refdb.records import Reference

LEVELS = (
    "meta-analysis",
    "rct",
    "clinical-trial",
    "observational",
    "case-report",
    "review",
    "preclinical",
    "unclassified",
)
"""The evidence levels, in the order a page or a filter lists them."""

LABELS = {
    "meta-analysis": "Meta-analysis",
    "rct": "RCT",
    "clinical-trial": "Clinical trial",
    "observational": "Observational",
    "case-report": "Case report",
    "review": "Review",
    "preclinical": "Preclinical (animal)",
    "unclassified": "Unclassified",
}
"""The short label a page shows for each level."""

_PUBLICATION_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("meta-analysis", ("Meta-Analysis", "Network Meta-Analysis", "Systematic Review")),
    ("rct", ("Randomized Controlled Trial", "Equivalence Trial")),
    (
        "clinical-trial",
        (
            "Clinical Trial",
            "Clinical Trial, Phase I",
            "Clinical Trial, Phase II",
            "Clinical Trial, Phase III",
            "Clinical Trial, Phase IV",
            "Controlled Clinical Trial",
            "Pragmatic Clinical Trial",
            "Adaptive Clinical Trial",
            "Clinical Study",
        ),
    ),
    ("observational", ("Observational Study", "Comparative Study", "Twin Study")),
    ("case-report", ("Case Reports",)),
    (
        "review",
        (
            "Review",
            "Scoping Review",
            "Editorial",
            "Letter",
            "Comment",
            "News",
            "Practice Guideline",
            "Guideline",
            "Consensus Development Conference",
        ),
    ),
)
"""PubMed publication types (MEDLINE's vocabulary) and the level each makes, strongest first."""

_OBSERVATIONAL_MESH = (
    "Cohort Studies",
    "Case-Control Studies",
    "Cross-Sectional Studies",
    "Retrospective Studies",
    "Prospective Studies",
    "Longitudinal Studies",
)


@dataclass(frozen=True)
class DerivedLevel:
    """A level and what it was derived from ("publication type 'Randomized Controlled Trial'")."""

    level: str
    basis: str


def _heading(term: str) -> str:
    """'Colitis, Ulcerative/*therapy' -> 'Colitis, Ulcerative'; '*Animals' -> 'Animals'."""
    return term.split("/", 1)[0].strip().lstrip("*").strip()


def derive_level(publication_types: Iterable[str], mesh_terms: Iterable[str]) -> DerivedLevel:
    """The evidence level that PubMed's publication types and MeSH headings make evident."""
    types = {t.strip().casefold(): t.strip() for t in publication_types}
    headings = {_heading(m).casefold(): _heading(m) for m in mesh_terms}
    if "animals" in headings and "humans" not in headings:
        return DerivedLevel("preclinical", "MeSH 'Animals' without 'Humans'")
    if "in vitro techniques" in headings and "humans" not in headings:
        return DerivedLevel("preclinical", "MeSH 'In Vitro Techniques'")
    for level, names in _PUBLICATION_TYPES:
        for name in names:
            if name.casefold() in types:
                return DerivedLevel(level, f"publication type '{types[name.casefold()]}'")
    for name in _OBSERVATIONAL_MESH:
        if name.casefold() in headings:
            return DerivedLevel("observational", f"MeSH '{headings[name.casefold()]}'")
    return DerivedLevel("unclassified", "no publication type or MeSH heading that says")


HAND_BASIS = "set by hand"


def level_of(ref: Reference) -> str:
    """A study's level slug: "unclassified" when it has none (or none refdb knows)."""
    return ref.evidence_level if ref.evidence_level in LABELS else "unclassified"


def label_of(ref: Reference) -> str:
    """The short label of a study's level ("RCT", "Preclinical (animal)")."""
    return LABELS[level_of(ref)]


def parse_level(text: str) -> str:
    """A level slug from what a person or a file wrote ('RCT', 'rct', 'Preclinical (animal)',
    'randomized controlled trial'); ValueError naming the slugs when it is none of them."""
    wanted = " ".join(text.strip().casefold().replace("_", "-").split())
    for level, label in LABELS.items():
        if wanted in (level, label.casefold(), level.replace("-", " ")):
            return level
    aliases = {
        "randomized controlled trial": "rct",
        "randomised controlled trial": "rct",
        "systematic review": "meta-analysis",
        "network meta-analysis": "meta-analysis",
        "preclinical (in vitro)": "preclinical",
        "animal": "preclinical",
        "case report": "case-report",
        "case reports": "case-report",
        "clinical trial": "clinical-trial",
    }
    if wanted in aliases:
        return aliases[wanted]
    raise ValueError(f"{text!r} is not an evidence level (use {', '.join(LEVELS)})")


def settle_level(ref: Reference) -> None:
    """Give an incoming Reference its level: the one its source states, else the one its
    publication types and MeSH make evident (with what it was derived from)."""
    if ref.evidence_level:
        try:
            ref.evidence_level = parse_level(ref.evidence_level)
            return
        except ValueError:  # readers warn about a level that is none; derive one instead
            ref.evidence_basis = None
    derived = derive_level(ref.publication_types, ref.mesh_terms)
    ref.evidence_level, ref.evidence_basis = derived.level, derived.basis
