"""PubMed: the E-utilities client (client.py), its XML parser (parse.py), title/DOI matching
(resolve.py)."""

from refdb.sources.pubmed.client import EutilsClient, RateLimiter, SearchHits, open_client
from refdb.sources.pubmed.parse import parse_pubmed_xml, strip_markup
from refdb.sources.pubmed.resolve import (
    Candidate,
    Resolution,
    continue_title,
    fetch_pmids,
    first_title_search,
    is_notice,
    record_with_doi,
    resolution_from,
    resolve_doi,
    resolve_title,
)

__all__ = [
    "Candidate",
    "EutilsClient",
    "RateLimiter",
    "Resolution",
    "SearchHits",
    "continue_title",
    "fetch_pmids",
    "first_title_search",
    "is_notice",
    "open_client",
    "parse_pubmed_xml",
    "record_with_doi",
    "resolution_from",
    "resolve_doi",
    "resolve_title",
    "strip_markup",
]
