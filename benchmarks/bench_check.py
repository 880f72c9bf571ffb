"""Wall time of a whole `dlgrade check EX` per numpy exercise, sandbox included.

Runs the real command in a fresh process (imports, sandbox start, checks, report)
against the reference solution and prints the median and worst of N runs.
Goal (issue 2): <= 0.8 s per numpy exercise on 2 cores.

    python benchmarks/bench_check.py [--runs 7]
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


def time_check(exercise: str, home: str) -> float:
    env = {**os.environ, "DLGRADE_HOME": home}
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
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    course = load_course()
    print(f"{'exercise':<18} {'median s':>9} {'worst s':>8}  isolation")
    with tempfile.TemporaryDirectory() as home:
        for exercise in course.exercises:
            if exercise.limits.imports:
                continue
            times = [time_check(exercise.id, home) for _ in range(args.runs)]
            env = {**os.environ, "DLGRADE_HOME": home}
            out = subprocess.run(
                [sys.executable, "-m", "grader", "check", exercise.id, "--solution", "--json"],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            ).stdout
            isolation = json.loads(out)["isolation"]
            print(
                f"{exercise.id:<18} {statistics.median(times):>9.3f} {max(times):>8.3f}  "
                f"{isolation}"
            )


if __name__ == "__main__":
    main()
