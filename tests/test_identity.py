"""Where records meet: identity, keys, aliases, one precedence rule (design.md, "Identity",
"Citation keys", "One precedence rule"), on real files nobody on the project wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO, RunCli, ok

REALWORLD = REPO / "tests" / "data" / "realworld"


def imported(cli: RunCli, path: Path, *args: str) -> dict[str, object]:
    result = cli("import", str(path), "--json", *args)
    assert result.exit_code == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    return report


def counts(report: dict[str, object]) -> dict[str, int]:
    found = report["counts"]
    assert isinstance(found, dict)
    return found


def operations(cli: RunCli) -> int:
    return len(json.loads(ok(cli("history", "--json", "-n", "0")).stdout))


@pytest.mark.parametrize(
    "name", sorted(p.name for p in REALWORLD.iterdir() if p.suffix in (".bib", ".ris", ".json"))
)
def test_the_same_file_imported_twice_adds_and_updates_nothing(cli: RunCli, name: str) -> None:
    first = imported(cli, REALWORLD / name)
    logged = operations(cli)
    again = imported(cli, REALWORLD / name)
    assert (counts(again)["added"], counts(again)["updated"]) == (0, 0), again
    assert counts(again)["unchanged"] == counts(first)["added"] + counts(first)["updated"]
    assert operations(cli) == logged  # no operation for an import that changed nothing


def test_biblatex_examples_store_90_works_under_their_own_keys(cli: RunCli) -> None:
    report = imported(cli, REALWORLD / "biblatex-examples.bib")
    assert counts(report)["added"] == 90
    assert [s["key"] for s in report["skipped"]] == ["set", "stdmodel"]  # type: ignore[index]
    studies = json.loads(ok(cli("list", "--json")).stdout)
    keys = {s["key"] for s in studies}
    assert len(studies) == 90
    related = ["knuth:ct:related", "kullback:related", "vangennep:related", "vizedom:related"]
    assert {*related, "baez/online", "baez/article", "averroes/bland"} <= keys
    kullback = json.loads(ok(cli("show", "kullback:related", "--json")).stdout)
    other = json.loads(ok(cli("show", "kullback", "--json")).stdout)
    assert kullback["id"] != other["id"]  # same title, year and author: two works of the file


def test_every_entry_of_bibers_date_file_is_a_study_of_its_own(cli: RunCli) -> None:
    """34 entries, many with the same placeholder title: each is its own study, but for the
    four with no title at all, which cannot be a reference and are named."""
    report = imported(cli, REALWORLD / "biber-dateformats-34.bib")
    assert counts(report)["added"] == 30
    skipped = report["skipped"]
    assert isinstance(skipped, list)
    assert [(s["key"], s["reason"]) for s in skipped] == [
        (key, "no title and no identifier") for key in ("open1", "open2", "script1", "mill1")
    ]


def test_scopus_pmid_is_the_records_own_never_one_of_its_references(cli: RunCli) -> None:
    """Scopus puts the record's PMID in C2 and the cited works, PMIDs and all, in N1."""
    path = REALWORLD / "scopus-references-slice.ris"
    report = imported(cli, path)
    assert counts(report)["added"] == 3 and report["warnings"] == []
    studies = json.loads(ok(cli("list", "--json")).stdout)
    assert sorted(s["pmid"] or "" for s in studies) == ["", "31421429", "31627144"]


def test_a_proquest_accession_number_is_not_a_pmid(cli: RunCli) -> None:
    for name in ("proquest-ptsdpubs.ris", "proquest-sociological-abstracts-slice.ris"):
        imported(cli, REALWORLD / name)
    studies = json.loads(ok(cli("list", "--json")).stdout)
    assert len(studies) == 31 and all(s["pmid"] is None for s in studies)


@pytest.mark.parametrize(
    ("name", "pmids"),
    [
        # Ovid MEDLINE: ID is the PMID; its L2 link names database `medl` and AN=PMID.
        ("ovid-medline-slice.ris", {"32274665", "32039500", "30928620"}),
        # Dimensions: `U1  - 35957633 [PMID]`.
        ("dimensions-slice.ris", {"35957633", "37931734", "38038861"}),
        # Lens: the only PubMed link is an L2 URL.
        ("lens-pubmed-links-slice.ris", {"32789069", "21774423", "33752667"}),
        # The Cochrane Library: `C3  - PUBMED 38407106,EMBASE 643589775`.
        ("cochrane-library-central.ris", {"21314913", "38407106", "37362617"}),
        # EndNote from PubMed: `DP  - NLM` and the PMID in AN.
        ("endnote-export-slice.ris", {"26176500", "25188895"}),
    ],
)
def test_each_reader_rule_for_a_pmid_on_a_real_file(
    cli: RunCli, name: str, pmids: set[str]
) -> None:
    imported(cli, REALWORLD / name)
    studies = json.loads(ok(cli("list", "--json")).stdout)
    assert pmids <= {s["pmid"] for s in studies}


