"""The one bulk write path keeps every guarantee at scale: one transaction, identity and merge
rules inside a batch, undo back to the byte, and the search index, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from refdb.cli import app
from refdb.records import Reference
from refdb.render.bibtex import render_bibtex
from tests.conftest import dump

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _common import synthetic_references


def run(url: str, *args: str) -> str:
    result = CliRunner().invoke(app, ["--db", url, *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_an_import_of_20000_then_undo_restores_the_database_exactly(
    any_db_url: str, tmp_path: Path
) -> None:
    run(any_db_url, "seed")
    run(any_db_url, "tag", "hu2016single", "Anxiety")
    before = dump(any_db_url)
    path = tmp_path / "big.bib"
    path.write_text(render_bibtex(synthetic_references(20_000)), encoding="utf-8")
    report = json.loads(run(any_db_url, "import", str(path), "--indication", "Bulk", "--json"))
    assert report["counts"]["added"] == 20_000
    assert len(json.loads(run(any_db_url, "list", "--json", "--indication", "Bulk"))) == 20_000
    run(any_db_url, "undo")
    assert dump(any_db_url) == before


def test_a_batch_merges_entries_that_share_an_identifier_and_keeps_the_rest_apart(
    db_url: str,
) -> None:
    """Within one file, entries are different studies unless they share a PMID or DOI: the
    file's author kept them apart (design.md, Identity)."""
    refs = [
        Reference(title="First", doi="10.1000/a", year=2001),
        Reference(title="First, again", doi="10.1000/A", year=2001, volume="7"),
        Reference(title="Same title", year=2002),
        Reference(title="Same  title.", year=2002, issue="3"),  # same title key: still apart
        Reference(title="Same title", year=2002, pmid="123"),
        Reference(title="Other", year=2003, pmid="123"),  # shares the PMID: one study
    ]
    from refdb.api import open_library

    library = open_library(db_url)
    summary = library.save(refs, source="bibtex:x.bib", command="test")
    assert [r.action for r in summary.results] == [
        "added",
        "updated",
        "added",
        "added",
        "added",
        "updated",
    ]
    stored = {s.key: s for s in library.studies()}
    assert len(stored) == 4
    first = next(s for s in stored.values() if s.doi)
    assert (first.title, first.volume) == ("First, again", "7")
    by_pmid = next(s for s in stored.values() if s.pmid == "123")
    assert by_pmid.title == "Same title"  # "Other" is no fuller: the first entry's stays
    library.close()


def test_an_identifier_one_entry_adds_makes_a_later_entry_the_same_study(db_url: str) -> None:
    from refdb.api import open_library

    library = open_library(db_url)
    library.save([Reference(title="Stored", year=2000)], source="bibtex:a.bib", command="a")
    later = [
        Reference(title="Stored", year=2000, doi="10.1000/new"),  # matched by title
        Reference(title="Stored, retitled", year=2000, doi="10.1000/NEW"),  # then by its DOI
    ]
    summary = library.save(later, source="bibtex:b.bib", command="b")
    assert [r.action for r in summary.results] == ["updated", "updated"]
    assert len(library.studies()) == 1
    library.close()


def test_search_finds_studies_the_batch_added(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "few.bib"
    path.write_text(render_bibtex(synthetic_references(50)), encoding="utf-8")
    run(db_url, "import", str(path))
    first = synthetic_references(1)[0]
    word = first.title.split()[0]
    found = json.loads(run(db_url, "search", word, first.authors[0].family or "", "--json"))
    assert first.title in [s["title"] for s in found]


def test_the_log_holds_new_studies_exactly_as_read_back(any_db_url: str, tmp_path: Path) -> None:
    """A new study's after-state is built from the rows the import wrote, not read back: it
    must be what reading it back gives, or undo would think someone changed it since."""
    from sqlalchemy import select

    from refdb.api import import_file, open_library
    from refdb.store.models import Change
    from refdb.store.rows import study_snapshots

    url = any_db_url
    path = tmp_path / "few.bib"
    text = render_bibtex(synthetic_references(40))
    path.write_text(
        text + "@article{twin, title={Twin}, year=2001, pmid={12345678}}\n"
        "@article{twin2, title={Twin again}, year=2001, pmid={12345678}}\n",
        encoding="utf-8",
    )
    library = open_library(url)
    report = import_file(library, path, indications=["Pain", "CRPS"])
    assert report.summary.operation_id is not None
    with library.db.reading() as session:
        logged = {
            c.entity_id: c.after
            for c in session.scalars(
                select(Change).where(Change.operation_id == report.summary.operation_id)
            )
            if c.entity == "study"
        }
        assert len(logged) == 41
        assert logged == study_snapshots(session, list(logged))
    library.close()
