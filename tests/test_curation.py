"""Curation that cannot lose work: tags, edits, removal, duplicates, status, history and undo."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from refdb.cli import app
from tests.conftest import RunCli, dump

NEAR_DUPLICATE = {
    "type": "article-journal",
    "title": "Outpatient intravenous ketamine for treatment of complex regional pain "
    "syndrome: a double blind placebo-controlled study.",
    "author": [{"family": "Schwartzman", "given": "R J"}],
    "container-title": "Pain",
    "issued": {"date-parts": [[2009]]},
    "volume": "147",
    "custom": {"indications": ["Neuropathic pain"]},
}


def runner_for(url: str) -> RunCli:
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, ["--db", url, *args], input=input)

    return run


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.stderr or result.output
    return result


def test_a_session_of_changes_undoes_back_to_the_first_database(
    any_db_url: str, tmp_path: Path
) -> None:
    cli = runner_for(any_db_url)
    ok(cli("seed"))
    seeded = dump(any_db_url)
    duplicate = tmp_path / "dup.json"
    duplicate.write_text(json.dumps([NEAR_DUPLICATE]))

    ok(cli("tag", "hu2016single", "Ketamine esketamine", "CRPS"))
    ok(cli("edit", "newport2015ketamine", "--set", "volume=999", "--set", "year=2016"))
    ok(cli("remove", "birklein2015complex"))
    ok(cli("import", str(duplicate)))
    merged = ok(cli("duplicates", "--merge"))
    assert "merged 1 pair" in merged.stderr
    assert dump(any_db_url) != seeded

    for _ in range(5):
        ok(cli("undo"))
    assert dump(any_db_url) == seeded
    assert "nothing to undo" not in cli("history").stdout


def test_undo_of_a_remove_brings_the_study_back_whole(cli: RunCli) -> None:
    ok(cli("seed"))
    ok(cli("tag", "schwartzman2009outpatient", "Neuropathic pain"))
    before = json.loads(cli("show", "19783371", "--json").stdout)
    ok(cli("remove", "schwartzman2009outpatient"))
    assert cli("show", "19783371").exit_code == 1
    ok(cli("undo"))
    after = json.loads(cli("show", "19783371", "--json").stdout)
    assert after == before
    assert after["indications"] == ["CRPS", "Neuropathic pain"]
    assert [a["family"] for a in after["authors"]][:2] == ["Schwartzman", "Alexander"]


def test_undo_refuses_when_a_later_operation_changed_the_same_study(
    cli: RunCli, db_url: str
) -> None:
    ok(cli("seed"))
    ok(cli("edit", "hu2016single", "--set", "volume=47"))
    ok(cli("tag", "hu2016single", "Anxiety"))
    history = json.loads(cli("history", "--json").stdout)
    edit_op, tag_op = history[1]["id"], history[0]["id"]
    before = dump(db_url)
    refused = cli("undo", str(edit_op))
    assert refused.exit_code == 1
    assert refused.stderr.count("\n") == 1
    assert f"operation {tag_op}" in refused.stderr and "undo it first" in refused.stderr
    assert dump(db_url) == before
    # Once the later operation is undone, the earlier one can be.
    ok(cli("undo", str(tag_op)))
    ok(cli("undo", str(edit_op)))
    assert json.loads(cli("show", "hu2016single", "--json").stdout)["volume"] == "46"


def test_undo_with_nothing_to_undo_is_one_line(cli: RunCli) -> None:
    result = cli("undo")
    assert result.exit_code == 1
    assert result.stderr == "refdb: nothing to undo\n"


@pytest.mark.parametrize(
    "assignment",
    [
        "year=abc",
        "year=20155",
        "month=13",
        "day=0",
        "doi=not-a-doi",
        "pmid=12ab",
        "pmcid=XYZ",
        "status=sort-of-retracted",
        "authors=;;",
        "authors=nobody",
        "title=",
        "authors_complete=maybe",
        "colour=blue",
        "year",
        "type=banana",
    ],
)
def test_every_bad_edit_is_one_line_and_writes_nothing(
    cli: RunCli, db_url: str, assignment: str
) -> None:
    ok(cli("seed"))
    before = dump(db_url)
    result = cli("edit", "hu2016single", "--set", "volume=99", "--set", assignment)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("refdb: --set")
    assert dump(db_url) == before


def test_an_edit_cannot_take_another_studys_identifier(cli: RunCli, db_url: str) -> None:
    ok(cli("seed"))
    before = dump(db_url)
    result = cli("edit", "hu2016single", "--set", "pmid=19783371")
    assert result.exit_code == 1
    assert "belongs to schwartzman2009outpatient" in result.stderr
    assert dump(db_url) == before


def test_edits_are_validated_normalised_and_marked_as_by_hand(cli: RunCli) -> None:
    ok(cli("seed"))
    ok(
        cli(
            "edit",
            "newport2015ketamine",
            "--set",
            "authors=Newport, D. Jeffrey; Carpenter LL; {APA Task Force}",
            "--set",
            "doi=https://doi.org/10.1176/APPI.AJP.2015.15040465",
            "--set",
            "journal=American Journal of Psychiatry",
        )
    )
    record = json.loads(cli("show", "newport2015ketamine", "--json").stdout)
    assert [a["family"] or a["literal"] for a in record["authors"]] == [
        "Newport",
        "Carpenter",
        "APA Task Force",
    ]
    assert record["doi"] == "10.1176/APPI.AJP.2015.15040465"
    assert record["container_title"] == "American Journal of Psychiatry"
    assert {record["provenance"][f]["source"] for f in ("authors", "doi", "container_title")} == {
        "hand"
    }


def test_tags_create_indications_which_can_be_renamed_and_reordered(cli: RunCli) -> None:
    ok(cli("seed"))
    ok(cli("tag", "yang2015rketamine", "Preclinical"))
    ok(cli("indications", "Preclinical", "--heading", "Animal studies", "--position", "1"))
    page = ok(cli("page", "--format", "text")).stdout
    assert page.index("Animal studies") < page.index("For CRPS/RSD") < page.index("For Depression")
    ok(cli("indications", "Preclinical", "--rename", "Animal"))
    listed = json.loads(cli("indications", "--json").stdout)
    assert [(i["name"], i["position"]) for i in listed] == [
        ("Animal", 1),
        ("CRPS", 2),
        ("Depression", 3),
    ]
    ok(cli("indications", "Depression", "--position", "2"))
    names = [i["name"] for i in json.loads(cli("indications", "--json").stdout)]
    assert names == ["Animal", "Depression", "CRPS"]
    ok(cli("undo"))
    names = [i["name"] for i in json.loads(cli("indications", "--json").stdout)]
    assert names == ["Animal", "CRPS", "Depression"]
    ok(cli("untag", "yang2015rketamine", "Animal"))
    assert "Animal studies" not in ok(cli("page")).stdout
    clash = cli("indications", "Animal", "--rename", "crps")
    assert clash.exit_code == 1 and "taken" in clash.stderr


def test_search_ranks_title_matches_first(cli: RunCli, tmp_path: Path) -> None:
    ok(cli("seed"))
    extra = tmp_path / "extra.json"
    extra.write_text(
        json.dumps(
            [
                {
                    "type": "article-journal",
                    "title": "Sleep in chronic pain",
                    "abstract": "Mentions escitalopram once.",
                    "author": [{"family": "Doe", "given": "J"}],
                    "issued": {"date-parts": [[2020]]},
                }
            ]
        )
    )
    ok(cli("import", str(extra)))
    found = json.loads(cli("search", "escitalopram", "--json").stdout)
    assert [r["key"] for r in found] == ["hu2016single", "doe2020sleep"]
    assert json.loads(cli("search", "Schwartzman", "--json").stdout)[0]["key"] == (
        "schwartzman2009outpatient"
    )
    assert [
        r["key"]
        for r in json.loads(cli("search", "R-ketamine", "psychotomimetic", "--json").stdout)
    ] == ["yang2015rketamine"]
    assert json.loads(cli("search", '"unbalanced', "--json").stdout) == []
    ok(cli("remove", "hu2016single"))
    assert [r["key"] for r in json.loads(cli("search", "escitalopram", "--json").stdout)] == [
        "doe2020sleep"
    ]


def test_search_works_the_same_on_postgresql(postgres_db: str) -> None:
    cli = runner_for(postgres_db)
    ok(cli("seed"))
    found = json.loads(cli("search", "ketamine", "depression", "--json").stdout)
    assert found[0]["key"] in {"newport2015ketamine", "hu2016single"}
    assert {r["key"] for r in found} >= {"newport2015ketamine"}
    assert json.loads(cli("search", "Birklein", "--json").stdout)[0]["key"] == "birklein2015complex"
    # An underscore separates words here as it does in SQLite's index.
    assert json.loads(cli("search", "ketamine_depression", "--json").stdout) == found


def test_duplicates_are_shown_then_merged_into_the_older_study(cli: RunCli, tmp_path: Path) -> None:
    ok(cli("seed"))
    duplicate = tmp_path / "dup.json"
    duplicate.write_text(json.dumps([NEAR_DUPLICATE]))
    ok(cli("import", str(duplicate)))
    shown = ok(cli("duplicates"))
    assert (
        "schwartzman2009outpatient" in shown.stdout and "schwartzman2009outpatienta" in shown.stdout
    )
    assert "near-identical title" in shown.stdout
    ok(cli("duplicates", "--merge"))
    merged = json.loads(cli("show", "schwartzman2009outpatienta", "--json").stdout)
    assert merged["key"] == "schwartzman2009outpatient"
    assert merged["aliases"] == ["schwartzman2009outpatienta"]
    assert merged["indications"] == ["CRPS", "Neuropathic pain"]
    assert merged["volume"] == "147"
    assert len(merged["authors"]) == 6  # the richer author list
    assert len(json.loads(cli("list", "--json").stdout)) == 9
    assert "no likely duplicates" in cli("duplicates").stderr


def test_status_flags_show_in_list_show_and_the_page(cli: RunCli) -> None:
    ok(cli("seed"))
    ok(
        cli(
            "edit",
            "tundo2015pharmacologic",
            "--set",
            "status=retracted",
            "--set",
            "note=Retracted by the journal, 2020",
        )
    )
    assert "retracted" in cli("list").stdout
    assert (
        "retracted (Retracted by the journal, 2020)" in cli("show", "tundo2015pharmacologic").stdout
    )
    page = ok(cli("page", "--format", "text")).stdout
    assert "RETRACTED" in page and "Tundo A" in page
    html = ok(cli("page", "--format", "html")).stdout
    assert "Retracted" in html and "Tundo" in html


def test_history_names_the_user_and_the_command(cli: RunCli) -> None:
    ok(cli("seed"))
    ok(cli("tag", "hu2016single", "Anxiety"))
    history = json.loads(cli("history", "--json").stdout)
    assert history[0]["command"].endswith("tag hu2016single Anxiety")
    assert history[0]["user"]
    assert history[0]["changes"] == 2  # the new indication and the study


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_remove_asks_on_a_terminal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tty.sqlite'}"
    env = {**os.environ, "REFDB_DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "refdb", "seed"], env=env, check=True, capture_output=True
    )
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "refdb", "remove", "hu2016single"],
        env=env,
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.write(primary, b"n\n")
    _out, err = process.communicate(timeout=60)
    os.close(primary)
    os.close(secondary)
    assert process.returncode == 1
    assert b"Remove hu2016single?" in err
    listed = subprocess.run(
        [sys.executable, "-m", "refdb", "show", "hu2016single"], env=env, capture_output=True
    )
    assert listed.returncode == 0


def test_an_undo_is_redone_by_name_and_the_redo_undone_plainly(cli: RunCli, db_url: str) -> None:
    ok(cli("seed"))
    seeded = dump(db_url)
    ok(cli("remove", "hu2016single"))
    removed = dump(db_url)
    ok(cli("undo"))  # operation 3 undoes the remove (2)
    assert dump(db_url) == seeded
    ok(cli("undo", "3"))  # redo: the remove again
    assert dump(db_url) == removed
    ok(cli("undo"))  # a plain undo reverses the redo
    assert dump(db_url) == seeded
    ok(cli("undo"))  # and then the seed itself
    assert json.loads(cli("list", "--json").stdout) == []


def test_indication_names_match_without_regard_to_case_in_any_script(cli: RunCli) -> None:
    ok(cli("seed"))
    ok(cli("tag", "hu2016single", "Éducation"))
    ok(cli("tag", "yang2015rketamine", "éducation"))  # the same indication
    ok(cli("tag", "tundo2015pharmacologic", "Straße"))
    names = [i["name"] for i in json.loads(cli("indications", "--json").stdout)]
    assert names == ["CRPS", "Depression", "Éducation", "Straße"]
    assert len(json.loads(cli("list", "--indication", "ÉDUCATION", "--json").stdout)) == 2
    assert "For Éducation" in ok(cli("page")).stdout
    ok(cli("untag", "hu2016single", "éducation"))


def test_an_edit_cannot_make_an_impossible_date(cli: RunCli, db_url: str) -> None:
    ok(cli("seed"))
    before = dump(db_url)
    result = cli("edit", "birklein2015complex", "--set", "month=2", "--set", "day=31")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "day 31" in result.stderr
    assert dump(db_url) == before
    ok(cli("edit", "birklein2015complex", "--set", "month=2", "--set", "day=28"))


def test_numbers_too_large_for_the_database_are_refused_cleanly(cli: RunCli) -> None:
    ok(cli("seed"))
    for ref in ("99999999999999999999", "\u00b2"):
        result = cli("show", ref)
        assert result.exit_code == 1 and "no study" in result.stderr
    assert cli("undo", "99999999999999999999").exit_code == 2
    assert cli("history", "--limit", "99999999999999999999").exit_code == 2


def test_undo_names_the_study_that_took_a_removed_studys_pmid(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    ok(cli("seed"))
    ok(cli("remove", "wertli2014rational"))
    remove_op = json.loads(cli("history", "--json").stdout)[0]["id"]
    again = tmp_path / "again.json"
    again.write_text(json.dumps([{"title": "Other", "PMID": "25234478"}]), encoding="utf-8")
    ok(cli("import", str(again)))
    before = dump(db_url)
    result = cli("undo", str(remove_op))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "PMID 25234478 now belongs to study" in result.stderr
    assert "refdb import" in result.stderr  # the operation in the way
    assert dump(db_url) == before
    ok(cli("undo"))  # the import
    ok(cli("undo", str(remove_op)))
    assert json.loads(cli("show", "25234478", "--json").stdout)["key"] == "wertli2014rational"


def test_commands_run_at_once_wait_for_each_other(any_db_url: str, tmp_path: Path) -> None:
    """Two staff (or scripts) at once: every edit is logged from the state it changed, so
    each one can be undone, and the same study imported twice at once is one study."""
    cli = runner_for(any_db_url)
    ok(cli("seed"))
    env = {**os.environ, "REFDB_DATABASE_URL": any_db_url}
    same = tmp_path / "same.json"
    same.write_text(json.dumps([{"title": "A new study", "issued": {"date-parts": [[2024]]}}]))
    commands = [["edit", "hu2016single", "--set", f"volume={n}"] for n in range(60, 66)]
    commands += [["import", str(same)], ["import", str(same)]]
    running = [
        subprocess.Popen([sys.executable, "-m", "refdb", *c], env=env, stderr=subprocess.PIPE)
        for c in commands
    ]
    for process in running:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    listed = cli("list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 10
    history = json.loads(cli("history", "--json").stdout)
    assert len(history) == 1 + 6 + 1  # the seed, six edits, one import (the other: unchanged)
    for _ in range(7):
        ok(cli("undo"))
    assert json.loads(cli("show", "hu2016single", "--json").stdout)["volume"] == "46"
    assert len(json.loads(cli("list", "--json").stdout)) == 9
