"""CPU time the learner's code spends while an exercise's checks grade the reference.

The reference solution is graded by the real grader (sandbox included), with a few lines
appended to the file: every public function is wrapped so that its outermost call measures
``time.process_time()`` inside the sandboxed child and prints it. The trusted side reads
those lines from each call's captured output. Three figures: ``cpu``, the child's CPU time
inside the calls; ``inside``, the wall time inside them (an upper bound of the CPU time on
a busy machine, and not subject to the kernel's CPU accounting granularity);
``round_trip``, each call timed on the trusted side, sandbox round trip included (the first
call also loads the file). Goal (issue 15): at most 0.1 s of learner CPU for 03_backprop.

    python benchmarks/bench_learner_cpu.py [EXERCISE ...] [--runs 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from grader.course.info import load_course
from grader.grading import learner as learner_module
from grader.grading.engine import grade

WRAPPER = """

def _dlgrade_bench_wrap():
    import functools, time, types
    depth = [0]

    def wrap(fn):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            depth[0] += 1
            cpu, wall = time.process_time(), time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                    print(f"@@cpu {cpu:.9f} {wall:.9f}")
        return timed

    for name, value in list(globals().items()):
        if isinstance(value, types.FunctionType) and not name.startswith("_"):
            globals()[name] = wrap(value)


_dlgrade_bench_wrap()
"""
CPU = re.compile(r"@@cpu (\d+\.\d+) (\d+\.\d+)")


FIGURES = ("cpu", "inside", "round_trip")


def measure(exercise_id: str) -> dict[str, dict[str, float]]:
    """Per function: CPU seconds and wall seconds inside the child, and each round trip."""
    course = load_course()
    exercise = course.get(exercise_id)
    figures: dict[str, dict[str, float]] = {k: defaultdict(float) for k in FIGURES}
    original = learner_module.Learner.call

    def call(self, fn, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original(self, fn, *args, **kwargs)
        finally:
            figures["round_trip"][fn] += time.perf_counter() - started
            for cpu, inside in CPU.findall(self.last_output or ""):
                figures["cpu"][fn] += float(cpu)
                figures["inside"][fn] += float(inside)

    source = course.solution_path(exercise).read_text() + WRAPPER
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / exercise.file_name
        path.write_text(source)
        learner_module.Learner.call = call
        try:
            result = grade(course, exercise, path, seed=1)
        finally:
            learner_module.Learner.call = original
    if not result.passed:
        failed = [(c.name, c.message) for c in result.checks if not c.passed]
        raise SystemExit(f"{exercise_id}: the instrumented reference did not pass: {failed}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*", default=["03_backprop"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for exercise_id in args.exercises:
        runs = [measure(exercise_id) for _ in range(args.runs)]
        print(f"{exercise_id}, {args.runs} runs (seconds, median and worst of the run totals):")
        for figure in FIGURES:
            totals = [sum(r[figure].values()) for r in runs]
            print(f"  {figure:<11} {statistics.median(totals):.4f}  {max(totals):.4f}")
        last = runs[-1]
        print("  last run by function: cpu / inside / round trip")
        for fn in sorted(last["round_trip"], key=last["inside"].get, reverse=True):
            shown = " / ".join(f"{last[f].get(fn, 0.0):.4f}" for f in FIGURES)
            print(f"    {fn:<24} {shown}")


if __name__ == "__main__":
    main()
