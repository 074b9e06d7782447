"""Watched PubMed searches joined to the store: run them, accept or dismiss what they find.

A run asks PubMed (esearch by Entrez date) for what each watch's query found since that
watch last ran, fetches the records it has not seen, and proposes those that are neither in
the library (by PMID or DOI) nor dismissed. Proposals are kept until accepted or dismissed
and are shown again by later runs. Every lookup happens before anything is written.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from refdb.errors import LookupFailedError, RefdbError
from refdb.evidence import LABELS, level_of, settle_level
from refdb.identifiers import doi_key, typed_pmid
from refdb.records import Reference
from refdb.sources.pubmed import EutilsClient, fetch_pmids, open_client
from refdb.store import watches as store
from refdb.store.history import now
from refdb.store.library import Library
from refdb.store.watches import WatchInfo
from refdb.store.writer import SaveSummary

PUBMED_SOURCE = "pubmed"

DEFAULT_DAYS = 90
"""How far back a watch's first run looks (by the date PubMed added records)."""

Progress = Callable[[int, int], None]


def _pubmed_zone() -> tzinfo:
    """PubMed dates records by the clock in Bethesda (US Eastern time)."""
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("America/New_York")
    except (ImportError, KeyError):  # no time zone data: Eastern standard time is never later
        return timezone(timedelta(hours=-5), "EST")


PUBMED_ZONE = _pubmed_zone()


def pubmed_date(moment: datetime) -> str:
    """A moment as PubMed's date of that moment: YYYY/MM/DD in US Eastern time."""
    return moment.astimezone(PUBMED_ZONE).strftime("%Y/%m/%d")


def search_window(
    last_run_at: datetime | None, at: datetime, days: int = DEFAULT_DAYS
) -> dict[str, Any]:
    """The esearch date limits for a watch: the last `days` days on its first run, else from
    the day of its last run (inclusive, so nothing added late that day is missed) to today."""
    if last_run_at is None:
        return {"reldate": days}
    return {"mindate": pubmed_date(last_run_at), "maxdate": pubmed_date(at)}


@dataclass
class Proposal:
    """A PubMed record a watch proposes for the library."""

    reference: Reference
    watch: str | None
    indication: str | None
    pending: bool
    """Proposed by an earlier run and not yet accepted or dismissed."""
    proposed_at: datetime
    """When a run first proposed it."""

    @property
    def pmid(self) -> str:
        """The record's PMID."""
        return self.reference.pmid or ""

    def level(self) -> str:
        """The evidence level its publication types and MeSH headings make evident."""
        ref = copy.copy(self.reference)
        settle_level(ref)
        return level_of(ref)

    def to_json(self) -> dict[str, Any]:
        """What `refdb watch run --json` prints for it."""
        ref = self.reference
        level = self.level()
        return {
            "pmid": self.pmid,
            "doi": ref.doi,
            "title": ref.title,
            "first_author": ref.first_author or None,
            "year": ref.year,
            "journal": ref.container_title_short or ref.container_title,
            "evidence_level": level,
            "evidence_label": LABELS[level],
            "watch": self.watch,
            "indication": self.indication,
            "pending": self.pending,
            "proposed_at": self.proposed_at.isoformat(timespec="seconds"),
        }


@dataclass
class WatchRun:
    """One watch's search in a run: its date limits, what matched, what it proposes."""

    watch: WatchInfo
    search: dict[str, Any]
    count: int
    new: int = 0
    pending: int = 0
    known: int = 0
    """Found, but already in the library or dismissed."""

    def to_json(self) -> dict[str, Any]:
        """What `refdb watch run --json` prints for the watch."""
        return {
            "name": self.watch.name,
            "query": self.watch.query,
            "indication": self.watch.indication,
            "search": {"datetype": "edat", **self.search},
            "count": self.count,
            "new": self.new,
            "pending": self.pending,
            "known": self.known,
        }


