"""A `.txt` list that staff paste from PubMed and elsewhere: one study a line.

Each line is a PMID (``12345678``, ``PMID: 12345678``), a DOI (``10.1016/j.pain.2015.05.008``,
``doi:10...``, a ``https://doi.org/...`` link), a PubMed link
(``https://pubmed.ncbi.nlm.nih.gov/12345678/``), or else a title. Blank lines and lines
starting with ``#`` are skipped. Nothing here talks to PubMed: the lines are only sorted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from refdb.errors import RefdbError
from refdb.identifiers import parse_doi, pmid_from_url, pmid_or_none
from refdb.sources.textfile import read_text


@dataclass(frozen=True)
class ListLine:
    """One line of a list: where it is, what it is ('pmid', 'doi' or 'title') and its value
    (the PMID's digits, the DOI without prefix, or the title as written)."""

    line: int
    kind: str
    value: str
    text: str

    def describe(self) -> str:
        """How a report names the line: 'PMID 12345678', 'DOI 10.1/x', or the title quoted."""
        if self.kind == "pmid":
            return f"PMID {self.value}"
        if self.kind == "doi":
            return f"DOI {self.value}"
        return repr(self.value[:80])


def classify(text: str) -> tuple[str, str]:
    """('pmid', digits), ('doi', DOI) or ('title', text) for one line's text, by the rules of
    `refdb.identifiers` (a PMID, a link to a PubMed or Europe PMC record, a DOI or DOI link)."""
    text = " ".join(text.split())
    bare = text.rstrip(".")
    pmid = pmid_or_none(bare.lstrip("0") if bare.isdigit() else bare)
    if pmid is None and "/" in text and " " not in text:
        pmid = pmid_from_url(text if "://" in text else f"https://{text}")
    if pmid:
        return "pmid", pmid
    try:
        # A link may encode the '/' (10.1002%2Fana.410); a DOI copied from a sentence may
        # carry the sentence's full stop.
        return "doi", parse_doi(unquote(text).rstrip(".,;"))
    except ValueError:
        return "title", text


def read_id_list(path: Path, encoding: str | None = None) -> list[ListLine]:
    """The lines of a list file, each classified; RefdbError when it has none."""
    lines = []
    for number, raw in enumerate(read_text(path, encoding).splitlines(), start=1):
        text = " ".join(raw.split())
        if text and not text.startswith("#"):
            kind, value = classify(text)
            lines.append(ListLine(number, kind, value, text))
    if not lines:
        raise RefdbError(f"{path}: nothing to import (one PMID, DOI, PubMed link or title a line)")
    return lines
