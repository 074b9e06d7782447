"""Run in a fresh interpreter by tests/test_citeproc_fixes.py: what refdb does to citeproc-py.

Imports every citeproc module and notes every module attribute and every class member, then
renders the given CSL items with citeproc-py alone; then imports refdb, renders the same items
through refdb, and renders them with citeproc-py alone again. Prints JSON: the attributes that
changed after each step (by identity), and the entries each rendering printed.

Usage: python tests/citeproc_probe.py ITEMS.json STYLE_NAME=STYLE.csl...
"""

from __future__ import annotations

import contextlib
import importlib
import json
import pkgutil
import sys
import warnings
from pathlib import Path
from typing import Any

import citeproc
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON

for _module in pkgutil.walk_packages(citeproc.__path__, "citeproc."):
    # A reader whose optional dependency is missing is left out.
    with contextlib.suppress(ImportError):
        importlib.import_module(_module.name)


def snapshot() -> dict[str, Any]:
    """Every attribute of every citeproc module, and every member of the classes they define."""
    found: dict[str, Any] = {}
    for name, module in list(sys.modules.items()):
        if name != "citeproc" and not name.startswith("citeproc."):
            continue
        for attr, value in list(vars(module).items()):
            found[f"{name}.{attr}"] = value
            if isinstance(value, type) and value.__module__ == name:
                for member, inner in vars(value).items():
                    found[f"{name}.{attr}.{member}"] = inner
    return found


def citeproc_alone(items: list[dict[str, Any]], styles: dict[str, str]) -> dict[str, list[str]]:
    """The items in each style, printed by citeproc-py as it is (plain text)."""
    printed = {}
    for name, path in styles.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            style = CitationStylesStyle(path, validate=False)
            source = CiteProcJSON([dict(item) for item in items])
            bibliography = CitationStylesBibliography(style, source, formatter.plain)
            for item in items:
                bibliography.register(Citation([CitationItem(item["id"])]))
            bibliography.sort()
            printed[name] = [str(entry) for entry in bibliography.bibliography()]
    return printed


def main() -> None:
    """Print the probe's findings as JSON."""
    items = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    styles = dict(arg.split("=", 1) for arg in sys.argv[2:])
    fresh = snapshot()

    def changed() -> list[str]:
        now = snapshot()
        return sorted(key for key, value in fresh.items() if now.get(key, fresh) is not value)

    result: dict[str, Any] = {"before": citeproc_alone(items, styles)}
    import refdb  # everything a program importing refdb would load
    import refdb.api
    import refdb.render.citations
    import refdb.render.page
    import refdb.render.site
    from refdb.csl import from_csl

    result["changed by importing refdb"] = changed()
    refs = [from_csl(dict(item)) for item in items]
    result["refdb"] = {
        name: refdb.render.citations.format_bibliography(refs, name).splitlines() for name in styles
    }
    result["changed by rendering through refdb"] = changed()
    result["after"] = citeproc_alone(items, styles)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
