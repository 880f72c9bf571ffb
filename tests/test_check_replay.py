"""Exercise 03's trusted-side answers, brief call rendering, and checks called directly."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from conftest import ROOT

from grader.checks import check_03_backprop as check


def reference():
    spec = importlib.util.spec_from_file_location("ref03", ROOT / "solutions" / "03_backprop.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def counted():
    ref = reference()
    calls = []
    forward = ref.forward
    ref.forward = lambda *a: calls.append(1) or forward(*a)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(6, 2)), rng.uniform(size=(6, 1))
    return ref, calls, X, Y, ref.init_params(2, 3, 1, seed=4)


def test_a_replay_is_reused_for_equal_inputs_and_recomputed_for_any_other(counted):
    ref, calls, X, Y, params = counted
    first, final = check._replay(ref, X, Y, params, 0.5, 10)
    assert len(calls) == 10
    again, final_again = check._replay(ref, X, Y, {k: v.copy() for k, v in params.items()}, 0.5, 10)
    assert len(calls) == 10 and again == first  # the same bytes: not computed again
    final_again["W1"][:] = 0  # what a check gets is its own copy
    assert check._replay(ref, X, Y, params, 0.5, 10)[1]["W1"].any()
    moved = {**params, "b2": params["b2"] + 1e-12}
    other, _ = check._replay(ref, X, Y, moved, 0.5, 10)
    assert len(calls) == 20 and other != first
    assert check._replay(ref, X, Y, params, 0.6, 10)[0] != first and len(calls) == 30
    assert check._replay(ref, X, Y, params, 0.5, 11)[0][:10] == first and len(calls) == 41
    assert np.allclose(final["W1"], check._replay_once(ref, X, Y, params, 0.5, 10)[1]["W1"])


def test_finite_differences_are_reused_only_for_the_same_point(counted):
    ref, calls, X, Y, params = counted
    grads = check._finite_differences(ref, X, Y, params)
    done = len(calls)
    assert done > 0 and check._finite_differences(ref, X, Y, params)["dW1"].tolist() == (
        grads["dW1"].tolist()
    )
    assert len(calls) == done
    check._finite_differences(ref, X, 2 * Y, params)
    assert len(calls) == 2 * done
    truth = ref.backward(X, Y, params, ref.forward(X, params)[1])
    assert np.allclose(grads["dW2"], truth["dW2"], atol=1e-6)


def test_an_input_that_cannot_be_keyed_is_refused_not_guessed(counted):
    ref, _calls, X, Y, params = counted
    with pytest.raises(TypeError):
        check._once(check._replay_once, ref, X, Y, params, [0.5], 10)


def test_a_call_with_a_dict_of_arrays_is_shown_briefly_without_printing_every_array():
    from grader.grading.expect import describe

    params = {"W1": np.ones((3, 5)), "b1": np.zeros(5), "W2": np.ones((5, 2)), "b2": np.zeros(2)}
    shown = describe(params, 60, brief=True)
    assert shown.startswith("{'W1': <array of shape (3, 5)>, 'b1': [0., 0.") and len(shown) <= 60
    assert describe([1.0, 2.0], 60, brief=True) == "[1.0, 2.0]"  # plain numbers: as written
    assert describe((np.array([1.0, 2.0]),), 60, brief=True) == "([1., 2.],)"


@pytest.mark.parametrize("exercise_id", ["00_weighted_sum", "03_backprop"])
def test_checks_called_directly_score_as_pytests_own_protocol_does(exercise_id, monkeypatch):
    """The same files (reference, a known mistake, the stub) through both paths: same checks,
    statuses, points and messages."""
    from grader.course.info import load_course
    from grader.course.paths import hidden_from_sandbox
    from grader.grading import plugin
    from grader.grading.engine import Submission, grade_many
    from grader.sandbox.runner import Sandbox

    course = load_course()
    exercise = course.get(exercise_id)
    reference_text = (ROOT / "solutions" / f"{exercise_id}.py").read_text()
    old, new = {"00_weighted_sum": ("x @ w + b", "x @ w"), "03_backprop": (" - lr *", " + lr *")}[
        exercise_id
    ]
    assert old in reference_text
    files = [
        reference_text,
        reference_text.replace(old, new, 1),
        (ROOT / "exercises" / f"{exercise_id}.py").read_text(),
    ]

    def graded() -> list[list[tuple]]:
        subs = [Submission(text.encode(), exercise.file_name) for text in files]
        with Sandbox(exercise.sandbox_limits(), hide=hidden_from_sandbox()) as box:
            results = grade_many(course, exercise, subs, sandbox=box, seed=11)
        return [
            [(c.name, c.status, c.points, c.message, c.call, c.hint) for c in r.checks]
            for r in results
        ]

    direct = graded()
    monkeypatch.setattr(plugin.GradingPlugin, "_direct", lambda self, item: False)
    assert graded() == direct
    scores = [sum(check[2] for check in checks) for checks in direct]
    assert scores[0] > scores[1] > scores[2] == 0
