"""CSL-JSON files (an array of items, or one item) to References."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from refdb.errors import RefdbError
from refdb.records import Reference, from_csl

MAX_FILE_BYTES = 50 * 1024 * 1024


def parse_csl_json(text: str, *, source: str = "<string>") -> list[Reference]:
    """Parse CSL-JSON text; a malformed file or item raises RefdbError naming it."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RefdbError(f"{source}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    items = data if isinstance(data, list) else [data]
    refs: list[Reference] = []
    for number, item in enumerate(items, start=1):
        label = f"item {number}" + (f" ({item.get('id')})" if isinstance(item, dict) and item.get("id") else "")
        if not isinstance(item, dict):
            raise RefdbError(f"{source}: {label}: not a CSL-JSON object")
        try:
            refs.append(from_csl(item))
        except (ValueError, TypeError) as exc:
            raise RefdbError(f"{source}: {label}: {exc}") from None
    return refs


def read_csl_json(path: Path) -> list[Reference]:
    """Read a CSL-JSON file into References."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise RefdbError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB, refused")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RefdbError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse_csl_json(text, source=str(path))
