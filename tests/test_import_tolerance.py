"""Real-world files: every entry that can be kept is kept, with one warning line naming it.

Each snippet has the shape of what a named tool or file really writes; where it comes from
is noted beside it. Whole real files are in tests/data/realworld/ (see its SOURCES.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import bibtexparser
import pytest

from refdb.errors import RefdbError
from refdb.render.bibtex import render_biblatex, render_bibtex
from refdb.sources.bibtex import parse_bibtex
from refdb.sources.csljson import parse_csl_json
from refdb.sources.files import read_references
from tests.conftest import RunCli, dump, ok


def problems(text: str) -> list[tuple[int, str, str]]:
    return [(p.line, p.key, p.message) for p in parse_bibtex(text).problems]


# --- BibTeX and BibLaTeX --------------------------------------------------------------------


def test_empty_and_duplicate_keys_keep_both_entries_with_fresh_keys(
    cli: RunCli, tmp_path: Path
) -> None:
    # Mendeley Desktop writes `@article{,` for an item it has no key for.
    path = tmp_path / "mendeley.bib"
    path.write_text(
        "@article{,\ntitle = {First keyless},\nyear = {2001}\n}\n"
        "@article{,\ntitle = {Second keyless},\nyear = {2002}\n}\n"
        "@article{smith2003,\ntitle = {Original},\nyear = {2003}\n}\n"
        "@article{smith2003,\ntitle = {Another study},\nyear = {2004}\n}\n",
        encoding="utf-8",
    )
    result = cli("import", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"] == {
        "added": 4,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "warned": 3,
    }
    warned = {(w["line"], w["key"]): w for w in report["warnings"]}
    assert warned[(1, "(no key)")]["reason"] == "no citation key; given a fresh one"
    assert warned[(13, "smith2003")]["reason"].startswith("citation key used before (line 9)")
    fresh = {w["stored_as"] for w in report["warnings"]}
    assert len(fresh) == 3 and "smith2003" not in fresh
    listed = json.loads(cli("list", "--json").stdout)
    assert sorted(s["title"] for s in listed) == [
        "Another study",
        "First keyless",
        "Original",
        "Second keyless",
    ]
    assert next(s for s in listed if s["title"] == "Original")["key"] == "smith2003"


def test_a_field_given_twice_keeps_the_first_with_a_warning() -> None:
    # JabRef and hand-edited files: the same field twice (bibtexparser reports it as an error).
    result = parse_bibtex("@article{k,\n  title = {First},\n  title = {Second},\n  year = 2000}")
    assert result.references[0].title == "First"
    assert problems("@article{k, title = {First}, title = {Second}}") == [
        (1, "k", "field 'title' is given twice; kept the first ('First')")
    ]


def test_an_undefined_macro_keeps_the_text_the_reader_sees() -> None:
    text = "@article{k, title = {T}, journal = jpain, note = jpain # { Suppl}}"
    (ref,) = parse_bibtex(text).references
    assert ref.container_title == "jpain"
    assert problems(text) == [
        (1, "k", "field 'journal': 'jpain' is not a defined @string macro; kept it as text"),
        (1, "k", "field 'note': 'jpain' is not a defined @string macro; kept it as text"),
    ]


def test_commas_where_and_belongs_are_read_as_separate_names() -> None:
    # The shape of pybtex's and biber's test data: `editor = {M. Halle, J. Bresnan, and ...}`.
    text = "@book{k, title = {T}, editor = {M. Halle, J. Bresnan, and G. Miller}}"
    (ref,) = parse_bibtex(text).references
    assert [(e.family, e.given) for e in ref.editors] == [
        ("Halle", "M."),
        ("Bresnan", "J."),
        ("Miller", "G."),
    ]
    assert problems(text) == [
        (1, "k", "field 'editor': names separated by commas, not 'and'; read as 3 names")
    ]
    # An ordinary `Family, Jr., Given` name is left alone.
    (ford,) = parse_bibtex("@book{f, title={T}, author={Ford, Jr., Henry}}").references
    assert (ford.authors[0].family, ford.authors[0].suffix) == ("Ford", "Jr.")


def test_crossref_and_xdata_children_inherit_from_their_parents() -> None:
    # biblatex-examples.bib's shape: @inproceedings with crossref to @proceedings (mixed case).
    text = """
