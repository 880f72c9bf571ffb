"""``dlgrade watch``: re-check an exercise each time its file is saved (watchfiles)."""

from __future__ import annotations

from pathlib import Path

from grader.course.info import Exercise
from grader.course.workspace import Workspace
from grader.grading import checking, report

# File systems that deliver no inotify events for changes made by another machine or OS:
# network mounts, WSL's Windows drives, and the bind mounts of Docker Desktop and VMs.
NO_EVENTS = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "v9fs", "drvfs", "virtiofs",
        "fakeowner", "fuse.grpcfuse", "fuse.osxfs", "fuse.sshfs", "vboxsf", "prl_fs",
    }
)  # fmt: skip
MOUNTS = "/proc/self/mounts"


def file_system(path: Path) -> str:
    """The type of the file system holding ``path`` ("" where /proc is not there)."""
    best, kind = "", ""
    try:
        with open(MOUNTS, encoding="utf-8") as mounts:
            for line in mounts:
                fields = line.split()
                point = fields[1].replace("\\040", " ")
                inside = str(path).startswith(point.rstrip("/") + "/") or str(path) == point
                if len(fields) > 2 and inside and len(point) >= len(best):
                    best, kind = point, fields[2]
    except OSError:
        return ""
    return kind


def force_polling(folder: Path, poll: bool | None) -> bool:
    """Poll when asked (``--poll``), when WATCHFILES_FORCE_POLLING says so, on WSL, or where
    the folder's file system delivers no change events; otherwise wait for events."""
    from watchfiles.main import _default_force_polling

    if poll:
        return True
    return _default_force_polling(None) or file_system(folder.resolve()) in NO_EVENTS


def changed_exercises(ws: Workspace, exercises: list[Exercise], paths: set[str]) -> list[Exercise]:
    """The watched exercises whose learner file is among ``paths``."""
    resolved = {Path(p).resolve() for p in paths}
    return [e for e in exercises if ws.graded_path(e).resolve() in resolved]


def watch_and_check(
    ws: Workspace, exercises: list[Exercise], *, as_json: bool, poll: bool | None = None
) -> None:
    """Check once, then again after every save, until interrupted."""
    from watchfiles import watch

    con = report.console()
    pending = exercises[:1] if len(exercises) > 1 else exercises
    folder = ws.root / "exercises"
    if not as_json:
        con.print(f"[muted]Watching {folder} — save a file to re-check it, Ctrl-C to stop.[/]")
    try:
        polling = force_polling(folder, poll)
        for changes in _changes(watch, folder, pending, polling):
            pending = changed_exercises(ws, exercises, changes)
            chosen = [
                checking.Target(e, ws.graded_path(e), ws.display(e, ws.graded_path(e)), record=True)
                for e in pending
            ]
            for _target, result in checking.run(ws.course, chosen, workspace_key=str(ws.root)):
                if as_json:
                    report.emit_json(result.to_dict())
                else:
                    con.rule()
                    report.exercise_result(con, result)
    except KeyboardInterrupt:
        if not as_json:
            con.print("[muted]Stopped watching.[/]")


def _changes(watch, folder: Path, first: list[Exercise], polling: bool):
    """The initial check, then each batch of changed paths (debounced by watchfiles)."""
    yield {str(folder / e.file_name) for e in first}
    for batch in watch(folder, debounce=300, raise_interrupt=True, force_polling=polling):
        yield {path for _change, path in batch}
