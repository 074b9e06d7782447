"""What a file reader hands on besides References: the entries it warned about or skipped.

The unit of failure is an entry, not a file. A reader raises RefdbError only for a file it
cannot read as its format; an entry with a problem is kept with what can be kept and gets an
`EntryProblem`, and an entry that cannot be a reference at all is skipped with one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from refdb.records import IndicationSpec, Reference


@dataclass
class EntryProblem:
    """One problem with one entry: where it is, which entry, and what refdb did about it."""

    line: int
    key: str
    message: str
    skipped: bool = False
    index: int | None = None
    """The position of the entry's Reference in `ReadResult.references` (None when skipped)."""


@dataclass
class ReadResult:
    """A file read: its References, its problems, and the indications it declares."""

    references: list[Reference] = field(default_factory=list)
    problems: list[EntryProblem] = field(default_factory=list)
    indications: list[IndicationSpec] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    """The line each Reference's entry starts on."""
    labels: list[str] = field(default_factory=list)
    """How the report names each Reference's entry (its key, else 'record N')."""

    def keep(self, ref: Reference, line: int, key: str, warnings: list[str]) -> None:
        """Add an entry's Reference, with a problem for each of its warnings."""
        index = len(self.references)
        self.references.append(ref)
        self.lines.append(line)
        self.labels.append(_one_line(key))
        for message in warnings:
            self.problems.append(
                EntryProblem(line, _one_line(key), _one_line(message), index=index)
            )

    def warn(self, line: int, key: str, message: str, index: int | None = None) -> None:
        """Record a problem of the entry of Reference `index`, or of no one entry (an
        @string definition)."""
        self.problems.append(EntryProblem(line, _one_line(key), _one_line(message), index=index))

    def skip(self, line: int, key: str, reason: str) -> None:
        """Record an entry that cannot be a reference."""
        self.problems.append(
            EntryProblem(line, _one_line(key), f"skipped: {_one_line(reason)}", skipped=True)
        )

    def sorted_problems(self) -> list[EntryProblem]:
        """The problems in the order of the file."""
        return sorted(self.problems, key=lambda p: p.line)


def _one_line(text: str) -> str:
    """A report line stays one line, whatever the file put in a key or a value."""
    return " ".join(text.split())


def quoted(value: object) -> str:
    """A value as a warning quotes it: on one line, cut at 40 characters."""
    text = " ".join(str(value).split())
    return repr(text if len(text) <= 40 else text[:37] + "...")
