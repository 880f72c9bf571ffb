"""The course as data: exercises, points, hints and limits, read from ``exercises/info.toml``.

Nothing about an exercise is hard-coded: titles, order, points per check,
progressive hints, known-mistake hints and sandbox limits all come from the
data file, validated with pydantic when loaded.
"""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from grader.core.errors import InputError
from grader.course import store
from grader.course.paths import CHECKS_DIR, course_root, solutions_dir
from grader.sandbox.launch import Limits

if TYPE_CHECKING:
    from annotated_types import Len, MinLen

# Plain dataclasses that pydantic validates directly (see _validate): one definition of the
# schema, and no pydantic import when an unchanged info.toml was validated before. The
# annotations stay strings until then, so annotated_types (~20 ms) is imported only by
# _validate too.
STRICT = {"extra": "forbid"}


@dataclass(frozen=True)
class Mistake:
    """A known mistake's targeted hint, and the glossary term it is about."""

    __pydantic_config__ = STRICT
    hint: Annotated[str, MinLen(1)]
    glossary: str | None = None


@dataclass(frozen=True)
class ExerciseLimits:
    """Sandbox limits an exercise overrides (the rest keep Limits' defaults)."""

    __pydantic_config__ = STRICT
    memory_mb: int | None = None
    cpu_seconds: int | None = None
    call_timeout: float | None = None
    load_timeout: float | None = None
    time_budget: float | None = None
    processes: int | None = None
    file_size_mb: int | None = None
    disk_mb: int | None = None
    tmp_mb: int | None = None
    imports: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exercise:
    """One exercise as described in info.toml."""

    __pydantic_config__ = STRICT
    id: Annotated[str, Len(4, 64)]
    title: Annotated[str, MinLen(1)]
    summary: Annotated[str, MinLen(1)]
    source: Annotated[str, MinLen(1)]
    hints: Annotated[tuple[Annotated[str, MinLen(1)], ...], MinLen(1)]
    points: dict[str, int]
    glossary: tuple[str, ...] = ()
    mistakes: dict[str, Mistake] = field(default_factory=dict)
    limits: ExerciseLimits = ExerciseLimits()
    grading: dict[str, Any] = field(default_factory=dict)

    @property
    def file_name(self) -> str:
        return f"{self.id}.py"

    @property
    def max_score(self) -> int:
        return sum(self.points.values())

    @property
    def check_module(self) -> Path:
        return CHECKS_DIR / f"check_{self.id}.py"

    def sandbox_limits(self) -> Limits:
        """Sandbox limits for this exercise: the defaults with info.toml's overrides."""
        overrides = {
            f.name: getattr(self.limits, f.name)
            for f in fields(self.limits)
            if getattr(self.limits, f.name) not in (None, ())
        }
        return Limits(**overrides)


@dataclass(frozen=True)
class CourseFile:
    """The whole of info.toml."""

    __pydantic_config__ = STRICT
    course: dict[str, str | bool]  # title, solutions (where they live), concept_gate
    exercise: tuple[Exercise, ...]


@dataclass(frozen=True)
class Course:
    """The whole course: where its files are, and its exercises in order."""

    root: Path
    title: str
    exercises: tuple[Exercise, ...]
    solutions_home: str = ""  # where the course's solutions live, for installs without them
    concept_gate: bool = False  # check grades code only once the exercise's questions are answered

    def get(self, exercise_id: str) -> Exercise:
        """The exercise with this id (or a unique prefix such as ``03``)."""
        matches = [e for e in self.exercises if e.id == exercise_id]
        matches = matches or [e for e in self.exercises if e.id.startswith(exercise_id)]
        if len(matches) == 1:
            return matches[0]
        ids = [e.id for e in self.exercises]
        close = difflib.get_close_matches(exercise_id, ids, n=1)
        hint = f" Did you mean {close[0]}?" if close else f" Exercises: {', '.join(ids)}."
        raise InputError(f"Unknown exercise {exercise_id!r}.{hint}")

    def stub_path(self, exercise: Exercise) -> Path:
        return self.root / "exercises" / exercise.file_name

    def solution_path(self, exercise: Exercise) -> Path:
        return solutions_dir(self.root) / exercise.file_name


def _build(data: dict[str, Any]) -> CourseFile:
    """The course from an info.toml already known to be valid (no pydantic needed)."""

    def exercise(raw: dict[str, Any]) -> Exercise:
        raw = dict(raw)
        raw["hints"] = tuple(raw["hints"])
        raw["glossary"] = tuple(raw.get("glossary", ()))
        raw["mistakes"] = {k: Mistake(**v) for k, v in raw.get("mistakes", {}).items()}
        limits = dict(raw.get("limits", {}))
        limits["imports"] = tuple(limits.get("imports", ()))
        raw["limits"] = ExerciseLimits(**limits)
        return Exercise(**raw)

    return CourseFile(data["course"], tuple(exercise(e) for e in data["exercise"]))


def _validate(data: dict[str, Any], path: Path) -> CourseFile:
    """Full schema validation with pydantic; a problem is one clear InputError."""
    from annotated_types import Len, MinLen
    from pydantic import TypeAdapter, ValidationError

    globals().update(Len=Len, MinLen=MinLen)  # the names the schema's annotations use

    try:
        parsed = TypeAdapter(CourseFile).validate_python(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        ]
        raise InputError(f"{path}: {'; '.join(problems[:3])}") from None
    if not isinstance(parsed.course.get("concept_gate", False), bool):
        raise InputError(f"{path}: course.concept_gate must be true or false")
    for exercise in parsed.exercise:
        if not exercise.id[:2].isdigit() or exercise.id[2] != "_":
            raise InputError(f"{path}: exercise id {exercise.id!r} must look like 03_backprop")
    return parsed


def _stamp(text: str) -> Path | None:
    """Where we remember that this exact info.toml passed validation."""
    try:
        folder = store.home() / "validated"
    except (OSError, InputError):
        return None
    return folder / hashlib.sha256(text.encode()).hexdigest()


@cache
def load_course(root: Path | None = None) -> Course:
    """Read info.toml; validate it with the schema unless this exact text passed before."""
    root = root or course_root()
    path = root / "exercises" / "info.toml"
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the course file ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: {exc}") from None
    stamp = _stamp(text)
    if stamp is not None and stamp.exists():
        parsed = _build(data)
    else:
        parsed = _validate(data, path)
        if stamp is not None:
            try:
                stamp.parent.mkdir(parents=True, exist_ok=True)
                stamp.touch()
            except OSError:
                pass
    meta = parsed.course
    return Course(
        root,
        str(meta.get("title", "dlgrade")),
        parsed.exercise,
        str(meta.get("solutions", "")),
        concept_gate=meta.get("concept_gate") is True,
    )
