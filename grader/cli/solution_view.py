"""Rendering a reference solution for people: beside the learner's file, or as a diff.

Shared by ``dlgrade solution`` and the loop's ``s``; kept apart from :mod:`grader.grading.report` so
that pygments (syntax highlighting) is loaded only when a solution is shown.
"""

from __future__ import annotations

import difflib

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from grader.cli.actions import Solution
from grader.core.untrusted import for_terminal

SIDE_BY_SIDE_WIDTH = 120  # narrower terminals get the diff


def render(con: Console, view: Solution, *, diff: bool | None = None) -> None:
    """The reference solution, syntax-highlighted: beside the learner's file, or as a diff.

    ``diff=None`` chooses by width. The learner's text is shown as code, never as markup.
    """
    exercise = view.exercise
    if view.forced:
        con.print(f"[warn]{exercise.id}: shown before a pass; your progress notes it.[/]")
    if diff is None:
        diff = con.width < SIDE_BY_SIDE_WIDTH
    if diff:
        lines = difflib.unified_diff(
            view.learner.splitlines(keepends=True),
            view.reference.splitlines(keepends=True),
            fromfile=f"your {exercise.file_name}",
            tofile=f"solutions/{exercise.file_name}",
        )
        text = "".join(lines) or "(your file is the reference, line for line)\n"
        body = Syntax(for_terminal(text), "diff", word_wrap=True)
        con.print(
            Panel(body, title=f"{exercise.id}: your file → the reference", title_align="left")
        )
        return
    table = Table(box=None, expand=True, padding=(0, 1))
    table.add_column(f"your {exercise.file_name}", ratio=1)
    table.add_column(f"solutions/{exercise.file_name}", ratio=1)
    table.add_row(
        Syntax(for_terminal(view.learner), "python", word_wrap=True),
        Syntax(view.reference, "python", word_wrap=True),
    )
    con.print(Panel(table, title=f"{exercise.id}: the reference solution", title_align="left"))
