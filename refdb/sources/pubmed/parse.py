"""PubmedArticleSet XML (efetch ``db=pubmed retmode=xml``) → `Reference` records.

Parsing goes through defusedxml: entity declarations (billion laughs) and external entities are
refused before anything expands. Titles keep PubMed's inline markup (``<i> <b> <u> <sup> <sub>``)
as HTML-ish markup with the text escaped (``&amp; &lt; &gt;``); every other tag is dropped and its
text kept (MathML is flattened to its text). Abstracts are plain text.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from refdb.errors import LookupFailedError
from refdb.fields import stamp
from refdb.identifiers import normalise_doi, pmcid_or_none, pmid_or_none
from refdb.records import (
    NOTICE_KINDS,
    Author,
    FieldSource,
    Notice,
    Reference,
    expand_page_range,
    initials_of,
)

log = logging.getLogger(__name__)

INLINE_TAGS = frozenset({"i", "b", "u", "sup", "sub"})
"""Title markup that survives parsing; everything else keeps only its text."""

RETRACTED_TYPE = "Retracted Publication"
_STATUS_ORDER = ("retracted", "expression-of-concern", "corrected")

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_MEDLINE_DATE = re.compile(r"^\s*(\d{4})(?:\s+([A-Za-z]{3})[a-z]*\.?)?(?:\s+(\d{1,2})\b(?!\s*-))?")
ARTICLE_NUMBER = re.compile(r"^[A-Za-z]{0,2}\d+$")
"""An electronic article number that stands for the pages (e100, 1234; MEDLINE and XML)."""


# --- small helpers -----------------------------------------------------------------------


def _local(tag: Any) -> str:
    """Tag name without namespace or prefix: '{http://...MathML}mi' -> 'mi'."""
    name = str(tag)
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _markup(elem: Element, *, keep_tags: bool) -> str:
    """An element's content as text; with keep_tags, inline tags kept and text escaped."""

    def esc(text: str | None) -> str:
        if not text:
            return ""
        return html.escape(text, quote=False) if keep_tags else text

    parts = [esc(elem.text)]
    for child in elem:
        tag = _local(child.tag)
        if tag == "math":
            # Pretty-printed MathML has layout whitespace between tokens: drop it.
            parts.append(esc("".join(t.strip() for t in child.itertext())))
        else:
            inner = _markup(child, keep_tags=keep_tags)
            if keep_tags and tag in INLINE_TAGS and inner.strip():
                parts.append(f"<{tag}>{inner}</{tag}>")
            else:
                parts.append(inner)
        parts.append(esc(child.tail))
    return "".join(parts)


def markup_text(elem: Element | None) -> str | None:
    """Safe HTML-ish markup for an element (inline tags kept, text escaped), or None."""
    if elem is None:
        return None
    return _collapse(_markup(elem, keep_tags=True)) or None


def plain_text(elem: Element | None) -> str | None:
    """An element's text with every tag dropped (MathML flattened), or None."""
    if elem is None:
        return None
    return _collapse(_markup(elem, keep_tags=False)) or None


def strip_markup(title: str) -> str:
    """A markup title as plain text: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", title))


def _text(elem: Element | None, path: str) -> str | None:
    if elem is None:
        return None
    found = elem.find(path)
    return plain_text(found) if found is not None else None


def _month(value: str | None) -> int | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        number = int(value)
        return number if 1 <= number <= 12 else None
    return _MONTHS.get(value[:3].lower())


def _day(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        number = int(value)
        return number if 1 <= number <= 31 else None
    return None


def parse_pub_date(pub_date: Element | None) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) from a PubDate: Year/Month/Day, or a MedlineDate's first clear part.

    '2015 Jan-Feb' -> (2015, 1, None); '1998 Dec-1999 Jan' -> (1998, 12, None);
    '1944-1945' -> (1944, None, None); '2018 May - Jun' -> (2018, 5, None).
    """
    if pub_date is None:
        return None, None, None
    year_text = pub_date.findtext("Year")
    if year_text and year_text.strip().isdigit():
        season = (pub_date.findtext("Season") or "").strip()
        if season and not pub_date.findtext("Month"):
            # "Nov-Dec" as a season reads as MEDLINE's DP "2013 Nov-Dec" does: November.
            return parse_date_text(f"{year_text.strip()} {season}")
        month = _month(pub_date.findtext("Month"))
        day = _day(pub_date.findtext("Day")) if month else None
        return int(year_text), month, day
    return parse_date_text(pub_date.findtext("MedlineDate"))


