"""Seeding the clinic's list and reading it back, through the CLI as a user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunCli, dump, ok

PAGE_ORDER = [
    ("CRPS", ["Douglas", "Birklein", "Wertli", "Schilder", "Schwartzman"]),
    ("Depression", ["Hu", "Tundo", "Newport", "Yang"]),
]


def test_seed_loads_nine_studies_under_two_indications(cli: RunCli) -> None:
    result = cli("seed")
    assert result.exit_code == 0, result.output
    assert "9 added" in result.stderr
    listing = json.loads(cli("list", "--json").stdout)
    assert len(listing) == 9
    for indication, authors in PAGE_ORDER:
        studies = json.loads(cli("list", "--indication", indication, "--json").stdout)
        assert [s["authors"][0]["family"] for s in studies] == authors
    indications = json.loads(cli("indications", "--json").stdout)
    assert [(i["name"], i["heading"], i["count"]) for i in indications] == [
        ("CRPS", "For CRPS/RSD", 5),
        ("Depression", "For Depression", 4),
    ]


def test_seeding_twice_changes_nothing(cli: RunCli, db_url: str) -> None:
    assert cli("seed").exit_code == 0
    before = dump(db_url)
    again = cli("seed")
    assert again.exit_code == 0
    assert "0 added, 0 updated, 9 unchanged" in again.stderr
    assert dump(db_url) == before


def test_seeds_hold_only_verified_identifiers(cli: RunCli, seed_metadata: dict[str, Any]) -> None:
    """Guessed PMIDs (the metadata's unverified_guess) never reach the library."""
    ok(cli("seed"))
    stored = {s["title"]: s for s in json.loads(cli("list", "--json").stdout)}
    for study in seed_metadata["studies"]:
        record = stored[study["title"]]
        assert record["pmid"] == study["pmid"]
        assert record["doi"] == study["doi"]
        assert record["volume"] == study["volume"]
        assert record["authors_complete"] == study["authors_complete"]
        assert record["page_title"] == study["page_title"]


def test_show_finds_a_study_by_key_pmid_doi_and_id(cli: RunCli) -> None:
    ok(cli("seed"))
    by_key = json.loads(cli("show", "schwartzman2009outpatient", "--json").stdout)
    assert by_key["pmid"] == "19783371"
    for ref in (
        "19783371",
        "PMID:19783371",
        "10.1016/J.PAIN.2009.08.015",
        "https://doi.org/10.1016/j.pain.2009.08.015",
        str(by_key["id"]),
    ):
        assert json.loads(cli("show", ref, "--json").stdout)["key"] == by_key["key"]
    text = cli("show", "19783371").stdout
    assert "Schwartzman RJ, Alexander GM" in text
    assert "10.1016/j.pain.2009.08.015" in text


def test_unknown_ref_exits_1_with_one_line(cli: RunCli) -> None:
    ok(cli("seed"))
    result = cli("show", "nosuchkey2020")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "nosuchkey2020" in result.stderr


def test_missing_database_folder_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from refdb.cli import app

    missing = tmp_path / "no" / "such" / "folder" / "refdb.sqlite"
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{missing}", "list"])
    assert result.exit_code == 1
    assert "does not exist" in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "no").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_database_folder_is_refused(tmp_path: Path, cli: RunCli) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    from typer.testing import CliRunner

    from refdb.cli import app

    result = CliRunner().invoke(app, ["--db", f"sqlite:///{locked / 'x.sqlite'}", "list"])
    assert result.exit_code == 1
    assert "not writable" in result.stderr


