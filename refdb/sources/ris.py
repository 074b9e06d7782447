"""RIS files (`.ris`) to References.

An RIS record is one tag a line (`AU  - Smith, John`), from `TY  - ` to `ER  - `. A line
without a tag continues the tag above it: a wrapped value (a title, an abstract), joined to
it with a space, or under a tag that holds a list (`KW`, `AU`, `N1`, `UR`) one more value.
Lines outside records are ignored (numbered headers, Ovid's links), but a file whose first
line is not `TY  - ` is not RIS and is refused, as is a record that never ends.

The unit of failure is a record: a value that is not what its tag says (a PMID that is no
PMID, a year that is no date) is dropped or kept as text, with a warning; a record with no
title and no identifier is skipped. Each exporter bends RIS its own way; the dialects read
here, and where each shape comes from:

- Ovid (PsycINFO, Medline): `1.` before each record, `Y1  - 2019//`, the NLM journal
  abbreviation as `NL  - ` *after* `ER`, then a line `Link to the Ovid Full Text or citation:`.
- Embase (Elsevier): authors as `A1  - Adler D.G.`, the journal in `JF` with its abbreviation
  in `JO`, the abstract in `N2`, and the Medline PMID in `C5` (`DB  - Embase`).
- PubMed-style names (`Smith JA`) as other tools copy them from MEDLINE.
- Scopus: the PMID in `C2`, `DA  - 2019/10//undefined`, the language in `LA`.
- EndNote: a corporate author marked by a trailing comma (`World Health Organization,`),
  the PMCID in `C2` (`PMC123`), `PY` as a year and `DA` as `Oct 15`, PubMed's
  Epub Date in `ET`, and values over several lines: a title or abstract wrapped, or a field
  of several keywords (notes, links) one a line under a single `KW`.
- Zotero and refdb's own export: `N1  - PMID: ...`, `AN` (a PMID when all digits), `DA`
  with a fourth part (`2019/10/15/Fall`, `///in press`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from refdb.dates import (
    ParsedDate,
    month_and_day,
    month_number,
    parse_edtf,
    parse_free_date,
    season_number,
    what_was_kept,
)
from refdb.errors import RefdbError
from refdb.evidence import parse_level
from refdb.identifiers import (
    parse_doi,
    parse_pmcid,
    parse_pmid,
    pmcid_from_url,
    pmid_from_url,
    split_links,
)
from refdb.records import (
    Author,
    Reference,
    check_date,
    expand_page_range,
    initials_of,
)
from refdb.sources.problems import ReadResult, quoted
from refdb.sources.textfile import read_text, stamp_provenance

RIS_TO_CSL = {
    "JOUR": "article-journal",
    "EJOUR": "article-journal",
    "JFULL": "article-journal",
    "ABST": "article-journal",
    "INPR": "article-journal",
    "MGZN": "article-magazine",
    "NEWS": "article-newspaper",
    "BOOK": "book",
    "EBOOK": "book",
    "EDBOOK": "book",
    "CHAP": "chapter",
    "ECHAP": "chapter",
    "CONF": "paper-conference",
    "CPAPER": "paper-conference",
    "THES": "thesis",
    "RPRT": "report",
    "GOVDOC": "report",
    "ELEC": "webpage",
    "WEB": "webpage",
    "BLOG": "post-weblog",
    "DATA": "dataset",
    "DBASE": "dataset",
    "AGGR": "dataset",
    "COMP": "software",
    "ART": "graphic",
    "CHART": "graphic",
    "FIGURE": "figure",
    "SLIDE": "speech",
    "PAMP": "pamphlet",
    "MAP": "map",
    "PAT": "patent",
    "HEAR": "hearing",
    "BILL": "bill",
    "UNBILL": "bill",
    "CASE": "legal_case",
    "STAT": "legislation",
    "LEGAL": "regulation",
    "SOUND": "song",
    "MUSIC": "song",
    "MPCT": "motion_picture",
    "VIDEO": "motion_picture",
    "ADVS": "motion_picture",
    "MULTI": "motion_picture",
    "PCOMM": "personal_communication",
    "ICOMM": "personal_communication",
    "MANSCPT": "manuscript",
    "UNPB": "manuscript",
    "STAND": "standard",
    "ENCYC": "entry-encyclopedia",
    "DICT": "entry-dictionary",
    "SER": "periodical",
    "CLSWK": "classic",
    "ANCIENT": "classic",
    "GEN": "document",
    "CTLG": "document",
    "EQUA": "document",
    "GRANT": "document",
}
"""RIS reference types (the RIS specification's, rispy's and EndNote's) and their CSL types;
any other type becomes 'document', with a warning."""

EDITED_TYPES = frozenset(
    ["book", "chapter", "paper-conference", "entry-encyclopedia", "entry-dictionary"]
)
"""CSL types whose RIS `A2` (secondary author) is their editor. In a journal article `A2`
means nothing fixed (Ovid fills it with the cited authors' names), so it is ignored there."""

_LIST_TAGS = frozenset(["AU", "A1", "A2", "A3", "A4", "ED", "KW", "N1", "UR"])
"""Tags whose untagged continuation lines are further values (EndNote writes a field of
several keywords, notes or links one a line under one tag); other tags' continuation lines
are one value wrapped (titles, abstracts) and are joined with a space."""

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_HEADER_LINE = re.compile(
    r"^\d+\.?$"  # rispy's and Ovid's record numbers
    r"|^Record #\d+ of \d+$|^Provider: .*|^Content: .*"  # the Cochrane Library's record header
)
_WOS_LINE = re.compile(r"^(?:FN|VR|PT) \S")  # Web of Science: `FN Clarivate ...`, `PT J`
_RIS_DATE = re.compile(
    r"^(?P<year>-?\d{1,4})?(?:/(?P<month>\d{0,2})(?:/(?P<day>\d{0,2})(?:/(?P<other>.*))?)?)?$"
)
_CIRCA_WORDS = frozenset(["circa", "ca", "ca.", "c.", "approx", "approx."])
_ISSN = re.compile(r"\d{4}-?\d{3}[\dXx]")
_EPUB_DATE = re.compile(r"(\d{4})/(\d{2})/(\d{2})")
_PMID_NOTE = re.compile(r"^(?:PMID|PubMed ID)\s*:\s*(\S+)$", re.IGNORECASE)
_PMCID_NOTE = re.compile(r"^PMCID\s*:\s*(\S+)$", re.IGNORECASE)
_TAGGED_ID = re.compile(r"^(\S+)\s*\[(PMID|PMCID)\]$", re.IGNORECASE)  # Dimensions' U1, U2
_LINK_TAGS = ("UR", "L1", "L2", "L3", "LK")
_COCHRANE_PUBMED = re.compile(r"(?:^|,)\s*PUBMED\s+(\S+?)\s*(?=,|$)")
_INDICATIONS_NOTE = re.compile(r"^refdb indications:\s*(.*)$", re.IGNORECASE)
_LEVEL_NOTE = re.compile(r"^refdb evidence level:\s*(.*)$", re.IGNORECASE)
_DOTTED_INITIALS = re.compile(r"^(?:[^\W\d_]\.-?)+$")
_SUFFIXES = frozenset(["jr", "jr.", "sr", "sr.", "ii", "iii", "iv"])


@dataclass
class _Record:
    """One record's tags and values in file order, each value on one line."""

    start: int
    fields: list[tuple[str, str]] = field(default_factory=list)

    def first(self, *tags: str) -> str | None:
        """The first non-empty value of the first of `tags` that has one."""
        for tag in tags:
            for name, value in self.fields:
                if name == tag and value:
                    return value
        return None

    def all(self, *tags: str) -> list[str]:
        """Every non-empty value of any of `tags`, in file order."""
        return [value for name, value in self.fields if name in tags and value]


def _first_line(text: str) -> tuple[int, str] | None:
    """The first line that is not blank and not a record number, with its line number."""
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if line and not _HEADER_LINE.match(line):
            return number, line
    return None


def sniff_format(text: str) -> str | None:
    """'ris' when the text's first line is `TY  - `, 'wos' for Web of Science field-tagged
    text (`FN ...`, `VR 1.0` or `PT J`), None for anything else (a list of titles, say)."""
    first = _first_line(text)
    if first is None:
        return None
    match = _TAG_LINE.match(first[1])
    if match and match.group(1) == "TY":
        return "ris"
    return "wos" if _WOS_LINE.match(first[1]) else None


def _split_records(text: str, source: str, result: ReadResult) -> list[_Record]:
    """The records; a file that is not RIS, or a record with no ER, raises RefdbError."""
    first = _first_line(text)
    if first is None:
        return []
    kind = sniff_format(text)
    if kind == "wos":
        raise RefdbError(
            f"{source}: line {first[0]}: Web of Science field-tagged text, not RIS "
            "(export as RIS or BibTeX from Web of Science)"
        )
    if kind != "ris":
        raise RefdbError(
            f"{source}: line {first[0]}: not an RIS file (expected 'TY  - ' to start "
            f"the first record, found {quoted(first[1])})"
        )
    records: list[_Record] = []
    current: _Record | None = None
    stray: int | None = None  # the first tag line since the last ER, outside any record
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        match = _TAG_LINE.match(line)
        tag = match.group(1) if match else ""
        value = " ".join((match.group(2) or "").split()) if match else ""
        if current is None:
            if tag == "TY":
                current, stray = _Record(number, [("TY", value)]), None
            elif tag == "NL" and records and stray is None:
                records[-1].fields.append((tag, value))  # Ovid writes it after the ER
            elif tag == "ER" and stray is not None:
                result.skip(stray, f"lines {stray}-{number}", "tags outside a record (no TY)")
                stray = None
            elif tag:
                stray = stray or number
            continue  # a line that is no tag, outside a record: a header or a link
        if not match:
            last_tag, last_value = current.fields[-1]
            more = " ".join(line.split())
            if last_tag in _LIST_TAGS:
                current.fields.append((last_tag, more))  # EndNote: one keyword a line
            else:
                current.fields[-1] = (last_tag, f"{last_value} {more}".strip())
        elif tag == "TY":
            raise RefdbError(
                f"{source}: line {number}: a new record starts before the record "
                f"of line {current.start} ends (no ER)"
            )
        elif tag == "ER":
            records.append(current)
            current = None
        else:
            current.fields.append((tag, value))
    if current is not None:
        raise RefdbError(f"{source}: line {current.start}: record never ends (no ER)")
    return records


def _is_bare_initials(word: str) -> bool:
    """'JA' (PubMed): one to three capitals, no periods."""
    return 1 <= len(word) <= 3 and word.isalpha() and word.isupper()


def _is_initials(word: str) -> bool:
    """'JA', 'R.', 'D.G.', 'J.-C.'."""
    if _is_bare_initials(word):
        return True
    return bool(_DOTTED_INITIALS.match(word)) and word.replace(".", "").replace("-", "").isupper()


def _person(family: str, given: str | None, suffix: str | None) -> Author:
    if given and _is_bare_initials(given.replace(" ", "")):
        return Author(family=family or None, initials=given.replace(" ", ""), suffix=suffix)
    return Author(
        family=family or None,
        given=given,
        suffix=suffix,
        initials=initials_of(given) if given else None,
    )


def _author(name: str) -> Author:
    """An RIS name: 'Family, Given[, Suffix]'; a collective name ending in a comma (EndNote's
    mark of a corporate author: 'World Health Organization,'); without a comma, 'Liu R.' and
    'Adler D.G.' (Embase), 'Smith JA' (PubMed), a single word (a family name), or a
    collective name (more words, not ending in initials)."""
    if name.endswith(",") and name.count(",") == 1 and name[:-1].strip():
        return Author(literal=name[:-1].strip())
    if "," in name:
        family, _, rest = name.partition(",")
        parts = [p.strip() for p in rest.split(",")]
        suffix = ", ".join(p for p in parts[1:] if p) or None
        return _person(family.strip(), parts[0] or None, suffix)
    words = name.split()
    suffix = None
    if len(words) >= 3 and words[-1].lower() in _SUFFIXES and _is_initials(words[-2]):
        suffix = words.pop()
    initials: list[str] = []
    while len(words) > 1 and _is_initials(words[-1]):
        initials.insert(0, words.pop())
    if initials:
        return _person(" ".join(words), " ".join(initials), suffix)
    if len(words) == 1:
        return Author(family=words[0])
    return Author(literal=name)


def _pubmed_style(name: str) -> bool:
    """'van der Helm JJ', 'Gupta K.': family name words, then initials."""
    words = name.split()
    if len(words) < 2 or not _is_initials(words[-1]):
        return False
    # 'Aronson G. Radeloff V.' is two people run together, not one family name
    return not any(_DOTTED_INITIALS.match(w) for w in words[:-1])


def _one_line_list(value: str) -> tuple[list[str], bool] | None:
    """Several people on one line (Ovid's Cochrane CENTRAL: `Achterbergh RCA, van der Helm
    JJ, de Vries HJC`; EndNote: `Agrawal A, Gupta K.`), and whether the split is a guess (a
    part that is no `Family INITIALS`); None for one person's name (`Family, Given`, `Ford,
    Henry, Jr.`), whose part before the first comma is the family name alone."""
    parts = [p.strip() for p in value.split(",")]
    if len(parts) < 2 or not all(parts) or parts[-1].lower() in _SUFFIXES:
        return None
    if _pubmed_style(parts[0]):
        return parts, not all(_pubmed_style(p) for p in parts)
    if len(parts) >= 3 and all(" " in p for p in parts):
        return parts, True
    return None


def _names(values: list[str], tag: str, warnings: list[str]) -> list[Author]:
    people: list[Author] = []
    for value in values:
        split = _one_line_list(value)
        if split is None:
            people.append(_author(value))
            continue
        names, guess = split
        people.extend(_author(name) for name in names)
        if guess:
            warnings.append(
                f"{tag} {quoted(value)}: several names on one line; read as {len(names)} "
                "people, split at the commas (a guess)"
            )
    return [a for a in people if a.family or a.given or a.literal or a.initials]


def _other(parsed: ParsedDate, other: str) -> None:
    """The fourth part of an RIS date: a season, 'circa', 'undefined' (Scopus), or text."""
    text = " ".join(other.split())
    if not text or text.lower() == "undefined":
        return
    if parsed.month is None and month_number(text) is not None:
        parsed.month = month_number(text)
        return
    words = text.lower().split()
    seasons = [s for s in (season_number(w) for w in words) if s is not None]
    if len(seasons) <= 1 and all(w in _CIRCA_WORDS or season_number(w) for w in words):
        parsed.circa = parsed.circa or any(w in _CIRCA_WORDS for w in words)
        parsed.season = seasons[0] if seasons else parsed.season
        return
    free = parse_free_date(text)
    parsed.circa = parsed.circa or free.circa
    if parsed.year is None:
        parsed.year = free.year
    # The text stays when it says more than its parts, or names another year.
    parsed.text = text if not free.is_plain or free.year not in (None, parsed.year) else None
    if free.year in (None, parsed.year):
        if parsed.month is None and free.month is not None:
            parsed.month, parsed.day = free.month, free.day
        parsed.season = parsed.season or free.season


def _is_date(parsed: ParsedDate) -> bool:
    try:
        check_date(parsed.year, parsed.month, parsed.day)
    except ValueError:
        return False
    return True


def _date(tag: str, value: str, warnings: list[str]) -> ParsedDate:
    """One of a record's dates: `YYYY/MM/DD/other` (DA, Y1, old PY), a year (PY), ISO 8601,
    EndNote's `Oct 15`; anything else is kept as text with a warning."""
    match = _RIS_DATE.match(value)
    if match is None:
        iso = parse_edtf(value)
        if iso is not None and iso.is_plain and _is_date(iso):
            return iso
        named = month_and_day(value)
        if named:
            parsed = ParsedDate(month=named[0], day=named[1])
            try:
                check_date(None, parsed.month, parsed.day)
            except ValueError as exc:
                warnings.append(f"{tag} {quoted(value)}: {exc}; dropped it")
                parsed.day = None
            return parsed
        if season_number(value) is not None:
            return ParsedDate(season=season_number(value))
        parsed = parse_free_date(value)  # 'May 2020' (ProQuest) says it all: no warning
        if not _is_date(parsed):
            parsed = ParsedDate(text=value)
        if not parsed.is_plain:
            said = " is not a date;" if parsed.year is None else ":"
            warnings.append(f"{tag} {quoted(value)}{said} {what_was_kept(parsed)}")
        return parsed
    year, month, day, other = match.group("year", "month", "day", "other")
    parsed = ParsedDate(year=int(year) if year else None)
    try:
        check_date(parsed.year, None, None)
    except ValueError as exc:
        warnings.append(f"{tag} {quoted(value)}: {exc}; kept the text")
        parsed.year, parsed.text = None, value
    parts: list[tuple[str, int | None]] = [
        ("month", int(month) if month else None),
        ("day", int(day) if day else None),
    ]
    for name, number in parts:
        if number is None:
            continue
        setattr(parsed, name, number)
        try:
            check_date(parsed.year, parsed.month, parsed.day)
        except ValueError as exc:
            warnings.append(f"{tag} {quoted(value)}: {exc}; dropped it")
            setattr(parsed, name, None)
            break
    if other:
        _other(parsed, other)
    return parsed


def _set_date(ref: Reference, record: _Record, warnings: list[str]) -> None:
    """DA (the full date) first, then Y1 and PY: the first year found wins, and the month,
    day, season and text come from the first date that agrees with it."""
    dates = [
        _date(tag, value, warnings)
        for tag in ("DA", "Y1", "PY")
        if (value := record.first(tag)) is not None
    ]
    year = next((d.year for d in dates if d.year is not None), None)
    ref.year = year
    for parsed in dates:
        if parsed.year not in (None, year):
            continue
        if ref.month is None and parsed.month is not None:
            ref.month, ref.day = parsed.month, parsed.day
        ref.season = ref.season or parsed.season
        ref.circa = ref.circa or parsed.circa
        ref.date_text = ref.date_text or parsed.text


def _is_medline_record(record: _Record) -> bool:
    """Whether the record says it comes from MEDLINE/PubMed as NLM, Ovid or EBSCO publish it
    (`DP  - NLM`, `DB  - Ovid MEDLINE(R)`, `DB  - PubMed`), where `AN` is the PMID. ProQuest's
    MEDLINE gives its own accession number there."""
    names = [v.lower() for v in record.all("DB", "DP")]
    if any("proquest" in name for name in names):
        return False
    return any(name == "nlm" or "pubmed" in name or "medline" in name for name in names)


def _pmid_candidates(record: _Record) -> list[tuple[str, str, bool]]:
    """Where this record's own PMID may be, most certain first: (tag, value, whether the
    field says it is a PMID, so that a value that is none is worth a warning).

    Never a number in a reference list (Scopus puts the cited works, PMIDs and all, in `N1`)
    nor another database's accession number (ProQuest's `AN`)."""
    found: list[tuple[str, str, bool]] = []
    for note in record.all("N1"):
        match = _PMID_NOTE.match(note)
        if match:
            found.append(("N1", match.group(1), True))
    for tag in ("U1", "U2", "U3", "U4", "U5"):
        for value in record.all(tag):
            match = _TAGGED_ID.match(value)
            if match and match.group(2).upper() == "PMID":
                found.append((tag, match.group(1), True))
    for value in record.all("C3"):  # the Cochrane Library: `C3  - PUBMED 123,EMBASE 456`
        found += [("C3", m.group(1), True) for m in _COCHRANE_PUBMED.finditer(value)][:1]
    for tag in ("AN", "C2"):  # a value labelled so says what it is, whatever the database
        found += [(tag, m.group(1), True) for v in record.all(tag) if (m := _PMID_NOTE.match(v))]
    found += [("C2", v, False) for v in record.all("C2") if v.isdigit()]  # Scopus
    if _is_medline_record(record):
        found += [("AN", v, False) for v in record.all("AN")]
        if any("ovid" in v.lower() for v in record.all("DB")):
            found += [("ID", v, False) for v in record.all("ID")]
    if "embase" in (v.lower() for v in record.all("DB")):
        found += [("C5", v, False) for v in record.all("C5") if v.isdigit()]
    for tag in _LINK_TAGS:
        for value in record.all(tag):
            for url in split_links(value):
                pmid = pmid_from_url(url)
                if pmid:
                    found.append((tag, pmid, True))
    return found


def _set_identifiers(ref: Reference, record: _Record, warnings: list[str]) -> None:
    doi = record.first("DO")
    if doi:
        try:
            ref.doi = parse_doi(doi)
        except ValueError as exc:
            warnings.append(f"DO {exc}; dropped it")
    urls = [u for value in record.all("UR") for u in split_links(value)]
    ref.url = urls[0] if urls else None
    for tag, value, labelled in _pmid_candidates(record):
        try:
            ref.pmid = parse_pmid(value)
            break
        except ValueError as exc:
            if labelled:
                warnings.append(f"{tag} PMID {exc}; dropped it")
    pmcids = [("N1", m.group(1)) for n in record.all("N1") if (m := _PMCID_NOTE.match(n))]
    pmcids += [("C2", v) for v in record.all("C2") if v.upper().startswith("PMC")]  # EndNote
    for tag in ("U1", "U2", "U3", "U4", "U5"):
        pmcids += [
            (tag, m.group(1))
            for v in record.all(tag)
            if (m := _TAGGED_ID.match(v)) and m.group(2).upper() == "PMCID"
        ]
    pmcids += [(t, p) for t in _LINK_TAGS for v in record.all(t) if (p := pmcid_from_url(v))]
    for tag, value in pmcids:
        try:
            ref.pmcid = parse_pmcid(value)
            break
        except ValueError as exc:
            warnings.append(f"{tag} PMCID {exc}; dropped it")


def _record_to_reference(record: _Record, warnings: list[str]) -> Reference | None:
    """The record's Reference; None when it has no title and no identifier."""
    kind = (record.first("TY") or "").upper()
    csl_type = RIS_TO_CSL.get(kind)
    if csl_type is None:
        warnings.append(f"TY {quoted(kind)} is not an RIS type; stored as 'document'")
        csl_type = "document"
    # BT is the title of a whole book or unpublished work, else the book a part is in.
    book_title = ("BT",) if kind in ("BOOK", "UNPB") else ()
    in_title = () if book_title else ("BT",)
    ref = Reference(title=record.first("TI", "T1", "CT", *book_title) or "", type=csl_type)
    ref.key = record.first("ID")
    ref.authors = _names(record.all("AU", "A1"), "AU", warnings)
    editors = record.all("ED") or (record.all("A2") if csl_type in EDITED_TYPES else [])
    ref.editors = _names(editors, "ED", warnings)

    ref.container_title_short = record.first("J2", "JA", "JO", "J1", "NL")
    ref.container_title = record.first("T2", "JF", *in_title) or ref.container_title_short
    _set_date(ref, record, warnings)
    ref.volume = record.first("VL")
    ref.issue = record.first("IS", "CP")
    first_page, last_page = record.first("SP"), record.first("EP")
    if (first_page or "").lower() == "no" and (last_page or "").lower() == "specified":
        first_page = last_page = None  # Ovid's "No Pagination Specified", split in two
    if first_page:
        ref.pages = expand_page_range(f"{first_page}-{last_page}" if last_page else first_page)
    _set_identifiers(ref, record, warnings)
    ref.abstract = record.first("AB", "N2")
    ref.language = record.first("LA")
    ref.publisher = record.first("PB")
    issn = record.first("SN")
    if issn and all(_ISSN.fullmatch(part) for part in issn.split()):
        issn = issn.split()[0]  # Zotero writes a print and an electronic ISSN on one line
    ref.issn = issn
    epub = _EPUB_DATE.fullmatch(record.first("ET") or "")
    if epub and csl_type.startswith("article"):
        ref.epub_date = "-".join(epub.groups())  # EndNote keeps PubMed's Epub Date in ET
    ref.keywords = list(dict.fromkeys(record.all("KW")))
    for note in record.all("N1"):
        match = _INDICATIONS_NOTE.match(note)
        if match:
            ref.indications = [n.strip() for n in match.group(1).split(";") if n.strip()]
            declared = {n.casefold() for n in ref.indications}
            ref.keywords = [k for k in ref.keywords if k.casefold() not in declared]
        level = _LEVEL_NOTE.match(note)
        if level:
            try:
                ref.evidence_level = parse_level(level.group(1))
            except ValueError as exc:
                warnings.append(f"{exc}; derived the level instead")
    if not ref.title:
        if not (ref.doi or ref.pmid or ref.pmcid or ref.url):
            return None
        ref.title = ref.url or "[Untitled]"
        warnings.append(f"no title; stored as {ref.title!r}")
    return ref


def parse_ris(text: str, *, source: str = "<string>") -> ReadResult:
    """Parse RIS text into References and the problems of its records.

    Text that is not RIS (Web of Science's field-tagged text included), or a record that
    never ends, raises RefdbError naming the line.
    """
    result = ReadResult()
    for number, record in enumerate(_split_records(text, source, result), start=1):
        label = record.first("ID") or f"record {number}"
        warnings: list[str] = []
        ref = _record_to_reference(record, warnings)
        if ref is None:
            result.skip(record.start, label, "no title and no identifier")
        else:
            result.keep(ref, record.start, label, warnings)
    return result


def read_ris(path: Path, encoding: str | None = None) -> ReadResult:
    """Read a `.ris` file; each field it sets is credited to `ris:<file name>`."""
    result = parse_ris(read_text(path, encoding), source=str(path))
    stamp_provenance(result.references, f"ris:{path.name}")
    return result
