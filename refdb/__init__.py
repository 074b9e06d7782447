"""refdb: a curated literature reference manager for the clinical evidence behind ketamine therapy.

Import it as a library (`refdb.open_library`, `refdb.Reference`, the functions in `refdb.api`)
or use the `refdb` command line, which is a thin layer over the same functions.

The public names are loaded on first use (PEP 562), so `import refdb` (and with it every
`refdb` command's start-up, `--help` included) does not load SQLAlchemy and the parsers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from refdb.api import export, import_file, open_library, page, seed, site
    from refdb.errors import RefdbError
    from refdb.records import Author, Reference
    from refdb.store.library import Library

__all__ = [
    "Author",
    "Library",
    "RefdbError",
    "Reference",
    "export",
    "import_file",
    "open_library",
    "page",
    "seed",
    "site",
]
__version__ = "0.1.0"

# Public name -> the module that defines it.
_LAZY = {
    "Author": "refdb.records",
    "Library": "refdb.store.library",
    "RefdbError": "refdb.errors",
    "Reference": "refdb.records",
    "export": "refdb.api",
    "import_file": "refdb.api",
    "open_library": "refdb.api",
    "page": "refdb.api",
    "seed": "refdb.api",
    "site": "refdb.api",
}


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first access (then it is a plain attribute)."""
    module = _LAZY.get(name)
    if module is None:
        # Also how `from refdb import api` falls back to importing the submodule.
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
