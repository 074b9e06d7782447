"""Whole-process figures: refdb's commands run as real processes, at sizes up to 100,000 studies.

For each size N, N synthetic studies are written as one BibTeX file (not timed). Then every
command runs as its own `python` process, timed with `time.perf_counter` around
`subprocess.run` (best of `--repeats`: 3 by default, 1 for N >= 50,000), and reports its own
peak resident memory through a small wrapper. Each figure is a ratio against a floor timed in
the same run: floor A is bibtexparser 2 parsing the same file, floor B is
`import sqlalchemy.orm`; the growth rows compare a command with itself at the previous size.

Speed targets are printed (met? yes/no) but never set the exit status, since machines differ.
The `check:` line does: every import stored N studies, every undo left an empty library, and
every command exited 0.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from _common import REPO_ROOT, sqlite_url, synthetic_references

from refdb.render.bibtex import render_bibtex

DEFAULT_SIZES = (1000, 10_000)
QUICK_SIZES = (200,)
ONE_RUN_FROM = 50_000  # sizes from here on are run once by default (an import takes minutes)
SEARCH_WORDS = ("ketamine", "depression")

# Each timed child is `python -c _WRAPPER PEAK_FILE module|code TARGET ARGS...`: it runs the
# module as `python -m` does (runpy) or the code as `python -c` does, then writes its own peak
# resident memory in bytes to PEAK_FILE and exits with the child's status. On Linux the peak is
# VmHWM from /proc/self/status, not `getrusage(RUSAGE_SELF).ru_maxrss`: the kernel carries
# ru_maxrss over exec from the forking process, so a child of a big parent (this script holds
# the N studies) would report at least the parent's size. The wrapper costs about 5 ms a run.
_WRAPPER = """\
import sys
peak_path, kind, target, *args = sys.argv[1:]
status = 0
try:
    if kind == "module":
        import runpy
        sys.argv = [target, *args]
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        sys.argv = ["-c", *args]
        exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
except SystemExit as stop:
    if stop.code is None:
        status = 0
    elif isinstance(stop.code, int):
        status = stop.code
    else:
        print(stop.code, file=sys.stderr)
        status = 1
finally:
    peak = None
    try:
        with open("/proc/self/status") as proc_status:
            for line in proc_status:
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) * 1024
    except OSError:
        import resource
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = maxrss if sys.platform == "darwin" else maxrss * 1024
    with open(peak_path, "w") as out:
        out.write(str(peak))
sys.exit(status)
"""

FLOOR_A = "floor A: bibtexparser 2 `parse_file`"
FLOOR_B = "floor B: `import sqlalchemy.orm`"


@dataclass(frozen=True)
class ScaleOptions:
    """What a scale run was asked for."""

    sizes: tuple[int, ...]
    repeats: int | None  # None: 3, or 1 from ONE_RUN_FROM on
    postgres: str | None


def parse_scale_options(argv: Sequence[str] | None) -> ScaleOptions:
    """`--sizes A,B,...`, `--quick` (size 200), `--size N` (one size), `--repeats N`, `--postgres`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small run (size 200)")
    parser.add_argument(
        "--sizes",
        default=None,
        help="comma-separated sizes (default " + ",".join(map(str, DEFAULT_SIZES)) + ")",
    )
    parser.add_argument("--size", type=int, default=None, help="one size, as in the other scripts")
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"best of N (default 3; 1 for sizes >= {ONE_RUN_FROM:,})",
    )
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="URL",
        help="also import into PostgreSQL: a server URL without database "
        "(postgresql+psycopg://user@host:port); a fresh database is made for each run",
    )
    args = parser.parse_args(argv)
    return ScaleOptions(sizes_given(parser, args), args.repeats, args.postgres)


def sizes_given(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    default: tuple[int, ...] = DEFAULT_SIZES,
    quick: tuple[int, ...] = QUICK_SIZES,
) -> tuple[int, ...]:
    """The sizes `--sizes`, `--size` or `--quick` asked for, in order (`--sizes` wins: it is
    what `run_all.py --scale-sizes` passes); a usage error for a bad list or a size or
    `--repeats` below 1."""
    if args.sizes is not None:
        try:
            sizes = tuple(int(part.replace("_", "")) for part in args.sizes.split(",") if part)
        except ValueError:
            parser.error(f"--sizes: not a list of numbers: {args.sizes!r}")
    elif args.size is not None:
        sizes = (args.size,)
    else:
        sizes = quick if args.quick else default
    if not sizes or min(sizes) < 1 or (args.repeats is not None and args.repeats < 1):
        parser.error("sizes and --repeats must be at least 1")
    return tuple(sorted(set(sizes)))


