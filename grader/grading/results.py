"""Grading results as plain data: what each check found, and the exercise's score.

Only :mod:`grader.grading.report` renders these; ``to_dict`` is the ``--json`` shape that
instructors' scripts and the class grader rely on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from grader.core.untrusted import plain

PASSED = "passed"
FAILED = "failed"
UNAVAILABLE = "unavailable"  # practice mode: the pool cannot answer this check
STATUSES = (
    PASSED,
    FAILED,
    "not_implemented",
    "error",
    "timeout",
    "crashed",
    "missing",
    UNAVAILABLE,
)


@dataclass
class CheckResult:
    """The outcome of one check."""

    name: str
    title: str
    status: str
    points: int
    max_points: int
    message: str = ""
    call: str | None = None
    expected: str | None = None
    got: str | None = None
    hint: str | None = None
    mistake: str | None = None
    glossary: str | None = None
    output: str = ""
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def to_dict(self) -> dict:
        return plain({"name": self.name, "passed": self.passed, **asdict(self)})


@dataclass
class ExerciseResult:
    """All checks of one exercise for one learner file."""

    exercise: str
    title: str
    file: str
    checks: list[CheckResult] = field(default_factory=list)
    seed: int = 0
    cases: str = "graded"  # "practice": expected values from the practice pool
    isolation: str = ""
    isolation_note: str | None = None
    mode: str = ""  # grader.sandbox.modes: "rlimits-user", …
    unenforced: list[str] = field(default_factory=list)  # what that mode cannot enforce
    load_error: str | None = None
    grader_error: str | None = None
    duration: float = 0.0
    artifacts: dict = field(default_factory=dict)
    flashcards_added: list[dict] = field(default_factory=list)  # grader.study.mistake_cards.Added
    notes: list[str] = field(default_factory=list)  # about the file itself (a notebook's magics)

    @property
    def score(self) -> int:
        return sum(c.points for c in self.checks)

    @property
    def max_score(self) -> int:
        return sum(c.max_points for c in self.checks)

    @property
    def passed(self) -> bool:
        return not self.grader_error and bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def not_started(self) -> bool:
        """Every check reports "not implemented yet": the stub is untouched."""
        return bool(self.checks) and all(c.status == "not_implemented" for c in self.checks)

    def to_dict(self) -> dict:
        """Plain JSON types only, whatever a check or a learner left in the fields."""
        return plain(
            {
                "exercise": self.exercise,
                "title": self.title,
                "file": self.file,
                "score": self.score,
                "max_score": self.max_score,
                "passed": self.passed,
                "checks": [c.to_dict() for c in self.checks],
                "seed": self.seed,
                "cases": self.cases,
                "isolation": self.isolation,
                "isolation_note": self.isolation_note,
                "mode": self.mode,
                "unenforced": list(self.unenforced),
                "load_error": self.load_error,
                "grader_error": self.grader_error,
                "duration": round(self.duration, 3),
                "artifacts": dict(self.artifacts),
                "flashcards_added": list(self.flashcards_added),
                "notes": list(self.notes),
            }
        )
