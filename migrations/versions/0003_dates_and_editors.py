"""editors, and dates that say more than year, month and day (season, circa, original text)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("studies") as batch:
        batch.add_column(sa.Column("season", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("circa", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("date_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("editors", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("studies") as batch:
        batch.drop_column("editors")
        batch.drop_column("date_text")
        batch.drop_column("circa")
        batch.drop_column("season")
