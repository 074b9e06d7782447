"""refdb's citeproc-py fixes are in place only while refdb renders.

A program that imports refdb, or renders with citeproc-py itself before or after refdb did,
gets citeproc-py exactly as it ships; refdb's own entries carry every fix (the golden and
citeproc-js comparisons in test_citations.py and test_citeproc_js.py hold them to the letter).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from citeproc.model import Key, Label, Name, Substitute, Text, TextCased

from refdb.csl import from_csl
from refdb.render.citations import format_bibliography, resolve_style
from refdb.render.citeproc_fixes import installed

HERE = Path(__file__).resolve().parent

# One item per fix: initials with a particle, a lower-case "de" in a title-cased journal, an
# authorless book (its title substitutes for the author), accented names to sort, and a
# chapter whose editors' label APA title-cases.
ITEMS: list[dict[str, Any]] = [
    {
        "id": "gogh",
        "type": "article-journal",
        "title": "A study",
        "author": [{"family": "Gogh", "given": "Vincent van"}],
        "issued": {"date-parts": [[2001]]},
        "container-title": "Journal international de bioethique",
    },
    {
        "id": "toxinology",
        "type": "book",
        "title": "Bibliography of toxinology",
        "issued": {"date-parts": [[1999]]},
        "publisher": "Toxicon",
    },
    {
        "id": "gotze",
        "type": "article-journal",
        "title": "Another",
        "author": [{"family": "Götze", "given": "Anna"}],
        "issued": {"date-parts": [[2003]]},
        "container-title": "J",
    },
    {
        "id": "gunnars",
        "type": "article-journal",
        "title": "Third",
        "author": [{"family": "Gunnars", "given": "Bo"}],
        "issued": {"date-parts": [[2004]]},
        "container-title": "J",
    },
    {
        "id": "roe",
        "type": "chapter",
        "title": "Ch",
        "author": [{"family": "Roe", "given": "Al"}],
        "editor": [{"family": "Ed", "given": "Bo"}, {"family": "Ed2", "given": "Cy"}],
        "container-title": "Book",
        "issued": {"date-parts": [[2005]]},
        "publisher": "P",
    },
]

CITEPROC_APA = [
    "Bibliography of toxinology. (1999). Bibliography of toxinology. Toxicon.",
    "Gogh, V. van . (2001). A study. Journal International De Bioethique.",
    "Gunnars, B. (2004). Third. J.",
    "Götze, A. (2003). Another. J.",
    "Roe, A. (2005). Ch. In B. Ed & C. Ed2 (eds.), Book. P.",
]
"""What citeproc-py 0.11.1 prints for ITEMS in APA, gaps and all."""

REFDB_APA = [
    "Bibliography of toxinology. (1999). Toxicon.",
    "Gogh, V. van. (2001). A study. Journal International de Bioethique.",
    "Götze, A. (2003). Another. J.",
    "Gunnars, B. (2004). Third. J.",
    "Roe, A. (2005). Ch. In B. Ed & C. Ed2 (Eds.), Book. P.",
]
"""What refdb prints for them, as citeproc-js does."""


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The probe's findings from a fresh interpreter (nothing of refdb imported before)."""
    items = tmp_path_factory.mktemp("probe") / "items.json"
    items.write_text(json.dumps(ITEMS), encoding="utf-8")
    styles = [f"{name}={resolve_style(name)}" for name in ("apa", "ama")]
    done = subprocess.run(
        [sys.executable, str(HERE / "citeproc_probe.py"), str(items), *styles],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_importing_refdb_leaves_citeproc_py_untouched(probe: dict[str, Any]) -> None:
    assert probe["changed by importing refdb"] == []


def test_rendering_through_refdb_leaves_citeproc_py_as_it_ships(probe: dict[str, Any]) -> None:
    assert probe["changed by rendering through refdb"] == []
    assert probe["before"]["apa"] == CITEPROC_APA
    assert probe["after"] == probe["before"]


def test_refdb_renders_with_every_fix(probe: dict[str, Any]) -> None:
    assert probe["refdb"]["apa"] == REFDB_APA
    ama = probe["refdb"]["ama"]
    assert "2. Bibliography of Toxinology. Toxicon; 1999." in ama
    assert not any("Toxinology. Bibliography" in line for line in probe["refdb"]["apa"] + ama)


def _citeproc_members() -> list[object]:
    return [
        vars(Substitute)["render"],
        vars(Text)["_variable"],
        vars(TextCased)["_stop_words"],
        vars(Label)["markup"],
        vars(Name)["initialize"],
        vars(Key)["sort_keys"],
    ]


def test_fixes_are_undone_when_a_rendering_fails() -> None:
    own = _citeproc_members()
    with pytest.raises(RuntimeError), installed():
        assert all(a is not b for a, b in zip(_citeproc_members(), own, strict=True))
        with installed():  # nested: still installed after the inner block
            pass
        assert _citeproc_members()[0] is not own[0]
        raise RuntimeError("rendering failed")
    assert all(a is b for a, b in zip(_citeproc_members(), own, strict=True))


def test_renderings_in_threads_get_the_fixes_and_leave_citeproc_py_as_it_was() -> None:
    own = _citeproc_members()
    refs = [from_csl(dict(item)) for item in ITEMS]
    results: list[str] = []

    def render() -> None:
        results.append(format_bibliography(refs, "apa"))

    threads = [threading.Thread(target=render) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["".join(f"{line}\n" for line in REFDB_APA)] * 4
    assert all(a is b for a, b in zip(_citeproc_members(), own, strict=True))
