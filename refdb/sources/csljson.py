"""CSL-JSON files (an array of items, or one item) to References.

Crossref's own JSON is taken too: a work (`{"message": {...}}`) or a list of them
(`{"message": {"items": [...]}}`), with its list-valued titles and its own work types.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from refdb.csl import from_csl
from refdb.errors import RefdbError
from refdb.sources.problems import ReadResult
from refdb.sources.textfile import MAX_FILE_BYTES, read_text, stamp_provenance

__all__ = ["MAX_FILE_BYTES", "parse_csl_json", "read_csl_json"]


def _items(data: Any) -> list[Any]:
    if isinstance(data, dict) and isinstance(data.get("message"), dict):
        message = data["message"]
        return list(message["items"]) if isinstance(message.get("items"), list) else [message]
    return data if isinstance(data, list) else [data]


def _item_lines(text: str, count: int) -> list[int]:
    """The line each top-level item of a JSON array starts on (1 for anything else)."""
    lines: list[int] = []
    depth, line, in_string, escaped = 0, 1, False, False
    for char in text:
        if char == "\n":
            line += 1
        if in_string:
            escaped = not escaped and char == "\\"
            if char == '"' and not escaped:
                in_string = False
            continue
        if char == '"':
            in_string, escaped = True, False
        elif char in "[{":
            depth += 1
            if depth == 2 and char == "{":
                lines.append(line)
        elif char in "]}":
            depth -= 1
    return lines if len(lines) == count else [1] * count


def _json_error(exc: json.JSONDecodeError, text: str) -> str:
    """Where JSON stops parsing (line and column), what is wrong there, and what to do. A
    file that ends inside a string, a list or an object was cut short (a download that
    stopped, a disk that filled up): the fix is a new copy, not an edit."""
    where = f"line {exc.lineno}, column {exc.colno}: not valid JSON"
    if exc.msg.startswith("Unterminated string"):
        return (
            f"{where}: a string starts here and the file ends before it closes "
            "(the file looks cut short: export or download it again)"
        )
    if exc.pos >= len(text.rstrip()):
        return (
            f"{where}: the file ends here, inside a list or an object "
            "(the file looks cut short: export or download it again)"
        )
    problem = exc.msg.removesuffix(" at")  # Python's messages end "... at" before the position
    return f"{where}: {problem} (correct the file there, or export it again)"


def parse_csl_json(text: str, *, source: str = "<string>") -> ReadResult:
    """Parse CSL-JSON text; malformed JSON raises RefdbError naming its line, a bad item is
    skipped and a bad value in an item dropped, each with a problem naming the item."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RefdbError(f"{source}: {_json_error(exc, text)}") from None
    items = _items(data)
    if data == []:
        return ReadResult()  # an empty library's export: no studies, nothing wrong
    if not items or not any(isinstance(i, dict) for i in items):
        raise RefdbError(f"{source}: line 1: not CSL-JSON (no items)")
    lines = _item_lines(text, len(items)) if isinstance(data, list) else [1] * len(items)
    result = ReadResult()
    for number, (item, line) in enumerate(zip(items, lines, strict=True), start=1):
        label = f"item {number}"
        if isinstance(item, dict) and item.get("id") not in (None, ""):
            label = str(item["id"])
        if not isinstance(item, dict):
            result.skip(line, label, "not a CSL-JSON object")
            continue
        warnings: list[str] = []
        try:
            ref = from_csl(item, warnings.append)
        except (ValueError, TypeError) as exc:
            result.skip(line, label, str(exc))
            continue
        result.keep(ref, line, label, warnings)
    return result


def read_csl_json(path: Path, encoding: str | None = None) -> ReadResult:
    """Read a CSL-JSON file; each field it sets is credited to `csl-json:<file name>`."""
    result = parse_csl_json(read_text(path, encoding), source=str(path))
    stamp_provenance(result.references, f"csl-json:{path.name}")
    return result
