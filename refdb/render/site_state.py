"""What a site keeps between builds (`STATE` in its folder): each study's facts and where
each of its fragments stands in which file, read back by the next build (`site_build`)."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from refdb.dates import utc
from refdb.evidence import level_of
from refdb.records import Reference
from refdb.render.bibtex import export_key_base
from refdb.render.citations import suffix_identity
from refdb.render.feed import FEED, StudyDates
from refdb.render.site import study_filename

STATE = ".refdb-state.json"
"""The file, in the site's folder, that holds what the next build needs of this one."""
STATE_FORMAT = 1
INDEX = "index.html"
FILES = {"i": INDEX, "r": INDEX, "f": FEED, "b": "refs.bib", "s": "refs.ris", "j": "refs.json"}
"""Which file holds each kind of fragment."""

Reader = Callable[[Sequence[int]], Mapping[int, tuple[Reference, StudyDates | None]]]
"""Reads studies by id: each one's Reference and when it was added and last changed."""


@dataclass(frozen=True)
class GroupIds:
    """One section of the index: an indication ("" for "Other studies") and its studies' ids
    in page order (the library's; a style with its own order sorts them)."""

    name: str
    heading: str
    ids: Sequence[int]


@dataclass(frozen=True)
class Facts:
    """What the site keeps of a study between builds."""

    key: str
    level: str
    export: str
    """Its download key before clashes with other studies' (`bibtex.export_key_base`)."""
    sort: list[Any] | None
    suffix: list[Any] | None
    added: str | None
    changed: str | None

    @property
    def page(self) -> str:
        """The study page's path in the site."""
        return "studies/" + study_filename(self.key)

    def dates(self) -> StudyDates | None:
        """When it was added and last changed, or None when the log does not say."""
        if self.added is None or self.changed is None:
            return None
        return StudyDates(datetime.fromisoformat(self.added), datetime.fromisoformat(self.changed))

    def to_json(self) -> list[Any]:
        """The facts as the state keeps them."""
        return [self.key, self.level, self.export, self.sort, self.suffix, self.added, self.changed]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> Facts:
        """Facts the state kept."""
        key, level, export, sort, suffix, added, changed = data
        return cls(key, level, export, sort, suffix, added, changed)

    @classmethod
    def of(cls, ref: Reference, sort: list[Any] | None, dates: StudyDates | None) -> Facts:
        """A study's facts from its Reference."""
        return cls(
            key=ref.key or "",
            level=level_of(ref),
            export=export_key_base(ref),
            sort=sort,
            suffix=suffix_identity(ref),
            added=utc(dates.added).isoformat() if dates else None,
            changed=utc(dates.changed).isoformat() if dates else None,
        )


@dataclass
class Previous:
    """The build in the site's folder now: its state, and its files to take fragments from
    (read once it is known they are as that build wrote them: of the sizes it wrote)."""

    folder: Path
    state: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)

    def bytes_of(self, name: str) -> bytes:
        """One of its files."""
        return self.files[name]

    def has_page(self, path: str) -> bool:
        """Whether a study's page is there to be taken."""
        return os.path.isfile(os.path.join(self.folder, path))


@dataclass
class SiteBuild:
    """A build: the files to write, the pages to take from the previous build as they are."""

    files: dict[str, bytes]
    linked: list[str]
    studies: int
    rendered: int
    """Studies rendered (read and formatted) in this build."""


def read_state(folder: Path) -> Previous | None:
    """The build in `folder`, or None when there is none refdb can build on."""
    try:
        state = json.loads((folder / STATE).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        return None
    previous = Previous(folder, state)
    sizes = state.get("sizes", {})
    try:
        for name in dict.fromkeys(FILES.values()):
            previous.files[name] = (folder / name).read_bytes()
            if len(previous.files[name]) != sizes.get(name):
                return None  # changed since (by hand?): not built on
    except OSError:
        return None
    return previous


@functools.cache
def code_digest() -> str:
    """refdb's own code, hashed: a build made by other code is not built on."""
    digest = hashlib.blake2b(digest_size=10)
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
