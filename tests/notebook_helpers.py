"""Notebooks for the tests: an exercise's generated notebook with its cells filled from a file."""

from __future__ import annotations

from pathlib import Path

import nbformat
from conftest import ROOT

from grader.course import notebook_stub
from grader.course.info import load_course


def filled_notebook(exercise_id: str, source: str | None = None) -> nbformat.NotebookNode:
    """The generated notebook of ``exercise_id``, its stub cells replaced by ``source``'s code.

    ``source`` defaults to the reference solution; the worked-example and check cells stay.
    """
    course = load_course()
    notebook = notebook_stub.build(course, course.get(exercise_id))
    if source is None:
        source = (ROOT / "solutions" / f"{exercise_id}.py").read_text(encoding="utf-8")
    _, preamble, functions = notebook_stub.parts(source)
    code = {name: text for name, text, _ in functions}
    for cell in notebook.cells:
        part = cell.metadata["dlgrade"]
        if part["part"] == "imports":
            cell.source = preamble
        elif part["part"] == "function":
            cell.source = code.pop(part["name"])
    if code:  # helpers of the solution that the stub does not have: a cell of their own
        notebook.cells.insert(2, nbformat.v4.new_code_cell("\n\n\n".join(code.values())))
    return notebook


def write(notebook: nbformat.NotebookNode, path: Path) -> Path:
    nbformat.write(notebook, str(path))
    return path
