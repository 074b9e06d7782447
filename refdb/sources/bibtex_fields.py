"""One .bib entry's fields to a Reference: its type, date, identifiers, people, keywords, each
value decoded from LaTeX (titles and names) or only unescaped (DOI, URL, PMID)."""

from __future__ import annotations

import re
from contextlib import suppress

from bibtexparser.model import Entry

from refdb.dates import (
    month_and_day,
    parse_edtf,
    parse_free_date,
    season_number,
    what_was_kept,
)
from refdb.evidence import parse_level
from refdb.identifiers import (
    parse_doi,
    parse_pmcid,
    parse_pmid,
    pmcid_from_url,
    pmid_from_url,
    split_links,
)
from refdb.records import CSL_TYPES, Reference, check_date, expand_page_range
from refdb.sources.bibtex_names import people, top_level_split
from refdb.sources.latex import latex_to_unicode
from refdb.sources.problems import quoted

ENTRY_TYPES = {
    "article": "article-journal",
    "book": "book",
    "mvbook": "book",
    "collection": "book",
    "mvcollection": "book",
    "proceedings": "book",
    "mvproceedings": "book",
    "reference": "book",
    "inbook": "chapter",
    "bookinbook": "chapter",
    "suppbook": "chapter",
    "incollection": "chapter",
    "suppcollection": "chapter",
    "inreference": "entry-encyclopedia",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "techreport": "report",
    "report": "report",
    "manual": "report",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "unpublished": "manuscript",
    "booklet": "pamphlet",
    "artwork": "graphic",
    "image": "graphic",
    "dataset": "dataset",
    "software": "software",
    "patent": "patent",
    "periodical": "periodical",
    "movie": "motion_picture",
    "video": "motion_picture",
    "music": "song",
    "audio": "song",
    "letter": "personal_communication",
    "legislation": "legislation",
    "jurisdiction": "legal_case",
    "standard": "standard",
    "performance": "performance",
}
"""BibTeX/BibLaTeX entry types and their CSL types; any other type becomes 'document'."""


ARTICLE_SUBTYPES = {
    "magazine": "article-magazine",
    "newspaper": "article-newspaper",
    "preprint": "article",
}
"""BibLaTeX's `entrysubtype` of an @article, and the CSL type it makes."""


_IDENTIFIER_ESCAPE = re.compile(r"\\([_%&#$~])")


def identifier(value: str) -> str:
    value = value.strip()
    match = re.fullmatch(r"\\url\{(.*)\}", value)
    if match:
        value = match.group(1)
    return _IDENTIFIER_ESCAPE.sub(r"\1", value).strip()


def split_keywords(value: str) -> list[str]:
    """A keywords field as a list: split at `;` when the field uses them at the top level
    (MeSH headings hold commas: 'Colitis, Ulcerative/*therapy'), else at `,`; a braced
    keyword (`{Colitis, Ulcerative}`) is one keyword, as biblatex reads it."""
    separator = ";" if len(top_level_split(value, ";")) > 1 else ","
    words = (latex_to_unicode(w) for w in top_level_split(value, separator))
    return list(dict.fromkeys(w for w in words if w))


class EntryFields:
    """An entry's fields by lower-case name, with the warnings its conversion raises."""

    def __init__(self, entry: Entry, notes: list[str]) -> None:
        self.values = {f.key: f.value for f in entry.fields}
        self.notes = notes

    def text(self, *names: str) -> str | None:
        for name in names:
            value = self.values.get(name)
            if value is not None and not isinstance(value, list) and str(value).strip():
                return str(value)
        return None

    def decoded(self, *names: str) -> str | None:
        value = self.text(*names)
        return (latex_to_unicode(value) or None) if value else None

    def warn(self, message: str) -> None:
        self.notes.append(message)


def _type(entry: Entry, fields: EntryFields) -> str:
    kind = entry.entry_type.lower()
    subtype = (fields.text("entrysubtype") or "").strip().lower()
    if kind == "article":
        return ARTICLE_SUBTYPES.get(subtype, "article-journal")
    if kind == "misc" and subtype in CSL_TYPES:
        return subtype  # refdb's own export of a type BibLaTeX has no entry type for
    return ENTRY_TYPES.get(kind, "document")


