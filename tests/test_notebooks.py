"""Notebooks as learner files: generated from the stubs, read as data, graded like ``.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, patched_solution
from notebook_helpers import filled_notebook, write

from grader.course import notebook_stub
from grader.course.info import load_course
from grader.grading import notebooks
from grader.grading.notebooks import NotebookError

COURSE = load_course()
PLAIN = [e.id for e in COURSE.exercises if not e.grading.get("driver")]


def dlgrade(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DLGRADE_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def check_json(path: Path, exercise: str, home: Path, *extra: str) -> dict:
    done = dlgrade(
        "check", exercise, "--path", str(path), "--json", *extra, cwd=path.parent, home=home
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def code_cell(source: str, tags: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source, metadata={"tags": list(tags)} if tags else {})


def notebook_of(*cells: nbformat.NotebookNode) -> bytes:
    return nbformat.writes(nbformat.v4.new_notebook(cells=list(cells))).encode()


@pytest.mark.parametrize("exercise", [e.id for e in COURSE.exercises])
def test_every_generated_notebook_validates_and_holds_the_stub(exercise):
    notebook = notebook_stub.build(COURSE, COURSE.get(exercise))
    nbformat.validate(notebook)
    parts = [c.metadata["dlgrade"]["part"] for c in notebook.cells]
    assert parts[0] == "lesson" and parts[-1] == "check"
    stub = (ROOT / "exercises" / f"{exercise}.py").read_text(encoding="utf-8")
    for cell in notebook.cells:
        if cell.metadata["dlgrade"]["part"] in ("imports", "function"):
            assert cell.source in stub  # the stub's own text, nothing written twice
    functions = [c for c in notebook.cells if c.metadata["dlgrade"]["part"] == "function"]
    assert functions and any("TODO" in c.source for c in functions)
    assert "%dlgrade check " + exercise in notebook.cells[-1].source


@pytest.mark.parametrize("exercise", PLAIN)
def test_a_generated_notebook_scores_zero_as_a_stub_and_full_with_the_reference(
    exercise, tmp_path, dlgrade_home
):
    stub = write(notebook_stub.build(COURSE, COURSE.get(exercise)), tmp_path / "stub.ipynb")
    result = check_json(stub, exercise, dlgrade_home)
    assert result["score"] == 0 and result["checks"]
    assert all(c["status"] == "not_implemented" for c in result["checks"])
    full = write(filled_notebook(exercise), tmp_path / f"{exercise}.ipynb")
    result = check_json(full, exercise, dlgrade_home)
    assert result["score"] == result["max_score"] > 0, result
    assert result["notes"] == []  # the generated check cell is dlgrade's own: no note


def test_a_notebook_with_a_known_mistake_gets_its_hint(tmp_path, dlgrade_home):
    source = patched_solution(
        "00_weighted_sum",
        [{"old": "    return float(x @ w + b)\n", "new": "    return float(x @ w)\n"}],
    )
    path = write(filled_notebook("00_weighted_sum", source), tmp_path / "work.ipynb")
    result = check_json(path, "00_weighted_sum", dlgrade_home)
    failed = {c["name"]: c for c in result["checks"] if not c["passed"]}
    assert failed["weighted_sum_adds_bias"]["mistake"] == "bias_forgotten"
    assert "bias" in failed["weighted_sum_adds_bias"]["hint"]


def test_a_workspace_made_with_notebooks_grades_its_notebooks(tmp_path, dlgrade_home):
    done = dlgrade("init", "ws", "--notebooks", cwd=tmp_path, home=dlgrade_home)
    assert done.returncode == 0, done.stderr
    ws = tmp_path / "ws"
    for exercise in COURSE.exercises:
        assert (ws / "exercises" / f"{exercise.id}.ipynb").is_file()
        assert (ws / "exercises" / exercise.file_name).is_file()
    write(filled_notebook("00_weighted_sum"), ws / "exercises" / "00_weighted_sum.ipynb")
    done = dlgrade("check", "00_weighted_sum", "--json", cwd=ws, home=dlgrade_home)
    result = json.loads(done.stdout)
    assert done.returncode == 0, done.stderr
    assert result["file"].endswith("00_weighted_sum.ipynb") and result["passed"]
    listed = json.loads(dlgrade("list", "--json", cwd=ws, home=dlgrade_home).stdout)
    (entry,) = [e for e in listed["exercises"] if e["exercise"] == "00_weighted_sum"]
    assert entry["best"] == 26, entry
    generated = notebook_stub.text(COURSE, COURSE.get("00_weighted_sum"))
    assert (ws / "exercises" / "00_weighted_sum.ipynb").read_text() != generated
    done = dlgrade("reset", "00_weighted_sum", "--json", cwd=ws, home=dlgrade_home)
    assert done.returncode == 0, done.stderr
    backup = Path(json.loads(done.stdout)["backup"])
    assert backup.suffix == ".ipynb" and "return float(" in backup.read_text()
    assert (ws / "exercises" / "00_weighted_sum.ipynb").read_text() == generated


def test_magics_become_notes_and_failures_name_cells(tmp_path, dlgrade_home):
    solution = (ROOT / "solutions" / "00_weighted_sum.py").read_text()
    raising = solution.replace("    return float(x @ w + b)\n", "    raise ValueError('boom')\n", 1)
    cells = [
        nbformat.v4.new_markdown_cell("# my work"),
        code_cell("%matplotlib inline\n!pip install numpy\nnp.sum?"),
        code_cell(raising),
    ]
    path = tmp_path / "work.ipynb"
    path.write_bytes(notebook_of(*cells))
    result = check_json(path, "00_weighted_sum", dlgrade_home)
    assert result["notes"] == [
        "cell 2, line 1: `%matplotlib inline` is IPython syntax: skipped when grading",
        "cell 2, line 2: `!pip install numpy` is IPython syntax: skipped when grading",
        "cell 2, line 3: `np.sum?` is IPython syntax: skipped when grading",
    ]
    line = raising.splitlines().index("    raise ValueError('boom')") + 1
    raised = [c["message"] for c in result["checks"] if "boom" in c["message"]]
    assert raised and all(m.endswith(f"(cell 3, line {line})") for m in raised), raised
    cells.append(code_cell("x = 1\ny = undefined_name\n"))
    path.write_bytes(notebook_of(*cells))
    result = check_json(path, "00_weighted_sum", dlgrade_home)
    assert result["load_error"].startswith(f"{path} (cell 4, line 2): NameError"), result


def test_a_future_import_in_a_later_cell_still_loads():
    found = notebooks.extract(
        notebook_of(code_cell("x = 1"), code_cell("from __future__ import annotations\ny = 2")),
        "nb.ipynb",
    )
    assert found.source.splitlines()[0] == "from __future__ import annotations"
    assert found.cells.where(1) == "cell 2, line 1" and found.cells.where(2) == "cell 1, line 1"
    compile(found.source, "nb.ipynb", "exec")


def test_skipped_cells_and_outputs_are_not_graded():
    cell = code_cell("def f():\n    return 1\n")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": "<script>alert('x')</script>"})
    ]
    found = notebooks.extract(
        notebook_of(cell, code_cell("f()", tags=(notebooks.SKIP_TAG,))), "nb.ipynb"
    )
    assert found.source == "def f():\n    return 1\n"


def test_a_cell_magic_is_dropped_with_its_lines_kept():
    source, notes = notebooks.plain_python(
        "%%time\nx = 1\ny = 2\n", 5, notebooks._load_libraries()[1]()
    )
    assert source.count("\n") == 3 and "x = 1" not in source
    assert notes[0].startswith("cell 5, line 1: `%%time`")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"{not json", "not a readable notebook"),
        (b"[" * 100_000 + b"]" * 100_000, "not a "),
        (b"\xff\xfe", "not a notebook (not UTF-8 text)"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "cells": "no", "metadata": {}}', "not a"),
        (notebook_of(nbformat.v4.new_markdown_cell("only words")), "has no code cells"),
        (b"{}", "not a"),
    ],
    ids=["invalid-json", "deeply-nested", "not-utf8", "cells-not-a-list", "no-code", "empty"],
)
def test_bad_notebooks_are_one_line_errors(raw, expected):
    with pytest.raises(NotebookError) as caught:
        notebooks.extract(raw, "bad.ipynb")
    message = caught.value.format_message()
    assert message.startswith("bad.ipynb: ") and expected in message
    assert "\n" not in message


def test_a_huge_notebook_is_refused_before_it_is_read(tmp_path, dlgrade_home):
    path = tmp_path / "huge.ipynb"
    with path.open("wb") as handle:  # sparse: the size is there, the bytes are not written
        handle.truncate(200 << 20)
    done = dlgrade("check", "00_weighted_sum", "--path", str(path), cwd=tmp_path, home=dlgrade_home)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"dlgrade: {path}: the notebook is larger than {notebooks.MAX_NOTEBOOK_MB} MiB"
    )


def test_an_old_format_notebook_is_converted():
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {},
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "code", "input": "x = 1\n", "outputs": [], "language": "python"}
                ]
            }
        ],
    }
    found = notebooks.extract(json.dumps(v3).encode(), "old.ipynb")
    assert found.source == "x = 1\n"


def test_escape_sequences_in_a_magic_never_reach_the_note():
    found = notebooks.extract(notebook_of(code_cell("%time \x1b[2J\x1b]0;pwned\x07 x")), "e.ipynb")
    assert found.cells.notes and not any("\x1b" in n or "\x07" in n for n in found.cells.notes)


def test_checking_a_python_file_does_not_import_the_notebook_libraries(tmp_path, dlgrade_home):
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('LOADED', sorted({m.split('.')[0] for m in sys.modules}"
        " & {'nbformat', 'IPython', 'nbclient'}), file=sys.stderr))\n"
        "sys.argv = ['dlgrade', 'check', '00_weighted_sum', '--path', sys.argv[1]]\n"
        "from grader.cli.entry import main\nmain()\n"
    )
    env = {**os.environ, "DLGRADE_HOME": str(dlgrade_home)}
    done = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT / "solutions" / "00_weighted_sum.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stderr


def test_the_html_result_escapes_what_the_learner_controls_and_draws_exercise_04():
    from grader.notebook import CheckReport, render_html

    result = {
        "exercise": "04_mnist_mlp",
        "title": "MNIST",
        "score": 1,
        "max_score": 2,
        "passed": False,
        "notes": ["cell 2, line 1: `<b>` is IPython syntax"],
        "load_error": None,
        "checks": [
            {
                "title": "a check",
                "passed": False,
                "points": 0,
                "max_points": 1,
                "message": "<script>alert(1)</script>",
                "got": "<img src=x onerror=alert(1)>",
                "hint": "try again",
            },
        ],
        "artifacts": {
            "history": {"loss": [0.5, 0.3], "accuracy": [0.8, 0.9]},
            "misclassified": [{"index": 0, "predicted": 3, "true": 5}],
            "accuracy": 0.9786,
        },
    }
    shown = render_html(CheckReport(result, "nb.ipynb"))
    assert "<script" not in shown and "onerror=alert" not in shown.replace(
        "onerror=alert(1)&gt;", ""
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown and "&lt;b&gt;" in shown
    assert shown.count("<svg") == 2  # loss and accuracy
    assert shown.count('<img src="data:image/png;base64,') == 1
    assert "accuracy 97.86% on 10,000 unseen images" in shown


def test_an_lms_renamed_notebook_names_its_exercise(tmp_path, dlgrade_home):
    path = write(filled_notebook("01_activations"), tmp_path / "Ana_1234_01_activations (1).ipynb")
    done = dlgrade("check", "--path", str(path), "--json", cwd=tmp_path, home=dlgrade_home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["exercise"] == "01_activations"


def test_a_flood_of_magics_is_refused_before_ipython_reads_it():
    """IPython's transformer re-reads a cell once per magic: thousands would take minutes."""
    flood = notebook_of(code_cell("x = 1\n!x\n" * 5000))
    with pytest.raises(NotebookError, match="too much IPython syntax"):
        notebooks.extract(flood, "flood.ipynb")
    fine = notebooks.extract(notebook_of(code_cell("%time x = 1\n" + "y = 1\n" * 200)), "ok.ipynb")
    assert fine.cells.notes == [
        "cell 1, line 1: `%time x = 1` is IPython syntax: skipped when grading"
    ]


