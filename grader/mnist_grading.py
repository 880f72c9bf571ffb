"""Trusted-side grading for exercise 04: load the learner's saved model, describe it, score it.

The verdict never relies on anything the learner's process reports: accuracy is computed here
from ``model.predict`` on the test images, prepared by us. Keras is imported lazily.
"""

from __future__ import annotations

import json
import math
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from grader.mnist_driver import import_keras

MAX_ARCHIVE_BYTES = 256 * 2**20
MAX_CONFIG_BYTES = 2**20
ALLOWED_LAYERS = frozenset(
    {
        "InputLayer",
        "Dense",
        "Dropout",
        "Flatten",
        "Reshape",
        "Activation",
        "Softmax",
        "ReLU",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "BatchNormalization",
        "LayerNormalization",
        "Rescaling",
        "GaussianNoise",
        "GaussianDropout",
        "AlphaDropout",
        "ActivityRegularization",
        "Conv2D",
        "MaxPooling2D",
        "AveragePooling2D",
        "GlobalAveragePooling2D",
        "SpatialDropout2D",
    }
)
ALLOWED_PAIRS = frozenset(
    {
        ("keras", "Sequential"),
        ("keras", "Functional"),
        ("keras.src.models.functional", "Functional"),
        ("keras", "DTypePolicy"),
        ("keras", "FloatDTypePolicy"),
    }
)
ALLOWED_MODULES = frozenset(
    {
        "keras.activations",
        "keras.constraints",
        "keras.initializers",
        "keras.losses",
        "keras.metrics",
        "keras.optimizers",
        "keras.optimizers.schedules",
        "keras.regularizers",
    }
)
PLAIN_VALUES = frozenset(
    {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__slice__", "__ellipsis__"}
)
LOSS_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error"}


class ModelLoadError(ValueError):
    """The saved model cannot be loaded or cannot be used on MNIST."""


def _refuse(what: str) -> ModelLoadError:
    return ModelLoadError(f"use keras.layers only: the saved model contains {what}")


def _check_object(node: dict[str, Any]) -> None:
    """Refuse one serialized object unless it is a built-in Keras piece we expect."""
    class_name, module = node["class_name"], node.get("module")
    if class_name in PLAIN_VALUES:
        return
    if class_name in ("Lambda", "__lambda__"):
        raise _refuse("a Lambda layer (Python code cannot be loaded safely)")
    if class_name == "function" and module not in ALLOWED_MODULES:
        raise _refuse(f"the custom function {node['config']!r}")
    if node.get("registered_name") not in (None, class_name, "function") or not isinstance(
        module, str
    ):
        raise _refuse(f"the custom object {class_name!r}")
    if module == "keras.layers" and class_name in ALLOWED_LAYERS:
        return
    if (module, class_name) in ALLOWED_PAIRS or module in ALLOWED_MODULES:
        return
    raise _refuse(f"{module}.{class_name}, which this exercise does not accept")


def _walk(node: Any) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("class_name"), str) and "config" in node:
            _check_object(node)
        for value in node.values():
            _walk(value)
    elif isinstance(node, list):
        for value in node:
            _walk(value)


def check_archive(path: Path) -> None:
    """Inspect the .keras zip before Keras sees it: size caps and an allowlist of classes."""
    try:
        with zipfile.ZipFile(path) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_ARCHIVE_BYTES:
                limit = MAX_ARCHIVE_BYTES >> 20
                raise ModelLoadError(f"the saved model is larger than {limit} MiB")
            info = archive.getinfo("config.json")
            if info.file_size > MAX_CONFIG_BYTES:
                raise ModelLoadError("the saved model's config.json is too large")
            config = json.loads(archive.read(info))
    except ModelLoadError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ModelLoadError(f"{path.name} is not a model saved with model.save(): {exc}") from None
    _walk(config)


def load_learner_model(path: str | Path) -> Any:
    """Load the learner's ``.keras`` file in safe mode, compiled, or raise ModelLoadError."""
    source = Path(path)
    if not source.is_file():
        raise ModelLoadError(f"no trained model was saved at {source}")
    check_archive(source)
    keras = import_keras()
    try:
        with warnings.catch_warnings():  # e.g. "skipping variable loading for optimizer"
            warnings.simplefilter("ignore")
            model = keras.saving.load_model(source, safe_mode=True, compile=True)
    except Exception as exc:  # Keras raises many types; all mean "not loadable"
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        if "lambda" in first_line.lower() or "custom" in first_line.lower():
            raise _refuse(f"code Keras cannot load safely ({first_line})") from None
        raise ModelLoadError(f"could not load the trained model: {first_line}") from None
    if not isinstance(model, keras.Model):
        raise ModelLoadError(f"the saved file holds a {type(model).__name__}, not a keras.Model")
    return model


