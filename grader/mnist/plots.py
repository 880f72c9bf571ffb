"""Pictures for exercise 04: learning curves and misclassified digits, in the terminal and as PNG.

Terminal renderings are plain strings (plotext 6 and Unicode block characters), so they work
without a TTY. PNGs are drawn with matplotlib's Agg canvas, never through pyplot's global state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import plotext

History = Mapping[str, Sequence[float | None]]

# Quadrant characters indexed by the bits (top-left, top-right, bottom-left, bottom-right).
QUADRANTS = " ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"
INK_THRESHOLD = 128


def _panels(history: History) -> list[tuple[str, dict[str, list[tuple[int, float]]]]]:
    """Split a Keras history into a loss panel and an accuracy panel of finite points."""
    panels: dict[str, dict[str, list[tuple[int, float]]]] = {"loss": {}, "accuracy": {}}
    for name, values in history.items():
        panel = "loss" if name.endswith("loss") else "accuracy"
        points = [
            (epoch, float(v))
            for epoch, v in enumerate(values, start=1)
            if v is not None and math.isfinite(v)
        ]
        if points:
            panels[panel][name] = points
    return [(title, series) for title, series in panels.items() if series]


def learning_curve_text(
    history: History, width: int = 80, height: int = 16, color: bool = False
) -> str:
    """Loss and accuracy per epoch, side by side, as a string ready to print (plotext 6)."""
    panels = _panels(history)
    if not panels:
        return "(no finished epochs to plot)"
    figure = plotext.figure
    figure.clear()
    try:
        figure.plot_size(width, height)
        if len(panels) > 1:
            figure.subplots(1, len(panels))
        for column, (title, series) in enumerate(panels, start=1):
            plot = figure.subplot(1, column) if len(panels) > 1 else figure
            plot.title(title)
            plot.label("epoch")
            for name, points in series.items():
                signal = plot.signal(*zip(*points, strict=True)).lines()
                plot.draw(signal.label(name) if len(series) > 1 else signal)
            epochs = sorted({epoch for points in series.values() for epoch, _ in points})
            plot.ruler("x").ticks(epochs, [str(epoch) for epoch in epochs])
        return figure.build().string(colorless=not color)
    finally:
        figure.clear()


def save_learning_curve(history: History, path: str | Path) -> Path:
    """Draw the learning curves into a PNG file and return its path."""
    from matplotlib.figure import Figure

    panels = _panels(history)
    figure = Figure(figsize=(4.5 * max(len(panels), 1), 3.5), layout="constrained")
    for column, (title, series) in enumerate(panels, start=1):
        axes = figure.add_subplot(1, len(panels), column)
        for name, points in series.items():
            epochs, values = zip(*points, strict=True)
            axes.plot(epochs, values, marker="o", label=name)
        axes.set_title(title)
        axes.set_xlabel("epoch")
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(alpha=0.3)
        axes.legend()
    target = Path(path)
    figure.savefig(target, dpi=100)
    return target


def _digit_lines(image: np.ndarray) -> list[str]:
    """One 28x28 image as 14 lines of 14 quadrant characters (2x2 pixels per character)."""
    ink = (np.asarray(image).reshape(28, 28) >= INK_THRESHOLD).astype(int)
    codes = ink[0::2, 0::2] + 2 * ink[0::2, 1::2] + 4 * ink[1::2, 0::2] + 8 * ink[1::2, 1::2]
    return ["".join(QUADRANTS[c] for c in row) for row in codes]


def digits_text(
    images: Sequence[np.ndarray], predicted: Sequence[int], true: Sequence[int], width: int = 80
) -> str:
    """Misclassified digits side by side, each captioned with its prediction and true label."""
    cell = 16  # 14 characters of picture plus a gap
    per_row = max(1, width // cell)
    blocks = []
    for start in range(0, len(images), per_row):
        group = range(start, min(start + per_row, len(images)))
        pictures = [_digit_lines(images[i]) for i in group]
        lines = ["".join(p[row].ljust(cell) for p in pictures).rstrip() for row in range(14)]
        captions = "".join(f"pred {predicted[i]} true {true[i]}".ljust(cell) for i in group)
        blocks.append("\n".join([*lines, captions.rstrip()]))
    return "\n\n".join(blocks)


def save_digits(
    images: Sequence[np.ndarray], predicted: Sequence[int], true: Sequence[int], path: str | Path
) -> Path:
    """A PNG grid of digits titled "predicted p, true t"; returns its path."""
    from matplotlib.figure import Figure

    count = max(len(images), 1)
    columns = min(count, 5)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(2 * columns, 2.3 * rows), layout="constrained")
    for i, image in enumerate(images):
        axes = figure.add_subplot(rows, columns, i + 1)
        axes.imshow(np.asarray(image).reshape(28, 28), cmap="gray_r", vmin=0, vmax=255)
        axes.set_title(f"predicted {predicted[i]}, true {true[i]}", fontsize=9)
        axes.set_axis_off()
    target = Path(path)
    figure.savefig(target, dpi=100)
    return target
