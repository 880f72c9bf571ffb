"""Exercise 01 — activation functions.

A weighted sum can be any number, from very negative to very large. An activation
function decides what the neuron passes on, given that number (often called the logit z).
Without one, stacking layers would gain nothing: a chain of weighted sums is still just
one weighted sum, a straight-line transformation. The activation brings the bend that
lets a network model curved boundaries.

Four classic choices:

- step: the all-or-nothing neuron of the perceptron. It outputs 1 as soon as z ≥ 0 and
  0 below that — note that z = 0 itself counts as firing.
- sigmoid: σ(z) = 1 / (1 + e^(−z)) squeezes any z smoothly into (0, 1), handy when the
  output should read like a probability. Its slope is σ'(z) = σ(z)·(1 − σ(z)), which
  backpropagation will need in exercise 03.
- ReLU: max(0, z). Negative logits become 0 and positive ones pass unchanged; cheap to
  compute, yet it is not a straight line, and that kink is enough.
- softmax: turns a vector of scores into probabilities that add up to 1, which is what
  the 10-cell output layer of an MNIST digit classifier produces.

A practical warning: e^z overflows a float64 once z passes about 709.78. The formulas
above are exact in mathematics, but a careless implementation returns NaN or warns for
inputs like z = −1000 or logits like [1000, 1001]. Both problems have a classic fix that
changes nothing mathematically; the docstrings below say which.

Sources: "Understanding Deep Learning: A Comprehensive Overview", Saniya Parveez and
Roberto Iriondo (Towards AI), for the step function and the worked neuron; the developer
walkthrough of a Keras MNIST network (after François Chollet's "Deep Learning with
Python") for ReLU as max(0, z) and the softmax output layer; "An introduction to deep
learning" (IBM Developer, 2020) for the sigmoid's (0, 1) range.

Every function works elementwise: a number in gives a number (or a 0-d array) out, an
array in gives an array of the same shape out. Lists must work too.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike


def step(z: ArrayLike) -> np.ndarray:
    """The step function: 1.0 where z ≥ 0, else 0.0.

    Example:
        step(0.0)               ->  1.0   (a zero logit fires)
        step([-2.0, 0.0, 3.5])  ->  array([0., 1., 1.])
    """
    # TODO: compare np.asarray(z) with 0 and turn the result into 1.0 / 0.0
    #       (np.where does both at once).
    raise NotImplementedError


def sigmoid(z: ArrayLike) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)), without overflow for |z| up to 10,000 or more.

    1 / (1 + np.exp(-z)) overflows (and numpy warns) for z below about −709.
    Use e = np.exp(-np.abs(z)), which never overflows, and the two equal forms
        σ(z) = 1 / (1 + e)   where z ≥ 0
        σ(z) = e / (1 + e)   where z < 0

    Example:
        sigmoid(0.0)             ->  0.5
        sigmoid([-1000.0, 2.0])  ->  array([0.        , 0.88079708])
    """
    # TODO: z as a float array; e = exp(-|z|); pick 1/(1+e) or e/(1+e) by the sign of z.
    raise NotImplementedError


def sigmoid_derivative(z: ArrayLike) -> np.ndarray:
    """σ'(z) = σ(z)·(1 − σ(z)), the slope of the sigmoid at z.

    Example:
        sigmoid_derivative(0.0)  ->  0.25   (its largest value)
        sigmoid_derivative(2.0)  ->  0.8808 · 0.1192 ≈ 0.104994
    """
    # TODO: compute s = sigmoid(z) once and return s * (1 - s).
    raise NotImplementedError


def relu(z: ArrayLike) -> np.ndarray:
    """ReLU(z) = max(0, z), elementwise.

    Example:
        relu(-3.0)              ->  0.0
        relu([-1.5, 0.0, 2.0])  ->  array([0., 0., 2.])
    """
    # TODO: np.maximum compares elementwise (unlike Python's max).
    raise NotImplementedError


def softmax(z: ArrayLike) -> np.ndarray:
    """softmax(z)ᵢ = e^(zᵢ) / Σⱼ e^(zⱼ), over the last axis.

    For a 2-D z of shape (n, k), each row is one sample's k scores, so each row of
    the result sums to 1. Subtract each row's maximum before exponentiating
    (softmax(z) == softmax(z − c) for any constant c): the largest exponent becomes
    e^0 = 1 and nothing overflows. Use axis=-1 and keepdims=True.

    Example:
        softmax([1.0, 2.0, 3.0])  ->  array([0.09003057, 0.24472847, 0.66524096])
        softmax([1000, 1001])     ->  array([0.26894142, 0.73105858])
    """
    # TODO: subtract z.max(axis=-1, keepdims=True), exponentiate,
    #       divide by the sum over the last axis (keepdims=True again).
    raise NotImplementedError


def neuron(
    x: ArrayLike,
    w: ArrayLike,
    b: float,
    activation: Callable[[ArrayLike], ArrayLike] = sigmoid,
) -> np.ndarray:
    """One artificial neuron: activation(Σᵢ wᵢ·xᵢ + b).

    Example (weights [0, 1], bias 4, inputs [2, 3]):
        z = 0·2 + 1·3 + 4 = 7
        neuron([2, 3], [0, 1], 4)                   ->  σ(7) ≈ 0.9990889
        neuron([2, 3], [0, 1], 4, activation=relu)  ->  7.0
    """
    # TODO: compute the weighted sum z (as in exercise 00), then return activation(z).
    raise NotImplementedError
