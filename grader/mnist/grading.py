"""Open a learner's saved Keras model and measure it: runs only in the model sandbox.

The grader ships this file as source into a sandboxed worker of its own, which runs no
learner code and is the only process that sees the test images (see the 04 checks). So it
imports only the standard library, numpy, h5py and keras, never ``grader.*``.
:func:`open_and_evaluate` gets the ``.keras`` bytes and the test images and returns plain data.

Nothing reaches Keras before it passed, in this order: the archive (its three members
only, sizes declared and read under caps, no bomb), the config (JSON without duplicate
keys, every object an exact allowlisted class, activation or initializer), the
architecture (a chain of allowlisted layers whose shapes, parameter count and FLOPs are
computed here and bounded, including each layer's ``build_config``) and the weights file
(no links, no external or virtual datasets, declared sizes bounded by that parameter
count). Keras then loads a copy rebuilt from exactly what was checked, in safe mode and
without compiling; the compilation is read from the checked config instead.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import tempfile
import warnings
import zipfile
from typing import Any

import numpy as np

try:  # in the model sandbox, grader/mnist/arch.py is the worker's module and this its driver
    Refused, architecture = learner.Refused, learner.architecture
except NameError:  # imported in the grader's own tests
    from grader.mnist.arch import Refused, architecture

MAX_MODEL_BYTES = 48 << 20
MAX_MEMBER_BYTES = {"config.json": 1 << 20, "metadata.json": 1 << 16, "model.weights.h5": 64 << 20}
MAX_EXPANSION = 100  # DEFLATE cannot exceed ~1032:1; Keras stores members uncompressed
MAX_BATCH_VALUES = 8 << 20  # images x widest layer per predict batch
LOSS_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error"}


def _keras() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise Refused("the saved model's config.json repeats a key", "unusable")
    return dict(pairs)


def read_archive(data: bytes) -> dict[str, bytes]:
    """The members of a .keras archive, read under size caps, or Refused."""
    if len(data) > MAX_MODEL_BYTES:
        raise Refused(f"the saved model is larger than {MAX_MODEL_BYTES >> 20} MiB", "unusable")
    if data.startswith(b"\x89HDF"):
        raise Refused(
            "the saved model is an HDF5 (.h5) file; save it as .keras with model.save()",
            "unusable",
        )
    members: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > len(MAX_MEMBER_BYTES):
                raise Refused(f"the saved model has {len(infos)} members", "unusable")
            for info in infos:
                cap = MAX_MEMBER_BYTES.get(info.filename)
                if cap is None or info.filename in members or info.flag_bits & 1:
                    raise Refused(f"the saved model contains {info.filename!r}", "unusable")
                if info.file_size > cap or info.file_size > MAX_EXPANSION * max(
                    info.compress_size, 1 << 10
                ):
                    raise Refused(
                        f"the saved model's {info.filename} declares {info.file_size} bytes "
                        f"({info.compress_size} stored): too large",
                        "unusable",
                    )
                with archive.open(info) as member:
                    members[info.filename] = member.read(cap + 1)
    except Refused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        message = f"this is not a model saved with model.save(): {reason}"
        raise Refused(message, "unusable") from None
    for name in ("config.json", "model.weights.h5"):
        if name not in members:
            raise Refused(f"the saved model has no {name}", "unusable")
    return members


def read_config(members: dict[str, bytes]) -> dict[str, Any]:
    try:
        config = json.loads(members["config.json"], object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as exc:
        reason = (str(exc).splitlines() or ["invalid"])[0][:160]
        raise Refused(f"the saved model's config.json is not JSON: {reason}", "unusable") from None
    if not isinstance(config, dict):
        raise Refused("the saved model's config.json is not an object", "unusable")
    return config


def check_weights(data: bytes, params: int) -> None:
    """Refuse a weights file with links, external or virtual data, or more than it needs."""
    import h5py

    limit = 4 * params + 4096  # the model's variables, an optimizer's slots, counters
    total = 0

    def visit(group: Any, depth: int) -> None:
        nonlocal total
        if depth > 16 or len(group) > 4096:
            raise Refused("the saved weights are nested too deeply", "unusable")
        for name in group:
            link = group.get(name, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise Refused("the saved weights contain a link", "unusable")
            item = group[name]
            if isinstance(item, h5py.Group):
                visit(item, depth + 1)
                continue
            if not isinstance(item, h5py.Dataset) or item.external or item.is_virtual:
                raise Refused("the saved weights point outside their file", "unusable")
            if item.dtype.kind not in "biuf":
                raise Refused("the saved weights hold something other than numbers", "unusable")
            total += math.prod(item.shape or (1,))
            if total > limit:
                raise Refused(
                    f"the saved weights declare more than the {params:,} parameters the "
                    "model's config has",
                    "unusable",
                )

    try:
        with h5py.File(io.BytesIO(data), "r") as weights:
            visit(weights, 0)
    except Refused:
        raise
    except Exception as exc:  # h5py raises OSError, KeyError, ValueError, RuntimeError...
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise Refused(f"the saved weights cannot be read: {reason}", "unusable") from None


def _snake(name: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    return LOSS_ALIASES.get(snake, snake)


def _names(value: Any, depth: int = 0) -> list[str]:
    """Names of losses or metrics as they appear in a compile config (never deserialized)."""
    if depth > 8 or value is None:
        return []
    if isinstance(value, str):
        return [_snake(value)]
    if isinstance(value, dict) and isinstance(value.get("class_name"), str):
        inner = value.get("config")
        return [_snake(inner if isinstance(inner, str) else value["class_name"])]
    if isinstance(value, dict):
        return [name for item in value.values() for name in _names(item, depth + 1)]
    if isinstance(value, list):
        return [name for item in value for name in _names(item, depth + 1)]
    return []


def compilation(config: dict[str, Any]) -> dict[str, Any]:
    """Optimizer, learning rate, loss and metrics as the saved config records them."""
    compiled = config.get("compile_config")
    compiled = compiled if isinstance(compiled, dict) else {}
    optimizer = compiled.get("optimizer")
    name, rate = None, None
    if isinstance(optimizer, str):
        name = optimizer.lower()
    elif isinstance(optimizer, dict) and isinstance(optimizer.get("class_name"), str):
        name = optimizer["class_name"].lower()
        settings = optimizer.get("config")
        value = settings.get("learning_rate") if isinstance(settings, dict) else None
        if type(value) in (int, float) and math.isfinite(value):
            rate = float(value)
    return {
        "optimizer": name,
        "learning_rate": rate,
        "loss": _names(compiled.get("loss"))[:16],
        "metrics": _names(compiled.get("metrics"))[:16],
    }


def load_checked(members: dict[str, bytes], config: dict[str, Any], params: int) -> Any:
    """Load a copy rebuilt from the checked members, safe mode, uncompiled."""
    keras = _keras()
    checked = {**config, "compile_config": None}
    with tempfile.TemporaryDirectory(prefix="dlgrade-open-") as folder:
        path = os.path.join(folder, "model.keras")
        with zipfile.ZipFile(path, "x") as archive:
            archive.writestr("config.json", json.dumps(checked))
            archive.writestr("metadata.json", members.get("metadata.json", b"{}"))
            archive.writestr("model.weights.h5", members["model.weights.h5"])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = keras.saving.load_model(path, safe_mode=True, compile=False)
        except Exception as exc:  # Keras raises many types; all mean "not loadable"
            reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise Refused(f"could not load the trained model: {reason}", "unusable") from None
    if not isinstance(model, keras.Model) or model.count_params() != params:
        raise Refused("the loaded model is not the one its config describes", "unusable")
    return model


def evaluate(model: Any, x_test: np.ndarray, y_test: np.ndarray, batch: int, show: int = 8):
    """Accuracy on the raw test set (uint8 images, integer labels), computed here.

    The images are prepared the reference way (flattened, divided by 255). A model trained on
    unscaled pixels still ranks the digits well but is unsure of them, which shows as a low
    ``mean_confidence`` (the average largest output). ``show`` misclassified digits are listed,
    most confident mistakes first.
    """
    images, labels = np.asarray(x_test), np.asarray(y_test).astype(int)
    input_shape = tuple(model.inputs[0].shape[1:])
    x = images.reshape(len(images), *input_shape).astype("float32") / 255
    probabilities = np.asarray(model.predict(x, batch_size=batch, verbose=0), dtype="float64")
    if probabilities.shape != (len(labels), 10):
        raise Refused(
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


def open_and_evaluate(data: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    """Check, describe, load and evaluate the learner's model bytes; plain data back.

    ``{"refused": message, "mistake": name}`` when the file cannot be opened safely;
    otherwise ``{"description": ..., "evaluation": ... or None, "evaluation_error": ...}``.
    """
    try:
        members = read_archive(np.asarray(data, dtype=np.uint8).tobytes())
        config = read_config(members)
        try:
            arch = architecture(config)
        except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
            message = f"the saved model's config is malformed ({exc!r:.120})"
            raise Refused(message, "unusable") from None
        description = {**arch["description"], **compilation(config)}
        check_weights(members["model.weights.h5"], description["total_params"])
    except Refused as exc:
        return {"refused": exc.message, "mistake": exc.mistake}
    opened: dict[str, Any] = {"description": description, "evaluation": None}
    if math.prod(description["input_shape"][1:]) != 28 * 28:
        opened["evaluation_error"] = (
            f"the model expects inputs of shape {description['input_shape'][1:]}, "
            "but each image has 784 pixels"
        )
        return opened
    try:
        model = load_checked(members, config, description["total_params"])
        batch = max(1, min(1000, MAX_BATCH_VALUES // arch["widest"]))
        opened["evaluation"] = evaluate(model, x_test, y_test, batch)
    except Refused as exc:
        if exc.mistake:
            return {"refused": exc.message, "mistake": exc.mistake}
        opened["evaluation_error"] = exc.message
    with contextlib.suppress(Exception):
        _keras().backend.clear_session()
    return opened
