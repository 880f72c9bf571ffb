"""An exercise's notebook, generated from its ``.py`` stub: the stub stays the one source.

The module docstring becomes the lesson (Markdown), the imports one code cell, each function a
code cell with its TODOs, the examples of its docstring a worked-example cell after it, and a
last cell runs the check (``%load_ext grader`` has a cell of its own at the top). Those cells
are tagged ``dlgrade-skip``: they run in the notebook, not when grading. The graded cells are
tagged ``dlgrade:<exercise id>``, so a renamed notebook, or one that a learner has merged with
another exercise's, still grades each exercise from its own cells. Every cell's
``metadata.dlgrade`` says what it holds.

The stub is the course's own file, so reading it with :mod:`ast` here is safe; nbformat (the
``jupyter`` extra) is imported only when a notebook is written.
"""

from __future__ import annotations

import ast
import builtins
import textwrap
from pathlib import Path
from typing import Any

from grader.core.errors import InputError
from grader.course.info import Course, Exercise

SKIP_TAG = "dlgrade-skip"
EXERCISE_TAG = "dlgrade:{id}"
NEEDS_EXTRA = "notebooks need the jupyter extra: pip install 'dlgrade[jupyter]'"
LESSON_END = (
    "Write each function in its cell, run it, and try the worked example below it. "
    "The last cell grades the notebook as it is saved on disk: save first "
    "(the check reads the saved code cells in order, as *Restart and run all* would)."
)
KNOWN_NAMES = {"np", *dir(builtins)}


def _start(node: ast.stmt) -> int:
    """The first line of a top-level statement, its decorators included (0-based)."""
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1


def _with_comments(lines: list[str], start: int, floor: int) -> int:
    """Move ``start`` up over the comment lines right above it."""
    while start > floor and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return start


def parts(text: str) -> tuple[str, str, list[tuple[str, str, str]]]:
    """A stub's (lesson, preamble code, [(function name, its code, its docstring)])."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    body = list(tree.body)
    lesson = ast.get_docstring(tree, clean=True) or ""
    floor = body.pop(0).end_lineno if lesson else 0
    defs = [n for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    starts = [_with_comments(lines, _start(n), floor) for n in defs]
    preamble = "".join(lines[floor : starts[0] if starts else len(lines)]).strip("\n")
    functions = []
    for i, node in enumerate(defs):
        end = starts[i + 1] if i + 1 < len(defs) else len(lines)
        code = "".join(lines[starts[i] : end]).strip("\n")
        functions.append((node.name, code, ast.get_docstring(node, clean=True) or ""))
    return lesson, preamble, functions


def _compiles(code: str, mode: str) -> ast.AST | None:
    try:
        return ast.parse(code, mode=mode)
    except SyntaxError:
        return None


def _only_known(tree: ast.AST, known: set[str]) -> bool:
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return names <= known


def worked_example(name: str, docstring: str, known: set[str]) -> str | None:
    """The docstring's examples of ``name`` as code that runs in the notebook, or None."""
    _, found, block = docstring.partition("Example")
    if not found:
        return None
    block = textwrap.dedent(block.split("\n", 1)[1] if "\n" in block else "")
    block = block.split("\n\n")[0] if "->" in block else block
    if "->" not in block:  # a short script, as in exercise 04
        tree = _compiles(block, "exec")
        return block.strip() if block.strip() and tree else None
    joined: list[str] = []
    for line in block.splitlines():
        if line.strip().startswith("->") and joined:
            joined[-1] += " " + line.strip()
        elif line.strip():
            joined.append(line.strip())
    calls = []
    for line in joined:
        left, arrow, right = line.partition("->")
        left = left.strip()
        tree = _compiles(left, "eval")
        if arrow and tree and left.startswith(f"{name}(") and _only_known(tree, known):
            calls.append(f"print({left})  # expected: {' '.join(right.split())}")
    return "\n".join(calls) or None


def require_extra() -> None:
    """An InputError naming the extra to install when nbformat is missing."""
    try:
        import nbformat  # noqa: F401
    except ImportError:
        raise InputError(NEEDS_EXTRA) from None


def build(course: Course, exercise: Exercise) -> Any:
    """The notebook of ``exercise``, generated from its stub (an nbformat NotebookNode)."""
    try:
        from nbformat import v4
    except ImportError:
        raise InputError(NEEDS_EXTRA) from None
    text = course.stub_path(exercise).read_text(encoding="utf-8")
    lesson, preamble, functions = parts(text)

    def meta(part: str, tags: tuple[str, ...] = (), **extra: str) -> dict:
        data: dict = {"dlgrade": {"exercise": exercise.id, "part": part, **extra}}
        if tags:
            data["tags"] = list(tags)
        return data

    cells = [
        v4.new_markdown_cell(
            f"# {exercise.id}: {exercise.title}\n\n{lesson}\n\n{LESSON_END}",
            metadata=meta("lesson"),
        )
    ]
    cells.append(v4.new_code_cell("%load_ext grader", metadata=meta("setup", (SKIP_TAG,))))
    graded = (EXERCISE_TAG.format(id=exercise.id),)
    if preamble:
        cells.append(v4.new_code_cell(preamble, metadata=meta("imports", graded)))
    known = KNOWN_NAMES | {name for name, _, _ in functions}
    for name, code, docstring in functions:
        cells.append(v4.new_code_cell(code, metadata=meta("function", graded, name=name)))
        example = worked_example(name, docstring, known)
        if example:
            cells.append(
                v4.new_code_cell(
                    f"# Worked example from the docstring of {name}\n{example}",
                    metadata=meta("example", (SKIP_TAG,), name=name),
                )
            )
    cells.append(
        v4.new_code_cell(f"%dlgrade check {exercise.id}", metadata=meta("check", (SKIP_TAG,)))
    )
    for number, cell in enumerate(cells):  # the same stub gives the same notebook, byte for byte
        cell.id = f"{exercise.id}-{number:02d}".replace("_", "-")
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def text(course: Course, exercise: Exercise) -> str:
    """``exercise``'s notebook as the text of an ``.ipynb`` file (validated by nbformat)."""
    import nbformat

    notebook = build(course, exercise)
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def write(course: Course, exercise: Exercise, path: Path) -> Path:
    """Write ``exercise``'s notebook to ``path``."""
    from grader.core.atomic import write_text

    write_text(path, text(course, exercise))
    return path
