"""report.html at class scale: build time, file size and time to interactive in Chromium.

Writes a synthetic gradebook (benchmarks/synthetic_gradebook.py: 1,000 students × the five
exercises by default), builds report.html from it, then opens it in headless Chromium
(Playwright, /usr/bin/chromium unless --chromium says otherwise) and times the load, a sort
of the student table and a click on a student. Goal: a few MB, interactive within 2 s.

    python benchmarks/bench_report.py [--students 1000] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_gradebook import build

from grader.classgrade import html_report
from grader.course.info import load_course


def browse(report: Path, chromium: str) -> dict[str, float]:
    """Seconds to load the page (until its script ran), to sort the students and to open one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(report.as_uri(), wait_until="load")
        page.wait_for_selector("#student-table tbody tr")
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        page.click("#student-table thead th:last-child button")
        page.click("#student-table thead th:nth-child(2) button")
        page.evaluate("() => document.querySelector('#student-table tbody tr').offsetTop")
        sorted_in = time.perf_counter() - started
        started = time.perf_counter()
        page.click("#student-table tbody tr:nth-child(500) button.student")
        page.wait_for_selector("#feedback h3")
        opened = time.perf_counter() - started
        browser.close()
    return {"load": loaded, "sort": sorted_in, "open": opened}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    course = load_course()
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-report-") as tmp:
        out = build(Path(tmp) / "grades", course, [e.id for e in course.exercises], args.students)
        started = time.perf_counter()
        conn = sqlite3.connect(out / "gradebook.sqlite")
        conn.row_factory = sqlite3.Row
        path = html_report.write(conn, out, course)
        conn.close()
        built = time.perf_counter() - started
        size = path.stat().st_size
        times = browse(path, args.chromium)
    print(f"{args.students} students × {len(course.exercises)} exercises")
    print(f"build  {built:6.2f} s   size {size / 1e6:5.2f} MB")
    print(
        f"browser: loaded and interactive {times['load']:.2f} s · sort twice "
        f"{times['sort']:.2f} s · open a student {times['open']:.2f} s"
    )


if __name__ == "__main__":
    main()
