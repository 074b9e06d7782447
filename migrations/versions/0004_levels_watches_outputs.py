"""what an evidence level was derived from; watched PubMed searches and their records; kept outputs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("studies", sa.Column("evidence_basis", sa.Text(), nullable=True))
    op.create_index("ix_studies_evidence_level", "studies", ["evidence_level"])
    _derive_levels()
    op.create_table(
        "watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("indication", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_watches"),
        sa.UniqueConstraint("name", name="uq_watches_name"),
    )
    op.create_table(
        "watch_records",
        sa.Column("pmid", sa.String(20), nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("record", sa.JSON(), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["watch_id"],
            ["watches.id"],
            name="fk_watch_records_watch_id_watches",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("pmid", name="pk_watch_records"),
        sa.CheckConstraint("status IN ('proposed', 'dismissed')", name="ck_watch_records_status"),
    )
    op.create_table(
        "kept_outputs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("style", sa.Text(), nullable=True),
        sa.Column("indications", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_written_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_kept_outputs"),
        sa.UniqueConstraint("path", name="uq_kept_outputs_path"),
        sa.CheckConstraint("kind IN ('export', 'page', 'site')", name="ck_kept_outputs_kind"),
    )


def _derive_levels() -> None:
    """Give every stored study its level: the one set before (when it is a level), else the
    one its publication types and MeSH make evident."""
    from refdb.evidence import HAND_BASIS, derive_level, parse_level

    studies = sa.table(
        "studies",
        sa.column("id", sa.Integer()),
        sa.column("publication_types", sa.JSON()),
        sa.column("mesh_terms", sa.JSON()),
        sa.column("evidence_level", sa.String()),
        sa.column("evidence_basis", sa.Text()),
        sa.column("provenance", sa.JSON()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            studies.c.id,
            studies.c.publication_types,
            studies.c.mesh_terms,
            studies.c.evidence_level,
            studies.c.provenance,
        )
    ).all()
    updates = []
    for study_id, types, mesh, level, provenance in rows:
        source = ((provenance or {}).get("evidence_level") or {}).get("source")
        try:
            slug = parse_level(level) if level else None
        except ValueError:
            slug = None
        if slug is not None:
            basis = HAND_BASIS if source == "hand" else f"given by {source or 'an earlier refdb'}"
        else:
            derived = derive_level(types or [], mesh or [])
            slug, basis = derived.level, derived.basis
        updates.append({"study_id": study_id, "level": slug, "basis": basis})
    if updates:
        connection.execute(
            studies.update()
            .where(studies.c.id == sa.bindparam("study_id"))
            .values(evidence_level=sa.bindparam("level"), evidence_basis=sa.bindparam("basis")),
            updates,
        )


def downgrade() -> None:
    op.drop_table("kept_outputs")
    op.drop_table("watch_records")
    op.drop_table("watches")
    op.drop_index("ix_studies_evidence_level", table_name="studies")
    with op.batch_alter_table("studies") as batch:
        batch.drop_column("evidence_basis")
