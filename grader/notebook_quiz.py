"""``%dlgrade quiz`` as Jupyter widgets: one question at a time, *Check*, then *Next*.

Shown where ipywidgets imports and the code runs in a Jupyter kernel; elsewhere
:func:`grader.notebook.quiz` asks with ``input()``. A widget's state becomes the line the
terminal quiz reads (letters such as ``A,C``, ``true``, a number, a word), graded by
:func:`grader.study.quiz.grade` and recorded in the learner's store as a practice attempt.
An answer that cannot be read (``abc`` for a number) is not graded: the learner fixes it.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from grader.core.errors import InputError
from grader.course.store import connect
from grader.study.content import Content
from grader.study.quiz import Outcome, QuizResult, ensure_schema, expected, grade, record
from grader.study.schema import LETTERS, ChoiceQuestion, Question, TrueFalseQuestion

MODE = "practice"
RIGHT, WRONG, MUTED = "#1b7f3b", "#b00020", "#666"


def widgets_module() -> Any | None:
    """ipywidgets, where it imports and a Jupyter kernel runs this code; else None."""
    try:
        import ipywidgets
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return ipywidgets if getattr(shell, "kernel", None) is not None else None


def _e(value: Any) -> str:
    return html.escape(str(value))


class QuizWidget:
    """The quiz's widgets and their state; shown by Jupyter as :attr:`box`.

    ``choice`` is the current question's answer widget: RadioButtons (single choice,
    true/false) whose value is a letter or ``true``/``false``, :class:`Checkboxes`
    (select all) whose value is a tuple of letters, or a Text box (numbers, words).
    """

    def __init__(
        self,
        questions: Sequence[Question],
        *,
        seed: int,
        content: Content | None = None,
        widgets: Any = None,
    ) -> None:
        if widgets is None:
            import ipywidgets as widgets
        self._widgets = widgets
        self.questions = list(questions)
        self.seed = seed
        self.content = content
        self.result = QuizResult(seed, MODE, [], planned=len(self.questions))
        self.index = 0
        self.finished = False
        self.header = widgets.HTML(
            f'<div style="color:{MUTED}">dlgrade quiz · {MODE} · seed {_e(seed)} · '
            f"{len(self.questions)} questions</div>"
        )
        self.prompt = widgets.HTML()
        self.feedback = widgets.HTML()
        self.score = widgets.HTML()
        self.check_button = widgets.Button(description="Check", button_style="primary")
        self.next_button = widgets.Button(description="Next", disabled=True)
        self.check_button.on_click(lambda _: self.check())
        self.next_button.on_click(lambda _: self.next())
        self.buttons = widgets.HBox([self.check_button, self.next_button])
        self.box = widgets.VBox([])
        self.choice: Any = None
        with contextlib.closing(connect()) as conn:  # a store that cannot be used says so now
            ensure_schema(conn)
        self._show()

    @property
    def question(self) -> Question:
        return self.questions[self.index]

    @property
    def score_line(self) -> str:
        """``quiz: S/N right (seed X)`` over the questions checked so far."""
        return f"quiz: {self.result.score}/{len(self.result.outcomes)} right (seed {self.seed})"

    def _answer_widget(self, question: Question) -> Any:
        w = self._widgets
        wide = w.Layout(width="100%")
        if isinstance(question, ChoiceQuestion):
            labels = [
                (f"{letter}. {choice.text}", letter)
                for letter, choice in zip(LETTERS, question.choices, strict=False)
            ]
            if question.type == "multiple":
                return Checkboxes(w, labels)
            return w.RadioButtons(options=labels, value=None, layout=wide)
        if isinstance(question, TrueFalseQuestion):
            return w.RadioButtons(options=["true", "false"], value=None, layout=wide)
        hint = "a number" if question.type == "numeric" else "a word or a few"
        return w.Text(value="", placeholder=hint, layout=wide)

    def _show(self) -> None:
        question = self.question
        self.prompt.value = (
            f"<div><b>{self.index + 1}/{len(self.questions)}</b> {_e(question.prompt)}</div>"
        )
        self.choice = self._answer_widget(question)
        self.feedback.value = ""
        self.check_button.disabled = False
        self.next_button.disabled = True
        last = self.index + 1 == len(self.questions)
        self.next_button.description = "Finish" if last else "Next"
        shown = getattr(self.choice, "column", self.choice)
        self.box.children = [self.header, self.prompt, shown, self.buttons, self.feedback]

    def answer_text(self) -> str:
        """The current answer as the terminal quiz reads it ("" when nothing is given)."""
        value = self.choice.value
        if value is None:
            return ""
        if isinstance(value, tuple):
            return ",".join(value)
        return str(value).strip()

    def _say(self, colour: str, lines: list[str]) -> None:
        self.feedback.value = "".join(
            f'<div style="color:{colour if i == 0 else MUTED}">{_e(line)}</div>'
            for i, line in enumerate(lines)
        )

    def check(self) -> Outcome | None:
        """Grade and record the current answer, then offer *Next*; None if nothing was graded."""
        if self.finished or self.check_button.disabled:
            return None
        question = self.question
        text = self.answer_text()
        if not text:
            self._say(WRONG, [self._missing(question)])
            return None
        outcome = grade(question, text, self.content)
        if outcome.note:  # unreadable: not an attempt, as the terminal's prompt asks again
            self._say(WRONG, [outcome.note])
            return None
        try:
            with contextlib.closing(connect()) as conn:
                ensure_schema(conn)
                record(conn, outcome, MODE, datetime.now(UTC))
        except InputError as exc:
            self._say(WRONG, [f"dlgrade: {exc.format_message()}"])
            return None
        self.result.outcomes.append(outcome)
        self.choice.disabled = True
        self.check_button.disabled = True
        self.next_button.disabled = False
        if outcome.correct:
            self._say(RIGHT, ["right", question.explanation])
        else:
            lines = [f"not quite: {expected(question)}", *outcome.feedback, question.explanation]
            if self.content is not None:
                lines.append(f"Source: {self.content.citation(question)}")
            self._say(WRONG, lines)
        return outcome

    @staticmethod
    def _missing(question: Question) -> str:
        if question.type in ("numeric", "short"):
            return "type an answer first"
        return "choose an answer first"

    def next(self) -> None:
        """The next question, or the score line after the last one."""
        if self.finished or self.next_button.disabled:
            return
        if self.index + 1 < len(self.questions):
            self.index += 1
            self._show()
            return
        self.finished = True
        self.next_button.disabled = True
        self.score.value = f"<div><b>{_e(self.score_line)}</b></div>"
        self.box.children = [self.header, self.feedback, self.score]

    def __repr__(self) -> str:
        return self.score_line if self.finished else f"dlgrade quiz (seed {self.seed})"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.box._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            bundle["text/plain"] = repr(self)
        return bundle


class Checkboxes:
    """A column of Checkbox widgets, one per choice; ``value`` is the tuple of ticked letters."""

    def __init__(self, widgets: Any, labels: list[tuple[str, str]]) -> None:
        self.boxes = {
            letter: widgets.Checkbox(value=False, description=label, indent=False)
            for label, letter in labels
        }
        self.column = widgets.VBox(list(self.boxes.values()))

    @property
    def value(self) -> tuple[str, ...]:
        return tuple(letter for letter, box in self.boxes.items() if box.value)

    @value.setter
    def value(self, letters: Sequence[str]) -> None:
        for letter, box in self.boxes.items():
            box.value = letter in letters

    @property
    def disabled(self) -> bool:
        return all(box.disabled for box in self.boxes.values())

    @disabled.setter
    def disabled(self, flag: bool) -> None:
        for box in self.boxes.values():
            box.disabled = flag
