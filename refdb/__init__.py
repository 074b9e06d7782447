"""refdb: a curated literature reference manager for the clinical evidence behind ketamine therapy.

Import it as a library (`refdb.open_library`, `refdb.Reference`, the functions in `refdb.api`)
or use the `refdb` command line, which is a thin layer over the same functions.
"""

from refdb.api import export, import_file, open_library, page, seed
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
]
__version__ = "0.1.0"
