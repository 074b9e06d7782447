"""Kept outputs: exports, pages and sites that `--keep` registers and every later change to
the library rewrites, atomically (a temporary file in the same folder, then a rename; a site's
folder swapped whole), so that a site build never reads half a file.

A rewrite costs what changed: the store calls back after a transaction that changed the
library committed (`Database.after_change`) with the ids of the studies it changed
(`Committed`); a kept site renders again only their pages and entries (`sites.py`), a kept
page or formatted export only their entries (`pages.py`); BibTeX, RIS and CSL-JSON exports are
written whole.

This joins the store (the registry, the studies) and the renderers, so it lives at the library
level beside `api.py`. A file that cannot be written is reported in one line and tried again
after the next change; the change itself stands.
"""

from __future__ import annotations

import os
import warnings
from datetime import UTC, datetime
from pathlib import Path

from refdb import views
from refdb.errors import RefdbError
from refdb.formats import BIBLIOGRAPHY_FORMATS, DEFAULT_STYLE, OUTPUT_KINDS, OutputOptions
from refdb.publish import write_atomically
from refdb.store.database import Committed
from refdb.store.kept_outputs import KeptOutputInfo, forget, kept_outputs, record_write, register
from refdb.store.library import Library


def _info(options: OutputOptions, path: str) -> KeptOutputInfo:
    """The registry's row for an output at `path`."""
    extra = {"levels": options.levels, "ascii": options.ascii}
    return KeptOutputInfo(
        path, options.kind, options.fmt, options.style, list(options.indications), extra
    )


def _options(info: KeptOutputInfo) -> OutputOptions:
    """The options a registry row was kept with."""
    return OutputOptions(
        kind=info.kind,
        fmt=info.format,
        style=info.style or DEFAULT_STYLE,
        indications=tuple(info.indications),
        levels=bool(info.options.get("levels", True)),
        ascii=bool(info.options.get("ascii", False)),
    )


def render_output(library: Library, options: OutputOptions) -> str:
    """The text of a page or an export with these options."""
    indication = options.indications[0] if options.indications else None
    if options.kind == "page":
        return views.page(
            library,
            style=options.style,
            fmt=options.fmt,
            indication=indication,
            levels=options.levels,
        )
    if options.kind == "export":
        return views.export(
            library, options.fmt, style=options.style, indication=indication, ascii=options.ascii
        )
    raise RefdbError(f"a {options.kind} is not a single file")


def absolute(path: str | Path) -> Path:
    """The path as the registry keeps it: absolute, `~` expanded, symbolic links kept."""
    return Path(os.path.abspath(Path(path).expanduser()))


def write_kept(
    library: Library, path: Path, options: OutputOptions, committed: Committed | None = None
) -> None:
    """Write one output now (RefdbError, one line, when it cannot be); after `committed`, a
    site, a page or a formatted export renders again only what it changed."""
    try:
        if options.kind == "site":  # a folder, built beside its place and swapped in
            from refdb.sites import write_site

            write_site(
                library,
                path,
                style=options.style,
                indications=options.indications,
                committed=committed,
            )
        elif options.kind == "page" or options.fmt in BIBLIOGRAPHY_FORMATS:
            from refdb.pages import write_page  # formatted: only what changed, formatted again

            write_page(library, path, options, committed)
        else:
            write_atomically(path, render_output(library, options))
    except OSError as exc:
        raise RefdbError(f"{path}: cannot write ({exc.strerror or exc})") from None


def keep_output(library: Library, path: str | Path, options: OutputOptions) -> Path:
    """Write an output and keep it current: it is rewritten after every later change."""
    if options.kind not in OUTPUT_KINDS:
        raise RefdbError(f"unknown kind of output {options.kind!r}")
    where = absolute(path)
    write_kept(library, where, options)
    info = _info(options, str(where))
    info.last_written_at = datetime.now(UTC)
    register(library.db, info)
    return where


def refresh_kept_outputs(library: Library, committed: Committed | None = None) -> list[str]:
    """Rewrite every kept output (after `committed`, as far as it reaches: a site's pages of
    the studies it changed, a page's or an export's entries of those studies; the rest is
    kept); returns (and warns, one line each) the ones that failed, which are tried again
    after the next change."""
    failures = []
    for info in kept_outputs(library.db):
        try:
            write_kept(library, Path(info.path), _options(info), committed)
        except RefdbError as exc:  # it cannot be written now; the committed change stands
            reason = str(exc).removeprefix(f"{info.path}: ")
            record_write(library.db, info.path, reason)
            message = (
                f"kept output {info.path}: {reason}; the change stands, and refdb tries "
                "again after the next change"
            )
            warnings.warn(message, stacklevel=1)
            failures.append(message)
        else:
            record_write(library.db, info.path, None)
    return failures


def kept(library: Library) -> list[KeptOutputInfo]:
    """The outputs kept current, in the order they were registered."""
    return kept_outputs(library.db)


def stop_keeping(library: Library, path: str | Path) -> Path:
    """Stop keeping an output current (the file stays); RefdbError when it is not kept."""
    where = absolute(path)
    if not forget(library.db, str(where)):
        raise RefdbError(f"{path}: not a kept output (see `refdb outputs`)")
    return where
