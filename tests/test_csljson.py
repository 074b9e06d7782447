"""CSL-JSON export: valid against the official schema, readable by pandoc."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from refdb.csl import from_csl
from refdb.errors import RefdbError
from refdb.records import Author, Notice, Reference
from refdb.render.csljson import render_csl_json
from refdb.sources.csljson import parse_csl_json
from refdb.sources.files import read_references
from tests.conftest import needs, pandoc_citeproc

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((Path(__file__).resolve().parent / "schema" / "csl-data.json").read_text())


def seed_refs() -> list[Reference]:
    items = json.loads((REPO / "seeds" / "studies.json").read_text(encoding="utf-8"))
    return [from_csl(item) for item in items]


def full_ref() -> Reference:
    return Reference(
        title="Ketamine for CRPS",
        authors=[Author(literal="International Association for the Study of Pain")],
        authors_complete=False,
        container_title="Pain",
        year=2009,
        month=12,
        epub_date="2009-09-24",
        doi="10.1016/j.pain.2009.08.015",
        pmid="19783371",
        pmcid="PMC1",
        key="iasp2009ketamine",
        indications=["CRPS"],
        status="retracted",
        notices=[Notice(kind="retracted", pmid="1")],
    )


def test_the_export_validates_against_the_official_schema() -> None:
    data = json.loads(render_csl_json([*seed_refs(), full_ref()]))
    jsonschema.validate(data, SCHEMA)
    assert data[-1]["id"] == "iasp2009ketamine"
    assert data[-1]["custom"]["indications"] == ["CRPS"]


def test_the_schema_check_would_catch_an_extra_top_level_key() -> None:
    data = json.loads(render_csl_json([full_ref()]))
    data[0]["indications"] = ["CRPS"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_ids_are_unique_ascii_keys_and_unicode_is_kept() -> None:
    refs = [full_ref(), full_ref()]
    refs[0].authors = [Author(family="Müller", given="Jörg")]
    data = json.loads(render_csl_json(refs))
    assert [item["id"] for item in data] == ["iasp2009ketamine", "iasp2009ketaminea"]
    assert data[0]["author"] == [{"family": "Müller", "given": "Jörg"}]


def test_an_item_without_title_or_identifier_is_skipped_and_bad_json_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "refs.json"
    path.write_text('[{"id": "a", "title": "T"},\n {"id": "b"}]', encoding="utf-8")
    result = read_references(path)
    assert [r.title for r in result.references] == ["T"]
    assert [(p.line, p.key, p.message) for p in result.problems] == [
        (2, "b", "skipped: no title and no identifier")
    ]
    with pytest.raises(RefdbError, match=r"x\.json: line 2, column 8: not valid JSON"):
        parse_csl_json('[\n{"id": }]', source="x.json")


@needs("pandoc")
def test_pandoc_citeproc_reads_the_csl_json_export(tmp_path: Path) -> None:
    refs = seed_refs()
    bibliography = tmp_path / "export.json"
    bibliography.write_text(render_csl_json(refs), encoding="utf-8")
    keys = [item["id"] for item in json.loads(bibliography.read_text(encoding="utf-8"))]
    printed = pandoc_citeproc(bibliography, keys)
    for ref in refs:
        assert ref.first_author in printed
