"""Exercise 02 — the perceptron, reference solution.

Perceptron = logit + step: ŷ = step(w·x + b). Rosenblatt's rule nudges the weights only
when a prediction is wrong: w += lr·(y − ŷ)·x and b += lr·(y − ŷ). Sources: "Understanding
Deep Learning: A Comprehensive Overview" (Saniya Parveez and Roberto Iriondo, Towards AI)
and "An introduction to deep learning" (IBM Developer, 2020), on Rosenblatt's perceptron.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def step(z: ArrayLike) -> np.ndarray:
    """1.0 where z ≥ 0, else 0.0."""
    return np.where(np.asarray(z) >= 0, 1.0, 0.0)


def perceptron_predict(X: ArrayLike, w: ArrayLike, b: float) -> np.ndarray:
    """ŷ = step(X @ w + b) as 0/1 ints, one per row of X."""
    logits = np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b
    return step(logits).astype(int)


def perceptron_train(
    X: ArrayLike, y: ArrayLike, lr: float = 0.1, epochs: int = 50
) -> tuple[np.ndarray, float, list[int]]:
    """Rosenblatt's rule from zero weights; stops after the first epoch without mistakes.

    For each sample in order: ŷ = step(w·x + b); w += lr·(y − ŷ)·x; b += lr·(y − ŷ).
    Returns (w, b, errors) where errors[k] counts the mistakes made during epoch k.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    w = np.zeros(X.shape[1])
    b = 0.0
    errors: list[int] = []
    for _ in range(epochs):
        mistakes = 0
        for xi, target in zip(X, y, strict=True):
            error = target - step(xi @ w + b)  # 0 when right, +1 or −1 when wrong
            w += lr * error * xi
            b += lr * error
            mistakes += int(error != 0)
        errors.append(mistakes)
        if mistakes == 0:
            break
    return w, float(b), errors
