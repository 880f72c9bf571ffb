"""The course loop (``dlgrade`` with no arguments): one exercise at a time, re-checked on save.

A thin layer over the single commands: checking goes through :func:`grader.grading.checking.run`,
hints, resets and solutions through :mod:`grader.cli.actions`, rendering through
:mod:`grader.grading.report`. Two threads feed one queue, file changes (watchfiles) and, at a
terminal, key presses; the main thread blocks on it, so the loop never busy-waits.
Without a terminal there are no keys and no escape codes: each save is re-checked plainly.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from grader.cli import actions
from grader.cli.watching import force_polling
from grader.core.errors import InputError
from grader.course import extras
from grader.course.info import Exercise
from grader.course.workspace import Workspace
from grader.grading import checking, progress, report
from grader.grading.results import ExerciseResult

KEYS = (
    ("h", "hint"),
    ("n", "next"),
    ("p", "previous"),
    ("l", "list"),
    ("r", "reset"),
    ("s", "solution"),
    ("q", "quit"),
)
CONFIRM = "[warn]{question}[/] [muted](y/N)[/]"


class Loop:
    """The learner's place in the course and what each key does there."""

    def __init__(self, ws: Workspace, exercises: list[Exercise], events: queue.Queue) -> None:
        self.ws, self.exercises, self.events = ws, exercises, events
        self.con = report.console()
        self.index = exercises.index(actions.current(ws, exercises))
        self.passed = False
        self.dirty = False  # a save arrived while a key was awaited
        self.polling = False

    @property
    def exercise(self) -> Exercise:
        return self.exercises[self.index]

    def check(self, exercise: Exercise | None = None) -> ExerciseResult | None:
        """Grade one learner file exactly as ``dlgrade check`` does, and render it."""
        exercise = exercise or self.exercise
        ws = self.ws
        try:
            from grader.cli.gate import require

            require(ws.course, [exercise], ask=False)
        except InputError as exc:
            self.con.print(f"[hint]{report.markup(exc.format_message())}[/]")
            return None
        target = checking.Target(
            exercise,
            ws.graded_path(exercise),
            ws.display(exercise, ws.graded_path(exercise)),
            record=True,
        )
        for _target, result in checking.run(ws.course, [target], workspace_key=str(ws.root)):
            report.exercise_result(self.con, result)
            return result
        return None

    def show(self) -> None:
        """The current exercise from the top: its checks, and on a pass its solution."""
        if self.con.is_terminal:
            self.con.clear()
        count = f"{self.index + 1}/{len(self.exercises)}"
        self.con.print(
            f"[title]exercise {count} · {self.exercise.id}[/] — {self.exercise.title} "
            f"[muted]· edit {report.markup(self.ws.display(self.exercise))}[/]",
            soft_wrap=True,
        )
        result = self.check()
        self.passed = bool(result and result.passed)
        if self.passed:
            self.con.print(f"[pass]✓ {self.exercise.id} passed.[/]")
            self.solution()
            self.offer_next()
        self.footer()

    def offer_next(self) -> None:
        if self.index + 1 < len(self.exercises):
            nxt = self.exercises[self.index + 1]
            self.con.print(f"[pass]Press n for the next exercise: {nxt.id} — {nxt.title}[/]")
        else:
            self.con.print("[pass]That was the last exercise of the course.[/]")

    def footer(self) -> None:
        parts = []
        for key, label in KEYS:
            usable = self.passed or key not in ("n", "s")
            parts.append(f"[title]{key} {label}[/]" if usable else f"[muted]{key} {label}[/]")
        polling = " [muted](watching by polling)[/]" if self.polling else ""
        self.con.print(" · ".join(parts) + polling, soft_wrap=True)

    def say(self, text: str) -> None:
        self.con.print(f"[hint]{report.markup(text)}[/]")

    def hint(self) -> None:
        report.hints(self.con, self.exercise, actions.next_hint(self.ws, self.exercise))
        self.footer()

    def solution(self) -> None:
        try:
            view = actions.solution(self.ws, self.exercise)
        except InputError as exc:
            self.say(exc.format_message())
            return
        from grader.cli.solution_view import render

        render(self.con, view)

    def move(self, step: int) -> None:
        target = self.index + step
        if not 0 <= target < len(self.exercises):
            self.say("That was the last exercise." if step > 0 else "This is the first exercise.")
            return
        if step > 0 and not self.passed:
            question = f"{self.exercise.id} has not passed yet. Move on anyway?"
            if not self.confirm(question):
                self.footer()
                return
        self.index = target
        self.show()

    def pick(self) -> None:
        view = progress.overview(self.ws.course, str(self.ws.root))
        report.exercise_list(self.con, view, numbered=True)
        self.con.print(
            f"[muted]Press 1-{len(view.exercises)} to open an exercise, any other key to stay.[/]"
        )
        key = self.key()
        ids = [e.id for e, _p in view.exercises]
        if key.isdigit() and 1 <= int(key) <= len(ids):
            chosen = self.ws.course.get(ids[int(key) - 1])
            if chosen in self.exercises:
                self.index = self.exercises.index(chosen)
                self.show()
                return
            self.say(extras.missing(chosen) or f"{chosen.id} cannot be opened here")
        self.footer()

    def reset(self) -> None:
        question = f"Reset {self.exercise.id} to its stub? Your file is kept in .dlgrade/backups."
        if not self.confirm(question):
            self.footer()
            return
        report.reset_done(self.con, {self.exercise.id: actions.reset(self.ws, self.exercise)})
        self.show()

    def confirm(self, question: str) -> bool:
        self.con.print(CONFIRM.format(question=report.markup(question)))
        return self.key().lower() == "y"

    def key(self) -> str:
        """The next key press; saves arriving meanwhile are re-checked afterwards."""
        while True:
            kind, value = self.events.get()
            if kind == "key":
                return value
            if kind == "eof":
                return "q"
            self.dirty = self.dirty or self.ws.graded_path(self.exercise).resolve() in value

    def saved(self, paths: set[Path]) -> None:
        if self.ws.graded_path(self.exercise).resolve() in paths:
            self.show()


