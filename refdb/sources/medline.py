"""PubMed's MEDLINE text (`.nbib`, "Save → PubMed format" `.txt`) to References.

A record is one field a line, a tag of up to four letters padded to four columns, then
``- `` and the value (``PMID- 12230038``, ``TI  - The Bio* toolkits``); a line indented six
spaces continues the value above it. Records are separated by blank lines and start with
``PMID- ``. A file whose first field is not ``PMID-`` is not MEDLINE and is refused.

The record read here is the one the E-utilities XML gives for the same PMID (the parser in
`refdb.sources.pubmed.parse`): the same fields, cleaned the same way, credited to PubMed. What
MEDLINE text cannot carry it cannot give: a title's inline markup (``<i>``) and the breaks
between an abstract's unlabelled paragraphs. Each field and where it goes:

- ``TI`` title (``TT``, the vernacular title, when there is no ``TI``); ``BTI`` a book's title
  (the record is a chapter when it also has a ``TI``), ``PB`` its publisher, ``FED``/``ED``
  its editors;
- ``FAU``/``AU`` authors, full name and initials (``AU  - et al.``: the list is incomplete),
  ``CN`` group authors; affiliations (``AD``) and identifiers (``AUID``) are left out;
- ``JT`` journal, ``TA`` its NLM abbreviation, the first ``IS`` its ISSN, ``VI``, ``IP``;
  ``PG`` pages (ranges written out: ``616-7`` -> ``616-617``), else an article number in ``LID``;
- ``DP`` the issue's date, ``DEP`` the electronic one (kept apart, as in the XML);
- ``AID``/``LID`` ``[doi]`` the DOI, ``PMC`` the PMCID;
- ``PT`` publication types, ``MH`` MeSH headings as written (``*`` a major topic), ``OT``
  keywords, the first ``LA`` the language, ``AB`` the abstract with its section labels;
- ``RIN`` retraction, ``EIN`` erratum, ``ECI`` expression of concern (the notices, and with
  the publication type "Retracted Publication" the status); ``ROF``/``EFR``/``ECF`` mark the
  record itself as the notice, which gives it no status (as in the XML).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from refdb.errors import RefdbError
from refdb.identifiers import parse_doi, parse_pmid, pmcid_or_none, pmid_or_none
from refdb.records import (
    Author,
    Notice,
    Reference,
    expand_page_range,
    initials_of,
)
from refdb.sources.problems import ReadResult, quoted
from refdb.sources.pubmed.parse import (
    ARTICLE_NUMBER,
    parse_date_text,
    settle_status,
)
from refdb.sources.textfile import read_text, stamp_provenance

_FIELD = re.compile(r"^([A-Z][A-Z0-9]{0,3}) {0,3}- ?(.*)$")
_START = re.compile(r"^PMID- ?\S")
_TYPED_ID = re.compile(r"^(.*?)\s*\[([a-z-]+)\]\s*$")
_NOTICE_PMID = re.compile(r"\s*PMID:\s*(\d+)\s*$")
_EPUB_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SUFFIXES = frozenset({"Jr", "Sr", "2nd", "3rd", "4th", "II", "III"})

NOTICE_TAGS = {"RIN": "RetractionIn", "EIN": "ErratumIn", "ECI": "ExpressionOfConcernIn"}
"""MEDLINE's comment/correction tags that make a notice, and PubMed's XML name for each."""

# A structured abstract's section label: capitals ("METHODS AND RESULTS",
# "REVIEWER'S CONCLUSIONS") or one of the common headings in mixed case ("Results").
_CAPITAL_LABEL = r"[A-Z][A-Z0-9'/&(),?-]*(?: [A-Z0-9'/&(),?-]+)*"
_WORD_LABEL = (
    r"(?:Aims?|Background|Conclusions?|Context|Design|Discussion|Findings|Funding|"
    r"Importance|Interpretation|Introduction|Methods|Objectives?|Purpose|Results|Setting)"
)
_LABEL = rf"(?:{_CAPITAL_LABEL}|{_WORD_LABEL})"
_FIRST_LABEL = re.compile(rf"^({_LABEL}): ")
_NEXT_LABEL = re.compile(rf"(?<=[.?!)\]]) ({_LABEL}): ")


@dataclass
class _Record:
    """One record's fields in file order, each value joined onto one line."""

    start: int
    fields: list[tuple[str, str, int]] = field(default_factory=list)
    stray: list[int] = field(default_factory=list)
    """Lines inside the record that are neither a field nor a continuation."""

    def first(self, *tags: str) -> str | None:
        """The first non-empty value of any of `tags`, in file order."""
        return next((value for tag, value, _ in self.fields if tag in tags and value), None)

    def all(self, *tags: str) -> list[str]:
        """Every non-empty value of any of `tags`, in file order."""
        return [value for tag, value, _ in self.fields if tag in tags and value]