@inproceedings{child, author = {Doe, Jane}, title = {A paper}, crossref = {Proc2020},
  pages = {1--10}}
@proceedings{proc2020, title = {Proceedings of the Meeting}, year = {2020},
  publisher = {Springer}, editor = {Roe, Richard}}
@xdata{pub, publisher = {Elsevier}, location = {Amsterdam}}
@book{b, title = {A book}, year = {1999}, xdata = {pub}}
"""
    result = parse_bibtex(text)
    by_key = {r.key: r for r in result.references}
    child = by_key["child"]
    assert (child.container_title, child.year, child.publisher) == (
        "Proceedings of the Meeting",
        2020,
        "Springer",
    )
    assert child.title == "A paper"
    assert [e.family for e in child.editors] == ["Roe"]
    assert by_key["b"].publisher == "Elsevier"
    assert "pub" not in by_key
    assert [(p.key, p.message) for p in result.problems] == [
        ("pub", "skipped: a @xdata container (the entries that name it inherit its fields)")
    ]


def test_a_set_is_skipped_and_its_members_imported() -> None:
    # biblatex-examples.bib opens with `@set{set, entryset = {herrmann,aksin,yoon}}`.
    text = (
        "@set{set, entryset = {a,b}}\n"
        "@article{a, title = {Member A}, year = 2001}\n"
        "@article{b, title = {Member B}, year = 2002}\n"
    )
    result = parse_bibtex(text)
    assert [r.key for r in result.references] == ["a", "b"]
    assert [(p.line, p.key, p.skipped) for p in result.problems] == [(1, "set", True)]


def test_parentheses_as_delimiters() -> None:
    (ref,) = parse_bibtex("@article(k,\n  title = {Parens},\n  year = 1990)").references
    assert (ref.key, ref.title, ref.year) == ("k", "Parens", 1990)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("date = {1997/2000}", (1997, None, None, None, False, "1997/2000")),
        ("date = {2014/}", (2014, None, None, None, False, "2014/")),
        ("date = {1034~}", (1034, None, None, None, True, None)),
        ("date = {199X}", (None, None, None, None, False, "199X")),
        ("date = {2020-03-04T10:20:30}", (2020, 3, 4, None, False, None)),
        ("date = {-0044-03-15}", (-44, 3, 15, None, False, None)),
        ("date = {2001-22}", (2001, None, None, 2, False, None)),
        ("year = {in press}", (None, None, None, None, False, "in press")),
        ("year = {1995--1996}", (1995, None, None, None, False, "1995--1996")),
        ("year = {1985a}", (1985, None, None, None, False, "1985a")),
        ("year = {June 1980}", (1980, 6, None, None, False, None)),
        ("year = {1980}, month = {Summer}", (1980, None, None, 2, False, None)),
        ("year = {2015}, month = sep, day = {4}", (2015, 9, 4, None, False, None)),
    ],
)
def test_dates_keep_what_is_unambiguous_and_the_original_text(
    field: str, expected: tuple[object, ...]
) -> None:
    (ref,) = parse_bibtex(f"@article{{k, title = {{T}}, {field}}}").references
    assert (ref.year, ref.month, ref.day, ref.season, ref.circa, ref.date_text) == expected
    warned = bool(problems(f"@article{{k, title = {{T}}, {field}}}"))
    assert warned == (ref.date_text is not None)


def test_soft_hyphens_are_dropped_so_search_finds_the_word(cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "soft.bib"
    path.write_text(r"@book{k, title = {The pre\-{C}olumbian world}, year = 2000}", "utf-8")
    assert cli("import", str(path)).exit_code == 0
    assert json.loads(cli("show", "k", "--json").stdout)["title"] == "The preColumbian world"
    found = json.loads(cli("search", "precolumbian", "--json").stdout)
    assert [s["key"] for s in found] == ["k"]


def test_a_field_holding_something_else_is_dropped_and_the_entry_kept() -> None:
    # Mendeley writes its own document ids into `pmid` (`pmid = {1881110575}`).
    text = "@article{k, title = {T}, pmid = {1881110575}, doi = {not a doi}}"
    (ref,) = parse_bibtex(text).references
    assert (ref.pmid, ref.doi) == (None, None)
    assert problems(text) == [
        (1, "k", "doi 'not a doi' is not a DOI (10.NNNN/... or 10/...); dropped it"),
        (1, "k", "pmid '1881110575' is not a PMID; dropped it"),
    ]


def test_bibtexparser_agrees_on_the_entries_kept() -> None:
    """An independent reader (bibtexparser with its default stack) sees the same entries."""
    text = (
        "@article{a, title={A}, title={again}}\n@article{,title={B}}\n"
        "@article(c, title={C})\n@article{d, title={D}, journal=undefined}\n"
    )
    ours = parse_bibtex(text).references
    theirs = bibtexparser.parse_string(text)
    assert len(ours) == len(theirs.entries) + len(theirs.failed_blocks) == 4


# --- encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("utf8.bib", "@article{k, title={Müller}}".encode()),
        ("bom.bib", b"\xef\xbb\xbf" + "@article{k, title={Müller}}".encode()),
        ("utf16.bib", "@article{k, title={Müller}}".encode("utf-16")),  # JabRef can write it
        (
            "jabref.bib",
            "% This file was created with JabRef 2.10.\n% Encoding: windows-1252\n\n"
            "@article{k, title={Müller}}".encode("cp1252"),
        ),
    ],
)
def test_encodings_real_tools_write(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    (ref,) = read_references(path).references
    assert ref.title == "Müller"


def test_encoding_override_and_strict_utf8_names_the_line(cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "latin.bib"
    path.write_bytes("@article{k,\n title={Caf\u00e9}}".encode("latin-1"))
    refused = cli("import", str(path))
    assert refused.exit_code == 1
    assert refused.stderr == f"refdb: {path}: line 2: not UTF-8 text (byte 23; try --encoding)\n"
    kept = cli("import", str(path), "--encoding", "latin-1")
    assert kept.exit_code == 0, kept.stderr
    assert json.loads(cli("show", "k", "--json").stdout)["title"] == "Café"
    unknown = cli("import", str(path), "--encoding", "klingon")
    assert unknown.exit_code == 1 and "unknown encoding 'klingon'" in unknown.stderr


def test_an_unbalanced_brace_costs_one_entry_and_strict_refuses_the_file(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    ok(cli("seed"))
    path = tmp_path / "broken.bib"
    path.write_text(
        "@article{a, title = {Fine}}\n@article{b, title = {Never closed, year = 2000\n"
        "@article{c, title = {Not swallowed}}\n",
        encoding="utf-8",
    )
    before = dump(db_url)
    strict = cli("import", "--strict", str(path))
    assert strict.exit_code == 1 and strict.stderr.count("\n") == 1
    assert f"{path}:2: b: skipped: a brace or quote that never closes" in strict.stderr
    assert dump(db_url) == before
    result = cli("import", str(path))
    assert result.exit_code == 0
    assert f"{path}:2: b: skipped: a brace or quote that never closes" in result.stderr
    assert "2 added, 0 updated, 0 unchanged, 1 skipped" in result.stderr
    assert cli("show", "c").exit_code == 0 and cli("show", "b").exit_code == 1


# --- the report ---------------------------------------------------------------------------


def test_per_entry_lines_only_with_verbose(cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "many.bib"
    path.write_text(
        "".join(f"@article{{k{i}, title = {{Study {i}}}, year = 2000}}\n" for i in range(30)),
        encoding="utf-8",
    )
    quiet = ok(cli("import", str(path)))
    assert quiet.stderr == "30 added, 0 updated, 0 unchanged, 0 skipped, 0 warned\n"
    path.write_text(path.read_text("utf-8") + "@article{new, title={New}}\n", "utf-8")
    verbose = ok(cli("import", str(path), "--verbose"))
    assert "added new\n" in verbose.stderr
    assert verbose.stderr.endswith("1 added, 0 updated, 30 unchanged, 0 skipped, 0 warned\n")


def test_json_report_lists_skipped_and_warned_entries(cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(
        json.dumps(
            [
                {"id": "ok", "type": "article-journal", "title": "Fine"},
                {"id": "nothing", "type": "article-journal"},
                {"id": "odd", "title": "Odd", "PMID": "abc"},
            ]
        ),
        encoding="utf-8",
    )
    result = cli("import", str(path), "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["counts"]["added"] == 2 and report["counts"]["skipped"] == 1
    assert report["skipped"] == [
        {"key": "nothing", "line": 1, "reason": "no title and no identifier"}
    ]
    assert report["warnings"] == [
        {
            "key": "odd",
            "line": 1,
            "reason": "PMID 'abc' is not a PMID; dropped it",
            "stored_as": "odd",
        }
    ]


# --- CSL-JSON -----------------------------------------------------------------------------


def test_csl_json_as_real_tools_write_it() -> None:
    items = [
        # Short DOIs (shortdoi.org), which doi.org resolves.
        {"id": "short", "type": "article-journal", "title": "Short", "DOI": "10/fqd6hj"},
        # Date-parts as strings (citation-js and some Zotero exports), a range with circa.
        {"id": "strings", "title": "S", "issued": {"date-parts": [["2019", "3", "7"]]}},
        {"id": "range", "title": "R", "issued": {"date-parts": [[1997], [2000]], "circa": True}},
        {"id": "season", "title": "Se", "issued": {"date-parts": [[2001]], "season": "Summer"}},
        {"id": "literal", "title": "L", "issued": {"literal": "in press"}},
        {"id": "negative", "title": "N", "issued": {"date-parts": [[-44, 3, 15]]}},
        # A Manubot web page with only a URL.
        {"id": "web", "type": "webpage", "URL": "https://example.org/page"},
        # Crossref's raw JSON: lists for titles, its own type names.
        {
            "type": "journal-article",
            "title": ["Crossref title"],
            "container-title": ["Journal of Things"],
            "DOI": "10.1000/xyz",
            "issued": {"date-parts": [[2020, 5]]},
        },
    ]
    result = parse_csl_json(json.dumps(items))
    by_title = {r.title: r for r in result.references}
    assert by_title["Short"].doi == "10/fqd6hj"
    assert (by_title["S"].year, by_title["S"].month, by_title["S"].day) == (2019, 3, 7)
    r = by_title["R"]
    assert (r.year, r.circa, r.date_text) == (1997, True, "1997~/2000~")  # as EDTF says it
    assert (by_title["Se"].year, by_title["Se"].season) == (2001, 2)
    assert (by_title["L"].year, by_title["L"].date_text) == (None, "in press")
    assert (by_title["N"].year, by_title["N"].month, by_title["N"].day) == (-44, 3, 15)
    web = by_title["https://example.org/page"]
    assert (web.type, web.url) == ("webpage", "https://example.org/page")
    crossref = by_title["Crossref title"]
    assert (crossref.type, crossref.container_title) == ("article-journal", "Journal of Things")
    assert [(p.key, p.message) for p in result.problems] == [
        ("web", "no title; stored as 'https://example.org/page'")
    ]


def test_crossref_api_envelope_is_unwrapped() -> None:
    envelope = {"status": "ok", "message": {"items": [{"title": ["A"], "type": "book"}]}}
    (ref,) = parse_csl_json(json.dumps(envelope)).references
    assert (ref.title, ref.type) == ("A", "book")
    with pytest.raises(RefdbError, match="not CSL-JSON"):
        parse_csl_json("[1, 2]", source="x.json")
    empty = parse_csl_json("[]", source="x.json")  # refdb's own export of an empty library
    assert (empty.references, empty.problems) == ([], [])


# --- round trips ------------------------------------------------------------------------------


def test_keywords_with_commas_survive_bibtex_and_biblatex() -> None:
    from refdb.records import Reference

    ref = Reference(
        title="T",
        keywords=["Colitis, Ulcerative/*therapy", "Humans", "a; b"],
        language="en",
        pmcid="PMC4242",
        type="webpage",
    )
    for render in (render_bibtex, render_biblatex):
        (back,) = parse_bibtex(render([ref])).references
        assert back.keywords == ref.keywords
        assert (back.language, back.pmcid, back.type) == ("en", "PMC4242", "webpage")
