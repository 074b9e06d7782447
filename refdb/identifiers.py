"""PMID, PMCID and DOI: the one place that says what each looks like.

Every reader, `refdb edit` and the store check identifiers here, so a value one path takes is
never refused by another. A `parse_*` function returns the identifier in its stored form or
raises ValueError saying what the value is not; a `*_from_url` function finds the identifier
a link names, or None.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from refdb.errors import RefdbError

_PMID = re.compile(r"[1-9]\d{0,8}")
_PMCID = re.compile(r"PMC\d{1,9}(?:\.\d+)?")
_DOI = re.compile(r"10\.\d{4,9}/\S+|10/[A-Za-z0-9]+")
_PMID_LABEL = re.compile(r"^(?:pmid|pubmed(?:\s*id)?)\s*:?\s*", re.IGNORECASE)
_PMCID_LABEL = re.compile(r"^pmcid\s*:?\s*", re.IGNORECASE)
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.|www\.)?doi\.org/|doi\.org/|doi:\s*)", re.IGNORECASE)
_PUBMED_HOSTS = ("pubmed.ncbi.nlm.nih.gov", "www.ncbi.nlm.nih.gov", "ncbi.nlm.nih.gov")


def parse_pmid(value: str | int) -> str:
    """A PMID ('19783371', 'PMID: 19783371') as its digits; ValueError when it is none."""
    text = _PMID_LABEL.sub("", str(value).strip()).strip()
    if not _PMID.fullmatch(text):
        raise ValueError(f"{str(value).strip()!r} is not a PMID")
    return text


def parse_pmcid(value: str) -> str:
    """A PMCID ('PMC1234567', 'pmc1234567', '1234567') as 'PMC1234567'; ValueError when
    it is none."""
    text = _PMCID_LABEL.sub("", value.strip()).strip().upper()
    if text and not text.startswith("PMC"):
        text = f"PMC{text}"
    if not _PMCID.fullmatch(text):
        raise ValueError(f"{value.strip()!r} is not a PMCID")
    return text


def normalise_doi(value: str | None) -> str | None:
    """A DOI without resolver or `doi:` prefix (its case kept for display); None when empty.

    DOIs are case-insensitive: compare them through `doi_key`."""
    if value is None:
        return None
    doi = _DOI_PREFIX.sub("", value.strip()).strip()
    return doi or None


def parse_doi(value: str) -> str:
    """A DOI ('10.1016/j.pain.2009.08.015', 'doi:10...', 'https://doi.org/10...', a short
    DOI '10/fqd6hj') without its prefix; ValueError when it is none."""
    doi = normalise_doi(value)
    if doi is None or not _DOI.fullmatch(doi):
        raise ValueError(f"{value.strip()!r} is not a DOI (10.NNNN/... or 10/...)")
    return doi


def is_valid_doi(value: str) -> bool:
    """True for a DOI as `normalise_doi` leaves it: 10.NNNN/suffix, or a short DOI."""
    return bool(_DOI.fullmatch(value))


def doi_key(value: str) -> str:
    """The identity form of a DOI: no prefix, lower case."""
    return (normalise_doi(value) or "").lower()


_OVID_MEDLINE = ("medl", "mesz", "prem", "medp", "medc", "mdxx")
"""Ovid's codes for its MEDLINE databases, whose accession number (AN) is the PMID."""


_LINK_SEPARATOR = re.compile(r"\s*;\s*(?=https?://)|\s+")


def split_links(value: str) -> list[str]:
    """The links one field holds: EndNote and others put several in one, a line or a space
    apart, or `;` before the next link."""
    return [link for link in _LINK_SEPARATOR.split(value.strip()) if link]


def pmid_from_url(url: str) -> str | None:
    """The PMID a PubMed link names: pubmed.ncbi.nlm.nih.gov/N, ncbi.nlm.nih.gov/pubmed/N,
    .../pubmed/?term=N, europepmc.org/abstract/MED/N, and Ovid's link to a MEDLINE record
    (ovidweb.cgi?...&D=medl&AN=N); None for any other link."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    path = [p for p in parts.path.split("/") if p]
    query = parse_qs(parts.query)
    candidate: str | None = None
    if host.endswith("ovid.com"):
        database = query.get("D", [""])[0].lower()
        if database in _OVID_MEDLINE:
            candidate = query.get("AN", [""])[0]
    elif host == "pubmed.ncbi.nlm.nih.gov" and path:
        candidate = path[0]
    elif host in _PUBMED_HOSTS and path[:1] == ["pubmed"]:
        term = query.get("term", [""])[0]
        candidate = path[1] if len(path) > 1 else term
    elif host.endswith("europepmc.org") and len(path) >= 3 and path[-2].upper() == "MED":
        candidate = path[-1]
    if candidate is None:
        return None
    try:
        return parse_pmid(candidate)
    except ValueError:
        return None


def pmcid_from_url(url: str) -> str | None:
    """The PMCID a PubMed Central link names (…/pmc/articles/PMC123/), else None."""
    match = re.search(r"/(?:pmc/articles|articles)/(PMC\d+)", url, re.IGNORECASE)
    if not match or "ncbi.nlm.nih.gov" not in url.lower():
        return None
    return match.group(1).upper()


def typed_pmid(value: str) -> str:
    """A PMID a person typed ('12345', 'PMID:12345'); RefdbError saying it is none."""
    try:
        return parse_pmid(value)
    except ValueError:
        raise RefdbError(f"PMID {value!r}: not a PMID (digits)") from None


def pmid_or_none(value: str | int | None) -> str | None:
    """The PMID a value is, or None (for sources that are sure of their field: PubMed's
    own XML, a list of PMIDs already checked)."""
    try:
        return parse_pmid(value) if value is not None else None
    except ValueError:
        return None


def pmcid_or_none(value: str | None) -> str | None:
    """The PMCID a value is, or None."""
    try:
        return parse_pmcid(value) if value else None
    except ValueError:
        return None
