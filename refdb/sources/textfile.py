"""What every file reader shares: the size limit, UTF-8 decoding, provenance stamps."""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime
from pathlib import Path

from refdb.errors import RefdbError
from refdb.fields import stamp
from refdb.records import FieldSource, Reference

MAX_FILE_BYTES = 512 * 1024 * 1024
"""Files larger than this are refused rather than read into memory (a 100,000-entry .bib
with abstracts is about 150 MB)."""


_JABREF_ENCODING = re.compile(rb"^%\s*Encoding:\s*([A-Za-z0-9_.:-]+)\s*$", re.MULTILINE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def file_encoding(data: bytes, override: str | None = None) -> str:
    """The encoding to read a file's bytes with: `override` (`--encoding`), else a byte-order
    mark (UTF-8 or UTF-16), else JabRef's `% Encoding: windows-1252` header, else UTF-8."""
    if override:
        return override
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    header = _JABREF_ENCODING.search(data[:1024])
    if header:
        return header.group(1).decode("ascii")
    return "utf-8"


def read_text(path: Path, encoding: str | None = None) -> str:
    """The file's text (see `file_encoding`); a file too large, missing, or not in its
    encoding raises RefdbError naming it and the line of the first bad byte."""
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
    name = file_encoding(data, encoding)
    try:
        codec = codecs.lookup(name)
    except LookupError:
        raise RefdbError(f"{path}: unknown encoding {name!r}") from None
    try:
        text = data.decode(codec.name)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        if codec.name.startswith("utf-16"):
            line = data[: exc.start].decode(codec.name, "replace").count("\n") + 1
        label = "UTF-8" if codec.name.startswith("utf-8") else name
        raise RefdbError(
            f"{path}: line {line}: not {label} text (byte {exc.start}; try --encoding)"
        ) from None
    return text.removeprefix("\ufeff")


def stamp_provenance(refs: list[Reference], source: str) -> list[Reference]:
    """Record `source` (e.g. 'bibtex:refs.bib') as the origin of every field the file set."""
    credit = FieldSource(source, datetime.now(UTC).replace(microsecond=0).isoformat())
    for ref in refs:
        stamp(ref, credit)
    return refs