def run(ws: Workspace, *, poll: bool | None = None) -> None:
    """The loop until ``q`` (or Ctrl-C); without a terminal, plain re-checks on save."""
    exercises = [e for e in ws.course.exercises if not extras.missing(e)]
    events: queue.Queue = queue.Queue()
    stop = threading.Event()
    folder = ws.root / "exercises"
    polling = force_polling(folder, poll)
    threading.Thread(target=_watch, args=(folder, events, stop, polling), daemon=True).start()
    at_terminal = sys.stdin.isatty() and sys.stdout.isatty()
    loop = Loop(ws, exercises, events)
    try:
        if at_terminal:
            with _cbreak(sys.stdin.fileno()):
                threading.Thread(target=_keys, args=(events,), daemon=True).start()
                _interactive(loop, polling)
        else:
            _plain(loop, polling)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
    loop.con.print("[muted]Stopped. Run dlgrade again to carry on where you are.[/]")


def _interactive(loop: Loop, polling: bool) -> None:
    loop.polling = polling
    loop.show()
    actions_by_key = {
        "h": loop.hint,
        "n": lambda: loop.move(1),
        "p": lambda: loop.move(-1),
        "l": loop.pick,
        "r": loop.reset,
        "s": lambda: (loop.solution(), loop.footer()),
    }
    while True:
        kind, value = loop.events.get()
        if kind == "files":
            loop.saved(value)
        elif kind == "eof" or value == "q":
            return
        elif value in actions_by_key:
            actions_by_key[value]()
        if loop.dirty:
            loop.dirty = False
            loop.show()


def _plain(loop: Loop, polling: bool) -> None:
    """No keys, no escape codes: check the current exercise, then each saved file."""
    how = " by polling" if polling else ""
    loop.con.print(f"Watching {loop.ws.root / 'exercises'}{how}; save a file to re-check it.")
    loop.check()
    while True:
        _kind, paths = loop.events.get()
        for exercise in loop.exercises:
            if loop.ws.graded_path(exercise).resolve() in paths:
                loop.con.rule()
                result = loop.check(exercise)
                if result and result.passed:
                    loop.con.print(f"{exercise.id} passed: dlgrade solution {exercise.id}")


def _watch(folder: Path, events: queue.Queue, stop: threading.Event, polling: bool) -> None:
    from watchfiles import watch

    for batch in watch(
        folder, stop_event=stop, force_polling=polling, debounce=300, raise_interrupt=False
    ):
        events.put(("files", {Path(path).resolve() for _change, path in batch}))


def _keys(events: queue.Queue) -> None:
    """Each key press as it comes (the terminal is in cbreak mode); ('eof', '') at the end."""
    fd = sys.stdin.fileno()
    while True:
        try:
            data = os.read(fd, 1)
        except OSError:
            data = b""
        if not data:
            events.put(("eof", ""))
            return
        events.put(("key", data.decode("latin-1")))


@contextmanager
def _cbreak(fd: int) -> Any:
    """Keys arrive one at a time and unechoed; Ctrl-C still interrupts; restored on exit."""
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
