"""`refdb duplicates` compares only candidate pairs; it must find exactly the pairs that comparing
every pair of studies finds, with the same scores and reasons, in the same order.

The generated library is built to trip a careless blocking scheme: typos in the first word,
changes of case and accents, unknown years, the same title in other years, near-identical
titles under two different PMIDs, a DOI shared by studies with unrelated titles, titles that
score exactly the threshold or just under it, and titles that normalise to nothing.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from rapidfuzz import fuzz
from sqlalchemy import select

from refdb import api
from refdb.records import Author, Reference, normalise_title
from refdb.store.duplicates import DuplicatePair
from refdb.store.library import Library
from refdb.store.models import Identifier, Study
from refdb.store.queries import find_study_id
from tests.conftest import REPO, RunCli

THRESHOLD = 92.0  # the rule's threshold, as the design states it

# --- every pair, the rule as written ----------------------------------------------------------


def every_pair(library: Library) -> list[tuple[float, int, int, str]]:
    """(score, older id, newer id, reason) of every pair of studies the rule accepts, best
    first: each of the n * (n - 1) / 2 pairs is judged, from the studies' public records."""
    seen = []
    for ref in library.studies():
        assert ref.id is not None
        pairs = (("pmid", ref.pmid), ("doi", ref.doi))
        ids = frozenset((kind, value.lower()) for kind, value in pairs if value)
        kinds = frozenset(kind for kind, _ in ids)
        seen.append((ref.id, ref.year, normalise_title(ref.title), ids, kinds))
    seen.sort()
    found = []
    for i, (id_a, year_a, title_a, ids_a, kinds_a) in enumerate(seen):
        for id_b, year_b, title_b, ids_b, kinds_b in seen[i + 1 :]:
            if year_a is not None and year_b is not None and year_a != year_b:
                continue
            shared = ids_a & ids_b
            if shared:
                kind, value = sorted(shared)[0]
                found.append((100.0, id_a, id_b, f"same {kind.upper()} {value}"))
            elif not kinds_a & kinds_b:  # else a different PMID, or DOI: never one study
                score = float(fuzz.ratio(title_a, title_b))
                if score >= THRESHOLD:
                    year = f" and year {year_a}" if year_a else ""
                    found.append((score, id_a, id_b, f"near-identical title{year}"))
    found.sort(key=lambda f: (-f[0], f[1], f[2]))
    return found


def as_rows(pairs: list[DuplicatePair]) -> list[tuple[float, int, int, str]]:
    rows = []
    for pair in pairs:
        assert pair.keep.id is not None and pair.other.id is not None
        rows.append((pair.score, pair.keep.id, pair.other.id, pair.reason))
    return rows


# --- a generated library ----------------------------------------------------------------------

_ENGLISH = """
    ketamine esketamine infusion infusions intravenous intranasal oral subanesthetic dose
    response remission depression depressive treatment resistant major bipolar suicidal
    ideation pain chronic neuropathic regional complex syndrome fibromyalgia migraine
    randomized controlled trial open label pilot study cohort registry systematic review
    meta analysis outcomes efficacy safety tolerability adults adolescents veterans older
    patients outpatient clinic hospital emergency department placebo midazolam
    electroconvulsive therapy psychotherapy anxiety sleep dissociation blood pressure
    glutamate nmda receptor antagonist brain derived neurotrophic factor synaptic
    plasticity mice rats model of in for with and the a after versus during over weeks
    months long term rapid effects predictors biomarkers imaging connectivity
"""
# Accents, Greek, Cyrillic and Japanese: normalised titles are not ASCII.
WORDS = [*_ENGLISH.split(), "Kétamine", "über", "naïve", "\u03b12", "\u03b2", "ПТСР", "ケタミン"]


def _title(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.choice((2, 3, 5, 8, 12, 16, 24, 34)))]
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(("", ".", ": a trial", "?"))