def _set_date(ref: Reference, fields: EntryFields) -> None:
    date = fields.text("date")
    edtf = True
    if date:
        parsed = parse_edtf(identifier(date))
        if parsed is None:
            edtf = False
            parsed = parse_free_date(latex_to_unicode(date))
    else:
        year = fields.text("year")
        # Not decoded as LaTeX: EDTF's `~` (circa) is a tie to LaTeX.
        parsed = parse_free_date(re.sub(r"[{}]", "", identifier(year))) if year else None
        if parsed is not None and not parsed.is_plain:
            said = " is not a plain year;" if parsed.year is None else ":"
            fields.warn(f"year {quoted(year)}{said} {what_was_kept(parsed)}")
        month = fields.decoded("month")
        if month:
            number = month_and_day(month)
            season = season_number(month)
            if parsed is None:
                parsed = parse_free_date("")
            if number is not None:
                parsed.month, parsed.day = number
                day = (fields.text("day") or "").strip()
                if day.isdigit() and parsed.day is None:
                    parsed.day = int(day)
            elif season is not None:
                parsed.season = season
            else:
                fields.warn(f"month {quoted(month)} is not a month; dropped it")
        elif parsed is None and (fields.text("pubstate") or "").strip().lower() == "inpress":
            parsed = parse_free_date("in press")
    if parsed is None:
        return
    if date and not parsed.is_plain:
        not_edtf = "" if edtf else " is not an ISO 8601/EDTF date;"
        fields.warn(f"date {quoted(date)}{not_edtf or ':'} {what_was_kept(parsed)}")
    if parsed.day is not None and parsed.month is None:
        parsed.day = None
    try:
        check_date(parsed.year, parsed.month, parsed.day)
    except ValueError as exc:
        fields.warn(f"{exc}; dropped it")
        if parsed.year is not None and not -9999 <= parsed.year <= 2100:
            parsed.year = None
        parsed.month = parsed.day = None
    ref.year, ref.month, ref.day = parsed.year, parsed.month, parsed.day
    ref.season, ref.circa, ref.date_text = parsed.season, parsed.circa, parsed.text


def _set_identifiers(ref: Reference, fields: EntryFields) -> None:
    doi = fields.text("doi")
    if doi:
        try:
            ref.doi = parse_doi(identifier(doi))
        except ValueError as exc:
            fields.warn(f"doi {exc}; dropped it")
    url = fields.text("url")
    urls = split_links(identifier(url)) if url else []
    ref.url = urls[0] if urls else None  # EndNote writes several, a line each

    pmid = fields.text("pmid")
    eprint = fields.text("eprint")
    eprinttype = (fields.text("eprinttype", "archiveprefix") or "").strip().lower()
    if not pmid and eprint and eprinttype in ("pubmed", "pmid"):  # Zotero writes "pmid"
        pmid = eprint
    if pmid:
        try:
            ref.pmid = parse_pmid(identifier(pmid))
        except ValueError as exc:
            fields.warn(f"pmid {exc}; dropped it")
    if ref.pmid is None:  # a PubMed link is the record's own PMID
        ref.pmid = next((p for u in urls if (p := pmid_from_url(u))), None)
    pmcid = fields.text("pmcid")
    if not pmcid and eprint and eprinttype in ("pmc", "pmcid"):
        pmcid = eprint
    if pmcid:
        try:
            ref.pmcid = parse_pmcid(identifier(pmcid))
        except ValueError as exc:
            fields.warn(f"pmcid {exc}; dropped it")
    if ref.pmcid is None:  # a PMC link is the record's own PMCID, as in RIS
        ref.pmcid = next((p for u in urls if (p := pmcid_from_url(u))), None)
    # biblatex's `ids`: the entry's other keys (refdb writes a study's aliases there).
    ids = fields.text("ids")
    if ids:
        ref.aliases = [k for k in (p.strip() for p in identifier(ids).split(",")) if k]
    # refdb writes the evidence level in biblatex's custom field `usera` (datamodel-clean);
    # another tool's `usera` that is no level is not refdb's and is left alone.
    level = fields.text("usera")
    if level:
        with suppress(ValueError):
            ref.evidence_level = parse_level(level)


def entry_to_reference(entry: Entry, fields: EntryFields) -> Reference | None:
    """The entry's Reference; None when it has no title and no identifier."""
    title = fields.decoded("title")
    ref = Reference(title=title or "", type=_type(entry, fields))
    ref.key = entry.key
    if "author" in fields.values:
        ref.authors, ref.authors_complete = people(fields.values["author"])
    if "editor" in fields.values:
        ref.editors, _ = people(fields.values["editor"])

    ref.container_title = fields.decoded("journaltitle", "journal", "booktitle")
    ref.container_title_short = fields.decoded("shortjournal")
    ref.volume = fields.decoded("volume")
    ref.issue = fields.decoded("number", "issue")
    ref.publisher = fields.decoded("publisher")
    ref.issn = fields.decoded("issn")
    ref.abstract = fields.decoded("abstract")
    ref.language = fields.decoded("langid", "language")
    pages = fields.text("pages")
    if pages:
        ref.pages = expand_page_range(
            re.sub(r"\s*(?:-+|\u2013|\u2014|\\textendash\s*)\s*", "-", identifier(pages))
        )
    _set_date(ref, fields)
    _set_identifiers(ref, fields)
    keywords = fields.text("keywords")
    if keywords:
        ref.keywords = split_keywords(keywords)
    if not ref.title:
        if not (ref.doi or ref.pmid or ref.pmcid or ref.url):
            return None
        ref.title = ref.url or "[Untitled]"
        fields.warn(f"no title; stored as {ref.title!r}")
    return ref
