"""``%dlgrade quiz`` as widgets in a real Jupyter kernel, and its plain prompts without them."""

from __future__ import annotations

import builtins
import json
import sqlite3
import sys
import types
from pathlib import Path

import IPython
import nbformat
import pytest
from nbclient import NotebookClient

from grader import notebook
from grader.notebook_quiz import QuizWidget
from grader.study.choices import shown_all
from grader.study.content import load_content
from grader.study.quiz import expected, select
from grader.study.schema import NumericQuestion, Question

EXERCISE, SEED, COUNT = "03_backprop", 7, 5
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# In the kernel: the right answer from the question's own data (the letters the grader
# compares against, the stored true/false, number or first accepted word), a wrong one, and
# a helper that sets the widget, clicks Check, prints the feedback's first line, clicks Next.
HELPERS = """
import html, json, re
from grader.study.schema import ChoiceQuestion, NumericQuestion, TrueFalseQuestion

def right_answer(q):
    if isinstance(q, ChoiceQuestion):
        letters = q.correct_letters()
        return tuple(letters) if q.type == "multiple" else letters[0]
    if isinstance(q, TrueFalseQuestion):
        return "true" if q.answer else "false"
    if isinstance(q, NumericQuestion):
        return str(q.answer)
    return q.accepted[0]

def wrong_answer(q):
    if isinstance(q, ChoiceQuestion):
        letters = "ABCDEF"[: len(q.choices)]
        wrong = [letter for letter in letters if letter not in q.correct_letters()]
        return tuple(wrong[:1]) if q.type == "multiple" else wrong[0]
    if isinstance(q, TrueFalseQuestion):
        return "false" if q.answer else "true"
    if isinstance(q, NumericQuestion):
        return str(q.answer + 10 * q.tolerance + 1000)
    return "xylophone"

def answer(value, then_next=True):
    quiz.choice.value = value
    quiz.check_button.click()
    shown = html.unescape(re.sub("<[^>]+>", "\\n", quiz.feedback.value)).strip()
    print(json.dumps({"id": quiz.question.id, "feedback": shown.splitlines()[0]}))
    if then_next:
        quiz.next_button.click()
"""


def outputs_text(cell: nbformat.NotebookNode) -> str:
    parts = [o.get("text", "") for o in cell.outputs]
    parts += [" ".join(o.get("traceback", [])) for o in cell.outputs]
    return "".join(parts)


def printed(cell: nbformat.NotebookNode) -> list[dict]:
    assert not [o for o in cell.outputs if o.output_type == "error"], outputs_text(cell)
    return [
        json.loads(line) for line in outputs_text(cell).splitlines() if line.startswith(("{", "["))
    ]


def attempts(home: Path) -> list[tuple[str, str, int, str]]:
    with sqlite3.connect(home / "dlgrade.sqlite3") as conn:
        return conn.execute(
            "SELECT question_id, answer, correct, mode FROM quiz_attempt ORDER BY id"
        ).fetchall()


def missed(home: Path) -> set[str]:
    with sqlite3.connect(home / "dlgrade.sqlite3") as conn:
        return {row[0] for row in conn.execute("SELECT question_id FROM quiz_missed")}


def the_form(n: int | None = COUNT) -> list[Question]:
    """The questions and choice order the quiz shows for SEED, as the terminal builds them."""
    return shown_all(select(load_content(), seed=SEED, exercise=EXERCISE, n=n), SEED)


