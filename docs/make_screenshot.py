"""Make docs/site-screenshot.png: the seeded library's static site in headless Chromium.

    .venv/bin/python docs/make_screenshot.py [OUT.png]

Needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver) and
selenium (the `test` extra). Works on a temporary database: the user's library is untouched.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import refdb

DOCS = Path(__file__).resolve().parent


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS / "site-screenshot.png"
    with tempfile.TemporaryDirectory() as tmp:
        library = refdb.open_library(f"sqlite:///{Path(tmp) / 'refdb.sqlite'}")
        refdb.seed(library)
        site = Path(tmp) / "site"
        report = refdb.site(library, site)
        library.close()
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "chromium"
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,1250"):
            options.add_argument(arg)
        driver = webdriver.Chrome(
            service=Service(shutil.which("chromedriver") or "chromedriver"), options=options
        )
        try:
            driver.get((site / "index.html").as_uri())
            driver.save_screenshot(str(out))
        finally:
            driver.quit()
    print(f"wrote {out} ({report.studies} studies)")


if __name__ == "__main__":
    main()