def is_medline(text: str) -> bool:
    """True when the text's first non-blank line is a MEDLINE record's `PMID- ` line."""
    for line in text.removeprefix("\ufeff").splitlines():
        if line.strip():
            return bool(_START.match(line.strip()))
    return False


def _records(text: str, source: str) -> tuple[list[_Record], list[int]]:
    """The records of MEDLINE text, and the lines outside any record that are no field.

    Text whose first non-blank line is not `PMID- ` raises RefdbError naming that line."""
    lines = text.removeprefix("\ufeff").splitlines()
    first = next((n for n, line in enumerate(lines, start=1) if line.strip()), None)
    if first is None:
        return [], []
    if not _START.match(lines[first - 1].strip()):
        raise RefdbError(
            f"{source}: line {first}: not MEDLINE text (expected 'PMID- ' to start the first "
            f"record, found {quoted(lines[first - 1])})"
        )
    records: list[_Record] = []
    outside: list[int] = []
    current: _Record | None = None
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip()
        if not line.strip():
            current = None
            continue
        match = None if line[0].isspace() else _FIELD.match(line)
        if match:
            tag, value = match.group(1), match.group(2).strip()
            if current is None or (tag == "PMID" and current.first("PMID")):
                current = _Record(start=number)
                records.append(current)
            current.fields.append((tag, value, number))
        elif current is not None and current.fields and line[0].isspace():
            tag, value, at = current.fields[-1]
            current.fields[-1] = (tag, f"{value} {line.strip()}".strip(), at)
        elif current is not None:
            current.stray.append(number)
        else:
            outside.append(number)
    return records, outside


# --- fields -------------------------------------------------------------------------------


def _title(value: str | None) -> str | None:
    """A title as the XML parser gives it: text escaped, a closing period dropped."""
    if not value:
        return None
    title = html.escape(" ".join(value.split()), quote=False)
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1].rstrip()
    return title or None


def _people(record: _Record, full_tag: str, short_tag: str) -> tuple[list[Author], bool]:
    """Authors (FAU/AU/CN) or editors (FED/ED) in order, and whether the list is complete.

    A full name (`FAU  - Casbon, James A`) is followed by its short form (`AU  - Casbon JA`),
    which gives the initials; a short form alone (records before 2002) is the whole name.
    """
    people: list[Author] = []
    complete = True
    waiting: Author | None = None  # a full name whose short form has not come yet
    for tag, value, _ in record.fields:
        if tag == full_tag:
            waiting = _full_name(value)
            people.append(waiting)
        elif tag == short_tag:
            if value.rstrip(".").casefold() == "et al":
                complete = False
            elif waiting is not None:
                _add_short_form(waiting, value)
            else:
                people.append(_short_name(value))
            waiting = None
        elif tag == "CN" and full_tag == "FAU":
            people.append(Author(literal=" ".join(value.split())))
            waiting = None
    return [p for p in people if p.family or p.literal], complete


