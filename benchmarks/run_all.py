"""Run every benchmark script in turn, each in its own process (`make bench`).

Options after the script name (`--quick`, `--size N`, `--repeats N`) are passed to each script.
`--scale-sizes A,B,...` is passed to the whole-process scripts alone (`bench_scale.py`,
`bench_latex.py`, `bench_site.py`), as their `--sizes` (`make bench` gives 1000,10000,100000);
without it, they run at their default sizes (1000,10000), or their quick size with `--quick`.
Exits 1 when any script fails or reports a failed check.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = (
    "bench_import.py",
    "bench_search.py",
    "bench_duplicates.py",
    "bench_render.py",
    "bench_pubmed_parse.py",
    "bench_scale.py",
    "bench_latex.py",
    "bench_site.py",
)
WHOLE_PROCESS = ("bench_scale.py", "bench_latex.py", "bench_site.py")  # --scale-sizes as --sizes


def main(argv: Sequence[str] | None = None) -> int:
    """Run each script with the given options; returns 0 when all of them succeeded."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(__doc__)
        return 0
    scale_args: list[str] = []
    if "--scale-sizes" in args:
        at = args.index("--scale-sizes")
        scale_args = ["--sizes", *args[at + 1 : at + 2]]
        del args[at : at + 2]
    print(
        f"# refdb benchmarks, {datetime.date.today().isoformat()}, Python "
        f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores"
    )
    print()
    failed = []
    for script in SCRIPTS:
        sys.stdout.flush()
        start = time.perf_counter()
        # Their --sizes wins over --size.
        own = [*args, *scale_args] if script in WHOLE_PROCESS else args
        done = subprocess.run([sys.executable, str(HERE / script), *own], check=False)
        print(f"({script}: {time.perf_counter() - start:.1f} s wall, exit {done.returncode})")
        print()
        if done.returncode != 0:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
