"""Whole-process figures for the static site and kept outputs, at sizes up to 100,000 studies.

For each size N, N synthetic studies filed under four indications (some under two, some under
none), at every evidence level, are imported once (not timed). Then, each a real `python -m
refdb` process timed from outside (best of `--repeats`; 1 from 50,000 on), as `bench_scale.py`
times its rows and against the same floors, timed in the same run:

- `refdb site` from nothing (an empty citation cache) and again (citations from the cache);
- `refdb tag` (and `untag`, in turn, so that every run changes the library) without kept
  outputs, with a kept site and with a kept markdown page: the difference is what keeping
  them costs (the issue's target: 2 s more at most);
- in headless Chromium (Debian's chromium and chromedriver, as tests/test_site_browser.py), the
  index of the site: how long it takes to load, and from a filter change to the filtered view
  shown (the frame after the change's layout and paint), against floor C: the same page after
  a change that changes nothing (an attribute no style reads: the frames alone, the least any
  change costs). Up to `--browser-max` studies (10,000).

The `check:` line sets the exit status: every command exited 0, the kept site after the last
change is byte for byte a site built from nothing, the kept page is `refdb page`.
"""

from __future__ import annotations

import argparse
import http.server
import random
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from _common import sqlite_url, synthetic_references
from bench_scale import (
    FLOOR_A,
    FLOOR_B,
    ONE_RUN_FROM,
    Measured,
    Runner,
    _middle_key,
    print_rows,
    sizes_given,
    start_report,
)

from refdb.evidence import LEVELS
from refdb.records import IndicationSpec, Reference
from refdb.render.bibtex import render_bibtex

DEFAULT_SIZES = (1000, 10_000)
QUICK_SIZES = (200,)
BROWSER_MAX = 10_000
INDICATIONS = ("CRPS", "Depression", "PTSD", "Migraine")
FLOOR_C = "floor C: Chromium shows a change that changes nothing"
TAG = "Bench"  # the indication the timed tags file a study under, and untag from


def filed_references(n: int) -> list[Reference]:
    """`synthetic_references(n)`, filed under the four indications (a tenth under two, a
    seventh under none) and spread over the evidence levels, deterministically."""
    rng = random.Random(20261202)
    refs = synthetic_references(n)
    for ref in refs:
        draw = rng.random()
        if draw < 0.15:
            ref.indications = []
        elif draw < 0.25:
            ref.indications = rng.sample(INDICATIONS, 2)
        else:
            ref.indications = [rng.choice(INDICATIONS)]
        ref.evidence_level = rng.choice(LEVELS)
    return refs


@dataclass(frozen=True)
class Row:
    """One line of a table: seconds, memory, and a ratio or a difference against its base."""

    what: str
    n: int
    seconds: float | None
    peak_mb: float | None
    against: str
    ratio: float | None = None
    target: str = "—"
    met: str = "—"

    def cells(self) -> list[str]:
        return [
            self.what,
            str(self.n),
            "—" if self.seconds is None else f"{self.seconds:.3f}",
            "—" if self.peak_mb is None else f"{self.peak_mb:.1f}",
            "—" if self.ratio is None else f"{self.ratio:.2f}x",
            self.against,
            self.target,
            self.met,
        ]


def _met(value: float | None, bound: float | None) -> tuple[str, str]:
    if bound is None:
        return "—", "—"
    return f"≤ {bound:g} s", "—" if value is None else ("yes" if value <= bound else "no")


