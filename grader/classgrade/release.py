"""``dlgrade release``: a student kit with the stubs and the glossary, never the solutions.

The kit carries the glossary's terms, topics and sources but not its question bank
(``glossary/questions/``): the answers, the wrong-answer feedback and the explanations stay
with the instructor; students take the quizzes through ``dlgrade quiz``.

Before anything is written, every stub must fail (0 points, every check "not implemented")
and every solution must earn full marks, exactly as rustlings' ``dev check`` proves its
course. The kit is assembled in memory, checked for solution code, then written at once.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader import __version__
from grader.core.errors import GraderError, InputError
from grader.course.info import Course, Exercise
from grader.course.paths import hidden_from_sandbox
from grader.course.solutions import require_solutions
from grader.course.workspace import CONFIG, CONFIG_TEXT
from grader.grading.engine import Submission, grade_many
from grader.grading.results import ExerciseResult
from grader.grading.sources import read_source
from grader.sandbox.runner import Sandbox

SLOW = frozenset({"04_mnist_mlp"})
QUESTIONS = "questions"  # glossary/questions/: the quiz bank, answers included
QUICK_OPTIONS = {"quick": True}
NOT_EMPTY = "{path}: folder exists and is not empty; pick a new folder for the kit"
REFUSED = "release refused: {count} problem(s) found, nothing was written"
SKIP_NOTE = "{id}: NOT VERIFIED (--skip-slow); run `dlgrade release` without it before class"
GITIGNORE = ".dlgrade/\n*.png\n"
README = """\
# {title} — your exercise kit

This folder is a ready-made dlgrade workspace: {count} small programs that build up from one
neuron's weighted sum to a Keras network that reads handwritten digits. You write the code;
dlgrade runs checks against it and tells you, for each check, what it tried and what came back.

## Getting dlgrade

You need Python 3.11 or newer. Make a virtual environment and install the package your
instructor points you to (a wheel file or an index name), for example:

```bash
python3 -m venv .venv && . .venv/bin/activate
pip install dlgrade
```

On Linux, `sudo apt-get install bubblewrap` gives the grader its stricter sandbox.

## Working on an exercise

Open `exercises/00_weighted_sum.py`. Its docstring explains the idea and names the article
it comes from; each `# TODO` marks a spot to fill in, and each `raise NotImplementedError`
is what you replace. Then, from anywhere inside this folder:

```bash
dlgrade check 00_weighted_sum     # run the checks of one exercise (no name: all of them)
dlgrade hint 00_weighted_sum      # one more hint each time; later hints say more
dlgrade watch 01_activations      # re-run the checks every time you save the file
dlgrade list                      # where you stand on every exercise, quiz topic and card
dlgrade reset 02_perceptron       # start over from the stub (your file is backed up first)
```

