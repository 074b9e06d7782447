"""Watched PubMed searches and the records they found: the SQL behind `refdb watch`.

Watches and their records are a registry beside the library, not its content: adding or
removing a watch, recording a run and dismissing a record are committed at once and are not
logged operations (`refdb undo` does not reverse them). Accepting a proposal stores the study
through `Library.save`, which is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from refdb.dates import utc
from refdb.errors import NotFoundError, RefdbError
from refdb.store.database import Database
from refdb.store.history import now
from refdb.store.models import Watch, WatchRecord
from refdb.store.queries import identifier_owners
from refdb.store.rows import chunks
from refdb.store.writer import Writer

PROPOSED = "proposed"
DISMISSED = "dismissed"


@dataclass
class WatchInfo:
    """A watch as stored, with how many of its proposals await a decision."""

    id: int
    name: str
    query: str
    indication: str | None
    created_at: datetime
    last_run_at: datetime | None
    pending: int = 0

    def to_json(self) -> dict[str, object]:
        """What `refdb watch list --json` prints for it."""
        last = self.last_run_at
        return {
            "name": self.name,
            "query": self.query,
            "indication": self.indication,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "last_run_at": last.isoformat(timespec="seconds") if last else None,
            "pending": self.pending,
        }


@dataclass
class RecordInfo:
    """A PMID a watch found: 'proposed' (with its record) or 'dismissed'."""

    pmid: str
    status: str
    watch: str | None
    indication: str | None
    record: dict[str, Any] | None
    seen_at: datetime


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)


def _info(watch: Watch, pending: int = 0) -> WatchInfo:
    created = utc(watch.created_at)
    return WatchInfo(
        watch.id,
        watch.name,
        watch.query,
        watch.indication,
        created,
        _utc_or_none(watch.last_run_at),
        pending,
    )


def _named(session: Session, name: str) -> Watch | None:
    """The watch of this name, compared without regard to case."""
    wanted = name.strip().casefold()
    return next((w for w in session.scalars(select(Watch)) if w.name.casefold() == wanted), None)


def _pending_counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(WatchRecord.watch_id, func.count())
        .where(WatchRecord.status == PROPOSED, WatchRecord.watch_id.is_not(None))
        .group_by(WatchRecord.watch_id)
    ).all()
    return {int(watch_id): int(n) for watch_id, n in rows if watch_id is not None}


def add_watch(db: Database, name: str, query: str, indication: str | None) -> WatchInfo:
    """Save a search under a unique name (a registry change: not undoable)."""
    name, query = name.strip(), " ".join(query.split())
    if not name:
        raise RefdbError("a watch needs a name")
    if not query:
        raise RefdbError(f"watch {name!r}: the query is empty")
    with db.transaction() as session:
        if _named(session, name) is not None:
            raise RefdbError(f"watch {name!r} already exists (remove it first to change it)")
        watch = Watch(
            name=name,
            query=query,
            indication=(indication or "").strip() or None,
            created_at=now(),
        )
        session.add(watch)
        session.flush()
        return _info(watch)


def list_watches(db: Database) -> list[WatchInfo]:
    """Every watch, by name, with its number of pending proposals."""
    with db.reading() as session:
        counts = _pending_counts(session)
        watches = session.scalars(select(Watch).order_by(Watch.name))
        return [_info(w, counts.get(w.id, 0)) for w in watches]


def get_watches(db: Database, names: Sequence[str] = ()) -> list[WatchInfo]:
    """The named watches (all when none is named); NotFoundError for an unknown name."""
    if not names:
        return list_watches(db)
    with db.reading() as session:
        counts = _pending_counts(session)
        found = []
        for name in dict.fromkeys(names):
            watch = _named(session, name)
            if watch is None:
                raise NotFoundError(f"watch {name!r}: no such watch (see `refdb watch list`)")
            found.append(_info(watch, counts.get(watch.id, 0)))
        return found


def remove_watch(db: Database, name: str) -> int:
    """Delete a watch and its pending proposals; its dismissals stay (still never proposed).
    Returns how many proposals were dropped. A registry change: not undoable."""
    with db.transaction() as session:
        watch = _named(session, name)
        if watch is None:
            raise NotFoundError(f"watch {name!r}: no such watch (see `refdb watch list`)")
        dropped = session.execute(
            delete(WatchRecord).where(
                WatchRecord.watch_id == watch.id, WatchRecord.status == PROPOSED
            )
        )
        session.delete(watch)
        return int(getattr(dropped, "rowcount", 0) or 0)


def _record_query() -> Any:
    return select(WatchRecord, Watch.name, Watch.indication).outerjoin(
        Watch, Watch.id == WatchRecord.watch_id
    )


def _record(row: Any) -> RecordInfo:
    record, name, indication = row
    seen = utc(record.seen_at)
    return RecordInfo(record.pmid, record.status, name, indication, record.record, seen)


def records(db: Database, pmids: Iterable[str]) -> dict[str, RecordInfo]:
    """The watch records of these PMIDs (proposed or dismissed), by PMID."""
    wanted = list(dict.fromkeys(pmids))
    found: dict[str, RecordInfo] = {}
    with db.reading() as session:
        for part in chunks(wanted):
            for row in session.execute(_record_query().where(WatchRecord.pmid.in_(part))):
                info = _record(row)
                found[info.pmid] = info
    return found


def pending(db: Database, watch_ids: Sequence[int]) -> list[RecordInfo]:
    """The proposals of these watches that await a decision, oldest first."""
    with db.reading() as session:
        rows = session.execute(
            _record_query()
            .where(WatchRecord.status == PROPOSED, WatchRecord.watch_id.in_(list(watch_ids)))
            .order_by(WatchRecord.seen_at, WatchRecord.pmid)
        )
        return [_record(row) for row in rows]


def in_library(
    db: Database, pmids: Iterable[str] = (), dois: Iterable[str] = ()
) -> tuple[set[str], set[str]]:
    """Which of these PMIDs, and which of these DOIs (as `doi_key`), studies already hold."""
    with db.reading() as session:
        return (
            set(identifier_owners(session, "pmid", pmids)),
            set(identifier_owners(session, "doi", dois)),
        )


def save_run(
    db: Database,
    *,
    proposals: Sequence[tuple[str, int, dict[str, Any]]],
    ran: Sequence[int],
    at: datetime,
    drop: Sequence[str] = (),
) -> None:
    """After a successful run, in one transaction: store the new proposals (PMID, watch id,
    record), forget proposals whose study is in the library now (`drop`), and note that the
    watches `ran` at `at`. A registry change: not undoable."""
    with db.transaction() as session:
        for part in chunks(list(drop)):
            session.execute(
                delete(WatchRecord).where(
                    WatchRecord.pmid.in_(part), WatchRecord.status == PROPOSED
                )
            )
        for pmid, watch_id, record in proposals:
            if session.get(WatchRecord, pmid) is None:
                session.add(
                    WatchRecord(
                        pmid=pmid, watch_id=watch_id, status=PROPOSED, record=record, seen_at=at
                    )
                )
        for watch in session.scalars(select(Watch).where(Watch.id.in_(list(ran)))):
            watch.last_run_at = at


def dismiss(db: Database, pmids: Sequence[str]) -> None:
    """Mark PMIDs dismissed: never proposed again (a PMID never proposed may be dismissed
    too). A registry change: not undoable."""
    stamp = now()
    with db.transaction() as session:
        for pmid in dict.fromkeys(pmids):
            record = session.get(WatchRecord, pmid)
            if record is None:
                session.add(
                    WatchRecord(pmid=pmid, status=DISMISSED, seen_at=stamp, decided_at=stamp)
                )
            elif record.status != DISMISSED:
                record.status = DISMISSED
                record.decided_at = stamp


def forget(writer: Writer, pmids: Sequence[str]) -> None:
    """Delete the watch records of accepted PMIDs, in the transaction that stores their
    studies (a registry change: undo does not bring the proposals back)."""
    for part in chunks(list(dict.fromkeys(pmids))):
        writer.session.execute(delete(WatchRecord).where(WatchRecord.pmid.in_(part)))
