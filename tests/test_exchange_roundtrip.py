"""Each export, read by a reader refdb did not write, gives the same studies and fields.

The readers are independent of refdb's own: pybtex (BibTeX's name grammar) with pylatexenc
(LaTeX to text) for BibTeX and BibLaTeX, rispy for RIS, `json` and the official CSL-JSON
schema for CSL-JSON. A writer read back by refdb's reader alone could agree with itself on a
mistake both share (the same LaTeX table, the same tag conventions); refdb's own read-back is
tested in test_exchange_cli.py (through the CLI) and test_roundtrip_property.py.
"""

from __future__ import annotations

import calendar
import json
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pybtex.database
import pytest
import rispy
from pylatexenc.latex2text import (
    LatexNodes2Text,
    MacroTextSpec,
    get_default_latex_context_db,
)

from refdb.csl import from_csl
from refdb.records import Author, Reference
from refdb.render.bibtex import render_biblatex, render_bibtex
from refdb.render.csljson import render_csl_json
from refdb.render.ris import render_ris

REPO = Path(__file__).resolve().parents[1]
CSL_SCHEMA = json.loads((REPO / "tests" / "schema" / "csl-data.json").read_text("utf-8"))

FIELDS = (
    "title",
    "container_title",
    "year",
    "month",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
)

Writer = Callable[[Sequence[Reference]], str]

WRITERS: dict[str, tuple[Writer, str]] = {
    "bibtex": (render_bibtex, ".bib"),
    "bibtex-ascii": (lambda refs: render_bibtex(refs, ascii=True), ".bib"),
    "biblatex": (render_biblatex, ".bib"),
    "biblatex-ascii": (lambda refs: render_biblatex(refs, ascii=True), ".bib"),
    "csl-json": (render_csl_json, ".json"),
    "ris": (render_ris, ".ris"),
}


def studies() -> list[Reference]:
    """The nine seed studies, plus one with diacritics, a collective author and LaTeX specials."""
    items = json.loads((REPO / "seeds" / "studies.json").read_text(encoding="utf-8"))
    refs = [from_csl(item) for item in items]
    refs.append(
        Reference(
            title="Kétamine & {R}-kétamine: 50% of CRPS_1 patients -- a Zürich cohort",
            authors=[
                Author(family="Müller-Lüdenscheidt", given="Jörg-Åke"),
                Author(family="Ibáñez", given="Núria"),
                Author(family="de Filippis", given="Rocco"),
                Author(literal="International Association for the Study of Pain"),
            ],
            container_title="Revue Médicale Suisse",
            year=2016,
            month=2,
            volume="12",
            issue="3",
            pages="e101-e109",
            doi="10.5555/RMS.2016.003",
            pmid="99999999",
            indications=["CRPS", "Depression"],
        )
    )
    return refs


def names(ref: Reference) -> list[tuple[Any, ...]]:
    return [(a.family, a.given, a.literal) for a in ref.authors]


@dataclass
class Read:
    """One entry as an independent reader sees it, in refdb's terms."""

    fields: dict[str, Any]
    names: list[tuple[str | None, str | None, str | None]]
    keywords: list[str]
    indications: list[str] | None
    """The indications, where the format holds them apart from the keywords."""
    authors_complete: bool | None
    """Whether the author list is whole, where the format can say it."""


# LaTeX2e's \textbraceleft and \textbraceright (refdb's form of a literal brace, which BibTeX
# does not count), which pylatexenc's default macros lack; everything else is pylatexenc's own.
_LATEX = get_default_latex_context_db()
_LATEX.add_context_category(
    "literal-braces",
    prepend=True,
    macros=[
        MacroTextSpec("textbraceleft", simplify_repl="{"),
        MacroTextSpec("textbraceright", simplify_repl="}"),
    ],
)


def latex_text(value: str) -> str:
    text = LatexNodes2Text(latex_context=_LATEX).latex_to_text(value)
    return unicodedata.normalize("NFC", text)


def _bib_name(person: Any) -> tuple[str | None, str | None, str | None]:
    parts = [*person.prelast_names, *person.last_names]
    given = " ".join(latex_text(p) for p in [*person.first_names, *person.middle_names])
    if not given and len(parts) == 1 and parts[0].startswith("{") and parts[0].endswith("}"):
        return (None, None, latex_text(parts[0][1:-1]))  # a braced name: one collective name
    return (" ".join(latex_text(p) for p in parts), given or None, None)


