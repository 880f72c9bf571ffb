"""`dlgrade similarity`: copied pairs rise to the top; the stub's own lines never count."""

from __future__ import annotations

import csv
import json
import os
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from grader.classgrade import gradebook
from grader.classgrade import similarity as sim
from grader.classgrade.run import missing_result
from grader.cli.kit import similarity
from grader.core.errors import InputError
from grader.course.info import load_course
from grader.grading.sources import MAX_SOURCE_KB

EXERCISE = "00_weighted_sum"
FILE = f"{EXERCISE}.py"
STUB = (ROOT / "exercises" / FILE).read_text(encoding="utf-8")
HEAD = STUB.partition("def weighted_sum")[0]
ORIGINAL = """def weighted_sum(x, w, b=0.0):
    inputs = np.asarray(x, dtype=float)
    weights = np.asarray(w, dtype=float)
    if inputs.shape != weights.shape:
        raise ValueError("x and w must have the same length")
    total = float(np.dot(inputs, weights)) + b
    return float(total)


def dense_forward(X, W, b):
    data = np.asarray(X, dtype=float)
    matrix = np.asarray(W, dtype=float)
    return data @ matrix + np.asarray(b, dtype=float)


def count_parameters(layer_sizes, include_biases=True):
    count = 0
    for i in range(len(layer_sizes) - 1):
        fan_in, fan_out = layer_sizes[i], layer_sizes[i + 1]
        count += fan_in * fan_out
        if include_biases:
            count += fan_out
    return count
"""
RENAMES = {"inputs": "xs", "weights": "ws", "total": "acc", "data": "inp", "matrix": "mat",
           "count": "n_params", "fan_in": "a_size", "fan_out": "b_size"}  # fmt: skip
HONEST = """def weighted_sum(x, w, b=0.0):
    if len(x) != len(w):
        raise ValueError("length mismatch")
    s = b
    for xi, wi in zip(x, w):
        s += xi * wi
    return float(s)


def dense_forward(X, W, b):
    return np.matmul(np.array(X, float), np.array(W, float)) + np.array(b, float)


def count_parameters(layer_sizes, include_biases=True):
    pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    weights = sum(p * q for p, q in pairs)
    return weights + (sum(q for _, q in pairs) if include_biases else 0)
"""


def renamed(text: str) -> str:
    for old, new in RENAMES.items():
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """alice and bob copied (bob renamed the variables, sent a zip); carol and dave are honest;
    erin handed in the stub; mallory's file is a symlink to the solution; zed is a symlink."""
    root = tmp_path_factory.mktemp("class")
    (root / "alice" / "exercises").mkdir(parents=True)
    (root / "alice" / "exercises" / FILE).write_text(HEAD + ORIGINAL)
    with zipfile.ZipFile(root / "bob.zip", "w") as archive:
        archive.writestr(f"bob/exercises/{FILE}", HEAD + renamed(ORIGINAL))
    (root / "carol").mkdir()
    (root / "carol" / FILE).write_text(HEAD + HONEST)
    with zipfile.ZipFile(root / "dave.zip", "w") as archive:
        archive.writestr(FILE, (ROOT / "solutions" / FILE).read_text())
    (root / "erin").mkdir()
    (root / "erin" / FILE).write_text(STUB)
    (root / "mallory").mkdir()
    os.symlink(ROOT / "solutions" / FILE, root / "mallory" / FILE)
    os.symlink(root / "alice", root / "zed")
    return root


def run(klass: Path, out: Path, *extra: str) -> dict:
    args = [str(klass), "--exercise", EXERCISE, "--out", str(out), "--json", *extra]
    done = CliRunner().invoke(similarity, args)
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def csv_rows(out: Path) -> list[dict]:
    with (out / sim.CSV_NAME).open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_copied_pair_is_on_top_of_the_csv(klass, tmp_path):
    summary = run(klass, tmp_path)
    rows = [r for r in csv_rows(tmp_path) if r["exercise"] == EXERCISE]
    assert {rows[0]["student_a"], rows[0]["student_b"]} == {"alice", "bob"}
    assert float(rows[0]["similarity_a"]) > 0.9 and float(rows[0]["similarity_b"]) > 0.9
    assert int(rows[0]["token_overlap"]) > 0
    assert list(rows[0]) == list(sim.CSV_FIELDS)
    flagged = [{r["student_a"], r["student_b"]} for r in rows]
    assert flagged == [{"alice", "bob"}]
    assert summary["compared"] == {EXERCISE: 5}
    assert summary["pairs"][0]["similarity_a"] > 0.9


def test_stub_only_student_is_never_flagged(klass, tmp_path):
    summary = run(klass, tmp_path, "--threshold", "0")
    students = {p["student_a"] for p in summary["pairs"]} | {
        p["student_b"] for p in summary["pairs"]
    }
    assert "erin" not in students
    assert {"alice", "bob", "carol", "dave"} & students


def test_html_report_per_exercise_names_students_not_temp_paths(klass, tmp_path):
    run(klass, tmp_path)
    html = (tmp_path / f"{EXERCISE}.html").read_text(encoding="utf-8")
    assert "alice" in html and "bob" in html
    assert "dlgrade-similarity-" not in html