@dataclass
class RunReport:
    """The outcome of `refdb watch run`: each watch's search and every proposal."""

    runs: list[WatchRun] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    ran_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The report as JSON: the watches that ran, then the proposals."""
        return {
            "ran_at": self.ran_at.isoformat(timespec="seconds") if self.ran_at else None,
            "watches": [run.to_json() for run in self.runs],
            "proposals": [p.to_json() for p in self.proposals],
        }


def parse_pmids(values: Sequence[str]) -> list[str]:
    """PMIDs as typed ('12345', 'PMID:12345'), in order without repeats; RefdbError naming the
    first that is not a PMID."""
    pmids = [typed_pmid(value) for value in values]
    if not pmids:
        raise RefdbError("give at least one PMID")
    return list(dict.fromkeys(pmids))


def add(library: Library, name: str, query: str, indication: str | None = None) -> WatchInfo:
    """Save a PubMed search (a registry change, not an undoable operation)."""
    return store.add_watch(library.db, name, query, indication)


def watches(library: Library) -> list[WatchInfo]:
    """Every watch with its pending proposals."""
    return store.list_watches(library.db)


def remove(library: Library, name: str) -> int:
    """Delete a watch and its pending proposals (dismissals are kept); returns how many
    proposals were dropped. Not an undoable operation."""
    return store.remove_watch(library.db, name)


def dismiss(library: Library, pmids: Sequence[str]) -> list[str]:
    """Never propose these PMIDs again (not an undoable operation); returns them."""
    wanted = parse_pmids(pmids)
    store.dismiss(library.db, wanted)
    return wanted


def run(
    library: Library,
    names: Sequence[str] = (),
    *,
    days: int = DEFAULT_DAYS,
    client: EutilsClient | None = None,
    progress: Progress | None = None,
    at: datetime | None = None,
) -> RunReport:
    """Run the named watches (all when none is named) and propose what is new.

    Each watch searches from the day of its last run to today (its first run: the last `days`
    days); records neither in the library nor dismissed are proposed, with those proposed
    earlier and still undecided. Then, in one transaction, the new proposals are kept and
    each watch's `last_run_at` is set to when the run started. A PubMed failure writes
    nothing (the watches run again from where they were).
    """
    if days < 1:
        raise RefdbError("--days must be at least 1")
    selected = store.get_watches(library.db, names)
    started = at or now()
    report = RunReport(ran_at=started)
    if not selected:
        return report
    found: list[tuple[WatchInfo, list[str]]] = []
    with open_client(client) as eutils:
        for watch in selected:
            window = search_window(watch.last_run_at, started, days)
            try:
                hits = eutils.esearch_dated(watch.query, **window)
            except LookupFailedError as exc:
                raise LookupFailedError(f"watch {watch.name!r}: {exc}; nothing recorded") from None
            report.runs.append(WatchRun(watch, window, hits.count))
            found.append((watch, hits.pmids))
        all_pmids = list(dict.fromkeys(p for _, pmids in found for p in pmids))
        decided = store.records(library.db, all_pmids)
        held_pmids, _ = store.in_library(library.db, pmids=all_pmids)
        unseen = [p for p in all_pmids if p not in decided and p not in held_pmids]
        fetched = _fetch(eutils, unseen, progress)

    earlier = store.pending(library.db, [w.id for w in selected])
    waiting = {r.pmid: r for r in [*decided.values(), *earlier] if r.status == store.PROPOSED}
    waiting_refs = {p: Reference.from_dict(r.record or {"title": ""}) for p, r in waiting.items()}
    dois = [r.doi for r in [*fetched.values(), *waiting_refs.values()] if r.doi]
    held_pmids |= store.in_library(library.db, pmids=waiting)[0]
    _, held_dois = store.in_library(library.db, dois=dois)

    def held(ref: Reference) -> bool:
        return ref.pmid in held_pmids or bool(ref.doi and doi_key(ref.doi) in held_dois)

    drop = [p for p, ref in waiting_refs.items() if held(ref)]
    shown: set[str] = set()
    new_rows: list[tuple[str, int, dict[str, Any]]] = []
    for (watch, pmids), summary in zip(found, report.runs, strict=True):
        for pmid in pmids:
            if pmid in shown:
                continue
            if pmid in fetched and not held(fetched[pmid]):
                ref = fetched[pmid]
                new_rows.append((pmid, watch.id, ref.to_dict()))
                report.proposals.append(Proposal(ref, watch.name, watch.indication, False, started))
                summary.new += 1
                shown.add(pmid)
            elif pmid in waiting and pmid not in drop:
                record = waiting[pmid]
                report.proposals.append(
                    Proposal(
                        waiting_refs[pmid], record.watch, record.indication, True, record.seen_at
                    )
                )
                summary.pending += 1
                shown.add(pmid)
            elif pmid in held_pmids or pmid in decided or pmid in fetched:
                summary.known += 1
        for record in earlier:
            if record.watch == watch.name and record.pmid not in shown and record.pmid not in drop:
                report.proposals.append(
                    Proposal(
                        waiting_refs[record.pmid],
                        record.watch,
                        record.indication,
                        True,
                        record.seen_at,
                    )
                )
                summary.pending += 1
                shown.add(record.pmid)
    store.save_run(
        library.db,
        proposals=new_rows,
        ran=[w.id for w in selected],
        at=started,
        drop=drop,
    )
    return report


def _fetch(
    eutils: EutilsClient, pmids: Sequence[str], progress: Progress | None
) -> dict[str, Reference]:
    """The PubMed records of these PMIDs (efetch, batches of 200), by PMID."""
    try:
        return {ref.pmid: ref for ref in fetch_pmids(eutils, pmids, progress) if ref.pmid}
    except LookupFailedError as exc:
        raise LookupFailedError(f"{exc}; nothing recorded") from None


def accept(
    library: Library,
    pmids: Sequence[str],
    *,
    indication: str | None = None,
    command: str,
    client: EutilsClient | None = None,
) -> SaveSummary:
    """Store the studies of these PMIDs in one undoable operation, filed under the indication
    of the watch that proposed each (or `indication` for all of them).

    A proposal's kept record is stored as it is (no network); a PMID never proposed is
    fetched from PubMed first. The accepted PMIDs' watch records are then forgotten.
    """
    wanted = parse_pmids(pmids)
    known = store.records(library.db, wanted)
    refs: dict[str, Reference] = {}
    for pmid in wanted:
        record = known.get(pmid)
        if record is not None and record.record:
            ref = Reference.from_dict(record.record)
            ref.indications = [record.indication] if record.indication and not indication else []
            refs[pmid] = ref
    missing = [p for p in wanted if p not in refs]
    if missing:
        with open_client(client) as eutils:
            fetched = {ref.pmid: ref for ref in fetch_pmids(eutils, missing)}
        absent = [p for p in missing if p not in fetched]
        if absent:
            raise LookupFailedError(f"PMID {absent[0]}: not found on PubMed; nothing stored")
        refs.update((p, fetched[p]) for p in missing)
    with library.change(command) as writer:
        results = writer.save(
            [refs[p] for p in wanted],
            source=PUBMED_SOURCE,
            indications=[indication] if indication else [],
        )
        store.forget(writer, wanted)
    return SaveSummary(results, writer.operation_id)
