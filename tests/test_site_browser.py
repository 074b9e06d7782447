"""The static site in a real browser: headless Chromium (Debian's chromium and chromium-driver)
driven by Selenium, the site served over HTTP on 127.0.0.1 and opened from file:// too.

One browser and one site for the whole module. Skipped when Chromium or its driver is
missing, except in CI (REFDB_REQUIRE_TOOLS), which installs them (.ci/run).
"""

from __future__ import annotations

import http.server
import shutil
import struct
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import needs
from tests.site_helpers import (
    HOSTILE_KEY,
    HOSTILE_TITLE_TEXT,
    level_counts,
    run,
    seeded_library,
    studies,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
# apt-get install chromium chromium-driver
pytestmark = needs("chromium|chromium-browser", "chromedriver")

webdriver = pytest.importorskip("selenium.webdriver")


class Site:
    """The seeded site on disk, its HTTP address, and the library it was built from."""

    def __init__(self, outdir: Path, http_root: str, db_url: str) -> None:
        self.outdir = outdir
        self.http_root = http_root
        self.db_url = db_url

    def http(self, path: str = "index.html") -> str:
        return f"{self.http_root}/{path}"

    def file(self, path: str = "index.html") -> str:
        return (self.outdir / path.split("?")[0]).as_uri() + (
            "?" + path.split("?", 1)[1] if "?" in path else ""
        )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site")
    db_url = f"sqlite:///{root / 'refdb.sqlite'}"
    seeded_library(db_url)
    outdir = root / "site"
    result = run(db_url, "site", str(outdir))
    assert result.exit_code == 0, result.output
    handler = partial(_QuietHandler, directory=str(outdir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(outdir, f"http://127.0.0.1:{server.server_address[1]}", db_url)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or "chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,1400"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER or "chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(browser: Any, url: str) -> list[dict[str, Any]]:
    """Load a page; the browser log entries it produced (read after loading)."""
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(url)
    browser.execute_script("return document.readyState")
    entries: list[dict[str, Any]] = browser.get_log("browser")
    return entries


def visible_keys(browser: Any) -> set[str]:
    from selenium.webdriver.common.by import By

    return {
        li.get_attribute("data-key")
        for li in browser.find_elements(By.CSS_SELECTOR, ".study")
        if li.is_displayed()
    }


def keys_where(site: Site, *, level: str, indication: str | None = None) -> set[str]:
    return {
        s["key"]
        for s in studies(site.db_url)
        if (s["evidence_level"] or "unclassified") == level
        and (indication is None or indication in s["indications"])
    }


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_the_index_loads_without_console_errors(site: Site, browser: Any, scheme: str) -> None:
    url = site.http() if scheme == "http" else site.file()
    log = open_page(browser, url)
    assert [e for e in log if e["level"] == "SEVERE"] == []
    assert browser.title == "Published Clinical Evidence"
    assert browser.execute_script("return document.documentElement.className") == "js"
    assert len(visible_keys(browser)) == len(studies(site.db_url))
    status = browser.find_element("id", "f-status").text
    assert status == f"Showing all {len(studies(site.db_url))} studies."


def test_the_chart_and_the_table_agree_with_the_library(site: Site, browser: Any) -> None:
    open_page(browser, site.http())
    expected = level_counts(site.db_url)
    bars = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg.chart rect.bar'), r => "
        "[r.dataset.indication, r.dataset.level, Number(r.dataset.count), "
        "r.getBoundingClientRect().width])"
    )
    assert {(i, lv): n for i, lv, n, _ in bars} == expected
    assert all(width > 0 for *_, width in bars)
    # Bar lengths are proportional to the counts.
    ratios = {round(width / n, 3) for _, _, n, width in bars}
    assert max(ratios) - min(ratios) < 0.01 * max(ratios)
    cells = browser.execute_script(
        "return Array.from(document.querySelectorAll('table.counts td[data-level]'), c => "
        "[c.dataset.indication, c.dataset.level, Number(c.textContent)])"
    )
    assert {(i, lv): n for i, lv, n in cells if n} == expected
    assert browser.find_element("css selector", "table.counts").is_displayed()


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_level_in_the_url_leaves_only_those_studies(site: Site, browser: Any, scheme: str) -> None:
    make = site.http if scheme == "http" else site.file
    rcts = keys_where(site, level="rct")
    assert rcts  # the hostile study at least
    log = open_page(browser, make("index.html?level=rct"))
    assert [e for e in log if e["level"] == "SEVERE"] == []
    assert visible_keys(browser) == rcts
    crps_rcts = keys_where(site, level="rct", indication="CRPS")
    open_page(browser, make("index.html?indication=CRPS&level=rct"))
    assert visible_keys(browser) == crps_rcts
    assert browser.find_element("id", "f-indication").get_attribute("value") == "CRPS"
    assert browser.find_element("id", "f-level").get_attribute("value") == "rct"
    # The Depression heading has no study left to show, so it is hidden too.
    headings = [
        h.get_attribute("textContent") for h in browser.find_elements("css selector", ".group h2")
    ]
    shown = [h.text for h in browser.find_elements("css selector", ".group h2") if h.is_displayed()]
    assert "For Depression" in headings and shown == ["For CRPS/RSD"]


def test_choosing_filters_updates_the_url_and_the_list(site: Site, browser: Any) -> None:
    from selenium.webdriver.support.ui import Select

    open_page(browser, site.http())
    Select(browser.find_element("id", "f-level")).select_by_value("rct")
    assert visible_keys(browser) == keys_where(site, level="rct")
    assert urlsplit(browser.current_url).query == "level=rct"
    Select(browser.find_element("id", "f-indication")).select_by_value("Depression")
    assert urlsplit(browser.current_url).query == "level=rct&indication=Depression"
    expected = keys_where(site, level="rct", indication="Depression")
    assert visible_keys(browser) == expected
    assert browser.find_element("id", "f-empty").is_displayed() == (not expected)
    browser.find_element("id", "f-reset").click()
    assert urlsplit(browser.current_url).query == ""
    assert len(visible_keys(browser)) == len(studies(site.db_url))


def test_a_count_in_the_table_links_to_its_studies(site: Site, browser: Any) -> None:
    open_page(browser, site.file())
    link = browser.find_element("css selector", 'td[data-indication="CRPS"][data-level="rct"] a')
    assert link.get_attribute("aria-label").endswith("studies: For CRPS/RSD")
    link.click()
    assert urlsplit(browser.current_url).query == "indication=CRPS&level=rct"
    assert visible_keys(browser) == keys_where(site, level="rct", indication="CRPS")


def test_the_filters_work_by_keyboard_with_a_visible_focus(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.keys import Keys

    open_page(browser, site.http())
    level = browser.find_element("id", "f-level")
    browser.execute_script("document.getElementById('f-indication').focus()")
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element == level
    outline = browser.execute_script(
        "const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]"
    )
    assert outline[0] == "solid" and outline[1] != "0px"
    label = browser.execute_script("return document.activeElement.labels[0].textContent")
    assert label == "Evidence level"


def test_every_internal_link_resolves_to_a_file(site: Site, browser: Any) -> None:
    pages = ["index.html"] + [f"studies/{p.name}" for p in (site.outdir / "studies").iterdir()]
    checked = 0
    for page in pages:
        open_page(browser, site.file(page))
        urls = browser.execute_script(
            "return Array.from(document.querySelectorAll('[href], [src]'), e => e.href || e.src)"
        )
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme == "file":
                target = Path(unquote(parts.path))
                assert target.is_file() and site.outdir in target.parents, (page, url)
                checked += 1
            else:
                assert parts.scheme == "https", (page, url)
                assert parts.netloc in (
                    "pubmed.ncbi.nlm.nih.gov",
                    "doi.org",
                    "pmc.ncbi.nlm.nih.gov",
                )
    assert checked > len(pages) * 2


def test_a_title_holding_a_script_stays_text(site: Site, browser: Any) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    for url in (site.http(), site.http(f"studies/{HOSTILE_KEY}.html")):
        log = open_page(browser, url)
        assert [e for e in log if e["level"] == "SEVERE"] == []
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018
        scripts = browser.execute_script(
            "return Array.from(document.scripts, s => [s.type, s.getAttribute('src')])"
        )
        code = [src.rsplit("/", 1)[-1] for kind, src in scripts if kind != "application/ld+json"]
        assert code == ["site.js"]  # the study page's JSON-LD is data, not a script
        assert browser.execute_script("return document.querySelectorAll('img').length") == 0
        assert HOSTILE_TITLE_TEXT in browser.find_element("tag name", "body").text
    heading = browser.find_element("tag name", "h1")
    assert heading.text.startswith(HOSTILE_TITLE_TEXT) and heading.is_displayed()
    assert "BACKGROUND" in [h.text for h in browser.find_elements("tag name", "h3")]


def test_filters_leave_every_study_offered_to_zotero(site: Site, browser: Any) -> None:
    open_page(browser, site.http("index.html?level=rct"))
    assert visible_keys(browser) == keys_where(site, level="rct")
    offered = browser.execute_script(
        "return Array.from(document.querySelectorAll('span.Z3988[title]'),"
        " s => new URLSearchParams(s.title).get('rft.atitle'))"
    )
    assert len(offered) == len(set(offered)) == len(studies(site.db_url))
    assert HOSTILE_TITLE_TEXT in " ".join(offered)


def test_without_javascript_everything_shows(site: Site, browser: Any) -> None:
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        open_page(browser, site.http("index.html?level=rct"))
        assert len(visible_keys(browser)) == len(studies(site.db_url))
        assert not browser.find_element("id", "filters").is_displayed()
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_print_hides_the_filters(site: Site, browser: Any) -> None:
    open_page(browser, site.http())
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not browser.find_element("id", "filters").is_displayed()
        assert len(visible_keys(browser)) == len(studies(site.db_url))
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_a_screenshot(site: Site, browser: Any, tmp_path: Path) -> None:
    open_page(browser, site.http())
    shot = tmp_path / "site.png"
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 800 and height >= 600
    assert len(data) > 20_000  # text, a chart and a table, not a blank page
