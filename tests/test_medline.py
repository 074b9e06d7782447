"""PubMed's MEDLINE format (`.nbib`, "PubMed format" `.txt`): real exports imported whole, and
the same Reference as the efetch XML for every recorded PubMed record."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from refdb.records import Reference
from refdb.sources.medline import parse_medline, split_abstract
from refdb.sources.pubmed.parse import parse_pubmed_xml, strip_markup
from tests.conftest import REPO, RunCli, dump, ok
from tests.medline_build import xml_to_medline
from tests.plugin_shared import SHARED_PUBMED, shared_file, shared_glob

DATA = REPO / "tests" / "data" / "medline"
RECORDED = [
    *shared_glob("fixtures/pubmed/efetch-*.xml"),
    SHARED_PUBMED / "nlm-pubmedsample-2019.xml.gz",
]
NBIB = DATA / "rispy-example_pubmed.nbib"
RISPY_PMIDS = [
    "30922926",
    "37068225",
    "36448670",
    "26754250",
    "21251189",
    "35962036",
    "37464026",
    "33990610",
    "35444275",
    "36122246",
]


def _json(cli: RunCli, *args: str) -> Any:
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _comparable(ref: Reference, *, paragraphs: bool) -> dict[str, Any]:
    data = ref.to_dict()
    data.pop("provenance")
    for name in ("title", "container_title"):
        # MEDLINE text has no inline markup: '<i>Phoenix dactylifera</i>' is plain there.
        data[name] = strip_markup(data[name]) if data[name] else data[name]
    if data["abstract"] and not paragraphs:
        data["abstract"] = " ".join(data["abstract"].split())
    return data


def _keeps_paragraphs(abstract: str | None) -> bool:
    """True when MEDLINE text can carry an abstract's paragraphs: none, or each one a
    labelled section ('RESULTS: ...'). Unlabelled paragraphs run together in MEDLINE's AB,
    and an inline 'Background:' in one paragraph reads there like a section label."""
    return abstract is None or split_abstract(" ".join(abstract.split())) == abstract


# --- XML and MEDLINE: one Reference ---------------------------------------------------------


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.name)
def test_medline_gives_the_xml_reference_for_every_recorded_record(path: Path) -> None:
    data = shared_file(path).read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    from_xml = parse_pubmed_xml(data)
    read = parse_medline(xml_to_medline(data), source=path.name)
    assert read.problems == []
    assert [r.pmid for r in read.references] == [r.pmid for r in from_xml]
    for xml_ref, medline_ref in zip(from_xml, read.references, strict=True):
        paragraphs = _keeps_paragraphs(xml_ref.abstract)
        assert _comparable(medline_ref, paragraphs=paragraphs) == _comparable(
            xml_ref, paragraphs=paragraphs
        ), xml_ref.pmid
        # Credited to PubMed, field for field, as the XML is.
        assert {k: v.source for k, v in medline_ref.provenance.items()} == {
            k: v.source for k, v in xml_ref.provenance.items()
        }


def test_the_equivalence_covers_what_matters() -> None:
    """The recorded records reach every field the comparison claims to check."""
    sample = shared_file(RECORDED[-1])
    refs = parse_medline(xml_to_medline(gzip.decompress(sample.read_bytes()))).references
    for path in RECORDED[:-1]:
        refs += parse_medline(xml_to_medline(path.read_bytes())).references
    assert len(refs) == 188
    assert {r.type for r in refs} == {"article-journal", "chapter", "book"}
    assert sum(r.status == "retracted" for r in refs) == 3
    assert any(r.status == "corrected" for r in refs)
    assert any(a.suffix == "Jr" for r in refs for a in r.authors)
    assert any(a.literal for r in refs for a in r.authors)
    assert any(not r.authors_complete for r in refs)
    assert any(r.epub_date for r in refs) and any(r.pmcid for r in refs)
    assert any(m.startswith("*") for r in refs for m in r.mesh_terms)
    assert any("\n\nRESULTS: " in (r.abstract or "") for r in refs)
    assert any(r.editors for r in refs)


# --- real exports ---------------------------------------------------------------------------


def test_a_pubmed_nbib_export_imports_whole_without_asking_pubmed(cli: RunCli) -> None:
    # The tests' E-utilities address is a closed port: a lookup would fail the import.
    result = cli("import", str(NBIB), "--indication", "Dinosaurs")
    assert result.exit_code == 0, result.output
    assert "10 added, 0 updated, 0 unchanged, 0 skipped, 0 warned" in result.stderr
    stored = {s["pmid"]: s for s in _json(cli, "list")}
    assert sorted(stored) == sorted(RISPY_PMIDS)
    spino = stored["36448670"]
    assert spino["title"] == "Spinosaurus is not an aquatic dinosaur"
    assert spino["container_title"] == "eLife" and spino["container_title_short"] == "Elife"
    assert (spino["volume"], spino["pages"], spino["year"], spino["month"]) == (
        "11",
        "e80092",
        2022,
        11,
    )
    assert spino["epub_date"] == "2022-11-30"
    assert spino["doi"] == "10.7554/eLife.80092" and spino["pmcid"] == "PMC9711522"
    assert spino["authors"][0] == {
        "family": "Sereno",
        "given": "Paul C",
        "literal": None,
        "suffix": None,
        "initials": "PC",
    }
    assert len(spino["authors"]) == 9
    assert spino["publication_types"] == ["Journal Article", "Research Support, Non-U.S. Gov't"]
    assert spino["mesh_terms"][:2] == ["Animals", "*Dinosaurs"]
    assert "ambush predator" in spino["keywords"] and spino["language"] == "eng"
    assert spino["issn"] == "2050-084X"
    # The erratum PubMed links (EIN, wrapped over two lines) sets the status.
    niche = stored["33990610"]
    assert niche["status"] == "corrected"
    assert niche["notices"] == [
        {
            "kind": "ErratumIn",
            "pmid": "34294709",
            "citation": "Nat Commun. 2021 Jul 22;12(1):4591. doi: 10.1038/s41467-021-24593-9.",
        }
    ]
    # Levels are derived as for PubMed's XML: MeSH Animals without Humans is preclinical,
    # a review with Humans among its headings is a review.
    assert stored["26754250"]["evidence_level"] == "preclinical"
    assert stored["30922926"]["evidence_level"] == "review"
    assert all(s["indications"] == ["Dinosaurs"] for s in stored.values())
    shown = _json(cli, "show", "36448670")
    assert shown["provenance"]["title"]["source"] == f"pubmed:{NBIB.name}"


def test_pubmed_format_saved_as_txt_is_read_as_medline(cli: RunCli, tmp_path: Path) -> None:
    result = cli("import", str(DATA / "biopython-pubmed_result2.txt"))
    assert result.exit_code == 0, result.output
    assert "4 added" in result.stderr
    ref = _json(cli, "show", "14871861")
    assert [a["family"] for a in ref["authors"]] == ["de Hoon", "Imoto", "Nolan", "Miyano"]
    assert ref["authors"][0]["given"] == "M J L" and ref["authors"][0]["initials"] == "MJ"
    assert (ref["year"], ref["month"], ref["day"], ref["epub_date"]) == (2004, 6, 12, "2004-02-10")
    assert ref["pages"] == "1453-1454" and ref["doi"] == "10.1093/bioinformatics/bth078"
    assert ref["abstract"].startswith("SUMMARY: We have implemented k-means clustering")
    assert "\n\nAVAILABILITY: The C Clustering Library" in ref["abstract"]
    assert "Gene Expression Profiling/*methods" in ref["mesh_terms"]
    for name in ("biopython-pubmed_result1.txt", "biopython-pubmed_result3.txt"):
        assert cli("import", str(DATA / name)).exit_code == 0
    assert len(_json(cli, "list")) == 6
    # Importing the same export again changes nothing.
    again = ok(cli("import", str(DATA / "biopython-pubmed_result2.txt")))
    assert "0 added, 0 updated, 4 unchanged" in again.stderr


# --- bad input ------------------------------------------------------------------------------


def test_a_file_that_is_not_medline_is_refused_in_one_line(
    cli: RunCli, tmp_path: Path, db_url: str
) -> None:
    bad = tmp_path / "export.nbib"
    bad.write_text("\nTY  - JOUR\nTI  - An RIS record\nER  - \n", "utf-8")
    assert cli("import", str(NBIB)).exit_code == 0
    before = dump(db_url)
    result = cli("import", str(bad))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"refdb: {bad}: line 2: not MEDLINE text (expected 'PMID- ' to start the first "
        "record, found 'TY - JOUR')"
    )
    assert dump(db_url) == before


def test_bad_records_are_reported_and_the_rest_kept(cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "mixed.nbib"
    path.write_text(
        "PMID- 11111111\nTI  - <script>alert(1)</script> & a study.\nFAU - Doe, Jane\n"
        "AU  - Doe J\nDP  - 2020 Jan\n\n"
        "PMID- 22222222\nSTAT- MEDLINE\nAB  - An abstract without a title.\n\n"
        "PMID- 3333x\nTI  - A study whose PMID is not one\nDP  - 2019\n",
        "utf-8",
    )
    result = cli("import", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["counts"] == {
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "skipped": 1,
        "warned": 1,
    }
    assert report["skipped"] == [{"key": "PMID 22222222", "line": 7, "reason": "no title"}]
    [warning] = report["warnings"]
    assert warning["line"] == 11 and "'3333x' is not a PMID; dropped it" in warning["reason"]
    hostile = _json(cli, "show", "11111111")
    assert hostile["title"] == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; a study"
    strict = cli("import", str(path), "--strict")
    assert strict.exit_code == 1 and f"{path}:7: PMID 22222222: skipped: no title" in strict.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BACKGROUND: One. METHODS AND RESULTS: Two (n = 3). CONCLUSIONS: Three.", 3),
        ("Background: One. Results: Two.", 2),
        ("A plain abstract. It mentions HIV: a virus.", 1),
        ("OBJECTIVE: One in HIV: and more. RESULTS: Two.", 2),
    ],
)
def test_structured_abstracts_split_on_their_labels(text: str, expected: int) -> None:
    assert len(split_abstract(text).split("\n\n")) == expected


def test_a_study_from_efetch_is_unchanged_by_its_medline_record(db_url: str) -> None:
    from refdb import api

    path = shared_file("fixtures/pubmed/efetch-structured-abstract.xml")
    library = api.open_library(db_url)
    try:
        added = library.save(parse_pubmed_xml(path.read_bytes()), source="pubmed", command="t")
        again = library.save(
            parse_medline(xml_to_medline(path.read_bytes())).references,
            source="pubmed:export.nbib",
            command="t",
        )
    finally:
        library.close()
    assert [r.action for r in added.results] == ["added"]
    assert [(r.action, r.changes) for r in again.results] == [("unchanged", [])]