Your copy of dlgrade holds no reference solutions: its checks run on practice cases,
recorded from the reference for a few seeds (each report's header says "practice cases").
Your instructor grades on fresh cases, so make your code right, not the practice answers.
A check that says "not implemented yet" is simply untouched. `dlgrade check` exits with 0
once every check passes and 1 while some still fail. Exercise 04 trains a real network:
`dlgrade check 04_mnist_mlp --quick` trains on a small slice for a fast first try.

## Learning the words

`glossary/` holds the course vocabulary (terms, topics and sources) as plain TOML you can
read. The quiz questions come with dlgrade itself: `dlgrade quiz` asks them.

```bash
dlgrade glossary gradient descent # look a term up (misspellings are fine)
dlgrade cards                     # flashcards, spaced out so you review just before forgetting
dlgrade quiz --topic backprop     # a few questions, with an explanation after each answer
```

Every command also takes `--json` if you would like to script it.

## What is in this folder

- `exercises/`: your files, plus `info.toml` (titles, points, hints) for reference
- `glossary/`: terms, topics and sources
- `dlgrade.toml`: marks this folder as your workspace

Kit made with dlgrade {version}.
"""


@dataclass
class Verdict:
    """What verification found for one exercise: problems are one-line reasons."""

    exercise: str
    stub: str = ""
    solution: str = ""
    skipped: bool = False
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _stub_problem(result: ExerciseResult) -> str | None:
    if result.not_started and result.score == 0:
        return None
    statuses = sorted({c.status for c in result.checks} - {"not_implemented"}) or ["none"]
    return (
        f"the stub scores {result.score}/{result.max_score} and does not fail as "
        f"not implemented (other statuses: {', '.join(statuses)})"
    )


def _solution_problem(result: ExerciseResult) -> str | None:
    if result.passed and result.score == result.max_score:
        return None
    failing = [c.name for c in result.checks if not c.passed]
    why = result.load_error or f"failing: {', '.join(failing[:4])}"
    return f"the solution scores {result.score}/{result.max_score} ({why})"


def verify_exercise(course: Course, exercise: Exercise, *, seed: int = 1) -> Verdict:
    """Grade the stub and the solution in one sandboxed pytest session."""
    verdict = Verdict(exercise.id)
    try:
        files = [course.stub_path(exercise), course.solution_path(exercise)]
        subs = [Submission(read_source(p), f"{p.parent.name}/{p.name}") for p in files]
    except InputError as exc:
        verdict.problems.append(f"{exercise.id}: {exc.format_message()}")
        return verdict
    box = Sandbox(
        exercise.sandbox_limits(), strict=None, hide=[*hidden_from_sandbox(), course.root]
    )
    try:
        options = QUICK_OPTIONS if exercise.id in SLOW else None
        stub, solution = grade_many(course, exercise, subs, sandbox=box, seed=seed, options=options)
    finally:
        box.close()
    for result in (stub, solution):
        if result.grader_error:
            raise GraderError(f"{exercise.id}: {result.grader_error}")
    verdict.stub = f"{stub.score}/{stub.max_score}"
    verdict.solution = f"{solution.score}/{solution.max_score}"
    for problem in (_stub_problem(stub), _solution_problem(solution)):
        if problem:
            verdict.problems.append(f"{exercise.id}: {problem}")
    return verdict


def verify(
    course: Course,
    *,
    skip_slow: bool = False,
    on_exercise: Callable[[Exercise], None] | None = None,
) -> list[Verdict]:
    """A verdict per exercise, in course order; slow ones are skipped (marked) on request."""
    verdicts = []
    for exercise in course.exercises:
        if on_exercise:
            on_exercise(exercise)
        if skip_slow and exercise.id in SLOW:
            verdicts.append(Verdict(exercise.id, skipped=True))
            continue
        verdicts.append(verify_exercise(course, exercise))
    return verdicts


def kit_files(course: Course) -> dict[str, bytes]:
    """Every file of the kit by relative path: stubs, info.toml, glossary, README, config.

    The question bank (``glossary/questions/``) is left out: it holds the answers.
    """
    exercises = course.root / "exercises"
    files = {"exercises/info.toml": (exercises / "info.toml").read_bytes()}
    for exercise in course.exercises:
        files[f"exercises/{exercise.file_name}"] = course.stub_path(exercise).read_bytes()
    glossary = course.root / "glossary"
    for path in sorted(glossary.rglob("*")):
        rel = path.relative_to(course.root)
        hidden = any(part.startswith(".") or part == "__pycache__" for part in rel.parts)
        answers = rel.parts[:2] == ("glossary", QUESTIONS)
        if path.is_file() and not path.is_symlink() and not hidden and not answers:
            files[rel.as_posix()] = path.read_bytes()
    readme = README.format(title=course.title, count=len(course.exercises), version=__version__)
    files["README.md"] = readme.encode()
    files[CONFIG] = CONFIG_TEXT.format(version=__version__).encode()
    files[".gitignore"] = GITIGNORE.encode()
    return files


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def function_bodies(source: str) -> dict[str, str]:
    """Each function's body without its docstring, whitespace squashed, by function name."""
    bodies = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            text = "\n".join(ast.get_source_segment(source, stmt) or "" for stmt in body)
            if text.strip():
                bodies[node.name] = _squash(text)
    return bodies


def leaks(course: Course, files: dict[str, bytes]) -> list[str]:
    """Solution function bodies found in the kit (helpers a stub gives away on purpose excepted)."""
    given = set()
    for exercise in course.exercises:
        given |= set(function_bodies(course.stub_path(exercise).read_text("utf-8")).values())
    texts = {rel: _squash(raw.decode("utf-8", "replace")) for rel, raw in files.items()}
    found = []
    for exercise in course.exercises:
        solution = course.solution_path(exercise).read_text("utf-8")
        for name, body in function_bodies(solution).items():
            where = [rel for rel, text in texts.items() if body not in given and body in text]
            found += [f"{exercise.id}: the solution of {name}() appears in {rel}" for rel in where]
    return found


def write_kit(out_dir: Path, files: dict[str, bytes]) -> list[str]:
    """Write the kit's files under ``out_dir``; returns their relative paths."""
    for rel, raw in files.items():
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)
    return sorted(files)


def check_target(out_dir: Path) -> None:
    """Refuse a target that is a file or a non-empty folder (InputError, exit 2)."""
    if out_dir.is_symlink() or out_dir.is_file():
        raise InputError(f"{out_dir}: not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise InputError(NOT_EMPTY.format(path=out_dir))


@dataclass
class Release:
    """The outcome of ``dlgrade release``: what was verified, what (if anything) was written."""

    out_dir: Path
    verdicts: list[Verdict]
    problems: list[str]
    written: list[str]

    @property
    def refused(self) -> bool:
        return bool(self.problems)

    def to_dict(self) -> dict:
        return {
            "out_dir": str(self.out_dir),
            "released": not self.refused,
            "verified": [v.to_dict() for v in self.verdicts],
            "skipped": [v.exercise for v in self.verdicts if v.skipped],
            "problems": self.problems,
            "written": self.written,
        }


def release(
    course: Course,
    out_dir: Path,
    *,
    skip_slow: bool = False,
    on_exercise: Callable[[Exercise], None] | None = None,
) -> Release:
    """Verify the course, then write the kit to ``out_dir``; nothing is written on a problem."""
    check_target(out_dir)
    require_solutions(course, course.exercises)
    verdicts = verify(course, skip_slow=skip_slow, on_exercise=on_exercise)
    files = kit_files(course)
    problems = [p for v in verdicts for p in v.problems] + leaks(course, files)
    if problems:
        return Release(out_dir, verdicts, problems, [])
    check_target(out_dir)
    return Release(out_dir, verdicts, [], write_kit(out_dir, files))
