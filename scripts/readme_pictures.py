"""Regenerate the README's terminal pictures from real ``dlgrade`` runs.

Each picture is the colour output of a real command, run in a fresh workspace and recorded
with Rich (``Text.from_ansi`` then ``save_svg``), so the pictures cannot drift from what
dlgrade prints. The course loop runs at a real pseudo-terminal (pexpect) and is pictured
as its screen stands after a save. Run from the repository root:
``python scripts/readme_pictures.py``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from rich.console import Console
from rich.text import Text

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
WIDTH = 88
CLEAR = "\x1b[2J\x1b[H"  # what the loop prints before each screen


def patched(exercise: str, variant: str) -> str:
    """A known-mistake variant of the reference (tests/fixtures/mistakes.toml)."""
    table = tomllib.loads((ROOT / "tests" / "fixtures" / "mistakes.toml").read_text())
    source = (ROOT / "solutions" / f"{exercise}.py").read_text()
    for edit in table[exercise][variant]["patch"]:
        source = source.replace(edit["old"], edit["new"])
    return source


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    """The command's colour output, as a terminal of WIDTH columns would show it."""
    env = {**env, "FORCE_COLOR": "1", "COLUMNS": str(WIDTH), "TERM": "xterm-256color"}
    done = subprocess.run(
        [sys.executable, "-m", "grader", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout


def save(ansi: str, title: str, name: str) -> Path:
    con = Console(record=True, width=WIDTH, file=io.StringIO(), force_terminal=True)
    con.print(Text.from_ansi(ansi.rstrip("\n")))
    con.print()
    DOCS.mkdir(exist_ok=True)
    path = DOCS / name
    con.save_svg(str(path), title=title)
    return path


def loop_screen(course: Path, env: dict[str, str]) -> str:
    """The loop's screen after the learner saves a passing 00_weighted_sum of their own."""
    import pexpect

    env = {**env, "COLUMNS": str(WIDTH), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "grader", "--poll"],
        cwd=str(course),
        env=env,
        encoding="utf-8",
        timeout=120,
        dimensions=(60, WIDTH),
    )
    child.logfile_read = shown = io.StringIO()
    target = course / "exercises" / "00_weighted_sum.py"
    try:
        child.expect("q quit")
        mine = (ROOT / "solutions" / "00_weighted_sum.py").read_text()
        staged = course / "00_weighted_sum.saving"
        staged.write_text(mine.replace("float(x @ w + b)", "float(np.dot(x, w) + b)"))
        later = target.stat().st_mtime + 7  # polling sees whole-second changes
        os.utime(staged, (later, later))
        os.replace(staged, target)
        child.expect("passed")
        child.expect("q quit.*\n")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    screens = shown.getvalue().replace("\r\n", "\n").split(CLEAR)
    passed = next(screen for screen in reversed(screens) if "passed" in screen)
    return passed[: passed.rindex("q quit") + len("q quit")] + "\x1b[0m"


CLASS = {  # student -> the variant of each exercise 00-03 they hand in
    "ada": ("reference", "reference", "reference", "reference"),
    "ben": ("bias_forgotten", "reference", "reference", "wrong_sign"),
    "chloé": ("reference", "derivative_of_z", "reference", "reference"),
    "dev": ("reference", "reference", "updates_when_correct_always_add", "stub"),
    "eli": ("stub", "stub", "stub", "stub"),
    "fay": ("reference", "softmax_wrong_axis", "reference", "gradient_not_averaged"),
    "gus": ("weights_transposed", "reference", "predict_bias_forgotten", "reference"),
    "hana": ("reference", "reference", "reference", "output_sigmoid_derivative_missing"),
}


def class_summary(env: dict[str, str], tmp: Path) -> str:
    """`dlgrade grade` on a small class of reference, known-mistake and untouched files."""
    exercises = ("00_weighted_sum", "01_activations", "02_perceptron", "03_backprop")
    submissions = tmp / "submissions"
    for student, variants in CLASS.items():
        folder = submissions / student
        folder.mkdir(parents=True)
        for exercise, variant in zip(exercises, variants, strict=True):
            if variant == "stub":
                text = (ROOT / "exercises" / f"{exercise}.py").read_text()
            elif variant == "reference":
                text = (ROOT / "solutions" / f"{exercise}.py").read_text()
            else:
                text = patched(exercise, variant)
            (folder / f"{exercise}.py").write_text(text)
    argv = ["grade", str(submissions), "--out", str(tmp / "grades"), "--seed", "1"]
    return run(argv, tmp, env)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = {**os.environ, "DLGRADE_HOME": str(home), "PYTHONPATH": str(ROOT)}
        course = Path(tmp) / "my-course"
        subprocess.run(
            [sys.executable, "-m", "grader", "init", str(course)],
            env=env,
            check=True,
            capture_output=True,
        )
        learner = course / "exercises" / "01_activations.py"
        learner.write_text(patched("01_activations", "derivative_of_z"))
        shown = run(["check", "01_activations"], course, env)
        print(save(shown, "dlgrade check 01_activations", "check.svg"))
        print(save(loop_screen(course, env), "dlgrade (the course loop)", "loop.svg"))
        summary = class_summary(env, Path(tmp))
        print(save(summary, "dlgrade grade submissions/", "class-summary.svg"))


if __name__ == "__main__":
    main()
