"""dlgrade inside Jupyter: ``%load_ext grader``, then ``%dlgrade check 03_backprop``.

The check grades the notebook as it is saved on disk, as *Restart and run all* would run it:
its code cells in order, not the state the kernel has drifted into. It runs in a child
process (``python -m grader.notebook``), so the learner's code never runs in the kernel and a
learner's ``os._exit`` or endless loop ends in the sandbox, not here. The result renders as
HTML (``_repr_html_``) with the terminal's checks, messages, hints and progress, and the
attempt goes to the same SQLite store that ``dlgrade list`` reads.

The same from Python: ``from grader import notebook; notebook.check("03_backprop")``.
"""

from __future__ import annotations

import html
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.core.errors import InputError

if TYPE_CHECKING:
    from grader.notebook_quiz import QuizWidget

USAGE = (
    "usage: %dlgrade check EXERCISE [PATH] [--budget S] | %dlgrade hint [EXERCISE] | "
    "%dlgrade quiz [--exercise EXERCISE] [-n N] [--seed SEED] | %dlgrade glossary TERM"
)
STALE = (
    "You ran cells that differ from the saved notebook: the check grades the file on disk. "
    "Save it (Ctrl-S) and check again to grade what you see."
)
NOT_FOUND = (
    "cannot tell which notebook to check: give its path, "
    "e.g. %dlgrade check {exercise} exercises/{exercise}.ipynb"
)
_state: dict[str, Any] = {"runs": [], "exercise": None, "hints": {}}


def _mark_run(result: Any = None) -> None:
    """After each cell: when it ran and its source (to tell a saved file from a stale one)."""
    source = getattr(getattr(result, "info", None), "raw_cell", None)
    if isinstance(source, str):
        _state["runs"] = [*_state["runs"][-999:], (time.time(), source)]


