"""Finding likely duplicates: the blocked search against judging every pair, in process; and
`refdb duplicates` as a whole process at 1,000 and 10,000 studies.

About 5% of the N studies are planted near-duplicates of another study (the same title with a
small slip, the same year, no identifiers); the others carry a PMID and a DOI each.

In process (`--size N`, default 1500): refdb's `find_duplicates` (candidates from blocks: a
shared PMID or DOI; titles scored by rapidfuzz's cdist within a year and among studies that do
not both hold a PMID or a DOI) against the baseline, every pair of studies judged by the same
rule in Python. Both must report the same pairs, scores and reasons.

Whole process (`--sizes A,B,...`, default 1000,10000; `--quick`: the `--size` or 200): the
library is written to a SQLite file (not timed), then `python -m refdb --db URL duplicates`
runs as its own process (best of `--repeats`, 1 from 50,000 on), with its peak memory, against
floor B of bench_scale.py (`import sqlalchemy.orm`). Targets: 10,000 within 3 s, 100,000
within 30 s. The `without ids` variant is the same library with every PMID and DOI removed:
the worst case, where every title meets every title of its year (`--variants` picks them).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from _common import Figure, best_of, print_table, sqlite_url, synthetic_references
from bench_scale import FLOOR_B, ONE_RUN_FROM, Measured, Runner, compile_refdb, print_rows
from rapidfuzz import fuzz

from refdb.records import Reference, normalise_title
from refdb.store.duplicates import TITLE_THRESHOLD, find_duplicates
from refdb.store.library import Library

PLANTED_SHARE = 0.05
DEFAULT_SIZES = (1000, 10_000)
TARGETS = {10_000: 3.0, 100_000: 30.0}  # seconds, from the issue
VARIANTS = ("with ids", "without ids")


def _slip(title: str, rng: random.Random) -> str:
    """The title as a careless re-typing gives it: one letter dropped or doubled, or a comma."""
    words = title.split()
    n = rng.randrange(len(words))
    word = words[n]
    kind = rng.randrange(3)
    if kind == 0 and len(word) > 3:
        cut = rng.randrange(1, len(word) - 1)
        words[n] = word[:cut] + word[cut + 1 :]
    elif kind == 1:
        words[n] = word[0] + word
    else:
        words[n] = word + ","
        words.insert(n + 1, "and")
    return " ".join(words)


def studies_with_duplicates(n: int) -> tuple[list[Reference], int]:
    """`n` studies, about 5% of them planted near-duplicates; and how many were planted."""
    rng = random.Random(7)
    planted = max(1, round(n * PLANTED_SHARE))
    originals = synthetic_references(n - planted)
    copies = []
    for original in rng.sample(originals, planted):
        copy = replace(original, title=_slip(original.title, rng), doi=None, pmid=None, key=None)
        copies.append(copy)
    return originals + copies, planted


Judged = tuple[float, int, int, str]


def every_pair(library: Library) -> list[Judged]:
    """The baseline: every pair of studies judged by the rule, best first."""
    seen = []
    for ref in library.studies():
        ids = frozenset((k, v.lower()) for k, v in (("pmid", ref.pmid), ("doi", ref.doi)) if v)
        kinds = frozenset(kind for kind, _ in ids)
        seen.append((ref.id or 0, ref.year, normalise_title(ref.title), ids, kinds))
    seen.sort()
    found: list[Judged] = []
    for i, (id_a, year_a, title_a, ids_a, kinds_a) in enumerate(seen):
        for id_b, year_b, title_b, ids_b, kinds_b in seen[i + 1 :]:
            if year_a is not None and year_b is not None and year_a != year_b:
                continue
            shared = ids_a & ids_b
            if shared:
                kind, value = min(shared)
                found.append((100.0, id_a, id_b, f"same {kind.upper()} {value}"))
            elif not kinds_a & kinds_b:
                score = float(fuzz.ratio(title_a, title_b))
                if score >= TITLE_THRESHOLD:
                    year = f" and year {year_a}" if year_a else ""
                    found.append((score, id_a, id_b, f"near-identical title{year}"))
    found.sort(key=lambda f: (-f[0], f[1], f[2]))
    return found


def blocked(library: Library) -> list[Judged]:
    """refdb's way: `find_duplicates` in a reading session."""
    with library.db.reading() as session:
        pairs = find_duplicates(session)
    return [(p.score, p.keep.id or 0, p.other.id or 0, p.reason) for p in pairs]


def in_process(size: int, repeats: int) -> bool:
    """The in-process table; True when both sides found the same pairs."""
    refs, planted = studies_with_duplicates(max(size, 2))
    n = len(refs)
    results: dict[str, list[Judged]] = {}
    with tempfile.TemporaryDirectory(prefix="refdb-bench-") as tmp:
        library = Library(sqlite_url(Path(tmp) / "duplicates.db"))
        try:
            summary = library.save(refs, source="bibtex:bench.bib", command="bench duplicates")
            if summary.count("added") != n:
                print(f"expected {n} studies added, got {summary.count('added')}")
                return False
            baseline = best_of(repeats, lambda: results.update(every=every_pair(library)))
            refdb_time = best_of(repeats, lambda: results.update(refdb=blocked(library)))
        finally:
            library.close()
    print_table(
        f"Duplicates: {n} studies, {planted} planted near-duplicates",
        Figure("every pair judged by the rule", n, baseline),
        [Figure("blocked candidates, find_duplicates (refdb)", n, refdb_time)],
    )
    same = results["every"] == results["refdb"]
    print(
        f"pairs found: every pair {len(results['every'])}, find_duplicates {len(results['refdb'])}"
    )
    print(f"in process, both found the same pairs, scores and reasons: {'yes' if same else 'NO'}")
    print()
    return same