def test_the_widgets_grade_and_record_each_answer_in_a_real_kernel(tmp_path, dlgrade_home):
    form = the_form()
    assert isinstance(form[0], NumericQuestion)  # the seed's first question takes typed text
    cells = [
        "%load_ext grader\n"
        f"quiz = %dlgrade quiz --exercise {EXERCISE} -n {COUNT} --seed {SEED}\nquiz",
        HELPERS + "print(json.dumps([q.id for q in quiz.questions]))",
        "answer('abc', then_next=False)",  # unreadable: not graded, Check stays
        "answer(right_answer(quiz.question))",
        "answer(wrong_answer(quiz.question))",
        "while not quiz.finished:\n    answer(right_answer(quiz.question))",
        "print(json.dumps({'score': quiz.score.value, 'repr': repr(quiz)}))",
    ]
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(
        book,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    shown, ids, unreadable, first, second, rest, end = book.cells

    assert not [o for o in shown.outputs if o.output_type == "error"], outputs_text(shown)
    assert any(WIDGET_VIEW in o.get("data", {}) for o in shown.outputs), shown.outputs
    assert printed(ids) == [[q.id for q in form]]
    assert printed(unreadable) == [
        {"id": form[0].id, "feedback": "could not read 'abc' as a number"}
    ]
    assert printed(first) == [{"id": form[0].id, "feedback": "right"}]
    assert printed(second) == [{"id": form[1].id, "feedback": f"not quite: {expected(form[1])}"}]
    assert printed(rest) == [{"id": q.id, "feedback": "right"} for q in form[2:]]
    score = f"quiz: {COUNT - 1}/{COUNT} right (seed {SEED})"
    assert printed(end) == [{"score": f"<div><b>{score}</b></div>", "repr": score}]

    rows = attempts(dlgrade_home)
    assert [(qid, correct, mode) for qid, _, correct, mode in rows] == [
        (q.id, int(i != 1), "practice") for i, q in enumerate(form)
    ]
    assert rows[0][1] == str(form[0].answer)  # the text box's answer, as typed
    assert missed(dlgrade_home) == {form[1].id}


def in_a_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """``get_ipython()`` answers with a shell that has a kernel, as inside Jupyter."""
    shell = types.SimpleNamespace(kernel=object())
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)


def helpers() -> dict:
    """The kernel cells' helpers, here in the test process."""
    namespace: dict = {}
    exec(HELPERS, namespace)
    return namespace


def typed(form: list[Question]) -> list[str]:
    """The right answers as lines typed at the prompt."""
    right = helpers()["right_answer"]
    return [",".join(a) if isinstance(a, tuple) else a for a in map(right, form)]


def test_every_question_type_reads_its_widget_as_the_terminal_reads_a_line(
    monkeypatch, dlgrade_home
):
    in_a_kernel(monkeypatch)
    form = the_form(n=None)
    assert {q.type for q in form} == {"single", "multiple", "true_false", "numeric", "short"}
    widget = notebook.quiz(EXERCISE, n=len(form), seed=SEED)
    assert isinstance(widget, QuizWidget)
    assert widget.check() is None and widget.feedback.value  # nothing chosen: asks for one
    assert attempts(dlgrade_home) == []
    right = helpers()["right_answer"]
    for question in form:
        assert widget.question.id == question.id
        widget.choice.value = right(question)
        widget.check_button.click()
        assert ">right<" in widget.feedback.value, (question.id, widget.feedback.value)
        widget.next_button.click()
    assert widget.finished and repr(widget) == f"quiz: {len(form)}/{len(form)} right (seed {SEED})"
    rows = attempts(dlgrade_home)
    assert [(qid, correct, mode) for qid, _, correct, mode in rows] == [
        (q.id, 1, "practice") for q in form
    ]
    multiple = next(q for q in form if q.type == "multiple")
    assert dict((qid, given) for qid, given, _, _ in rows)[multiple.id] == ",".join(
        multiple.correct_letters()
    )


def test_without_ipywidgets_the_quiz_asks_with_input(monkeypatch, dlgrade_home):
    in_a_kernel(monkeypatch)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # `import ipywidgets` fails
    form = the_form(n=3)
    lines = iter(typed(form))
    prompts: list[str] = []
    monkeypatch.setattr(builtins, "input", lambda prompt="": prompts.append(prompt) or next(lines))
    shown = notebook.quiz(EXERCISE, n=3, seed=SEED)
    assert repr(shown) == f"quiz: 3/3 right (seed {SEED})"
    assert prompts == ["Your answer (q quits): "] * 3
    assert [(qid, correct, mode) for qid, _, correct, mode in attempts(dlgrade_home)] == [
        (q.id, 1, "practice") for q in form
    ]


def test_given_answers_skip_the_widgets_even_in_a_kernel(monkeypatch, dlgrade_home):
    in_a_kernel(monkeypatch)
    form = the_form(n=2)
    shown = notebook.quiz(EXERCISE, n=2, seed=SEED, answers=[typed(form)[0], "no idea"])
    assert repr(shown) == f"quiz: 1/2 right (seed {SEED})"
    assert [correct for _, _, correct, _ in attempts(dlgrade_home)] == [1, 0]


def test_the_prompt_is_shown_escaped():
    question = the_form(n=1)[0].model_copy(update={"prompt": "Is <b>x</b> & y < z?"})
    widget = QuizWidget([question], seed=SEED, content=load_content())
    assert "Is &lt;b&gt;x&lt;/b&gt; &amp; y &lt; z?" in widget.prompt.value
    assert "<b>x</b>" not in widget.prompt.value
