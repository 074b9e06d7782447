"""`refdb changes` as a reader of the page would say it (text for a "what's new" note), and
as JSON."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from refdb.dates import utc
from refdb.evidence import LABELS
from refdb.render.feed import day_text
from refdb.render.site_meta import plain

if TYPE_CHECKING:
    from refdb.store.changes import ChangeReport, StudyChange

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
"""Control characters: a title holding ESC must not drive the reader's terminal."""

_SECTIONS = (
    ("added", "Added"),
    ("removed", "Removed"),
    ("retracted", "Retracted"),
    ("corrected", "Corrected"),
    ("expression-of-concern", "Expression of concern"),
    ("cleared", "No longer flagged"),
    ("level", "Evidence level changed"),
)


def _section(change: StudyChange) -> str:
    if change.kind != "status":
        return change.kind
    return change.status or "cleared"


def _label(level: str | None) -> str:
    return LABELS.get(level or "unclassified", level or "")


def _since_text(report: ChangeReport) -> str:
    if report.basis == "operation":
        return f"after operation {report.since_operation}"
    if report.basis == "kept" and report.since is not None:
        return (
            f"since the kept page or site ({report.basis_path}) was last published, "
            f"{utc(report.since):%Y-%m-%d %H:%M} UTC"
        )
    if report.since is not None:
        moment = report.since
        if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
            return f"since {day_text(moment.replace(tzinfo=None))}"
        return f"since {moment.isoformat(timespec='minutes')}"
    return "since the library began"


def _study_line(change: StudyChange) -> str:
    who = " ".join(p for p in (plain(change.first_author), str(change.year or "")) if p)
    title = plain(change.title).rstrip(".")
    line = f"{who}. {title}." if who else f"{title}."
    if change.journal:
        line += f" {plain(change.journal)}."
    return line


def _details(change: StudyChange) -> str:
    headings = "; ".join(heading for _, heading in change.indications)
    if change.kind in ("added", "removed"):
        parts = [headings or "Filed under no indication", _label(change.level)]
        if change.status:
            parts.append(change.status.replace("-", " "))
        return ("Was: " if change.kind == "removed" else "") + "; ".join(parts)
    if change.kind == "level":
        return f"Now {_label(change.level)} (was {_label(change.previous_level)})"
    if change.status is None:
        return f"No longer marked {(change.previous_status or '').replace('-', ' ')}"
    return (change.status_note or "").strip()


def render_changes(report: ChangeReport) -> str:
    """The report as text: a heading line, then a section per kind of change."""
    since = _since_text(report)
    if not report.changes:
        further = " (`--since DATE` or `--since OPERATION` looks further back)"
        return f"Nothing changed {since}{further if report.basis == 'kept' else ''}."
    span = report.operations
    ops = f"operation {span[0]}" if len(span) == 1 else f"operations {span[0]}-{span[-1]}"
    lines = [f"What changed {since} ({ops}):"]
    for kind, heading in _SECTIONS:
        found = [c for c in report.changes if _section(c) == kind]
        if not found:
            continue
        lines += ["", f"{heading} ({len(found)}):"]
        for change in found:
            details = _details(change)
            lines.append(f"- {_study_line(change)}" + (f" {details}." if details else ""))
    return "\n".join(_CONTROL.sub("", line) for line in lines)


def _change_json(change: StudyChange) -> dict[str, Any]:
    return {
        "kind": _section(change) if change.kind == "status" else change.kind,
        "key": change.key,
        "title": change.title,
        "first_author": change.first_author,
        "year": change.year,
        "journal": change.journal,
        "pmid": change.pmid,
        "doi": change.doi,
        "indications": [{"name": n, "heading": h} for n, h in change.indications],
        "evidence_level": change.level,
        "evidence_label": _label(change.level),
        "previous_level": change.previous_level,
        "status": change.status,
        "previous_status": change.previous_status,
        "status_note": change.status_note,
        "operation": change.operation,
        "at": utc(change.at).isoformat() if change.at else None,
    }


def changes_json(report: ChangeReport) -> dict[str, Any]:
    """The report as JSON: what it covers, then one object per change."""
    return {
        "since": report.since.isoformat() if report.since else None,
        "since_operation": report.since_operation,
        "basis": report.basis,
        "kept_output": report.basis_path,
        "operations": _first_last(report.operations),
        "changes": [_change_json(c) for c in report.changes],
    }


def _first_last(ids: Sequence[int]) -> list[int]:
    return [ids[0], ids[-1]] if ids else []
