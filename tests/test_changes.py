"""`refdb changes`: what changed, in the words a reader of the page would use, from the
operation log: studies added (with indication and level) and removed, retractions and
corrections, level changes; since a date, after an operation, or since a kept page or site
was last written."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import RunCli
from tests.site_helpers import HOSTILE, HOSTILE_KEY, run


def changes(cli: RunCli, *args: str) -> dict[str, Any]:
    result = cli("changes", *args, "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def kinds(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["kind"], c["key"]) for c in report["changes"]]


def edits(cli: RunCli) -> None:
    """After `refdb seed` (operation 1): one change of each kind a reader notices."""
    for args in (
        ("remove", "birklein2015complex", "--yes"),
        ("edit", "hu2016single", "--set", "status=retracted", "--set", "note=Data fabricated"),
        ("edit", "schilder2013pain", "--set", "evidence_level=observational"),
        ("import", str(HOSTILE), "--indication", "Depression"),
        ("tag", "tundo2015pharmacologic", "CRPS"),  # filing is not news for a reader
        ("edit", "newport2015ketamine", "--set", "status=corrected"),
    ):
        result = cli(*args)
        assert result.exit_code == 0, result.output


def test_each_kind_of_change_in_a_readers_words(cli: RunCli) -> None:
    assert cli("seed").exit_code == 0
    edits(cli)
    report = changes(cli, "--since", "1")
    assert report["basis"] == "operation" and report["since_operation"] == 1
    assert report["operations"] == [2, 7]
    assert kinds(report) == [
        ("removed", "birklein2015complex"),
        ("retracted", "hu2016single"),
        ("level", "schilder2013pain"),
        ("added", HOSTILE_KEY),
        ("corrected", "newport2015ketamine"),
    ]
    by_kind = {c["kind"]: c for c in report["changes"]}
    added = by_kind["added"]
    assert added["indications"] == [{"name": "Depression", "heading": "For Depression"}]
    assert (added["evidence_level"], added["status"]) == ("rct", "retracted")
    assert added["doi"] == "10.1234/xss.2020.001" and added["operation"] == 5
    assert by_kind["removed"]["indications"][0]["heading"] == "For CRPS/RSD"
    assert by_kind["retracted"]["status_note"] == "Data fabricated"
    assert by_kind["retracted"]["previous_status"] is None
    level = by_kind["level"]
    assert (level["previous_level"], level["evidence_level"]) == ("rct", "observational")

    text = cli("changes", "--since", "1")
    assert text.exit_code == 0
    assert text.stdout.splitlines()[0] == "What changed after operation 1 (operations 2-7):"
    lines = text.stdout.splitlines()
    assert "Added (1):" in lines and "Removed (1):" in lines and "Retracted (1):" in lines
    assert "Corrected (1):" in lines and "Evidence level changed (1):" in lines
    assert any(
        line.startswith("- Schilder 2013. Pain relief")
        and line.endswith("Now Observational (was RCT).")
        for line in lines
    )
    assert any(
        line.startswith("- Hu 2016. Single i.v. ketamine") and line.endswith("Data fabricated.")
        for line in lines
    )
    assert any(
        line.startswith("- O'Brien bold 2020. <script>alert(1)</script> Ketamine &")
        and line.endswith("For Depression; RCT; retracted.")
        for line in lines
    )
    assert any(line.endswith("Neurology. Was: For CRPS/RSD; Review.") for line in lines)


def test_an_undone_change_is_no_change_and_an_undo_is_one(cli: RunCli) -> None:
    assert cli("seed").exit_code == 0
    edits(cli)
    assert cli("undo", "5").exit_code == 0  # the import: operation 8
    assert ("added", HOSTILE_KEY) not in kinds(changes(cli, "--since", "1"))
    assert kinds(changes(cli, "--since", "7")) == [("removed", HOSTILE_KEY)]
    assert cli("undo", "2").exit_code == 0  # the removal comes back: operation 9
    assert ("removed", "birklein2015complex") not in kinds(changes(cli, "--since", "1"))
    assert kinds(changes(cli, "--since", "8")) == [("added", "birklein2015complex")]


def test_since_a_date(cli: RunCli) -> None:
    assert cli("seed").exit_code == 0
    edits(cli)
    today = datetime.now().date()
    everything = changes(cli, "--since", (today - timedelta(days=1)).isoformat())
    assert everything["basis"] == "date" and everything["operations"] == [1, 7]
    # Seeded and removed within the window: never on the page, so not news.
    assert ("removed", "birklein2015complex") not in kinds(everything)
    assert [k for k, _ in kinds(everything)].count("added") == 9
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert changes(cli, "--since", tomorrow)["changes"] == []
    text = cli("changes", "--since", tomorrow)
    assert text.exit_code == 0
    assert text.stdout.startswith("Nothing changed since ")


def test_by_default_since_a_kept_page_or_site_was_last_published(
    cli: RunCli, tmp_path: Path
) -> None:
    assert cli("seed").exit_code == 0
    first = changes(cli)
    assert first["basis"] == "all" and len(first["changes"]) == 9  # nothing kept yet
    assert cli("changes").stdout.startswith("What changed since the library began (operation 1):")
    page = tmp_path / "page.md"
    assert cli("page", "-o", str(page), "--keep").exit_code == 0
    report = changes(cli)
    assert report["basis"] == "kept" and report["kept_output"] == str(page)
    assert report["changes"] == []
    # Each change rewrites the kept page, but what is new on it counts from when a person
    # last wrote it with its own command (published it).
    assert cli("remove", "birklein2015complex", "--yes").exit_code == 0
    assert kinds(changes(cli)) == [("removed", "birklein2015complex")]
    assert kinds(changes(cli, "--since", "1")) == [("removed", "birklein2015complex")]
    assert cli("page", "-o", str(page), "--keep").exit_code == 0  # published again
    assert changes(cli)["changes"] == []


def test_a_bad_since_is_one_line_and_exit_1(cli: RunCli) -> None:
    assert cli("seed").exit_code == 0
    for value, words in (("yesterday", "neither a date"), ("99", "operation 99: no such")):
        result = cli("changes", "--since", value)
        assert result.exit_code == 1, result.output
        assert result.stdout == "" and len(result.stderr.splitlines()) == 1
        assert words in result.stderr


def test_changes_on_sqlite_and_postgresql(any_db_url: str) -> None:
    for args in (("seed",), ("remove", "hu2016single", "--yes"), ("import", str(HOSTILE))):
        assert run(any_db_url, *args).exit_code == 0
    result = run(any_db_url, "changes", "--since", "1", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert kinds(report) == [("removed", "hu2016single"), ("added", HOSTILE_KEY)]
    assert report["changes"][1]["indications"] == []
