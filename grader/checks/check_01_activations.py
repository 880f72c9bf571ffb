"""Checks for exercise 01: step, sigmoid, its derivative, ReLU, softmax and a neuron."""

from __future__ import annotations

import numpy as np

from grader.grading.expect import as_numeric, expect_close, expect_that

LARGE_Z = np.array([-1e4, -3000.0, -1000.0, -710.0, 710.0, 1000.0, 3000.0, 1e4])


def _not_finite(arr: np.ndarray) -> bool:
    return not np.all(np.isfinite(arr))


def _overflowed(expected: np.ndarray):
    """Predicate: NaN or infinity, or an exact 0 where σ(z) is tiny but positive."""
    return lambda arr: (
        _not_finite(arr)
        or bool(arr.shape == expected.shape and np.any((arr == 0) & (expected > 0)))
    )


def _softmax_wrong_axis(z: np.ndarray):
    """Predicate: softmax taken down the columns, or over the whole array at once."""
    e_columns, e_whole = np.exp(z - z.max(axis=0)), np.exp(z - z.max())
    columns, whole = e_columns / e_columns.sum(axis=0), e_whole / e_whole.sum()
    return lambda arr: any(
        arr.shape == wrong.shape and np.allclose(arr, wrong) for wrong in (columns, whole)
    )


def test_step_fires_at_zero(learner):
    """step(0) is 1: the neuron fires at a zero logit (and a negative one does not)"""
    expect_close(
        learner.step(0.0),
        1.0,
        what="step(0.0)",
        mistakes={"step_zero_is_zero": 0.0},
        reveal=True,
    )
    expect_close(learner.step(-0.5), 0.0, what="step(-0.5)", reveal=True)


def test_step_elementwise_on_arrays(learner, reference, rng):
    """step works elementwise on a 2-D array and keeps its shape"""
    z = rng.normal(size=(4, 5))
    z[rng.random(size=z.shape) < 0.3] = 0.0
    zero_wrong = np.where(z > 0, 1.0, 0.0)
    expect_close(
        learner.step(z),
        reference.step(z),
        what="step(z) for z of shape (4, 5) with some zeros",
        mistakes={"step_zero_is_zero": zero_wrong},
    )


def test_sigmoid_at_zero_is_half(learner):
    """σ(0) is 0.5, halfway between 0 and 1"""
    expect_close(learner.sigmoid(0.0), 0.5, what="sigmoid(0.0)", reveal=True)


def test_sigmoid_random_arrays(learner, reference, rng):
    """σ(z) matches 1 / (1 + e^(−z)) elementwise and keeps the array's shape"""
    z = rng.normal(scale=4.0, size=(3, 7))
    expect_close(learner.sigmoid(z), reference.sigmoid(z), what="sigmoid(z), z of shape (3, 7)")


def test_sigmoid_large_inputs_stay_finite(learner, reference, rng):
    """σ(z) stays finite for |z| up to 10,000 (no NaN, no infinity)"""
    z = np.concatenate([LARGE_Z, rng.uniform(710.0, 1e4, size=4) * rng.choice([-1, 1], size=4)])
    expect_close(
        learner.sigmoid(z),
        reference.sigmoid(z),
        what="sigmoid(z) for |z| between 710 and 10,000",
        mistakes={"sigmoid_overflow": _not_finite},
    )


def test_sigmoid_no_overflow_warning(learner, reference):
    """σ(z) computes large |z| without an overflow warning"""
    expected = reference.sigmoid(LARGE_Z)
    expect_close(
        learner.sigmoid(LARGE_Z),
        expected,
        what="sigmoid(z) for |z| up to 10,000",
        mistakes={"sigmoid_overflow": _overflowed(expected)},
        reveal=True,
    )
    overflow = [w for w in learner.last_warnings if "overflow" in w.lower()]
    expect_that(
        not overflow,
        "sigmoid(z) for |z| up to 10,000 made numpy warn: " + "; ".join(overflow[:2]),
        expected="no overflow warning",
        got=overflow[:2],
        mistake="sigmoid_overflow",
    )


def test_sigmoid_far_negative_tail_not_zero(learner, reference, rng):
    """σ(z) is tiny but never exactly 0 for z between −740 and −711"""
    z = -rng.uniform(711.0, 740.0, size=5)
    expected = reference.sigmoid(z)
    arr = as_numeric(learner.sigmoid(z), what="sigmoid(z) for z near −720")
    expect_that(
        arr.shape != expected.shape or not bool(np.any(arr <= 0)),
        "sigmoid(z) returned 0 or less for z near −720, where σ(z) ≈ e^z is still positive",
        expected="positive numbers near e^z (about 1e-313)",
        got=arr,
        mistake="sigmoid_overflow",
    )
    # Relative only: these values are subnormal, so a fixed atol would accept any of them.
    expect_close(
        arr,
        expected,
        what="sigmoid(z) for z near −720",
        atol=0.0,
        mistakes={"sigmoid_overflow": _overflowed(expected)},
    )


