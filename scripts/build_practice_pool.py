"""Record the practice pools (practice/<exercise>.json) from the reference solutions.

    python scripts/build_practice_pool.py                 # re-record on the committed seeds
    python scripts/build_practice_pool.py --new-seeds     # draw new seeds from a secret
    python scripts/build_practice_pool.py --check         # exit 1 if a pool is stale
    python scripts/build_practice_pool.py 01_activations  # only these exercises

Run it after changing a check or a solution; tests/test_practice.py fails on a stale pool.
Only exercises whose checks ask for the ``reference`` fixture get a pool.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.course.info import load_course
from grader.grading import practice, practice_pool


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*", help="exercise ids (default: all)")
    parser.add_argument("--new-seeds", action="store_true", help="draw new pool seeds")
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    args = parser.parse_args(argv)
    course = load_course()
    chosen = [course.get(i) for i in args.exercises] or list(course.exercises)
    stale = []
    for exercise in chosen:
        if not practice_pool.uses_reference(exercise):
            continue
        pool = practice_pool.rebuild(course, exercise, fresh=args.new_seeds)
        if args.check:
            old = practice.load_pool(course, exercise)
            found = practice_pool.differences(old, pool) if old.seeds else ["no pool"]
            stale += [f"{exercise.id}: {line}" for line in found]
            continue
        path = practice.write_pool(course, pool)
        calls = sum(len(table) for table in pool.cases.values())
        print(f"{path.relative_to(course.root)}: {len(pool.seeds)} seeds, {calls} calls")
    for line in stale:
        print(line, file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
