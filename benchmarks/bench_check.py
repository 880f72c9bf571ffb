"""Wall time of a whole `dlgrade check EX` per numpy exercise, sandbox included.

Runs the real command in a fresh process (imports, sandbox start, checks, report)
against the reference solution and prints the median and worst of N runs.
Goal (issue 2): <= 0.8 s per numpy exercise on 2 cores.

The exercises take turns run by run, so a machine whose speed drifts (shared VMs do)
slows them all alike; a fixed pure-Python loop is timed before and after to show how fast
the machine was. Python's bytecode cache is on, as on a learner's machine after the first
run (PYTHONDONTWRITEBYTECODE is dropped from the environment).

    python benchmarks/bench_check.py [--runs 9]
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

from grader.course import load_course


def calibration() -> float:
    """Seconds for a fixed pure-Python loop (10 million additions)."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def time_check(exercise: str, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "grader", "check", exercise, "--solution", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or not json.loads(done.stdout)["passed"]:
        raise SystemExit(f"{exercise}: the reference did not pass:\n{done.stdout}{done.stderr}")
    return elapsed, json.loads(done.stdout)["isolation"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    exercises = [e.id for e in load_course().exercises if not e.limits.imports]
    before = calibration()
    times: dict[str, list[float]] = {e: [] for e in exercises}
    isolation = {}
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DLGRADE_HOME": home}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for exercise in exercises:  # warm-up: bytecode cache, validated course file
            time_check(exercise, env)
        for _ in range(args.runs):
            for exercise in exercises:
                elapsed, isolation[exercise] = time_check(exercise, env)
                times[exercise].append(elapsed)
    after = calibration()
    print(f"{'exercise':<18} {'median s':>9} {'worst s':>8}  isolation")
    for exercise in exercises:
        runs = times[exercise]
        print(
            f"{exercise:<18} {statistics.median(runs):>9.3f} {max(runs):>8.3f}  "
            f"{isolation[exercise]}"
        )
    print(f"calibration loop: {before:.2f} s before, {after:.2f} s after")


if __name__ == "__main__":
    main()
