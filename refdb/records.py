"""The normalised `Reference` record and its CSL-JSON form: the one shape that crosses layers.

Sources produce References, the store persists them, renderers consume them. CSL-JSON is
the model for the bibliographic fields; refdb's own fields (indications, status, provenance)
travel under CSL-JSON's ``custom`` key, which the official schema allows.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from refdb.dates import ParsedDate, parse_edtf, parse_free_date, season_number

STATUSES = ("retracted", "corrected", "expression-of-concern")
"""The study statuses refdb knows, worst first."""

NOTICE_KINDS = {
    "RetractionIn": "retracted",
    "ErratumIn": "corrected",
    "ExpressionOfConcernIn": "expression-of-concern",
}
"""PubMed CommentsCorrections types that change a study's status, and the status they set."""

BIBLIOGRAPHIC_FIELDS = (
    "type",
    "title",
    "container_title",
    "container_title_short",
    "year",
    "month",
    "day",
    "season",
    "circa",
    "date_text",
    "epub_date",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "pmcid",
    "url",
    "abstract",
    "language",
    "publisher",
    "issn",
)
"""Scalar fields that sources fill and that merging and enrichment compare one by one."""

LIST_FIELDS = ("publication_types", "mesh_terms", "keywords")

SOURCE_FIELDS = (
    "authors",
    "editors",
    *BIBLIOGRAPHIC_FIELDS,
    *LIST_FIELDS,
    "status",
    "status_note",
    "evidence_level",
    "page_title",
)
"""The fields a source sets on a study, and merging compares one by one (in this order)."""

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

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$|^10/[A-Za-z0-9]+$")
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


@dataclass
class FieldSource:
    """Which source set a field, and when (ISO 8601, UTC)."""

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
        """The study's identity: PMID, else DOI, else normalised title and year."""
        if self.pmid:
            return ("pmid", self.pmid)
        if self.doi:
            return ("doi", doi_key(self.doi))
        return ("title", f"{normalise_title(self.title)}|{self.year or ''}")

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready dict of every field (for `--json` and the change log).

        `dataclasses.asdict` deep-copies every value; this copies the few nested records
        only, which matters for `list --json` over 100,000 studies."""
        data = {name: getattr(self, name) for name in _FIELD_NAMES}
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
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["authors"] = [Author(**a) for a in values.get("authors") or []]
        values["editors"] = [Author(**a) for a in values.get("editors") or []]
        values["notices"] = [Notice(**n) for n in values.get("notices") or []]
        values["provenance"] = {
            k: FieldSource(**v) for k, v in (values.get("provenance") or {}).items()
        }
        return cls(**values)


_FIELD_NAMES = tuple(f.name for f in fields(Reference))


def initials_of(given: str) -> str:
    """'Robert J.' -> 'RJ'; 'J.-C.' -> 'JC'; 'Lucas P. J. J.' -> 'LPJJ'."""
    return "".join(part[0] for part in re.split(r"[\s.\-]+", given) if part and part[0].isalpha())


def normalise_doi(value: str | None) -> str | None:
    """A DOI without resolver or `doi:` prefix, its case kept for display; None when empty.

    DOIs are case-insensitive: compare them through `doi_key`.
    """
    if value is None:
        return None
    doi = _DOI_PREFIX.sub("", value.strip()).strip()
    return doi or None


def doi_key(value: str) -> str:
    """The identity form of a DOI: normalised and lower case."""
    return (normalise_doi(value) or "").lower()


def is_valid_doi(value: str) -> bool:
    """True for a normalised DOI: 10.NNNN/suffix, or a short DOI such as 10/fqd6hj."""
    return bool(_DOI_SHAPE.match(value))


def normalise_pmid(value: str | int | None) -> str | None:
    """A PMID as a string of digits, or None."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower().startswith("pmid:"):
        text = text[5:].strip()
    return text or None


def normalise_pmcid(value: str | None) -> str | None:
    """'pmc123' or '123' -> 'PMC123'."""
    if value is None or not value.strip():
        return None
    text = value.strip().upper()
    return text if text.startswith("PMC") else f"PMC{text}"


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


# --- CSL-JSON -------------------------------------------------------------------------------

_CSL_SCALARS = {
    "title": "title",
    "container_title": "container-title",
    "container_title_short": "container-title-short",
    "volume": "volume",
    "issue": "issue",
    "pages": "page",
    "doi": "DOI",
    "pmid": "PMID",
    "pmcid": "PMCID",
    "url": "URL",
    "abstract": "abstract",
    "language": "language",
    "publisher": "publisher",
    "issn": "ISSN",
}

_CUSTOM_FIELDS = (
    "indications",
    "status",
    "status_note",
    "authors_complete",
    "publication_types",
    "mesh_terms",
    "keywords",
    "aliases",
    "evidence_level",
    "evidence_basis",
    "page_title",
)


def _date_parts(year: int | None, month: int | None, day: int | None) -> list[int]:
    parts: list[int] = []
    for value in (year, month, day):
        if value is None:
            break
        parts.append(value)
    return parts


