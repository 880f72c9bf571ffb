"""Notebook submissions in ``dlgrade grade``: graded like ``.py``, bad ones refused alone."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, needs_bwrap
from notebook_helpers import filled_notebook
from test_class_grade import run_grade

from grader.classgrade import layouts, submissions
from grader.classgrade.notebook_files import match
from grader.grading.notebooks import MAX_NOTEBOOK_MB

pytestmark = needs_bwrap(reason="class grading is strict: needs bwrap")

EXERCISES = ("00_weighted_sum", "01_activations")


def buggy(exercise: str) -> str:
    """The reference with a known mistake that loses some points."""
    old, new = {"00_weighted_sum": ("x @ w + b", "x @ w"), "01_activations": (" >= 0", " > 0")}[
        exercise
    ]
    source = (ROOT / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")
    assert source.count(old) >= 1
    return source.replace(old, new, 1)


def as_notebook(exercise: str, source: str) -> str:
    return nbformat.writes(filled_notebook(exercise, source))


def homework(code: dict[str, str]) -> str:
    """One notebook that holds both exercises: 00's imports untagged (shared), 01's cells
    tagged in the bare form ``01_activations``."""
    cells = [nbformat.v4.new_markdown_cell("# My homework")]
    for exercise in EXERCISES:
        for cell in filled_notebook(exercise, code[exercise]).cells:
            if cell.cell_type != "code":
                continue
            part = cell.metadata["dlgrade"]["part"]
            if exercise == "00_weighted_sum" and part == "imports":
                cell.metadata["tags"] = []
            elif exercise == "01_activations" and part in ("imports", "function"):
                cell.metadata["tags"] = [exercise]
            cells.append(cell)
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells))


def versions() -> dict[str, str]:
    return {"00_weighted_sum": buggy("00_weighted_sum"), "01_activations": buggy("01_activations")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("nbclass")
    root = base / "submissions"
    code = versions()
    (root / "py_ana").mkdir(parents=True)
    for ex, text in code.items():
        (root / "py_ana" / f"{ex}.py").write_text(text, encoding="utf-8")
    (root / "nb_ana" / "exercises").mkdir(parents=True)
    (root / "nb_ana" / "exercises" / "00_weighted_sum.ipynb").write_text(
        as_notebook("00_weighted_sum", code["00_weighted_sum"]), encoding="utf-8"
    )
    (root / "nb_ana" / "Ana Smith_1234_01_activations (1).ipynb").write_text(
        as_notebook("01_activations", code["01_activations"]), encoding="utf-8"
    )
    with zipfile.ZipFile(root / "zip_ana.zip", "w") as archive:
        for ex, text in code.items():
            archive.writestr(f"hw/exercises/{ex}.ipynb", as_notebook(ex, text))
    (root / "tag_ana").mkdir()
    (root / "tag_ana" / "homework.ipynb").write_text(homework(code), encoding="utf-8")
    with zipfile.ZipFile(root / "tagzip_ana.zip", "w") as archive:
        archive.writestr("hw/Ana_homework.ipynb", homework(code))
    bad = {
        "bad_json": b"{ not json",
        "bad_nested": b"[" * 50_000 + b"]" * 50_000,
        "bad_words_only": nbformat.writes(
            nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("my answer")])
        ).encode(),
    }
    for student, raw in bad.items():
        (root / student).mkdir()
        (root / student / "00_weighted_sum.ipynb").write_bytes(raw)
    raising = code["00_weighted_sum"].replace(
        "    return float(", "    raise ValueError('boom')\n    return float(", 1
    )
    (root / "nb_raises").mkdir()
    (root / "nb_raises" / "00_weighted_sum.ipynb").write_text(
        as_notebook("00_weighted_sum", raising), encoding="utf-8"
    )
    (root / "bad_huge").mkdir()
    with (root / "bad_huge" / "00_weighted_sum.ipynb").open("wb") as handle:
        handle.truncate(200 << 20)  # sparse: 200 MB on paper, never read
    out = base / "grades"
    args = [a for ex in EXERCISES for a in ("--exercise", ex)]
    done = run_grade(root, "--out", out, "--seed", "7", "--jobs", "2", *args, home=base / "home")
    assert done.returncode == 0, done.stderr
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {row["student"]: row for row in data["students"]}


def checks(row: dict, exercise: str) -> list[tuple[str, int, str]]:
    return [(c["name"], c["points"], c["status"]) for c in row["exercises"][exercise]["checks"]]


def test_notebooks_folders_and_zips_grade_like_the_same_py_check_by_check(graded):
    reference = graded["py_ana"]
    for student in ("nb_ana", "zip_ana"):
        for exercise in EXERCISES:
            assert checks(graded[student], exercise) == checks(reference, exercise), student
            got = graded[student]["exercises"][exercise]["score"]
            assert 0 < got == reference["exercises"][exercise]["score"]
    notes = " ".join(graded["nb_ana"]["notes"])
    assert (
        "01_activations.py graded from the notebook Ana Smith_1234_01_activations (1).ipynb"
        in notes
    )
    assert "00_weighted_sum.py graded from the notebook exercises/00_weighted_sum.ipynb" in notes


@pytest.mark.parametrize(
    ("student", "shown"), [("tag_ana", "homework.ipynb"), ("tagzip_ana", "hw/Ana_homework.ipynb")]
)
def test_one_notebook_tagged_for_two_exercises_grades_each_like_its_py(graded, student, shown):
    reference = graded["py_ana"]
    row = graded[student]
    for exercise in EXERCISES:
        assert checks(row, exercise) == checks(reference, exercise), exercise
        assert 0 < row["exercises"][exercise]["score"] == reference["exercises"][exercise]["score"]
        assert (
            f"{exercise}.py graded from the notebook {shown} (its code cells tagged {exercise}, "
            in " ".join(row["notes"])
        ), row["notes"]
    assert not any("unknown name" in note for note in row["notes"]), row["notes"]


def test_class_feedback_names_the_notebook_cell_a_failure_comes_from(graded):
    (cell,) = [
        i
        for i, c in enumerate(filled_notebook("00_weighted_sum").cells, start=1)
        if c.metadata.get("dlgrade", {}).get("name") == "weighted_sum"
        and c.metadata["dlgrade"]["part"] == "function"
    ]
    messages = [c["message"] for c in graded["nb_raises"]["exercises"]["00_weighted_sum"]["checks"]]
    raised = [m for m in messages if "boom" in m]
    assert raised and all(f"(cell {cell}, line " in m for m in raised), raised


@pytest.mark.parametrize(
    ("student", "why"),
    [
        ("bad_json", "not a readable notebook"),
        ("bad_nested", "not a "),
        ("bad_words_only", "has no code cells"),
        ("bad_huge", f"larger than {MAX_NOTEBOOK_MB << 10} KiB"),
    ],
)
def test_a_bad_notebook_is_refused_for_that_student_alone(graded, student, why):
    row = graded[student]
    result = row["exercises"]["00_weighted_sum"]
    assert result["status"] == "missing" and result["score"] == 0
    assert any(why in note and "refused" in note for note in row["notes"]), row["notes"]
    assert all("\n" not in note for note in row["notes"])


def test_lms_names_match_and_an_exact_name_wins():
    names = ["b_03_backprop.ipynb", "a_03_backprop.ipynb", "03_backprop.py", "notes.ipynb"]
    assert match(names, "03_backprop.py") == ("a_03_backprop.ipynb", ["b_03_backprop.ipynb"])
    assert match([*names, "03_Backprop.ipynb"], "03_backprop.py")[0] == "03_Backprop.ipynb"
    assert match(names, "00_weighted_sum.py") == (None, [])


def test_flat_canvas_and_moodle_downloads_take_notebooks_and_do_not_list_them_unknown(tmp_path):
    root = tmp_path / "download"
    root.mkdir()
    notebook = nbformat.writes(filled_notebook("00_weighted_sum"))
    (root / "smithana_1234_5678_00_weighted_sum.ipynb").write_text(notebook)
    moodle = "Ben Jones_77_assignsubmission_file_00_weighted_sum (1).ipynb"
    (root / moodle).write_text(notebook)
    (root / "folder_student").mkdir()
    (root / "folder_student" / "00_weighted_sum.ipynb").write_text(notebook)
    download = layouts.discover(root, ["00_weighted_sum.py"])
    found = {s.student: s.files for s in download.students}
    assert set(found) == {"smithana", "Ben Jones", "folder_student"}
    for files in found.values():
        assert b"def weighted_sum" in files.files["00_weighted_sum.py"]
        assert files.cells["00_weighted_sum.py"] is not None
        assert not any(u.endswith(".ipynb") for u in files.unknown), files.unknown


def test_a_py_file_wins_over_a_notebook_and_a_symlinked_notebook_is_refused(tmp_path):
    (tmp_path / "s1").mkdir()
    (tmp_path / "s1" / "00_weighted_sum.py").write_text("x = 1\n")
    (tmp_path / "s1" / "00_weighted_sum.ipynb").write_text("{}")
    (tmp_path / "s2").mkdir()
    (tmp_path / "s2" / "00_weighted_sum.ipynb").symlink_to("/etc/passwd")
    found = {s.student: s for s in submissions.discover(tmp_path, ["00_weighted_sum.py"])}
    assert found["s1"].files == {"00_weighted_sum.py": b"x = 1\n"}
    assert "00_weighted_sum.py" not in found["s2"].files
    assert "symbolic link" in found["s2"].refused["00_weighted_sum.py"]


def test_an_unsafe_zip_notebook_entry_is_not_taken(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
        archive.writestr("../00_weighted_sum.ipynb", nbformat.writes(notebook))
    (tmp_path / "s.zip").write_bytes(buffer.getvalue())
    (student,) = submissions.discover(tmp_path, ["00_weighted_sum.py"])
    assert student.files == {}


def test_hostile_notebooks_are_contained_like_hostile_py_files(tmp_path, monkeypatch):
    """The hostile class of test_class_hostile, every file handed in as a notebook."""
    import test_class_hostile

    def write_notebooks(folder: Path, files: dict[str, str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            cells = [
                nbformat.v4.new_markdown_cell("my \x1b[2J work"),
                nbformat.v4.new_code_cell("%matplotlib inline\n!pip install numpy"),
                nbformat.v4.new_code_cell(text),
            ]
            notebook = nbformat.writes(nbformat.v4.new_notebook(cells=cells))
            (folder / f"{Path(name).stem}.ipynb").write_text(notebook, encoding="utf-8")

    monkeypatch.setattr(test_class_hostile, "write", write_notebooks)
    test_class_hostile.test_hostile_submissions_are_contained_and_classmates_keep_full_marks(
        tmp_path
    )
    assert not list((tmp_path / "class").rglob("*.py"))  # every file was a notebook


def tagged_notebook(*sources: str, tags: tuple[str, ...] = ("00_weighted_sum",)) -> str:
    cells = [nbformat.v4.new_code_cell(s, metadata={"tags": list(tags)}) for s in sources]
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells))


def test_tags_are_read_only_from_safe_notebooks_and_never_follow_a_link(tmp_path):
    """Where no name matches, tags decide; links, huge, nested or odd notebooks never do."""
    outside = tmp_path / "elsewhere.ipynb"
    outside.write_text(tagged_notebook("def weighted_sum(x, w, b=0.0):\n    return 'outside'"))
    student = tmp_path / "class" / "ana"
    student.mkdir(parents=True)
    (student / "a_link.ipynb").symlink_to(outside)
    with (student / "b_huge.ipynb").open("wb") as handle:
        handle.truncate(200 << 20)  # sparse: never read
    (student / "c_nested.ipynb").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    odd = json.loads(tagged_notebook("x = 1"))
    odd["cells"][0]["metadata"]["tags"] = "00_weighted_sum"  # a string, not a list
    odd["cells"].append({"cell_type": "code", "metadata": {"tags": [1, {"a": 2}]}, "source": ""})
    (student / "d_odd.ipynb").write_text(json.dumps(odd))
    (student / "e_work.ipynb").write_text(
        tagged_notebook("def weighted_sum(x, w, b=0.0):\n    return 1")
    )
    (found,) = submissions.discover(tmp_path / "class", ["00_weighted_sum.py"])
    assert b"return 1" in found.files["00_weighted_sum.py"]
    assert b"outside" not in found.files["00_weighted_sum.py"]
    assert any("e_work.ipynb (its code cells tagged 00_weighted_sum" in n for n in found.notes)


def test_a_hostile_tagged_notebook_is_contained_and_the_next_student_keeps_full_marks(tmp_path):
    """One worker: a tagged notebook that fork-bombs, prints a fake score and exits at import
    of its second exercise, then an honest student graded right after it."""
    root = tmp_path / "class"
    (root / "a_hostile").mkdir(parents=True)
    bomb = (ROOT / "tests" / "fixtures" / "hostile" / "fork_bomb.py").read_text()
    cells = [
        nbformat.v4.new_code_cell(bomb, metadata={"tags": ["00_weighted_sum"]}),
        nbformat.v4.new_code_cell(
            "print('01_activations: 30/30 points')\nimport os\nos._exit(0)",
            metadata={"tags": ["dlgrade:01_activations"]},
        ),
    ]
    (root / "a_hostile" / "homework.ipynb").write_text(
        nbformat.writes(nbformat.v4.new_notebook(cells=cells))
    )
    (root / "b_honest").mkdir()
    for exercise in EXERCISES:
        (root / "b_honest" / f"{exercise}.py").write_text(
            (ROOT / "solutions" / f"{exercise}.py").read_text()
        )
    out = tmp_path / "grades"
    args = [a for ex in EXERCISES for a in ("--exercise", ex)]
    done = run_grade(root, "--out", out, "--jobs", "1", *args, home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    rows = {r["student"]: r for r in json.loads((out / "results.json").read_text())["students"]}
    hostile = rows["a_hostile"]["exercises"]
    assert hostile["00_weighted_sum"]["score"] < 26  # the bombing function earns nothing
    assert not any(
        c["passed"]
        for c in hostile["00_weighted_sum"]["checks"]
        if c["name"].startswith("weighted")
    )
    assert hostile["01_activations"]["score"] == 0
    honest = rows["b_honest"]["exercises"]
    assert honest["00_weighted_sum"]["score"] == 26
    assert honest["01_activations"]["score"] == honest["01_activations"]["max_score"] > 0
