"""References to CSL-JSON text: an array valid against the official csl-data schema."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from typing import Any

from refdb.csl import to_csl
from refdb.records import Reference
from refdb.render.bibtex import export_keys


def csl_items(refs: Sequence[Reference], *, with_custom: bool = True) -> list[dict[str, Any]]:
    """The CSL-JSON items, each `id` the same citation key the BibTeX export uses."""
    items = []
    for ref, key in zip(refs, export_keys(refs), strict=True):
        item = to_csl(ref, with_custom=with_custom)
        item["id"] = key
        items.append(item)
    return items


def csl_item_text(ref: Reference, key: str) -> str:
    """One item (with refdb's fields) as it stands in `render_csl_json`'s array: indented."""
    item = to_csl(ref)
    item["id"] = key
    return textwrap.indent(json.dumps(item, ensure_ascii=False, indent=2), "  ")


def render_csl_json(refs: Sequence[Reference], *, with_custom: bool = True) -> str:
    """A CSL-JSON array (UTF-8, indented), in the order given; refdb's fields under `custom`."""
    return json.dumps(csl_items(refs, with_custom=with_custom), ensure_ascii=False, indent=2) + "\n"
