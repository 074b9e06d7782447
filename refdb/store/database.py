"""Engine, schema migration and sessions: one transaction per command."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from refdb.errors import RefdbError

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def migrations_dir() -> Path:
    """Alembic's folder: inside the wheel (`refdb/_migrations`) or the source tree."""
    packaged = PACKAGE_DIR / "_migrations"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / "migrations"


def alembic_config(engine: Engine | None = None, url: str | None = None) -> Config:
    """An Alembic Config for refdb's migrations, bound to an engine or a URL."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def _check_sqlite_path(url: str) -> None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return
    path = Path(database)
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise RefdbError(f"database {path}: not readable and writable")
        return
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise RefdbError(f"database {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise RefdbError(f"database {path}: folder {parent} is not writable")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for a SQLAlchemy URL; SQLite gets foreign keys, WAL and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise RefdbError(f"database URL {url!r}: not a SQLAlchemy URL") from None
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_path(url)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # a missing driver module, a malformed option
        raise RefdbError(f"database URL {parsed.render_as_string()}: {exc}") from None


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision in `migrations/`."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest schema (Alembic `upgrade head`)."""
    command.upgrade(alembic_config(engine), "head")


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database down to a revision (default: empty)."""
    command.downgrade(alembic_config(engine), revision)


def open_engine(url: str) -> Engine:
    """Connect, and migrate to the newest schema when the database is behind."""
    engine = make_engine(url)
    try:
        if current_revision(engine) != head_revision():
            upgrade(engine)
    except OperationalError as exc:
        raise RefdbError(f"database {engine.url.render_as_string()}: {exc.orig}") from None
    return engine


class Database:
    """A migrated database and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = open_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One session, one transaction: committed on success, rolled back on any error.

        Writers take the database's write lock first, so that two commands run at once (two
        staff, two scripts) wait for each other instead of both working from the same old
        state: SQLite's `BEGIN IMMEDIATE`, a transaction-wide advisory lock on PostgreSQL.
        """
        with self._sessions() as session, session.begin():
            connection = session.connection()
            if self.dialect == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            elif self.dialect == "postgresql":
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7106102)")
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for queries only."""
        with self._sessions() as session:
            yield session

    def revision(self) -> str | None:
        """The schema revision the database is at."""
        return current_revision(self.engine)

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()