def test_a_continued_magic_keeps_every_line_in_place():
    source = "if 1:\n    %time f()\n    y = 2\na = !ls \\\n  -l\nb = 2\n"
    found = notebooks.extract(notebook_of(code_cell(source)), "a.ipynb")
    lines = found.source.splitlines()
    assert len(lines) == 6 and lines[2] == "    y = 2" and lines[5] == "b = 2"
    assert lines[1].startswith("    pass") and lines[3].startswith("pass")
    compile(found.source, "a.ipynb", "exec")


def test_init_with_notebooks_without_the_extra_says_so_and_writes_nothing(tmp_path, dlgrade_home):
    blocked = (
        "import sys\n"
        "class Blocked:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] in ('nbformat', 'IPython'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Blocked())\n"
        "sys.argv = ['dlgrade', 'init', 'ws', '--notebooks']\n"
        "from grader.cli.entry import main\nmain()\n"
    )
    env = {**os.environ, "DLGRADE_HOME": str(dlgrade_home)}
    done = subprocess.run(
        [sys.executable, "-c", blocked], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"dlgrade: {notebook_stub.NEEDS_EXTRA}"
    assert not (tmp_path / "ws").exists()


def test_cells_tagged_for_another_exercise_are_left_out_and_untagged_ones_are_shared():
    raw = notebook_of(
        code_cell("import numpy as np"),
        code_cell("def a():\n    return 1", ("dlgrade:00_weighted_sum",)),
        code_cell("def b():\n    return 2", ("01_activations",)),
        code_cell("def c():\n    return 3", ("mine", "00_weighted_sum")),
    )
    assert notebooks.tagged(raw) == {"00_weighted_sum", "01_activations"}
    first = notebooks.extract(raw, "nb.ipynb", "00_weighted_sum")
    assert "def a" in first.source and "def c" in first.source and "def b" not in first.source
    assert first.source.startswith("import numpy as np\n")
    assert first.cells.where(4) == "cell 4, line 1"  # cell numbers count every cell
    assert "1 code cell(s) tagged for other exercises are not graded here" in first.cells.notes[0]
    second = notebooks.extract(raw, "nb.ipynb", "01_activations")
    assert "def b" in second.source and "def a" not in second.source
    assert "def c" not in second.source and "import numpy" in second.source
    everything = notebooks.extract(raw, "nb.ipynb")  # no exercise named: every code cell
    assert all(f"def {f}" in everything.source for f in "abc")
    with pytest.raises(NotebookError, match="no code cells for 02_perceptron"):
        notebooks.extract(
            notebook_of(code_cell("x = 1", ("00_weighted_sum",))), "nb.ipynb", "02_perceptron"
        )


@pytest.mark.parametrize("raw", [b"{ not json", b"[]", b'{"cells": 3}', b"[" * 10_000])
def test_the_tags_of_what_is_not_a_notebook_are_none(raw):
    assert notebooks.tagged(raw) == set()


def test_generated_notebooks_tag_their_graded_cells_and_are_the_same_byte_for_byte():
    for exercise in COURSE.exercises:
        text = notebook_stub.text(COURSE, exercise)
        assert text == notebook_stub.text(COURSE, exercise)
        notebook = nbformat.reads(text, as_version=4)
        for cell in notebook.cells:
            graded = cell.cell_type == "code" and notebooks.SKIP_TAG not in cell.metadata.get(
                "tags", []
            )
            assert (notebooks.exercise_tags(cell) == {exercise.id}) is graded, cell.metadata


def test_check_path_grades_one_exercise_of_a_notebook_that_holds_two(tmp_path, dlgrade_home):
    """One notebook with 00 and 01 (the 01 cells with a known mistake): each grades alone."""
    source = patched_solution(
        "01_activations", [{"old": "np.asarray(z) >= 0, 1.0", "new": "np.asarray(z) > 0, 1.0"}]
    )
    first = filled_notebook("00_weighted_sum")
    second = filled_notebook("01_activations", source)
    cells = [c for c in first.cells if c.cell_type == "code"]
    cells += [c for c in second.cells if c.cell_type == "code"]
    combined = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# homework"), *cells])
    path = write(combined, tmp_path / "homework.ipynb")
    result = check_json(path, "00_weighted_sum", dlgrade_home)
    assert result["score"] == result["max_score"] > 0, result
    result = check_json(path, "01_activations", dlgrade_home)
    assert 0 < result["score"] < result["max_score"], result
    failed = [c for c in result["checks"] if not c["passed"]]
    assert failed and any(c.get("hint") for c in failed)
    assert any("tagged for other exercises" in n for n in result["notes"]), result["notes"]


def test_check_path_without_an_exercise_takes_it_from_the_cell_tags(tmp_path, dlgrade_home):
    one = write(filled_notebook("01_activations"), tmp_path / "work.ipynb")
    done = dlgrade("check", "--path", str(one), "--json", cwd=tmp_path, home=dlgrade_home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["exercise"] == "01_activations"
    cells = [
        *filled_notebook("00_weighted_sum").cells,
        *filled_notebook("01_activations").cells,
    ]
    two = write(nbformat.v4.new_notebook(cells=cells), tmp_path / "both.ipynb")
    done = dlgrade("check", "--path", str(two), cwd=tmp_path, home=dlgrade_home)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "both.ipynb holds cells tagged for 00_weighted_sum, 01_activations" in done.stderr


def test_the_check_magic_takes_a_budget_and_refuses_a_bad_one(monkeypatch):
    from grader import notebook

    seen = []
    monkeypatch.setattr(notebook, "check", lambda *args, **kw: seen.append((args, kw)) or "ran")
    assert notebook._magic("check 03_backprop --budget 2.5") == "ran"
    assert notebook._magic("check 03_backprop work.ipynb") == "ran"
    assert seen == [
        (("03_backprop",), {"budget": 2.5}),
        (("03_backprop", "work.ipynb"), {"budget": None}),
    ]
    for bad in ("--budget", "--budget soon", "--budget 0", "--budget nan", "--budget inf"):
        shown = notebook._magic(f"check 03_backprop {bad}")
        assert isinstance(shown, notebook.Text) and "[--budget S]" in shown.text
    assert len(seen) == 2
