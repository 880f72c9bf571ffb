"""Exercise 04 driver: runs inside the sandboxed child, next to the learner's module.

Self-contained on purpose (stdlib, numpy and keras only, never ``grader.*``), so the sandbox
can ship this file into the child as it is. Keras is imported lazily: importing this module
costs nothing, and ``import_keras`` can be called before any learner code is loaded.
Everything returned is plain JSON data; non-finite numbers become ``None``.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

QUIET_TF_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3"}


def import_keras() -> ModuleType:
    """Import keras with TensorFlow's start-up log silenced.

    TF 2.21 writes a few C++ lines to stderr while it loads, before its logging honours
    TF_CPP_MIN_LOG_LEVEL, so file descriptor 2 points at /dev/null during the first import.
    """
    if "keras" in sys.modules:
        return sys.modules["keras"]
    for key, value in QUIET_TF_ENV.items():
        os.environ.setdefault(key, value)
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return keras


def _number(value: Any) -> float | None:
    """A finite float, or None for NaN, infinities and anything that is not a number."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _array_summary(x: Any, y: Any) -> dict[str, Any]:
    """Shape, dtype and range of what prepare_data returned (without judging it)."""
    x_array, y_array = np.asarray(x), np.asarray(y)
    numeric = x_array.dtype.kind in "biuf" and x_array.size > 0
    return {
        "x_shape": [int(n) for n in x_array.shape],
        "x_dtype": str(x_array.dtype),
        "x_min": _number(x_array.min()) if numeric else None,
        "x_max": _number(x_array.max()) if numeric else None,
        "y_shape": [int(n) for n in y_array.shape],
    }


def _report_epochs(model: Any, emit: Callable[[dict], None], keras: ModuleType) -> None:
    """Wrap ``model.fit`` so every fit sends one progress event per finished epoch."""

    class Progress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            accuracy = logs.get("accuracy", logs.get("acc"))
            emit(
                {
                    "epoch": epoch + 1,
                    "epochs": self.params.get("epochs"),
                    "loss": _number(logs.get("loss")),
                    "accuracy": _number(accuracy) if accuracy is not None else None,
                }
            )

    original_fit = model.fit
    signature = inspect.signature(original_fit)

    def fit(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        callbacks = bound.arguments.get("callbacks") or []
        if isinstance(callbacks, keras.callbacks.Callback):
            callbacks = [callbacks]
        bound.arguments["callbacks"] = [*callbacks, Progress()]
        return original_fit(*bound.args, **bound.kwargs)

    model.fit = fit


def make_deterministic(seed: int) -> None:
    """Seed every generator Keras uses and run TensorFlow's ops on one thread, deterministically.

    Quick mode calls this before any learner function runs, so the same file trains to the
    same weights on every run on one machine (benchmarks/bench_mnist.py measures the spread
    across seeds). A learner that initialised TensorFlow while loading keeps its threads.
    """
    keras = import_keras()
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        with contextlib.suppress(RuntimeError, ValueError, AttributeError):
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        with contextlib.suppress(RuntimeError, ValueError, AttributeError):
            tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(seed)


def saved_bytes(model: Any) -> bytes:
    """The model as the bytes of a .keras archive.

    ``model.save`` wants a path ending in .keras; it gets one in a fresh private directory
    of this process's own, read back and removed at once. The grader never sees a path.
    """
    with tempfile.TemporaryDirectory(prefix="dlgrade-model-") as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        with open(path, "rb") as handle:
            return handle.read()


def train_and_save(
    learner: ModuleType,
    x_train: np.ndarray,
    y_train: np.ndarray,
    emit: Callable[[dict], None],
    seed: int | None = None,
) -> dict[str, Any]:
    """Prepare, build and train with the learner's functions; return the saved model's bytes.

    The training images arrive as arrays (over the wire); nothing is read from or written to
    a file. ``seed`` makes the run deterministic (:func:`make_deterministic`). The model
    comes back as ``model``: the bytes ``model.save`` writes, as a uint8 array. Exceptions
    raised by the learner's functions propagate unchanged; a broken contract raises TypeError.
    """
    keras = import_keras()
    if seed is not None:
        make_deterministic(seed)
    prepared = learner.prepare_data(x_train, y_train)
    if not isinstance(prepared, tuple) or len(prepared) != 2:
        raise TypeError(f"prepare_data must return a pair (x, y), got {type(prepared).__name__}")
    x, y = prepared
    summary = _array_summary(x, y)

    model = learner.build_model()
    if not isinstance(model, keras.Model):
        raise TypeError(f"build_model must return a keras.Model, got {type(model).__name__}")
    _report_epochs(model, emit, keras)
    start = time.perf_counter()
    try:
        history = learner.train_model(model, x, y)
    finally:
        train_seconds = time.perf_counter() - start
        with contextlib.suppress(AttributeError):
            del model.fit
    if not isinstance(history, keras.callbacks.History):
        raise TypeError(
            "train_model must return the History that model.fit returns, "
            f"got {type(history).__name__}"
        )
    values = getattr(history, "history", None)
    metrics = {
        str(name): [_number(value) for value in values]
        for name, values in (values.items() if isinstance(values, dict) else ())
    }
    return {
        "history": metrics,
        "train_seconds": round(train_seconds, 3),
        "epochs": len(getattr(history, "epoch", None) or ()),
        "model": np.frombuffer(saved_bytes(model), dtype=np.uint8),
        **summary,
    }


def run(x_train: np.ndarray, y_train: np.ndarray, seed: int | None = None) -> dict[str, Any]:
    """The entry point the grader calls inside the sandbox.

    The worker executes this file next to the learner's module and provides two
    globals: ``learner`` (that module) and ``emit`` (sends a progress event).
    """
    return train_and_save(learner, x_train, y_train, emit, seed)  # noqa: F821
