"""Checks for exercise 00: weighted sums, dense layers and parameter counts."""

from __future__ import annotations

import numpy as np

from grader.grading.expect import as_numeric, expect_close, expect_equal, expect_raises, expect_that


def _layer(rng: np.random.Generator, n: int, d_in: int, d_out: int):
    X = rng.normal(size=(n, d_in))
    W = rng.normal(size=(d_in, d_out))
    b = rng.uniform(0.5, 2.0, size=d_out) * rng.choice([-1.0, 1.0], size=d_out)
    return X, W, b


def _transposed(X: np.ndarray, W: np.ndarray, b: np.ndarray):
    """Predicate: W used the wrong way round (X @ W.T) or the output transposed (W.T @ X.T)."""
    candidates = [(X @ W + b).T]
    if W.shape[0] == W.shape[1]:
        candidates.append(X @ W.T + b)
    return lambda arr: any(c.shape == arr.shape and np.allclose(arr, c) for c in candidates)


def test_weighted_sum_worked_example(learner):
    """weighted_sum([1, 1], [0.612, 0.215]) is 0.827, the article's hidden cell"""
    got = learner.weighted_sum([1, 1], [0.612, 0.215])
    expect_close(got, 0.827, what="weighted_sum([1, 1], [0.612, 0.215])", reveal=True)


def test_weighted_sum_adds_bias(learner, reference, rng):
    """The bias is added to the weighted sum"""
    x = rng.normal(size=4)
    w = rng.normal(size=4)
    b = float(rng.uniform(1.0, 3.0) * rng.choice([-1.0, 1.0]))
    got = learner.weighted_sum(x, w, b)
    expect_close(
        got,
        reference.weighted_sum(x, w, b),
        what=f"weighted_sum(x, w, b={b:.4f})",
        mistakes={"bias_forgotten": reference.weighted_sum(x, w)},
    )


def test_weighted_sum_random_vectors(learner, reference, rng):
    """Random inputs and weights of many lengths match Σ wᵢxᵢ + b"""
    for length in rng.integers(1, 60, size=5):
        x = rng.normal(size=length)
        w = rng.normal(size=length)
        b = float(rng.normal())
        expect_close(
            learner.weighted_sum(x, w, b),
            reference.weighted_sum(x, w, b),
            what=f"weighted_sum of {length} inputs",
            mistakes={"bias_forgotten": reference.weighted_sum(x, w)},
        )


def test_weighted_sum_returns_float(learner, rng):
    """Integer inputs still give a floating-point result"""
    x = rng.integers(-5, 6, size=3).tolist()
    w = rng.integers(-5, 6, size=3).tolist()
    got = learner.weighted_sum(x, w, 1)
    expected = float(np.dot(x, w) + 1)
    expect_close(got, expected, what=f"weighted_sum({x}, {w}, 1)", float_dtype=True)


def test_weighted_sum_rejects_mismatched_lengths(learner, reference, rng):
    """Inputs and weights of different lengths raise ValueError (equal lengths still add up)"""
    n = int(rng.integers(2, 6))
    x = rng.normal(size=n).tolist()
    w = rng.normal(size=n + 1).tolist()
    expect_close(
        learner.weighted_sum(x, w[:n]), reference.weighted_sum(x, w[:n]), what="weighted_sum(x, w)"
    )
    expect_raises(
        lambda: learner.weighted_sum(x, w),
        "ValueError",
        what=f"weighted_sum with {n} inputs and {n + 1} weights",
    )


def test_weighted_sum_no_inputs_leaves_bias(learner, rng):
    """With no inputs at all, the weighted sum is just the bias"""
    b = float(rng.uniform(-3.0, 3.0))
    got = learner.weighted_sum([], [], b)
    expect_close(got, b, what=f"weighted_sum([], [], {b:.4f})")


def test_dense_forward_worked_example(learner):
    """One sample through one neuron: [[1, 1]] @ [[0.612], [0.215]] gives [[0.827]]"""
    got = learner.dense_forward([[1.0, 1.0]], [[0.612], [0.215]], [0.0])
    expect_close(
        got, [[0.827]], what="dense_forward([[1, 1]], [[0.612], [0.215]], [0])", reveal=True
    )


