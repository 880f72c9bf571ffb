"""Checks for exercise 02: the perceptron's prediction and Rosenblatt's learning rule."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.grading.expect import as_numeric, expect_close, expect_equal, expect_that

GATE_X = [[0, 0], [0, 1], [1, 0], [1, 1]]
AND_Y = [0, 0, 0, 1]
OR_Y = [0, 1, 1, 1]
XOR_Y = [0, 1, 1, 0]


def _trained(got: Any, what: str) -> tuple[Any, Any, list[int]]:
    """Unpack (w, b, errors), with errors as a list of whole, non-negative counts."""
    expect_that(
        isinstance(got, tuple | list) and len(got) == 3,
        f"{what} should return a tuple (w, b, errors)",
        got=got,
    )
    w, b, errors = got
    counts = as_numeric(errors, what=f"errors from {what}")
    expect_that(
        counts.ndim == 1 and bool(np.all(counts == np.round(counts))) and bool(np.all(counts >= 0)),
        f"errors from {what} should list one mistake count per epoch",
        got=errors,
    )
    return w, b, [int(c) for c in counts]


def _separable_problem(rng: np.random.Generator):
    """Small integer inputs labelled by a random integer line, none of them on the line."""
    d = int(rng.integers(2, 5))
    w_true = rng.integers(1, 4, size=d) * rng.choice([-1, 1], size=d)
    b_true = int(rng.integers(-2, 3))
    X = rng.integers(-3, 4, size=(40, d)).astype(float)
    z = X @ w_true + b_true
    keep = np.flatnonzero(z)[: int(rng.integers(6, 15))]
    return X[keep], (z[keep] > 0).astype(int)


def _expect_same_training(got: Any, expected: tuple, what: str, *, reveal: bool = False) -> None:
    w, b, counts = _trained(got, what)
    expect_equal(counts, list(expected[2]), what=f"errors per epoch from {what}", reveal=reveal)
    expect_close(w, expected[0], what=f"w from {what}", reveal=reveal)
    expect_close(b, expected[1], what=f"b from {what}", reveal=reveal)


def test_predict_fires_at_zero_logit(learner):
    """A sample exactly on the boundary (logit 0) is predicted as 1"""
    got = learner.perceptron_predict([[1.0, -1.0], [2.0, 3.0], [-2.0, -1.0]], [1.0, 1.0], 0.0)
    expect_equal(
        got,
        np.array([1, 1, 0]),
        what="perceptron_predict with logits [0, 5, -3]",
        mistakes={"step_zero_is_zero": [0, 1, 0]},
        reveal=True,
    )


def test_predict_returns_ints(learner, reference, rng):
    """Predictions are the integers 0 and 1, not floats or booleans"""
    X, w = rng.normal(size=(5, 3)), rng.normal(size=3)
    arr = as_numeric(learner.perceptron_predict(X, w, 0.5), what="perceptron_predict(X, w, b)")
    expect_close(arr, reference.perceptron_predict(X, w, 0.5), what="perceptron_predict(X, w, 0.5)")
    expect_that(
        arr.dtype.kind in "iu",
        f"perceptron_predict should return an array of ints, but its dtype is {arr.dtype}",
        expected="dtype int",
        got=arr,
        mistake="predict_not_ints",
    )


def test_predict_random_batches(learner, reference, rng):
    """Predictions for random batches match step(X @ w + b)"""
    for _ in range(3):
        n, d = (int(v) for v in rng.integers(2, 10, size=2))
        X, w = rng.normal(size=(n, d)), rng.normal(size=d)
        b = float(rng.uniform(0.5, 2.0) * rng.choice([-1.0, 1.0]))
        expect_equal(
            learner.perceptron_predict(X, w, b),
            reference.perceptron_predict(X, w, b),
            what=f"perceptron_predict(X ({n}, {d}), w, b={b:.3f})",
            mistakes={"bias_forgotten": reference.perceptron_predict(X, w, 0.0)},
        )


def test_predict_accepts_lists(learner, reference, rng):
    """Plain Python lists work as well as numpy arrays"""
    X, w = rng.normal(size=(4, 2)), rng.normal(size=2)
    expect_equal(
        learner.perceptron_predict(X.tolist(), w.tolist(), 0.25),
        reference.perceptron_predict(X, w, 0.25),
        what="perceptron_predict called with lists",
    )


def test_train_worked_example(learner):
    """AND with lr=1 ends at w=[2, 1], b=−3 after errors [2, 3, 3, 2, 1, 0]"""
    got = learner.perceptron_train(GATE_X, AND_Y, lr=1.0)
    _expect_same_training(
        got, ([2.0, 1.0], -3.0, [2, 3, 3, 2, 1, 0]), "training on AND, lr=1", reveal=True
    )


def test_train_no_update_when_all_correct(learner, rng):
    """When every prediction is right, nothing changes and training stops after one epoch"""
    X = rng.uniform(0.1, 2.0, size=(6, 3))
    w, b, counts = _trained(learner.perceptron_train(X, [1] * 6), "training on all-1 labels")
    if counts and counts[0] > 0:
        mistake = "step_zero_is_zero"
    else:
        mistake = "keeps_training" if len(counts) > 1 else None
    expect_that(
        counts == [0],
        "with zero weights every sample has logit 0, predicted 1: the first epoch has no "
        "mistakes and training stops",
        expected=[0],
        got=counts,
        mistake=mistake,
    )
    changed = {"updates_when_correct": lambda arr: bool(np.any(arr != 0))}
    expect_close(
        w, np.zeros(3), what="w after an epoch without mistakes", mistakes=changed, reveal=True
    )
    expect_close(b, 0.0, what="b after an epoch without mistakes", mistakes=changed, reveal=True)


def _expect_learns(learner, reference, y: list[int], gate: str) -> None:
    w, b, counts = _trained(learner.perceptron_train(GATE_X, y), f"training on {gate}")
    expect_that(
        bool(counts) and counts[-1] == 0,
        f"{gate} is linearly separable, so training should reach an epoch without mistakes "
        "and stop there",
        expected="last epoch with 0 mistakes",
        got=counts,
    )
    w = as_numeric(w, what=f"w learned on {gate}")
    expect_that(w.shape == (2,), f"w learned on {gate} should have shape (2,)", got=w)
    expect_equal(
        reference.perceptron_predict(GATE_X, w, as_numeric(b, what="b")),
        np.array(y),
        what=f"predictions of the perceptron trained on {gate}",
    )


def test_train_learns_and(learner, reference):
    """The perceptron learns AND and stops after an epoch without mistakes"""
    _expect_learns(learner, reference, AND_Y, "AND")


def test_train_learns_or(learner, reference):
    """The perceptron learns OR and stops after an epoch without mistakes"""
    _expect_learns(learner, reference, OR_Y, "OR")


def test_train_cannot_learn_xor(learner, reference):
    """XOR is not linearly separable: every one of the 50 epochs has mistakes"""
    got = learner.perceptron_train(GATE_X, XOR_Y)
    _, _, counts = _trained(got, "training on XOR")
    expect_that(
        len(counts) == 50 and min(counts) > 0,
        "no straight line separates XOR's classes, so training should run all 50 epochs "
        "with at least one mistake in each",
        expected="50 epochs, each with mistakes",
        got=counts,
    )
    _expect_same_training(
        got, reference.perceptron_train(GATE_X, XOR_Y), "training on XOR", reveal=True
    )


def test_train_matches_reference_on_separable_data(learner, reference, rng):
    """On random separable data the whole trajectory matches Rosenblatt's rule"""
    X, y = _separable_problem(rng)
    lr = float(rng.choice([0.25, 0.5, 1.0]))
    _expect_same_training(
        learner.perceptron_train(X, y, lr=lr, epochs=100),
        reference.perceptron_train(X, y, lr=lr, epochs=100),
        f"training on {len(X)} separable samples, lr={lr}",
    )