def _slip(text: str, rng: random.Random, at: int | None = None) -> str:
    """One careless edit at `at` (or anywhere): a letter dropped, doubled, changed or swapped."""
    where = rng.randrange(len(text)) if at is None else min(at, len(text) - 1)
    kind = rng.randrange(4)
    if kind == 0 and len(text) > 2:
        return text[:where] + text[where + 1 :]
    if kind == 1:
        return text[:where] + text[where] + text[where:]
    if kind == 2:
        return text[:where] + rng.choice("aeiouxz") + text[where + 1 :]
    if where + 1 < len(text):
        return text[:where] + text[where + 1] + text[where] + text[where + 2 :]
    return text + "s"


def _accented(text: str) -> str:
    return text.upper().replace("E", "É").replace("A", "À").replace("U", "Ü")


@dataclass
class Planted:
    """The generated studies, and which planted pairs (by key) must or must not be found."""

    refs: list[Reference] = field(default_factory=list)
    found: list[tuple[str, str]] = field(default_factory=list)
    not_found: list[tuple[str, str]] = field(default_factory=list)
    first_word: list[tuple[str, str]] = field(default_factory=list)
    share_doi: list[tuple[str, str]] = field(default_factory=list)  # (study, takes DOI of)
    retitle: list[tuple[str, str]] = field(default_factory=list)  # (study, its real title)


def generated_library(n: int, seed: int = 11) -> Planted:
    """`n` studies, about a quarter of them planted near-duplicates or traps."""
    rng = random.Random(seed)
    plan = Planted()
    originals: list[Reference] = []
    title_keys: set[tuple[str, int | None]] = set()

    def add(ref: Reference) -> Reference:
        key = f"s{len(plan.refs):05d}"
        stored = replace(ref, key=key, authors=[Author(family=f"Author{len(plan.refs)}")])
        title_key = (normalise_title(ref.title), ref.year)
        if title_key in title_keys:
            # An import takes the same title and year for the same study: the copy is saved
            # under another title and given its own afterwards.
            plan.retitle.append((key, ref.title))
            stored = replace(stored, title=f"{ref.title} (copy {key})")
        title_keys.add(title_key)
        plan.refs.append(stored)
        return stored

    def identifiers(number: int) -> dict[str, str | None]:
        kind = rng.random()
        pmid = str(10_000_000 + number) if kind < 0.55 else None
        doi = f"10.5555/gen.{number}" if 0.4 < kind < 0.7 else None
        return {"pmid": pmid, "doi": doi}

    base = round(n * 0.76)
    for number in range(base):
        year = None if rng.random() < 0.08 else rng.randint(2000, 2024)
        originals.append(add(Reference(title=_title(rng), year=year, **identifiers(number))))

    def copy_of(original: Reference, title: str, **changes: object) -> Reference:
        fields: dict[str, object] = {"pmid": None, "doi": None, "year": original.year}
        fields.update(changes)
        return add(replace(original, title=title, **fields))

    def missing_kind(original: Reference) -> dict[str, str | None]:
        # A copy may carry the kind of identifier its original lacks: that never rules it out.
        number = 20_000_000 + len(plan.refs)
        if original.pmid is None and rng.random() < 0.5:
            return {"pmid": str(number)}
        if original.doi is None and rng.random() < 0.5:
            return {"doi": f"10.5555/copy.{number}"}
        return {}

    while len(plan.refs) < n:
        original = rng.choice(originals)
        trap = rng.randrange(9)
        if trap == 0:  # a slip in the first word
            copy = copy_of(original, _slip(original.title, rng, at=rng.randrange(3)))
            plan.first_word.append((original.key or "", copy.key or ""))
        elif trap == 1:  # one to three slips anywhere, the copy sometimes undated
            title = original.title
            for _ in range(rng.randint(1, 3)):
                title = _slip(title, rng)
            year = None if rng.random() < 0.3 else original.year
            copy_of(original, title, year=year, **missing_kind(original))
        elif trap == 2:  # case and accents
            copy = copy_of(original, _accented(original.title), **missing_kind(original))
            plan.found.append((original.key or "", copy.key or ""))
        elif trap == 3 and original.year is not None:  # the same title, another year
            copy = copy_of(original, original.title, year=original.year + rng.randint(1, 3))
            plan.not_found.append((original.key or "", copy.key or ""))
        elif trap == 4 and original.pmid is not None:  # the same title under another PMID
            copy = copy_of(original, original.title, pmid=str(30_000_000 + len(plan.refs)))
            plan.not_found.append((original.key or "", copy.key or ""))
        elif trap == 5 and original.doi is not None:  # a shared DOI, an unrelated title
            year = rng.choice((original.year, None, (original.year or 2000) + 1))
            copy = copy_of(original, _title(rng), year=year, doi=f"10.5555/tmp.{len(plan.refs)}")
            plan.share_doi.append((copy.key or "", original.key or ""))
            pair = (original.key or "", copy.key or "")
            apart = None not in (year, original.year) and year != original.year
            (plan.not_found if apart else plan.found).append(pair)
        elif trap == 6:  # exactly the threshold (two of 25 letters changed: 92.0)...
            year = rng.randint(2000, 2024)
            for length, pairs in ((25, plan.found), (24, plan.not_found)):  # ...and 91.7
                stem = "".join(rng.choice("bcdfghjklmnpqrstvwxyz") for _ in range(length))
                first = add(Reference(title=stem, year=year))
                second = add(Reference(title=stem[:-2] + "ae", year=year))
                pairs.append((first.key or "", second.key or ""))
        elif trap == 7:  # short titles, where one slip moves the score a long way
            word = rng.choice(WORDS)
            add(Reference(title=word, year=original.year))
            add(Reference(title=_slip(word, rng), year=None))
        elif trap == 8 and rng.random() < 0.05:  # titles that normalise to nothing
            add(Reference(title=rng.choice(("???", "—", "[…]")), year=2011))
    del plan.refs[n:]  # the last trap may have planted more than were left to plant
    kept = {ref.key for ref in plan.refs}
    for pairs in (plan.found, plan.not_found, plan.first_word, plan.share_doi):
        pairs[:] = [pair for pair in pairs if pair[0] in kept and pair[1] in kept]
    plan.retitle = [(key, title) for key, title in plan.retitle if key in kept]
    return plan