def parse_date_text(text: str | None) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) from a date as PubMed writes it in text (a MedlineDate, MEDLINE's
    `DP`): '2006 Mar 1' -> (2006, 3, 1); '2015 Jan-Feb' -> (2015, 1, None)."""
    match = _MEDLINE_DATE.match(text or "")
    if not match:
        return None, None, None
    year, month_name, day_text = match.groups()
    month = _month(month_name)
    day = _day(day_text) if month else None
    return int(year), month, day


def _authors(author_list: Element | None) -> tuple[list[Author], bool]:
    if author_list is None:
        return [], True
    authors: list[Author] = []
    for node in author_list.iterfind("Author"):
        if node.get("ValidYN", "Y") == "N":
            continue
        collective = _text(node, "CollectiveName")
        if collective:
            authors.append(Author(literal=collective))
            continue
        family = _text(node, "LastName")
        if not family:
            continue
        given = _text(node, "ForeName")
        initials = _text(node, "Initials") or (initials_of(given) if given else None)
        authors.append(
            Author(family=family, given=given, suffix=_text(node, "Suffix"), initials=initials)
        )
    return authors, author_list.get("CompleteYN", "Y") != "N"


def _abstract(abstract: Element | None) -> str | None:
    if abstract is None:
        return None
    paragraphs = []
    for node in abstract.iterfind("AbstractText"):
        text = plain_text(node)
        if not text:
            continue
        label = node.get("Label")
        paragraphs.append(f"{label.strip()}: {text}" if label and label.strip() else text)
    return "\n\n".join(paragraphs) or None


def _article_ids(container: Element | None) -> dict[str, str]:
    ids: dict[str, str] = {}
    if container is None:
        return ids
    for node in container.iterfind("ArticleId"):
        kind = (node.get("IdType") or "").lower()
        value = (node.text or "").strip()
        if kind and value:
            ids.setdefault(kind, value)
    return ids


def _elocations(parent: Element | None) -> dict[str, str]:
    found: dict[str, str] = {}
    if parent is None:
        return found
    for node in parent.iterfind("ELocationID"):
        kind = (node.get("EIdType") or "").lower()
        value = (node.text or "").strip()
        if kind and value and node.get("ValidYN", "Y") != "N":
            found.setdefault(kind, value)
    return found


def _title(elem: Element | None) -> str | None:
    title = markup_text(elem)
    if title and title.endswith(".") and not title.endswith(".."):
        title = title[:-1].rstrip()
    return title or None


def _notices(citation: Element) -> list[Notice]:
    notices = []
    for node in citation.iterfind("CommentsCorrectionsList/CommentsCorrections"):
        kind = node.get("RefType") or ""
        if kind in NOTICE_KINDS:
            notices.append(
                Notice(
                    kind=kind,
                    pmid=pmid_or_none(node.findtext("PMID")),
                    citation=_text(node, "RefSource"),
                )
            )
    return notices


def settle_status(ref: Reference) -> None:
    """Worst status wins: retracted > expression-of-concern > corrected."""
    found: dict[str, str | None] = {}
    if RETRACTED_TYPE in ref.publication_types:
        found["retracted"] = None
    for notice in ref.notices:
        status = NOTICE_KINDS[notice.kind]
        if found.get(status) is None:
            found[status] = notice.citation
    for status in _STATUS_ORDER:
        if status in found:
            ref.status = status
            # The note is the notice itself ("Ginekol Pol. 1998 Jul;69(7):559-60"); renderers
            # print the status's own label before it.
            ref.status_note = found[status]
            return


def stamp_pubmed(ref: Reference) -> None:
    """Credit every field the record set to PubMed."""
    at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    stamp(ref, FieldSource("pubmed", at))


# --- articles ----------------------------------------------------------------------------


def parse_article(node: Element) -> Reference:
    """One PubmedArticle element → Reference (ValueError when it has no title)."""
    citation = node.find("MedlineCitation")
    if citation is None:
        raise ValueError("has no MedlineCitation")
    pmid = pmid_or_none(citation.findtext("PMID"))
    article = citation.find("Article")
    if article is None:
        raise ValueError(f"PMID {pmid} has no Article")
    title = _title(article.find("ArticleTitle")) or _title(article.find("VernacularTitle"))
    if not title:
        raise ValueError(f"PMID {pmid} has no title")
    ref = Reference(title=title, pmid=pmid)
    ref.authors, ref.authors_complete = _authors(article.find("AuthorList"))
    journal = article.find("Journal")
    if journal is not None:
        ref.container_title = _text(journal, "Title")
        # NLM's own abbreviation ("J Med Chem", as PubMed cites and MEDLINE text carries it)
        # before the ISO one, which older records write with periods ("J. Med. Chem.").
        ref.container_title_short = _text(citation, "MedlineJournalInfo/MedlineTA") or _text(
            journal, "ISOAbbreviation"
        )
        ref.issn = _text(journal, "ISSN")
        ref.volume = _text(journal, "JournalIssue/Volume")
        ref.issue = _text(journal, "JournalIssue/Issue")
        ref.year, ref.month, ref.day = parse_pub_date(journal.find("JournalIssue/PubDate"))
    for date in article.iterfind("ArticleDate"):
        if date.get("DateType", "Electronic") == "Electronic":
            ref.epub_date = _iso_date(date)
            break
    locations = _elocations(article)
    pages = _text(article, "Pagination/MedlinePgn")
    if not pages:
        start, end = _text(article, "Pagination/StartPage"), _text(article, "Pagination/EndPage")
        pages = f"{start}-{end}" if start and end else start
    if not pages and ARTICLE_NUMBER.match(locations.get("pii", "")):
        pages = locations["pii"]
    ref.pages = expand_page_range(pages) if pages else None
    ids = _article_ids(node.find("PubmedData/ArticleIdList"))
    ref.doi = normalise_doi(ids.get("doi") or locations.get("doi"))
    ref.pmcid = pmcid_or_none(ids.get("pmc"))
    ref.abstract = _abstract(article.find("Abstract"))
    ref.language = _text(article, "Language")
    ref.publication_types = _texts(article.iterfind("PublicationTypeList/PublicationType"))
    ref.mesh_terms = _mesh_headings(citation)
    ref.keywords = _texts(citation.iterfind("KeywordList/Keyword"))
    ref.notices = _notices(citation)
    settle_status(ref)
    stamp_pubmed(ref)
    return ref


def parse_book(node: Element) -> Reference:
    """One PubmedBookArticle → a 'chapter' (it has an ArticleTitle) or a whole 'book'."""
    doc = node.find("BookDocument")
    if doc is None:
        raise ValueError("has no BookDocument")
    pmid = pmid_or_none(doc.findtext("PMID"))
    book = doc.find("Book")
    book_title = _title(book.find("BookTitle")) if book is not None else None
    chapter_title = _title(doc.find("ArticleTitle"))
    title = chapter_title or book_title
    if not title:
        raise ValueError(f"PMID {pmid} (book) has no title")
    ref = Reference(title=title, pmid=pmid, type="chapter" if chapter_title else "book")
    if chapter_title:
        ref.container_title = book_title
    authors, complete = _authors(doc.find("AuthorList"))
    if not authors and book is not None:
        for author_list in book.iterfind("AuthorList"):
            if author_list.get("Type", "authors") == "authors":
                authors, complete = _authors(author_list)
                break
    ref.authors, ref.authors_complete = authors, complete
    if book is not None:
        for author_list in book.iterfind("AuthorList"):
            if author_list.get("Type") == "editors":
                ref.editors = _authors(author_list)[0]
        ref.publisher = _text(book, "Publisher/PublisherName")
        ref.year, ref.month, ref.day = parse_pub_date(book.find("PubDate"))
    ids = _article_ids(doc.find("ArticleIdList"))
    ids.update({k: v for k, v in _article_ids(node.find("PubmedBookData/ArticleIdList")).items()})
    locations = {**_elocations(book), **_elocations(doc)}
    ref.doi = normalise_doi(ids.get("doi") or locations.get("doi"))
    ref.pmcid = pmcid_or_none(ids.get("pmc"))
    ref.abstract = _abstract(doc.find("Abstract"))
    ref.language = _text(doc, "Language")
    ref.publication_types = _texts(doc.iterfind("PublicationType"))
    ref.keywords = _texts(doc.iterfind("KeywordList/Keyword"))
    stamp_pubmed(ref)
    return ref


def _iso_date(date: Element) -> str | None:
    year = (date.findtext("Year") or "").strip()
    if not year.isdigit():
        return None
    month = _month(date.findtext("Month"))
    day = _day(date.findtext("Day")) if month else None
    return "-".join([year] + [f"{p:02d}" for p in (month, day) if p])


def _mesh_headings(citation: Element) -> list[str]:
    """MeSH headings as MEDLINE writes them: '*' marks a major topic, '/' its qualifiers
    ('*Software', 'Sequence Alignment/*methods')."""

    def star(node: Element) -> str:
        return "*" if node.get("MajorTopicYN") == "Y" else ""

    headings: dict[str, None] = {}
    for heading in citation.iterfind("MeshHeadingList/MeshHeading"):
        descriptor = heading.find("DescriptorName")
        name = plain_text(descriptor)
        if descriptor is None or not name:
            continue
        parts = [star(descriptor) + name]
        for qualifier in heading.iterfind("QualifierName"):
            text = plain_text(qualifier)
            if text:
                parts.append(star(qualifier) + text)
        headings.setdefault("/".join(parts), None)
    return list(headings)


def _texts(nodes: Iterable[Element]) -> list[str]:
    values: dict[str, None] = {}
    for node in nodes:
        text = plain_text(node)
        if text:
            values.setdefault(text, None)
    return list(values)


# --- documents ---------------------------------------------------------------------------


def parse_pubmed_xml(data: bytes | str, *, source: str = "PubMed XML") -> list[Reference]:
    """Every article in a PubmedArticleSet document, in document order.

    Unsafe XML (entity declarations, external entities) and malformed XML raise
    `LookupFailedError` naming `source`. An article that cannot be read is skipped with a
    logged warning; it never spoils the rest of the batch.
    """
    try:
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True)
    except DefusedXmlException as exc:
        raise LookupFailedError(f"{source}: refused unsafe XML ({_defused_reason(exc)})") from None
    except SafeET.ParseError as exc:
        raise LookupFailedError(f"{source}: malformed XML ({exc})") from None
    if _local(root.tag) != "pubmedarticleset":
        raise LookupFailedError(f"{source}: expected <PubmedArticleSet>, found <{root.tag}>")
    refs: list[Reference] = []
    for index, node in enumerate(root, start=1):
        kind = _local(node.tag)
        if kind not in ("pubmedarticle", "pubmedbookarticle"):
            continue
        try:
            ref = parse_article(node) if kind == "pubmedarticle" else parse_book(node)
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("%s: skipped article %d: %s", source, index, exc)
            continue
        refs.append(ref)
    return refs


def _defused_reason(exc: DefusedXmlException) -> str:
    name = type(exc).__name__
    if name == "EntitiesForbidden":
        return "entity declarations are not allowed"
    if name == "ExternalReferenceForbidden":
        return "external references are not allowed"
    if name == "DTDForbidden":
        return "DTDs are not allowed"
    return name
