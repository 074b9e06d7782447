"""Engine, schema migration and sessions: one transaction per command.

Opening a database reads its schema revision with one plain query. Only when it differs from
SCHEMA_REVISION (a new database, or refdb was upgraded) is Alembic imported, and the migration
then runs under the database's write lock, so that commands started together on a new database
wait for one another instead of racing to create the schema.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from refdb.errors import RefdbError

if TYPE_CHECKING:
    from alembic.config import Config

SCHEMA_REVISION = "0005"
"""The newest revision in `migrations/versions` (tests/test_migrations.py keeps them equal).
A database at this revision is opened without importing Alembic."""

WRITE_LOCK = 7106102
"""The PostgreSQL advisory lock that is the database's write lock (writers and migrations)."""
CHANGED = "refdb_changed"
"""A session's `info` key: what the transaction's logged operation changed (`Committed`)."""


@dataclass(frozen=True)
class Committed:
    """What a committed operation changed, as those who keep files current need it: ids only
    (the store knows nothing of what they write)."""

    operation: int
    previous: int | None
    """The operation logged before it (None: it is the first). A file written after
    `previous` needs only what this one changed."""
    studies: frozenset[int]
    """The studies it added, changed or removed."""
    indications: bool
    """Whether it changed an existing indication itself (its name, heading or place); one
    made or removed reaches only the studies filed under it, which are in `studies`."""


PACKAGE_DIR = Path(__file__).resolve().parents[1]


def migrations_dir() -> Path:
    """Alembic's folder: inside the wheel (`refdb/_migrations`) or the source tree."""
    packaged = PACKAGE_DIR / "_migrations"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / "migrations"


def alembic_config(engine: Engine | None = None, url: str | None = None) -> Config:
    """An Alembic Config for refdb's migrations, bound to an engine or a URL."""
    from alembic.config import Config

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
        return create_engine(url, pool_pre_ping=True, use_insertmanyvalues=False)
    except (ImportError, ArgumentError, TypeError, ValueError) as exc:  # no driver; a bad option
        raise RefdbError(f"database URL {parsed.render_as_string()}: {exc}") from None


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None for an empty database), read by Alembic."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision in `migrations/` (read by Alembic; SCHEMA_REVISION is kept equal)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest schema (Alembic `upgrade head`)."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database down to a revision (default: empty)."""
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def _is_missing_table(exc: DBAPIError) -> bool:
    # PostgreSQL's undefined_table; SQLite has no error codes in its Python driver.
    return getattr(exc.orig, "sqlstate", None) == "42P01" or "no such table" in str(exc.orig)


def _stored_revision(connection: Connection) -> str | None:
    """The revision in `alembic_version` by plain SQL; None when the table is missing or empty.

    On PostgreSQL a missing table leaves the connection's transaction failed: the caller ends
    it (closing or committing the connection).
    """
    try:
        rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except DBAPIError as exc:
        if _is_missing_table(exc):
            return None
        raise
    revisions = sorted(str(row[0]) for row in rows)
    if len(revisions) > 1:
        url = connection.engine.url.render_as_string()
        raise RefdbError(f"database {url}: several schema revisions at once: {revisions}")
    return revisions[0] if revisions else None


def _refuse_unknown(engine: Engine, stored: str | None) -> None:
    """One clear line for a database that a newer refdb migrated past this code's migrations."""
    if stored is None or stored == SCHEMA_REVISION:
        return
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    if stored not in {s.revision for s in script.walk_revisions()}:
        raise RefdbError(
            f"database {engine.url.render_as_string()}: schema revision {stored!r} is newer "
            f"than this refdb knows (its newest is {SCHEMA_REVISION}); upgrade refdb to use it"
        )


def _migration_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Schema changes the way SQLite documents them: foreign keys off, else batch mode's
    # copy-and-rename of a table (0003) cascades the old table's DROP to the rows that refer
    # to it (authors, identifiers, indication links). And pysqlite neither BEGINs nor COMMITs
    # by itself: `_begin_immediate` opens every transaction.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.close()
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _migrate_sqlite(engine: Engine) -> None:
    """Migrate under SQLite's write lock, on an engine whose every transaction starts with
    `BEGIN IMMEDIATE` (SQLAlchemy's recipe for pysqlite).

    The re-check below waits while another process migrates (or writes) and stops there when
    it finds the work done. Otherwise Alembic's own transaction (migrations/env.py runs in
    `engine.begin()`) takes the lock again, reads the revision again and runs the migrations,
    DDL included, as one locked, all-or-nothing transaction.
    """
    migrator = make_engine(engine.url.render_as_string(hide_password=False))
    event.listen(migrator, "connect", _migration_pragmas)
    event.listen(migrator, "begin", _begin_immediate)
    try:
        with migrator.begin() as connection:
            stored = _stored_revision(connection)
        if stored != SCHEMA_REVISION:
            _refuse_unknown(engine, stored)
            upgrade(migrator)
    finally:
        migrator.dispose()


def _migrate_postgresql(engine: Engine) -> None:
    """Migrate holding the write lock (a session advisory lock) on a connection of its own."""
    with engine.connect() as lock:
        lock.exec_driver_sql(f"SELECT pg_advisory_lock({WRITE_LOCK})")
        lock.commit()
        try:
            with engine.connect() as connection:
                stored = _stored_revision(connection)
            if stored != SCHEMA_REVISION:
                _refuse_unknown(engine, stored)
                upgrade(engine)
        finally:
            lock.exec_driver_sql(f"SELECT pg_advisory_unlock({WRITE_LOCK})")
            lock.commit()


def _migrate(engine: Engine) -> None:
    """Bring a database that is behind to SCHEMA_REVISION, under its write lock.

    The revision is read again once the lock is held: a process that waited while another
    migrated finds the work done and migrates nothing.
    """
    from alembic.util.exc import CommandError

    try:
        if engine.dialect.name == "sqlite":
            _migrate_sqlite(engine)
        elif engine.dialect.name == "postgresql":
            _migrate_postgresql(engine)
        else:
            with engine.connect() as connection:
                stored = _stored_revision(connection)
            _refuse_unknown(engine, stored)
            upgrade(engine)
    except CommandError as exc:  # e.g. a newer refdb migrated the database meanwhile
        raise RefdbError(f"database {engine.url.render_as_string()}: {exc}") from None


def open_engine(url: str) -> Engine:
    """Connect, and migrate to the newest schema when the database is behind.

    An up-to-date database costs one query and no Alembic import.
    """
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            stored = _stored_revision(connection)
        if stored != SCHEMA_REVISION:
            _refuse_unknown(engine, stored)
            _migrate(engine)
    except OperationalError as exc:
        engine.dispose()
        raise RefdbError(f"database {engine.url.render_as_string()}: {exc.orig}") from None
    except BaseException:
        engine.dispose()
        raise
    return engine


class Database:
    """A migrated database and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = open_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.after_change: list[Callable[[Committed], object]] = []
        """Called after each transaction that committed a logged operation (a change to the
        library, an undo included), outside it, with what it changed: the library level
        rewrites kept outputs."""

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
        with self._sessions() as session:
            with session.begin():
                connection = session.connection()
                if self.dialect == "sqlite":
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                elif self.dialect == "postgresql":
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
                yield session
            changed = session.info.pop(CHANGED, None)
        if isinstance(changed, Committed):  # let those who keep files current know
            for hook in list(self.after_change):
                hook(changed)

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