def _plant(library: Library, plan: Planted) -> None:
    """Give the copies their own titles, and some studies their original's DOI in capitals
    (as older data may hold it): what no import would store."""
    by_key = {ref.key: ref for ref in plan.refs}
    with library.db.transaction() as session:
        for key, title in plan.retitle:
            study = session.get_one(Study, find_study_id(session, key))
            study.title, study.title_norm = title, normalise_title(title)
        for key, donor in plan.share_doi:
            mine, theirs = by_key[key].doi, by_key[donor].doi
            row = session.scalars(select(Identifier).where(Identifier.value == mine)).one()
            row.value = (theirs or "").upper()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Library, Planted]]:
    plan = generated_library(5000)
    url = f"sqlite:///{tmp_path_factory.mktemp('dups') / 'generated.sqlite'}"
    library = Library(url)
    summary = library.save(plan.refs, source="csljson:generated.json", command="test")
    assert summary.count("added") == 5000
    _plant(library, plan)
    yield library, plan
    library.close()


def test_blocked_search_finds_exactly_what_every_pair_finds(
    generated: tuple[Library, Planted],
) -> None:
    library, plan = generated
    blocked = as_rows(library.duplicates())
    assert blocked == every_pair(library)

    keys = {ref.id: ref.key for ref in library.studies()}
    found = {(keys[a], keys[b]) for _, a, b, _ in blocked}
    assert len(found) > 500
    assert set(plan.found) <= found
    assert not set(plan.not_found) & found
    # Slips in the first word, which a first-word block would miss, are found.
    assert len(set(plan.first_word) & found) > 50
    reasons = [reason for _, _, _, reason in blocked]
    assert any(reason.startswith("same DOI 10.5555/gen.") for reason in reasons)
    assert any(reason.startswith("near-identical title and year") for reason in reasons)
    assert "near-identical title" in reasons  # two undated studies
    assert any(score == THRESHOLD for score, _, _, _ in blocked)


def test_titles_at_the_largest_length_difference_are_compared(any_db_url: str) -> None:
    # A title and itself with four letters added score exactly 92 at 23 and 27 letters (the
    # largest difference in length a match allows), and 91.7 at 22 and 26.
    rng = random.Random(5)
    refs = []
    for length in (22, 23):
        for _ in range(40):
            stem = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(length))
            refs += [Reference(title=stem, year=2020), Reference(title=stem + "aeio", year=2020)]
    library = Library(any_db_url)
    try:
        assert library.save(refs, source="test", command="test").count("added") == 160
        found = as_rows(library.duplicates())
        assert found == every_pair(library)
        assert [score for score, _, _, _ in found] == [THRESHOLD] * 40
    finally:
        library.close()