# --- running children -------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """The best of some runs of one command: fastest time, smallest peak memory."""

    seconds: float
    peak_mb: float | None
    runs: int
    failed: int = 0  # runs that exited non-zero


@dataclass
class Runner:
    """Runs the children in `folder`, with this checkout's refdb first on the path."""

    folder: Path
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.peak_file = self.folder / "peak-bytes"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env.pop("REFDB_DATABASE_URL", None)  # every refdb command gets --db
        self.env = env

    def once(
        self, what: str, kind: str, target: str, args: Sequence[str], stdout_path: Path | None
    ) -> tuple[float, float | None, bool]:
        """(seconds, peak MB or None, exited 0) of one run; a failure is noted in `problems`."""
        command = [sys.executable, "-c", _WRAPPER, str(self.peak_file), kind, target, *args]
        self.peak_file.unlink(missing_ok=True)
        with open(stdout_path or os.devnull, "w") as out:
            start = time.perf_counter()
            done = subprocess.run(
                command,
                cwd=self.folder,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
            seconds = time.perf_counter() - start
        try:
            peak: float | None = int(self.peak_file.read_text()) / 2**20
        except (OSError, ValueError):
            peak = None
        if done.returncode != 0:
            tail = " / ".join(done.stderr.strip().splitlines()[-3:])
            self.problems.append(f"{what} exited {done.returncode}: {tail}")
        return seconds, peak, done.returncode == 0

    def best(
        self,
        what: str,
        kind: str,
        target: str,
        args: Sequence[str] | Callable[[int], Sequence[str]],
        repeats: int,
    ) -> Measured:
        """Best of `repeats` runs; `args` is the argument list, or makes run i's."""
        times: list[float] = []
        peaks: list[float] = []
        failed = 0
        for i in range(repeats):
            run_args = args(i) if callable(args) else args
            seconds, peak, exited_0 = self.once(what, kind, target, run_args, None)
            failed += not exited_0
            times.append(seconds)
            if peak is not None:
                peaks.append(peak)
        return Measured(min(times), min(peaks) if peaks else None, repeats, failed)

    def refdb(self, what: str, url: str, *args: str, stdout_path: Path | None = None) -> bool:
        """One untimed refdb command (for its output or its effect); True when it exited 0."""
        return self.once(what, "module", "refdb", ["--db", url, *args], stdout_path)[2]

    def listed(self, what: str, url: str) -> list[dict[str, object]] | None:
        """`refdb list --json` of the library (untimed), or None when it failed."""
        out = self.folder / "list.json"
        if not self.refdb(what, url, "list", "--json", stdout_path=out):
            return None
        try:
            data = json.loads(out.read_text(encoding="utf-8"))
        except ValueError as error:
            self.problems.append(f"{what}: not JSON ({error})")
            return None
        finally:
            out.unlink(missing_ok=True)
        return data if isinstance(data, list) else None


def _sqlite_count(path: Path) -> int | None:
    try:
        with sqlite3.connect(path) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM studies").fetchone()[0])
    except sqlite3.Error:
        return None


# --- PostgreSQL (optional) --------------------------------------------------------------------


class _Postgres:
    """Fresh databases on a server; every one made here is dropped by `close`."""

    def __init__(self, server_url: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(server_url)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        self.url = url
        admin = url.set(drivername="postgresql", database="postgres")
        self.admin = psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True)
        self.made: list[str] = []

    def fresh(self, name: str) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        self.admin.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def count(self, name: str) -> int | None:
        import psycopg

        target = self.url.set(drivername="postgresql", database=name)
        try:
            with psycopg.connect(target.render_as_string(hide_password=False)) as connection:
                row = connection.execute("SELECT COUNT(*) FROM studies").fetchone()
                return int(row[0]) if row else None
        except psycopg.Error:
            return None

    def close(self) -> None:
        for name in self.made:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        self.admin.close()


# --- the figures ------------------------------------------------------------------------------

# Targets against a floor (or, for undo and PostgreSQL, against the SQLite import): the bound on
# the ratio, by size (None: every size). Step 11's targets where it set one, step 6's elsewhere.
FLOOR_TARGETS: dict[tuple[str, int | None], float] = {
    ("import", 10_000): 3.0,
    ("import memory", 100_000): 2.0,
    ("export", 10_000): 1.5,
    ("help", None): 0.6,
    ("show", 10_000): 1.3,
    ("search", 10_000): 1.3,
    ("list", 10_000): 2.5,
    ("undo", None): 2.0,  # "a small multiple" of the import, read as at most twice
    ("undo", 100_000): 1.0,  # at 100,000: no longer than the import
    ("undo memory", 100_000): 1.0,  # its peak against 1 GB
    ("postgres", 10_000): 1.3,
}
# Targets on growth: (what, from size, to size) -> bound on time(to) / time(from).
GROWTH_TARGETS: dict[tuple[str, int, int], float] = {
    ("import", 10_000, 100_000): 11.0,
    ("show", 10_000, 100_000): 1.3,
    ("search", 10_000, 100_000): 2.0,
    ("list", 10_000, 100_000): 10.0,
}
UNDO_MEMORY_BOUND_MB = 1024.0


@dataclass(frozen=True)
class Row:
    """One line of a table."""

    what: str
    n: int
    seconds: float | None
    peak_mb: float | None
    ratio: float | None
    against: str
    target: float | None = None

    def cells(self) -> list[str]:
        met = "—" if self.target is None or self.ratio is None else "no"
        if self.target is not None and self.ratio is not None and self.ratio <= self.target:
            met = "yes"
        return [
            self.what,
            str(self.n),
            "—" if self.seconds is None else f"{self.seconds:.3f}",
            "—" if self.peak_mb is None else f"{self.peak_mb:.1f}",
            "—" if self.ratio is None else f"{self.ratio:.2f}x",
            self.against,
            "—" if self.target is None else f"≤ {self.target:g}x",
            met,
        ]


_HEAD = ("what", "n", "seconds", "peak MB", "ratio", "against what", "target", "met?")
_RIGHT = (False, True, True, True, True, False, False, False)


class TableRow(Protocol):
    """A row `print_rows` prints: its cells under `_HEAD` (this script's, bench_site's)."""

    def cells(self) -> list[str]: ...


POSTGRES_SKIPPED = "postgres: skipped (no --postgres URL given)"


def start_report(what: str, *lines: str) -> None:
    """The heading line (machine, Python, time, load) and `lines`, then refdb's modules
    compiled (not timed), so that no timed run pays for writing .pyc files."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(
        f"# refdb {what}: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {datetime.datetime.now():%Y-%m-%d %H:%M}, "
        f"load average {load}"
    )
    for line in lines:
        print(line)
    print()
    sys.stdout.flush()
    compile_refdb()


def compile_refdb() -> None:
    """Byte-compile refdb's modules (not timed), so that no timed run writes .pyc files."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO_ROOT / "refdb")],
        check=False,
        stdout=subprocess.DEVNULL,
    )


