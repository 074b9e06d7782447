"""PubMed: the E-utilities client (client.py), its XML parser (parse.py), title/DOI matching
(resolve.py)."""

from refdb.sources.pubmed.client import EutilsClient, RateLimiter, SearchHits, open_client
from refdb.sources.pubmed.parse import parse_pubmed_xml, strip_markup
from refdb.sources.pubmed.resolve import (
    Candidate,
    Resolution,
    fetch_pmids,
    is_notice,
    record_with_doi,
    resolve_doi,
    resolve_title,
)

__all__ = [
    "Candidate",
    "EutilsClient",
    "RateLimiter",
    "Resolution",
    "SearchHits",
    "fetch_pmids",
    "is_notice",
    "open_client",
    "parse_pubmed_xml",
    "record_with_doi",
    "resolve_doi",
    "resolve_title",
    "strip_markup",
]