def _issued(ref: Reference) -> dict[str, Any]:
    """CSL's date object: date-parts, season and circa, and the source's own text as `raw`
    (as `literal` when there is no year to give)."""
    issued: dict[str, Any] = {}
    parts = _date_parts(ref.year, ref.month, ref.day)
    if parts:
        issued["date-parts"] = [parts]
    if ref.season:
        issued["season"] = ref.season
    if ref.circa:
        issued["circa"] = True
    if ref.date_text:
        issued["raw" if parts else "literal"] = ref.date_text
    return issued


def _iso_to_parts(iso: str) -> list[int]:
    return [int(p) for p in iso.split("-") if p.isdigit()]


def _author_to_csl(author: Author) -> dict[str, str]:
    if author.literal:
        return {"literal": author.literal}
    name = {"family": author.family or "", "given": author.given or author.initials or ""}
    if author.suffix:
        name["suffix"] = author.suffix
    return {k: v for k, v in name.items() if v}


def to_csl(ref: Reference, *, with_custom: bool = True) -> dict[str, Any]:
    """The CSL-JSON item for a Reference; refdb's own fields go under `custom`."""
    item: dict[str, Any] = {
        "id": ref.key or (f"ref-{ref.id}" if ref.id else "ref"),
        "type": ref.type,
    }
    item["title"] = ref.title
    if ref.authors:
        item["author"] = [_author_to_csl(a) for a in ref.authors]
    for attr, csl_name in _CSL_SCALARS.items():
        value = getattr(ref, attr)
        if value and attr != "title":
            item[csl_name] = value
    issued = _issued(ref)
    if issued:
        item["issued"] = issued
    if ref.editors:
        item["editor"] = [_author_to_csl(a) for a in ref.editors]
    if ref.epub_date:
        item["available-date"] = {"date-parts": [_iso_to_parts(ref.epub_date)]}
    if with_custom:
        custom: dict[str, Any] = {}
        for name in _CUSTOM_FIELDS:
            value = getattr(ref, name)
            if name == "authors_complete":
                if not value:
                    custom[name] = False
            elif value:
                custom[name] = value
        if ref.notices:
            custom["notices"] = [asdict(n) for n in ref.notices]
        if custom:
            item["custom"] = custom
    return item


def _csl_name(name: dict[str, Any]) -> Author:
    if name.get("literal"):
        return Author(literal=str(name["literal"]))
    given = name.get("given")
    family = name.get("family")
    particle = name.get("non-dropping-particle")
    if particle and family:
        family = f"{particle} {family}"
    dropping = name.get("dropping-particle")
    if dropping and given:
        given = f"{given} {dropping}"
    return Author(
        family=str(family) if family else None,
        given=str(given) if given else None,
        suffix=str(name["suffix"]) if name.get("suffix") else None,
        initials=initials_of(str(given)) if given else None,
    )


CROSSREF_TYPES = {
    "journal-article": "article-journal",
    "book-chapter": "chapter",
    "book-section": "chapter",
    "book-part": "chapter",
    "proceedings-article": "paper-conference",
    "posted-content": "article",
    "reference-entry": "entry",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "book-set": "book",
    "book-series": "book",
    "journal-issue": "periodical",
    "journal": "periodical",
    "proceedings": "book",
    "dissertation": "thesis",
    "report-series": "report",
    "component": "document",
    "peer-review": "review",
    "other": "document",
}
"""Crossref's own work types (its raw JSON) and the CSL types they are."""


def _csl_text(value: Any) -> str | None:
    """A CSL string variable; Crossref writes some as lists ('title': ['...'])."""
    if isinstance(value, list):
        value = next(
            (v for v in value if isinstance(v, str | int | float) and str(v).strip()), None
        )
    if value is None or isinstance(value, dict | list | bool):
        return None
    text = " ".join(str(value).split())
    return text or None


def _csl_part(value: Any) -> int | None:
    text = str(value).strip()
    return int(text) if re.fullmatch(r"-?\d{1,5}", text) else None


