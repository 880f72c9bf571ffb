"""Exercise 00 — the weighted sum, reference solution.

A neuron multiplies each input by the weight of its connection, adds the products and
adds a bias: z = Σᵢ wᵢ·xᵢ + b. A dense layer does this for every neuron at once, which
is one matrix product. Sources: the 0.827 hidden cell and the 784-512-10 network come
from the developer walkthrough of a Keras MNIST network (after François Chollet's
"Deep Learning with Python"); the formula and the 784 × 784 weight count from
"A Beginner's Guide to Deep Learning" (Alex Amari and Cedric Jouan, IBM Think 2021).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from numpy.typing import ArrayLike


def weighted_sum(x: ArrayLike, w: ArrayLike, b: float = 0.0) -> float:
    """z = Σᵢ wᵢ·xᵢ + b, e.g. weighted_sum([1, 1], [0.612, 0.215]) == 0.827."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    if x.ndim != 1 or x.shape != w.shape:
        raise ValueError(f"x and w must be 1-D of equal length, got {x.shape} and {w.shape}")
    return float(x @ w + b)


def dense_forward(X: ArrayLike, W: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Z = X @ W + b: row i holds the weighted sum of every neuron for sample i.

    X is (n, d_in), W is (d_in, d_out) — column j holds the weights of neuron j —
    and b is (d_out,), added to every row.
    """
    return np.asarray(X, dtype=float) @ np.asarray(W, dtype=float) + np.asarray(b, dtype=float)


def count_parameters(layer_sizes: Sequence[int], include_biases: bool = True) -> int:
    """Σ over consecutive layers (a, b) of a·b weights, plus b biases if counted.

    count_parameters([784, 512, 10]) == 784·512 + 512 + 512·10 + 10 == 407_050.
    """
    sizes = [int(size) for size in layer_sizes]
    return sum(a * b + (b if include_biases else 0) for a, b in pairwise(sizes))
