"""Rendering for instructors: the progress bar while grading and the class summary after.

The only class-grading module that imports rich. The progress bar (with ETA) is drawn only
when stderr is a terminal; otherwise each result is one plain line on stderr.
"""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from grader.classgrade.analytics import Summary
from grader.core.untrusted import for_terminal, markup
from grader.grading import report

BAR_WIDTH = 40
LIST_LIMIT = 15
NO_SANDBOX_WARNING = (
    "--no-sandbox: learner code ran with resource limits only, without bubblewrap. "
    "A hostile submission could read other files on this machine."
)


class ProgressView:
    """Progress of a class run: a rich bar on a terminal, plain lines otherwise, or nothing."""

    def __init__(self, total: int, *, quiet: bool = False) -> None:
        self.total, self.done, self.quiet = total, 0, quiet
        self.console = report.console(stderr=True)
        self._bar: Progress | None = None

    def __enter__(self) -> ProgressView:
        if not self.quiet and self.console.is_terminal and self.total:
            self._bar = Progress(
                TextColumn("grading"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("grading", total=self.total)
        return self

    def advance(self, student: str, exercise: str, status: str) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.advance(self._task)
        elif not self.quiet:
            shown = _name(student)
            sys.stderr.write(f"[{self.done}/{self.total}] {exercise} {shown}: {status}\n")
            sys.stderr.flush()

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _histogram(con: Console, summary: Summary) -> None:
    peak = max((b["count"] for b in summary.histogram), default=0) or 1
    con.print(f"[title]Total scores[/] [muted](out of {summary.max_total})[/]")
    for band in summary.histogram:
        bar = "█" * round(band["count"] / peak * BAR_WIDTH)
        label = f"{band['low']:>3}–{band['high']:<3}%"
        con.print(Text.assemble((label, "muted"), " ", (bar, "pass"), f" {band['count']}"))


def _exercises(con: Console, summary: Summary) -> None:
    table = Table(title="Per exercise", title_justify="left")
    for name in ("exercise", "submitted", "passed", "mean", "median", "max"):
        table.add_column(name, justify="left" if name == "exercise" else "right")
    for ex in summary.exercises:
        table.add_row(
            ex.id,
            str(ex.submitted),
            str(ex.passed),
            "—" if ex.mean is None else f"{ex.mean:g}",
            "—" if ex.median is None else f"{ex.median:g}",
            str(ex.max_score),
        )
    con.print(table)


def _hardest(con: Console, summary: Summary) -> None:
    if not summary.hardest:
        return
    table = Table(title="Most failed checks (what to re-teach)", title_justify="left")
    for name in ("exercise", "check", "failed", "rate"):
        table.add_column(name, justify="right" if name in ("failed", "rate") else "left")
    for row in summary.hardest:
        table.add_row(
            row["exercise"],
            row["title"],
            f"{row['failed']}/{row['attempted']}",
            f"{row['rate']:.0%}",
        )
    con.print(table)


def _listing(con: Console, title: str, lines: list[str], style: str) -> None:
    if not lines:
        return
    con.print(f"[{style}]{title} ({len(lines)})[/]")
    for line in lines[:LIST_LIMIT]:
        con.print(Text("  " + for_terminal(line, one_line=True)))
    if len(lines) > LIST_LIMIT:
        con.print(f"[muted]  … and {len(lines) - LIST_LIMIT} more (see results.json)[/]")


def _name(student: str) -> str:
    """A student id quoted for a terminal: JSON escapes, and no control characters left."""
    return for_terminal(json.dumps(student, ensure_ascii=False), one_line=True)


def render(con: Console, summary: Summary) -> None:
    """The class summary for people."""
    run = summary.run
    seed = "one seed per student" if summary.seed is None else f"seed {summary.seed}"
    con.print(
        f"[muted]{summary.students} students · {len(summary.exercises)} exercises · "
        f"{seed} · sandbox: {markup(', '.join(summary.isolation) or 'none')} · "
        f"{run.get('graded', 0)} gradings in {run.get('seconds', 0):.1f} s[/]"
    )
    if run.get("layout"):
        con.print(f"[muted]layout: {markup(run['layout'])}[/]")
    for line in summary.sandbox:
        con.print(f"[muted]{markup(line)}[/]")
    if "rlimits" in summary.isolation:
        con.print(f"[warn]{NO_SANDBOX_WARNING}[/]")
    _histogram(con, summary)
    _exercises(con, summary)
    _hardest(con, summary)
    _listing(
        con,
        "Timed out or crashed",
        [f"{_name(t['student'])} · {t['exercise']}: {t['status']}" for t in summary.troubled],
        "fail",
    )
    _listing(
        con,
        "Notes on submissions (refused, renamed or unknown files, roster)",
        [f"{_name(r['student'])}: {r['note']}" for r in summary.refused],
        "warn",
    )
    _listing(
        con,
        "Grader errors — not graded (run again with --resume)",
        [f"{_name(e['student'])} · {e['exercise']}: {e['message']}" for e in summary.grader_errors],
        "warn",
    )
    _listing(
        con,
        "Not on the roster (check their ids)",
        [_name(s) for s in run.get("not_on_roster", [])],
        "warn",
    )
    _listing(
        con,
        "Late (penalty applied; raw_total kept in grades.csv)",
        [f"{_name(s)}: {d} day(s), -{p:g}%" for s, d, p in run.get("late", [])],
        "warn",
    )
    _listing(
        con,
        "Marked late by the LMS, time unknown: no penalty (give --submitted-at)",
        [_name(s) for s in run.get("late_unknown", [])],
        "warn",
    )
    if run.get("ids_missing"):
        con.print(
            f"[warn]canvas.csv: {run['ids_missing']} student(s) have no LMS id; give --roster "
            "(a Canvas gradebook export works) to fill ID, SIS User ID and SIS Login ID[/]"
        )
    if summary.attention:
        con.print(
            f"[fail]{summary.attention} student(s) need attention: not graded because the "
            "grader failed (not their fault, not a zero); run again with --resume[/]"
        )
    if run.get("out"):
        con.print(
            f"[muted]Written to {markup(run['out'])}: grades.csv, results.json, feedback/, "
            "canvas.csv[/]"
        )
    if summary.report:
        con.print(f"[muted]Class report: {markup(summary.report)}[/]")


def warn_no_sandbox() -> None:
    """The loud warning printed on stderr before grading without bubblewrap."""
    report.console(stderr=True).print(f"[warn]WARNING: {NO_SANDBOX_WARNING}[/]")