def test_dense_forward_output_shape(learner, rng):
    """A batch of n samples through d_out neurons gives shape (n, d_out)"""
    n, d_in, d_out = 5, 3, 2
    X, W, b = _layer(rng, n, d_in, d_out)
    got = learner.dense_forward(X, W, b)
    expect_close(
        got,
        X @ W + b,
        what="dense_forward(X (5, 3), W (3, 2), b (2,))",
        mistakes={"weights_transposed": _transposed(X, W, b)},
    )


def test_dense_forward_square_weights_not_transposed(learner, rng):
    """Column j of W holds the weights of neuron j (X @ W, not X @ W.T)"""
    d = int(rng.integers(3, 6))
    X, W, b = _layer(rng, d + 2, d, d)
    got = learner.dense_forward(X, W, b)
    expect_close(
        got,
        X @ W + b,
        what=f"dense_forward with a square ({d}, {d}) W",
        mistakes={"weights_transposed": _transposed(X, W, b), "bias_forgotten": X @ W},
    )


def test_dense_forward_random_layers(learner, reference, rng):
    """Random layers of several sizes match X @ W + b"""
    for _ in range(4):
        n, d_in, d_out = (int(v) for v in rng.integers(1, 12, size=3))
        X, W, b = _layer(rng, n, d_in, d_out)
        expect_close(
            learner.dense_forward(X, W, b),
            reference.dense_forward(X, W, b),
            what=f"dense_forward(X ({n}, {d_in}), W ({d_in}, {d_out}), b ({d_out},))",
            mistakes={
                "bias_forgotten": X @ W,
                "weights_transposed": _transposed(X, W, b),
            },
        )


def test_dense_forward_accepts_lists(learner, rng):
    """Plain Python lists work as well as numpy arrays"""
    X, W, b = _layer(rng, 3, 2, 4)
    got = learner.dense_forward(X.tolist(), W.tolist(), b.tolist())
    expect_close(got, X @ W + b, what="dense_forward called with lists")


def test_count_parameters_784_by_784(learner):
    """Two layers of 784 neurons are joined by 784 × 784 = 614,656 weights"""
    got = learner.count_parameters([784, 784], include_biases=False)
    expect_equal(
        got,
        614_656,
        what="count_parameters([784, 784], include_biases=False)",
        mistakes={"include_biases_ignored": 614_656 + 784},
        reveal=True,
    )


def test_count_parameters_mnist_network(learner):
    """The 784-512-10 MNIST network has 407,050 parameters"""
    got = learner.count_parameters([784, 512, 10])
    expect_equal(
        got,
        407_050,
        what="count_parameters([784, 512, 10])",
        mistakes={"biases_not_counted": 784 * 512 + 512 * 10},
        reveal=True,
    )


def test_count_parameters_random_networks(learner, reference, rng):
    """Random layer sizes, with and without biases, match the reference count"""
    for include_biases in (True, False, True):
        sizes = rng.integers(1, 300, size=int(rng.integers(2, 6))).tolist()
        expect_equal(
            learner.count_parameters(sizes, include_biases=include_biases),
            reference.count_parameters(sizes, include_biases=include_biases),
            what=f"count_parameters({sizes}, include_biases={include_biases})",
            mistakes={
                "biases_not_counted": reference.count_parameters(sizes, include_biases=False),
                "include_biases_ignored": reference.count_parameters(sizes, include_biases=True),
            },
        )


def test_count_parameters_returns_int(learner):
    """The count is a whole number (an int), not a float"""
    got = learner.count_parameters([3, 4, 2])
    arr = as_numeric(got, what="count_parameters([3, 4, 2])")
    expect_close(arr, 26, what="count_parameters([3, 4, 2])", reveal=True)
    expect_that(
        arr.shape == () and arr.dtype.kind in "iu",
        "count_parameters([3, 4, 2]) should return an int",
        expected="an int (26)",
        got=got,
    )


def test_count_parameters_single_layer(learner):
    """A network with a single layer has no connections, hence no parameters (two layers do)"""
    expect_equal(learner.count_parameters([784]), 0, what="count_parameters([784])", reveal=True)
    expect_equal(
        learner.count_parameters([784, 10]), 7850, what="count_parameters([784, 10])", reveal=True
    )