# --- whole process ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessRow:
    """One whole-process figure."""

    what: str
    n: int
    measured: Measured
    floor: float | None
    pairs: str = "—"

    def cells(self) -> list[str]:
        target = TARGETS.get(self.n) if self.what.startswith("refdb duplicates") else None
        met = "—" if target is None else ("yes" if self.measured.seconds <= target else "no")
        peak = self.measured.peak_mb
        return [
            self.what,
            str(self.n),
            f"{self.measured.seconds:.3f}",
            "—" if peak is None else f"{peak:.1f}",
            "—" if not self.floor else f"{self.measured.seconds / self.floor:.2f}x",
            self.pairs,
            "—" if target is None else f"≤ {target:g} s",
            met,
        ]


_PROCESS_HEAD = ("what", "n", "seconds", "peak MB", "vs floor B", "pairs", "target", "met?")
_PROCESS_RIGHT = (False, True, True, True, True, True, False, False)


_PAIR_LINE = re.compile(r"^│ (\d+)\s+│", re.M)


def whole_process(
    runner: Runner, n: int, repeats: int, variants: Sequence[str]
) -> tuple[list[ProcessRow], bool]:
    """`refdb duplicates` on libraries of `n` studies; its rows, and whether its checks passed."""
    folder = runner.folder / f"n{n}"
    folder.mkdir()
    refs, _ = studies_with_duplicates(n)
    ok = True
    rows = [
        ProcessRow(
            FLOOR_B, n, runner.best(FLOOR_B, "code", "import sqlalchemy.orm", [], repeats), None
        )
    ]
    floor = rows[0].measured.seconds
    for variant in variants:
        library_refs = (
            refs if variant == "with ids" else [replace(r, pmid=None, doi=None) for r in refs]
        )
        url = sqlite_url(folder / f"{variant.replace(' ', '-')}.db")
        library = Library(url)
        try:
            summary = library.save(library_refs, source="bibtex:bench.bib", command="bench")
            expected = len(blocked(library)) if summary.count("added") == n else None
        finally:
            library.close()
        if expected is None:
            runner.problems.append(f"n={n} {variant}: {summary.count('added')} studies added")
            ok = False
            continue
        what = f"refdb duplicates ({variant})"
        out = folder / "out.txt"
        times, peaks, failed = [], [], 0
        args = ["--db", url, "duplicates"]
        for _ in range(repeats):
            seconds, peak, exited_0 = runner.once(what, "module", "refdb", args, out)
            times.append(seconds)
            failed += not exited_0
            if peak is not None:
                peaks.append(peak)
            shown = len(_PAIR_LINE.findall(out.read_text(encoding="utf-8")))
            if shown != expected:
                runner.problems.append(f"{what}, n={n}: printed {shown} pairs, not {expected}")
                ok = False
        measured = Measured(min(times), min(peaks) if peaks else None, repeats, failed)
        rows.append(ProcessRow(what, n, measured, floor, str(expected)))
        ok = ok and not failed
    return rows, ok


def main(argv: Sequence[str] | None = None) -> int:
    """Print the duplicate-finding figures; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small runs (150; whole process 200)")
    parser.add_argument("--size", type=int, default=None, help="studies in process (1500)")
    parser.add_argument("--repeats", type=int, default=None, help="best of N (3)")
    parser.add_argument("--sizes", default=None, help="whole-process sizes (1000,10000)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="with ids,without ids")
    args = parser.parse_args(argv)
    size = args.size or (150 if args.quick else 1500)
    if args.sizes:
        sizes = tuple(int(s.replace("_", "")) for s in args.sizes.split(",") if s)
    else:
        sizes = (args.size or 200,) if args.quick else DEFAULT_SIZES
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if set(variants) - set(VARIANTS) or size < 1 or min(sizes) < 1:
        parser.error(f"--variants: {', '.join(VARIANTS)}; sizes at least 1")

    ok = in_process(size, args.repeats or 3)
    compile_refdb()
    with tempfile.TemporaryDirectory(prefix="refdb-bench-duplicates-") as tmp:
        runner = Runner(Path(tmp))
        for n in sizes:
            repeats = args.repeats or (1 if n >= ONE_RUN_FROM else 3)
            rows, size_ok = whole_process(runner, n, repeats, variants)
            ok = ok and size_ok
            title = f"Whole process, n = {n} (best of {repeats})"
            print_rows(title, rows, _PROCESS_HEAD, _PROCESS_RIGHT, level="###")
            sys.stdout.flush()
    for problem in runner.problems:
        print(f"problem: {problem}")
    ok = ok and not runner.problems
    print(
        f"check: both sides found the same pairs, every command exited 0: {'yes' if ok else 'NO'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
