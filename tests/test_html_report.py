"""report.html in a real headless Chromium: charts, sorting, search, feedback, and hostile text.

A known class is written straight into a real gradebook through the gradebook API (the
scores are chosen, so the histogram's bars are known), and the report is built by the real
`dlgrade report` command. One browser serves the whole module.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from browser import open_browser, visit

from grader.classgrade import gradebook
from grader.classgrade.run import missing_result
from grader.classgrade.similarity import Pair, write_csv
from grader.course.info import load_course
from grader.grading.results import CheckResult, ExerciseResult

SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '"><img src=x onerror="window.__pwned = 2">'
LINK = '<a href="javascript:window.__pwned = 3">click me</a>'
HOSTILE_IDS = [SCRIPT, IMG, LINK]
PRINTED = f"{SCRIPT}\n{IMG}\n{LINK}\n</script><script>window.__pwned = 4</script>"
EXERCISES = ("00_weighted_sum", "01_activations")
# student -> how many of each exercise's checks pass (in the course's order)
PASSING = {
    "alice": (16, 17),
    "bob": (8, 17),
    "carol": (2, 0),
    "dan": (16, 9),
    "erin": (0, 3),
    SCRIPT: (5, 5),
    IMG: (12, 12),
    LINK: (16, 1),
}


def exercise_result(ex, student: str, passing: int, status: str = "failed") -> dict:
    result = ExerciseResult(ex.id, ex.title, ex.file_name, seed=1, isolation="bubblewrap")
    for n, (name, points) in enumerate(ex.points.items()):
        ok = n < passing
        check = CheckResult(name, name.replace("_", " "), "passed" if ok else status, 0, points)
        if ok:
            check.points = points
        else:
            check.message = f"wrong for {student}" if student in HOSTILE_IDS else "wrong value"
            check.call, check.expected, check.got = f"{name}(x)", "1.5", LINK
            check.hint, check.mistake = "add the bias", "forgot_bias"
            check.output = PRINTED
        result.checks.append(check)
    return result.to_dict()


def scores(ex, passing: int) -> int:
    return sum(list(ex.points.values())[:passing])


def write_class(out: Path, *, finish: bool = True) -> None:
    course = load_course()
    exercises = [course.get(e) for e in EXERCISES]
    settings = gradebook.Settings.new(7, EXERCISES, None, {"quick": False})
    conn = gradebook.create(out, settings)
    run = gradebook.start_run(
        conn, {"version": "9.9.9", "sandbox": "bubblewrap", "started": "2026-01-02 03:04 UTC"}
    )
    for student, counts in PASSING.items():
        notes = [f"{IMG}.py: a symbolic link: not read"] if student == IMG else []
        gradebook.record_student(conn, student, notes)
        for ex, passing in zip(exercises, counts, strict=True):
            gradebook.commit(conn, student, exercise_result(ex, student, passing), None)
    gradebook.record_student(conn, "frank", [])
    gradebook.commit(conn, "frank", exercise_result(exercises[0], "frank", 3, "timeout"), None)
    if finish:
        gradebook.commit(conn, "frank", missing_result(exercises[1], 1, "no file"), None)
        gradebook.finish_run(conn, run, seconds=12.5, graded=17)
    conn.close()


def dlgrade_report(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", "report", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ},
    )


@pytest.fixture(scope="module")
def browser():
    with open_browser() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "grades"
    write_class(out)
    (out / "similarity").mkdir()
    pairs = [Pair("00_weighted_sum", IMG, "alice", 0.91, 0.88, 120)]
    write_csv(out / "similarity" / "similarity.csv", pairs)
    (out / "similarity" / "00_weighted_sum.html").write_text("<!DOCTYPE html><title>x</title>")
    done = dlgrade_report(out)
    assert done.returncode == 0, done.stderr
    return out / "report.html"


@pytest.fixture
def page(browser, report):
    seen = visit(browser, report)
    yield seen
    assert seen.errors == [], seen.errors
    assert seen.requests == [], seen.requests
    seen.close()


def bins(values: list[int], maximum: int) -> list[int]:
    counts = [0] * 10
    for v in values:
        counts[min(v * 10 // maximum, 9)] += 1
    return counts


def test_each_histogram_has_ten_bars_with_heights_for_the_known_scores(page):
    course = load_course()
    for index, exercise in enumerate(EXERCISES):
        ex = course.get(exercise)
        got = [scores(ex, counts[index]) for counts in PASSING.values()]
        if index == 0:
            got.append(scores(ex, 3))  # frank, timed out after three checks
        expected = bins(got, ex.max_score)
        bars = page.page.locator(f'svg[data-histogram="{exercise}"] rect.bar')
        assert bars.count() == 10
        counts = [int(bars.nth(i).get_attribute("data-count")) for i in range(10)]
        heights = [float(bars.nth(i).get_attribute("height")) for i in range(10)]
        assert counts == expected
        peak = max(expected)
        assert heights == pytest.approx([100 * n / peak for n in expected], abs=0.01)
        drawn = [bars.nth(i).bounding_box()["height"] for i in range(10)]
        tallest = max(drawn)
        assert drawn == pytest.approx([tallest * n / peak for n in expected], abs=0.5)


def column(page, table: str, index: int) -> list[str]:
    cells = page.locator(f"#{table} tbody tr:not([hidden]) td:nth-child({index})")
    return [c.strip() for c in cells.all_inner_texts()]


def test_the_student_table_sorts_by_any_column_and_searches(page):
    p = page.page
    names = column(p, "student-table", 1)
    assert names == sorted(names, key=str.lower)
    total = p.locator("#student-table thead th", has_text="total").locator("button")
    total.click()
    values = [int(v) for v in column(p, "student-table", 4) if v != "—"]
    assert values == sorted(values)
    total.click()
    values = [int(v) for v in column(p, "student-table", 4) if v != "—"]
    assert values == sorted(values, reverse=True) and values[0] > values[-1]
    p.locator("#student-table thead th", has_text="00").locator("button").click()
    firsts = [int(v) for v in column(p, "student-table", 2)]
    assert firsts == sorted(firsts)
    p.fill("#search", "AL")
    assert column(p, "student-table", 1) == ["alice"]
    assert p.inner_text("#shown") == "1 shown"
    p.fill("#search", "")
    assert len(column(p, "student-table", 1)) == len(PASSING) + 1


def test_the_check_table_sorts_and_names_the_known_mistakes(page):
    p = page.page
    rates = [float(v.split("%")[0]) for v in column(p, "check-table", 3)]
    assert rates == sorted(rates, reverse=True) and rates[0] > 0
    p.locator("#check-table thead th", has_text="failed").locator("button").click()
    rates = [float(v.split("%")[0]) for v in column(p, "check-table", 3)]
    assert rates == sorted(rates)
    assert "forgot_bias" in p.inner_text("#check-table")


def test_clicking_a_student_shows_their_feedback(page):
    p = page.page
    p.locator("#student-table button.student", has_text="bob").click()
    panel = p.locator("#feedback")
    assert panel.locator("h3").inner_text() == "bob"
    text = panel.inner_text()
    assert "expected" in text and "1.5" in text and "add the bias" in text
    assert "forgot_bias" in text and "printed:" in text
    assert panel.locator("a").get_attribute("href") == "feedback/bob.md"
    p.locator("#student-table button.student", has_text="frank").click()
    assert "timeout" in panel.inner_text() and "no file" in panel.inner_text()
    row = p.locator("#student-table tbody tr", has_text="frank")
    assert "00_weighted_sum timeout" in row.inner_text()


def test_similar_pairs_are_listed_with_a_link_to_their_report(page, report):
    rows = page.page.locator("#similarity-table tbody tr")
    assert rows.count() == 1
    assert IMG in rows.first.inner_text() and "0.910" in rows.first.inner_text()
    link = rows.first.locator("a")
    assert link.get_attribute("href") == "similarity/00_weighted_sum.html"
    assert (report.parent / link.get_attribute("href")).is_file()


def test_the_header_names_the_run_and_never_the_secret(page, report):
    header = page.page.inner_text("#run")
    assert "9.9.9" in header and "bubblewrap" in header and "2026-01-02" in header
    assert "12.5 s" in header
    assert page.page.locator("#incomplete").count() == 0
    assert "seed:7" not in report.read_text(encoding="utf-8")


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "without-csp"])
def test_hostile_ids_and_output_run_nothing_and_render_as_text(browser, report, bypass_csp):
    seen = visit(browser, report, bypass_csp=bypass_csp)
    p = seen.page
    try:
        shown = p.locator("#student-table button.student").all_inner_texts()
        for student in HOSTILE_IDS:
            assert student in shown
            p.locator("#student-table button.student").nth(shown.index(student)).click()
            panel = p.locator("#feedback")
            assert panel.locator("h3").inner_text() == student
            assert PRINTED in panel.locator("pre").first.inner_text()
        assert p.evaluate("() => window.__pwned") is None
        assert p.locator("img").count() == 0
        assert p.locator("a[href^='javascript']").count() == 0
        assert p.locator("script").count() == 2  # the data block and the page's own script
        assert seen.dialogs == [] and seen.requests == [] and seen.errors == []
    finally:
        seen.close()


def test_the_csp_forbids_remote_loads_and_inline_handlers(page, report):
    p = page.page
    policy = p.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert "default-src 'none'" in policy and "unsafe" not in policy and "http" not in policy
    sneaked = p.evaluate(
        """() => {
            const b = document.createElement("button");
            b.setAttribute("onclick", "window.__pwned = 5");
            document.body.appendChild(b);
            b.click();
            const s = document.createElement("script");
            s.textContent = "window.__pwned = 6";
            document.body.appendChild(s);
            return window.__pwned === undefined;
        }"""
    )
    assert sneaked
    page.errors.clear()  # the two refusals above are logged as CSP violations
    assert "https://" not in report.read_text(encoding="utf-8")


def test_an_interrupted_run_shows_what_was_finished_and_says_so(browser, tmp_path):
    out = tmp_path / "grades"
    write_class(out, finish=False)
    done = dlgrade_report(out)
    assert done.returncode == 0, done.stderr
    seen = visit(browser, out / "report.html")
    try:
        banner = seen.page.inner_text("#incomplete")
        assert "incomplete" in banner and "--resume" in banner
        assert f"{2 * len(PASSING) + 1} of {2 * len(PASSING) + 2}" in banner
        row = seen.page.locator("#student-table tbody tr", has_text="frank").inner_text()
        assert "not graded yet" in row
        assert seen.errors == [] and seen.requests == []
    finally:
        seen.close()


@pytest.mark.parametrize("kind", ["missing", "damaged", "not-a-gradebook"])
def test_report_without_a_readable_gradebook_is_one_line_exit_2(tmp_path, kind):
    out = tmp_path / "grades"
    out.mkdir()
    if kind == "damaged":
        (out / "gradebook.sqlite").write_bytes(b"not sqlite at all" * 100)
    if kind == "not-a-gradebook":
        sqlite3.connect(out / "gradebook.sqlite").execute("CREATE TABLE x (y)").connection.close()
    done = dlgrade_report(out)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (out / "report.html").exists()


ACCURACIES = {"ann": 0.97, "ben": 0.955, "cid": 0.62, "dee": None}


def test_exercise_04_shows_the_accuracy_spread_and_each_learning_curve(browser, tmp_path):
    course = load_course()
    ex = course.get("04_mnist_mlp")
    conn = gradebook.create(tmp_path, gradebook.Settings.new(3, (ex.id,), None, {}))
    for student, accuracy in ACCURACIES.items():
        gradebook.record_student(conn, student, [])
        result = exercise_result(ex, student, 4)
        if accuracy is not None:
            result["artifacts"] = {
                "accuracy": accuracy,
                "history": {
                    "loss": [1.2, 0.6, 0.3],
                    "accuracy": [0.5, 0.8, accuracy],
                    f"val_acc{SCRIPT}": ["NaN", 0.1],  # not all numbers: left out
                    "lr": [0.1, 0.1, 0.1],  # neither a loss nor an accuracy
                },
            }
        gradebook.commit(conn, student, result, None)
    conn.close()
    assert dlgrade_report(tmp_path).returncode == 0
    seen = visit(browser, tmp_path / "report.html")
    try:
        p = seen.page
        bars = p.locator(f'svg[data-histogram="{ex.id} accuracy"] rect.bar')
        counts = [int(bars.nth(i).get_attribute("data-count")) for i in range(bars.count())]
        assert counts == [0, 0, 0, 0, 0, 0, 1, 0, 0, 2]
        p.locator("#student-table button.student", has_text="ann").click()
        lines = p.locator("#feedback svg.curve polyline")
        assert lines.count() == 2
        assert len(lines.first.get_attribute("points").split()) == 3
        assert "97.00%" in p.inner_text("#feedback")
        p.locator("#student-table button.student", has_text="dee").click()
        assert p.locator("#feedback svg.curve").count() == 0
        assert seen.errors == [] and seen.requests == []
    finally:
        seen.close()


def test_late_penalties_raw_totals_and_renamed_files_show_in_the_student_table(browser, tmp_path):
    from grader.classgrade import lms_store
    from grader.classgrade.late import parse

    course = load_course()
    ex = course.get("00_weighted_sum")
    conn = gradebook.create(tmp_path, gradebook.Settings.new(3, (ex.id,), None, {}))
    times = {"ann": "2026-03-01T12:00:00+00:00", "bob": "2026-03-03T12:00:00+00:00"}
    for student, when in times.items():
        gradebook.record_student(conn, student, [f"{IMG}.py was graded as {ex.file_name}"])
        gradebook.commit(conn, student, exercise_result(ex, student, 16), None)
        info = {"submitted_at": when, "submitted_as": {ex.file_name: f"{IMG}.py"}}
        lms_store.record(conn, student, info)
    policy = parse("due=2026-03-01T23:59Z,10%/day")
    lms_store.set_meta(conn, "late_policy", policy.to_dict())
    conn.close()
    assert dlgrade_report(tmp_path).returncode == 0
    seen = visit(browser, tmp_path / "report.html")
    try:
        p = seen.page
        heads = [h.strip() for h in p.locator("#student-table thead th").all_inner_texts()]
        assert heads[2:6] == ["total", "raw total", "late", "submitted as"]
        rows = {
            r[0]: r
            for r in zip(*(column(p, "student-table", i) for i in (1, 3, 4, 5, 6)), strict=True)
        }
        assert rows["ann"][1:4] == ("26", "26", "on time")
        assert rows["bob"][1:4] == ("20.8", "26", "2 d, −20%")
        assert rows["bob"][4] == f"{IMG}.py → 00_weighted_sum"  # the original name, as text
        p.locator("#student-table thead th", has_text="late").locator("button").click()
        assert column(p, "student-table", 1) == ["ann", "bob"]
        p.locator("#student-table thead th", has_text="late").locator("button").click()
        assert column(p, "student-table", 1) == ["bob", "ann"]
        assert p.locator("img").count() == 0 and p.evaluate("() => window.__pwned") is None
        assert "late policy" in p.inner_text("#run")
        assert seen.errors == [] and seen.requests == []
    finally:
        seen.close()
