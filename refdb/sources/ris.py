"""RIS files (`.ris`) to References, through rispy.

rispy skips what it cannot read without a word, so the file's shape is checked here first,
line by line (each record opens with `TY  - ` and closes with `ER  - `); rispy then maps
each record's tags.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import rispy

from refdb.errors import RefdbError
from refdb.records import (
    Author,
    Reference,
    expand_page_range,
    initials_of,
    normalise_doi,
    normalise_pmcid,
)
from refdb.sources.problems import ReadResult
from refdb.sources.textfile import read_text, stamp_provenance

RIS_TYPES = {
    "JOUR": "article-journal",
    "EJOUR": "article-journal",
    "JFULL": "article-journal",
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
    "ELEC": "webpage",
    "WEB": "webpage",
    "BLOG": "post-weblog",
    "DATA": "dataset",
    "COMP": "software",
}
"""RIS reference types and their CSL types; any other type becomes 'document'."""

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_HEADER_LINE = re.compile(r"^\d+\.?$")  # rispy's writer numbers its records
_DATE = re.compile(r"(\d{4})(?:[/-](\d{1,2})?(?:[/-](\d{1,2})?)?)?")
_PMID = re.compile(r"\d{1,9}")
_LABELLED = re.compile(r"\b(PMID|PMCID)\s*:\s*(\S+)", re.IGNORECASE)
_INDICATIONS_NOTE = re.compile(r"^refdb indications:\s*(.*)$", re.IGNORECASE)
_INITIALS = re.compile(r"^(.+?)\s+([A-Z]{1,3})$")


class _RecordError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _split_records(text: str, source: str) -> list[tuple[int, list[str]]]:
    """The records as (first line number, lines); a malformed shape raises RefdbError."""
    records: list[tuple[int, list[str]]] = []
    current: list[str] | None = None
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        match = _TAG_LINE.match(line)
        if match is None:
            if current is not None:
                current.append(line)  # a continuation of the previous tag's value
                continue
            if _HEADER_LINE.match(line.strip()):
                continue
            raise RefdbError(f"{source}: line {number}: not an RIS line (expected 'TY  - ')")
        tag = match.group(1)
        if tag == "TY":
            if current is not None:
                raise RefdbError(
                    f"{source}: line {number}: a new record starts before the record "
                    f"of line {start} ends (no ER)"
                )
            current, start = [line], number
        elif current is None:
            raise RefdbError(f"{source}: line {number}: {tag} outside a record (no TY before it)")
        elif tag == "ER":
            current.append("ER  - ")
            records.append((start, current))
            current = None
        else:
            current.append(line)
    if current is not None:
        raise RefdbError(f"{source}: line {start}: record never ends (no ER)")
    if not records and text.strip():
        raise RefdbError(f"{source}: no RIS records found")
    return records


def _first(record: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = record.get(name)
        if isinstance(value, list):
            value = next((v for v in value if str(v).strip()), None)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _author(name: str) -> Author:
    parts = [p.strip() for p in name.split(",")]
    if len(parts) == 1:
        match = _INITIALS.match(parts[0])
        if match:  # PubMed's 'Smith JA'
            return Author(family=match.group(1), initials=match.group(2))
        return Author(literal=parts[0])
    family, given = parts[0], parts[1] or None
    suffix = ", ".join(p for p in parts[2:] if p) or None
    return Author(
        family=family, given=given, suffix=suffix, initials=initials_of(given) if given else None
    )


def _record_to_reference(record: dict[str, Any], line_of: dict[str, int], start: int) -> Reference:
    title = _first(record, "title", "primary_title")
    if not title:
        raise _RecordError(start, "has no title (TI or T1)")
    kind = (_first(record, "type_of_reference") or "").upper()
    ref = Reference(title=title, type=RIS_TYPES.get(kind, "document"))
    ref.key = _first(record, "id")
    names = [*(record.get("authors") or []), *(record.get("first_authors") or [])]
    ref.authors = [_author(n) for n in names if str(n).strip()]

    ref.container_title = _first(record, "secondary_title", "alternate_title3", "journal_name")
    ref.container_title_short = _first(record, "alternate_title1", "alternate_title2")
    journal_name = _first(record, "journal_name")
    if journal_name and not ref.container_title_short and journal_name != ref.container_title:
        ref.container_title_short = journal_name

    for tag, name in (("DA", "date"), ("Y1", "publication_year"), ("PY", "year")):
        value = _first(record, name)
        if not value:
            continue
        match = _DATE.match(value)
        if not match:
            raise _RecordError(line_of.get(tag, start), f"{tag} '{value}' is not a date")
        year, month, day = (int(g) if g else None for g in match.groups())
        ref.year = ref.year or year
        if tag == "DA" or not ref.month:
            ref.month, ref.day = ref.month or month, ref.day or day
    if ref.month is not None and not 1 <= ref.month <= 12:
        raise _RecordError(line_of.get("DA", start), f"month '{ref.month}' is not a month")

    ref.volume = _first(record, "volume")
    ref.issue = _first(record, "number")
    first_page, last_page = _first(record, "start_page"), _first(record, "end_page")
    if first_page:
        ref.pages = expand_page_range(f"{first_page}-{last_page}" if last_page else first_page)
    ref.doi = normalise_doi(_first(record, "doi"))
    ref.url = _first(record, "urls")
    ref.abstract = _first(record, "abstract", "notes_abstract")
    ref.publisher = _first(record, "publisher")
    ref.issn = _first(record, "issn")
    ref.keywords = list(dict.fromkeys(str(k).strip() for k in record.get("keywords") or []))

    labelled = {
        label.upper(): value
        for text in [_first(record, "accession_number") or "", *(record.get("notes") or [])]
        for label, value in _LABELLED.findall(str(text))
    }
    accession = _first(record, "accession_number")
    pmid = labelled.get("PMID") or (accession if accession and _PMID.fullmatch(accession) else None)
    if pmid:
        if not _PMID.fullmatch(pmid):
            tag = "N1" if "PMID" in labelled else "AN"
            raise _RecordError(line_of.get(tag, start), f"PMID '{pmid}' is not a PMID")
        ref.pmid = pmid
    ref.pmcid = normalise_pmcid(labelled.get("PMCID"))
    for note in record.get("notes") or []:
        match = _INDICATIONS_NOTE.match(str(note).strip())
        if match:
            ref.indications = [n.strip() for n in match.group(1).split(";") if n.strip()]
            declared = {n.casefold() for n in ref.indications}
            ref.keywords = [k for k in ref.keywords if k.casefold() not in declared]
    return ref


def parse_ris(text: str, *, source: str = "<string>") -> ReadResult:
    """Parse RIS text into References and the problems of its records."""
    result = ReadResult()
    for number, (start, lines) in enumerate(_split_records(text, source), start=1):
        line_of: dict[str, int] = {}
        for offset, line in enumerate(text.splitlines()[start - 1 :]):
            match = _TAG_LINE.match(line.rstrip())
            if match:
                line_of.setdefault(match.group(1), start + offset)
                if match.group(1) == "ER":
                    break
        (record,) = rispy.loads("\n".join(lines))
        label = f"record {number}"
        if record.get("id"):
            label += f" ('{record['id']}')"
        try:
            result.keep(_record_to_reference(record, line_of, start), start, label, [])
        except _RecordError as exc:
            result.skip(exc.line, label, str(exc))
    return result


def read_ris(path: Path, encoding: str | None = None) -> ReadResult:
    """Read a `.ris` file; each field it sets is credited to `ris:<file name>`."""
    result = parse_ris(read_text(path, encoding), source=str(path))
    stamp_provenance(result.references, f"ris:{path.name}")
    return result