def test_zip_and_folder_submissions_are_both_read(klass):
    students, _ = sim.read_submissions(klass, load_course())
    files = {s.student: s.files for s in students}
    assert files["alice"][FILE] == (HEAD + ORIGINAL).encode()
    assert files["bob"][FILE] == (HEAD + renamed(ORIGINAL)).encode()
    assert files["carol"][FILE] == (HEAD + HONEST).encode()
    assert files["dave"][FILE] == (ROOT / "solutions" / FILE).read_bytes()


def test_symlinks_are_refused(klass):
    students, problems = sim.read_submissions(klass, load_course())
    files = {s.student: s.files for s in students}
    assert files["mallory"] == {} and files.get("zed", {}) == {}
    assert any(p.startswith("mallory:") and "symbolic link" in p for p in problems)
    assert any(p.startswith("zed:") and "symbolic link" in p for p in problems)


def test_oversized_zip_member_is_skipped(tmp_path):
    with zipfile.ZipFile(tmp_path / "big.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(FILE, "#" * ((MAX_SOURCE_KB << 10) + 10))
    students, problems = sim.read_submissions(tmp_path, load_course())
    assert students[0].files == {}
    assert any("larger than" in p for p in problems)


def test_screen_report_lists_the_top_pair(klass, tmp_path):
    args = [str(klass), "--exercise", EXERCISE, "--out", str(tmp_path)]
    done = CliRunner().invoke(similarity, args, env={"COLUMNS": "120"})
    assert done.exit_code == 0, done.output
    assert "alice" in done.output and "bob" in done.output and "100%" in done.output


def test_missing_copydetect_is_one_line_with_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "copydetect", None)
    with pytest.raises(InputError, match=r"pip install 'dlgrade\[instructor\]'"):
        sim._copydetect()


def test_a_file_that_is_not_utf8_is_skipped_with_a_note(tmp_path):
    (tmp_path / "ivan").mkdir()
    (tmp_path / "ivan" / FILE).write_bytes(b"x = '\xff'\n")
    students, problems = sim.read_submissions(tmp_path, load_course())
    assert students[0].files == {}
    assert problems == [f"ivan: {FILE} is not UTF-8 text: skipped"]


def test_student_ids_that_look_like_formulas_stay_text_in_the_csv(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    sim.write_csv(path, [sim.Pair("00_weighted_sum", "=cmd()", "@SUM(A1)", 0.95, 0.9, 120)])
    with path.open(newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["student_a"], row["student_b"]) == ("'=cmd()", "'@SUM(A1)")
    assert float(row["similarity_a"]) == 0.95


HOSTILE = '"><img src=x onerror="window.__pwned = 1"><script>window.__pwned = 2</script>'


@pytest.fixture(scope="module")
def browser():
    from browser import open_browser

    with open_browser() as chromium:
        yield chromium


def test_html_report_loads_nothing_and_runs_nothing_a_student_wrote(tmp_path, browser):
    from browser import visit

    code = HEAD + ORIGINAL.replace("count = 0", f"count = 0  # </code></pre>{HOSTILE}")
    for name in ("ann", HOSTILE.replace("/", "_")):
        (tmp_path / "class" / name).mkdir(parents=True)
        (tmp_path / "class" / name / FILE).write_text(code)
    grades = tmp_path / "grades"
    conn = gradebook.create(grades, gradebook.Settings.new(1, (EXERCISE,), None, {}))
    for name in ("ann", "bo"):
        gradebook.record_student(conn, name, [])
        gradebook.commit(conn, name, missing_result(load_course().get(EXERCISE), 1, "-"), None)
    conn.close()
    run(tmp_path / "class", grades / "similarity")
    page = grades / "similarity" / f"{EXERCISE}.html"
    summary = (grades / "report.html").read_text(encoding="utf-8")
    assert 'id="similarity-table"' in summary and f'href="similarity/{EXERCISE}.html"' in summary
    assert "cdn" not in page.read_text(encoding="utf-8")
    for bypass_csp in (False, True):
        seen = visit(browser, page, bypass_csp=bypass_csp)
        try:
            p = seen.page
            p.locator("details summary").first.click()
            assert HOSTILE.replace("/", "_") in p.locator("summary").first.inner_text()
            assert HOSTILE in p.locator("pre").first.inner_text()
            assert p.locator("svg.histogram rect.bar").count() == 10
            assert p.evaluate("() => window.__pwned") is None
            assert p.locator("img").count() == 0 and p.locator("script").count() == 0
            assert seen.requests == [] and seen.errors == [] and seen.dialogs == []
        finally:
            seen.close()


def test_notebook_submissions_are_compared_by_their_code_not_their_outputs(tmp_path):
    import nbformat
    from notebook_helpers import filled_notebook

    root = tmp_path / "class"
    for student, source in [
        ("alice", HEAD + ORIGINAL),
        ("bob", HEAD + renamed(ORIGINAL).replace("n_params_parameters", "count_parameters")),
        ("carol", HEAD + HONEST),
        ("erin", STUB),
    ]:
        notebook = filled_notebook(EXERCISE, source)
        shout = nbformat.v4.new_output("stream", name="stdout", text="the same output\n" * 500)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs = [shout]  # every notebook prints the same: outputs must not count
        (root / student).mkdir(parents=True)
        (root / student / f"{EXERCISE}.ipynb").write_text(nbformat.writes(notebook))
    summary = run(root, tmp_path / "out")
    assert summary["compared"] == {EXERCISE: 4}
    flagged = [{p["student_a"], p["student_b"]} for p in summary["pairs"]]
    assert flagged == [{"alice", "bob"}]
