"""A real headless Chromium for the HTML tests (Debian's chromium, driven by Playwright).

``open_browser()`` is used once per test module (a module-scoped fixture). Without Playwright
or Chromium the tests are skipped with the reason shown, unless DLGRADE_REQUIRE_BROWSER is set
(.ci/run sets it once it has installed Chromium): then they fail instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("DLGRADE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _unavailable(reason: str) -> None:
    if os.environ.get("DLGRADE_REQUIRE_BROWSER"):
        pytest.fail(f"browser tests required but {reason}")
    pytest.skip(reason)


@contextmanager
def open_browser() -> Iterator[Any]:
    """One headless Chromium for a whole test module."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install 'dlgrade[dev]')")
    if not Path(CHROMIUM).is_file():
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """A page opened from a file, with every request, console error and dialog it caused."""

    page: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.page.context.close()


def visit(browser: Any, path: Path, *, bypass_csp: bool = False) -> Visit:
    """Open ``path`` in a fresh context; anything but the file itself is recorded and refused.

    With ``bypass_csp`` the page's Content-Security-Policy is ignored, to prove that the
    page is safe on its own and not only behind its CSP.
    """
    context = browser.new_context(bypass_csp=bypass_csp, java_script_enabled=True)
    page = context.new_page()
    seen = Visit(page)
    own = path.resolve().as_uri()

    def route(handle: Any) -> None:
        (handle.continue_ if handle.request.url == own else handle.abort)()

    context.route("**/*", route)
    page.on("request", lambda r: seen.requests.append(r.url) if r.url != own else None)
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.on("dialog", lambda d: (seen.dialogs.append(d.message), d.dismiss()))
    page.goto(own, wait_until="load")
    return seen
