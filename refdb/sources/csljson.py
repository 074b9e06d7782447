"""CSL-JSON files (an array of items, or one item) to References."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from refdb.errors import RefdbError
from refdb.records import Reference, from_csl
from refdb.sources.textfile import MAX_FILE_BYTES, read_text, stamp_provenance

__all__ = ["MAX_FILE_BYTES", "parse_csl_json", "read_csl_json"]


def parse_csl_json(text: str, *, source: str = "<string>") -> list[Reference]:
    """Parse CSL-JSON text; a malformed file or item raises RefdbError naming it."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RefdbError(f"{source}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    items = data if isinstance(data, list) else [data]
    refs: list[Reference] = []
    for number, item in enumerate(items, start=1):
        label = f"item {number}"
        if isinstance(item, dict) and item.get("id"):
            label += f" ({item['id']})"
        if not isinstance(item, dict):
            raise RefdbError(f"{source}: {label}: not a CSL-JSON object")
        try:
            refs.append(from_csl(item))
        except (ValueError, TypeError) as exc:
            raise RefdbError(f"{source}: {label}: {exc}") from None
    return refs


def read_csl_json(path: Path) -> list[Reference]:
    """Read a CSL-JSON file; each field it sets is credited to `csl-json:<file name>`."""
    refs = parse_csl_json(read_text(path), source=str(path))
    return stamp_provenance(refs, f"csl-json:{path.name}")
