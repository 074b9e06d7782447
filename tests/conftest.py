"""Shared fixtures: real SQLite files in temp dirs, a real PostgreSQL server, the CLI runner."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from refdb.cli import app
from tests.postgres import find_bindir, postgres_server

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

RunCli = Callable[..., Result]


def needs(tool: str) -> pytest.MarkDecorator:
    """Skip when an outside program is missing, except in CI (REFDB_REQUIRE_TOOLS), which
    installs it: there a missing tool fails the test instead of hiding it."""
    import shutil

    missing = shutil.which(tool) is None and not os.environ.get("REFDB_REQUIRE_TOOLS")
    return pytest.mark.skipif(missing, reason=f"{tool} is not installed (.ci/run installs it)")


def pandoc_citeproc(bibliography: Path, keys: list[str]) -> str:
    """Cite every key with `pandoc --citeproc` and that bibliography; the plain-text output.

    Fails the test when pandoc exits badly or prints anything on stderr (warnings included).
    """
    import subprocess

    doc = bibliography.with_name("doc.md")
    doc.write_text(" ".join(f"[@{k}]" for k in keys) + "\n", encoding="utf-8")
    result = subprocess.run(
        ["pandoc", "--citeproc", "--bibliography", str(bibliography), "-t", "plain", str(doc)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "Citation not found" not in result.stdout
    return result.stdout


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the user's library or the internet."""
    monkeypatch.setenv("REFDB_DATABASE_URL", f"sqlite:///{tmp_path / 'default.sqlite'}")
    monkeypatch.setenv("REFDB_EUTILS_URL", "http://127.0.0.1:9/eutils/")
    monkeypatch.setenv("NCBI_EMAIL", "tests@example.org")
    monkeypatch.delenv("NCBI_API_KEY", raising=False)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A SQLite database file in a temp dir (created on first use)."""
    return f"sqlite:///{tmp_path / 'refdb.sqlite'}"


@pytest.fixture
def cli(db_url: str) -> RunCli:
    """Run `refdb --db <temp sqlite> ARGS...` in-process, as a user would type it."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, ["--db", db_url, *args], input=input, env=env)

    return run


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server on 127.0.0.1 for the session (skipped only outside CI)."""
    if find_bindir() is None:
        if os.environ.get("REFDB_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (REFDB_REQUIRE_POSTGRES) but not installed")
        pytest.skip("PostgreSQL is not installed (.ci/run installs it)")
    with postgres_server() as url:
        yield url


_database_numbers = itertools.count(1)


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    import sqlalchemy

    name = f"refdb_test_{os.getpid()}_{next(_database_numbers)}"
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a SQLite file and on a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'any.sqlite'}"
    url: str = request.getfixturevalue("postgres_db")
    return url


def dump(url: str) -> dict[str, Any]:
    """Every data table's rows (sorted), to compare whole databases."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    tables = ("studies", "authors", "identifiers", "indications", "study_indications")
    result: dict[str, Any] = {}
    with engine.connect() as connection:
        for table in tables:
            rows = connection.exec_driver_sql(f"SELECT * FROM {table}").mappings().all()
            result[table] = sorted((dict(r) for r in rows), key=repr)
    engine.dispose()
    return result
