"""Exercise 00 — the weighted sum.

Every artificial neuron starts with the same small computation. Each incoming value xᵢ
travels along a connection that carries a weight wᵢ: a large weight makes that input
count a lot, a weight near zero makes it almost irrelevant, and a negative weight pushes
the neuron the other way. The neuron multiplies each input by its weight, adds up the
products and adds one more number of its own, the bias b:

    z = w₁·x₁ + w₂·x₂ + … + wₙ·xₙ + b = Σᵢ wᵢ·xᵢ + b

The bias shifts the result regardless of the inputs, which lets a neuron fire (or stay
quiet) even when all its inputs are zero. In the MNIST walkthrough below, a hidden cell
fed by two inputs equal to 1 along connections weighted 0.612 and 0.215 holds
1·0.612 + 1·0.215 = 0.827.

A dense (fully connected) layer is many neurons reading the same inputs. Put one sample
per row of X (shape (n, d_in)) and the weights of neuron j in column j of W (shape
(d_in, d_out), the Keras convention); then X @ W + b computes every weighted sum of the
layer, for the whole batch, in one matrix product.

Those weights and biases are what training adjusts, and there are many of them: two
layers of 784 neurons joined densely already need 784 × 784 = 614,656 weights, and the
784-512-10 MNIST network has 407,050 parameters once its biases are counted.

Sources: "A Beginner's Guide to Deep Learning", Alex Amari and Cedric Jouan (IBM Think
2021) for the formula and the 784 × 784 count; the developer walkthrough of a Keras MNIST
network (after François Chollet's "Deep Learning with Python") for the 0.827 cell and the
784-512-10 network.

Run `dlgrade check 00_weighted_sum` to test your work, `dlgrade hint 00_weighted_sum` if
you are stuck.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike


def weighted_sum(x: ArrayLike, w: ArrayLike, b: float = 0.0) -> float:
    """The weighted sum of one neuron: z = Σᵢ wᵢ·xᵢ + b.

    x and w are 1-D (lists or numpy arrays) of the same length; if their lengths
    differ, raise ValueError. Return a Python float.

    Example:
        weighted_sum([1, 1], [0.612, 0.215])        ->  0.827
        weighted_sum([2, 3], [0.5, -1.0], b=1.0)    ->  1.0 - 3.0 + 1.0 = -1.0
    """
    # TODO: turn x and w into numpy float arrays (np.asarray(..., dtype=float)).
    # TODO: raise ValueError if their shapes differ.
    # TODO: return the sum of the products plus b, converted with float(...).
    raise NotImplementedError


def dense_forward(X: ArrayLike, W: ArrayLike, b: ArrayLike) -> np.ndarray:
    """The weighted sums of a whole dense layer for a batch: Z = X @ W + b.

    X has shape (n, d_in): one sample per row. W has shape (d_in, d_out): column j
    holds the weights of neuron j. b has shape (d_out,): one bias per neuron, added
    to every row. The result has shape (n, d_out); Z[i, j] is the weighted sum of
    neuron j for sample i.

    Example:
        dense_forward([[1, 1]], [[0.612], [0.215]], [0.0])  ->  array([[0.827]])
        dense_forward([[1, 2], [0, 1]], [[1, 0, 2], [1, 1, 0]], [0, 0, 10])
            ->  array([[ 3.,  2., 12.],
                       [ 1.,  1., 10.]])
    """
    # TODO: convert X, W and b to float arrays, then return X @ W + b.
    raise NotImplementedError


def count_parameters(layer_sizes: Sequence[int], include_biases: bool = True) -> int:
    """How many trainable numbers a dense network has.

    layer_sizes lists the neurons per layer, input layer first. Between two
    consecutive layers of sizes a and b there are a·b weights, plus b biases (one
    per neuron of the second layer) when include_biases is true. Return an int.

    Example:
        count_parameters([784, 784], include_biases=False)  ->  614_656
        count_parameters([784, 512, 10])  ->  784·512 + 512 + 512·10 + 10 = 407_050
        count_parameters([784])           ->  0   (no connections at all)
    """
    # TODO: loop over consecutive pairs of layer sizes (a, b) and add up a·b,
    #       plus b when include_biases is true.
    raise NotImplementedError
