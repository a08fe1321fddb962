"""Debian's chromium, driven by Playwright (never a downloaded browser), for the pages' tests."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator

from playwright.sync_api import Browser, sync_playwright


@contextlib.contextmanager
def chromium(*args: str) -> Iterator[Browser]:
    executable = shutil.which("chromium")
    assert executable, "chromium is installed by `make install` (apt-get install chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(args))
        try:
            yield browser
        finally:
            browser.close()