def _full_name(value: str) -> Author:
    """'de Hoon, M J L' -> family 'de Hoon', given 'M J L'; 'Smith, John, Jr' -> suffix."""
    family, _, rest = (" ".join(value.split())).partition(",")
    parts = [p.strip() for p in rest.split(",")]
    given = parts[0] if parts and parts[0] else None
    suffix = parts[1] if len(parts) > 1 and parts[1] else None
    if given and suffix is None:
        head, _, last = given.rpartition(" ")
        if head and last in _SUFFIXES:
            given, suffix = head, last
    initials = initials_of(given) if given else None
    return Author(family=family.strip() or None, given=given, suffix=suffix, initials=initials)


def _add_short_form(author: Author, value: str) -> None:
    """The initials from `AU  - Family INITIALS [Suffix]` for the full name above it."""
    words = value.split()
    if words and words[-1] in _SUFFIXES and len(words) > 2:
        words = words[:-1]
    family_words = (author.family or "").split()
    if len(words) > len(family_words) and words[: len(family_words)] == family_words:
        author.initials = " ".join(words[len(family_words) :]) or author.initials


def _short_name(value: str) -> Author:
    """'Smith JA' -> family 'Smith', initials 'JA'; 'Smith JA Jr' keeps the suffix."""
    words = value.split()
    suffix = None
    if len(words) > 2 and words[-1] in _SUFFIXES:
        suffix = words.pop()
    if len(words) > 1 and words[-1].isupper() and words[-1].isalpha():
        return Author(family=" ".join(words[:-1]), initials=words[-1], suffix=suffix)
    return Author(family=" ".join(words), suffix=suffix)


def _typed_ids(values: list[str]) -> dict[str, str]:
    """`AID`/`LID` values by their kind: '10.1186/x [doi]' -> {'doi': '10.1186/x'}; a value
    without a kind in brackets (`LID - e80092`) is the location itself ('location')."""
    found: dict[str, str] = {}
    for value in values:
        match = _TYPED_ID.match(value)
        kind, text = (match.group(2), match.group(1)) if match else ("location", value)
        if text.strip():
            found.setdefault(kind, text.strip())
    return found


def _pages(record: _Record, locations: dict[str, str]) -> str | None:
    pages = record.first("PG")
    if not pages:
        for kind in ("pii", "location"):
            if ARTICLE_NUMBER.match(locations.get(kind, "")):
                pages = locations[kind]
                break
    return expand_page_range(pages) if pages else None


def _epub_date(value: str | None) -> str | None:
    match = _EPUB_DATE.match((value or "").strip())
    if not match:
        return None
    year, month, day = match.groups()
    if not 1 <= int(month) <= 12:
        return year
    return f"{year}-{month}" if not 1 <= int(day) <= 31 else f"{year}-{month}-{day}"


def split_abstract(text: str) -> str:
    """A structured abstract's sections on paragraphs of their own, as the XML gives them:
    'BACKGROUND: ... RESULTS: ...' -> 'BACKGROUND: ...\\n\\nRESULTS: ...'. An abstract that
    does not start with a label is left as one paragraph."""
    text = " ".join(text.split())
    if not _FIRST_LABEL.match(text):
        return text
    return _NEXT_LABEL.sub(lambda m: f"\n\n{m.group(1)}: ", text)


def _notices(record: _Record) -> list[Notice]:
    notices = []
    for tag, value, _ in record.fields:
        kind = NOTICE_TAGS.get(tag)
        if kind is None or not value:
            continue
        match = _NOTICE_PMID.search(value)
        citation = value[: match.start()] if match else value
        notices.append(
            Notice(
                kind=kind,
                pmid=pmid_or_none(match.group(1)) if match else None,
                citation=" ".join(citation.split()) or None,
            )
        )
    return notices


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(" ".join(v.split()) for v in values if v.strip()))