def read_bib(text: str) -> list[Read]:
    """pybtex's parse, every value through pylatexenc."""
    entries = pybtex.database.parse_string(text, "bibtex").entries.values()
    found = []
    for entry in entries:
        f = entry.fields
        date = f.get("date", "")
        month = f.get("month")
        persons = list(entry.persons.get("author", []))
        complete = not (persons and persons[-1].last_names == ["others"])
        pmid = f.get("eprint") if f.get("eprinttype") == "pubmed" else None
        fields = {
            "title": latex_text(f["title"]),
            "container_title": latex_text(f.get("journal") or f["journaltitle"]),
            "year": int(f.get("year") or date[:4]),
            # pybtex spells out the month macros (feb: 'February'); BibLaTeX dates are ISO.
            "month": list(calendar.month_name).index(month) if month else int(date[5:7] or 0),
            "volume": f.get("volume"),
            "issue": f.get("number"),
            "pages": f["pages"].replace("--", "-") if "pages" in f else None,
            "doi": f.get("doi"),
            "pmid": pmid,
        }
        found.append(
            Read(
                {k: v or None for k, v in fields.items()},
                [_bib_name(p) for p in (persons if complete else persons[:-1])],
                [k.strip() for k in latex_text(f.get("keywords", "")).split(",") if k.strip()],
                None,
                complete,
            )
        )
    return found


def _ris_name(name: str) -> tuple[str | None, str | None, str | None]:
    if ", " not in name:
        return (None, None, name)  # RIS's 'Lastname, Firstname': no comma, one name
    family, given = name.split(", ", 1)
    return (family, given, None)


def read_ris(text: str) -> list[Read]:
    """rispy's parse; refdb's note `refdb indications: A; B` read as a note says it."""
    found = []
    for record in rispy.loads(text):
        date = (record.get("date") or "").split("/")
        notes = record.get("notes", [])
        said = [n.removeprefix("refdb indications: ") for n in notes if "indications:" in n]
        pages = "-".join(p for p in (record.get("start_page"), record.get("end_page")) if p)
        fields = {
            "title": record["title"],
            "container_title": record.get("secondary_title"),
            "year": int(record["year"]),
            "month": int(date[1]) if len(date) > 1 and date[1] else None,
            "volume": record.get("volume"),
            "issue": record.get("number"),
            "pages": pages or None,
            "doi": record.get("doi"),
            "pmid": record.get("accession_number"),
        }
        found.append(
            Read(
                fields,
                [_ris_name(a) for a in record.get("authors", [])],
                record.get("keywords", []),
                said[0].split("; ") if said else [],
                None,  # RIS has no way to say "et al."
            )
        )
    return found


def read_csl(text: str) -> list[Read]:
    """`json`, checked against the official CSL-JSON schema; refdb's own fields are in
    `custom`, CSL's place for them."""
    items = json.loads(text)
    jsonschema.validate(items, CSL_SCHEMA)
    found = []
    for item in items:
        parts = item.get("issued", {}).get("date-parts", [[]])[0]
        custom = item.get("custom", {})
        fields = {
            "title": item["title"],
            "container_title": item.get("container-title"),
            "year": parts[0] if parts else None,
            "month": parts[1] if len(parts) > 1 else None,
            "volume": item.get("volume"),
            "issue": item.get("issue"),
            "pages": item.get("page"),
            "doi": item.get("DOI"),
            "pmid": item.get("PMID"),
        }
        authors = [(a.get("family"), a.get("given"), a.get("literal")) for a in item["author"]]
        keywords = [k.strip() for k in item.get("keyword", "").split(",") if k.strip()]
        complete = custom.get("authors_complete", True)
        found.append(Read(fields, authors, keywords, custom.get("indications", []), complete))
    return found


READERS: dict[str, Callable[[str], list[Read]]] = {
    "bibtex": read_bib,
    "bibtex-ascii": read_bib,
    "biblatex": read_bib,
    "biblatex-ascii": read_bib,
    "csl-json": read_csl,
    "ris": read_ris,
}


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_an_independent_reader_finds_every_study_and_field_of_the_export(fmt: str) -> None:
    writer, _ = WRITERS[fmt]
    original = studies()
    back = READERS[fmt](writer(original))

    assert len(back) == len(original)
    for before, after in zip(original, back, strict=True):
        for name in FIELDS:
            assert after.fields[name] == getattr(before, name), (fmt, before.title, name)
        assert after.names == names(before), (fmt, before.title)
        # Other tools see the indications among the keywords, but in CSL-JSON (its `custom`
        # holds them); CSL-JSON and RIS (a note) also hold them apart.
        listed = before.keywords if fmt == "csl-json" else before.indications + before.keywords
        assert after.keywords == listed, (fmt, before.title)
        if after.indications is not None:
            assert after.indications == before.indications, (fmt, before.title)
        if after.authors_complete is not None:  # RIS has no way to say "et al."
            assert after.authors_complete == before.authors_complete, (fmt, before.title)


@pytest.mark.parametrize("fmt", ["bibtex-ascii", "biblatex-ascii"])
def test_ascii_exports_are_pure_ascii(fmt: str) -> None:
    writer, _ = WRITERS[fmt]
    assert writer(studies()).isascii()


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_exports_are_deterministic(fmt: str) -> None:
    writer, _ = WRITERS[fmt]
    assert writer(studies()) == writer(studies())
