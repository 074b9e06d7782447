"""What every file reader shares: the size limit, UTF-8 decoding, provenance stamps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from refdb.errors import RefdbError
from refdb.records import BIBLIOGRAPHIC_FIELDS, FieldSource, Reference

MAX_FILE_BYTES = 50 * 1024 * 1024
"""Files larger than this are refused rather than read into memory."""

_STAMPED = (*BIBLIOGRAPHIC_FIELDS, "authors", "keywords")


def read_text(path: Path) -> str:
    """The file's text; a file too large, missing or not UTF-8 raises RefdbError naming it."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise RefdbError(f"{path}: cannot read ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise RefdbError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB, refused")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RefdbError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RefdbError(f"{path}: line {line}: not UTF-8 text (byte {exc.start})") from None
    return text


def stamp_provenance(refs: list[Reference], source: str) -> list[Reference]:
    """Record `source` (e.g. 'bibtex:refs.bib') as the origin of every field the file set."""
    at = datetime.now(UTC).replace(microsecond=0).isoformat()
    for ref in refs:
        for name in _STAMPED:
            if getattr(ref, name) not in (None, "", []):
                ref.provenance[name] = FieldSource(source=source, at=at)
    return refs
