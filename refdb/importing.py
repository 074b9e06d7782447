"""Files and the clinic's seeds into the library: read by `refdb.sources`, stored through the
one write path, reported entry by entry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refdb.errors import RefdbError
from refdb.sources.problems import EntryProblem
from refdb.store.library import Library
from refdb.store.writer import SaveSummary


def seed(library: Library, *, command: str = "refdb seed") -> SaveSummary:
    """Load the clinic's list from `seeds/`; a second run changes nothing."""
    from refdb.sources.seeds import SEED_SOURCE, load_seeds

    data = load_seeds()
    return library.save(data.studies, source=SEED_SOURCE, command=command, specs=data.indications)


@dataclass
class ImportReport:
    """What an import did: the store's summary and the problems of the file's entries."""

    path: str
    summary: SaveSummary
    problems: list[EntryProblem] = field(default_factory=list)

    def stored_key(self, problem: EntryProblem) -> str | None:
        """The key the entry of a problem is stored under (None when it was skipped)."""
        if problem.index is None or problem.index >= len(self.summary.results):
            return None
        return self.summary.results[problem.index].key

    def counts(self) -> dict[str, int]:
        """Entries added, updated, unchanged, skipped, and warned about (kept with a problem)."""
        counts = {a: self.summary.count(a) for a in ("added", "updated", "unchanged")}
        counts["skipped"] = sum(1 for p in self.problems if p.skipped)
        warned = {
            (p.index, p.key if p.index is None else "") for p in self.problems if not p.skipped
        }
        counts["warned"] = len(warned)
        return counts

    def to_json(self) -> dict[str, Any]:
        """The report as JSON: counts, then each skipped or warned entry (key, line, reason)."""

        def entry(problem: EntryProblem) -> dict[str, Any]:
            data: dict[str, Any] = {"key": problem.key, "line": problem.line}
            data["reason"] = problem.message.removeprefix("skipped: ")
            stored = self.stored_key(problem)
            if stored is not None:
                data["stored_as"] = stored
            return data

        return {
            "file": self.path,
            "dry_run": self.summary.dry_run,
            "counts": self.counts(),
            "skipped": [entry(p) for p in self.problems if p.skipped],
            "warnings": [entry(p) for p in self.problems if not p.skipped],
        }


def is_titles_file(path: Path) -> bool:
    """True for a `.txt` of identifiers and titles (looked up on PubMed), False for RIS or
    MEDLINE saved as `.txt`;
    RefdbError for a file that cannot be imported (Web of Science text, a missing file)."""
    if not path.is_file():
        raise RefdbError(f"{path}: no such file")
    from refdb.sources.files import kind_of_text_file

    return kind_of_text_file(path) == "titles"


def import_file(
    library: Library,
    path: Path,
    *,
    indications: Sequence[str] = (),
    dry_run: bool = False,
    strict: bool = False,
    encoding: str | None = None,
    command: str = "refdb import",
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import a `.bib`, `.ris`, CSL-JSON or MEDLINE (`.nbib`) file: each entry added, or
    merged into its match.

    An entry with a problem is kept with what can be kept, one that cannot be a reference is
    skipped; both are in the report. With `strict`, any such problem refuses the whole file
    (RefdbError naming the first; nothing written).
    """
    if path.is_dir():
        raise RefdbError(f"{path}: a folder, not a file")
    if not path.is_file():
        raise RefdbError(f"{path}: no such file")
    from refdb.sources.files import read_references, source_name  # loaded for an import only

    read = read_references(path, encoding)
    if strict:
        _refuse(path, read.sorted_problems())
    source = source_name(path)
    summary = SaveSummary(dry_run=dry_run)
    with library.change(command, dry_run=dry_run) as writer:
        for spec in read.indications:
            writer.ensure_indication(spec)
        summary.results = writer.save(
            read.references, source=source, indications=indications, progress=progress
        )
        for index, result in enumerate(summary.results):
            for message in result.notes:
                read.warn(read.lines[index], read.labels[index], message, index=index)
        if strict:  # what the store had to say refuses the file too, and rolls it back
            _refuse(path, read.sorted_problems())
    summary.operation_id = writer.operation_id
    return ImportReport(str(path), summary, read.sorted_problems())


def _refuse(path: Path, problems: Sequence[EntryProblem]) -> None:
    """--strict: RefdbError naming the first problem, when there is one."""
    if problems:
        first = problems[0]
        raise RefdbError(
            f"{path}:{first.line}: {first.key}: {first.message} "
            f"(--strict: {len(problems)} problem{'s' if len(problems) > 1 else ''}; "
            "nothing written)"
        )
