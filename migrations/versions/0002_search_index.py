"""full-text search index (SQLite FTS5; PostgreSQL searches without one)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 04:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE study_search USING fts5("
        "study_id UNINDEXED, key, title, authors, journal, abstract, "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )
    op.execute(
        "INSERT INTO study_search (study_id, key, title, authors, journal, abstract) "
        "SELECT s.id, s.key, s.title, "
        "(SELECT group_concat(coalesce(a.family, '') || ' ' || coalesce(a.given, '') || ' ' "
        "|| coalesce(a.literal, ''), ' ') FROM authors a WHERE a.study_id = s.id), "
        "coalesce(s.container_title, '') || ' ' || coalesce(s.container_title_short, ''), "
        "coalesce(s.abstract, '') FROM studies s"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE study_search")
