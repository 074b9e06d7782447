"""Publishing atomically, so that a web server or a site build never reads half of anything:
a file is written beside its place and renamed over it; a folder of files is written beside
its place, then swapped in.

A folder already at the place is replaced only when it is one refdb wrote (it holds the
marker file) or is empty; any other folder, or a file, is refused and left as it is.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
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


@contextmanager
def site_folder(outdir: Path, marker: str) -> Iterator[Path]:
    """The site's folder (a symbolic link followed), held against other builds of it: read the
    site there and `replace_folder` it inside the block, and no other build swaps in between.
    RefdbError when the place holds something that is not a refdb site."""
    outdir = Path(os.path.abspath(outdir))
    if outdir.is_symlink():  # the site goes where the link points; the link stays
        outdir = outdir.resolve()
    _check_replaceable(outdir, marker)
    parent = outdir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RefdbError(f"{parent}: cannot create the folder ({exc.strerror})") from None
    with _swap_lock(parent):
        _check_replaceable(outdir, marker)  # again: another build may have swapped meanwhile
        yield outdir


def replace_folder(
    outdir: Path,
    files: Mapping[str, str | bytes],
    *,
    marker: str,
    linked: Sequence[str] = (),
) -> None:
    """Replace the folder `outdir` (inside `site_folder`) by one of `files` and, hard-linked
    from the folder there now (copied where a link cannot be made), the `linked` files.

    The new folder is built as a hidden sibling, then swapped with `outdir` in one atomic
    exchange (Linux's renameat2; elsewhere, or on a file system without it, two renames a
    moment apart), and the old one removed. At every moment `outdir` is one whole build: a
    reader that holds the folder open reads one build until it is removed. On any failure
    before the swap, the half-built sibling is removed and `outdir` is untouched.
    """
    if marker not in files:
        raise ValueError(f"the files must hold the marker {marker!r}")
    parent = outdir.parent
    token = secrets.token_hex(4)
    building = parent / f".{outdir.name}.refdb-new-{token}"
    had_old = False
    try:
        building.mkdir()  # the umask's permissions, as any folder the user makes
        made = {"."}
        for relative, text in files.items():
            with open(_inside(building, relative, made), "wb") as out:
                out.write(text if isinstance(text, bytes) else text.encode("utf-8"))
        for relative in linked:
            target = _inside(building, relative, made)
            source = os.path.join(outdir, relative)
            try:
                os.link(source, target)
            except OSError:  # another file system, or one without hard links
                shutil.copyfile(source, target)
        had_old = os.path.lexists(outdir)
        if had_old:
            _swap(building, outdir)  # `building` now holds the old site
        else:
            os.rename(building, outdir)
    except OSError as exc:
        shutil.rmtree(building, ignore_errors=True)
        raise RefdbError(f"{outdir}: cannot write the site ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    if had_old:
        shutil.rmtree(building, ignore_errors=True)


def _inside(building: Path, relative: str, made: set[str]) -> str:
    """Where a file goes in the new folder (its folder made, once): a relative path that stays
    inside, read as written (the new folder holds no links to lead out of it)."""
    path = os.path.normpath(relative)
    if os.path.isabs(path) or path == ".." or path.startswith(".." + os.sep) or path == ".":
        raise ValueError(f"{relative!r} is outside the site")
    folder = os.path.dirname(path) or "."
    if folder not in made:
        (building / folder).mkdir(parents=True, exist_ok=True)
        made.add(folder)
    return os.path.join(building, path)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _swap(new: Path, old: Path) -> None:
    """Exchange two folders at once (renameat2 with RENAME_EXCHANGE); where that cannot be
    done, rename the old one away and the new one in (a moment without the folder)."""
    if _exchange(new, old):
        return
    away = new.with_name(new.name + "-old")
    os.rename(old, away)
    try:
        os.rename(new, old)
    except OSError:
        os.rename(away, old)
        raise
    os.rename(away, new)


def _exchange(new: Path, old: Path) -> bool:
    """True when the two were exchanged; False when this system cannot."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):  # not Linux, or a C library without it
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    if renameat2(_AT_FDCWD, bytes(new), _AT_FDCWD, bytes(old), _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # not on this file system
        return False
    raise OSError(error, os.strerror(error), str(old))
