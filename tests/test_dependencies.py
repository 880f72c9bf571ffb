"""Dependencies match the imports, the core install needs no TensorFlow, and study commands
import on platforms without fcntl, termios, resource or /proc."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
from conftest import ROOT
from packaging.requirements import Requirement

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
TENSORFLOW_ONLY = {"tensorflow", "keras", "matplotlib", "plotext"}

# Runs before dlgrade: the POSIX-only modules cannot be imported, and /proc does not exist.
NON_POSIX = """
import builtins, importlib.abc, os, sys
BLOCKED = {"fcntl", "termios", "resource"}

class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

for name in [m for m in sys.modules if m.partition(".")[0] in BLOCKED]:
    del sys.modules[name]
sys.meta_path.insert(0, Blocked())

def no_proc(real):
    def guarded(path, *args, **kwargs):
        if os.fspath(path).startswith("/proc"):
            raise FileNotFoundError(2, "No such file or directory", path)
        return real(path, *args, **kwargs)
    return guarded

builtins.open = no_proc(builtins.open)
os.stat, os.listdir, os.scandir = no_proc(os.stat), no_proc(os.listdir), no_proc(os.scandir)
sys.argv = ["dlgrade", *sys.argv[1:]]
from grader.cli.entry import main
try:
    main()
finally:
    leaked = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
    print("LOADED:", ",".join(leaked), file=sys.stderr)
"""


def _deptry(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deptry", "."],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_every_import_comes_from_a_declared_dependency():
    done = _deptry(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_deptry_fails_on_an_undeclared_import(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "grader").mkdir()
    (tmp_path / "grader" / "__init__.py").write_text("import numpy\nimport requests\n")
    done = _deptry(tmp_path)
    assert done.returncode != 0
    assert "'requests' imported but" in done.stdout + done.stderr


def test_exercise_04_dependencies_are_an_extra():
    core = {Requirement(r).name.lower() for r in PYPROJECT["project"]["dependencies"]}
    keras = {
        Requirement(r).name.lower() for r in PYPROJECT["project"]["optional-dependencies"]["keras"]
    }
    assert not core & TENSORFLOW_ONLY and keras >= TENSORFLOW_ONLY
    assert {"annotated-types", "numpy", "pytest"} <= core
    copydetect = [
        Requirement(r)
        for r in PYPROJECT["project"]["optional-dependencies"]["instructor"]
        if r.startswith("copydetect")
    ]
    assert copydetect and any(s.operator == "<" for s in copydetect[0].specifier)


def test_constraints_pin_every_declared_dependency_within_its_range():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    extras = PYPROJECT["project"]["optional-dependencies"]
    declared = [
        *PYPROJECT["project"]["dependencies"],
        *extras["keras"],
        *extras["instructor"],
        *extras["jupyter"],
    ]
    for text in declared:
        requirement = Requirement(text)
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"constraints.txt has no pin for {name}"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} vs {text}"


@pytest.mark.parametrize(
    ("args", "answers"),
    [(["glossary", "weight"], ""), (["cards", "--stats"], ""), (["quiz", "-n", "1"], "a\n")],
)
def test_study_commands_run_without_posix_modules_or_proc(args, answers, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DLGRADE_HOME": str(tmp_path), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-c", NON_POSIX, *args],
        input=answers,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip()
    assert "LOADED: \n" in done.stderr  # none of them was imported


def test_the_blocker_really_blocks(tmp_path):
    """The harness above can fail: a command that needs fcntl does not get it."""
    probe = NON_POSIX.replace("from grader.cli.entry import main", "import fcntl\nmain = None")
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode != 0 and "No module named 'fcntl'" in done.stderr


def test_a_fresh_core_install_checks_quizzes_and_drills_without_tensorflow(tmp_path):
    """The README's first command: `pip install -e .` (no extras), then dlgrade works.

    Slow (one real install from the package index, about 15 s).
    """
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python, dlgrade = env_dir / "bin" / "python", env_dir / "bin" / "dlgrade"
    quiet = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    quiet.pop("PYTHONPATH", None)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-e", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
        env=quiet,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    env = {**quiet, "DLGRADE_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}

    def run(*args: str, answers: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(dlgrade), *args],
            input=answers,
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            cwd=ROOT,
        )

    absent = subprocess.run([str(python), "-c", "import tensorflow"], capture_output=True)
    assert absent.returncode != 0
    solved = run("check", "00_weighted_sum", "--solution")
    assert solved.returncode == 0, solved.stdout + solved.stderr
    mnist = run("check", "04_mnist_mlp")
    assert mnist.returncode == 2 and mnist.stderr.count("\n") == 1
    assert "pip install 'dlgrade[keras]'" in mnist.stderr
    assert run("quiz", "-n", "1", answers="a\n").returncode == 0
    assert run("cards", answers="good\n").returncode == 0