def test_sigmoid_derivative_values(learner, reference, rng):
    """σ'(z) = σ(z)(1 − σ(z)): 0.25 at z = 0, smaller everywhere else"""
    expect_close(
        learner.sigmoid_derivative(0.0),
        0.25,
        what="sigmoid_derivative(0.0)",
        mistakes={"derivative_of_z": 0.0},
        reveal=True,
    )
    z = np.concatenate([rng.normal(scale=3.0, size=8), [-1e4, 1e4]])
    expect_close(
        learner.sigmoid_derivative(z),
        reference.sigmoid_derivative(z),
        what="sigmoid_derivative(z)",
        mistakes={"sigmoid_overflow": _not_finite, "derivative_of_z": z * (1.0 - z)},
    )


def test_relu_values(learner, reference, rng):
    """ReLU(z) = max(0, z): negatives become 0, positives pass unchanged"""
    negative = {"relu_negative": lambda arr: bool(np.any(arr < 0))}
    expect_close(learner.relu(-3.0), 0.0, what="relu(-3.0)", mistakes=negative, reveal=True)
    z = rng.normal(scale=2.0, size=(5, 4))
    expect_close(
        learner.relu(z), reference.relu(z), what="relu(z), z of shape (5, 4)", mistakes=negative
    )


def test_softmax_large_logits(learner):
    """softmax([1000, 1001]) is [0.269, 0.731], not NaN"""
    expect_close(
        learner.softmax(np.array([1000.0, 1001.0])),
        [0.2689414213699951, 0.7310585786300049],
        what="softmax([1000, 1001])",
        mistakes={"softmax_no_max_shift": _not_finite},
        reveal=True,
    )


def test_softmax_rows_sum_to_one(learner, reference, rng):
    """For a batch, softmax works row by row and each row sums to 1"""
    n, k = int(rng.integers(3, 7)), int(rng.integers(7, 11))
    z = rng.normal(scale=2.0, size=(n, k))
    expect_close(
        learner.softmax(z),
        reference.softmax(z),
        what=f"softmax(z), z of shape ({n}, {k})",
        mistakes={"softmax_wrong_axis": _softmax_wrong_axis(z)},
    )


def test_softmax_batch_of_large_logits(learner, reference, rng):
    """Rows of logits in the thousands give finite probabilities"""
    z = rng.normal(size=(4, 6)) + rng.uniform(800.0, 5000.0, size=(4, 1))
    expect_close(
        learner.softmax(z),
        reference.softmax(z),
        what="softmax(z) with logits between 800 and 5000",
        mistakes={
            "softmax_no_max_shift": _not_finite,
            "softmax_wrong_axis": _softmax_wrong_axis(z),
        },
    )


def test_softmax_single_vector(learner, reference, rng):
    """A 1-D vector of logits gives a 1-D vector of probabilities"""
    z = rng.normal(scale=3.0, size=10)
    expect_close(learner.softmax(z), reference.softmax(z), what="softmax(z), z of shape (10,)")


def test_neuron_worked_example(learner):
    """neuron([2, 3], [0, 1], 4) is σ(7) ≈ 0.9990889"""
    expect_close(
        learner.neuron([2, 3], [0, 1], 4),
        0.9990889488055994,
        what="neuron([2, 3], [0, 1], 4)",
        mistakes={"bias_forgotten": 0.9525741268224334, "activation_ignored": 7.0},
        reveal=True,
    )


def test_neuron_random_with_bias(learner, reference, rng):
    """neuron(x, w, b) = σ(Σ wᵢxᵢ + b) for random inputs"""
    x, w = rng.normal(size=6), rng.normal(size=6)
    b = float(rng.uniform(1.0, 2.0) * rng.choice([-1.0, 1.0]))
    z = float(x @ w)
    expect_close(
        learner.neuron(x, w, b),
        reference.neuron(x, w, b),
        what="neuron(x, w, b)",
        mistakes={
            "bias_forgotten": reference.sigmoid(z),
            "activation_ignored": z + b,
        },
    )


def test_neuron_uses_given_activation(learner, reference, rng):
    """neuron(..., activation=f) applies f instead of the sigmoid"""
    x = rng.uniform(0.5, 2.0, size=3)
    w = rng.uniform(0.5, 2.0, size=3)
    z = float(x @ w + 1.0)
    expect_close(
        learner.neuron(x, w, 1.0, activation=learner.function("relu")),
        z,
        what="neuron(x, w, 1.0, activation=relu)",
        mistakes={"activation_ignored": reference.sigmoid(z)},
    )
    expect_close(
        learner.neuron(x, -w, -1.0, activation=learner.function("step")),
        0.0,
        what="neuron(x, -w, -1.0, activation=step)",
        mistakes={"activation_ignored": reference.sigmoid(-z)},
    )


def test_scalars_stay_scalars(learner):
    """A single number in gives a single number out, not an array of shape (1,)"""
    for name, expected in [
        ("step", 1.0),
        ("sigmoid", 0.6224593312018546),
        ("sigmoid_derivative", 0.2350037122015945),
        ("relu", 0.5),
    ]:
        got = getattr(learner, name)(0.5)
        expect_close(got, expected, what=f"{name}(0.5)", reveal=True)
