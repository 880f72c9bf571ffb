"""Choice order: shuffled per attempt from the quiz seed, and where right answers cluster.

The order of a question's choices comes from sha256 of (seed, question id, choice id), so one
seed shows the same order in ``quiz`` and ``quiz export --seed`` on every Python version. A
choice marked ``positional`` ("none of the above") keeps its place in the file.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from grader.study.schema import LETTERS, ChoiceQuestion, MultipleQuestion, Question

CLUSTER_SHARE = 0.40  # more single-choice answers than this on one letter is a cluster
PREFIX_SHARE = 0.50  # ...and more select-all right sets than this being the first k choices
MIN_QUESTIONS = 5  # below this many questions of a type, no statistic is drawn


def choice_key(seed: int, question_id: str, choice_id: str) -> str:
    """The sort key of one choice in the attempt named by ``seed``."""
    return hashlib.sha256(f"{seed}:{question_id}:{choice_id}".encode()).hexdigest()


def order(question: ChoiceQuestion, seed: int | None) -> list[int]:
    """Indices of the choices in the order shown; None (no seed) is the file's order."""
    indices = list(range(len(question.choices)))
    if seed is None:
        return indices
    movable = [i for i in indices if not question.choices[i].positional]
    moved = iter(
        sorted(movable, key=lambda i: choice_key(seed, question.id, question.choices[i].id))
    )
    return [i if question.choices[i].positional else next(moved) for i in indices]


def shown(question: Question, seed: int | None) -> Question:
    """The question as one attempt shows it: choices in :func:`order` (others unchanged)."""
    if not isinstance(question, ChoiceQuestion) or seed is None:
        return question
    choices = [question.choices[i] for i in order(question, seed)]
    return question.model_copy(update={"choices": choices})


def shown_all(questions: Iterable[Question], seed: int | None) -> list[Question]:
    """:func:`shown` for each question."""
    return [shown(q, seed) for q in questions]


@dataclass(frozen=True)
class Cluster:
    """Right answers of a bank bunched on positions, as a warning for ``content check``."""

    message: str

    def __str__(self) -> str:
        return self.message


def clusters(questions: Iterable[Question]) -> list[Cluster]:
    """Where a bank's right answers (in file order) cluster on one position.

    Single choice: more than CLUSTER_SHARE of the right answers on one letter. Select-all:
    more than PREFIX_SHARE of the right sets being the first k choices (A, A-B, A-C, ...).
    Each statistic needs MIN_QUESTIONS questions of its type.
    """
    items = list(questions)
    found: list[Cluster] = []
    singles = [q for q in items if q.type == "single"]
    if len(singles) >= MIN_QUESTIONS:
        letters = Counter(q.correct_letters()[0] for q in singles)
        letter, count = letters.most_common(1)[0]
        if count / len(singles) > CLUSTER_SHARE:
            found.append(
                Cluster(
                    f"{count} of {len(singles)} single-choice answers ({count / len(singles):.0%})"
                    f" are {letter}; spread the right choice over the positions"
                )
            )
    multiples = [q for q in items if isinstance(q, MultipleQuestion)]
    if len(multiples) >= MIN_QUESTIONS:
        prefix = [q for q in multiples if _is_prefix(q.correct_letters())]
        if len(prefix) / len(multiples) > PREFIX_SHARE:
            found.append(
                Cluster(
                    f"{len(prefix)} of {len(multiples)} select-all questions have the first"
                    " choices as their right set; mix right and wrong choices"
                )
            )
    return found


def _is_prefix(letters: list[str]) -> bool:
    return "".join(letters) == LETTERS[: len(letters)]
