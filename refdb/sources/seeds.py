"""The clinic's list as data: `seeds/` read through the CSL-JSON importer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from refdb.errors import RefdbError
from refdb.records import IndicationSpec, Reference
from refdb.sources.csljson import parse_csl_json
from refdb.sources.textfile import read_text, stamp_provenance

PACKAGE_DIR = Path(__file__).resolve().parents[1]
SEED_SOURCE = "seed"


@dataclass
class SeedData:
    """The page's indications (in order) and its studies (in page order)."""

    indications: list[IndicationSpec]
    studies: list[Reference]


def seeds_dir() -> Path:
    """The seeds folder: inside the wheel (`refdb/_seeds`) or the source tree's `seeds/`."""
    packaged = PACKAGE_DIR / "_seeds"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / "seeds"


def load_seeds(folder: Path | None = None) -> SeedData:
    """Read `indications.json` and `studies.json` (CSL-JSON) from the seeds folder."""
    folder = folder or seeds_dir()
    path = folder / "indications.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        indications = [
            IndicationSpec(name=i["name"], heading=i["heading"], position=int(i["position"]))
            for i in raw
        ]
    except FileNotFoundError:
        raise RefdbError(f"{path}: seeds not found") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise RefdbError(f"{path}: not a list of indications ({exc})") from None
    studies = parse_csl_json(
        read_text(folder / "studies.json"), source=str(folder / "studies.json")
    )
    if studies.problems:
        first = studies.sorted_problems()[0]
        raise RefdbError(
            f"{folder / 'studies.json'}: line {first.line}: {first.key}: {first.message}"
        )
    # Every field is the clinic's verified seed, whatever file format carries it.
    return SeedData(indications, stamp_provenance(studies.references, SEED_SOURCE))