def test_titles_of_the_same_words_in_other_orders_are_told_apart(tmp_path: Path) -> None:
    # Every title holds the same letters: a count of letters rules none out, so each pair
    # is scored; the slips and swapped neighbours among them are found, the rest are not.
    rng = random.Random(3)
    words = [
        "ketamine",
        "infusions",
        "for",
        "refractory",
        "depression",
        "in",
        "adults",
        "with",
        "chronic",
        "pain",
    ]
    titles: set[str] = set()
    while len(titles) < 150:
        order = words[:]
        rng.shuffle(order)
        titles.add(" ".join(order))
    refs = [Reference(title=title, year=2021) for title in sorted(titles)]
    for ref in refs[:40]:
        slip = _slip(ref.title, rng)
        if normalise_title(slip) not in titles:  # else an import takes it for that study
            refs.append(Reference(title=slip, year=rng.choice((2021, None))))
    for _ in range(2):  # and two pairs at exactly the threshold among them
        stem = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(25))
        refs += [Reference(title=stem, year=2021), Reference(title=stem[:-2] + "ae", year=2021)]
    library = Library(f"sqlite:///{tmp_path / 'orders.sqlite'}")
    try:
        assert library.save(refs, source="test", command="test").count("added") == len(refs)
        found = as_rows(library.duplicates())
        assert found == every_pair(library)
        assert len(found) >= 30
        assert [score for score, _, _, _ in found].count(THRESHOLD) >= 2
    finally:
        library.close()


REAL = REPO / "tests" / "data" / "realworld"


def test_blocked_search_agrees_with_every_pair_on_real_exports(tmp_path: Path) -> None:
    # Real titles (CJK, Cyrillic, LaTeX, very short and very long) from the exports in
    # tests/data/realworld (origins in its SOURCES.md), imported into one library.
    library = Library(f"sqlite:///{tmp_path / 'real.sqlite'}")
    try:
        for path in sorted(REAL.iterdir()):
            if path.suffix in (".bib", ".ris", ".json") and not path.name.startswith("wos-"):
                api.import_file(library, path)
        assert len(library.studies()) > 150
        found = as_rows(library.duplicates())
        assert found == every_pair(library)
        assert len(found) > 10
    finally:
        library.close()


def test_duplicates_command_shows_a_slip_in_the_first_word(cli: RunCli, tmp_path: Path) -> None:
    title = "Ketamine infusions for refractory depression: a randomized trial"
    entries = [
        {"id": "orig", "type": "article-journal", "title": title, "PMID": "25000001",
         "author": [{"family": "Lee"}], "issued": {"date-parts": [[2015]]}},
        {"id": "slip", "type": "article-journal", "title": "K" + title[2:],
         "author": [{"family": "Lee"}], "issued": {"date-parts": [[2015]]}},
        {"id": "undated", "type": "article-journal", "title": title.upper().replace("E", "É"),
         "author": [{"family": "Lee"}]},
        {"id": "later", "type": "article-journal", "title": title,
         "author": [{"family": "Lee"}], "issued": {"date-parts": [[2016]]}},
        {"id": "other", "type": "article-journal", "title": title, "PMID": "25000002",
         "author": [{"family": "Lee"}], "issued": {"date-parts": [[2015]]}},
    ]  # fmt: skip
    path = tmp_path / "refs.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    assert cli("import", str(path)).exit_code == 0
    shown = cli("duplicates", env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.stderr
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in shown.stdout.splitlines()]
    pairs = {(row[2], row[3]) for row in rows if len(row) == 4 and row[0].isdigit()}
    # The slip in the first word is found; the undated copy is one with each dated one; the
    # same title in another year, or under another PMID, is another study.
    assert pairs == {
        ("orig", "slip"),
        ("orig", "undated"),
        ("slip", "undated"),
        ("slip", "other"),
        ("undated", "later"),
        ("undated", "other"),
    }
