"""Exercise 02 — the perceptron.

The perceptron is the oldest trainable neuron: Frank Rosenblatt built it in the 1950s,
on an IBM 704. It is exactly the pieces of the last two exercises put together:

    perceptron = logit + step:   ŷ = step(w·x + b)   (1 if w·x + b ≥ 0, else 0)

The set of points where w·x + b = 0 is its decision boundary: a line for two inputs, a
flat plane (a hyperplane) in more dimensions. Everything on one side is class 1, the
rest class 0.

Learning means finding w and b from labelled examples. Rosenblatt's rule starts from
all-zero weights and visits the samples one at a time, in order. For each one it makes a
prediction ŷ and compares it with the label y:

    w ← w + lr·(y − ŷ)·x
    b ← b + lr·(y − ŷ)

When the prediction is right, y − ŷ = 0 and nothing moves. When the neuron said 0 but
should have said 1, the weights move towards x; in the opposite case they move away from
it. The learning rate lr sets the size of each nudge. One pass over all samples is an
epoch; count the mistakes of each epoch and stop after the first epoch with none.

If some line separates the two classes, this loop is guaranteed to find one. AND and OR
are like that. XOR (1 when exactly one input is 1) is not: no single straight line puts
(0, 1) and (1, 0) on one side and (0, 0) and (1, 1) on the other, so a lone perceptron
keeps making mistakes forever. That limit is why networks need hidden layers
(exercise 03).

Sources: "Understanding Deep Learning: A Comprehensive Overview", Saniya Parveez and
Roberto Iriondo (Towards AI), for perceptron = logit + step and the decision boundary;
"An introduction to deep learning" (IBM Developer, 2020) for Rosenblatt's perceptron.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def step(z: ArrayLike) -> np.ndarray:
    """1.0 where z ≥ 0, else 0.0 (ready-made: you wrote it in exercise 01)."""
    return np.where(np.asarray(z) >= 0, 1.0, 0.0)


def perceptron_predict(X: ArrayLike, w: ArrayLike, b: float) -> np.ndarray:
    """Predictions ŷ = step(X @ w + b) for every row of X, as 0/1 ints.

    X has shape (n, d), w shape (d,); the result has shape (n,) and an int dtype.

    Example (an AND gate):
        perceptron_predict([[0, 0], [0, 1], [1, 0], [1, 1]], [1, 1], -1.5)
            ->  array([0, 0, 0, 1])
    """
    # TODO: compute the logits X @ w + b (convert X and w to float arrays first).
    # TODO: apply step and convert the result to ints with .astype(int).
    raise NotImplementedError


def perceptron_train(
    X: ArrayLike, y: ArrayLike, lr: float = 0.1, epochs: int = 50
) -> tuple[np.ndarray, float, list[int]]:
    """Train a perceptron with Rosenblatt's rule; return (w, b, errors).

    Start from w = zeros(d) and b = 0.0. For at most `epochs` epochs, visit the samples
    in the given order; for each sample x with label y:
        ŷ = step(w·x + b)
        w ← w + lr·(y − ŷ)·x
        b ← b + lr·(y − ŷ)
    errors[k] is the number of wrong predictions during epoch k (a Python int). Stop
    right after the first epoch with no mistakes. Return w as a float array, b as a
    float, errors as a list of ints.

    Example (AND, lr=1, exact arithmetic):
        perceptron_train([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 0, 0, 1], lr=1.0)
            ->  (array([2., 1.]), -3.0, [2, 3, 3, 2, 1, 0])
    First sample: w = [0, 0] and b = 0 give logit 0, so ŷ = 1 but y = 0: one mistake,
    and b becomes −1 (w stays [0, 0] because x = [0, 0]).
    """
    # TODO: start from zero weights and bias, and an empty list of errors.
    # TODO: for each epoch, loop over the samples in order; predict with step,
    #       update w and b by the rule, and count the wrong predictions.
    # TODO: append the epoch's count to errors and stop when it is 0.
    raise NotImplementedError
