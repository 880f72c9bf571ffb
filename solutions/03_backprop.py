"""Exercise 03 — backpropagation, reference solution.

A network with one hidden layer: A1 = σ(X @ W1 + b1), Ŷ = σ(A1 @ W2 + b2), loss
L = mean((Ŷ − Y)²). The chain rule, applied from the loss back to the inputs, gives the
gradient of L for every weight; gradient descent then steps against it. Sources: "An
Introduction to Deep Learning" (Mark West), "An introduction to deep learning" (IBM
Developer, 2020), and the developer walkthrough of a Keras MNIST network (after François
Chollet's "Deep Learning with Python"), which measures loss with squared differences.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

Params = dict[str, np.ndarray]


def sigmoid(z: ArrayLike) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)), computed as ½(1 + tanh(z/2)): the same function, stable for
    any z (tanh saturates at ±1 instead of overflowing) and cheaper than the np.where form."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def init_params(n_in: int, n_hidden: int, n_out: int, seed: int = 0) -> Params:
    """Weights from a normal distribution with standard deviation 0.5, biases zero."""
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(0.0, 0.5, size=(n_in, n_hidden)),
        "b1": np.zeros(n_hidden),
        "W2": rng.normal(0.0, 0.5, size=(n_hidden, n_out)),
        "b2": np.zeros(n_out),
    }


def forward(X: ArrayLike, params: Params) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A1 = σ(X @ W1 + b1), Ŷ = σ(A1 @ W2 + b2); the cache keeps A1 and Ŷ for backward."""
    X = np.asarray(X, dtype=float)
    A1 = sigmoid(X @ params["W1"] + params["b1"])
    Y_hat = sigmoid(A1 @ params["W2"] + params["b2"])
    return Y_hat, {"A1": A1, "Y_hat": Y_hat}


def mse_loss(Y_hat: ArrayLike, Y: ArrayLike) -> float:
    """L = mean((Ŷ − Y)²) over every entry."""
    diff = np.asarray(Y_hat, dtype=float) - np.asarray(Y, dtype=float)
    return float(np.mean(diff**2))


def backward(X: ArrayLike, Y: ArrayLike, params: Params, cache: dict[str, np.ndarray]) -> Params:
    """Exact gradients of mse_loss by the chain rule, from the output back to W1.

    dZ2 = 2(Ŷ − Y)/N · Ŷ(1 − Ŷ)   (N = number of entries of Y; σ' = σ(1 − σ))
    dW2 = A1ᵀ dZ2,  db2 = Σ_rows dZ2
    dZ1 = (dZ2 W2ᵀ) · A1(1 − A1)
    dW1 = Xᵀ dZ1,   db1 = Σ_rows dZ1
    """
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    A1, Y_hat = cache["A1"], cache["Y_hat"]
    dZ2 = 2.0 * (Y_hat - Y) / Y.size * Y_hat * (1.0 - Y_hat)
    dZ1 = (dZ2 @ params["W2"].T) * A1 * (1.0 - A1)
    return {
        "dW1": X.T @ dZ1,
        "db1": dZ1.sum(axis=0),
        "dW2": A1.T @ dZ2,
        "db2": dZ2.sum(axis=0),
    }


def gradient_descent_step(params: Params, grads: Params, lr: float) -> Params:
    """θ ← θ − lr·∂L/∂θ for every parameter, returned as a new dict (inputs untouched)."""
    return {
        name: np.asarray(value) - lr * np.asarray(grads["d" + name])
        for name, value in params.items()
    }


def train(
    X: ArrayLike,
    Y: ArrayLike,
    n_hidden: int = 4,
    lr: float = 2.0,
    epochs: int = 5000,
    seed: int = 0,
) -> tuple[Params, list[float]]:
    """Full-batch gradient descent; losses[k] is the loss before the k-th update."""
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    params = init_params(X.shape[1], n_hidden, Y.shape[1], seed)
    losses: list[float] = []
    for _ in range(epochs):
        Y_hat, cache = forward(X, params)
        losses.append(mse_loss(Y_hat, Y))
        params = gradient_descent_step(params, backward(X, Y, params, cache), lr)
    return params, losses
