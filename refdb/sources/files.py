"""Reading a user's reference file: the reader is chosen by the file's extension."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from refdb.errors import RefdbError
from refdb.sources.bibtex import read_bibtex
from refdb.sources.csljson import read_csl_json
from refdb.sources.problems import ReadResult
from refdb.sources.ris import read_ris

READERS: dict[str, Callable[[Path, str | None], ReadResult]] = {
    ".bib": read_bibtex,
    ".ris": read_ris,
    ".json": read_csl_json,
}
"""File extensions (lower case) and their readers."""


def read_references(path: Path, encoding: str | None = None) -> ReadResult:
    """The References in a `.bib`, `.ris` or `.json` (CSL-JSON) file, with the problems of
    its entries. `encoding` overrides what the file's bytes say (BOM, JabRef header).

    Any other extension (a `.txt` of titles is resolved on PubMed elsewhere) raises RefdbError.
    """
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise RefdbError(
            f"{path}: unsupported file type '{path.suffix}' (expected {known}, or .txt titles)"
        )
    return reader(path, encoding)