def stale(notebook: Path) -> bool:
    """Whether a cell run since ``notebook`` was saved is not among its saved code cells."""
    mtime = notebook.stat().st_mtime
    since = [src.strip() for t, src in _state["runs"] if t > mtime]
    since = [s for s in since if s and not s.startswith(("%load_ext grader", "%dlgrade"))]
    if not since:
        return False
    try:
        import nbformat

        saved = nbformat.read(str(notebook), as_version=4)
        cells = {c.source.strip() for c in saved.cells if c.cell_type == "code"}
    except Exception:  # unreadable here: the check itself says what is wrong
        return False
    return any(s not in cells for s in since)


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%dlgrade`` and note each cell run from here on (to tell a stale file)."""
    ipython.register_magic_function(_magic, "line", "dlgrade")
    events = ipython.events
    if _mark_run not in events.callbacks.get("post_run_cell", []):
        events.register("post_run_cell", _mark_run)


def _magic(line: str) -> Any:
    words = shlex.split(line)
    if not words:
        return Text(USAGE)
    command, args = words[0], words[1:]
    try:
        if command == "check":
            budget, args = _budget(args)
            if budget != 0 and 1 <= len(args) <= 2:
                return check(*args, budget=budget)
            return Text(USAGE)
        if command == "hint" and len(args) <= 1:
            return hint(*args)
        if command == "glossary" and args:
            return glossary(" ".join(args))
        if command == "quiz":
            options = dict(zip(args[::2], args[1::2], strict=False))
            numbers = [options.get("-n", "5"), options.get("--seed", "0")]
            if (
                len(args) % 2
                or set(options) - {"--exercise", "-n", "--seed"}
                or not all(text.isdigit() for text in numbers)
            ):
                return Text(USAGE)
            seed = int(options["--seed"]) if "--seed" in options else None
            return quiz(options.get("--exercise"), n=int(numbers[0]), seed=seed)
    except InputError as exc:
        return Text(f"dlgrade: {exc.format_message()}", error=True)
    return Text(USAGE)


def _budget(args: list[str]) -> tuple[float | None, list[str]]:
    """``--budget S`` taken out of a check's words: (seconds, or None if absent, or 0 if
    unreadable; the other words)."""
    if "--budget" not in args:
        return None, args
    at = args.index("--budget")
    rest = args[:at] + args[at + 2 :]
    try:
        seconds = float(args[at + 1])
    except (IndexError, ValueError):
        return 0, rest
    return (seconds if 0.1 <= seconds < float("inf") else 0), rest


def _ipython_namespace() -> dict:
    try:
        from IPython import get_ipython
    except ImportError:
        return {}
    shell = get_ipython()
    return getattr(shell, "user_ns", {}) if shell is not None else {}


def this_notebook(exercise: str) -> Path:
    """The notebook file to check: the kernel's own, or the workspace's for ``exercise``.

    Jupyter names the kernel's notebook in ``JPY_SESSION_NAME`` (and ``__session__``),
    VS Code in ``__vsc_ipynb_file__``; elsewhere the workspace's ``exercises/<id>.ipynb``.
    """
    namespace = _ipython_namespace()
    for candidate in (
        namespace.get("__vsc_ipynb_file__"),
        namespace.get("__session__"),
        os.environ.get("JPY_SESSION_NAME"),
    ):
        if isinstance(candidate, str) and candidate.endswith(".ipynb"):
            path = Path(candidate).expanduser()
            if path.is_file():
                return path.resolve()
    from grader.course import workspace
    from grader.course.info import load_course

    course = load_course()
    try:
        ws = workspace.find(course)
    except InputError:
        ws = None
    if ws is not None:
        path = ws.notebook_path(course.get(exercise))
        if path.is_file():
            return path
    local = Path.cwd() / f"{exercise}.ipynb"
    if local.is_file():
        return local.resolve()
    raise InputError(NOT_FOUND.format(exercise=exercise))


@dataclass
class Text:
    """A short message, shown as text or as HTML."""

    text: str
    error: bool = False

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        colour = "#b00020" if self.error else "inherit"
        return f'<pre style="color:{colour};white-space:pre-wrap">{html.escape(self.text)}</pre>'


@dataclass
class CheckReport:
    """One notebook check: the result (as ``dlgrade check --json`` gives it) and notes."""

    result: dict
    notebook: str
    notes: list[str] = field(default_factory=list)
    progress: dict | None = None

    @property
    def passed(self) -> bool:
        return bool(self.result.get("passed"))

    @property
    def score(self) -> tuple[int, int]:
        return self.result.get("score", 0), self.result.get("max_score", 0)

    def __repr__(self) -> str:
        lines = [f"{self.result.get('exercise')}: {self.score[0]}/{self.score[1]} points"]
        lines += [f"note: {note}" for note in [*self.notes, *self.result.get("notes", [])]]
        for error in (self.result.get("grader_error"), self.result.get("load_error")):
            if error:
                lines.append(error)
        for c in self.result.get("checks", []):
            mark = "✓" if c.get("passed") else "✗"
            lines.append(f"{mark} {c.get('title')} {c.get('points')}/{c.get('max_points')}")
            if not c.get("passed") and c.get("message"):
                lines.append(f"    {c['message']}")
            if not c.get("passed") and c.get("hint"):
                lines.append(f"    hint: {c['hint']}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return render_html(self)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def render_html(report: CheckReport) -> str:
    """The check as HTML: every value escaped, no script, no link to anything outside."""
    r = report.result
    got, top = report.score
    colour = "#1b7f3b" if report.passed else "#b00020"
    out = [
        '<div class="dlgrade-result" style="font-family:sans-serif;line-height:1.4">',
        f'<div style="font-weight:bold;color:{colour}">{_e(r.get("exercise"))}: '
        f"{_e(r.get('title'))} — {got}/{top} points, "
        f"{sum(1 for c in r.get('checks', []) if c.get('passed'))}/{len(r.get('checks', []))}"
        " checks passed</div>",
        f'<div style="color:#666;font-size:90%">{_e(report.notebook)} · seed {_e(r.get("seed"))}'
        f" · sandbox: {_e(r.get('isolation'))}</div>",
    ]
    for note in [*report.notes, *r.get("notes", [])]:
        out.append(f'<div style="color:#8a6d00">note: {_e(note)}</div>')
    if r.get("isolation_note"):
        out.append(f'<div style="color:#8a6d00">isolation: {_e(r["isolation_note"])}</div>')
    if r.get("grader_error"):
        out.append(
            f'<div style="color:#b00020">grader error: {_e(r["grader_error"])} '
            "(not your fault; no attempt recorded)</div>"
        )
    if r.get("load_error"):
        out.append(
            f'<div style="color:#b00020">your notebook did not load: {_e(r["load_error"])}</div>'
        )
    out.append('<table style="border-collapse:collapse">')
    for c in r.get("checks", []):
        ok = c.get("passed")
        detail = []
        if not ok:
            for key, label in (("message", ""), ("call", "call: "), ("expected", "expected: ")):
                if c.get(key):
                    detail.append(f"{label}{_e(c[key])}")
            if c.get("got"):
                detail.append(f"got: {_e(c['got'])}")
            if c.get("hint"):
                detail.append(f'<span style="color:#00599c">hint: {_e(c["hint"])}</span>')
        out.append(
            f'<tr class="dlgrade-check {"pass" if ok else "fail"}">'
            f'<td style="color:{"#1b7f3b" if ok else "#b00020"};padding-right:6px">'
            f"{'✓' if ok else '✗'}</td><td>{_e(c.get('title'))}"
            + "".join(f'<div style="font-size:90%;color:#444">{d}</div>' for d in detail)
            + f'</td><td style="text-align:right;color:#666;padding-left:8px">'
            f"{_e(c.get('points'))}/{_e(c.get('max_points'))}</td></tr>"
        )
    out.append("</table>")
    artifacts = r.get("artifacts") or {}
    if isinstance(artifacts.get("history"), dict):
        out.append(_curve_svg(artifacts["history"]))
    if isinstance(artifacts.get("misclassified"), list) and artifacts["misclassified"]:
        out.append(_digits_html(artifacts["misclassified"], artifacts.get("accuracy")))
    if not report.passed and r.get("checks"):
        out.append(
            f'<div style="color:#00599c">Stuck? <code>%dlgrade hint {_e(r.get("exercise"))}</code>'
            "</div>"
        )
    if report.progress:
        done = [e for e in report.progress.get("exercises", []) if e.get("passed")]
        total = len(report.progress.get("exercises", []))
        out.append(
            f'<div style="color:#666">Course progress: {len(done)}/{total} exercises passed '
            "(<code>dlgrade list</code> in a terminal shows the same)</div>"
        )
    out.append("</div>")
    return "".join(out)


CURVE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")


def _curve_svg(history: dict) -> str:
    """Exercise 04's learning curve: loss and accuracy per epoch, an inline SVG."""
    series = {
        name: [float(v) for v in values if isinstance(v, int | float)]
        for name, values in history.items()
        if isinstance(values, list) and ("loss" in name or "acc" in name)
    }
    series = {name: values for name, values in series.items() if values}
    if not series:
        return ""
    panels = []
    for title, keys in (
        ("loss", [k for k in series if "loss" in k]),
        ("accuracy", [k for k in series if "acc" in k]),
    ):
        if not keys:
            continue
        values = [v for k in keys for v in series[k]]
        low, high = min(values), max(values)
        span = (high - low) or 1.0
        lines = []
        for colour, key in zip(CURVE_COLOURS, keys, strict=False):
            points = series[key]
            step = 280 / max(len(points) - 1, 1)
            coords = " ".join(
                f"{10 + i * step:.1f},{130 - (v - low) / span * 110:.1f}"
                for i, v in enumerate(points)
            )
            lines.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>'
                f'<text x="{300 - 8 * len(key)}" y="{14 + 12 * len(lines)}" fill="{colour}" '
                f'font-size="11">{_e(key)}</text>'
            )
        panels.append(
            f'<svg class="dlgrade-curve" width="300" height="150" viewBox="0 0 300 150" '
            f'xmlns="http://www.w3.org/2000/svg"><rect width="300" height="150" fill="white" '
            f'stroke="#ccc"/><text x="10" y="145" font-size="11">{title}: '
            f"{low:.4g} – {high:.4g}, {max(len(series[k]) for k in keys)} epochs</text>"
            + "".join(lines)
            + "</svg>"
        )
    return "<div>Learning curve (per epoch, on the training data)</div>" + "".join(panels)


