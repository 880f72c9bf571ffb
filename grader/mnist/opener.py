"""Open the learner's saved model in a sandbox of its own and bring back plain numbers.

The grading process never parses the learner's .keras bytes. It hands them, with the test
images, to a second sandboxed worker that runs no learner code: its module is
grader/mnist/arch.py and its driver grader/mnist/grading.py, sent as source. That worker
is the only place the test images go. What comes back is checked here for shape and type
before a check reads it, so even a model that took over the worker can only cost the
learner their own checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.course.paths import PACKAGE_DIR, hidden_from_sandbox
from grader.grading.expect import CheckFailed
from grader.sandbox import launch
from grader.sandbox.errors import LearnerError
from grader.sandbox.launch import Limits
from grader.sandbox.runner import Sandbox


def model_bytes(value: Any, limit_mb: int) -> np.ndarray:
    """The saved model the driver returned, as a uint8 array under the size cap."""
    if not isinstance(value, np.ndarray) or value.dtype != np.uint8 or value.ndim != 1:
        raise CheckFailed("no trained model came back; did train_model finish?")
    if not 0 < value.size <= limit_mb << 20:
        raise CheckFailed(f"the saved model is empty or larger than {limit_mb} MiB")
    return value


def _uid(learner_box: Sandbox) -> int | None:
    """A uid for the model sandbox that no learner child uses (None when not root)."""
    if learner_box.uid is None:
        return None
    return launch.learner_uid()


def open_model(
    learner_box: Sandbox,
    model: np.ndarray,
    test: tuple[np.ndarray, np.ndarray],
    settings: dict[str, Any],
    mistakes: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Describe and evaluate ``model`` in a fresh model sandbox, isolated as ``learner_box``.

    A refusal the sandbox names as one of ``mistakes`` (info.toml's) carries that mistake.
    Raises CheckFailed when the model is refused or the sandbox gives up on it (a crash or
    a timeout), SandboxError when the model sandbox cannot start at all (a grader error).
    """
    limits = Limits(**{**settings, "imports": tuple(settings.get("imports", ()))})
    source = (PACKAGE_DIR / "mnist" / "arch.py").read_text(encoding="utf-8")
    opener = (PACKAGE_DIR / "mnist" / "grading.py").read_text(encoding="utf-8")
    box = Sandbox(
        limits,
        strict=bool(learner_box.bwrap),
        uid=_uid(learner_box),
        hide=hidden_from_sandbox(),
    )
    try:
        box.load(source, "<dlgrade model sandbox>", "mnist_arch.py", driver=opener)
        _, reply = box.call("driver.open_and_evaluate", [model, *test])
    except LearnerError as exc:
        raise CheckFailed(f"your saved model could not be opened: {exc.message}") from None
    finally:
        box.close()
        launch.release_uid(box.uid)
    return checked(reply.value, len(test[1]), mistakes)


def _is(value: Any, kind: type) -> bool:
    """Exactly that plain type (what the wire decodes to; a bool is not an int here)."""
    return type(value) is kind


def checked(opened: Any, images: int, mistakes: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The model sandbox's answer, with every field a check reads of the right plain type."""
    bad = CheckFailed("the model sandbox sent an answer that is not a model's description")
    if not isinstance(opened, dict):
        raise bad
    if "refused" in opened:
        mistake = opened.get("mistake")
        message = opened["refused"]
        if not isinstance(message, str) or mistake not in ("custom_layer", "unusable", None):
            raise bad
        raise CheckFailed(message[:500], mistake=mistake if mistake in mistakes else None)
    description = opened.get("description")
    layers = description.get("layers") if isinstance(description, dict) else None
    if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
        raise bad
    for key, kind in (("input_shape", list), ("total_params", int), ("loss", list)):
        if not _is(description.get(key), kind):
            raise bad
    if not _is(description.get("metrics"), list) or not all(
        isinstance(name, str) for name in description["loss"] + description["metrics"]
    ):
        raise bad
    evaluation = opened.get("evaluation")
    if evaluation is not None:
        wrong = evaluation.get("misclassified") if isinstance(evaluation, dict) else None
        accuracy = evaluation.get("accuracy") if isinstance(evaluation, dict) else None
        if not (_is(accuracy, float) and 0.0 <= accuracy <= 1.0 and isinstance(wrong, list)):
            raise bad
        for item in wrong:
            keys = ("index", "predicted", "true")
            if not (isinstance(item, dict) and all(_is(item.get(k), int) for k in keys)):
                raise bad
            if not 0 <= item["index"] < images:
                raise bad
    elif not isinstance(opened.get("evaluation_error"), str):
        raise bad
    return opened