def print_rows(
    title: str,
    rows: Sequence[TableRow],
    head: Sequence[str] = _HEAD,
    right_aligned: Sequence[bool] = _RIGHT,
    level: str = "##",
) -> None:
    """A Markdown table under a `level` heading, padded so that it also reads as a table in a
    terminal; `head` and `right_aligned` name and align the columns."""
    lines = [list(head), *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]

    def fmt(cells: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if right else c.ljust(w)
            for c, w, right in zip(cells, widths, right_aligned, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    print(f"{level} {title}")
    print(fmt(lines[0]))
    rule = (
        "-" * (w - 1) + ":" if right else "-" * w
        for w, right in zip(widths, right_aligned, strict=True)
    )
    print("| " + " | ".join(rule) + " |")
    for line in lines[1:]:
        print(fmt(line))
    print()


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


@dataclass
class SizeResult:
    """What one size measured, kept for the next size's growth rows."""

    n: int
    figures: dict[str, Measured] = field(default_factory=dict)


def _middle_key(listed: list[dict[str, object]], n: int) -> str | None:
    """The key of the study in the middle of the file (by its synthetic DOI)."""
    doi = f"10.5555/bench.{n // 2:06d}"
    for study in listed:
        if str(study.get("doi") or "").casefold() == doi:
            return str(study.get("key"))
    return str(listed[len(listed) // 2].get("key")) if listed else None


# (figure, label, compared with, shown as): one row each, in this order, when measured.
_ROWS = (
    ("floor A", FLOOR_A, None, "(floor A)"),
    ("import", "refdb import", "floor A", "floor A"),
    ("export", "refdb export --format bibtex", "floor A", "floor A"),
    ("floor B", FLOOR_B, None, "(floor B)"),
    ("help", "refdb --help", "floor B", "floor B"),
    ("show", "refdb show KEY", "floor B", "floor B"),
    ("search", "refdb search " + " ".join(SEARCH_WORDS), "floor B", "floor B"),
    ("list", "refdb list --json > /dev/null", "floor B", "floor B"),
    ("undo", "refdb undo (the import)", "import", "refdb import"),
    ("postgres", "refdb import into PostgreSQL", "import", "refdb import (SQLite)"),
)
_GROWTH = ("import", "show", "search", "list")  # rows against the previous size


def _rows(n: int, fig: dict[str, Measured], previous: SizeResult | None) -> list[Row]:
    def target(what: str) -> float | None:
        return FLOOR_TARGETS.get((what, n), FLOOR_TARGETS.get((what, None)))

    labels = {what: label for what, label, _, _ in _ROWS}
    for what, m in fig.items():
        if m.failed:
            labels[what] += f" (FAILED {m.failed} of {m.runs})"
    rows = []
    for what, _, base, against in _ROWS:
        if what not in fig:
            continue
        m = fig[what]
        ratio = 1.0 if base is None else _ratio(m.seconds, fig[base].seconds)
        rows.append(Row(labels[what], n, m.seconds, m.peak_mb, ratio, against, target(what)))
        if what == "undo":
            rows.append(
                Row(
                    f"{labels[what]}: peak memory",
                    n,
                    None,
                    m.peak_mb,
                    _ratio(m.peak_mb, UNDO_MEMORY_BOUND_MB),
                    "1 GB",
                    target("undo memory"),
                )
            )
        if what == "import":
            memory = _ratio(m.peak_mb, fig["floor A"].peak_mb)
            rows.append(
                Row(
                    f"{labels[what]}: peak memory",
                    n,
                    None,
                    m.peak_mb,
                    memory,
                    "floor A's peak memory",
                    target("import memory"),
                )
            )
    for what in _GROWTH:
        if previous is None or what not in fig or what not in previous.figures:
            continue
        rows.append(
            Row(
                f"{labels[what]}: growth",
                n,
                fig[what].seconds,
                None,
                _ratio(fig[what].seconds, previous.figures[what].seconds),
                f"the same at n={previous.n}",
                GROWTH_TARGETS.get((what, previous.n, n)),
            )
        )
    return rows


def run_size(
    runner: Runner,
    n: int,
    repeats: int,
    previous: SizeResult | None,
    postgres: _Postgres | None,
) -> tuple[list[Row], SizeResult, bool]:
    """Measure one size; returns its rows, its figures and whether its checks passed."""
    folder = runner.folder / f"n{n}"
    folder.mkdir()
    bib = folder / "refs.bib"
    bib.write_text(render_bibtex(synthetic_references(n)), encoding="utf-8")
    result = SizeResult(n)
    fig = result.figures
    ok = True

    floor_a = f"import bibtexparser; bibtexparser.parse_file({str(bib)!r})"
    fig["floor A"] = runner.best(FLOOR_A, "code", floor_a, [], repeats)

    dbs = [folder / f"import-{i + 1}.db" for i in range(repeats)]
    urls = [sqlite_url(db) for db in dbs]
    fig["import"] = runner.best(
        f"refdb import (n={n})",
        "module",
        "refdb",
        lambda i: ["--db", urls[i], "import", str(bib)],
        repeats,
    )
    counts = [_sqlite_count(db) for db in dbs]
    if any(c != n for c in counts):
        runner.problems.append(f"n={n}: the imports stored {counts} studies, not {n}")
        ok = False
    library = urls[-1]
    listed = runner.listed(f"refdb list --json (n={n}, untimed)", library)
    if listed is None or len(listed) != n:
        got = None if listed is None else len(listed)
        runner.problems.append(f"n={n}: `list --json` gave {got} studies, not {n}")
        ok = False
    key = _middle_key(listed or [], n)

    out = folder / "export.bib"
    fig["export"] = runner.best(
        f"refdb export (n={n})",
        "module",
        "refdb",
        ["--db", library, "export", "--format", "bibtex", "-o", str(out)],
        repeats,
    )
    exported = len(re.findall(r"^@", out.read_text(encoding="utf-8"), re.M)) if out.exists() else 0
    if exported != n:
        runner.problems.append(f"n={n}: the export holds {exported} entries, not {n}")
        ok = False

    fig["floor B"] = runner.best(FLOOR_B, "code", "import sqlalchemy.orm", [], repeats)
    fig["help"] = runner.best("refdb --help", "module", "refdb", ["--help"], repeats)
    if key is None:
        runner.problems.append(f"n={n}: no key to show")
        ok = False
    else:
        fig["show"] = runner.best(
            f"refdb show (n={n})", "module", "refdb", ["--db", library, "show", key], repeats
        )
    fig["search"] = runner.best(
        f"refdb search (n={n})",
        "module",
        "refdb",
        ["--db", library, "search", *SEARCH_WORDS],
        repeats,
    )
    fig["list"] = runner.best(
        f"refdb list --json (n={n})",
        "module",
        "refdb",
        ["--db", library, "list", "--json"],
        repeats,
    )
    # Undo each library the timed imports made (so undo is a best of as many runs, too).
    fig["undo"] = runner.best(
        f"refdb undo (n={n})", "module", "refdb", lambda i: ["--db", urls[i], "undo"], repeats
    )
    left = [runner.listed(f"refdb list --json after undo (n={n})", u) for u in urls]
    if any(studies != [] for studies in left):
        sizes = [None if s is None else len(s) for s in left]
        runner.problems.append(f"n={n}: after undo the libraries hold {sizes} studies, not 0")
        ok = False

    if postgres is not None:
        pg_urls = []
        names = []
        for i in range(repeats):
            names.append(f"refdb_bench_{os.getpid()}_{n}_{i + 1}")
            pg_urls.append(postgres.fresh(names[-1]))
        fig["postgres"] = runner.best(
            f"refdb import into PostgreSQL (n={n})",
            "module",
            "refdb",
            lambda i: ["--db", pg_urls[i], "import", str(bib)],
            repeats,
        )
        pg_counts = [postgres.count(name) for name in names]
        if any(c != n for c in pg_counts):
            runner.problems.append(f"n={n}: the PostgreSQL imports stored {pg_counts}, not {n}")
            ok = False

    rows = _rows(n, fig, previous)
    shutil.rmtree(folder, ignore_errors=True)
    return rows, result, ok


def main(argv: Sequence[str] | None = None) -> int:
    """Print the whole-process figures, one table per size; returns the exit status."""
    options = parse_scale_options(argv)
    started = time.perf_counter()
    start_report("whole-process scale", *([] if options.postgres else [POSTGRES_SKIPPED]))
    ok = True
    with tempfile.TemporaryDirectory(prefix="refdb-bench-scale-") as tmp:
        runner = Runner(Path(tmp))
        postgres = None
        if options.postgres:
            try:
                postgres = _Postgres(options.postgres)
            except Exception as error:  # psycopg missing, bad URL, server down: say so, go on
                runner.problems.append(f"--postgres {options.postgres}: {error}")
        previous: SizeResult | None = None
        try:
            for n in options.sizes:
                repeats = options.repeats or (1 if n >= ONE_RUN_FROM else 3)
                size_started = time.perf_counter()
                rows, previous, size_ok = run_size(runner, n, repeats, previous, postgres)
                ok = ok and size_ok
                took = time.perf_counter() - size_started
                print_rows(
                    f"Whole process, n = {n} (best of {repeats}; {took:.0f} s for this table)", rows
                )
                sys.stdout.flush()
        finally:
            if postgres is not None:
                postgres.close()
    for problem in runner.problems:
        print(f"problem: {problem}")
    ok = ok and not runner.problems
    sizes = ", ".join(map(str, options.sizes))
    print(f"({time.perf_counter() - started:.0f} s in all)")
    print(
        f"check: the imports stored N studies (N = {sizes}), undo emptied the library, "
        f"every command exited 0: {'yes' if ok else 'NO'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
