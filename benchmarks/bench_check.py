"""Wall time of a whole `dlgrade check EX` per numpy exercise, sandbox included.

Runs the real command in a fresh process (imports, sandbox start, checks, report)
against the reference solution and prints the median and worst of N runs.
Goal: <= 0.5 s per numpy exercise on 2 cores.

The exercises take turns run by run, so a machine whose speed drifts (shared VMs do)
slows them all alike; a fixed pure-Python loop is timed before and after to show how fast
the machine was. Python's bytecode cache is on, as on a learner's machine after the first
run (PYTHONDONTWRITEBYTECODE is dropped from the environment).

With ``--against DIR`` (another checkout, say a git worktree of an older commit) every
run of an exercise here is followed by one of the same exercise there, so both checkouts
are timed at the same machine speed.

    python benchmarks/bench_check.py [--runs 9] [--against DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from grader.course.info import load_course


def calibration() -> float:
    """Seconds for a fixed pure-Python loop (10 million additions)."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def time_check(
    exercise: str, env: dict[str, str], checkout: str | None = None
) -> tuple[float, str]:
    """Wall time of ``dlgrade check EXERCISE --solution`` (from ``checkout`` if given)."""
    if checkout:
        env = {**env, "PYTHONPATH": checkout}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "grader", "check", exercise, "--solution", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=checkout,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or not json.loads(done.stdout)["passed"]:
        raise SystemExit(f"{exercise}: the reference did not pass:\n{done.stdout}{done.stderr}")
    return elapsed, json.loads(done.stdout)["isolation"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--against", metavar="DIR", help="another checkout, timed in turn")
    args = parser.parse_args()
    exercises = [e.id for e in load_course().exercises if not e.limits.imports]
    sides = [None, os.path.abspath(args.against)] if args.against else [None]
    before = calibration()
    times: dict[tuple, list[float]] = {(e, s): [] for e in exercises for s in sides}
    isolation = {}
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DLGRADE_HOME": home}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for key in times:  # warm-up: bytecode cache, validated course file
            time_check(key[0], env, key[1])
        for _ in range(args.runs):
            for key in times:
                elapsed, isolation[key] = time_check(key[0], env, key[1])
                times[key].append(elapsed)
    after = calibration()
    print(f"{'exercise':<18} {'median s':>9} {'worst s':>8}  isolation")
    for (exercise, side), runs in times.items():
        name = exercise if side is None else f"  against {exercise[:2]}"
        print(
            f"{name:<18} {statistics.median(runs):>9.3f} {max(runs):>8.3f}  "
            f"{isolation[exercise, side]}"
        )
    print(f"calibration loop: {before:.2f} s before, {after:.2f} s after")


if __name__ == "__main__":
    main()