def test_train_runs_all_epochs_when_not_separable(learner, reference, rng):
    """With contradictory labels, training runs every epoch and matches the reference"""
    X = rng.integers(-3, 4, size=(8, 2)).astype(float)
    y = rng.integers(0, 2, size=8)
    X[1], y[1] = X[0], 1 - y[0]
    epochs = int(rng.integers(5, 15))
    _expect_same_training(
        learner.perceptron_train(X, y, lr=0.5, epochs=epochs),
        reference.perceptron_train(X, y, lr=0.5, epochs=epochs),
        f"training for {epochs} epochs on data with a contradiction",
    )


def test_train_returns_types(learner, reference, rng):
    """perceptron_train returns (w: float array, b: float, errors: list of ints)"""
    X = rng.integers(-2, 3, size=(5, 3)).astype(float)
    y = rng.integers(0, 2, size=5)
    got = learner.perceptron_train(X, y, epochs=3)
    _expect_same_training(got, reference.perceptron_train(X, y, epochs=3), "perceptron_train")
    w, b, errors = got
    expect_that(
        isinstance(w, np.ndarray) and w.dtype.kind == "f" and w.shape == (3,),
        "w should be a numpy array of 3 floats",
        got=w,
    )
    b_arr = as_numeric(b, what="b")
    expect_that(b_arr.shape == () and b_arr.dtype.kind == "f", "b should be one float", got=b)
    expect_that(
        isinstance(errors, list)
        and all(isinstance(e, int | np.integer) and not isinstance(e, bool) for e in errors),
        "errors should be a list of ints",
        got=errors,
    )