def _csl_date(value: Any, warn: Callable[[str], None]) -> ParsedDate | None:
    """A CSL date object (date-parts as numbers or strings, a range, season, circa, literal,
    raw) read into its parts; what the parts cannot say stays in `text`."""
    if not isinstance(value, dict):
        if isinstance(value, str) and value.strip():
            return parse_edtf(value) or parse_free_date(value)
        return None
    parsed: ParsedDate | None = None
    ranges = value.get("date-parts")
    if isinstance(ranges, list) and ranges and isinstance(ranges[0], list) and ranges[0]:
        parts = [_csl_part(p) for p in ranges[0][:3]]
        if parts[0] is not None:
            parsed = ParsedDate(year=parts[0])
            if len(parts) > 1 and parts[1] is not None:
                if 21 <= parts[1] <= 24:
                    parsed.season = parts[1] - 20
                else:
                    parsed.month = parts[1]
                    parsed.day = parts[2] if len(parts) > 2 else None
            if len(ranges) > 1 and isinstance(ranges[1], list) and ranges[1]:
                end = "-".join(str(p) for p in ranges[1] if _csl_part(p) is not None)
                start = "-".join(str(p) for p in ranges[0] if _csl_part(p) is not None)
                parsed.text = f"{start}/{end}"
    for name in ("raw", "literal"):
        text = _csl_text(value.get(name))
        if text is None:
            continue
        if parsed is None:
            parsed = parse_edtf(text) or parse_free_date(text)
            if parsed.text is None and name == "literal":
                parsed.text = text
        else:
            parsed.text = text
        break
    if parsed is None:
        return None
    season = value.get("season")
    if season not in (None, ""):
        number = _csl_part(season) or season_number(str(season))
        if number is not None and 1 <= number <= 4:
            parsed.season = number
        elif number is not None and 21 <= number <= 24:
            parsed.season = number - 20
        else:
            warn(f"season {season!r} is not a season; dropped it")
    circa = value.get("circa")
    if circa not in (None, "", 0, False, "0", "false"):
        parsed.circa = True
    try:
        check_date(parsed.year, parsed.month, parsed.day)
    except ValueError as exc:
        warn(f"date {value!r}: {exc}; kept the year")
        parsed.month = parsed.day = None
        if parsed.year is not None and not -9999 <= parsed.year <= 9999:
            parsed.year = None
    return parsed


def _drop(message: str) -> None:
    raise ValueError(message)


def from_csl(item: dict[str, Any], warn: Callable[[str], None] | None = None) -> Reference:
    """A Reference from one CSL-JSON item (the inverse of `to_csl`).

    A value that is not what it claims (a DOI that is no DOI, an unknown type, a date that
    is no date) is dropped with a call to `warn`; without `warn` it raises ValueError. An
    item with no title and no identifier raises ValueError.
    """
    report = warn or _drop
    kind = str(item.get("type") or "article-journal")
    if kind not in CSL_TYPES:
        if kind in CROSSREF_TYPES:
            kind = CROSSREF_TYPES[kind]
        else:
            report(f"type '{kind}' is not a CSL type; stored as 'document'")
            kind = "document"
    ref = Reference(title=_csl_text(item.get("title")) or "", type=kind)
    ref.authors = [_csl_name(n) for n in _names(item.get("author"))]
    ref.editors = [_csl_name(n) for n in _names(item.get("editor"))]
    for attr, csl_name in _CSL_SCALARS.items():
        value = item.get(csl_name)
        if value is None and csl_name == "container-title-short":
            value = item.get("journalAbbreviation") or item.get("short-container-title")
        text = _csl_text(value)
        if text is not None and attr != "title":
            setattr(ref, attr, text)
    ref.doi = normalise_doi(ref.doi)
    ref.pmid = normalise_pmid(ref.pmid)
    ref.pmcid = normalise_pmcid(ref.pmcid)
    if ref.doi and not is_valid_doi(ref.doi):
        report(f"DOI '{ref.doi}' is not a DOI (10.NNNN/... or 10/...); dropped it")
        ref.doi = None
    if ref.pmid and not re.fullmatch(r"[1-9]\d{0,8}", ref.pmid):
        report(f"PMID '{ref.pmid}' is not a PMID; dropped it")
        ref.pmid = None
    if ref.pmcid and not re.fullmatch(r"PMC\d{1,9}(?:\.\d+)?", ref.pmcid):
        report(f"PMCID '{ref.pmcid}' is not a PMCID; dropped it")
        ref.pmcid = None
    issued = item.get("issued")
    if issued is None:
        issued = item.get("published-print") or item.get("published-online")
    date = _csl_date(issued, report)
    if date is not None:
        ref.year, ref.month, ref.day = date.year, date.month, date.day
        ref.season, ref.circa, ref.date_text = date.season, date.circa, date.text
    epub = _csl_date(item.get("available-date"), report)
    if epub is not None and epub.year is not None and epub.year > 0:
        parts = [p for p in (epub.year, epub.month, epub.day) if p is not None]
        ref.epub_date = "-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts))
    if item.get("id") is not None and not str(item["id"]).startswith("ref-"):
        ref.key = str(item["id"])
    custom = item.get("custom") or {}
    if isinstance(custom, dict):
        for name in _CUSTOM_FIELDS:
            if name in custom:
                setattr(ref, name, custom[name])
        ref.notices = [Notice(**n) for n in custom.get("notices") or []]
    if ref.evidence_level is not None:
        from refdb.evidence import parse_level

        try:
            ref.evidence_level = parse_level(str(ref.evidence_level))
        except ValueError as exc:
            report(f"{exc}; derived the level instead")
            ref.evidence_level = ref.evidence_basis = None
    if not ref.title:
        if not (ref.doi or ref.pmid or ref.pmcid or ref.url):
            raise ValueError("no title and no identifier")
        ref.title = ref.url or "[Untitled]"
        report(f"no title; stored as {ref.title!r}")
    return ref


def _names(value: Any) -> list[dict[str, Any]]:
    return [n for n in value if isinstance(n, dict)] if isinstance(value, list) else []
