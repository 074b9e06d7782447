"""Files made of pieces: text that is the same for every study, and fragments, each one
study's part of a file (its entry in the index, the feed or a download).

A fragment is named by what it is (`kind`, `name`) and by a digest of everything its text
depends on besides the study itself (`context`): a later build takes the same fragment from
the file it wrote before, byte for byte, when the study has not changed since and the context
is the same (`render.site_build`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(eq=False)
class Fragment:
    """One study's part of a file: taken from where the previous build wrote it (`kept`:
    start and end in that file), or made again (`make`)."""

    kind: str
    name: str
    study: int
    context: str
    kept: tuple[int, int] | None = None
    make: Callable[[], str] | None = None


Piece = str | Fragment


def context_of(*values: Any) -> str:
    """A digest of the values a fragment's text depends on: JSON values (str, int, bool,
    None, lists of them), whose repr is the same in every process."""
    return hashlib.blake2b(repr(values).encode("utf-8"), digest_size=8).hexdigest()


def joined(parts: Iterable[Sequence[Piece] | Piece], separator: str = "\n") -> list[Piece]:
    """The parts (pieces, or lists of them) one after another, `separator` between two."""
    out: list[Piece] = []
    for n, part in enumerate(parts):
        if n:
            out.append(separator)
        if isinstance(part, (str, Fragment)):
            out.append(part)
        else:
            out.extend(part)
    return out
