"""Smoke test of benchmarks/: each script runs on a tiny size, prints its table and checks.

No timing is asserted here: speed is measured by running the benchmarks themselves.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def benchmarks_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))


def _scripts() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in BENCHMARKS.glob("bench_*.py")))


# These run refdb as whole processes and print their own columns: their tests are below.
WHOLE_PROCESS = ("bench_scale.py", "bench_latex.py", "bench_site.py")


@pytest.mark.usefixtures("benchmarks_on_path")
def test_run_all_runs_every_bench_script() -> None:
    run_all = importlib.import_module("run_all")
    assert sorted(run_all.SCRIPTS) == list(_scripts())


@pytest.mark.usefixtures("benchmarks_on_path")
@pytest.mark.parametrize("script", [s for s in _scripts() if s not in WHOLE_PROCESS])
def test_bench_script_prints_its_figures(script: str, capsys: pytest.CaptureFixture[str]) -> None:
    module = importlib.import_module(script.removesuffix(".py"))
    args = ["--quick", "--repeats", "1"]
    if script != "bench_pubmed_parse.py":  # its size is a count of whole-document parses
        args += ["--size", "12"]
    status = module.main(args)
    out = capsys.readouterr().out
    assert status == 0, out
    if out.startswith("skipped:"):  # the shared fixtures are not next to this checkout
        assert script == "bench_pubmed_parse.py"
        return
    assert out.startswith("## ")
    # Every table has its baseline at 1.00x and at least one figure against it.
    rows = re.findall(r"^(.+?)\s+(\d+)\s+(\d+\.\d{4})\s+\S+ (?:ms|µs)\s+(\d+\.\d\d)x$", out, re.M)
    assert len(rows) >= 2, out
    baselines = [row for row in rows if "(baseline)" in row[0]]
    assert baselines and all(row[3] == "1.00" for row in baselines), out
    assert re.search(r"^check: .*: yes", out, re.M), out


@pytest.mark.usefixtures("benchmarks_on_path")
def test_bench_scale_runs_refdb_as_processes(capsys: pytest.CaptureFixture[str]) -> None:
    module = importlib.import_module("bench_scale")
    status = module.main(["--sizes", "50", "--repeats", "1"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert re.search(r"^check: .*: yes$", out, re.M), out


@pytest.mark.usefixtures("benchmarks_on_path")
def test_bench_latex_imports_a_latex_heavy_file(capsys: pytest.CaptureFixture[str]) -> None:
    module = importlib.import_module("bench_latex")
    status = module.main(["--sizes", "40", "--repeats", "1"])
    out = capsys.readouterr().out
    assert status == 0, out
    # The row the issue asks for, as a ratio against bibtexparser's parse of the same file.
    assert re.search(
        r"^\| refdb import, LaTeX-heavy \.bib +\| +40 \|.* \d+\.\d\dx \| floor A ", out, re.M
    ), out
    assert re.search(r"^check: .*: yes$", out, re.M), out


@pytest.mark.usefixtures("benchmarks_on_path")
def test_bench_site_times_the_site_and_kept_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    module = importlib.import_module("bench_site")
    # No browser here (tests/test_site_browser.py drives one): its row says so.
    status = module.main(["--sizes", "30", "--repeats", "1", "--browser-max", "0"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert re.search(r"^\| refdb site, from nothing +\| +30 \|.* \d+\.\d\dx \| floor A ", out, re.M)
    assert re.search(r"^\|   what keeping a site costs the tag +\| +30 \|", out, re.M), out
    assert re.search(r"^\| Chromium: not run above 0 studies", out, re.M), out
    assert re.search(r"^check: .*: yes$", out, re.M), out
