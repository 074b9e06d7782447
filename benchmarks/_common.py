"""Shared pieces of the benchmark scripts: options, timing, the figures table, synthetic data.

Importing this module puts the repository root on `sys.path`, so the scripts run from a source
checkout (`.venv/bin/python benchmarks/bench_import.py`) without refdb being installed.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT / ".." / "shared"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from refdb.records import Author, Reference  # noqa: E402  (needs the path set above)

REPEATS = 3


@dataclass(frozen=True)
class Options:
    """What a benchmark run was asked for."""

    size: int
    repeats: int
    quick: bool


def parse_options(
    argv: Sequence[str] | None, description: str, *, size: int, quick_size: int
) -> Options:
    """`--quick` (small size), `--size N` (overrides both) and `--repeats N` (best of N)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=f"small run (size {quick_size})")
    parser.add_argument("--size", type=int, default=None, help=f"items (default {size})")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="best of N (default 3)")
    args = parser.parse_args(argv)
    chosen = args.size if args.size is not None else (quick_size if args.quick else size)
    if chosen < 1 or args.repeats < 1:
        parser.error("--size and --repeats must be at least 1")
    return Options(size=chosen, repeats=args.repeats, quick=args.quick)


def best_of(
    repeats: int,
    run: Callable[[], object],
    setup: Callable[[], None] | None = None,
) -> float:
    """The fastest of `repeats` timed calls of `run` (seconds); `setup` runs untimed before each.

    As with `timeit`, the cyclic garbage collector is off while `run` is timed.
    """
    best = float("inf")
    for _ in range(repeats):
        if setup is not None:
            setup()
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best


@dataclass(frozen=True)
class Figure:
    """One measured line: what ran, on how many items, how long it took (best run)."""

    what: str
    n: int
    seconds: float


def _per_item(seconds: float, n: int) -> str:
    each = seconds / n
    if each >= 1e-3:
        return f"{each * 1e3:.2f} ms"
    return f"{each * 1e6:.1f} µs"


def print_table(title: str, baseline: Figure, others: Sequence[Figure]) -> None:
    """The figures, each with its time relative to the baseline (baseline = 1.00)."""
    rows = [(baseline, "(baseline)"), *((f, "") for f in others)]
    width = max(len(f.what) + len(mark) + 1 for f, mark in rows)
    print(f"## {title}")
    print(f"{'what':<{width}}  {'n':>6}  {'seconds':>9}  {'per item':>10}  {'vs base':>8}")
    for figure, mark in rows:
        label = f"{figure.what} {mark}".strip()
        ratio = figure.seconds / baseline.seconds if baseline.seconds else float("nan")
        print(
            f"{label:<{width}}  {figure.n:>6}  {figure.seconds:>9.4f}  "
            f"{_per_item(figure.seconds, figure.n):>10}  {ratio:>7.2f}x"
        )
    print()


# --- synthetic studies ------------------------------------------------------------------------