def _snake(name: str) -> str:
    """'CategoricalCrossentropy' -> 'categorical_crossentropy'; aliases spelled out."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    return LOSS_ALIASES.get(snake, snake)


def _names(value: Any) -> list[str]:
    """Names of losses or metrics as they appear in a compile config."""
    if value is None:
        return []
    if isinstance(value, str):
        return [_snake(value)]
    if isinstance(value, dict) and "class_name" in value:
        inner = value.get("config")
        return [_snake(inner if isinstance(inner, str) else value["class_name"])]
    if isinstance(value, dict):
        return [name for item in value.values() for name in _names(item)]
    if isinstance(value, list | tuple):
        return [name for item in value for name in _names(item)]
    return [_snake(getattr(value, "__name__", type(value).__name__))]


def _activation(layer: Any, keras: Any) -> str | None:
    activation = getattr(layer, "activation", None)
    if activation is None:
        return {"Softmax": "softmax", "ReLU": "relu"}.get(type(layer).__name__)
    serialized = keras.activations.serialize(activation)
    return serialized if isinstance(serialized, str) else getattr(activation, "__name__", None)


def describe_model(model: Any) -> dict[str, Any]:
    """Plain-data summary: input shape, layers, parameter count, optimizer, loss and metrics."""
    keras = import_keras()
    layers = [
        {
            "class_name": type(layer).__name__,
            "name": layer.name,
            "units": getattr(layer, "units", None),
            "activation": _activation(layer, keras),
            "params": int(layer.count_params()),
        }
        for layer in model.layers
    ]
    output_activation = next(
        (layer["activation"] for layer in reversed(layers) if layer["activation"] is not None),
        None,
    )
    compile_config = model.get_compile_config() or {}
    optimizer = getattr(model, "optimizer", None)
    return {
        "input_shape": list(model.inputs[0].shape),
        "output_shape": list(model.outputs[0].shape),
        "layers": layers,
        "output_activation": output_activation,
        "total_params": int(model.count_params()),
        "optimizer": type(optimizer).__name__.lower() if optimizer is not None else None,
        "learning_rate": _finite(optimizer.learning_rate) if optimizer is not None else None,
        "loss": _names(compile_config.get("loss")),
        "metrics": _names(compile_config.get("metrics")),
    }


def _finite(value: Any) -> float | None:
    try:
        number = float(np.asarray(value))
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def evaluate(model: Any, x_test: np.ndarray, y_test: np.ndarray, show: int = 8) -> dict[str, Any]:
    """Accuracy on the raw test set (uint8 images, integer labels), computed here.

    The images are prepared the reference way (flattened, divided by 255). A model trained on
    unscaled pixels still ranks the digits well but is unsure of them, which shows as a low
    ``mean_confidence`` (the average largest output). ``show`` misclassified digits are listed,
    most confident mistakes first.
    """
    images, labels = np.asarray(x_test), np.asarray(y_test).astype(int)
    input_shape = tuple(model.inputs[0].shape[1:])
    if None in input_shape or math.prod(input_shape) != 28 * 28:
        raise ModelLoadError(
            f"the model expects inputs of shape {list(input_shape)}, but each image has 784 pixels"
        )
    x = images.reshape(len(images), *input_shape).astype("float32") / 255
    probabilities = np.asarray(model.predict(x, batch_size=1000, verbose=0), dtype="float64")
    if probabilities.shape != (len(labels), 10):
        raise ModelLoadError(
            f"the model must give 10 outputs per image, it gives {list(probabilities.shape[1:])}"
        )
    finite = np.isfinite(probabilities).all(axis=1)
    predicted = np.where(finite, np.nan_to_num(probabilities).argmax(axis=1), -1)
    correct = predicted == labels
    confidence = np.where(finite, np.nan_to_num(probabilities).max(axis=1), 0.0)
    wrong = np.flatnonzero(~correct)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:show]
    row_sums = probabilities[finite].sum(axis=1)
    return {
        "accuracy": float(correct.mean()),
        "correct": int(correct.sum()),
        "total": len(labels),
        "per_class": [
            float(correct[labels == d].mean()) if (labels == d).any() else None for d in range(10)
        ],
        "non_finite_outputs": int((~finite).sum()),
        "outputs_sum_to_one": bool(row_sums.size and np.allclose(row_sums, 1.0, atol=1e-3)),
        "mean_confidence": float(confidence[finite].mean()) if finite.any() else None,
        "misclassified": [
            {
                "index": int(i),
                "predicted": int(predicted[i]),
                "true": int(labels[i]),
                "confidence": float(confidence[i]),
            }
            for i in wrong
        ],
    }