def _copy_database(source: Path, target: Path) -> None:
    """A copy of a SQLite library (its write-ahead log included)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# --- the browser ------------------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def _served(folder: Path) -> Iterator[str]:
    handler = partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


# After a change, the time to the frame after next: the first runs the change's layout and
# paint, the second starts only once they are done (the filtered view is on screen).
_FILTER = """
const [value, done] = [arguments[0], arguments[arguments.length - 1]];
const select = document.getElementById("f-indication");
const start = performance.now();
select.value = value;
select.dispatchEvent(new Event("change"));
requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - start)));
"""
_NOTHING = """
const done = arguments[arguments.length - 1];
const list = document.getElementById("studies");
const start = performance.now();
list.setAttribute("data-bench", String(start));  // no style or script reads it
requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - start)));
"""


def browser_figures(site: Path, repeats: int) -> tuple[dict[str, float], str | None]:
    """Seconds: the index's load, a filter change to the filtered view shown (best over each
    indication and back to all), floor C. (figures, why not measured)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return {}, "selenium is not installed"
    if not chromium or not driver_path:
        return (
            {},
            "Chromium or chromedriver is not installed (apt-get install chromium chromium-driver)",
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,1400"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(300)
    driver.set_script_timeout(120)
    figures: dict[str, float] = {}
    try:
        with _served(site) as url:
            loads = []
            for _ in range(repeats):
                start = time.perf_counter()
                driver.get(url)  # returns once the load event fired
                driver.execute_script("return document.readyState")
                loads.append(time.perf_counter() - start)
            figures["load"] = min(loads)
            changes = []
            for _ in range(repeats):
                for value in (*INDICATIONS, ""):
                    changes.append(driver.execute_async_script(_FILTER, value) / 1000)
            figures["filter"] = min(changes)
            figures["filter worst"] = max(changes)
            figures["floor C"] = min(
                driver.execute_async_script(_NOTHING) / 1000 for _ in range(repeats * 5)
            )
    finally:
        driver.quit()
    return figures, None


# --- one size ---------------------------------------------------------------------------------


def run_size(runner: Runner, n: int, repeats: int, browser_max: int) -> tuple[list[Row], bool]:
    """Measure one size; its rows and whether its checks passed."""
    folder = runner.folder / f"n{n}"
    folder.mkdir()
    refs = filed_references(n)
    specs = [IndicationSpec(name, f"For {name}", k + 1) for k, name in enumerate(INDICATIONS)]
    bib = folder / "refs.bib"
    bib.write_text(render_bibtex(refs, indications=specs), encoding="utf-8")
    ok = True
    fig: dict[str, Measured] = {}
    fig["floor A"] = runner.best(
        FLOOR_A, "code", f"import bibtexparser; bibtexparser.parse_file({str(bib)!r})", [], repeats
    )
    fig["floor B"] = runner.best(FLOOR_B, "code", "import sqlalchemy.orm", [], repeats)

    runner.env["XDG_CACHE_HOME"] = str(folder / "cache-setup")
    library = folder / "library.db"
    if not runner.refdb(f"import (n={n}, untimed)", sqlite_url(library), "import", str(bib)):
        return [], False
    dbs = {name: folder / f"{name}.db" for name in ("plain", "site", "page")}
    for path in dbs.values():
        _copy_database(library, path)
    key = _middle_key(runner.listed(f"list (n={n}, untimed)", sqlite_url(library)) or [], n)
    if key is None:
        runner.problems.append(f"n={n}: no study to tag")
        return [], False
    urls = {name: sqlite_url(path) for name, path in dbs.items()}

    def cold(i: int) -> list[str]:
        runner.env["XDG_CACHE_HOME"] = str(folder / f"cache-cold-{i}")
        return ["--db", urls["plain"], "site", str(folder / f"site-cold-{i}")]

    fig["site"] = runner.best(f"refdb site (n={n})", "module", "refdb", cold, repeats)
    for i in range(repeats):
        shutil.rmtree(folder / f"site-cold-{i}", ignore_errors=True)
    runner.env["XDG_CACHE_HOME"] = str(folder / "cache")
    warm_site = folder / "site-warm"
    runner.refdb("site (untimed, fills the cache)", urls["plain"], "site", str(warm_site))
    fig["site warm"] = runner.best(
        f"refdb site again (n={n})",
        "module",
        "refdb",
        ["--db", urls["plain"], "site", str(warm_site)],
        repeats,
    )
    kept_site, kept_page = folder / "kept-site", folder / "kept-page.md"
    runner.refdb("site --keep (untimed)", urls["site"], "site", str(kept_site), "--keep")
    runner.refdb("page --keep (untimed)", urls["page"], "page", "-o", str(kept_page), "--keep")

    def tag(name: str) -> Any:
        def args(i: int) -> list[str]:
            return ["--db", urls[name], "untag" if i % 2 else "tag", key, TAG]

        return args

    fig["tag"] = runner.best(f"refdb tag (n={n})", "module", "refdb", tag("plain"), repeats)
    fig["tag site"] = runner.best(
        f"refdb tag, kept site (n={n})", "module", "refdb", tag("site"), repeats
    )
    fig["tag page"] = runner.best(
        f"refdb tag, kept page (n={n})", "module", "refdb", tag("page"), repeats
    )

    fresh = folder / "fresh-site"
    runner.refdb("site (untimed, to compare)", urls["site"], "site", str(fresh))
    if _files(kept_site) != _files(fresh):
        runner.problems.append(f"n={n}: the kept site is not the site built from nothing")
        ok = False
    shown = folder / "page.md"
    runner.refdb("page (untimed, to compare)", urls["page"], "page", stdout_path=shown)
    if kept_page.read_bytes() != shown.read_bytes():
        runner.problems.append(f"n={n}: the kept page is not `refdb page`")
        ok = False

    browser: dict[str, float] = {}
    why = f"not run above {browser_max:,} studies (--browser-max)"
    if n <= browser_max:
        browser, why_not = browser_figures(warm_site, repeats)
        why = why_not or ""
    rows = _rows(n, fig, browser, why)
    shutil.rmtree(folder, ignore_errors=True)
    return rows, ok


_SITE_TARGET = {10_000: 20.0}
"""The issue's targets, in seconds: `refdb site` at 10,000 studies."""
_KEPT_TARGET = 2.0
"""Keeping a site or a page may cost a change this many seconds more."""


def _rows(n: int, fig: dict[str, Measured], browser: dict[str, float], why: str) -> list[Row]:
    def ratio(what: str, base: str) -> float | None:
        a, b = fig[what].seconds, fig[base].seconds
        return a / b if b else None

    def row(what: str, label: str, base: str, against: str) -> Row:
        m = fig[what]
        failed = f" (FAILED {m.failed} of {m.runs})" if m.failed else ""
        return Row(label + failed, n, m.seconds, m.peak_mb, against, ratio(what, base))

    target, met = _met(fig["site"].seconds, _SITE_TARGET.get(n))
    rows = [
        Row(FLOOR_A, n, fig["floor A"].seconds, fig["floor A"].peak_mb, "(floor A)", 1.0),
        Row(FLOOR_B, n, fig["floor B"].seconds, fig["floor B"].peak_mb, "(floor B)", 1.0),
    ]
    first = row("site", "refdb site, from nothing", "floor A", "floor A")
    rows.append(Row(**{**first.__dict__, "target": target, "met": met}))
    rows.append(row("site warm", "refdb site, citations cached", "floor A", "floor A"))
    rows.append(row("tag", "refdb tag (no kept outputs)", "floor B", "floor B"))
    for what, label in (("tag site", "a site"), ("tag page", "a markdown page")):
        rows.append(row(what, f"refdb tag with {label} kept", "floor B", "floor B"))
        more = fig[what].seconds - fig["tag"].seconds
        target, met = _met(more, _KEPT_TARGET)
        rows.append(
            Row(
                f"  what keeping {label} costs the tag",
                n,
                more,
                None,
                "the same tag",
                None,
                target,
                met,
            )
        )
    if browser:
        base = browser["floor C"]
        rows += [
            Row(FLOOR_C, n, base, None, "(floor C)", 1.0),
            Row(
                "Chromium: the index loaded",
                n,
                browser["load"],
                None,
                "floor C",
                browser["load"] / base,
            ),
            Row(
                "Chromium: filter change to the view shown (best)",
                n,
                browser["filter"],
                None,
                "floor C",
                browser["filter"] / base,
            ),
            Row(
                "Chromium: filter change to the view shown (worst)",
                n,
                browser["filter worst"],
                None,
                "floor C",
                browser["filter worst"] / base,
            ),
        ]
    else:
        rows.append(Row(f"Chromium: {why}", n, None, None, "—"))
    return rows


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small run (size 200)")
    parser.add_argument("--sizes", default=None, help="comma-separated sizes (default 1000,10000)")
    parser.add_argument("--size", type=int, default=None, help="one size")
    parser.add_argument("--repeats", type=int, default=None, help="best of N (default 3)")
    parser.add_argument(
        "--browser-max", type=int, default=BROWSER_MAX, help="largest site opened in Chromium"
    )
    args = parser.parse_args(argv)
    args.sizes = sizes_given(parser, args, DEFAULT_SIZES, QUICK_SIZES)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Print the site's whole-process figures, one table per size; returns the exit status."""
    options = parse_options(argv)
    started = time.perf_counter()
    start_report("site and kept outputs")
    ok = True
    with tempfile.TemporaryDirectory(prefix="refdb-bench-site-") as tmp:
        runner = Runner(Path(tmp))
        for n in options.sizes:
            repeats = options.repeats or (1 if n >= ONE_RUN_FROM else 3)
            size_started = time.perf_counter()
            rows, size_ok = run_size(runner, n, repeats, options.browser_max)
            ok = ok and size_ok
            took = time.perf_counter() - size_started
            print_rows(f"Site and kept outputs, n = {n} (best of {repeats}; {took:.0f} s)", rows)
            sys.stdout.flush()
    for problem in runner.problems:
        print(f"problem: {problem}")
    ok = ok and not runner.problems
    print(f"({time.perf_counter() - started:.0f} s in all)")
    print(
        "check: every command exited 0, the kept site is the site built from nothing and the "
        f"kept page is `refdb page`: {'yes' if ok else 'NO'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
