"""Rendering for people (rich) and for scripts (JSON). The only grading module that imports rich."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from rich.columns import Columns
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.theme import Theme

from grader import __version__
from grader.core.untrusted import for_terminal, markup
from grader.grading.progress import Overview
from grader.grading.results import CheckResult, ExerciseResult
from grader.sandbox import modes

THEME = Theme(
    {
        "pass": "bold green",
        "fail": "bold red",
        "hint": "yellow",
        "formula": "cyan",
        "muted": "dim",
        "title": "bold",
        "warn": "bold yellow",
    }
)
ICONS = {
    "passed": "✓",
    "failed": "✗",
    "not_implemented": "·",
    "error": "!",
    "timeout": "⏱",
    "crashed": "☠",
    "unavailable": "–",
}


def console(stderr: bool = False) -> Console:
    """The one Console for people: themed, colour only on a terminal, honours NO_COLOR.

    Our text uses no emoji codes; with them off, rich never loads its emoji table.
    """
    return Console(theme=THEME, stderr=stderr, highlight=False, emoji=False)


def emit_json(data: Any) -> None:
    """Plain JSON on stdout for scripts: no rich, no colour, one line."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def header(con: Console, exercise: str, result: ExerciseResult) -> None:
    """The line that makes the run repeatable (version, exercise, seed), and the sandbox's:
    its mode and what that mode cannot enforce here."""
    cases = " · practice cases" if result.cases == "practice" else ""
    con.print(f"[muted]dlgrade {__version__} · {exercise} · seed {result.seed}{cases}[/]")
    sandbox = (
        modes.line(result.mode, result.unenforced)
        if result.mode
        else f"sandbox: {result.isolation or 'none'}"
    )
    con.print(f"[muted]{markup(sandbox)}[/]")
    if result.cases == "practice":
        con.print(
            "[muted]Practice cases: expected values recorded from the reference for a few "
            "seeds; your instructor grades on fresh cases.[/]"
        )
    if result.isolation == "rlimits":
        why = markup(result.isolation_note or "bubblewrap is not installed")
        con.print(
            f"[warn]{why}: learner code runs with resource limits only "
            "(apt-get install bubblewrap for full isolation)[/]"
        )


def _check_detail(check: CheckResult) -> Group:
    """What a failed check found; every string the learner's code shaped is made safe."""
    style = "fail" if check.status == "failed" else ""
    lines: list[Any] = [Text(for_terminal(check.message), style=style)]
    for label, value in (("called", check.call), ("expected", check.expected), ("got", check.got)):
        if value:
            lines.append(
                Text.assemble((f"  {label:<9}", "muted"), (for_terminal(value), "formula"))
            )
    if check.hint:
        lines.append(Text.assemble(("  hint     ", "hint"), (check.hint, "hint")))
    if check.glossary:
        lines.append(Text(f"  see: dlgrade glossary {check.glossary}", style="muted"))
    if check.output.strip():
        tail = for_terminal(check.output).strip().splitlines()[-3:]
        lines.append(Text("  your code printed: " + " ⏎ ".join(tail)[:200], style="muted"))
    return Group(*lines)


def exercise_result(con: Console, result: ExerciseResult) -> None:
    """The check-by-check report for one exercise."""
    header(con, result.exercise, result)
    if result.grader_error:
        con.print(
            Panel(
                Text(
                    f"{for_terminal(result.grader_error)}\nThis is not your fault and no "
                    "attempt was recorded; please try again or report it."
                ),
                title="grader error",
                border_style="warn",
            )
        )
        return
    for note in result.notes:
        con.print(Text(f"note: {for_terminal(note)}", style="muted"))
    if result.load_error:
        con.print(
            Panel(
                Text(for_terminal(result.load_error), style="fail"),
                title=f"{result.exercise}: your file did not load",
                border_style="red",
            )
        )
        _summary(con, result)
        return
    table = Table(show_header=False, box=None, padding=(0, 1), expand=False)
    table.add_column(width=1)
    table.add_column()
    table.add_column(justify="right", style="muted")
    for check in result.checks:
        style = "pass" if check.passed else "fail"
        table.add_row(
            Text(ICONS.get(check.status, "?"), style=style),
            Text(check.title),
            f"{check.points}/{check.max_points}",
        )
        if not check.passed and not result.not_started:
            table.add_row("", _check_detail(check), "")
    con.print(
        Panel(
            table,
            title=f"[title]{result.exercise}[/] — {result.title}",
            title_align="left",
            border_style="green" if result.passed else "red",
        )
    )
    if result.not_started:
        con.print(
            f"[hint]Not started yet: every function in {markup(result.file)} still raises "
            "NotImplementedError. Look for the TODO comments.[/]"
        )
    _summary(con, result)


def _summary(con: Console, result: ExerciseResult) -> None:
    passed = sum(c.passed for c in result.checks)
    style = "pass" if result.passed else "fail"
    con.print(
        f"[{style}]{result.exercise}: {result.score}/{result.max_score} points, "
        f"{passed}/{len(result.checks)} checks passed[/] [muted]({result.duration:.2f} s)[/]"
    )
    for added in result.flashcards_added:
        con.print(f"[hint]added '{markup(added['name'])}' to your flashcards[/]")
    if not result.passed:
        con.print(f"[muted]Stuck? dlgrade hint {result.exercise}[/]")