# --- records ------------------------------------------------------------------------------


def record_to_reference(record: _Record, warnings: list[str]) -> Reference | None:
    """One record → Reference; None when it has no title (the XML parser skips those too)."""
    pmid = record.first("PMID")
    if pmid:
        try:
            pmid = parse_pmid(pmid)
        except ValueError as exc:
            warnings.append(f"PMID {exc}; dropped it")
            pmid = None
    book_title = _title(record.first("BTI"))
    title = _title(record.first("TI")) or _title(record.first("TT"))
    ref_type = "article-journal"
    if book_title:
        ref_type = "chapter" if title else "book"
        title = title or book_title
    if not title:
        return None
    ref = Reference(title=title, pmid=pmid, type=ref_type)
    ref.authors, ref.authors_complete = _people(record, "FAU", "AU")
    if book_title:
        ref.container_title = book_title if ref_type == "chapter" else None
        ref.editors = _people(record, "FED", "ED")[0]
        ref.publisher = _one_line(record.first("PB"))
    else:
        ref.container_title = _one_line(record.first("JT"))
        ref.container_title_short = _one_line(record.first("TA"))
        issn = record.first("IS")
        ref.issn = issn.split("(", 1)[0].strip() or None if issn else None
        ref.volume = _one_line(record.first("VI"))
        ref.issue = _one_line(record.first("IP"))
        ref.epub_date = _epub_date(record.first("DEP"))
    dated = record.first("DP")
    ref.year, ref.month, ref.day = parse_date_text(dated)
    if dated and ref.year is None:
        warnings.append(f"date {quoted(dated)} has no year; left it out")
    locations = _typed_ids(record.all("LID"))
    articles = _typed_ids(record.all("AID"))
    if not book_title:
        ref.pages = _pages(record, locations)
    doi = articles.get("doi") or locations.get("doi")
    if doi:
        try:
            ref.doi = parse_doi(doi)
        except ValueError as exc:
            warnings.append(f"DOI {exc}; dropped it")
    ref.pmcid = pmcid_or_none(record.first("PMC"))
    abstract = record.first("AB")
    ref.abstract = split_abstract(abstract) if abstract else None
    ref.language = _one_line(record.first("LA"))
    ref.publication_types = _unique(record.all("PT"))
    ref.mesh_terms = _unique(record.all("MH"))
    ref.keywords = _unique(record.all("OT"))
    ref.notices = _notices(record)
    settle_status(ref)
    return ref


def _one_line(value: str | None) -> str | None:
    return " ".join(value.split()) or None if value else None


def parse_medline(text: str, *, source: str = "<string>", credit: str = "pubmed") -> ReadResult:
    """Parse MEDLINE text into References and the problems of its records, every field they
    set credited to `credit`.

    Text whose first field is not `PMID- ` raises RefdbError naming the line. A record with
    no title is skipped with a problem; odd values are dropped with a warning.
    """
    result = ReadResult()
    records, outside = _records(text, source)
    for line in outside[:3]:
        result.warn(line, "file", "not a MEDLINE field, outside any record; ignored")
    for number, record in enumerate(records, start=1):
        pmid = record.first("PMID")
        label = f"PMID {pmid}" if pmid else f"record {number}"
        warnings = [f"line {line}: not a MEDLINE field; ignored" for line in record.stray[:3]]
        ref = record_to_reference(record, warnings)
        if ref is None:
            result.skip(record.start, label, "no title")
        else:
            result.keep(ref, record.start, label, warnings)
    stamp_provenance(result.references, credit)
    return result


def read_medline(path: Path, encoding: str | None = None) -> ReadResult:
    """Read a `.nbib` (or MEDLINE `.txt`) file; its fields are credited to PubMed, by way of
    this file (`pubmed:<file name>`, which ranks as PubMed)."""
    return parse_medline(read_text(path, encoding), source=str(path), credit=f"pubmed:{path.name}")
