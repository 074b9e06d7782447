"""BUILT, NOT REAL: MEDLINE text written from a recorded efetch XML record, for tests only.

No public repository holds PubMed's MEDLINE text for the PMIDs whose efetch XML is recorded
in ../shared/fixtures/pubmed/ (see tests/data/medline/SOURCES.md), so the equivalence test
writes it here, element by element, the way NLM documents the MEDLINE display
("MEDLINE/PubMed Data Element (Field) Descriptions") and the way the real exports in
tests/data/medline/ show it: the tag padded to four columns, values wrapped at 80 columns with
six-space continuation lines, `LID` for an ELocationID and `AID` for an ArticleId (each
`value [kind]`), `MH` as `*Heading/*qualifier`, structured abstracts as `LABEL: text`, comment
and correction links as `RefSource PMID: N`, inline markup dropped from titles.

refdb never imports this module; only tests do.
"""

from __future__ import annotations

import textwrap
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET

from refdb.sources.pubmed.parse import plain_text

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_LINKS = {
    "RetractionIn": "RIN",
    "RetractionOf": "ROF",
    "ErratumIn": "EIN",
    "ErratumFor": "EFR",
    "ExpressionOfConcernIn": "ECI",
    "ExpressionOfConcernFor": "ECF",
    "CommentIn": "CIN",
    "CommentOn": "CON",
    "UpdateIn": "UIN",
    "UpdateOf": "UOF",
}


