"""A real PostgreSQL server for the tests, started on 127.0.0.1 in a temporary folder.

initdb and pg_ctl refuse to run as root, so as root the server runs as an unprivileged user
(`refdb-pg`, which .ci/run creates, or Debian's `postgres`).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVER_USERS = ("refdb-pg", "postgres", "nobody")


def find_bindir() -> Path | None:
    """Debian's PostgreSQL binaries (newest version), or None when not installed."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in SERVER_USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL as")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], user: str | None) -> None:
    command = ["runuser", "-u", user, "--", *args] if user else args
    subprocess.run(command, check=True, capture_output=True, timeout=120)


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throwaway server; yields a SQLAlchemy URL to its `postgres` database."""
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL (initdb) is not installed")
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="refdb-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if user:
        entry = pwd.getpwnam(user)
        for path in (root, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    _run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "refdb",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        user,
    )
    options = f"-h 127.0.0.1 -p {port} -k {sockets} -F -c fsync=off"
    _run(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
        user,
    )
    try:
        # `pg_ctl -w start` has returned once the server accepts connections: no polling.
        yield f"postgresql+psycopg://refdb@127.0.0.1:{port}/postgres"
    finally:
        try:
            _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], user)
        finally:
            shutil.rmtree(root, ignore_errors=True)
