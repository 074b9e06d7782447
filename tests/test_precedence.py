"""The one precedence rule (design.md, "One precedence rule"), as a pure function, and the
readers' small losses it no longer hides: names, types, initials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from refdb.csl import from_csl, to_csl
from refdb.precedence import merge_into, source_rank
from refdb.records import Author, FieldSource, Reference
from refdb.render.bibtex import render_biblatex, render_bibtex
from refdb.render.citations import format_bibliography
from refdb.sources.bibtex import parse_bibtex
from refdb.sources.ris import parse_ris
from tests.conftest import REPO, RunCli

REALWORLD = REPO / "tests" / "data" / "realworld"


def ref(source: str, **values: object) -> Reference:
    made = Reference(title=str(values.pop("title", "T")), **values)  # type: ignore[arg-type]
    for name in values:
        made.provenance[name] = FieldSource(source, "2026-01-01T00:00:00")
    made.provenance["title"] = FieldSource(source, "2026-01-01T00:00:00")
    return made


def test_sources_rank_a_person_then_pubmed_then_seeds_then_files() -> None:
    ranks = [source_rank(s) for s in ("hand", "pubmed", "derived", "seed", "bibtex:x.bib", None)]
    assert ranks == [4, 3, 3, 2, 1, 0]


@pytest.mark.parametrize(
    ("stored", "incoming", "kept"),
    [
        (("seed", "Pain"), ("bibtex:x.bib", "Pain: the longer file journal"), "Pain"),
        (("bibtex:x.bib", "File journal"), ("seed", "Seed"), "Seed"),
        (("pubmed", "PubMed"), ("seed", "A longer seed journal"), "PubMed"),
        (("hand", "Mine"), ("pubmed", "PubMed's"), "Mine"),
        (("pubmed", "PubMed's"), ("hand", "Mine"), "Mine"),
        (("bibtex:a.bib", "Short"), ("ris:b.ris", "Much fuller"), "Much fuller"),  # equals
        (("bibtex:a.bib", "Much fuller"), ("ris:b.ris", "Short"), "Much fuller"),
        (("bibtex:a.bib", "Same A"), ("ris:b.ris", "Same B"), "Same B"),  # as full: newer
    ],
)
def test_a_field_goes_to_the_more_trusted_source_then_the_fuller_value(
    stored: tuple[str, str], incoming: tuple[str, str], kept: str
) -> None:
    current = ref(stored[0], container_title=stored[1])
    merged = merge_into(current, ref(incoming[0], container_title=incoming[1]))
    assert merged.reference.container_title == kept
    source = merged.reference.provenance["container_title"].source
    assert source == (stored[0] if kept == stored[1] else incoming[0])


def test_an_empty_value_never_erases_and_a_person_may_clear() -> None:
    current = ref("pubmed", volume="16")
    assert merge_into(current, ref("bibtex:x.bib")).reference.volume == "16"
    cleared = merge_into(current, ref("hand", volume=None), clear=["volume"])
    assert cleared.reference.volume is None
    assert cleared.reference.provenance["volume"].source == "hand"


def test_a_known_level_never_yields_to_unclassified_and_always_replaces_it() -> None:
    rct = ref("bibtex:x.bib", evidence_level="rct")
    unclassified = ref("pubmed", evidence_level="unclassified")
    assert merge_into(rct, unclassified).reference.evidence_level == "rct"
    assert (
        merge_into(ref("pubmed", evidence_level="unclassified"), rct).reference.evidence_level
        == "rct"
    )


def test_a_level_set_by_hand_survives_even_force() -> None:
    mine = ref("hand", evidence_level="review")
    merged = merge_into(mine, ref("pubmed", evidence_level="rct"), force=True)
    assert merged.reference.evidence_level == "review"


@pytest.mark.parametrize(
    ("stored", "incoming", "kept"),
    [
        ("retracted", "corrected", "retracted"),  # never yields to a milder status
        ("retracted", None, "retracted"),  # nor to none
        ("corrected", None, "corrected"),
        ("corrected", "retracted", "retracted"),
    ],
)
def test_a_status_never_yields_to_none_nor_a_retraction_to_less(
    stored: str, incoming: str | None, kept: str
) -> None:
    merged = merge_into(ref("pubmed", status=stored), ref("pubmed", status=incoming))
    assert merged.reference.status == kept


def test_what_only_adds_to_a_stored_value_is_taken_from_any_source() -> None:
    seed = ref(
        "seed",
        authors=[Author("Newport", "D J"), Author("Carpenter", "L L")],
        authors_complete=False,
        year=2015,
    )
    full = ref(
        "bibtex:x.bib",
        authors=[Author("Newport", "D. Jeffrey"), Author("Carpenter", "L"), Author("Other")],
        year=2015,
        month=10,
    )
    merged = merge_into(seed, full).reference
    assert [a.family for a in merged.authors] == ["Newport", "Carpenter", "Other"]
    assert merged.authors_complete and (merged.year, merged.month) == (2015, 10)
    other_year = ref("bibtex:x.bib", year=2016, month=1)
    assert (
        merge_into(seed, other_year).reference.year,
        merge_into(seed, other_year).reference.month,
    ) == (2015, None)


def test_indications_aliases_and_notices_are_joined_never_lost() -> None:
    current = ref("seed", indications=["CRPS"], aliases=["a"])
    merged = merge_into(current, ref("bibtex:x.bib", indications=["Pain"], aliases=["b"]))
    assert merged.reference.indications == ["CRPS", "Pain"]
    assert merged.reference.aliases == ["a", "b"]


# --- names, types and initials on the way in and out ------------------------------------------


def test_a_trailing_comma_keeps_an_organisation_whole_and_comma_lists_split() -> None:
    result = parse_bibtex(
        "@article{x, title={T}, year=2000,\n"
        " author={American College of Surgeons,},\n"
        " editor={Miller, D., Firby, J. and Dean, T.}}"
    )
    (study,) = result.references
    assert study.authors == [Author(literal="American College of Surgeons")]
    assert [(e.family, e.given) for e in study.editors] == [
        ("Miller", "D."),
        ("Firby", "J."),
        ("Dean", "T."),
    ]


def test_a_real_endnote_comma_author_list_is_split_into_people() -> None:
    path = REALWORLD / "endnote-bibtex-comma-author-list-slice.bib"
    result = parse_bibtex(path.read_text("utf-8-sig"), source=str(path))
    dracott = next(r for r in result.references if r.authors and r.authors[0].family == "Dracott")
    assert [a.family for a in dracott.authors] == [
        "Dracott",
        "Robinson",
        "Dares",
        "Woodley",
        "Migneault",
        "Birdsall",
    ]


def test_one_line_author_lists_are_split_with_a_warning_when_it_is_a_guess() -> None:
    result = parse_ris(
        "TY  - JOUR\nTI  - CENTRAL\nA1  - Achterbergh RCA, van der Helm JJ, van den Brink W, "
        "de Vries HJC\nER  - \n"
    )
    assert [a.display() for a in result.references[0].authors] == [
        "Achterbergh RCA",
        "van der Helm JJ",
        "van den Brink W",
        "de Vries HJC",
    ]
    assert result.problems == []  # every part is `Family INITIALS`: no guess
    path = REALWORLD / "endnote-one-line-authors-slice.ris"
    real = parse_ris(path.read_text("utf-8-sig"), source=str(path))
    gupta = next(r for r in real.references if r.authors and r.authors[-1].family == "Gupta")
    assert [a.display() for a in gupta.authors] == ["Agrawal A", "Gupta K"]
    [guess] = real.problems
    assert "several names on one line" in guess.message and "a guess" in guess.message


def test_spaced_initials_keep_both_letters_in_every_style_and_round_trip() -> None:
    (study,) = parse_ris(
        "TY  - JOUR\nTI  - A study\nAU  - Ivanova, O V\nT2  - J\nPY  - 2000\nER  - \n"
    ).references
    expected = {"ama": "Ivanova OV.", "vancouver": "Ivanova OV.", "apa": "Ivanova, O. V."}
    for style, name in expected.items():
        assert name in format_bibliography([study], style)
    back = from_csl(to_csl(study))
    assert back.authors[0].initials == "OV"
    assert "Ivanova, O. V." in format_bibliography([back], "apa")


def test_csl_names_with_no_break_spaces_are_plain_spaces() -> None:
    item = {
        "id": "x",
        "title": "T",
        "author": [{"family": "van\u00a0der\u00a0Berg", "given": "J.\u00a0A."}],
    }
    author = from_csl(item).authors[0]
    assert (author.family, author.given) == ("van der Berg", "J. A.")


@pytest.mark.parametrize("render", [render_bibtex, render_biblatex])
def test_a_csl_article_a_preprint_comes_back_as_one(render: object) -> None:
    out = render([Reference(title="A preprint", type="article", year=2020)])  # type: ignore[operator]
    assert "entrysubtype = {preprint}" in out
    assert parse_bibtex(out).references[0].type == "article"


def test_edit_names_are_the_ones_show_and_the_readme_use(cli: RunCli) -> None:
    assert cli("seed").exit_code == 0
    bad = cli("edit", "hu2016single", "--set", "nonsense=1")
    assert bad.exit_code == 1
    assert "journal" in bad.stderr and "container_title" not in bad.stderr
    assert "note" in bad.stderr and "status_note" not in bad.stderr
    for name in ("journal", "container-title", "journal_abbrev"):
        assert cli("edit", "hu2016single", "--set", f"{name}=X {name}").exit_code == 0
    # What changed is said by the names the user sees, whichever synonym was typed.
    said = cli("edit", "hu2016single", "--set", "journal=Pain", "--set", "status_note=Erratum")
    assert "hu2016single: journal: 'X container-title' -> 'Pain'" in said.stderr
    assert "hu2016single: note: " in said.stderr
    assert "container_title" not in said.stderr and "status_note" not in said.stderr


def test_a_merge_keeps_the_rct_of_one_copy_against_the_unclassified_other(
    cli: RunCli, tmp_path: Path
) -> None:
    """`duplicates --merge` of an RCT with an unclassified copy leaves the RCT."""
    items = [
        {
            "id": "unclassified",
            "title": "Ketamine for pain: a randomized trial",
            "issued": {"date-parts": [[2020]]},
        },
        {
            "id": "rct",
            "title": "Ketamine for pain: a randomised trial",
            "issued": {"date-parts": [[2020]]},
            "custom": {"evidence_level": "rct"},
        },
    ]
    for item in items:
        path = tmp_path / f"{item['id']}.json"
        path.write_text(json.dumps([item]), encoding="utf-8")
        assert cli("import", str(path)).exit_code == 0
    assert cli("duplicates", "--merge").exit_code == 0
    merged = json.loads(cli("show", "rct", "--json").stdout)
    assert (merged["key"], merged["evidence_level"]) == ("unclassified", "rct")
    assert merged["aliases"] == ["rct"]