def _png(image: Any) -> str:
    """A grey-scale uint8 image as a data: URL (PNG written with zlib; no imaging library)."""
    import base64
    import struct
    import zlib

    height, width = image.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(image[r].tolist()) for r in range(height))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _digits_html(wrong: list, accuracy: Any) -> str:
    """A few test digits exercise 04's model got wrong, as small inline images."""
    from grader.mnist import data as mnist

    try:
        _, (x_test, _) = mnist.load_data()
    except Exception:  # the data file is missing: the table of labels still says it
        x_test = None
    cells = []
    for item in wrong[:8]:
        if not isinstance(item, dict):
            continue
        index = item.get("index")
        image = ""
        if x_test is not None and isinstance(index, int) and 0 <= index < len(x_test):
            image = (
                f'<img src="{_png(x_test[index])}" width="56" height="56" '
                'style="image-rendering:pixelated" alt="digit"><br>'
            )
        cells.append(
            f'<td style="text-align:center;padding:4px">{image}'
            f"{_e(item.get('predicted'))} (true {_e(item.get('true'))})</td>"
        )
    shown = (
        f" (accuracy {accuracy:.2%} on 10,000 unseen images)"
        if isinstance(accuracy, int | float)
        else ""
    )
    return (
        f"<div>Test digits your model got wrong{shown}</div>"
        f'<table class="dlgrade-digits"><tr>{"".join(cells)}</tr></table>'
    )


