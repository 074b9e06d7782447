"""Reading a user's reference file: the reader is chosen by the file's extension."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from refdb.errors import RefdbError
from refdb.sources.bibtex import read_bibtex
from refdb.sources.csljson import read_csl_json
from refdb.sources.medline import is_medline, read_medline
from refdb.sources.problems import ReadResult
from refdb.sources.ris import read_ris, sniff_format

READERS: dict[str, Callable[[Path, str | None], ReadResult]] = {
    ".bib": read_bibtex,
    ".ris": read_ris,
    ".json": read_csl_json,
    ".nbib": read_medline,
}
"""File extensions (lower case) and their readers."""


def kind_of_text_file(path: Path) -> str:
    """What a `.txt` file holds, from its first line: 'medline' (PubMed's "Save → PubMed
    format", `PMID- ` first), 'ris' (EndNote and the databases save RIS as .txt; Web of
    Science's field-tagged text too, which the RIS reader refuses in one line rather than it
    going to PubMed line by line), or 'titles' (one PMID, DOI, PubMed link or title a line)."""
    head = _head(path)
    if is_medline(head):
        return "medline"
    return "ris" if sniff_format(head) in ("ris", "wos") else "titles"


def _head(path: Path) -> str:
    with path.open("rb") as handle:
        return handle.read(4096).decode("utf-8", "replace")


def _is_web_of_science(path: Path) -> bool:
    """True for Web of Science's field-tagged text, whatever the file is called (`.ciw`)."""
    return sniff_format(_head(path)) == "wos"


SOURCE_NAMES = {".bib": "bibtex", ".ris": "ris", ".json": "csl-json", ".nbib": "pubmed"}
"""What an imported file's fields are credited to, by extension: MEDLINE text is PubMed's own
record, credited to PubMed as the E-utilities XML is."""


def source_name(path: Path) -> str:
    """The provenance source of a file's fields: 'ris:refs.ris', 'pubmed:export.nbib'."""
    suffix = path.suffix.lower()
    if suffix == ".txt":
        suffix = ".nbib" if kind_of_text_file(path) == "medline" else ".ris"
    return f"{SOURCE_NAMES.get(suffix, 'file')}:{path.name}"


def read_references(path: Path, encoding: str | None = None) -> ReadResult:
    """The References in a `.bib`, `.ris`, `.json` (CSL-JSON) or `.nbib` (MEDLINE) file, with
    the problems of its entries. `encoding` overrides what the file's bytes say (BOM, JabRef header).

    Any other extension (a `.txt` of titles is resolved on PubMed elsewhere) raises RefdbError.
    """
    suffix = path.suffix.lower()
    if suffix == ".txt":
        suffix = {"ris": ".ris", "medline": ".nbib"}.get(kind_of_text_file(path), suffix)
    if suffix not in READERS and path.is_file() and _is_web_of_science(path):
        suffix = ".ris"  # `.ciw` and friends: the RIS reader refuses it in one helpful line
    reader = READERS.get(suffix)
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise RefdbError(
            f"{path}: unsupported file type '{path.suffix}' (expected {known}, or .txt identifiers and titles)"
        )
    return reader(path, encoding)
