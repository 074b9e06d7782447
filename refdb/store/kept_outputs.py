"""The registry of kept outputs: files (and site folders) that `--keep` keeps current.

The registry is not library content: registering, rewriting and forgetting a file are not
logged operations and `undo` does not touch them. It lives in the database so that every
staff member's commands on a shared library keep the same files current.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from refdb.store.database import Database
from refdb.store.history import now
from refdb.store.models import KeptOutput


@dataclass
class KeptOutputInfo:
    """A kept output: where, what (kind, format, style, indications, options), when written."""

    path: str
    kind: str
    format: str
    style: str | None
    indications: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    last_written_at: datetime | None = None
    last_error: str | None = None


def _info(row: KeptOutput) -> KeptOutputInfo:
    return KeptOutputInfo(
        path=row.path,
        kind=row.kind,
        format=row.format,
        style=row.style,
        indications=list(row.indications or []),
        options=dict(row.options or {}),
        last_written_at=row.last_written_at,
        last_error=row.last_error,
    )


def register(db: Database, output: KeptOutputInfo) -> None:
    """Keep this output current (its path's earlier registration is replaced). Its
    `created_at` is when a person last wrote it with its own command (`refdb changes`
    counts from there), not the rewrites after each change."""
    with db.transaction() as session:
        row = session.scalars(select(KeptOutput).where(KeptOutput.path == output.path)).first()
        if row is None:
            row = KeptOutput(path=output.path)
            session.add(row)
        row.created_at = now()
        row.kind, row.format, row.style = output.kind, output.format, output.style
        row.indications, row.options = list(output.indications), dict(output.options)
        row.last_written_at, row.last_error = output.last_written_at, output.last_error


def kept_outputs(db: Database) -> list[KeptOutputInfo]:
    """Every kept output, in the order they were registered."""
    with db.reading() as session:
        return [_info(r) for r in session.scalars(select(KeptOutput).order_by(KeptOutput.id))]


def record_write(db: Database, path: str, error: str | None) -> None:
    """Note that a kept output was written now (error None) or could not be (why)."""
    values: dict[str, Any] = {"last_error": error}
    if error is None:
        values["last_written_at"] = now()
    with db.transaction() as session:
        session.execute(update(KeptOutput).where(KeptOutput.path == path).values(**values))


def forget(db: Database, path: str) -> bool:
    """Stop keeping an output current; False when it was not kept."""
    with db.transaction() as session:
        result = session.execute(delete(KeptOutput).where(KeptOutput.path == path))
        return bool(getattr(result, "rowcount", 0))
