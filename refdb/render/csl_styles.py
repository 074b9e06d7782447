"""The CSL styles refdb renders with: which file a style name means, and each style parsed
once (`load_style`), with the two rules applied to the parsed style itself and the facts the
other rules, the citation cache and the site need.

- `align_second_field`: citeproc-py ignores ``second-field-align``; the entry number is split
  off and joined with a space ("1. Douglas");
- `apply_locale_date_delimiters`: citeproc-py drops a localized date's ``delimiter``
  ("2015Jan").
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citeproc import CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON

from refdb.errors import RefdbError
from refdb.formats import STYLE_FILES
from refdb.render.csl_fields import FieldRules

STYLES_DIR = Path(__file__).resolve().parent / "styles"
"""Style names refdb knows, and their CSL files in refdb/render/styles/."""

CSL_NS = "http://purl.org/net/xbiblio/csl"
NS = {"cs": CSL_NS}
FIELD_MARK = "\ue0ff"
"""Appended to the first field of second-field-align styles, to split it off after rendering."""


@dataclass(frozen=True)
class ParsedStyle:
    """A parsed style plus the facts the workaround rules need."""

    style: Any
    numbered: bool
    fields: FieldRules
    et_al_min: int
    et_al_use_first: int
    year_suffix: bool = False
    unused: frozenset[str] = frozenset()
    """CSL variables the style never names (the abstract, in most): left out of the items."""
    sort: Any = None
    """The bibliography's `cs:sort`, or None."""
    number_free: bool = False
    """An entry's text does not depend on its place in the list: the style prints no number,
    or prints it in the label alone (AMA, NLM: "1.")."""
    fingerprint: str = ""
    """The style file's contents and refdb's rendering code, hashed (`StyleFacts`)."""


# --- styles ---------------------------------------------------------------------------------


def resolve_style(style: str) -> Path:
    """The CSL file for a style name (ama, apa, vancouver) or a path to a `.csl` file."""
    if style in STYLE_FILES:
        return STYLES_DIR / STYLE_FILES[style]
    path = Path(style).expanduser()
    if style.lower().endswith(".csl") or path.parent != Path("."):
        if not path.is_file():
            raise RefdbError(f"{style}: no such CSL style file")
        return path.resolve()
    names = ", ".join(STYLE_FILES)
    raise RefdbError(f"unknown style {style!r} (use {names}, or a path to a .csl file)")


@functools.lru_cache(maxsize=16)
def load_style(path: Path) -> ParsedStyle:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            style = CitationStylesStyle(str(path), validate=False)
    except (SyntaxError, OSError, ValueError) as exc:  # lxml errors are SyntaxErrors
        raise RefdbError(f"{path}: not a readable CSL style ({exc})") from None
    root = style.root
    bibliography = root.find("cs:bibliography", NS)
    if bibliography is None:
        raise RefdbError(f"{path}: the CSL style has no bibliography")
    apply_locale_date_delimiters(root)
    align_second_field(bibliography)
    # Terms need a formatter to render; plain text is what the rules compare with.
    CitationStylesBibliography(style, CiteProcJSON([]), formatter.plain)
    term = root.get_term("page-range-delimiter")
    range_delimiter = str(term.single) if term is not None else "\u2013"
    initialize_with = bibliography.get("initialize-with", root.get("initialize-with"))
    named = {
        name
        for attribute in ("variable", "is-numeric", "is-uncertain-date")
        for value in root.xpath(f"//@{attribute}")
        for name in str(value).split()
    }
    return ParsedStyle(
        style=style,
        numbered=bool(bibliography.xpath(".//cs:text[@variable='citation-number']", namespaces=NS)),
        fields=FieldRules(
            range_delimiter=range_delimiter,
            strip_suffix_periods=initialize_with is not None and "." not in initialize_with,
            page_range_format=root.get("page-range-format"),
        ),
        et_al_min=int(bibliography.get("et-al-min", root.get("et-al-min", "0"))),
        et_al_use_first=int(bibliography.get("et-al-use-first", root.get("et-al-use-first", "1"))),
        year_suffix=bool(
            root.xpath("cs:citation[@disambiguate-add-year-suffix='true']", namespaces=NS)
            and root.xpath(".//cs:text[@variable='year-suffix']", namespaces=NS)
        ),
        unused=frozenset({"abstract"} - named),
        sort=bibliography.find("cs:sort", NS),
        number_free=_number_free(root, bibliography),
        fingerprint=_fingerprint(path),
    )


def _number_free(root: Any, bibliography: Any) -> bool:
    """True when an entry's text does not depend on its number: the bibliography never prints
    the citation number, or prints it only as its aligned first field (AMA, NLM: "1.")."""
    uses = root.xpath(
        "cs:bibliography//*[contains(@variable, 'citation-number')]"
        " | cs:macro//*[contains(@variable, 'citation-number')]",
        namespaces=NS,
    )
    if not uses:
        return True
    layout = bibliography.find("cs:layout", NS)
    first = layout[0] if layout is not None and len(layout) else None
    return (
        bool(bibliography.get("second-field-align"))
        and len(uses) == 1
        and uses[0] is first
        and first.get("variable") == "citation-number"
    )


def _fingerprint(path: Path) -> str:
    """The style file and the code that renders with it (these modules, citeproc-py's version):
    a rendering kept under another fingerprint is not this one's."""
    import hashlib
    from importlib.metadata import version

    digest = hashlib.blake2b(digest_size=10)
    digest.update(path.read_bytes())
    digest.update(version("citeproc-py").encode())
    here = Path(__file__).resolve().parent
    for module in ("citations.py", "csl_fields.py", "citeproc_fixes.py", "citeproc_speed.py"):
        digest.update((here / module).read_bytes())
    digest.update((here.parent / "csl.py").read_bytes())
    digest.update((here / "markup.py").read_bytes())
    return digest.hexdigest()


def apply_locale_date_delimiters(root: Any) -> None:
    """Give each localized date call the `delimiter` of the locale's date format.

    citeproc-py gap: for ``<date form="text" variable="issued"/>`` it joins the locale's date
    parts with the delimiter of the calling element (none) instead of the locale date's own, so
    NLM's ``<date delimiter=" " form="text">`` prints "2015Jan" where citeproc-js prints
    "2015 Jan". CSL does not let the calling element set a delimiter, so copying the locale's one
    onto it changes nothing else.
    """
    for date in root.iter(f"{{{CSL_NS}}}date"):
        form = date.get("form")
        if form is None or date.get("delimiter") is not None or date.is_locale_date():
            continue
        localized = root.get_date(form)
        if localized is not None and localized.get("delimiter") is not None:
            date.set("delimiter", localized.get("delimiter"))


def align_second_field(bibliography: Any) -> None:
    """Mark the first field of a ``second-field-align`` bibliography so it can be split off.

    citeproc-py gap: it ignores ``second-field-align`` and prints the first field (the entry
    number) glued to the rest ("1.Douglas"). citeproc-js prints the two as separate blocks, a
    space apart in plain text ("1. Douglas"). The mark lets `Entry` keep the field as its label.
    """
    if not bibliography.get("second-field-align"):
        return
    layout = bibliography.find("cs:layout", NS)
    first = layout[0] if layout is not None and len(layout) else None
    if first is not None:
        first.set("suffix", first.get("suffix", "") + FIELD_MARK)