def test_a_bad_url_is_one_line(cli: RunCli) -> None:
    from typer.testing import CliRunner

    from refdb.cli import app

    result = CliRunner().invoke(app, ["--db", "not a url", "list"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1


def test_unknown_indication_is_one_line(cli: RunCli) -> None:
    ok(cli("seed"))
    result = cli("list", "--indication", "gout")
    assert result.exit_code == 1
    assert "gout" in result.stderr


def test_an_indication_is_named_the_same_way_for_every_output(cli: RunCli, tmp_path: Path) -> None:
    """The page, the site and the kept page take an indication as the store finds it (case
    and surrounding spaces aside): " crps " was accepted and then printed no study."""
    ok(cli("seed"))
    crps = ok(cli("page", "--indication", "CRPS")).stdout
    assert "## For CRPS/RSD" in crps and "For Depression" not in crps
    assert ok(cli("page", "--indication", " crps ")).stdout == crps
    kept = tmp_path / "crps.md"
    ok(cli("page", "--indication", " crps ", "-o", str(kept), "--keep"))
    assert kept.read_text(encoding="utf-8") == crps
    ok(cli("site", str(tmp_path / "site"), "--indication", " crps "))
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "For CRPS/RSD" in index and "For Depression" not in index
    assert "hu2016single" not in index  # a depression study
    missing = cli("page", "--indication", "gout")
    assert missing.exit_code == 1 and "gout" in missing.stderr


def test_usage_errors_exit_2(cli: RunCli) -> None:
    assert cli("show").exit_code == 2
    assert cli("list", "--no-such-option").exit_code == 2


def _installed_refdb() -> str | None:
    beside_python = Path(sys.executable).with_name("refdb")
    return str(beside_python) if beside_python.exists() else shutil.which("refdb")


@pytest.mark.skipif(
    _installed_refdb() is None, reason="refdb is not installed (make test installs it)"
)
def test_installed_console_script_and_python_m(tmp_path: Path) -> None:
    """The real `refdb` executable and `python -m refdb`, as separate processes."""
    url = f"sqlite:///{tmp_path / 'sub.sqlite'}"
    env = {**os.environ, "REFDB_DATABASE_URL": url}
    seeded = subprocess.run(
        [str(_installed_refdb()), "seed"], env=env, capture_output=True, text=True, timeout=120
    )
    assert seeded.returncode == 0, seeded.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "refdb", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 9
    missing = subprocess.run(
        [str(_installed_refdb()), "show", "nothing-like-this"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr and missing.stderr.count("\n") == 1


JOURNALS = ["J Pain", "Neurology", "Pain Med", "J Pain", "Pain", "Psychol Med", "World J Psychiatr",
            "Am J Psychiatry", "Transl Psychiatry"]  # fmt: skip


def test_the_page_shows_every_seed_study_in_its_group_with_links(
    cli: RunCli, seed_metadata: dict[str, Any]
) -> None:
    ok(cli("seed"))
    result = cli("page")
    assert result.exit_code == 0, result.stderr
    page = result.stdout
    crps, depression = page.index("## For CRPS/RSD"), page.index("## For Depression")
    assert crps < depression
    position = -1
    for study, journal in zip(seed_metadata["studies"], JOURNALS, strict=True):
        first = study["authors"][0]
        initials = first["initials"]
        entry = page.index(f"{first['family']} {initials}", position + 1)
        assert entry > position, f"{first['family']} out of order"
        position = entry
        in_depression = entry > depression
        assert in_depression == (study["indication"] == "Depression")
        line = page[entry : page.index("\n", page.index("\n", entry) + 1)]
        assert f"*{journal}*" in line and str(study["year"]) in line
        if study["pmid"]:
            assert f"https://pubmed.ncbi.nlm.nih.gov/{study['pmid']}/" in line
        else:
            assert "https://pubmed.ncbi.nlm.nih.gov/?term=" in line
        if study["doi"]:
            assert f"https://doi.org/{study['doi']}" in line
        if not study["authors_complete"]:
            assert "et al." in line


def test_page_formats_styles_and_output_file(cli: RunCli, tmp_path: Path) -> None:
    ok(cli("seed"))
    target = tmp_path / "evidence.html"
    result = cli("page", "--format", "html", "--style", "vancouver", "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "Schwartzman RJ, Alexander GM" in html and "2009 Dec" in html
    text = cli("page", "--format", "text", "--style", "apa").stdout
    assert "Schwartzman, R. J., Alexander, G. M." in text and "For Depression" in text


def test_bad_page_options(cli: RunCli, tmp_path: Path) -> None:
    ok(cli("seed"))
    style = cli("page", "--style", "chicago-ish")
    assert style.exit_code == 1 and style.stderr.count("\n") == 1 and "chicago-ish" in style.stderr
    assert cli("page", "--format", "pdf").exit_code == 2
    unwritable = cli("page", "-o", str(tmp_path / "missing" / "page.md"))
    assert unwritable.exit_code == 1 and unwritable.stderr.count("\n") == 1


def test_the_default_database_lives_in_the_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make demo` runs `refdb seed` with no --db: the user data dir is made on first use."""
    monkeypatch.delenv("REFDB_DATABASE_URL")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    from typer.testing import CliRunner

    from refdb.cli import app

    assert CliRunner().invoke(app, ["seed"]).exit_code == 0
    assert (tmp_path / "data" / "refdb" / "refdb.sqlite").is_file()
    assert len(json.loads(CliRunner().invoke(app, ["list", "--json"]).stdout)) == 9