def check(
    exercise: str,
    path: str | Path | None = None,
    *,
    timeout: float | None = None,
    budget: float | None = None,
) -> CheckReport:
    """Grade the saved notebook for ``exercise`` (its code cells in order) in a child process.

    ``budget`` caps the seconds all of the learner's calls may take (default: the exercise's
    ``time_budget``); ``timeout`` caps the whole child.
    """
    from grader.course.info import load_course

    course = load_course()
    exercise = course.get(exercise).id
    _state["exercise"] = exercise
    notebook = Path(path).expanduser().resolve() if path else this_notebook(exercise)
    if not notebook.is_file():
        raise InputError(f"{notebook}: no such file")
    notes = [STALE] if stale(notebook) else []
    command = [sys.executable, "-m", "grader.notebook", exercise, str(notebook)]
    command += [] if budget is None else [str(float(budget))]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=notebook.parent,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise InputError(f"the check of {exercise} took longer than {timeout:g} s") from None
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError:
        why = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(why.removeprefix("dlgrade: ")) from None
    return CheckReport(data["result"], str(notebook), notes, data.get("progress"))


def _grade_in_child(exercise_id: str, path: str, budget: str | None = None) -> int:
    """``python -m grader.notebook EXERCISE PATH [BUDGET]``: grade, record, print JSON (child)."""
    from grader.course import workspace
    from grader.course.info import load_course
    from grader.grading import checking, progress

    course = load_course()
    notebook = Path(path)
    try:
        ws = workspace.find(course, notebook.parent)
    except InputError:
        ws = None
    exercise = course.get(exercise_id)
    shown = ws.display(exercise, notebook) if ws else notebook.name
    target = checking.Target(exercise, notebook, shown, record=ws is not None)
    key = str(ws.root) if ws else None
    seconds = None if budget is None else float(budget)
    ((_, result),) = list(checking.run(course, [target], workspace_key=key, budget=seconds))
    data: dict = {"result": result.to_dict()}
    if ws is not None:
        data["progress"] = progress.overview(course, key).to_dict()
    print(json.dumps(data))
    return checking.exit_code([result])


