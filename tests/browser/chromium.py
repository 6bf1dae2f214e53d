"""Debian's headless Chromium driven by Selenium through Debian's chromedriver (`make browser-deps`).

Both paths are given to Selenium, so Selenium Manager is never asked to find or download anything
(SE_OFFLINE=true forbids it too). A throwaway profile per browser; screenshots go to ARTIFACTS.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts" / "browser"))
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1000")


class BrowserMissing(RuntimeError):
    """Chromium or chromedriver is not installed where the tests expect it."""


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        raise BrowserMissing(f"{', '.join(missing)} not found: run `make browser-deps` (apt-get install "
                             "chromium chromium-driver)")
    os.environ["SE_OFFLINE"] = "true"  # belt and braces: Selenium Manager must not go online
    with tempfile.TemporaryDirectory(prefix="uoapi-chromium-") as profile:
        options = Options()
        options.binary_location = str(CHROMIUM)
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """The whole page as ARTIFACTS/<name>.png (kept by CI as an artefact)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
