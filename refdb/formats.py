"""The names users type for formats, styles and outputs, in one place: the CLI's choices, the
library's checks and the kept-outputs registry read them from here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

DEFAULT_STYLE = "ama"
STYLE_FILES = {
    "ama": "american-medical-association.csl",
    "apa": "apa.csl",
    "vancouver": "nlm-citation-sequence.csl",
}
"""The citation styles shipped with refdb, and their official CSL files in render/styles/
(`--style` also takes a path to any .csl file)."""
STYLE_LABELS = {"ama": "AMA", "apa": "APA", "vancouver": "Vancouver"}
"""How a page names each style."""
STYLE_NAMES = tuple(STYLE_FILES)
STYLE_HELP = f"{', '.join(STYLE_NAMES)}, or a .csl path."

PageFormat = Literal["markdown", "html", "text"]
"""How a page is written (`refdb page --format`; markdown first, the default)."""
PAGE_FORMATS: tuple[str, ...] = get_args(PageFormat)

ExportFormat = Literal["bibtex", "biblatex", "csl-json", "ris", "text", "markdown", "html"]
"""Everything `refdb export --format` writes: the files other reference tools read, then a
formatted bibliography as citeproc-js prints it (no levels)."""
EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)
BIBLIOGRAPHY_FORMATS = EXPORT_FORMATS[4:]

OUTPUT_KINDS = ("export", "page", "site")
"""What `--keep` keeps current."""

UNFILED_HEADING = "Other studies"
"""The heading of the studies filed under no indication (page, export, site)."""


@dataclass(frozen=True)
class OutputOptions:
    """What an output holds: a page, an export or a site, its format, style and indications."""

    kind: str
    fmt: str
    style: str = DEFAULT_STYLE
    indications: tuple[str, ...] = field(default_factory=tuple)
    levels: bool = True
    ascii: bool = False
