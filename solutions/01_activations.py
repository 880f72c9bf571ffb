"""Exercise 01 — activation functions, reference solution.

An activation function turns a neuron's weighted sum (its logit) into its output. Every
function here works elementwise on a scalar or an array; softmax works on the last axis.
Sources: step and the worked neuron (x=[2, 3], w=[0, 1], b=4) from "Understanding Deep
Learning: A Comprehensive Overview" (Saniya Parveez and Roberto Iriondo, Towards AI);
ReLU as max(0, z) and the softmax output layer from the developer walkthrough of a Keras
MNIST network (after François Chollet's "Deep Learning with Python").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike


def step(z: ArrayLike) -> np.ndarray:
    """1.0 where z ≥ 0, else 0.0 (a neuron fires at a zero logit)."""
    return np.where(np.asarray(z) >= 0, 1.0, 0.0)


def sigmoid(z: ArrayLike) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)), computed from e^(−|z|) so the exponent never overflows.

    For z ≥ 0: 1 / (1 + e^(−z)); for z < 0 the same value written as e^z / (1 + e^z).
    """
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_derivative(z: ArrayLike) -> np.ndarray:
    """σ'(z) = σ(z)·(1 − σ(z)); its largest value is 0.25, at z = 0."""
    s = sigmoid(z)
    return s * (1.0 - s)


def relu(z: ArrayLike) -> np.ndarray:
    """ReLU(z) = max(0, z)."""
    return np.maximum(0.0, np.asarray(z, dtype=float))


def softmax(z: ArrayLike) -> np.ndarray:
    """softmax(z)ᵢ = e^(zᵢ − m) / Σⱼ e^(zⱼ − m) over the last axis, with m = max(z).

    Subtracting the row maximum changes nothing mathematically and keeps e^(…) ≤ 1.
    """
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def neuron(
    x: ArrayLike,
    w: ArrayLike,
    b: float,
    activation: Callable[[ArrayLike], ArrayLike] = sigmoid,
) -> np.ndarray:
    """activation(Σᵢ wᵢ·xᵢ + b), e.g. neuron([2, 3], [0, 1], 4) == σ(7) ≈ 0.9990889."""
    z = np.asarray(x, dtype=float) @ np.asarray(w, dtype=float) + b
    return activation(z)