def _ago(when: float | None) -> str:
    if when is None:
        return "—"
    seconds = time.time() - when
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def overview(con: Console, view: Overview) -> None:
    """Exercises (code, concepts, cards due), then quiz mastery per topic and flashcards due."""
    exercise_list(con, view)
    quiz = Table(title="Quiz mastery", title_justify="left")
    quiz.add_column("topic")
    quiz.add_column("right", justify="right")
    for topic, (right, total) in sorted(view.quiz.items()):
        style = "pass" if total and right == total else "muted" if not right else ""
        quiz.add_row(topic, f"[{style}]{right}/{total}[/]" if style else f"{right}/{total}")
    cards = Table(title="Flashcards", title_justify="left")
    cards.add_column("")
    cards.add_column("", justify="right")
    for label, key in (("due now", "due_now"), ("due this week", "due_week"), ("new", "new")):
        cards.add_row(label, str(view.cards.get(key, 0)))
    con.print(Columns([quiz, cards], padding=(0, 4)))
    con.print("[muted]dlgrade quiz · dlgrade cards · dlgrade glossary TERM[/]")


LIST_COLUMNS = ("", "exercise", "title", "status", "code", "concepts", "cards due", "hints")
LIST_COLUMNS += ("solution", "last attempt")  # solution: seen after a pass, or forced before
TITLES_FROM = 130  # columns; narrower terminals leave the titles out


def exercise_list(con: Console, view: Overview, *, numbered: bool = False) -> None:
    """Each exercise's status, code score, concept score and cards due, side by side.

    ``▶`` marks where the learner stopped; ``numbered`` labels rows 1.. for picking.
    """
    titles = con.width >= TITLES_FROM
    table = Table(title="Exercises", title_justify="left")
    for name in LIST_COLUMNS:
        if name == "title" and not titles:
            continue
        right = name in ("code", "concepts", "cards due", "hints")
        table.add_column(name, justify="right" if right else "left", no_wrap=name != "title")
    for number, (exercise, prog) in enumerate(view.exercises, start=1):
        status = (
            "[pass]passed[/]"
            if prog.passed
            else "[hint]in progress[/]"
            if prog.attempts
            else "[muted]not started[/]"
        )
        right, total = view.concepts.get(exercise.id, (0, 0))
        mark = "▶" if exercise.id == view.current else ""
        cells = [
            f"{number} {mark}" if numbered else mark,
            exercise.id,
            *([exercise.title] if titles else []),
            status,
            f"{prog.best}/{exercise.max_score}",
            f"{right}/{total}" if total else "—",
            str(view.cards_due.get(exercise.id, 0)),
            f"{prog.hints_seen}/{len(exercise.hints)}",
            {"forced": "[warn]forced[/]", "seen": "seen"}.get(prog.solution or "", ""),
            _ago(prog.last_at),
        ]
        table.add_row(*cells)
    con.print(table)


def hints(con: Console, exercise: Any, shown: int) -> None:
    """The progressive hints revealed so far."""
    for number, text in enumerate(exercise.hints[:shown], start=1):
        con.print(
            Panel(
                markup(text, one_line=False),
                title=f"hint {number}/{len(exercise.hints)}",
                title_align="left",
                border_style="yellow",
            )
        )
    if shown < len(exercise.hints):
        con.print(f"[muted]Run `dlgrade hint {exercise.id}` again for the next hint.[/]")
    if exercise.glossary:
        terms = markup(", ".join(exercise.glossary))
        con.print(
            f"[muted]Related terms: {terms} (dlgrade glossary TERM) · "
            f"questions: dlgrade quiz --exercise {exercise.id}[/]"
        )


def reset_done(con: Console, backups: dict[str, Any]) -> None:
    """One line per restored stub, and where the learner's file was kept."""
    for exercise, backup in backups.items():
        con.print(f"[pass]{exercise} restored to its stub.[/]")
        if backup:
            con.print(f"[muted]Your previous file is kept at {markup(backup)}[/]")


class EpochProgress:
    """A progress bar fed by training events from the sandbox (one event per epoch)."""

    def __init__(self, con: Console) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.con = con
        self.progress = Progress(
            TextColumn("[title]training[/]"),
            BarColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=con,
            transient=True,
        )
        self.task = None

    def __call__(self, event: Any) -> None:
        if not isinstance(event, dict) or not isinstance(event.get("epoch"), int):
            return
        epochs = event.get("epochs") if isinstance(event.get("epochs"), int) else None
        loss, acc = event.get("loss"), event.get("accuracy")
        text = f"epoch {event['epoch']}" + (f"/{epochs}" if epochs else "")
        text += f"  loss {loss:.4f}" if isinstance(loss, float) else ""
        text += f"  accuracy {acc:.2%}" if isinstance(acc, float) else ""
        if not self.con.is_terminal:
            self.con.print(f"[muted]training: {text}[/]")
            return
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task(text, total=epochs)
        self.progress.update(self.task, completed=event["epoch"], total=epochs, description=text)

    def close(self) -> None:
        if self.task is not None:
            self.progress.stop()
            self.task = None
