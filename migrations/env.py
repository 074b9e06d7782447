"""Alembic environment for refdb: the models' metadata, online migrations only."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from refdb.store.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave SQLite's full-text search tables (made by hand in a migration) out of autogenerate."""
    return not (type_ == "table" and name is not None and name.startswith("study_search"))


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


engine = config.attributes.get("engine")
if engine is None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
with engine.begin() as connection:
    run_with(connection)
