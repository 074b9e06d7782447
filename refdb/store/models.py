"""The database schema as typed SQLAlchemy 2 models. Alembic migrations in `migrations/` own it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so constraints have stable names."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Study(Base):
    """One study: the bibliographic fields of a Reference plus refdb's own."""

    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(40), default="article-journal")
    title: Mapped[str] = mapped_column(Text)
    title_norm: Mapped[str] = mapped_column(Text, index=True)
    page_title: Mapped[str | None] = mapped_column(Text)
    container_title: Mapped[str | None] = mapped_column(Text)
    container_title_short: Mapped[str | None] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    month: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[int | None] = mapped_column(Integer)
    season: Mapped[int | None] = mapped_column(Integer)
    circa: Mapped[bool] = mapped_column(Boolean, default=False)
    date_text: Mapped[str | None] = mapped_column(Text)
    epub_date: Mapped[str | None] = mapped_column(String(10))
    volume: Mapped[str | None] = mapped_column(String(64))
    issue: Mapped[str | None] = mapped_column(String(64))
    pages: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(Text)
    abstract: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(32))
    publisher: Mapped[str | None] = mapped_column(Text)
    issn: Mapped[str | None] = mapped_column(String(32))
    authors_complete: Mapped[bool] = mapped_column(Boolean, default=True)
    editors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    publication_types: Mapped[list[Any]] = mapped_column(JSON, default=list)
    mesh_terms: Mapped[list[Any]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str | None] = mapped_column(String(40))
    status_note: Mapped[str | None] = mapped_column(Text)
    notices: Mapped[list[Any]] = mapped_column(JSON, default=list)
    evidence_level: Mapped[str | None] = mapped_column(String(40), index=True)
    evidence_basis: Mapped[str | None] = mapped_column(Text)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    authors: Mapped[list[AuthorRow]] = relationship(
        back_populates="study",
        order_by="AuthorRow.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    identifiers: Mapped[list[Identifier]] = relationship(
        back_populates="study", cascade="all, delete-orphan", passive_deletes=True
    )
    links: Mapped[list[StudyIndication]] = relationship(
        back_populates="study", cascade="all, delete-orphan", passive_deletes=True
    )


class AuthorRow(Base):
    """An author of a study, in order."""

    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("study_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    family: Mapped[str | None] = mapped_column(String(200))
    given: Mapped[str | None] = mapped_column(String(200))
    literal: Mapped[str | None] = mapped_column(String(500))
    suffix: Mapped[str | None] = mapped_column(String(40))
    initials: Mapped[str | None] = mapped_column(String(40))

    study: Mapped[Study] = relationship(back_populates="authors")


class Identifier(Base):
    """A unique identifier of a study: PMID, DOI, PMCID, or an old citation key (alias)."""

    __tablename__ = "identifiers"
    __table_args__ = (
        UniqueConstraint("kind", "value"),
        # Identity looks DOIs up in lower case (migration 0005).
        Index("ix_identifiers_kind_lower_value", "kind", func.lower(text("value"))),
        CheckConstraint("kind IN ('pmid', 'doi', 'pmcid', 'alias')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(300))

    study: Mapped[Study] = relationship(back_populates="identifiers")


class Indication(Base):
    """An indication the page groups studies under, e.g. CRPS with heading 'For CRPS/RSD'."""

    __tablename__ = "indications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    heading: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer)

    links: Mapped[list[StudyIndication]] = relationship(
        back_populates="indication", cascade="all, delete-orphan", passive_deletes=True
    )


class StudyIndication(Base):
    """A study filed under an indication, at a position within that indication's list."""

    __tablename__ = "study_indications"

    study_id: Mapped[int] = mapped_column(
        ForeignKey("studies.id", ondelete="CASCADE"), primary_key=True
    )
    indication_id: Mapped[int] = mapped_column(
        ForeignKey("indications.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)

    study: Mapped[Study] = relationship(back_populates="links")
    indication: Mapped[Indication] = relationship(back_populates="links")


class Operation(Base):
    """One command that changed the database: who, when, what command line."""

    __tablename__ = "operations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user: Mapped[str] = mapped_column(String(100))
    command: Mapped[str] = mapped_column(Text)
    undoes: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))

    changes: Mapped[list[Change]] = relationship(
        back_populates="operation",
        order_by="Change.id",
        cascade="all, delete-orphan",
        foreign_keys="Change.operation_id",
    )


class Change(Base):
    """One row-level change of an operation: a study or indication before and after (JSON)."""

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(
        ForeignKey("operations.id", ondelete="CASCADE"), index=True
    )
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    operation: Mapped[Operation] = relationship(
        back_populates="changes", foreign_keys=[operation_id]
    )


class Watch(Base):
    """A saved PubMed search that proposes what is new for an indication."""

    __tablename__ = "watches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    query: Mapped[str] = mapped_column(Text)
    indication: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WatchRecord(Base):
    """A PubMed record a watch found: proposed (with the record, until accepted) or dismissed
    (never proposed again)."""

    __tablename__ = "watch_records"
    __table_args__ = (CheckConstraint("status IN ('proposed', 'dismissed')", name="status"),)

    pmid: Mapped[str] = mapped_column(String(20), primary_key=True)
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12))
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class KeptOutput(Base):
    """A file (or site folder) that `--keep` registered, rewritten after every change."""

    __tablename__ = "kept_outputs"
    __table_args__ = (CheckConstraint("kind IN ('export', 'page', 'site')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    format: Mapped[str] = mapped_column(String(20))
    style: Mapped[str | None] = mapped_column(Text)
    indications: Mapped[list[Any]] = mapped_column(JSON, default=list)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_written_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


def table(model: type[Base]) -> Table:
    """A model's Core table: bulk inserts go through Core, without the ORM's per-row work."""
    return cast(Table, model.__table__)
