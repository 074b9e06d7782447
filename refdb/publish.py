"""Publishing atomically, so that a web server or a site build never reads half of anything:
a file is written beside its place and renamed over it; a folder of files is written beside
its place, then swapped in.

A folder already at the place is replaced only when it is one refdb wrote (it holds the
marker file) or is empty; any other folder, or a file, is refused and left as it is.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from refdb.errors import RefdbError


def write_atomically(path: Path, text: str) -> None:
    """Write a text file so that a reader sees the old file or the new one, never half of one:
    a temporary file in the same folder, flushed to disk, then renamed over the old one."""
    if not text.endswith("\n"):
        text += "\n"
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


def _mode_for(path: Path) -> int:
    """The old file's permissions, or what a new file gets under the umask (mkstemp's 0600
    would hide a page from the web server)."""
    with suppress(OSError):
        return stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _check_replaceable(outdir: Path, marker: str) -> None:
    """RefdbError unless `outdir` is absent, empty, or a folder refdb wrote. Another build
    may swap it away while we look: a folder that vanished is absent."""
    if not os.path.lexists(outdir):
        return
    if not outdir.is_dir():
        if not os.path.lexists(outdir):
            return
        raise RefdbError(f"{outdir}: exists and is not a folder; not replacing it")
    try:
        foreign = not (outdir / marker).is_file() and any(outdir.iterdir())
    except FileNotFoundError:
        return
    if foreign:
        raise RefdbError(
            f"{outdir}: a folder that is not a refdb site (no {marker}) and not empty; "
            "not replacing it (choose another folder or empty it)"
        )


@contextmanager
def _swap_lock(parent: Path) -> Iterator[None]:
    """Two builds of one site at once (two staff on a shared library) swap in turn."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    fd = os.open(parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def publish_folder(outdir: Path, files: Mapping[str, str], *, marker: str) -> None:
    """Write `files` (relative path -> text, the marker among them) as the folder `outdir`.

    The new folder is built as a hidden sibling, then `outdir` (if any) is renamed away, the
    new folder renamed in, and the old one removed. On any failure before the swap, the
    half-built sibling is removed and `outdir` is untouched.
    """
    if marker not in files:
        raise ValueError(f"the files must hold the marker {marker!r}")
    outdir = Path(os.path.abspath(outdir))
    if outdir.is_symlink():  # the site goes where the link points; the link stays
        outdir = outdir.resolve()
    _check_replaceable(outdir, marker)
    parent = outdir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RefdbError(f"{parent}: cannot create the folder ({exc.strerror})") from None
    token = secrets.token_hex(4)
    building = parent / f".{outdir.name}.refdb-new-{token}"
    try:
        building.mkdir()  # the umask's permissions, as any folder the user makes
        root = building.resolve()
        for relative, text in files.items():
            target = building / relative
            if root not in target.resolve().parents:
                raise ValueError(f"{relative!r} is outside the site")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
        with _swap_lock(parent):
            _check_replaceable(outdir, marker)  # again: it may have changed while we wrote
            old = parent / f".{outdir.name}.refdb-old-{token}"
            had_old = os.path.lexists(outdir)
            if had_old:
                os.rename(outdir, old)
            try:
                os.rename(building, outdir)
            except OSError:
                if had_old:
                    os.rename(old, outdir)
                raise
    except OSError as exc:
        shutil.rmtree(building, ignore_errors=True)
        raise RefdbError(f"{outdir}: cannot write the site ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    if had_old:
        shutil.rmtree(old, ignore_errors=True)