def _line(tag: str, value: str | None) -> list[str]:
    text = " ".join((value or "").split())
    if not text:
        return []
    head = f"{tag:<4}- "
    wrapped = textwrap.wrap(
        text,
        width=80,
        initial_indent=head,
        subsequent_indent=" " * 6,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return wrapped or [head.rstrip()]


def _text(node: Element | None, path: str) -> str | None:
    found = node.find(path) if node is not None else None
    return plain_text(found) if found is not None else None


def _date(pub_date: Element | None) -> str | None:
    """DP as PubMed writes it: '2006 Mar 1', '2002 Sep', '2015 Jan-Feb' (a MedlineDate)."""
    if pub_date is None:
        return None
    medline = pub_date.findtext("MedlineDate")
    if medline:
        return medline
    year = (pub_date.findtext("Year") or "").strip()
    month = (pub_date.findtext("Month") or "").strip()
    if month.isdigit() and 1 <= int(month) <= 12:
        month = _MONTHS[int(month) - 1]
    season = (pub_date.findtext("Season") or "").strip()
    day = (pub_date.findtext("Day") or "").strip().lstrip("0")
    return " ".join(p for p in (year, month or season, day if month else "") if p)


def _people(author_list: Element | None, full: str, short: str) -> list[str]:
    lines: list[str] = []
    if author_list is None:
        return lines
    for node in author_list.iterfind("Author"):
        if node.get("ValidYN", "Y") == "N":
            continue
        collective = _text(node, "CollectiveName")
        if collective:
            lines += _line("CN", collective)
            continue
        family = _text(node, "LastName")
        if not family:
            continue
        given = _text(node, "ForeName")
        initials = _text(node, "Initials")
        suffix = _text(node, "Suffix")
        lines += _line(full, ", ".join(p for p in (family, given) if p) + f" {suffix or ''}")
        lines += _line(short, " ".join(p for p in (family, initials, suffix) if p))
    if author_list.get("CompleteYN", "Y") == "N":
        lines += _line(short, "et al.")
    return lines


def _abstract(abstract: Element | None) -> str | None:
    if abstract is None:
        return None
    parts = []
    for node in abstract.iterfind("AbstractText"):
        text = plain_text(node)
        if text:
            label = (node.get("Label") or "").strip()
            parts.append(f"{label}: {text}" if label else text)
    return "  ".join(parts) or None


def _ids(container: Element | None, tag: str, element: str, attr: str) -> list[str]:
    lines: list[str] = []
    if container is None:
        return lines
    for node in container.iterfind(element):
        kind = node.get(attr) or ""
        value = (node.text or "").strip()
        if value and kind and kind not in ("pubmed", "pmc", "mid") and node.get("ValidYN") != "N":
            lines += _line(tag, f"{value} [{kind}]")
    return lines


def _mesh(citation: Element) -> list[str]:
    lines: list[str] = []
    for heading in citation.iterfind("MeshHeadingList/MeshHeading"):
        parts = []
        for node in heading:
            if node.tag in ("DescriptorName", "QualifierName") and plain_text(node):
                star = "*" if node.get("MajorTopicYN") == "Y" else ""
                parts.append(star + (plain_text(node) or ""))
        lines += _line("MH", "/".join(parts))
    return lines


def _links(citation: Element) -> list[str]:
    lines: list[str] = []
    for node in citation.iterfind("CommentsCorrectionsList/CommentsCorrections"):
        tag = _LINKS.get(node.get("RefType") or "")
        source = _text(node, "RefSource")
        if tag and source:
            pmid = (node.findtext("PMID") or "").strip()
            lines += _line(tag, f"{source} PMID: {pmid}" if pmid else source)
    return lines


def article_to_medline(node: Element) -> str:
    """One PubmedArticle (or PubmedBookArticle) as a MEDLINE record."""
    if node.tag == "PubmedBookArticle":
        return _book_to_medline(node)
    citation = node.find("MedlineCitation")
    assert citation is not None
    article = citation.find("Article")
    journal = article.find("Journal") if article is not None else None
    lines = _line("PMID", citation.findtext("PMID"))
    lines += _line("OWN", citation.get("Owner"))
    lines += _line("STAT", citation.get("Status"))
    if journal is not None:
        issn = journal.find("ISSN")
        if issn is not None and issn.text:
            lines += _line("IS", f"{issn.text.strip()} ({issn.get('IssnType', 'Print')})")
        lines += _line("VI", _text(journal, "JournalIssue/Volume"))
        lines += _line("IP", _text(journal, "JournalIssue/Issue"))
        lines += _line("DP", _date(journal.find("JournalIssue/PubDate")))
    lines += _line("TI", _text(article, "ArticleTitle"))
    lines += _line("PG", _text(article, "Pagination/MedlinePgn"))
    lines += _ids(article, "LID", "ELocationID", "EIdType")
    lines += _line("AB", _abstract(article.find("Abstract") if article is not None else None))
    lines += _people(article.find("AuthorList") if article is not None else None, "FAU", "AU")
    for language in article.iterfind("Language") if article is not None else ():
        lines += _line("LA", language.text)
    for kind in (
        article.iterfind("PublicationTypeList/PublicationType") if article is not None else ()
    ):
        lines += _line("PT", plain_text(kind))
    for date in article.iterfind("ArticleDate") if article is not None else ():
        if date.get("DateType", "Electronic") == "Electronic":
            parts = [(date.findtext(p) or "").strip() for p in ("Year", "Month", "Day")]
            lines += _line("DEP", parts[0] + parts[1].zfill(2) + parts[2].zfill(2))
    lines += _line("TT", _text(article, "VernacularTitle"))
    lines += _line("TA", _text(citation, "MedlineJournalInfo/MedlineTA"))
    lines += _line("JT", _text(journal, "Title"))
    lines += _links(citation)
    lines += _mesh(citation)
    ids = node.find("PubmedData/ArticleIdList")
    pmc = ids.find("ArticleId[@IdType='pmc']") if ids is not None else None
    if pmc is not None:
        lines += _line("PMC", pmc.text)
    for keyword in citation.iterfind("KeywordList/Keyword"):
        lines += _line("OT", plain_text(keyword))
    lines += _ids(ids, "AID", "ArticleId", "IdType")
    return "\n".join(lines)


def _book_to_medline(node: Element) -> str:
    doc = node.find("BookDocument")
    assert doc is not None
    book = doc.find("Book")
    lines = _line("PMID", doc.findtext("PMID"))
    lines += _line("STAT", "PubMed-not-MEDLINE")
    lines += _line("PB", _text(book, "Publisher/PublisherName"))
    lines += _line("DP", _date(book.find("PubDate") if book is not None else None))
    lines += _line("TI", _text(doc, "ArticleTitle"))
    lines += _line("BTI", _text(book, "BookTitle"))
    lines += _line("AB", _abstract(doc.find("Abstract")))
    for author_list in book.iterfind("AuthorList") if book is not None else ():
        if author_list.get("Type") == "editors":
            lines += _people(author_list, "FED", "ED")
    authors = doc.find("AuthorList")
    if authors is None and book is not None:
        authors = book.find("AuthorList[@Type='authors']")
    lines += _people(authors, "FAU", "AU")
    lines += _line("LA", doc.findtext("Language"))
    for kind in doc.iterfind("PublicationType"):
        lines += _line("PT", plain_text(kind))
    for keyword in doc.iterfind("KeywordList/Keyword"):
        lines += _line("OT", plain_text(keyword))
    lines += _ids(doc, "AID", "ArticleIdList/ArticleId", "IdType")
    lines += _ids(book, "LID", "ELocationID", "EIdType")
    return "\n".join(lines)


def xml_to_medline(data: bytes) -> str:
    """Every record of a PubmedArticleSet as MEDLINE text (records apart by a blank line),
    in the file's order, starting with a blank line as PubMed's own files do."""
    root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True)
    records = [
        article_to_medline(node)
        for node in root
        if node.tag in ("PubmedArticle", "PubmedBookArticle")
    ]
    return "\n" + "\n\n".join(records) + "\n"
