"""The normalised `Reference` record: the one shape that crosses layers.

Sources produce References, the store persists them, renderers consume them. CSL-JSON is
the model for the bibliographic fields (`refdb.csl` maps one to the other); what a field is
and how it is edited is in `refdb.fields`; identifiers are checked in `refdb.identifiers`.
"""

from __future__ import annotations

import calendar
import functools
import re
import unicodedata
from dataclasses import dataclass, field, fields
from typing import Any

from refdb.identifiers import doi_key

STATUSES = ("retracted", "corrected", "expression-of-concern")
"""The study statuses refdb knows, worst first."""

NOTICE_KINDS = {
    "RetractionIn": "retracted",
    "ErratumIn": "corrected",
    "ExpressionOfConcernIn": "expression-of-concern",
}
"""PubMed CommentsCorrections types that change a study's status, and the status they set."""

CSL_TYPES = frozenset(
    [
        "article",
        "article-journal",
        "article-magazine",
        "article-newspaper",
        "bill",
        "book",
        "broadcast",
        "chapter",
        "classic",
        "collection",
        "dataset",
        "document",
        "entry",
        "entry-dictionary",
        "entry-encyclopedia",
        "figure",
        "graphic",
        "hearing",
        "interview",
        "legal_case",
        "legislation",
        "manuscript",
        "map",
        "motion_picture",
        "musical_score",
        "pamphlet",
        "paper-conference",
        "patent",
        "performance",
        "periodical",
        "personal_communication",
        "post",
        "post-weblog",
        "regulation",
        "report",
        "review",
        "review-book",
        "software",
        "song",
        "speech",
        "standard",
        "thesis",
        "treaty",
        "webpage",
    ]
)
"""The item types the CSL-JSON schema (1.0.2) allows."""

_TITLE_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "on",
        "in",
        "for",
        "and",
        "to",
        "with",
        "at",
        "by",
        "from",
        "is",
        "are",
        "as",
        "its",
    ]
)


@dataclass
class Author:
    """One author: a person (family, given) or a collective name (literal)."""

    family: str | None = None
    given: str | None = None
    literal: str | None = None
    suffix: str | None = None
    initials: str | None = None

    def sort_name(self) -> str:
        """The name a list sorts and keys by: the family name, else the collective name."""
        return self.family or self.literal or ""

    def display(self) -> str:
        """A short human form: 'Schwartzman RJ' or the collective name."""
        if self.literal:
            return self.literal
        initials = self.initials or initials_of(self.given or "")
        return f"{self.family} {initials}".strip()


@dataclass
class Notice:
    """A published notice about a study: a retraction, an erratum, an expression of concern."""

    kind: str
    pmid: str | None = None
    citation: str | None = None


@dataclass
class IndicationSpec:
    """An indication as a source describes it: its name, page heading and order."""

    name: str
    heading: str
    position: int | None = None


@dataclass(frozen=True)
class FieldSource:
    """Which source set a field, and when (ISO 8601, UTC); shared, so never changed."""

    source: str
    at: str


@dataclass
class Reference:
    """One study, normalised. Every layer speaks this shape."""

    title: str
    authors: list[Author] = field(default_factory=list)
    authors_complete: bool = True
    editors: list[Author] = field(default_factory=list)
    type: str = "article-journal"
    container_title: str | None = None
    container_title_short: str | None = None
    year: int | None = None
    month: int | None = None
    day: int | None = None
    season: int | None = None
    """CSL's season: 1 spring, 2 summer, 3 autumn, 4 winter."""
    circa: bool = False
    date_text: str | None = None
    """The date as the source wrote it, when it said more than year, month and day can
    ('1997/2000', 'in press', '1985a', '199X'); None for a plain date."""
    epub_date: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    url: str | None = None
    abstract: str | None = None
    language: str | None = None
    publisher: str | None = None
    issn: str | None = None
    publication_types: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    key: str | None = None
    aliases: list[str] = field(default_factory=list)
    indications: list[str] = field(default_factory=list)
    status: str | None = None
    status_note: str | None = None
    notices: list[Notice] = field(default_factory=list)
    evidence_level: str | None = None
    """One of `evidence.LEVELS`; None until a source says or a level is derived."""
    evidence_basis: str | None = None
    """What the level was derived from ("publication type 'Randomized Controlled Trial'")."""
    page_title: str | None = None
    provenance: dict[str, FieldSource] = field(default_factory=dict)
    id: int | None = None

    @property
    def first_author(self) -> str:
        """The first author's family or collective name, or '' when there is none."""
        return self.authors[0].sort_name() if self.authors else ""

    def identity(self) -> tuple[str, str]:
        """The study's identity: PMID, else DOI, else its title key (`title_key`)."""
        if self.pmid:
            return ("pmid", self.pmid)
        if self.doi:
            return ("doi", doi_key(self.doi))
        return ("title", title_key(self))

    def copy(self) -> Reference:
        """A shallow copy (its lists and records shared): `copy.copy` without the pickling
        protocol's cost, which an import of 100,000 studies pays twice a study."""
        made = object.__new__(Reference)
        made.__dict__.update(self.__dict__)
        return made

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready dict of every field (for `--json` and the change log).

        `dataclasses.asdict` deep-copies every value; this copies the few nested records
        only, which matters for `list --json` over 100,000 studies."""
        data = {name: getattr(self, name) for name in FIELD_NAMES}
        data["authors"] = [vars(a).copy() for a in self.authors]
        data["editors"] = [vars(a).copy() for a in self.editors]
        data["notices"] = [vars(n).copy() for n in self.notices]
        data["provenance"] = {k: vars(v).copy() for k, v in self.provenance.items()}
        for name in ("publication_types", "mesh_terms", "keywords", "aliases", "indications"):
            data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        """The inverse of `to_dict`; unknown keys are ignored."""
        values = {k: v for k, v in data.items() if k in _KNOWN}
        values["authors"] = [Author(**a) for a in values.get("authors") or []]
        values["editors"] = [Author(**a) for a in values.get("editors") or []]
        values["notices"] = [Notice(**n) for n in values.get("notices") or []]
        values["provenance"] = {
            k: credit(v["source"], v["at"]) for k, v in (values.get("provenance") or {}).items()
        }
        return cls(**values)


@functools.lru_cache(maxsize=4096)
def credit(source: str, at: str) -> FieldSource:
    """The FieldSource of `source` at `at`, one object for all who share it (a library's
    studies share a handful: an export of 10,000 made 160,000 of them)."""
    return FieldSource(source, at)


FIELD_NAMES = tuple(f.name for f in fields(Reference))
"""The Reference's fields, in the order `to_dict` (and `list --json`) gives them."""
_KNOWN = frozenset(FIELD_NAMES)


