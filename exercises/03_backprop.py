"""Exercise 03 — backpropagation.

A single perceptron cannot learn XOR. Add one hidden layer between input and output and
it can — but the step function no longer works for training, because its slope is zero
almost everywhere and tells us nothing about which way to move a weight. So both layers
here use the sigmoid, whose slope σ'(z) = σ(z)(1 − σ(z)) is never zero.

Training repeats three steps (Mark West's introduction lists the same three):

1. Forward pass: compute the prediction from the inputs, layer by layer.
       A1 = σ(X @ W1 + b1)        hidden activations, shape (n, n_hidden)
       Ŷ  = σ(A1 @ W2 + b2)       outputs, shape (n, n_out)
2. Loss: measure how wrong Ŷ is. We use the mean squared error over every entry:
       L = mean((Ŷ − Y)²)
3. Backward pass and update: find, for every weight, how fast L changes when that weight
   changes (the gradient), then step every weight a little against its gradient:
       θ ← θ − lr·∂L/∂θ        (gradient descent; lr is the learning rate)

Backpropagation is the bookkeeping that gets every gradient in one sweep from the output
back to the input, using the chain rule: a change in W1 changes A1, which changes Ŷ,
which changes L, so ∂L/∂W1 is a product of those local rates of change. The quantities
of the backward pass reuse what the forward pass computed, which is why forward returns
a cache.

How do you know your gradients are right? Nudge one weight by a tiny ε up and down and
watch the loss: (L(θ + ε) − L(θ − ε)) / 2ε must agree with your gradient. The grader
does exactly that, for every weight.

Sources: "An Introduction to Deep Learning", Mark West (forward propagation, loss,
back-propagation, gradient descent and the learning rate); "An introduction to deep
learning" (IBM Developer, 2020) (backpropagation layer by layer, gradients reused from
the layer after); the developer walkthrough of a Keras MNIST network (after François
Chollet's "Deep Learning with Python") (squared differences as the loss, random initial
weights).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

Params = dict[str, np.ndarray]


def sigmoid(z: ArrayLike) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)), ready-made (you wrote it in exercise 01).

    Written here as ½(1 + tanh(z/2)), the same function: tanh saturates at ±1 instead of
    overflowing, and one numpy call keeps the 5000 training epochs quick.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def init_params(n_in: int, n_hidden: int, n_out: int, seed: int = 0) -> Params:
    """Small random weights and zero biases, reproducible from `seed`.

    Returns {"W1": (n_in, n_hidden), "b1": (n_hidden,), "W2": (n_hidden, n_out),
    "b2": (n_out,)}. Weights must differ from each other: if they all started equal,
    every hidden unit would compute the same thing and receive the same update forever.
    Recommended recipe: rng = np.random.default_rng(seed), then W1 and then W2 from
    rng.normal(0.0, 0.5, size=...). Biases are np.zeros(...).

    Example:
        p = init_params(2, 4, 1)
        p["W1"].shape, p["b1"].shape, p["W2"].shape, p["b2"].shape
            ->  ((2, 4), (4,), (4, 1), (1,))
    """
    # TODO: create the generator from the seed, draw W1 and W2, make b1 and b2 zeros.
    raise NotImplementedError


def forward(X: ArrayLike, params: Params) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The forward pass: returns (Ŷ, cache).

        A1 = σ(X @ W1 + b1)
        Ŷ  = σ(A1 @ W2 + b2)

    The cache holds whatever backward will need (A1 and Ŷ are enough); a dict such
    as {"A1": A1, "Y_hat": Y_hat} works well.

    Example (all weights and biases zero):
        forward([[1.0, 2.0]], zero params with n_hidden=3, n_out=1)[0]  ->  array([[0.5]])
    """
    # TODO: compute A1 and Y_hat as above; return Y_hat and the cache.
    raise NotImplementedError


def mse_loss(Y_hat: ArrayLike, Y: ArrayLike) -> float:
    """Mean squared error over every entry: L = mean((Ŷ − Y)²), as a Python float.

    Example:
        mse_loss([[0.5], [1.0]], [[0.0], [1.0]])  ->  (0.25 + 0.0) / 2 = 0.125
    """
    # TODO: square the differences, take the mean of all entries, return float(...).
    raise NotImplementedError


def backward(X: ArrayLike, Y: ArrayLike, params: Params, cache: dict[str, np.ndarray]) -> Params:
    """The exact gradients of mse_loss: {"dW1", "db1", "dW2", "db2"}, shaped like the params.

    Work from the loss back, with N = Y.size (samples × outputs) and * elementwise:
        dŶ  = 2·(Ŷ − Y) / N                ∂L/∂Ŷ: the 2 comes from the square
        dZ2 = dŶ * Ŷ·(1 − Ŷ)               through the output sigmoid, σ' = σ(1 − σ)
        dW2 = A1ᵀ @ dZ2     db2 = dZ2 summed over the rows (samples)
        dA1 = dZ2 @ W2ᵀ                    back through the output weights
        dZ1 = dA1 * A1·(1 − A1)            through the hidden sigmoid
        dW1 = Xᵀ @ dZ1      db1 = dZ1 summed over the rows

    Example: at the all-zero params of forward's example, with Y = [[1.0]],
    dZ2 = 2·(0.5 − 1)/1 · 0.25 = −0.25, so db2 = [−0.25] and every entry of dW2 is
    0.5 · (−0.25) = −0.125 (A1 is 0.5 everywhere); dW1 and db1 are 0 because W2 is 0.
    """
    # TODO: take A1 and Y_hat from the cache, then follow the six lines above.
    raise NotImplementedError


def gradient_descent_step(params: Params, grads: Params, lr: float) -> Params:
    """One step of gradient descent: θ_new = θ − lr·dθ for θ in W1, b1, W2, b2.

    Return a NEW dict; leave `params` and `grads` unchanged (no -= on the inputs).

    Example:
        gradient_descent_step({"W1": w, ...}, {"dW1": g, ...}, 0.1)["W1"]  ->  w - 0.1 * g
    """
    # TODO: build and return a new dict {name: params[name] - lr * grads["d" + name]}.
    raise NotImplementedError


def train(
    X: ArrayLike,
    Y: ArrayLike,
    n_hidden: int = 4,
    lr: float = 2.0,
    epochs: int = 5000,
    seed: int = 0,
) -> tuple[Params, list[float]]:
    """Full-batch gradient descent from init_params(n_in, n_hidden, n_out, seed).

    Each epoch: forward on all of X, record the loss, backward, one gradient step.
    losses[k] is the loss BEFORE the k-th update, so len(losses) == epochs.
    Returns (final params, losses as a list of floats).

    Example (XOR):
        X = [[0, 0], [0, 1], [1, 0], [1, 1]], Y = [[0], [1], [1], [0]]
        params, losses = train(X, Y)
        forward(X, params)[0].round()  ->  [[0.], [1.], [1.], [0.]]
        losses[0] ≈ 0.28 at the start, below 0.001 at the end
    """
    # TODO: convert X and Y to float arrays; params = init_params(...) with the
    #       sizes taken from X.shape[1], n_hidden and Y.shape[1].
    # TODO: repeat `epochs` times: forward, append the loss, backward, step.
    raise NotImplementedError
