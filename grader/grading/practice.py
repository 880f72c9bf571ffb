"""Practice mode: the checks' expected values where the reference solution is absent.

A clone of the course holds ``solutions/``, and the ``reference`` fixture is that module.
The wheel and the student kit hold none. There the fixture answers from the exercise's
practice pool (``practice/<exercise>.json``), recorded by ``scripts/build_practice_pool.py``
from the real reference: for each of a few seeds, every call the checks made to the
reference, as (function, canonical key of the arguments) → result. A learner then grades
on those seeds only ("practice cases"); a reference call the pool cannot answer fails its
check as not available in practice. With the real reference, a pool's seeds are refused,
so class grading always draws cases no pool contains ("graded cases").

Threat model: the pool is public. It gives a learner the reference's answers on the
practice cases, which a hard-coded lookup table can replay; it does not give the function,
so that table scores nothing on graded cases (``tests/test_practice.py``). Keys are hashes,
so the pool does not even list the practice inputs; the checks (shipped as source) do.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.core.errors import InputError
from grader.course.info import Course, Exercise
from grader.course.solutions import has_solution
from grader.sandbox import wire

FORMAT = 1
PRACTICE = "practice"
GRADED = "graded"
SEED_FLOOR = 1 << 40  # pool seeds lie above every seed drawn for graded cases (< 2**31)
MANTISSA_BITS = 30  # floats are keyed to ~1e-9 relative, so BLAS rounding keeps keys stable
NOT_PRACTICE_SEED = (
    "seed {seed} is not a practice seed of {id}: without the course's solutions dlgrade "
    "checks only the practice cases (seeds {seeds}); omit --seed to pick one"
)
PRACTICE_SEED_GRADED = (
    "{id}: seed {seed} belongs to the practice pool; with the reference solution the "
    "checks draw fresh cases (omit --seed or pick another)"
)
UNAVAILABLE = (
    "not available in practice mode: this check asks the reference about {fn}() on values "
    "it has not recorded (your own results); it is graded with the course's solutions"
)


class NotInPractice(Exception):
    """A reference call the practice pool has no recorded answer for."""

    def __init__(self, fn: str) -> None:
        super().__init__(UNAVAILABLE.format(fn=fn))
        self.fn = fn


# -- canonical keys ---------------------------------------------------------------------------


def _quantised(arr: np.ndarray) -> bytes:
    """Float64 bytes with each value rounded to MANTISSA_BITS bits (NaN, ±0 made canonical)."""
    arr = np.asarray(arr, dtype=np.float64)
    mantissa, exponent = np.frexp(arr)
    with np.errstate(invalid="ignore"):
        rounded = np.ldexp(np.round(mantissa * (1 << MANTISSA_BITS)), exponent - MANTISSA_BITS)
    rounded = np.where(np.isfinite(arr), rounded, arr) + 0.0
    rounded = np.where(np.isnan(arr), np.nan, rounded)
    return np.ascontiguousarray(rounded).astype("<f8").tobytes()


def _feed(digest: Any, value: Any) -> None:
    def put(tag: bytes, payload: bytes = b"") -> None:
        digest.update(tag + struct.pack("<Q", len(payload)) + payload)

    if value is None:
        put(b"n")
    elif isinstance(value, bool | np.bool_):
        put(b"b", b"1" if value else b"0")
    elif isinstance(value, int | np.integer):
        put(b"i", str(int(value)).encode())
    elif isinstance(value, float | np.floating):
        put(b"f", _quantised(np.float64(value)))
    elif isinstance(value, str):
        put(b"s", value.encode())
    elif isinstance(value, np.ndarray):
        kind = value.dtype.kind
        shape = ",".join(map(str, value.shape)).encode()
        if kind in "fc":
            data = _quantised(value.real) + (_quantised(value.imag) if kind == "c" else b"")
        elif kind in "iu":
            data = np.ascontiguousarray(value, dtype="<i8").tobytes()
        elif kind == "b":
            data = np.ascontiguousarray(value, dtype="|u1").tobytes()
        else:
            raise TypeError(f"cannot key an array of dtype {value.dtype}")
        put(b"a" + kind.encode(), shape + b";" + data)
    elif isinstance(value, list | tuple):
        put(b"l", str(len(value)).encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, dict):
        put(b"d", str(len(value)).encode())
        for key in sorted(value, key=str):
            _feed(digest, str(key))
            _feed(digest, value[key])
    elif isinstance(value, wire.FunctionRef) or callable(value):
        put(b"c", str(getattr(value, "name", None) or value.__name__).encode())
    else:
        raise TypeError(f"cannot key a {type(value).__name__}")


def case_key(fn: str, args: Iterable[Any], kwargs: dict[str, Any]) -> str:
    """The canonical key of one call: the function's name and its arguments, floats rounded."""
    digest = hashlib.sha256(fn.encode())
    _feed(digest, list(args))
    _feed(digest, dict(kwargs))
    return digest.hexdigest()[:32]


