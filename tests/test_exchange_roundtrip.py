"""Each export read back by refdb's own reader gives the same studies and fields."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from refdb.csl import from_csl
from refdb.records import Author, Reference
from refdb.render.bibtex import render_biblatex, render_bibtex
from refdb.render.csljson import render_csl_json
from refdb.render.ris import render_ris
from refdb.sources.files import read_references

REPO = Path(__file__).resolve().parents[1]

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


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_export_then_import_keeps_every_study_and_field(fmt: str, tmp_path: Path) -> None:
    writer, suffix = WRITERS[fmt]
    original = studies()
    path = tmp_path / f"export{suffix}"
    path.write_text(writer(original), encoding="utf-8")
    back = read_references(path).references

    assert len(back) == len(original)
    for before, after in zip(original, back, strict=True):
        for name in FIELDS:
            assert getattr(after, name) == getattr(before, name), (fmt, before.title, name)
        assert names(after) == names(before), (fmt, before.title)
        if fmt in ("csl-json", "ris"):
            assert after.indications == before.indications
            assert after.keywords == before.keywords
        else:
            assert after.keywords == before.indications + before.keywords, (fmt, before.title)
        if fmt != "ris":  # RIS has no way to say "et al."
            assert after.authors_complete == before.authors_complete, (fmt, before.title)


@pytest.mark.parametrize("fmt", ["bibtex-ascii", "biblatex-ascii"])
def test_ascii_exports_are_pure_ascii(fmt: str) -> None:
    writer, _ = WRITERS[fmt]
    assert writer(studies()).isascii()


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_exports_are_deterministic(fmt: str) -> None:
    writer, _ = WRITERS[fmt]
    assert writer(studies()) == writer(studies())
