"""The boundary in a real sandbox: output and messages bounded once, nothing carried over
between students in one worker, numpy return values plain in every result, and a run
that produces no checks recorded as a grader error."""

from __future__ import annotations

import json

import pytest
from conftest import ISOLATIONS

from grader.classgrade import gradebook
from grader.core.untrusted import CLIP_BYTES
from grader.course.info import load_course
from grader.course.paths import hidden_from_sandbox
from grader.grading.engine import Submission, grade_many
from grader.sandbox.errors import LearnerRaised
from grader.sandbox.runner import Sandbox

COURSE = load_course()
EX00 = COURSE.get("00_weighted_sum")
SOLUTION = COURSE.solution_path(EX00).read_text()
DTYPES = [
    "bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "longdouble", "complex64", "complex128",
]  # fmt: skip
NUMPY_RETURNS = (
    SOLUTION
    + f"""

_TYPES = {DTYPES!r}
_calls = [0]
_plain_weighted_sum = weighted_sum
_plain_dense_forward = dense_forward


def weighted_sum(x, w, b=0.0):
    _calls[0] += 1
    kind = getattr(np, _TYPES[_calls[0] % len(_TYPES)])
    value = _plain_weighted_sum(x, w, b)
    return kind(value) if _calls[0] % 2 else np.array(kind(value))


def dense_forward(X, W, b):
    out = _plain_dense_forward(X, W, b)
    return out.astype(np.float32) if _calls[0] % 2 else out.astype(np.float16)
"""
)
PRINTS = (
    SOLUTION
    + """
print("PREVIOUS-STUDENT " * 10_000)
_plain = weighted_sum


def weighted_sum(x, w, b=0.0):
    print("PREVIOUS-STUDENT " * 10_000)
    return _plain(x, w, b)
"""
)
BUGGY_AND_PRINTS_A_LITTLE = SOLUTION.replace("x @ w + b", "x @ w", 1).replace(
    "    return float(x @ w)", "    print('mine')\n    return float(x @ w)"
)


@pytest.fixture(params=ISOLATIONS)
def box(request):
    sandbox = Sandbox(EX00.sandbox_limits(), strict=request.param, hide=hidden_from_sandbox())
    yield sandbox
    sandbox.close()


def test_printed_output_and_messages_are_clipped_once_where_they_enter(box):
    box.load(
        "import sys\n"
        "def flood():\n    sys.stdout.write('x' * 3_000_000)\n    return 1\n"
        "def shout():\n    raise ValueError('m' * 400_000)\n"
        "def big_name():\n    raise type('E' * 300_000, (Exception,), {})('boom')\n",
        "flood.py",
        "flood.py",
    )
    _, reply = box.call("flood", [])
    assert reply.value == 1 and len(reply.output.encode()) < CLIP_BYTES + 40
    assert reply.output.endswith("bytes more")
    for fn in ("shout", "big_name"):
        with pytest.raises(LearnerRaised) as raised:
            box.call(fn, [])
        assert len(raised.value.message) < 2 * CLIP_BYTES + 100


def test_one_students_output_never_reaches_the_next_ones_feedback(box):
    files = [PRINTS, BUGGY_AND_PRINTS_A_LITTLE, PRINTS, BUGGY_AND_PRINTS_A_LITTLE]
    subs = [Submission(text.encode(), f"s{i}.py") for i, text in enumerate(files)]
    results = grade_many(COURSE, EX00, subs, sandbox=box, seed=5)
    assert [r.score for r in results[::2]] == [26, 26]
    for result in results[1::2]:
        failed = [c for c in result.checks if not c.passed]
        assert failed, "the buggy file must fail a check, or nothing is shown"
        shown = json.dumps([c.to_dict() for c in result.checks])
        assert "PREVIOUS-STUDENT" not in shown
        assert any("mine" in c.output for c in failed)


def test_numpy_values_of_every_dtype_as_return_values_stay_out_of_results(box, tmp_path):
    subs = [Submission(NUMPY_RETURNS.encode(), "numpy.py"), Submission(SOLUTION.encode(), "ok")]
    results = grade_many(COURSE, EX00, subs, sandbox=box, seed=5)
    settings = gradebook.Settings.new(None, (EX00.id,), None, {})
    conn = gradebook.create(tmp_path, settings)
    for name, result in zip(("numpy", "honest"), results, strict=True):
        data = result.to_dict()
        json.dumps(data, allow_nan=False)
        gradebook.commit(conn, name, data, None)
    stored = {s: r for s, _, _, r in gradebook.results(conn)}
    assert stored["honest"]["score"] == 26
    assert len(stored["numpy"]["checks"]) == len(stored["honest"]["checks"])


def test_a_result_without_checks_is_never_committed_as_a_score(tmp_path):
    conn = gradebook.create(tmp_path, gradebook.Settings.new(1, (EX00.id,), None, {}))
    empty = {"exercise": EX00.id, "score": 0, "max_score": 0, "checks": [], "passed": False}
    for bad in (empty, {**empty, "grader_error": "x"}, {**empty, "checks": [{"points": "1"}]}):
        assert gradebook.unscorable(bad)
        with pytest.raises(ValueError, match="not a score"):
            gradebook.commit(conn, "ann", bad, None)
    assert list(gradebook.results(conn)) == []


def test_a_session_that_ends_early_leaves_grader_errors_not_zeros(box, monkeypatch):
    """The zeroing of issue 12: a failure after one file ended pytest's session, and every
    later file came back with no checks and no error (0/0, counted)."""
    calls = []
    real_unload = box.unload

    def unload_that_fails_once():
        calls.append(1)
        real_unload()
        if len(calls) == 1:
            raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(box, "unload", unload_that_fails_once)
    subs = [Submission(SOLUTION.encode(), f"s{i}.py") for i in range(3)]
    results = grade_many(COURSE, EX00, subs, sandbox=box, seed=5)
    for result in results:
        assert result.grader_error or (result.checks and result.score == 26), result.to_dict()
        assert gradebook.unscorable(result.to_dict()) or result.score == 26
