"""`refdb db info`: where the library is (the URL, its password hidden), its schema revision,
and what it holds (studies, indications, operations, kept outputs)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from refdb.cli import app
from refdb.store.database import SCHEMA_REVISION
from tests.conftest import RunCli, ok


def test_db_info_says_where_the_library_is_and_what_it_holds(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    ok(cli("seed"))
    ok(cli("tag", "yang2015rketamine", "Preclinical"))
    page = tmp_path / "page.md"
    assert cli("page", "-o", str(page), "--keep").exit_code == 0
    result = cli("db", "info")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"database:     {db_url}",
        f"schema:       {SCHEMA_REVISION}",
        "studies:      9",
        "indications:  3",
        "operations:   2",
        "kept outputs: 1",
        *[ln for ln in result.stdout.splitlines() if ln.startswith(f"  page markdown: {page} (")],
    ]
    assert "(last written 20" in result.stdout
    info = json.loads(cli("db", "info", "--json").stdout)
    assert (info["url"], info["revision"], info["studies"]) == (db_url, SCHEMA_REVISION, 9)
    assert (info["indications"], info["operations"]) == (3, 2)
    assert [o["path"] for o in info["kept_outputs"]] == [str(page)]


def test_db_info_names_the_database_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite'}"
    result = CliRunner().invoke(app, ["db", "info"], env={"REFDB_DATABASE_URL": url})
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == f"database:     {url}"
    assert "studies:      0" in result.stdout


def test_db_info_hides_the_password_of_a_postgresql_url(postgres_db: str) -> None:
    # The test server trusts local connections, so a password in the URL is accepted unused.
    with_password = postgres_db.replace("refdb@", "refdb:s3cret-pw@")
    result = CliRunner().invoke(app, ["--db", with_password, "db", "info", "--json"])
    assert result.exit_code == 0, result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr
    info = json.loads(result.stdout)
    assert info["url"] == postgres_db.replace("refdb@", "refdb:***@")
    assert info["dialect"] == "postgresql" and info["studies"] == 0
