"""identifiers looked up without regard to case (DOIs, when an import matches by identity)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 16:00:00

Identity compares DOIs in lower case (`lower(value) IN (...)`); without an index on that
expression every lookup of a chunk of DOIs scanned the whole identifiers table, once per 500
records of an import.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_identifiers_kind_lower_value",
        "identifiers",
        ["kind", sa.text("lower(value)")],
    )


def downgrade() -> None:
    op.drop_index("ix_identifiers_kind_lower_value", table_name="identifiers")