def test_a_pubmed_link_in_a_bib_url_is_the_pmid(cli: RunCli) -> None:
    imported(cli, REALWORLD / "jabref-from-endnote-pubmed-url-slice.bib")
    assert json.loads(ok(cli("show", "27244431", "--json")).stdout)["pmid"] == "27244431"


def test_a_key_a_file_gives_is_kept_verbatim_and_a_replaced_one_is_reported(
    cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "keys.bib"
    path.write_text(
        "@article{baez/article, title={Higher-dimensional algebra}, year=2004,"
        " author={Baez, John}}\n"
        "@article{Smith_2020-b, title={B}, year=2020}\n"
        "@article{knuth:ct:a, title={C}, year=1984}\n",
        encoding="utf-8",
    )
    report = imported(cli, path)
    assert counts(report)["added"] == 3 and report["warnings"] == []
    for key in ("baez/article", "Smith_2020-b", "knuth:ct:a"):
        assert json.loads(ok(cli("show", key, "--json")).stdout)["key"] == key
    other = tmp_path / "other.bib"
    other.write_text("@article{baez/article, title={Another work}, year=1999}\n", "utf-8")
    result = ok(cli("import", str(other)))
    line = f"{other}:1: baez/article: the key is another study's key (stored as anon1999another)"
    assert line in result.stderr


def test_the_same_pmid_twice_in_a_file_is_one_study_whose_other_key_is_an_alias(
    cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "twice.bib"
    path.write_text(
        "@article{first, title={Ketamine}, year=2015, pmid={26327690}}\n"
        "@article{second, title={Ketamine, the same}, year=2015, pmid={26327690}}\n",
        encoding="utf-8",
    )
    result = ok(cli("import", str(path)))
    stderr = result.stderr
    assert "1 added, 1 updated" in stderr
    assert f"{path}:2: second: the same PMID or DOI as first: one study; second kept as" in stderr
    study = json.loads(ok(cli("show", "second", "--json")).stdout)
    assert (study["key"], study["aliases"]) == ("first", ["second"])
    biblatex = ok(cli("export", "--format", "biblatex")).stdout
    assert "ids = {second}" in biblatex
    csl = json.loads(ok(cli("export", "--format", "csl-json")).stdout)
    assert csl[0]["custom"]["aliases"] == ["second"]


@pytest.mark.parametrize("fmt", ["biblatex", "csl-json"])
def test_aliases_survive_an_export_and_an_import_into_an_empty_library(
    cli: RunCli, tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / "twice.bib"
    path.write_text(
        "@article{first, title={Ketamine}, year=2015, doi={10.1038/tp.2015.136}}\n"
        "@article{second, title={Ketamine}, year=2015, doi={10.1038/TP.2015.136}}\n",
        encoding="utf-8",
    )
    ok(cli("import", str(path)))
    exported = tmp_path / ("out.bib" if fmt == "biblatex" else "out.json")
    ok(cli("export", "--format", fmt, "-o", str(exported)))
    fresh = tmp_path / "fresh.sqlite"
    ok(cli("--db", f"sqlite:///{fresh}", "import", str(exported)))
    shown = cli("--db", f"sqlite:///{fresh}", "show", "second", "--json")
    assert json.loads(ok(shown).stdout)["key"] == "first"


def test_a_merged_away_key_resolves_for_every_command(cli: RunCli, tmp_path: Path) -> None:
    a, b = tmp_path / "a.bib", tmp_path / "b.bib"
    a.write_text("@article{old1, title={Ketamine for pain: a trial}, year=2020}\n", "utf-8")
    b.write_text("@article{old2, title={Ketamine for pain: a trial.}, year=2020}\n", "utf-8")
    ok(cli("import", str(a)))
    ok(cli("import", str(b)))
    ok(cli("duplicates", "--merge"))
    assert json.loads(ok(cli("show", "old2", "--json")).stdout)["key"] == "old1"
    ok(cli("tag", "old2", "Pain"))
    ok(cli("edit", "old2", "--set", "volume=3"))
    assert json.loads(ok(cli("show", "old1", "--json")).stdout)["volume"] == "3"
    ok(cli("remove", "old2", "--yes"))
    assert cli("show", "old1").exit_code == 1


def test_a_merge_keeps_the_known_level_and_the_more_trusted_value(
    cli: RunCli, tmp_path: Path
) -> None:
    """`duplicates --merge` decides fields by the one precedence rule, not 'the longer'."""
    ok(cli("seed"))
    copy = tmp_path / "copy.json"
    copy.write_text(
        json.dumps(
            [
                {
                    "id": "copy",
                    "type": "article-journal",
                    "title": "Outpatient intravenous ketamine for the treatment of complex "
                    "regional pain syndrome: a double-blind placebo controlled study",
                    "issued": {"date-parts": [[2009]]},
                    "author": [{"family": "Schwartzman", "given": "R"}],
                    "container-title": "Pain: the journal of a very long name indeed",
                }
            ]
        ),
        encoding="utf-8",
    )
    ok(cli("import", str(copy)))  # a title match of the seed: the seed study itself
    assert len(json.loads(ok(cli("list", "--json")).stdout)) == 9
    study = json.loads(ok(cli("show", "copy", "--json")).stdout)
    assert study["key"] == "schwartzman2009outpatient"  # the file's key is an alias now
    assert study["evidence_level"] == "rct"
    assert study["container_title"] == "Pain"  # the seed outranks a file, fuller or not


def test_a_full_author_list_completes_the_seeds_et_al(cli: RunCli, tmp_path: Path) -> None:
    ok(cli("seed"))
    newport = json.loads(ok(cli("show", "newport2015ketamine", "--json")).stdout)
    assert newport["authors_complete"] is False
    names = [a["family"] for a in newport["authors"]] + ["Extra", "Authors"]
    item = {
        "id": "newport",
        "type": "article-journal",
        "title": newport["title"],
        "issued": {"date-parts": [[newport["year"]]]},
        "author": [{"family": n, "given": "A"} for n in names],
    }
    path = tmp_path / "full.json"
    path.write_text(json.dumps([item]), encoding="utf-8")
    report = imported(cli, path)
    assert counts(report)["updated"] == 1
    after = json.loads(ok(cli("show", "newport2015ketamine", "--json")).stdout)
    assert [a["family"] for a in after["authors"]] == names and after["authors_complete"]


def test_an_unbalanced_brace_in_a_real_mendeley_library_costs_one_entry(cli: RunCli) -> None:
    report = imported(cli, REALWORLD / "mendeley-unclosed-url-brace-slice.bib")
    skipped = report["skipped"]
    assert isinstance(skipped, list) and len(skipped) == 1
    assert skipped[0]["key"] == "Schwanhausser2011" and "never closes" in skipped[0]["reason"]
    assert counts(report)["added"] == 20


def test_an_empty_csl_json_array_imports_nothing_and_exits_0(cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    ok(cli("export", "--format", "csl-json", "-o", str(path)))
    assert json.loads(path.read_text("utf-8")) == []
    assert counts(imported(cli, path)) == {
        "added": 0,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "warned": 0,
    }


def test_a_circa_range_keeps_its_year_through_bibtex(cli: RunCli, tmp_path: Path) -> None:
    imported(cli, REALWORLD / "zotero-bbt-edtf-circa.bib")
    before = {s["key"]: s for s in json.loads(ok(cli("list", "--json")).stdout)}
    out = tmp_path / "out.bib"
    ok(cli("export", "--format", "bibtex", "-o", str(out)))
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    ok(cli("--db", fresh, "import", str(out)))
    after = {s["key"]: s for s in json.loads(ok(cli("--db", fresh, "list", "--json")).stdout)}
    ranged = [k for k, s in before.items() if (s["date_text"] or "").count("~") == 2]
    assert ranged
    for key in ranged:
        assert (after[key]["year"], after[key]["date_text"]) == (
            before[key]["year"],
            before[key]["date_text"],
        )


def test_list_json_made_from_rows_is_each_studys_full_record(cli: RunCli, db_url: str) -> None:
    """`list --json` is made from the rows without a Reference per study: it must be the very
    JSON `show --json` gives for each study (aliases, indications, provenance included)."""
    ok(cli("seed"))
    imported(cli, REALWORLD / "biblatex-examples.bib", "--indication", "Examples")
    ok(cli("duplicates", "--merge"))
    listed = json.loads(ok(cli("list", "--json")).stdout)
    assert len(listed) > 90
    for study in listed[::7]:
        shown = json.loads(ok(cli("show", str(study["id"]), "--json")).stdout)
        assert list(study) == list(shown) and study == shown