_FAMILIES = [
    "Smith",
    "Nguyen",
    "Garcia",
    "Müller",
    "Rossi",
    "Kowalski",
    "Tanaka",
    "O'Brien",
    "Andersen",
    "Dubois",
    "Silva",
    "Cohen",
    "Petrov",
    "Haddad",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Fischer",
    "Costa",
    "Novak",
    "Jansen",
    "Yilmaz",
    "Horvat",
    "Park",
    "Schwartzman",
    "Murrough",
    "Zarate",
    "Krystal",
    "Berman",
    "Sanacora",
    "Newport",
    "Abdallah",
    "Feder",
    "Daly",
    "Fava",
]
_GIVEN = [
    "Anna",
    "James",
    "Maria",
    "Wei",
    "Robert",
    "Laura",
    "Kenji",
    "Sean",
    "Ingrid",
    "Pierre",
    "Lucas",
    "Miriam",
    "Ivan",
    "Omar",
    "Chidi",
    "Sofia",
    "Hélène",
    "Tobias",
    "Beatriz",
    "Petra",
]
_JOURNALS = (
    ("American Journal of Psychiatry", "Am J Psychiatry"),
    ("Biological Psychiatry", "Biol Psychiatry"),
    ("Journal of Affective Disorders", "J Affect Disord"),
    ("Pain Medicine", "Pain Med"),
    ("JAMA Psychiatry", "JAMA Psychiatry"),
    ("Neuropsychopharmacology", "Neuropsychopharmacology"),
    ("British Journal of Anaesthesia", "Br J Anaesth"),
    ("Lancet Psychiatry", "Lancet Psychiatry"),
)
_OPENINGS = (
    "Randomized controlled trial of",
    "Efficacy and safety of",
    "Open-label study of",
    "A systematic review of",
    "Long-term outcomes of",
    "Rapid effects of",
    "A pilot study of",
    "Predictors of response to",
)
_DRUGS = (
    "intravenous ketamine",
    "intranasal esketamine",
    "oral ketamine",
    "subanesthetic ketamine infusions",
    "repeated ketamine infusions",
    "ketamine-assisted psychotherapy",
)
_CONDITIONS = (
    "treatment-resistant depression",
    "complex regional pain syndrome",
    "post-traumatic stress disorder",
    "suicidal ideation",
    "bipolar depression",
    "obsessive-compulsive disorder",
    "chronic neuropathic pain",
    "alcohol use disorder",
    "fibromyalgia",
    "major depressive disorder",
)
_SETTINGS = (
    "in adults",
    "in veterans",
    "in older patients",
    "in adolescents",
    "in an outpatient clinic",
    "in a community hospital",
    "after electroconvulsive therapy",
    "compared with midazolam",
    "compared with placebo",
    "over twelve weeks",
)
_ABSTRACT_WORDS = [
    "patients",
    "received",
    "infusions",
    "response",
    "remission",
    "rates",
    "were",
    "measured",
    "at",
    "baseline",
    "and",
    "follow-up",
    "scores",
    "improved",
    "significantly",
    "adverse",
    "events",
    "dissociation",
    "blood",
    "pressure",
    "transient",
    "symptoms",
    "resolved",
    "within",
    "hours",
    "the",
    "primary",
    "outcome",
    "secondary",
    "outcomes",
    "included",
    "quality",
    "of",
    "life",
    "sleep",
    "anxiety",
    "craving",
    "relapse",
    "randomised",
    "participants",
    "clinicians",
    "rated",
]


def _author(rng: random.Random) -> Author:
    given = rng.choice(_GIVEN)
    if rng.random() < 0.3:
        given = f"{given} {rng.choice('ABCDEFGHJKLMNPRST')}."
    return Author(family=rng.choice(_FAMILIES), given=given)


def synthetic_references(n: int, seed: int = 20240601) -> list[Reference]:
    """`n` distinct, deterministic journal articles with authors, DOIs, PMIDs and abstracts."""
    rng = random.Random(seed)
    refs: list[Reference] = []
    titles: set[str] = set()
    while len(refs) < n:
        index = len(refs)
        title = (
            f"{rng.choice(_OPENINGS)} {rng.choice(_DRUGS)} for {rng.choice(_CONDITIONS)} "
            f"{rng.choice(_SETTINGS)}: a {rng.choice(('cohort', 'crossover', 'registry'))} "
            f"study of {rng.randint(12, 900)} patients"
        )
        if title.casefold() in titles:
            continue
        titles.add(title.casefold())
        journal, short = rng.choice(_JOURNALS)
        first_page = rng.randint(1, 1900)
        refs.append(
            Reference(
                title=title,
                authors=[_author(rng) for _ in range(rng.randint(1, 8))],
                container_title=journal,
                container_title_short=short,
                year=rng.randint(1995, 2024),
                month=rng.randint(1, 12),
                volume=str(rng.randint(1, 220)),
                issue=str(rng.randint(1, 12)),
                pages=f"{first_page}-{first_page + rng.randint(3, 14)}",
                doi=f"10.5555/bench.{index:06d}",
                pmid=str(30_000_000 + index),
                abstract=" ".join(rng.choice(_ABSTRACT_WORDS) for _ in range(rng.randint(60, 160))),
                language="eng",
                publication_types=["Journal Article"],
                keywords=["ketamine"],
            )
        )
    return refs


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"
