"""Alembic owns the schema: the migrated database matches the models, and migrations round-trip."""

from __future__ import annotations

import warnings

import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from refdb.store import database
from refdb.store.models import Base
from tests.conftest import RunCli, dump

DATA_TABLES = {
    "studies",
    "authors",
    "identifiers",
    "indications",
    "study_indications",
    "operations",
    "changes",
}


def _tables(engine: sqlalchemy.Engine) -> set[str]:
    return set(sqlalchemy.inspect(engine).get_table_names())


def test_migrated_schema_matches_the_models(any_db_url: str) -> None:
    db = database.Database(any_db_url)
    with db.engine.connect() as connection, warnings.catch_warnings():
        # SQLite's reflection cannot read an index on an expression (0005's lower(value)):
        # autogenerate says so and skips it; the next test checks that index directly.
        warnings.filterwarnings("ignore", message=".*expression-based index")
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_object": _not_search_table},
        )
        differences = compare_metadata(context, Base.metadata)
    db.close()
    assert differences == []


def test_dois_are_looked_up_by_an_index_without_regard_to_case(db_url: str) -> None:
    """Identity compares DOIs in lower case: that lookup must not scan the whole table."""
    db = database.Database(db_url)
    with db.engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT study_id FROM identifiers "
            "WHERE kind = 'doi' AND lower(value) IN ('10.1/a', '10.1/b')"
        ).all()
    db.close()
    assert any("ix_identifiers_kind_lower_value" in str(row) for row in plan), plan


def _not_search_table(obj: object, name: str | None, type_: str, *_: object) -> bool:
    return not (type_ == "table" and name is not None and name.startswith("study_search"))


def test_first_use_migrates_to_head(any_db_url: str) -> None:
    db = database.Database(any_db_url)
    assert db.revision() == database.head_revision()
    assert _tables(db.engine) >= DATA_TABLES
    db.close()


def test_downgrade_then_upgrade_round_trips(any_db_url: str) -> None:
    db = database.Database(any_db_url)
    database.downgrade(db.engine, "base")
    assert not (DATA_TABLES & _tables(db.engine))
    assert database.current_revision(db.engine) is None
    database.upgrade(db.engine)
    assert _tables(db.engine) >= DATA_TABLES
    assert db.revision() == database.head_revision()
    db.close()


def test_schema_revision_is_the_newest_migration() -> None:
    """Opening a database at SCHEMA_REVISION skips Alembic: the constant must name the head of
    migrations/versions (bump it with every new migration)."""
    assert database.head_revision() == database.SCHEMA_REVISION


def test_migrating_a_filled_sqlite_database_keeps_every_row(cli: RunCli, db_url: str) -> None:
    """0003 rebuilds `studies` (batch mode); with foreign keys on, dropping the old table would
    cascade to every author, identifier and indication link."""
    assert cli("seed").exit_code == 0
    before = dump(db_url)
    plain = sqlalchemy.create_engine(db_url)  # foreign keys off: the downgrade keeps every row
    database.downgrade(plain, "0002")
    plain.dispose()
    assert dump(db_url)["authors"] == before["authors"]

    db = database.Database(db_url)  # opening migrates it back to the head
    assert db.revision() == database.SCHEMA_REVISION
    db.close()
    after = dump(db_url)
    for table in ("authors", "identifiers", "indications", "study_indications"):
        assert after[table] == before[table], table
    assert len(after["studies"]) == len(before["studies"])
