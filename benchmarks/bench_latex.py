"""Whole-process import of a LaTeX-heavy `.bib`, against bibtexparser's parse of the same file.

For each size N, `_latex_heavy.latex_heavy_bib` writes N entries shaped like a Better BibTeX
or JabRef export (accented names as `{\\"u}`, `\\'e`, `{\\c{c}}`, `{\\v{c}}`, `{\\o}`,
`{\\ss}`; `{DNA}`-style protected capitals; `--` page ranges; `\\&` in journals; about 1.6
values with markup per entry). Then, each as its own process (timed as in `bench_scale.py`,
best of `--repeats`): floor A, bibtexparser 2 parsing that file; `refdb import` of it into a
new SQLite file; and the same import with every value decoded by pylatexenc alone (the path
before the table pass; one run, and not from N = 50,000 on, where it takes minutes).

The `check:` line sets the exit status: every import stored N studies, and both imports stored
the same studies (`list --json` of the two libraries agree). Speed targets never fail it.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _common import sqlite_url
from _latex_heavy import latex_heavy_bib, markup_values
from bench_scale import (
    FLOOR_A,
    ONE_RUN_FROM,
    Row,
    Runner,
    parse_scale_options,
    print_rows,
    start_report,
)

TARGET = {10_000: 3.0}  # the issue: import 10k (LaTeX-heavy .bib) within 3x the parse
# A child that decodes every value with pylatexenc alone, then runs refdb's command line.
# Every module that took `latex_to_unicode` by name is patched (after the BibTeX reader was
# split in three, patching `bibtex` alone changed nothing, and the row timed the table pass).
_PYLATEXENC_ALONE = """\
import sys
import refdb.sources.bibtex
from refdb.sources import latex
for module in list(sys.modules.values()):
    if getattr(module, "latex_to_unicode", None) is latex.latex_to_unicode:
        if module is not latex:
            module.latex_to_unicode = latex.latex_to_unicode_reference
assert sum(
    getattr(m, "latex_to_unicode", None) is latex.latex_to_unicode_reference
    for m in list(sys.modules.values())
) >= 2, "no reader module was patched"
from refdb.cli import app
app(prog_name="refdb")
"""


def _studies(db: Path) -> int | None:
    try:
        with sqlite3.connect(db) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM studies").fetchone()[0])
    except sqlite3.Error:
        return None


def _content(studies: list[dict[str, object]]) -> list[dict[str, object]]:
    """The studies without their provenance (which records the time of the import)."""
    return [{k: v for k, v in s.items() if k != "provenance"} for s in studies]


def run_size(runner: Runner, n: int, repeats: int) -> tuple[list[Row], bool]:
    """Measure one size; returns its rows and whether its checks passed."""
    folder = runner.folder / f"n{n}"
    folder.mkdir()
    bib = folder / "latex-heavy.bib"
    text = latex_heavy_bib(n)
    bib.write_text(text, encoding="utf-8")
    print(
        f"n = {n}: {len(text.encode()) / 2**20:.1f} MB, "
        f"{markup_values(text) / n:.2f} values with LaTeX markup per entry"
    )
    floor = runner.best(
        FLOOR_A, "code", f"import bibtexparser; bibtexparser.parse_file({str(bib)!r})", [], repeats
    )
    dbs = [folder / f"import-{i + 1}.db" for i in range(repeats)]
    fast = runner.best(
        f"refdb import (n={n})",
        "module",
        "refdb",
        lambda i: ["--db", sqlite_url(dbs[i]), "import", str(bib)],
        repeats,
    )
    rows = [
        Row(FLOOR_A, n, floor.seconds, floor.peak_mb, 1.0, "(floor A)"),
        Row(
            "refdb import, LaTeX-heavy .bib",
            n,
            fast.seconds,
            fast.peak_mb,
            fast.seconds / floor.seconds,
            "floor A",
            TARGET.get(n),
        ),
    ]
    ok = True
    counts = [_studies(db) for db in dbs]
    if any(count != n for count in counts):
        runner.problems.append(f"n={n}: the imports stored {counts} studies, not {n}")
        ok = False
    if n < ONE_RUN_FROM:
        alone_db = folder / "pylatexenc-alone.db"
        alone = runner.best(
            f"refdb import, pylatexenc alone (n={n})",
            "code",
            _PYLATEXENC_ALONE,
            ["--db", sqlite_url(alone_db), "import", str(bib)],
            1,
        )
        rows.append(
            Row(
                "the same, pylatexenc alone (one run)",
                n,
                alone.seconds,
                alone.peak_mb,
                alone.seconds / floor.seconds,
                "floor A",
            )
        )
        listed = runner.listed(f"list --json (n={n})", sqlite_url(dbs[-1]))
        listed_alone = runner.listed(f"list --json, pylatexenc alone (n={n})", sqlite_url(alone_db))
        if listed is None or _content(listed) != _content(listed_alone or []):
            runner.problems.append(f"n={n}: the two imports stored different studies")
            ok = False
    return rows, ok


def main(argv: Sequence[str] | None = None) -> int:
    """Print one table per size; returns the exit status."""
    options = parse_scale_options(argv)
    started = time.perf_counter()
    start_report("LaTeX-heavy import")
    ok = True
    with tempfile.TemporaryDirectory(prefix="refdb-bench-latex-") as tmp:
        runner = Runner(Path(tmp))
        for n in options.sizes:
            repeats = options.repeats or (1 if n >= ONE_RUN_FROM else 3)
            size_started = time.perf_counter()
            rows, size_ok = run_size(runner, n, repeats)
            ok = ok and size_ok
            took = time.perf_counter() - size_started
            title = f"LaTeX-heavy import, n = {n} (best of {repeats}; {took:.0f} s for this table)"
            print_rows(title, rows)
            sys.stdout.flush()
    for problem in runner.problems:
        print(f"problem: {problem}")
    ok = ok and not runner.problems
    print(f"({time.perf_counter() - started:.0f} s in all)")
    sizes = ", ".join(map(str, options.sizes))
    print(
        f"check: the imports stored N studies (N = {sizes}) and pylatexenc alone stored the "
        f"same: {'yes' if ok else 'NO'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
