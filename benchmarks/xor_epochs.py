"""How many epochs of full-batch gradient descent separate XOR, over seeds and init styles.

Exercise 03's XOR check calls the learner's ``train(XOR_X, XOR_Y, lr=LR, epochs=EPOCHS)``.
This script justifies LR and EPOCHS: it trains the exercise's 2-4-1 sigmoid network (MSE
loss, exactly the reference's update) from the initial weights that correct learners
produce, for many seeds at once (the seeds are a batch axis), and reports for each learning
rate and style the epoch by which every run's outputs round to XOR and stay so, and the
smallest margin min |output − 0.5| at the chosen epoch count.

Styles: the recipe of the stub (``default_rng(seed).normal(0, 0.5)``, W1 then W2), the
same draws in the other order, numpy's legacy ``np.random.seed`` + ``randn·0.5``,
``standard_normal`` (std 1), uniform in [−1, 1] and in [−0.5, 0.5], Glorot normal, and the
"stuck" initialisation the check's hint is about (std 0.01).

    python benchmarks/xor_epochs.py [--seeds 1000] [--max-epochs 2000]
"""

from __future__ import annotations

import argparse

import numpy as np

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([[0.0], [1.0], [1.0], [0.0]])
SHAPES = ((2, 4), (4, 1))


def _normal(std: float, w2_first: bool = False):
    def init(seed: int):
        rng = np.random.default_rng(seed)
        if w2_first:
            w2 = rng.normal(0.0, std, size=SHAPES[1])
            return rng.normal(0.0, std, size=SHAPES[0]), w2
        return rng.normal(0.0, std, size=SHAPES[0]), rng.normal(0.0, std, size=SHAPES[1])

    return init


def _legacy(seed: int):
    np.random.seed(seed)
    return np.random.randn(*SHAPES[0]) * 0.5, np.random.randn(*SHAPES[1]) * 0.5


def _uniform(bound: float):
    def init(seed: int):
        rng = np.random.default_rng(seed)
        return rng.uniform(-bound, bound, SHAPES[0]), rng.uniform(-bound, bound, SHAPES[1])

    return init


def _glorot(seed: int):
    rng = np.random.default_rng(seed)
    return tuple(rng.normal(0.0, np.sqrt(2.0 / sum(s)), size=s) for s in SHAPES)


STYLES = {
    "stub recipe (normal 0.5)": _normal(0.5),
    "normal 0.5, W2 first": _normal(0.5, w2_first=True),
    "legacy randn * 0.5": _legacy,
    "standard normal (std 1)": _normal(1.0),
    "uniform [-1, 1]": _uniform(1.0),
    "uniform [-0.5, 0.5]": _uniform(0.5),
    "glorot normal": _glorot,
    "tiny (std 0.01, stuck)": _normal(0.01),
}


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def outputs_per_epoch(style, seeds: int, lr: float, epochs: int) -> np.ndarray:
    """Outputs (epochs + 1, seeds, 4) of the network before each update and after the last."""
    drawn = [style(s) for s in range(seeds)]
    W1 = np.stack([d[0] for d in drawn])
    W2 = np.stack([d[1] for d in drawn])
    b1, b2 = np.zeros((seeds, 1, 4)), np.zeros((seeds, 1, 1))
    history = np.empty((epochs + 1, seeds, 4))
    for epoch in range(epochs + 1):
        A1 = sigmoid(X @ W1 + b1)
        Y_hat = sigmoid(A1 @ W2 + b2)
        history[epoch] = Y_hat[..., 0]
        dZ2 = 2.0 * (Y_hat - Y) / Y.size * Y_hat * (1.0 - Y_hat)
        dZ1 = dZ2 @ W2.transpose(0, 2, 1) * A1 * (1.0 - A1)
        W2 = W2 - lr * A1.transpose(0, 2, 1) @ dZ2
        b2 = b2 - lr * dZ2.sum(axis=1, keepdims=True)
        W1 = W1 - lr * X.T @ dZ1
        b1 = b1 - lr * dZ1.sum(axis=1, keepdims=True)
    return history


def settled_epoch(history: np.ndarray) -> np.ndarray:
    """Per seed, the first epoch count after which the outputs round to XOR for good."""
    right = np.all(np.round(history) == Y[:, 0], axis=-1)  # (epochs + 1, seeds)
    wrong_after = np.flip(np.cumsum(np.flip(~right, axis=0), axis=0), axis=0) > 0
    settled = np.argmin(wrong_after, axis=0)
    return np.where(wrong_after[-1], np.iinfo(int).max, settled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--max-epochs", type=int, default=2000)
    parser.add_argument("--lrs", default="2,5,10,15,20")
    parser.add_argument("--epochs", type=int, default=300, help="the epoch count to judge")
    args = parser.parse_args()
    lrs = [float(v) for v in args.lrs.split(",")]
    print(f"{args.seeds} seeds per style; epochs until every seed rounds to XOR for good")
    print(f"(99th percentile, worst; 'never' = some seed not settled by {args.max_epochs});")
    print(f"and at {args.epochs} epochs: seeds failing, smallest margin |output - 0.5|")
    for name, style in STYLES.items():
        print(name)
        for lr in lrs:
            history = outputs_per_epoch(style, args.seeds, lr, args.max_epochs)
            settled = settled_epoch(history)
            done = settled[settled < np.iinfo(int).max]
            worst = "never" if len(done) < len(settled) else f"{settled.max()}"
            p99 = f"{np.percentile(done, 99):.0f}" if len(done) else "-"
            at = history[min(args.epochs, args.max_epochs)]
            failing = int(np.sum(~np.all(np.round(at) == Y[:, 0], axis=-1)))
            margin = float(np.min(np.abs(at - 0.5)))
            print(
                f"  lr {lr:>4g}: p99 {p99:>5}, worst {worst:>5}; at {args.epochs}: "
                f"{failing:>4} failing, margin {margin:.3f}"
            )


if __name__ == "__main__":
    main()
