"""Where a study can be read, and what its status says: the one way every renderer builds them.

The page, the site, its metadata and its feed each write these in their own markup, from the
same links (PubMed by PMID, or a PubMed search for the title when no PMID is known, never a
guessed PMID; the DOI; PubMed Central; the publisher's page) and the same status label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, quote_plus, urlsplit

from refdb.records import Reference

_STATUS_LABELS = {
    "retracted": "RETRACTED",
    "corrected": "Corrected",
    "expression-of-concern": "Expression of concern",
}


def pmid_url(pmid: str) -> str:
    """The PubMed page of a PMID."""
    return f"https://pubmed.ncbi.nlm.nih.gov/{quote(pmid, safe='')}/"


def pubmed_url(ref: Reference) -> str:
    """The study's PubMed page, or a PubMed search for its title when no PMID is known."""
    if ref.pmid:
        return pmid_url(ref.pmid)
    title = " ".join(re.sub(r"<[^>]+>", "", ref.title).split())
    return f"https://pubmed.ncbi.nlm.nih.gov/?term={quote_plus(title)}"


def doi_url(doi: str) -> str:
    """The doi.org link for a DOI, with characters unsafe in a URL percent-encoded."""
    return "https://doi.org/" + quote(doi, safe="/:;()._-~,+=!*@")


def pmc_url(pmcid: str) -> str:
    """The study's full text in PubMed Central."""
    return f"https://pmc.ncbi.nlm.nih.gov/articles/{quote(pmcid, safe='')}/"


def http_url(url: str | None) -> str | None:
    """The URL when it is http(s) (a `javascript:` URL never becomes a link), else None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


@dataclass(frozen=True)
class Link:
    """One place a study can be read."""

    kind: str
    """"pubmed", "pubmed-search", "doi", "pmc" or "publisher"."""
    url: str
    name: str
    """The short link text of a list of links: "PubMed", "PubMed search", "DOI"..."""
    text: str
    """Link text that says where it goes on its own: "PubMed 26101891", "DOI 10.1016/..."."""


def study_links(ref: Reference, *, full: bool = True) -> list[Link]:
    """The study's links: PubMed (or a PubMed search for its title), then the DOI; with
    `full`, also PubMed Central and the publisher's page (an http(s) URL not already listed)."""
    if ref.pmid:
        found = [Link("pubmed", pubmed_url(ref), "PubMed", f"PubMed {ref.pmid}")]
    else:
        found = [
            Link("pubmed-search", pubmed_url(ref), "PubMed search", "PubMed search for the title")
        ]
    if ref.doi:
        found.append(Link("doi", doi_url(ref.doi), "DOI", f"DOI {ref.doi}"))
    if not full:
        return found
    if ref.pmcid:
        found.append(
            Link("pmc", pmc_url(ref.pmcid), "PubMed Central", f"PubMed Central {ref.pmcid}")
        )
    url = http_url(ref.url)
    if url and url not in {link.url for link in found}:
        host = urlsplit(url).netloc
        found.append(Link("publisher", url, "Publisher page", f"Publisher page ({host})"))
    return found


@dataclass(frozen=True)
class Status:
    """A flagged study's status as readers see it."""

    kind: str
    """The stored status: "retracted", "corrected", "expression-of-concern"..."""
    label: str
    """"RETRACTED", "Corrected", "Expression of concern" (another status in words)."""
    note: str
    """The status note, "" when there is none."""

    @property
    def retracted(self) -> bool:
        """True for a retraction, which every format puts before the entry."""
        return self.kind == "retracted"

    @property
    def text(self) -> str:
        """The label with its note: "Corrected: Erratum in ..."."""
        return f"{self.label}: {self.note}" if self.note else self.label


def study_status(ref: Reference) -> Status | None:
    """The study's status label and note; None for a study that is not flagged."""
    if not ref.status:
        return None
    label = _STATUS_LABELS.get(ref.status, ref.status.replace("-", " ").capitalize())
    return Status(ref.status, label, (ref.status_note or "").strip())