def initials_of(given: str) -> str:
    """'Robert J.' -> 'RJ'; 'J.-C.' -> 'JC'; 'Lucas P. J. J.' -> 'LPJJ'."""
    return "".join(part[0] for part in re.split(r"[\s.\-]+", given) if part and part[0].isalpha())


# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans(
    {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "æ": "ae", "Æ": "Ae",
     "œ": "oe", "Œ": "Oe", "ß": "ss", "þ": "th", "Þ": "Th", "\u0131": "i"}
)  # fmt: skip


def fold(text: str) -> str:
    """Accents removed and case folded: 'gonzalez' for 'González', 'orsted' for 'Ørsted'."""
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_PAGE_RANGE = re.compile(r"^([A-Za-z]*)(\d+)([A-Za-z]*)\s*[-\u2013]\s*([A-Za-z]*)(\d+)([A-Za-z]*)$")


def expand_page_range(pages: str) -> str:
    """PubMed's abbreviated ranges written out: '107-15' -> '107-115', 'R12-8' -> 'R12-R18'.

    Each comma/semicolon-separated part is expanded on its own; anything that is not a plain
    numeric range ('e632', 'iii-iv', 'discussion 116') is kept as it is.
    """
    parts = re.split(r"(\s*[,;]\s*)", pages.strip())
    return "".join(_expand_one(part) for part in parts)


def _expand_one(part: str) -> str:
    match = _PAGE_RANGE.match(part.strip())
    if not match:
        return part
    prefix, start, suffix, end_prefix, end, end_suffix = match.groups()
    if end_prefix and end_prefix != prefix:
        return part
    if len(end) < len(start):
        full_end = start[: len(start) - len(end)] + end
        if int(full_end) < int(start):
            return part
        end = full_end
    return f"{prefix}{start}{suffix}-{prefix}{end}{end_suffix}"


def check_date(
    year: int | None, month: int | None, day: int | None, *, earliest: int = -9999
) -> None:
    """Raise ValueError unless the parts make a real date ("2015-02-31" does not).

    Files may hold any year from -9999 (EDTF's negative years) to 2100; an edit by hand
    passes `earliest=1000`, so that a typo is not taken for an ancient date."""
    if year is not None and not (earliest <= year <= 2100 and year != 0):
        raise ValueError(f"year {year} is not a year")
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"month {month} is not a month")
    if day is not None:
        leap = year if year and year > 0 else 2000
        last = calendar.monthrange(leap, month or 1)[1] if month else 31
        if not 1 <= day <= last:
            raise ValueError(f"day {day} is not a day of that month")


@functools.lru_cache(maxsize=65536)
def normalise_title(title: str) -> str:
    """A title reduced for comparison: folded, markup and punctuation gone, spaces collapsed."""
    text = re.sub(r"<[^>]+>", "", title)
    text = re.sub(r"[^\w\s]", " ", fold(text))
    return " ".join(text.split())


def title_first_word(title: str) -> str:
    """The first significant word of a title, ASCII only: 'rketamine' for 'R-ketamine: ...'."""
    for word in re.split(r"\s+", fold(re.sub(r"<[^>]+>", "", title))):
        cleaned = re.sub(r"[^a-z0-9]", "", word)
        if cleaned and cleaned not in _TITLE_STOPWORDS:
            return cleaned
    return "untitled"


def base_citation_key(ref: Reference) -> str:
    """`familyYEARfirstword`, e.g. 'schwartzman2009outpatient' (clash suffixes come later)."""
    family = re.sub(r"[^a-z0-9]", "", fold(ref.first_author)) or "anon"
    year = str(ref.year) if ref.year else "nd"
    return f"{family}{year}{title_first_word(ref.title)}"


def title_key(ref: Reference) -> str:
    """What identifies a study without PMID or DOI: its normalised title, year and first
    author's family name ('outpatient intravenous ketamine ...|2009|schwartzman')."""
    return title_key_of(normalise_title(ref.title), ref.year, ref.first_author)


def title_key_of(title_norm: str, year: int | None, first_author: str) -> str:
    """`title_key` from its parts as the store holds them (the title already normalised;
    the first author's family or collective name as written)."""
    return f"{title_norm}|{year or ''}|{fold(first_author).strip()}"


KEY_CHARACTERS = re.compile(r"[A-Za-z0-9_:.+/-]{1,200}")
"""A citation key refdb keeps as a file wrote it: what BibTeX, biber and pandoc read as a key
and every export writes unchanged (`baez/article`, `knuth:ct:a`, `Smith_2020-b`, `2013`)."""


def is_citation_key(key: str) -> bool:
    """Whether refdb keeps this key as written (see KEY_CHARACTERS)."""
    return bool(KEY_CHARACTERS.fullmatch(key))
