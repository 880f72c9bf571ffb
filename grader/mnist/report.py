"""What exercise 04 shows after grading: the learning curve and digits the model got wrong.

Drawn in the terminal (plotext, Unicode blocks) and saved as PNGs next to the
learner's exercise file. Only the CLI imports this, and only for exercise 04.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from grader.grading.results import ExerciseResult
from grader.mnist import data as mnist
from grader.mnist import plots

SHOWN = 5


def render(con: Console, result: ExerciseResult, save_next_to: Path | None) -> list[Path]:
    """Print the curve and a few mistakes; save both as PNG when ``save_next_to`` is given."""
    saved: list[Path] = []
    history = {
        name: values
        for name, values in (result.artifacts.get("history") or {}).items()
        if "loss" in name or "acc" in name
    }
    if history:
        con.print("[title]Learning curve[/] [muted](per epoch, on the training data)[/]")
        con.print(
            plots.learning_curve_text(history, width=min(con.width, 100), height=14),
            markup=False,
            highlight=False,
        )
        if save_next_to:
            saved.append(
                plots.save_learning_curve(
                    history, save_next_to / f"{result.exercise}_learning_curve.png"
                )
            )
    wrong = result.artifacts.get("misclassified") or []
    if wrong:
        _, (x_test, _) = mnist.load_data()
        images = [x_test[w["index"]] for w in wrong]
        predicted, true = [w["predicted"] for w in wrong], [w["true"] for w in wrong]
        accuracy = result.artifacts.get("accuracy")
        con.print(
            f"[title]Test digits your model got wrong[/] [muted](accuracy "
            f"{accuracy:.2%} on 10,000 unseen images)[/]"
        )
        con.print(
            plots.digits_text(
                images[:SHOWN], predicted[:SHOWN], true[:SHOWN], width=min(con.width, 100)
            ),
            markup=False,
            highlight=False,
        )
        if save_next_to:
            saved.append(
                plots.save_digits(
                    images, predicted, true, save_next_to / f"{result.exercise}_mistakes.png"
                )
            )
    for path in saved:
        con.print(f"[muted]saved {path}[/]")
    return saved