# -- values -----------------------------------------------------------------------------------


def encode_value(value: Any) -> str:
    """One result as text: the sandbox wire's frame (pickle-free), base64."""
    return base64.b64encode(wire.encode({"v": value})).decode("ascii")


def decode_value(text: str) -> Any:
    """A fresh copy of the result :func:`encode_value` wrote."""
    frame = base64.b64decode(text)
    json_len, _ = wire.HEADER.unpack(frame[: wire.HEADER.size])
    start = wire.HEADER.size
    return wire.decode(frame[start : start + json_len], frame[start + json_len :])["v"]


# -- pools ------------------------------------------------------------------------------------


def pool_path(course: Course, exercise: Exercise) -> Path:
    return course.root / "practice" / f"{exercise.id}.json"


@dataclass(frozen=True)
class Pool:
    """One exercise's practice cases: the seeds, and per seed every recorded reference call."""

    exercise: str
    seeds: tuple[int, ...]
    functions: tuple[str, ...]
    cases: dict[int, dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "exercise": self.exercise,
            "about": "dlgrade practice cases; regenerate with scripts/build_practice_pool.py",
            "seeds": list(self.seeds),
            "functions": list(self.functions),
            "cases": {str(s): dict(sorted(self.cases[s].items())) for s in self.seeds},
        }

    def for_seed(self, seed: int) -> PracticeReference:
        if seed not in self.cases:
            shown = ", ".join(map(str, self.seeds))
            raise InputError(NOT_PRACTICE_SEED.format(seed=seed, id=self.exercise, seeds=shown))
        return PracticeReference(self.exercise, self.functions, self.cases[seed])


@functools.cache
def _read_pool(path: Path) -> Pool | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    cases = {int(seed): table for seed, table in data["cases"].items()}
    return Pool(data["exercise"], tuple(data["seeds"]), tuple(data["functions"]), cases)


def load_pool(course: Course, exercise: Exercise) -> Pool:
    """The exercise's pool; an exercise without one has no practice seeds and answers nothing."""
    return _read_pool(pool_path(course, exercise)) or Pool(exercise.id, (), (), {})


def write_pool(course: Course, pool: Pool) -> Path:
    path = course.root / "practice" / f"{pool.exercise}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(pool.to_dict(), indent=1) + "\n", encoding="utf-8")
    return path


class PracticeReference:
    """Stands in for the reference module: answers recorded calls, refuses every other one."""

    practice = True

    def __init__(self, exercise: str, functions: Iterable[str], cases: dict[str, str]) -> None:
        self._exercise, self._functions, self._cases = exercise, frozenset(functions), cases

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._functions:
            raise AttributeError(f"the practice pool of {self._exercise} has no {name}()")
        return functools.partial(self._answer, name)

    def _answer(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        found = self._cases.get(case_key(fn, args, kwargs))
        if found is None:
            raise NotInPractice(fn)
        return decode_value(found)


class Recorder:
    """Wraps the real reference and records every call it answers, for one pool seed."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self.cases: dict[str, str] = {}
        self.functions: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._module, name)
        if not callable(target):
            return target

        def record(*args: Any, **kwargs: Any) -> Any:
            key = case_key(name, args, kwargs)
            result = target(*args, **kwargs)
            self.cases[key] = encode_value(result)
            self.functions.add(name)
            return result

        return record


# -- where the answers come from --------------------------------------------------------------


def draw_seed(course: Course, exercise: Exercise) -> int:
    """A practice seed where the solution is absent; otherwise a fresh seed no pool holds."""
    if has_solution(course, exercise):
        return secrets.randbelow(1 << 31)
    seeds = load_pool(course, exercise).seeds
    return secrets.choice(seeds) if seeds else secrets.randbelow(1 << 31)


def reference_for(course: Course, exercise: Exercise, seed: int) -> Any:
    """What the ``reference`` fixture gives the checks for this seed.

    The real module where the solution is installed (refusing a pool seed, so graded cases
    are always fresh), the practice pool's answers for that seed otherwise.
    """
    if not has_solution(course, exercise):
        pool = load_pool(course, exercise)
        if not pool.seeds:
            return PracticeReference(exercise.id, (), {})
        return pool.for_seed(seed)
    refuse_pool_seed(course, exercise, seed)
    from grader.grading.engine import load_reference

    return load_reference(course, exercise)


def refuse_pool_seed(course: Course, exercise: Exercise, seed: int) -> None:
    """Graded cases are fresh: a seed of the exercise's practice pool is an InputError."""
    if seed in load_pool(course, exercise).cases:
        raise InputError(PRACTICE_SEED_GRADED.format(id=exercise.id, seed=seed))


def cases_of(reference: Any) -> str:
    """``practice`` or ``graded``: what the feedback calls the cases behind the checks."""
    return PRACTICE if getattr(reference, "practice", False) else GRADED
