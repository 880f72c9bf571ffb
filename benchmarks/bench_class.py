"""Throughput of `dlgrade grade` on two generated classes, next to the naive baseline.

Generates two classes of 100 students × exercises 00–03 and grades each with --jobs 2:
- **honest**: reference solutions, small mutations of them and untouched stubs, every tenth
  student as a .zip (goal: >= 40 gradings/s on 2 cores);
- **mixed**: the same with hostile files mixed in (tests/fixtures/hostile for 00; endless
  loops and crashes for the others), each of which may cost up to --timeout (goal: >= 20/s).
Then times a sample of `dlgrade check EX --path FILE --json` runs (one process per student ×
exercise, honest files only, which favours the baseline) and extrapolates to a class.
Python's bytecode cache is on for every run (PYTHONDONTWRITEBYTECODE is dropped).

    python benchmarks/bench_class.py [--students 100] [--jobs 2] [--sample 20]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from grader.course.info import load_course

HOSTILE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "hostile"
HOSTILE_00 = ("infinite_loop", "memory_bomb", "fork_bomb", "daemon", "kills_parent", "exits")
GOALS = {"honest": 40.0, "mixed": 20.0}
MUTATIONS = [
    (" >= 0", " > 0"),
    ("x @ w + b", "x @ w"),
    ("(b if include_biases else 0)", "b"),
    ("axis=-1", "axis=0"),
    ("1.0 - s", "1.0 + s"),
    ("np.mean(diff**2)", "np.sum(diff**2)"),
    (" - lr *", " + lr *"),
    (".astype(int)", ""),
    ("np.maximum(0.0,", "np.minimum(0.0,"),
]


def mutate(source: str, rng: random.Random) -> str:
    """A small, plausible bug: one replacement that applies to this file."""
    choices = [(old, new) for old, new in MUTATIONS if old in source]
    old, new = rng.choice(choices)
    return source.replace(old, new, 1)


def overriding(source: str, body: str) -> str:
    """``source`` with its first function redefined at the end to run ``body``."""
    first = next(n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef))
    return f"{source}\n\ndef {first}(*args, **kwargs):\n    {body}\n"


def make_class(root: Path, students: int, hostile: bool, seed: int = 0) -> dict[str, int]:
    """Write the class into ``root``; returns how many files of each kind were made."""
    rng = random.Random(seed)
    course = load_course()
    exercises = [e for e in course.exercises if not e.limits.imports]
    kinds: dict[str, int] = {}
    hostile_00 = {5 + 15 * i: name for i, name in enumerate(HOSTILE_00)}
    for n in range(students):
        files = {}
        for index, ex in enumerate(exercises):
            solution = course.solution_path(ex).read_text(encoding="utf-8")
            roll = rng.random()
            if hostile and index == 0 and n in hostile_00:
                kind, text = "hostile", (HOSTILE / f"{hostile_00[n]}.py").read_text()
            elif hostile and index and n in (7 + 20 * index, 9 + 20 * index):
                body = "while True:\n        pass" if n % 20 == 7 else "import os; os._exit(3)"
                kind, text = "hostile", overriding(solution, body)
            elif roll < 0.45:
                kind, text = "correct", solution
            elif roll < 0.75:
                kind, text = "buggy", mutate(solution, rng)
            else:
                kind, text = "stub", course.stub_path(ex).read_text(encoding="utf-8")
            kinds[kind] = kinds.get(kind, 0) + 1
            files[ex.file_name] = text
        name = f"student_{n:03d}"
        if n % 10 == 0:
            with zipfile.ZipFile(root / f"{name}.zip", "w") as archive:
                for file_name, text in files.items():
                    archive.writestr(f"{name}/exercises/{file_name}", text)
        else:
            (root / name).mkdir()
            for file_name, text in files.items():
                (root / name / file_name).write_text(text, encoding="utf-8")
    return kinds


def dlgrade(*args: str, home: str) -> subprocess.CompletedProcess:
    """Run `dlgrade ARGS` as an instructor would, with the bytecode cache on."""
    env = {**os.environ, "DLGRADE_HOME": home}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode cached, as on an instructor's machine
    command = [sys.executable, "-m", "grader", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def grade_class(tmp: Path, kind: str, args: argparse.Namespace) -> tuple[Path, int, float]:
    """Generate and grade one class; returns its folder, its size and its gradings per second."""
    root, home = tmp / kind, str(tmp / "home")
    root.mkdir()
    kinds = make_class(root, args.students, hostile=kind == "mixed")
    total = sum(kinds.values())
    print(f"{kind} class: {args.students} students, {total} files {kinds}")
    started = time.perf_counter()
    done = dlgrade(
        "grade",
        str(root),
        "--out",
        str(tmp / f"out-{kind}"),
        "--jobs",
        str(args.jobs),
        "--timeout",
        str(args.timeout),
        "--seed",
        "1",
        "--json",
        home=home,
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 3):
        raise SystemExit(f"dlgrade grade failed:\n{done.stdout}{done.stderr}")
    summary = json.loads(done.stdout)
    run = summary["run"]
    print(
        f"  dlgrade grade --jobs {args.jobs}: {total} gradings in {wall:.1f} s wall "
        f"(start-up included) = {total / wall:.1f} gradings/s; grading phase "
        f"{run['seconds']:.1f} s = {run['per_second']} gradings/s; "
        f"grader errors: {len(summary['grader_errors'])}"
    )
    troubled = sorted(f"{t['student']}/{t['exercise']}" for t in summary["troubled"])
    print(f"  timed out or crashed ({len(troubled)}): {' '.join(troubled)}")
    return root, total, total / wall


def naive_sample(root: Path, sample: int, home: str) -> tuple[float, int]:
    """Seconds per `dlgrade check --path` over a sample of honest files, and the sample size."""
    course = load_course()
    exercises = [e for e in course.exercises if not e.limits.imports]
    hostile_00 = (HOSTILE / f"{HOSTILE_00[0]}.py").read_text()
    honest = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for ex in exercises:
            text = (folder / ex.file_name).read_text()
            if "while True" not in text and "os._exit" not in text and text != hostile_00:
                honest.append((ex.id, folder / ex.file_name))
    chosen = random.Random(1).sample(honest, min(sample, len(honest)))
    started = time.perf_counter()
    for exercise, path in chosen:
        dlgrade("check", exercise, "--path", str(path), "--seed", "1", "--json", home=home)
    return (time.perf_counter() - started) / len(chosen), len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        rates = {}
        for kind in GOALS:
            root, _total, rates[kind] = grade_class(Path(tmp), kind, args)
        per_file, n = naive_sample(root, args.sample, str(Path(tmp) / "home"))
        print(f"naive baseline: {per_file:.2f} s per `dlgrade check --path` (sample of {n})")
        print(f"{'class':8} {'gradings/s':>11} {'goal':>6} {'baseline':>9} {'speed-up':>9}")
        for kind, rate in rates.items():
            baseline = 1 / per_file
            print(
                f"{kind:8} {rate:11.1f} {GOALS[kind]:6.0f} {baseline:9.2f} {rate / baseline:8.1f}x"
            )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
