"""What every command shares: the library from `--db`, the consoles, JSON output.

Nothing heavy is imported here at module level (no SQLAlchemy, no `refdb.api`, no rich): a
command loads what it needs when it runs, so `refdb --help` starts quickly.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import Enum
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeGuard, TypeVar

import typer

from refdb import api
from refdb.api import RefdbError

if TYPE_CHECKING:
    from rich.console import Console

    from refdb.api import Library, OutputOptions


@functools.cache
def stdout_console() -> Console:
    """The console for tables on stdout, made on first use."""
    from rich.console import Console

    # Piped output is not cut to 80 columns (COLUMNS still wins when set).
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
    return Console(highlight=False, width=width)


@functools.cache
def stderr_console() -> Console:
    """The console for messages and progress bars on stderr, made on first use."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def __getattr__(name: str) -> Console:
    # `out` and `err`, the two consoles, stay importable by name; made on first access.
    if name == "out":
        return stdout_console()
    if name == "err":
        return stderr_console()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class State:
    """Per-invocation state: the database URL and, once opened, the library."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self._library: Library | None = None

    def library(self) -> Library:
        """The library, opened (and migrated) on first use."""
        if self._library is None:
            self._library = api.open_library(self.url)
        return self._library

    def close(self) -> None:
        """Close the library if it was opened."""
        if self._library is not None:
            self._library.close()


P = ParamSpec("P")
R = TypeVar("R")


def _is_context(value: Any) -> TypeGuard[typer.Context]:
    # Typer passes its click Context, which is not an instance of the `typer.Context` hint.
    return hasattr(value, "find_root") and hasattr(value, "command_path")


def handled(command: Callable[P, R]) -> Callable[P, R]:
    """Run a command: refdb's errors become one line on stderr and exit code 1."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        ctx = kwargs.get("ctx") or next((a for a in args if _is_context(a)), None)
        _CURRENT.set(ctx if _is_context(ctx) else None)
        try:
            with warnings.catch_warnings(record=True) as caught:
                # refdb's own warnings (NCBI_EMAIL unset) as one line each; libraries' none.
                warnings.simplefilter("ignore")
                warnings.filterwarnings("always", category=UserWarning, module=r"refdb(\.|$)")
                result = command(*args, **kwargs)
            for warning in caught:
                sys.stderr.write(f"refdb: warning: {warning.message}\n")
            return result
        except RefdbError as exc:
            fail(str(exc))
        except Exception as exc:
            if not _is_database_error(exc):
                raise
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            fail(f"database error: {detail}")
        finally:
            _CURRENT.set(None)
            if _is_context(ctx) and isinstance(ctx.find_root().obj, State):
                ctx.find_root().obj.close()

    return run


def _is_database_error(exc: BaseException) -> bool:
    """Whether `exc` is a SQLAlchemy error, without importing SQLAlchemy to find out: when it
    was never imported, nothing can have raised one of its errors."""
    if "sqlalchemy.exc" not in sys.modules:
        return False
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, SQLAlchemyError)


def fail(message: str) -> NoReturn:
    """Print one line on stderr and exit with code 1."""
    sys.stderr.write(f"refdb: {' '.join(message.split())}\n")
    raise typer.Exit(1)


def library(ctx: typer.Context) -> Library:
    """The library of this invocation."""
    state: State = ctx.find_root().obj
    return state.library()


_CURRENT: ContextVar[typer.Context | None] = ContextVar("refdb_command", default=None)


def _words(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [w for v in value for w in _words(v)]
    if isinstance(value, Enum):
        return [str(value.value)]
    return [str(value)]


def command_line() -> str:
    """The running command, for the change log: `refdb tag hu2016single Anxiety`.

    Rebuilt from the parsed parameters (not sys.argv), leaving out the global `--db`, whose
    URL may hold a password.
    """
    import shlex

    ctx = _CURRENT.get()
    if ctx is None:
        return shlex.join(["refdb", *sys.argv[1:]])
    words = ["refdb", *ctx.command_path.split()[1:]]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if value is None or value is False or value == [] or value == ():
            continue
        if param.param_type_name == "argument":
            words += _words(value)
        elif value != param.default or param.required:
            flag = param.opts[0]
            words += [flag] if value is True else [w for v in _words(value) for w in (flag, v)]
    return shlex.join(words)


def print_json(data: Any) -> None:
    """Machine-readable JSON on stdout, and nothing else there: indented for a person at a
    terminal, compact for a program (json's C encoder, several times faster on 100,000
    studies)."""
    import json

    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json.dumps(data, indent=indent, ensure_ascii=False, default=str) + "\n")


def note(message: str) -> None:
    """A message for the person at the terminal: stderr (stdout stays clean), never wrapped
    (scripts grep it)."""
    stderr_console().print(message, markup=False, highlight=False, soft_wrap=True)


def write_text(text: str, output: str | None) -> None:
    """Write to a file (-o) or stdout."""
    if output is None or output == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        raise RefdbError(f"{output}: cannot write ({exc.strerror})") from None
    note(f"wrote {output}")


def note_kept(written: str) -> None:
    """Say that an output was written and is kept current from now on."""
    note(f"wrote {written} (kept current after every change; `refdb outputs` lists it)")


def write_or_keep(
    ctx: typer.Context, options: OutputOptions, output: str | None, keep: bool
) -> None:
    """An export or page on stdout or in `-o FILE`; with `--keep`, that file is kept current."""
    lib = library(ctx)
    if not keep:
        write_text(api.render_output(lib, options), output)
        return
    if output is None or output == "-":
        raise RefdbError("--keep needs -o FILE (a file to keep current)")
    note_kept(str(api.keep_output(lib, output, options)))


def show_value(value: Any) -> str:
    """A field value for a one-line message: authors by name, lists joined, None as '-'."""
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, list):  # people show as 'Schwartzman RJ', other values as they are
        return "; ".join(v.display() if hasattr(v, "display") else str(v) for v in value)
    return repr(value) if isinstance(value, str) else str(value)


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when both stdout and stderr are terminals; else no callback."""
    if not (sys.stdout.isatty() and sys.stderr.isatty()):
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=stderr_console(), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
