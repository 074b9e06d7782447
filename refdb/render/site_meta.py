"""What reference managers and search engines read from the site: Highwire `citation_*` meta
tags and JSON-LD on each study's page, and a COinS span per study on the index.

Zotero's connector tries COinS spans first (its "COinS" translator, priority 310), then
Highwire tags (its "Embedded Metadata" translator, priority 320, the tags Google Scholar's
inclusion guidelines ask for), then a DOI in the text; it does not read JSON-LD. So a study's
page carries Highwire tags and no COinS span (Zotero's COinS reader drops `info:pmid/`, while
Embedded Metadata turns `citation_pmid` into "PMID: N" in Extra), and the index carries one
COinS span per study, which Zotero offers in one picker. JSON-LD (`MedicalScholarlyArticle`)
is for search engines.

How Zotero reads them (zotero/translators `Embedded Metadata.js` and `COinS.js`,
zotero/utilities `openurl.js` `parseContextObject`) shapes the details: one `citation_author`
per author as "Family, Given" (with several author tags Zotero never splits one at a comma);
pages as `citation_firstpage` and `citation_lastpage`; KEV values percent-encoded with `%20`
for spaces (Zotero reads `+` as a space); the first author as `rft.aulast`/`rft.aufirst` only
when both are known (Zotero pairs them with the same author's `rft.au`).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import quote

from refdb.records import Author, Reference, expand_page_range
from refdb.render.labels import doi_url, pubmed_url

_INLINE_TAG = re.compile(r"</?(?:i|b|em|strong|sup|sub|u|sc)>", re.IGNORECASE)
_PAGE = r"(?:[A-Za-z.:]*\d+[A-Za-z]*|[ivxlcdm]+|[IVXLCDM]+)"
_FIRST_RANGE = re.compile(rf"^\s*({_PAGE})\s*(?:[-\u2013]\s*({_PAGE}))?(?=$|[\s,;])")
"""The first page range of a `pages` field: "107-115", "e0123", "S12-S15", "iii-iv"."""


def plain(text: str | None) -> str:
    """A field as plain text: PubMed's inline markup (<i>, <sup>...) dropped, spaces collapsed.

    Anything else that looks like a tag is text and stays, to be escaped where it is written.
    """
    return " ".join(_INLINE_TAG.sub("", text or "").split())


def author_name(author: Author) -> str:
    """An author as Highwire and COinS want it: "Family, Given", or the collective name."""
    if author.literal:
        return plain(author.literal)
    given = plain(author.given or author.initials)
    family = plain(author.family)
    return f"{family}, {given}" if family and given else family or given


def page_range(pages: str | None) -> tuple[str | None, str | None]:
    """The first and last page of the first range ("107-15" -> 107, 115; "e0123" -> e0123)."""
    if not pages:
        return None, None
    match = _FIRST_RANGE.match(expand_page_range(pages))
    if not match:
        return None, None
    return match.group(1), match.group(2)


def highwire_date(ref: Reference) -> str | None:
    """The publication date as Google Scholar asks for it: "2015/09/12", "2015/09" or "2015"."""
    if ref.year is None:
        return None
    parts = [f"{ref.year:04d}"]
    if ref.month and 1 <= ref.month <= 12:
        parts.append(f"{ref.month:02d}")
        if ref.day and 1 <= ref.day <= 31:
            parts.append(f"{ref.day:02d}")
    return "/".join(parts)


def _is_book(ref: Reference) -> bool:
    return ref.type == "book"


def _is_chapter(ref: Reference) -> bool:
    return ref.type in ("chapter", "entry", "entry-encyclopedia", "entry-dictionary")


def highwire_tags(ref: Reference, page: str) -> list[tuple[str, str]]:
    """(name, content) of each Highwire meta tag for a study; `page` is the URL of its page
    (relative: Zotero resolves it against the page's own address)."""
    tags: list[tuple[str, str]] = [("citation_title", plain(ref.title))]
    tags += [("citation_author", author_name(a)) for a in ref.authors if author_name(a)]
    first, last = page_range(ref.pages)
    container = plain(ref.container_title)
    if _is_chapter(ref):
        container_tag = "citation_book_title"
    elif _is_book(ref):
        container_tag = ""
    else:
        container_tag = "citation_journal_title"
    values = [
        ("citation_publication_date", highwire_date(ref)),
        (container_tag, container if container_tag else None),
        ("citation_journal_abbrev", plain(ref.container_title_short) if container_tag else None),
        ("citation_publisher", plain(ref.publisher)),
        ("citation_volume", ref.volume),
        ("citation_issue", ref.issue),
        ("citation_firstpage", first),
        ("citation_lastpage", last),
        ("citation_doi", ref.doi),
        ("citation_pmid", ref.pmid),
        ("citation_issn", ref.issn),
        ("citation_language", ref.language),
        ("citation_abstract", plain(ref.abstract)),
        ("citation_abstract_html_url", page),
    ]
    tags += [(name, " ".join(str(v).split())) for name, v in values if name and v]
    return tags


def _json_author(author: Author) -> dict[str, str]:
    if author.literal:
        return {"@type": "Organization", "name": plain(author.literal)}
    person = {"@type": "Person", "name": " ".join(p for p in (author.given, author.family) if p)}
    if author.family:
        person["familyName"] = author.family
    if author.given or author.initials:
        person["givenName"] = author.given or author.initials or ""
    return person


def _iso_date(ref: Reference) -> str | None:
    date = highwire_date(ref)
    return date.replace("/", "-") if date else None


def json_ld(ref: Reference) -> dict[str, Any]:
    """The study as schema.org's `MedicalScholarlyArticle`, with PubMed's publication types."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MedicalScholarlyArticle",
        "headline": plain(ref.title),
        "name": plain(ref.title),
    }
    if ref.authors:
        data["author"] = [_json_author(a) for a in ref.authors]
    if _iso_date(ref):
        data["datePublished"] = _iso_date(ref)
    part: dict[str, Any] | None = None
    if ref.container_title:
        part = {"@type": "Periodical", "name": plain(ref.container_title)}
        if ref.container_title_short:
            part["alternateName"] = plain(ref.container_title_short)
        if ref.issn:
            part["issn"] = ref.issn
        if ref.volume:
            part = {"@type": "PublicationVolume", "volumeNumber": ref.volume, "isPartOf": part}
        if ref.issue:
            part = {"@type": "PublicationIssue", "issueNumber": ref.issue, "isPartOf": part}
        data["isPartOf"] = part
    first, last = page_range(ref.pages)
    if ref.pages:
        data["pagination"] = ref.pages
    if first:
        data["pageStart"] = first
    if last:
        data["pageEnd"] = last
    ids = [("DOI", ref.doi), ("PMID", ref.pmid), ("PMCID", ref.pmcid)]
    data["identifier"] = [
        {"@type": "PropertyValue", "propertyID": name, "value": value}
        for name, value in ids
        if value
    ]
    same = ([doi_url(ref.doi)] if ref.doi else []) + ([pubmed_url(ref)] if ref.pmid else [])
    if same:
        data["sameAs"] = same
    if ref.publication_types:
        data["publicationType"] = list(ref.publication_types)
    if ref.language:
        data["inLanguage"] = ref.language
    if ref.abstract:
        data["abstract"] = plain(ref.abstract)
    if ref.mesh_terms or ref.keywords:
        data["keywords"] = [*ref.mesh_terms, *ref.keywords]
    return {k: v for k, v in data.items() if v}


def _script_json(data: dict[str, Any]) -> str:
    """JSON that cannot end its <script> element or open a comment: <, > and & as escapes."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def study_head(ref: Reference, page: str) -> str:
    """The <head> lines of a study's page: its Highwire tags, then its JSON-LD."""
    lines = [
        f'<meta name="{name}" content="{html.escape(value, quote=True)}">'
        for name, value in highwire_tags(ref, page)
    ]
    lines.append(f'<script type="application/ld+json">\n{_script_json(json_ld(ref))}\n</script>')
    return "\n".join(lines)


# --- COinS (OpenURL 1.0 ContextObjects in spans) --------------------------------------------


def coins_pairs(ref: Reference) -> list[tuple[str, str]]:
    """The key-value pairs of a study's ContextObject (OpenURL 1.0 KEV)."""
    book, chapter = _is_book(ref), _is_chapter(ref)
    pairs = [("ctx_ver", "Z39.88-2004")]
    if ref.doi:
        pairs.append(("rft_id", f"info:doi/{ref.doi}"))
    if ref.pmid:
        pairs.append(("rft_id", f"info:pmid/{ref.pmid}"))
    title, container = plain(ref.title), plain(ref.container_title)
    if book or chapter:
        pairs += [("rft_val_fmt", "info:ofi/fmt:kev:mtx:book")]
        if book:
            pairs += [("rft.genre", "book"), ("rft.btitle", title)]
        else:
            pairs += [("rft.genre", "bookitem"), ("rft.atitle", title), ("rft.btitle", container)]
        pairs.append(("rft.pub", plain(ref.publisher)))
    else:
        pairs += [
            ("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"),
            ("rft.genre", "article"),
            ("rft.atitle", title),
            ("rft.jtitle", container),
            ("rft.stitle", plain(ref.container_title_short)),
        ]
    date = _iso_date(ref)
    first, last = page_range(ref.pages)
    pairs += [
        ("rft.date", date or ""),
        ("rft.volume", ref.volume or ""),
        ("rft.issue", ref.issue or ""),
        ("rft.pages", " ".join((ref.pages or "").split())),
        ("rft.spage", first or ""),
        ("rft.epage", last or ""),
        ("rft.issn", ref.issn or ""),
        ("rft.language", ref.language or ""),
    ]
    lead = ref.authors[0] if ref.authors else None
    if lead is not None and lead.literal:
        pairs.append(("rft.aucorp", plain(lead.literal)))
    elif lead is not None and lead.family and (lead.given or lead.initials):
        pairs += [
            ("rft.aulast", plain(lead.family)),
            ("rft.aufirst", plain(lead.given or lead.initials)),
        ]
    # Every author as rft.au (Zotero keeps their order); a collective first author is rft.aucorp.
    start = 1 if lead is not None and lead.literal else 0
    pairs += [("rft.au", author_name(a)) for a in ref.authors[start:]]
    return [(key, value) for key, value in pairs if value]


def coins_title(ref: Reference) -> str:
    """The ContextObject as the span's title holds it: KEV, each value percent-encoded."""
    return "&".join(f"{key}={quote(value, safe='')}" for key, value in coins_pairs(ref))


def coins_span(ref: Reference) -> str:
    """The COinS span for a study: empty, its ContextObject in the title attribute."""
    return f'<span class="Z3988" title="{html.escape(coins_title(ref), quote=True)}"></span>'
