"""Where the learner's files are: an ``dlgrade init`` workspace, or the course clone itself.

A workspace is a folder with ``dlgrade.toml`` and an ``exercises/`` folder of
learner files. Inside a clone of the course, ``exercises/`` is edited in place
(as in rustlings) and ``reset`` restores a stub from git.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from grader import __version__
from grader.core.atomic import write_text
from grader.core.errors import NO_WORKSPACE, InputError
from grader.course.info import Course, Exercise

CONFIG = "dlgrade.toml"
ENV = "DLGRADE_WORKSPACE"
CONFIG_TEXT = """\
# A dlgrade learner workspace. Edit the files in exercises/, then run `dlgrade check`.
[workspace]
created_with = "dlgrade {version}"
"""
# With `dlgrade init --notebooks`: `dlgrade check` grades exercises/<id>.ipynb where it exists.
NOTEBOOKS_TEXT = "notebooks = true\n"


@dataclass(frozen=True)
class Workspace:
    """A folder of learner files, and the course they belong to."""

    root: Path
    course: Course
    in_clone: bool = False

    def path(self, exercise: Exercise) -> Path:
        return self.root / "exercises" / exercise.file_name

    def notebook_path(self, exercise: Exercise) -> Path:
        return self.root / "exercises" / f"{exercise.id}.ipynb"

    @property
    def uses_notebooks(self) -> bool:
        """Whether this workspace was made with ``--notebooks`` (its config says so)."""
        config = self.root / CONFIG
        if self.in_clone or not config.is_file():
            return False
        import tomllib

        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return False
        return data.get("workspace", {}).get("notebooks") is True

    def graded_path(self, exercise: Exercise) -> Path:
        """The file ``dlgrade check`` grades: the notebook in a notebook workspace, else .py."""
        notebook = self.notebook_path(exercise)
        return notebook if self.uses_notebooks and notebook.is_file() else self.path(exercise)

    def display(self, exercise: Exercise, path: Path | None = None) -> str:
        """The learner file's path as the learner would type it."""
        path = path or self.path(exercise)
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def pristine_stub(self, exercise: Exercise) -> str:
        """The untouched stub's text (from the course, or from git inside a clone)."""
        if not self.in_clone:
            return self.course.stub_path(exercise).read_text(encoding="utf-8")
        rel = f"exercises/{exercise.file_name}"
        try:
            done = subprocess.run(
                ["git", "-C", str(self.root), "show", f"HEAD:{rel}"],
                capture_output=True,
                text=True,
                check=True,
            )
        except (OSError, subprocess.CalledProcessError):
            raise InputError(
                f"{rel}: no pristine copy to restore (this clone has no git "
                "history); use `dlgrade init DIR` for a resettable workspace"
            ) from None
        return done.stdout

    def reset(self, exercise: Exercise) -> Path | None:
        """Restore the stub; returns the backup of the learner's file (None if nothing to keep).

        In a notebook workspace the graded file is the notebook: it is generated afresh.
        """
        target = self.graded_path(exercise)
        if target.suffix == ".ipynb":
            from grader.course import notebook_stub

            stub = notebook_stub.text(self.course, exercise)
        else:
            stub = self.pristine_stub(exercise)
        backup = None
        if target.exists() and target.read_text(encoding="utf-8", errors="replace") != stub:
            backups = self.root / ".dlgrade" / "backups"
            backups.mkdir(parents=True, exist_ok=True)
            backup = backups / f"{exercise.id}-{time.strftime('%Y%m%d-%H%M%S')}{target.suffix}"
            shutil.copy2(target, backup)
        _write_atomic(target, stub)
        return backup


def _write_atomic(path: Path, text: str) -> None:
    write_text(path, text)


def find(course: Course, start: Path | None = None) -> Workspace:
    """The workspace containing ``start`` (default: cwd, or $DLGRADE_WORKSPACE)."""
    if os.environ.get(ENV):
        root = Path(os.environ[ENV]).expanduser().resolve()
        if not (root / CONFIG).is_file():
            raise InputError(f"{ENV}={root}: no {CONFIG} there")
        return Workspace(root, course)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG).is_file():
            return Workspace(folder, course)
        if folder == course.root.resolve():
            return Workspace(folder, course, in_clone=True)
    raise InputError(NO_WORKSPACE)


def init(course: Course, target: Path, *, notebooks: bool = False) -> Workspace:
    """Write a fresh learner workspace: the stubs (and their notebooks) and a dlgrade.toml."""
    if target.exists() and any(target.iterdir()):
        raise InputError(f"{target}: folder exists and is not empty")
    if notebooks:
        from grader.course import notebook_stub

        notebook_stub.require_extra()  # before anything is written
    (target / "exercises").mkdir(parents=True, exist_ok=True)
    for exercise in course.exercises:
        shutil.copyfile(course.stub_path(exercise), target / "exercises" / exercise.file_name)
    config = CONFIG_TEXT.format(version=__version__)
    if notebooks:
        for exercise in course.exercises:
            notebook_stub.write(course, exercise, target / "exercises" / f"{exercise.id}.ipynb")
        config += NOTEBOOKS_TEXT
    (target / CONFIG).write_text(config, encoding="utf-8")
    (target / ".gitignore").write_text(".dlgrade/\n*.png\n", encoding="utf-8")
    return Workspace(target.resolve(), course)