def hint(exercise: str | None = None) -> Text:
    """The next hint for ``exercise`` (default: the one checked last), as ``dlgrade hint``."""
    from grader.course import store, workspace
    from grader.course.info import load_course
    from grader.grading import progress

    course = load_course()
    exercise = exercise or _state["exercise"]
    if not exercise:
        raise InputError("which exercise? %dlgrade hint EXERCISE")
    ex = course.get(exercise)
    try:
        key = str(workspace.find(course).root)
        with store.connect() as conn:
            shown = progress.next_hint(conn, key, ex.id, len(ex.hints))
    except InputError:  # no workspace: hints counted in this kernel only
        shown = min(_state["hints"].get(ex.id, 0) + 1, len(ex.hints))
        _state["hints"][ex.id] = shown
    lines = [f"{ex.id}: hint {shown} of {len(ex.hints)}"]
    lines += [f"{i}. {text}" for i, text in enumerate(ex.hints[:shown], start=1)]
    return Text("\n".join(lines))


def glossary(term: str) -> Text:
    """A glossary entry (typos and aliases welcome), as ``dlgrade glossary TERM``."""
    from grader.study.content import UnknownName, load_content
    from grader.study.glossary import lookup, term_dict

    content = load_content()
    try:
        found = lookup(content, term)
    except UnknownName as exc:
        raise InputError(str(exc)) from None
    if found.term is None:
        raise InputError(found.message())
    entry = term_dict(content, found.term)
    lines = [entry["term"], "", entry["definition"], "", f"Example: {entry['example']}"]
    if entry["related"]:
        lines.append(f"Related: {', '.join(entry['related'])}")
    return Text("\n".join(lines))


def quiz(
    exercise: str | None = None,
    *,
    n: int = 5,
    seed: int | None = None,
    answers: Iterable[str] | None = None,
    ask: Callable[[str], str] | None = None,
) -> Text | QuizWidget:
    """Concept questions, as ``dlgrade quiz``: widgets in a kernel, else ``input()``.

    In a Jupyter kernel with ipywidgets this returns a :class:`grader.notebook_quiz.QuizWidget`
    (Jupyter shows it); elsewhere, or given ``answers`` or ``ask``, it asks each question with
    ``ask`` (default ``input``) or takes the next of ``answers``, and returns the score line.
    """
    import secrets
    from datetime import UTC, datetime

    from grader.course.store import connect
    from grader.study.choices import shown_all
    from grader.study.content import UnknownName, load_content
    from grader.study.quiz import Stop, expected, run_quiz, select

    content = load_content()
    seed = secrets.randbelow(1_000_000) if seed is None else seed
    try:
        chosen = shown_all(select(content, seed=seed, exercise=exercise, n=n), seed)
    except UnknownName as exc:
        raise InputError(str(exc)) from None
    if not chosen:
        raise InputError("no questions match these filters")
    if answers is None and ask is None:
        from grader.notebook_quiz import QuizWidget, widgets_module

        widgets = widgets_module()
        if widgets is not None:
            return QuizWidget(chosen, seed=seed, content=content, widgets=widgets)
    given = iter(answers) if answers is not None else None
    ask = ask or input

    def one(index: int, question: Any) -> str | None:
        print(f"\n{index + 1}/{len(chosen)} {question.prompt}")
        for letter, choice in zip("ABCDEFGH", getattr(question, "choices", []), strict=False):
            print(f"  {letter}. {choice.text}")
        text = next(given, None) if given is not None else ask("Your answer (q quits): ")
        if text is None or text.strip().lower() in ("q", "quit"):
            raise Stop
        return text

    def shown(outcome: Any) -> None:
        print("right" if outcome.correct else f"not quite: {expected(outcome.question)}")

    with connect() as conn:
        result = run_quiz(
            conn,
            chosen,
            one,
            seed=seed,
            mode="practice",
            now=datetime.now(UTC),
            on_outcome=shown,
            content=content,
        )
    return Text(f"quiz: {result.score}/{len(result.outcomes)} right (seed {seed})")


if __name__ == "__main__":
    try:
        sys.exit(_grade_in_child(*sys.argv[1:4]))
    except InputError as exc:
        print(f"dlgrade: {exc.format_message()}", file=sys.stderr)
        sys.exit(2)
