"""The schema of course content: sources, topics, glossary terms and quiz questions.

Plain pydantic models, strict and closed (unknown keys are errors); loading, locating
errors in their TOML files and fuzzy lookup live in :mod:`grader.study.content`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EXERCISE_IDS = ("00_weighted_sum", "01_activations", "02_perceptron", "03_backprop", "04_mnist_mlp")
LETTERS = "ABCDEF"
QUESTION_TYPES = ("single", "multiple", "true_false", "numeric", "short")

Id = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
SourceRef = Annotated[str, Field(pattern=r"^([a-z]+:)?[a-z0-9_]+(-[a-z0-9_]+)*$")]
"""A sources.toml id, or ``<kind>:<id>`` (``exercise:02_perceptron``); resolved in content."""
SOURCE_KINDS = ("article", "reference")
EXERCISE_PREFIX = "exercise:"
Text = Annotated[str, Field(min_length=1)]
Number = int | float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Source(_Strict):
    """An article of the course (``seed`` names its file) or a named reference work (``year``)."""

    id: Id
    kind: Literal["article", "reference"]
    title: Text
    author: Text
    seed: str | None = None
    year: int | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Source:
        if self.kind == "article" and (self.seed is None or self.year is not None):
            raise ValueError("an article needs 'seed' (its file in the seeds) and no 'year'")
        if self.kind == "reference" and (self.year is None or self.seed is not None):
            raise ValueError("a reference needs 'year' and no 'seed'")
        return self


class _Cited(_Strict):
    source: SourceRef | list[SourceRef]

    @field_validator("source")
    @classmethod
    def _some_source(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError("name at least one source")
        return value

    @property
    def sources(self) -> list[str]:
        """Every source this item cites, first the main one."""
        return [self.source] if isinstance(self.source, str) else list(self.source)


class Topic(_Strict):
    id: Id
    title: Text


class Term(_Cited):
    id: Id
    term: Text
    aliases: list[Text] = []
    definition: Text
    example: Text
    related: list[Id] = Field(min_length=1)
    topic: Id
    exercises: list[str] = []


class Choice(_Strict):
    id: Id
    text: Text
    correct: bool
    feedback: Text | None = None
    positional: bool = False
    """Keeps its place when choices are shuffled ("none of the above")."""

    @model_validator(mode="after")
    def _wrong_needs_feedback(self) -> Choice:
        if not self.correct and self.feedback is None:
            raise ValueError(f"wrong choice '{self.id}' needs feedback (the misconception)")
        return self


class WrongValue(_Strict):
    value: Number
    feedback: Text


class _Question(_Cited):
    id: Id
    topic: Id
    exercises: list[str] = []
    terms: list[Id] = []
    prompt: Text
    explanation: Text


class _ChoiceQuestion(_Question):
    choices: list[Choice] = Field(min_length=3, max_length=len(LETTERS))

    @field_validator("choices")
    @classmethod
    def _unique_ids(cls, choices: list[Choice]) -> list[Choice]:
        ids = [choice.id for choice in choices]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"choice ids must be unique; repeated: {', '.join(repeated)}")
        return choices

    def correct_letters(self) -> list[str]:
        """Letters (A, B, ...) of the correct choices, in the order of ``choices``."""
        return [LETTERS[i] for i, choice in enumerate(self.choices) if choice.correct]


class SingleQuestion(_ChoiceQuestion):
    type: Literal["single"]

    @field_validator("choices")
    @classmethod
    def _exactly_one_correct(cls, choices: list[Choice]) -> list[Choice]:
        found = sum(choice.correct for choice in choices)
        if found != 1:
            raise ValueError(
                f"a single-choice question needs exactly one correct choice, not {found}"
            )
        return choices


class MultipleQuestion(_ChoiceQuestion):
    type: Literal["multiple"]

    @field_validator("choices")
    @classmethod
    def _some_correct(cls, choices: list[Choice]) -> list[Choice]:
        if not any(choice.correct for choice in choices):
            raise ValueError("a multiple-answer question needs at least one correct choice")
        return choices


class TrueFalseQuestion(_Question):
    type: Literal["true_false"]
    answer: bool
    feedback: Text


class NumericQuestion(_Question):
    type: Literal["numeric"]
    answer: Number
    tolerance: Number = Field(default=0, ge=0)
    wrong_values: list[WrongValue] = []


class ShortQuestion(_Question):
    type: Literal["short"]
    accepted: list[Text] = Field(min_length=1)
    feedback: Text


Question = Annotated[
    SingleQuestion | MultipleQuestion | TrueFalseQuestion | NumericQuestion | ShortQuestion,
    Field(discriminator="type"),
]
ChoiceQuestion = SingleQuestion | MultipleQuestion
