"""BibTeX and BibLaTeX files (`.bib`) to References, through bibtexparser 2.

Three steps, each in its module: `bibtex_blocks` splits the file into entries (a block that
cannot be parsed, an entry that never closes, costs that entry only; reading resumes at the
next entry), `bibtex_names` splits names, `bibtex_fields` maps an entry's fields to a
Reference. A problem belongs to one entry, which is kept with what can be kept and gets a
warning, or is skipped when it cannot be a reference (no title and no identifier, a `@set` or
`@xdata` container).

Then a middleware stack chosen on purpose runs over the entries: field names lower-cased
(the first of a field given twice wins), `#` concatenations and @string macros resolved (an
undefined macro keeps its name, the text a reader sees), names split while their braces are
still there (`{International Association for the Study of Pain}` stays one collective
author; a list written with commas where `and` belongs is split at the commas). Each value
is then decoded from LaTeX to Unicode (`refdb.sources.latex`), field by field: titles and names
are decoded, identifiers (DOI, URL, PMID) only lose their escaping backslashes. `crossref`
and `xdata` parents lend their fields to their children, as biber does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from refdb.records import IndicationSpec, Reference
from refdb.sources.bibtex_blocks import read_entries
from refdb.sources.bibtex_fields import EntryFields, entry_to_reference
from refdb.sources.bibtex_names import line_of
from refdb.sources.problems import ReadResult
from refdb.sources.textfile import read_text, stamp_provenance

CONTAINERS = frozenset(["set", "xdata"])
"""Entry types that hold other entries or fields, not a reference of their own."""


def parse_bibtex(text: str, *, source: str = "<string>") -> ReadResult:
    """Parse BibTeX/BibLaTeX text into References and the problems of its entries.

    An entry with a brace or quote that never closes costs that entry, not the file: it is
    skipped, and reading goes on at the next line that starts an entry. Text with no entry
    at all is RefdbError."""
    read = read_entries(text, source)
    result = read.result
    pending = read.entries
    pending.reverse()
    while pending:  # each entry let go once read: the References take the memory it held
        entry = pending.pop()
        line = line_of(entry)
        label = read.fresh.get(line, entry.key)
        kind = entry.entry_type.lower()
        if kind in CONTAINERS:
            what = (
                "its members are imported"
                if kind == "set"
                else "the entries that name it inherit its fields"
            )
            result.skip(line, label, f"a @{kind} container ({what})")
            continue
        fields = EntryFields(entry, read.notes[line])
        ref = entry_to_reference(entry, fields)
        if ref is None:
            result.skip(line, label, "no title and no identifier")
            continue
        if line in read.fresh:
            ref.key = None
        result.keep(ref, line, label, read.notes[line])
    return result


_DECLARED = re.compile(r"@comment\s*\{\s*refdb-indications:\s*(\[.*?\])\s*\}", re.I | re.S)


def declared_indications(text: str) -> list[IndicationSpec]:
    """Indications a refdb export declares in `@comment{refdb-indications: [...]}`, in order.

    BibTeX has no field for them (keywords mix indications with other words), and every
    BibTeX tool ignores `@comment`, so refdb's exports carry names and headings there.
    """
    match = _DECLARED.search(text)
    if not match:
        return []
    try:
        raw = json.loads(match.group(1))
        return [
            IndicationSpec(name=str(name), heading=str(heading), position=number)
            for number, (name, heading) in enumerate(raw, start=1)
        ]
    except (ValueError, TypeError):
        return []


def _file_declared(refs: list[Reference], specs: list[IndicationSpec]) -> list[Reference]:
    names = {spec.name.casefold(): spec.name for spec in specs}
    for ref in refs:
        ref.indications = [names[k.casefold()] for k in ref.keywords if k.casefold() in names]
        ref.keywords = [k for k in ref.keywords if k.casefold() not in names]
    return refs


def read_bibtex(path: Path, encoding: str | None = None) -> ReadResult:
    """Read a `.bib` file; each field it sets is credited to `bibtex:<file name>`."""
    text = read_text(path, encoding)
    result = parse_bibtex(text, source=str(path))
    result.indications = declared_indications(text)
    _file_declared(result.references, result.indications)
    stamp_provenance(result.references, f"bibtex:{path.name}")
    return result
