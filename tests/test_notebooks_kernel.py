"""``%load_ext grader`` in a real Jupyter kernel, driven by nbclient: checks, hints, progress."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import patched_solution
from nbclient import NotebookClient
from notebook_helpers import filled_notebook, write

from grader.grading.notebooks import SKIP_TAG
from grader.notebook import STALE

CHECK = "%load_ext grader\n%dlgrade check 00_weighted_sum"


@pytest.fixture
def ws(tmp_path: Path, dlgrade_home: Path) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "grader", "init", "ws", "--notebooks"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DLGRADE_HOME": str(dlgrade_home)},
    )
    assert done.returncode == 0, done.stderr
    return tmp_path / "ws"


def run(path: Path, *, save_first: bool = True) -> nbformat.NotebookNode:
    """Execute the notebook at ``path`` in a fresh kernel started in its folder."""
    notebook = nbformat.read(str(path), as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return notebook


def html_of(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def text_of(cell: nbformat.NotebookNode) -> str:
    parts = [o.get("text", "") for o in cell.outputs]
    parts += [o.get("data", {}).get("text/plain", "") for o in cell.outputs]
    parts += [" ".join(o.get("traceback", [])) for o in cell.outputs]
    return "".join(parts)


def listed(ws: Path, home: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "grader", "list", "--json"],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DLGRADE_HOME": str(home)},
    )
    assert done.returncode == 0, done.stderr
    (entry,) = [
        e for e in json.loads(done.stdout)["exercises"] if e["exercise"] == "00_weighted_sum"
    ]
    return entry


def test_the_magic_grades_the_reference_notebook_full_and_records_it(ws, dlgrade_home):
    path = write(filled_notebook("00_weighted_sum"), ws / "exercises" / "00_weighted_sum.ipynb")
    notebook = run(path)
    check_cell = notebook.cells[-1]
    assert check_cell.metadata["dlgrade"]["part"] == "check"
    shown = html_of(check_cell)
    assert "00_weighted_sum: The weighted sum — 26/26 points, 16/16 checks passed" in shown
    assert "The bias is added to the weighted sum" in shown
    assert "Course progress: 1/5 exercises passed" in shown
    assert STALE not in shown  # the kernel ran the cells as they are saved
    entry = listed(ws, dlgrade_home)
    assert entry["attempts"] == 1 and entry["best"] == 26, entry


def test_cells_run_but_not_saved_are_named_stale(ws):
    path = write(filled_notebook("00_weighted_sum"), ws / "exercises" / "00_weighted_sum.ipynb")
    notebook = nbformat.read(str(path), as_version=4)
    (cell,) = [
        c
        for c in notebook.cells
        if c.metadata["dlgrade"]
        == {"exercise": "00_weighted_sum", "part": "function", "name": "weighted_sum"}
    ]
    cell.source = cell.source.replace("x @ w + b", "x @ w")  # run in the kernel, never saved
    notebook.cells[-1].source = "%dlgrade check 00_weighted_sum 00_weighted_sum.ipynb"
    executed = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    shown = html_of(executed.cells[-1])
    assert STALE in shown and "26/26 points" in shown


def test_the_api_gives_a_known_mistake_its_hint(ws, dlgrade_home):
    source = patched_solution(
        "00_weighted_sum",
        [{"old": "    return float(x @ w + b)\n", "new": "    return float(x @ w)\n"}],
    )
    notebook = filled_notebook("00_weighted_sum", source)
    notebook.cells[
        -1
    ].source = (
        "from grader import notebook\nnotebook.check('00_weighted_sum', '00_weighted_sum.ipynb')"
    )
    path = write(notebook, ws / "exercises" / "00_weighted_sum.ipynb")
    shown = html_of(run(path).cells[-1])
    assert "Add b after summing the products" in shown
    assert "%dlgrade hint 00_weighted_sum" in shown
    entry = listed(ws, dlgrade_home)
    assert entry["attempts"] == 1 and 0 < entry["best"] < 26, entry


# The endless loop is checked through the API with a budget of a few seconds (its first call
# uses it up); grading drops the magics of a cell, and leaves out this Python check cell by the
# tag that generated notebooks give theirs.
API_CHECK = (
    "from grader import notebook\n"
    "notebook.check('00_weighted_sum', '00_weighted_sum.ipynb', budget=3)"
)


@pytest.mark.parametrize(
    ("body", "check", "stopped"),
    [
        ("    import os\n    os._exit(3)\n", CHECK, ["your code exited with status 3"]),
        (
            "    while True:\n        pass\n",
            API_CHECK,
            ["weighted_sum did not return within", "calls may take 3 s in all"],
        ),
    ],
    ids=["os-exit", "endless-loop"],
)
def test_hostile_learner_code_fails_the_check_and_leaves_the_kernel_alive(
    tmp_path, body, check, stopped
):
    cells = [
        nbformat.v4.new_code_cell(f"def weighted_sum(x, w, b=0.0):\n{body}"),
        nbformat.v4.new_code_cell(
            check, metadata={"tags": [SKIP_TAG]} if check == API_CHECK else {}
        ),
        nbformat.v4.new_code_cell("print('kernel', 'alive')"),
    ]
    path = write(nbformat.v4.new_notebook(cells=cells), tmp_path / "00_weighted_sum.ipynb")
    notebook = run(path)
    shown = html_of(notebook.cells[1])
    assert "0/26 points" in shown, text_of(notebook.cells[1])
    assert all(words in shown for words in stopped), text_of(notebook.cells[1])
    assert "kernel alive" in text_of(notebook.cells[2])


def test_hint_glossary_and_usage_in_the_kernel(ws):
    cells = [
        nbformat.v4.new_code_cell("%load_ext grader\n%dlgrade hint 00_weighted_sum"),
        nbformat.v4.new_code_cell("%dlgrade hint 00_weighted_sum"),
        nbformat.v4.new_code_cell("%dlgrade glossary weigted sum"),
        nbformat.v4.new_code_cell("%dlgrade frobnicate"),
        nbformat.v4.new_code_cell("%dlgrade check no_such_exercise"),
    ]
    path = write(nbformat.v4.new_notebook(cells=cells), ws / "exercises" / "scratch.ipynb")
    notebook = run(path)
    assert "hint 1 of 4" in text_of(notebook.cells[0])
    assert "hint 2 of 4" in text_of(notebook.cells[1])
    assert text_of(notebook.cells[2]).startswith("weighted sum\n\nThe value a neuron computes")
    assert text_of(notebook.cells[3]).startswith("usage: %dlgrade check")
    assert "dlgrade: " in text_of(notebook.cells[4]) and "Traceback" not in text_of(
        notebook.cells[4]
    )


def test_the_quiz_reads_plain_answers(dlgrade_home):
    from grader import notebook

    shown = notebook.quiz("00_weighted_sum", n=2, seed=1, answers=["A", "B"])
    assert repr(shown).startswith("quiz: ") and "/2 right" in repr(shown)
