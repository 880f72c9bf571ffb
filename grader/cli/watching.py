"""``dlgrade watch``: re-check an exercise each time its file is saved (watchfiles)."""

from __future__ import annotations

from pathlib import Path

from grader.course.info import Exercise
from grader.course.workspace import Workspace
from grader.grading import checking, report


def changed_exercises(ws: Workspace, exercises: list[Exercise], paths: set[str]) -> list[Exercise]:
    """The watched exercises whose learner file is among ``paths``."""
    resolved = {Path(p).resolve() for p in paths}
    return [e for e in exercises if ws.path(e).resolve() in resolved]


def watch_and_check(ws: Workspace, exercises: list[Exercise], *, as_json: bool) -> None:
    """Check once, then again after every save, until interrupted."""
    from watchfiles import watch

    con = report.console()
    pending = exercises[:1] if len(exercises) > 1 else exercises
    folder = ws.root / "exercises"
    if not as_json:
        con.print(f"[muted]Watching {folder} — save a file to re-check it, Ctrl-C to stop.[/]")
    try:
        for changes in _changes(watch, folder, pending):
            pending = changed_exercises(ws, exercises, changes)
            chosen = [checking.Target(e, ws.path(e), ws.display(e), record=True) for e in pending]
            for _target, result in checking.run(ws.course, chosen, workspace_key=str(ws.root)):
                if as_json:
                    report.emit_json(result.to_dict())
                else:
                    con.rule()
                    report.exercise_result(con, result)
    except KeyboardInterrupt:
        if not as_json:
            con.print("[muted]Stopped watching.[/]")


def _changes(watch, folder: Path, first: list[Exercise]):
    """The initial check, then each batch of changed paths (debounced by watchfiles)."""
    yield {str(folder / e.file_name) for e in first}
    for batch in watch(folder, debounce=300, raise_interrupt=True):
        yield {path for _change, path in batch}
