"""Shared fixtures: real SQLite files in temp dirs, a real PostgreSQL server, the CLI runner,
a fake clock for PubMed's rate limit and retries; ../shared comes from tests/plugin_shared.py."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from refdb.cli import app
from refdb.sources.pubmed import client as client_module
from refdb.sources.pubmed.client import RateLimiter
from tests.plugin_shared import REPO, SHARED, golden, seed_metadata, shared_dir, shared_pubmed
from tests.postgres import find_bindir, postgres_server

# The ../shared fixtures are defined in tests/plugin_shared.py and offered to every test from
# here; REPO and SHARED are re-exported for the tests that import them from this module.
__all__ = ["REPO", "SHARED", "golden", "seed_metadata", "shared_dir", "shared_pubmed"]

RunCli = Callable[..., Result]


def ok(result: Result) -> Result:
    """The result of a step that must succeed (exit code 0), for setup steps and queries."""
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def _not_installed(missing: list[str]) -> str:
    return f"{' and '.join(missing)} not installed (.ci/run installs it)"


def needs(*tools: str, installed: Path | None = None) -> pytest.MarkDecorator:
    """Skip when an outside program is missing (`"a|b"`: either will do) or `installed`, what
    it needs beside it, is absent; except in CI (REFDB_REQUIRE_TOOLS), which installs them:
    there a missing tool fails the test instead of hiding it. A test, or a module's
    `pytestmark`; a fixture uses `require_installed`."""
    import shutil

    missing = [
        tool.replace("|", " or ")
        for tool in tools
        if not any(shutil.which(name) for name in tool.split("|"))
    ]
    if installed is not None and not installed.exists():
        missing.append(str(installed))
    skip = bool(missing) and not os.environ.get("REFDB_REQUIRE_TOOLS")
    return pytest.mark.skipif(skip, reason=_not_installed(missing))


def require_installed(missing: list[str], ci_variable: str = "REFDB_REQUIRE_TOOLS") -> None:
    """`needs` for a fixture: skip when something is missing, but fail when `ci_variable` is
    set (CI installs it)."""
    if not missing:
        return
    if os.environ.get(ci_variable):
        pytest.fail(f"{_not_installed(missing)}, and {ci_variable} requires it")
    pytest.skip(_not_installed(missing))


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
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # refdb's citation cache
    monkeypatch.setenv("REFDB_EUTILS_URL", "http://127.0.0.1:9/eutils/")
    monkeypatch.setenv("NCBI_EMAIL", "tests@example.org")
    monkeypatch.delenv("NCBI_API_KEY", raising=False)


class FakeClock:
    """Time that moves only when the code under test waits on it: each wait is recorded in
    `sleeps` and moves `now` on at once (no test really sleeps)."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(seconds, 0.0)

    @property
    def slept(self) -> float:
        """All the time waited so far."""
        return sum(self.sleeps)


class RecordingLimiter(RateLimiter):
    """The rate limiter, keeping every request start it grants (by its clock) in `starts`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.starts: list[float] = []

    def acquire(self, rate: float) -> float:
        start = super().acquire(rate)
        self.starts.append(start)
        return start


@pytest.fixture
def clock() -> FakeClock:
    """The fake clock PubMed's rate limiter and retries wait by in this test."""
    return FakeClock()


@pytest.fixture(autouse=True)
def unthrottled(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> RecordingLimiter:
    """No rate limit, and retries' waits on the fake clock; the rate-limit tests ask for
    `real_limiter`."""
    limiter = RecordingLimiter(period=0.0, margin=0.0, clock=clock.now, sleep=clock.sleep)
    monkeypatch.setattr(client_module, "_LIMITER", limiter)
    return limiter


@pytest.fixture
def real_limiter(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> RecordingLimiter:
    """NCBI's one-second window (and its margin), kept by the fake clock."""
    limiter = RecordingLimiter(clock=clock.now, sleep=clock.sleep)
    monkeypatch.setattr(client_module, "_LIMITER", limiter)
    return limiter


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
    require_installed([] if find_bindir() else ["PostgreSQL (initdb)"], "REFDB_REQUIRE_POSTGRES")
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
