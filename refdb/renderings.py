"""Renderings kept between commands: each library's citation cache per style, in the user's
cache folder (`config.cache_dir`), so that a page, an export or a site formats again only the
studies that changed since the last one.

A cache is a file `citations/LIBRARY-STYLE-FINGERPRINT.json` (digests of the database URL, of
the style file's path, and the style's fingerprint, which changes with the style file and
refdb's rendering code; a file of an older fingerprint is removed when a new one is written). It is
read once per process, written back (atomically) when something was added, and can be removed
at any time: refdb renders again what it does not find. A cache that cannot be read or
written is no cache; nothing else depends on it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from refdb.config import cache_dir
from refdb.publish import write_atomically
from refdb.render.citation_cache import CitationCache
from refdb.render.citations import resolve_style, style_facts
from refdb.store.library import Library

_OPEN: dict[Path, CitationCache] = {}
"""The caches read by this process, by file."""


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def _file(library: Library, style: str, fingerprint: str) -> Path:
    which = f"{_digest(library.db.url)}-{_digest(str(resolve_style(style)))}"
    return cache_dir() / "citations" / f"{which}-{fingerprint}.json"


def citation_cache(library: Library, style: str) -> CitationCache:
    """The library's citation cache for a style (read once per process; RefdbError for a
    style that does not exist)."""
    fingerprint = style_facts(style).fingerprint
    path = _file(library, style, fingerprint)
    if path not in _OPEN:
        _OPEN[path] = CitationCache.from_json(read_json(path), fingerprint)
    return _OPEN[path]


def save(cache: CitationCache) -> None:
    """Write a cache back when something was added to it (quietly nothing when it cannot be)."""
    path = next((p for p, opened in _OPEN.items() if opened is cache), None)
    if not cache.added or path is None:
        return
    write_json(path, cache.to_json())
    try:
        for other in path.parent.glob(path.name.rsplit("-", 1)[0] + "-*.json"):
            if other != path:  # the same library and style under an older refdb or style file
                other.unlink(missing_ok=True)
    except OSError:
        return
    cache.added = 0


def kept_state(library: Library, path: Path) -> Path:
    """Where what the next rewrite of a kept file needs is kept (`pages.py`)."""
    which = _digest(f"{library.db.url}\0{path}")
    return cache_dir() / "kept" / f"{which}.json"


def read_json(path: Path) -> object:
    """A JSON file refdb wrote, or None when it cannot be read."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def write_json(path: Path, data: object) -> None:
    """Write a JSON file atomically (quietly nothing when it cannot be: it is a cache)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    except OSError:
        return
