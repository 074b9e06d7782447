"""Reading a user's reference file: the reader is chosen by the file's extension."""

from __future__ import annotations

import re
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


_WOS = re.compile(r"^(?:FN |VR |PT [A-Z]\b)")


def kind_of_text_file(path: Path) -> str:
    """What a `.txt` file holds, from its first line: 'ris' (EndNote and databases save RIS
    as .txt), or 'titles' (one title a line, resolved on PubMed). Web of Science's
    field-tagged text is refused in one line rather than sent to PubMed line by line."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    first = next(
        (line for line in head.decode("utf-8", "replace").lstrip("\ufeff").splitlines()
         if line.strip()),
        "",
    )  # fmt: skip
    if re.match(r"^TY  -", first):
        return "ris"
    if _WOS.match(first):
        raise RefdbError(
            f"{path}: line 1: Web of Science field-tagged text, not RIS "
            "(export it from Web of Science as RIS or BibTeX)"
        )
    return "titles"


def read_references(path: Path, encoding: str | None = None) -> ReadResult:
    """The References in a `.bib`, `.ris` or `.json` (CSL-JSON) file, with the problems of
    its entries. `encoding` overrides what the file's bytes say (BOM, JabRef header).

    Any other extension (a `.txt` of titles is resolved on PubMed elsewhere) raises RefdbError.
    """
    suffix = path.suffix.lower()
    if suffix == ".txt" and kind_of_text_file(path) == "ris":
        suffix = ".ris"
    reader = READERS.get(suffix)
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise RefdbError(
            f"{path}: unsupported file type '{path.suffix}' (expected {known}, or .txt titles)"
        )
    return reader(path, encoding)
