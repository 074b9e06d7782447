"""Reading PubMed XML: `parse_pubmed_xml` vs a bare `xml.etree.ElementTree.fromstring`.

The document is NLM's 2019 PubMed sample (176 articles) from the shared fixtures. The ratio is
the cost of defusedxml's checks plus field extraction into References, relative to parsing the
same bytes with no checks and no extraction. `--size N` parses the document N times per timing.
"""

from __future__ import annotations

import gzip
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence

import defusedxml.ElementTree as SafeET
from _common import SHARED, Figure, best_of, parse_options, print_table

from refdb.sources.pubmed.parse import parse_pubmed_xml

SAMPLE = SHARED / "fixtures" / "pubmed" / "nlm-pubmedsample-2019.xml.gz"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the PubMed parsing figures; returns the exit status."""
    options = parse_options(argv, __doc__ or "", size=10, quick_size=1)
    if not SAMPLE.is_file():
        print(f"skipped: {SAMPLE} is absent (the shared fixtures are not next to the repo)")
        return 0
    data = gzip.decompress(SAMPLE.read_bytes())
    loops = options.size
    articles = len(parse_pubmed_xml(data, source=SAMPLE.name))
    elements = sum(1 for node in ET.fromstring(data) if node.tag.startswith("Pubmed"))

    def bare() -> None:
        for _ in range(loops):
            ET.fromstring(data)

    def defused() -> None:
        for _ in range(loops):
            SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True)

    def refdb_parse() -> None:
        for _ in range(loops):
            parse_pubmed_xml(data, source=SAMPLE.name)

    n = articles * loops
    print_table(
        f"PubMed XML: {SAMPLE.name}, {len(data) // 1024} KiB, {articles} articles, "
        f"parsed {loops} time(s) (n = articles)",
        Figure("xml.etree.ElementTree.fromstring", n, best_of(options.repeats, bare)),
        [
            Figure("defusedxml fromstring only", n, best_of(options.repeats, defused)),
            Figure(
                "parse_pubmed_xml to References (refdb)", n, best_of(options.repeats, refdb_parse)
            ),
        ],
    )
    ok = articles == elements
    print(f"check: {articles} References from {elements} articles: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
