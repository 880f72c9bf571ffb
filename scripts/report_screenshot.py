"""Regenerate docs/report.png: report.html of a sample class, photographed in real Chromium.

The sample class is the synthetic gradebook of benchmarks/synthetic_gradebook.py (16
students × the five exercises, seed 1); one student is opened so the feedback panel shows.
Run from the repository root: ``python scripts/report_screenshot.py [--chromium PATH]``.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from playwright.sync_api import sync_playwright  # noqa: E402
from synthetic_gradebook import build  # noqa: E402

from grader.classgrade import html_report  # noqa: E402
from grader.course.info import load_course  # noqa: E402

TARGET = ROOT / "docs" / "report.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    course = load_course()
    with tempfile.TemporaryDirectory(prefix="dlgrade-screenshot-") as tmp:
        out = build(Path(tmp) / "grades", course, [e.id for e in course.exercises], 16)
        conn = sqlite3.connect(out / "gradebook.sqlite")
        conn.row_factory = sqlite3.Row
        path = html_report.write(conn, out, course)
        conn.close()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium)
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            page.goto(path.as_uri())
            page.click("#student-table tbody tr:nth-child(3) button.student")
            page.evaluate("() => window.scrollTo(0, 0)")
            page.screenshot(path=str(TARGET), full_page=True)
            browser.close()
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
