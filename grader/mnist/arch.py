"""The architecture of a saved Keras model, read from its config.json alone and bounded.

Runs in the model sandbox, before Keras sees the file (with :mod:`grader.mnist.grading`; plain
Python only). Every object in the config must be an exact allowlisted class, activation or
initializer; the model must be a chain of allowlisted layers (a Sequential, or a Functional
model whose layers each take the previous one's output). Shapes, parameter count and FLOPs
are computed here, so a model too large to evaluate is refused before any weight exists.
"""

from __future__ import annotations

import math
from typing import Any

MAX_LAYERS = 64
MAX_WIDTH = 1 << 16  # values per image in any layer's output
MAX_PARAMS = 4_000_000  # ten times the article's network
MAX_FLOPS = 16_000_000  # per image
ACTIVATIONS = frozenset(
    [
        "linear",
        "relu",
        "relu6",
        "leaky_relu",
        "elu",
        "selu",
        "gelu",
        "silu",
        "swish",
        "sigmoid",
        "hard_sigmoid",
        "tanh",
        "softmax",
        "log_softmax",
        "softplus",
        "softsign",
        "exponential",
        "mish",
    ]
)
LAYERS = frozenset(
    [
        "InputLayer",
        "Dense",
        "Dropout",
        "Flatten",
        "Reshape",
        "Activation",
        "Softmax",
        "ReLU",
        "LeakyReLU",
        "ELU",
        "BatchNormalization",
        "LayerNormalization",
        "Rescaling",
        "GaussianNoise",
        "GaussianDropout",
        "AlphaDropout",
        "ActivityRegularization",
    ]
)
OBJECTS = frozenset(
    [("keras", name) for name in ("Sequential", "Functional", "DTypePolicy", "FloatDTypePolicy")]
    + [("keras.src.models.functional", "Functional")]
    + [("keras.layers", name) for name in LAYERS]
    + [
        ("keras.initializers", name)
        for name in [
            "GlorotUniform",
            "GlorotNormal",
            "HeUniform",
            "HeNormal",
            "LecunUniform",
            "LecunNormal",
            "Zeros",
            "Ones",
            "Constant",
            "RandomNormal",
            "RandomUniform",
            "TruncatedNormal",
            "VarianceScaling",
        ]
    ]
    + [("keras.regularizers", name) for name in ("L1", "L2", "L1L2")]
    + [("keras.constraints", name) for name in ("MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm")]
)
LAYER_ACTIVATION = {"Softmax": "softmax", "ReLU": "relu", "LeakyReLU": "leaky_relu", "ELU": "elu"}


class Refused(Exception):
    """The saved model cannot be opened safely (``mistake`` names the learner's mistake)."""

    def __init__(self, message: str, mistake: str | None = None) -> None:
        super().__init__(message)
        self.message, self.mistake = message, mistake


def _refuse(what: str) -> Refused:
    return Refused(f"use keras.layers only: the saved model contains {what}", "custom_layer")


def check_objects(node: Any, depth: int = 0, key: str = "") -> None:
    """Refuse every serialized object that is not on the exact allowlist."""
    if depth > 48:
        raise Refused("the saved model's config is nested too deeply", "unusable")
    if isinstance(node, list):
        for value in node:
            check_objects(value, depth + 1, key)
        return
    if isinstance(node, str) and key == "activation" and node not in ACTIVATIONS:
        raise _refuse(f"the activation {node[:60]!r}, which this exercise does not accept")
    if not isinstance(node, dict):
        return
    if "class_name" in node or "module" in node:
        _check_object(node, key)
    for name, value in node.items():
        if name != "compile_config":  # read as data (compilation()), never given to Keras
            check_objects(value, depth + 1, name)


def _check_object(node: dict[str, Any], key: str) -> None:
    class_name, module = node.get("class_name"), node.get("module")
    registered = node.get("registered_name")
    if class_name in ("Lambda", "__lambda__"):
        raise _refuse("a Lambda layer (Python code cannot be loaded safely)")
    if class_name == "__keras_tensor__" and key == "args" and module is None:
        return
    if class_name == "function":
        name = node.get("config")
        if module == "keras.activations" and name in ACTIVATIONS and registered in (None, name):
            return
        raise _refuse(f"the function {str(name)[:60]!r} from {str(module)[:60]}")
    if (module, class_name) in OBJECTS and registered in (None, class_name):
        return
    shown = f"{module}.{class_name}" if isinstance(module, str) else repr(class_name)
    raise _refuse(f"{shown[:80]}, which this exercise does not accept")


def _activation(value: Any) -> str | None:
    """The name of a checked activation, as a string or a serialized function."""
    if isinstance(value, dict):
        value = value.get("config")
    return value if isinstance(value, str) else None


def _dims(value: Any, what: str) -> list[int]:
    """A shape without its batch dimension: positive ints, bounded in size."""
    if not isinstance(value, list) or not value or value[0] is not None:
        raise Refused(f"the saved model's {what} is not a batch shape", "unusable")
    dims = value[1:]
    if not all(type(d) is int and 0 < d <= MAX_WIDTH for d in dims) or len(dims) > 4:
        raise Refused(f"the saved model's {what} {value[:6]} is not a usable shape", "unusable")
    return dims


def _chain(config: dict[str, Any]) -> tuple[list[dict[str, Any]], list[int] | None]:
    """The layers in order, and the declared input shape when no InputLayer gives it."""
    if (config.get("module"), config.get("class_name")) not in (
        ("keras", "Sequential"),
        ("keras", "Functional"),
        ("keras.src.models.functional", "Functional"),
    ):
        raise Refused("the saved file does not hold a Sequential or Functional model", "unusable")
    body = config.get("config")
    layers = body.get("layers") if isinstance(body, dict) else None
    if not isinstance(layers, list) or not 0 < len(layers) <= MAX_LAYERS:
        raise Refused(f"the saved model must have 1 to {MAX_LAYERS} layers", "unusable")
    if not all(isinstance(one, dict) and isinstance(one.get("config"), dict) for one in layers):
        raise Refused("the saved model's layers are not layer configs", "unusable")
    if config["class_name"] == "Sequential":
        declared = body.get("build_input_shape")
        return layers, _dims(declared, "input shape") if declared is not None else None
    names = [layer["config"].get("name") for layer in layers]
    for before, layer in zip(names, layers[1:], strict=False):
        nodes = layer.get("inbound_nodes")
        node = nodes[0] if isinstance(nodes, list) and len(nodes) == 1 else None
        args = node.get("args") if isinstance(node, dict) else None
        tensor = args[0] if isinstance(args, list) and len(args) == 1 else None
        tensor = tensor.get("config") if isinstance(tensor, dict) else None
        history = tensor.get("keras_history") if isinstance(tensor, dict) else None
        if not isinstance(history, list) or not history or history[0] != before:
            raise Refused("the saved model is not a chain of layers", "unusable")
    outputs = body.get("output_layers")
    if isinstance(outputs, list) and len(outputs) == 1 and isinstance(outputs[0], list):
        outputs = outputs[0]  # one output, written as a list of one node or as that node
    if not isinstance(outputs, list) or outputs[:1] != names[-1:]:
        raise Refused("the saved model is not a chain of layers", "unusable")
    return layers, None


def _axis_size(shape: list[int], axis: Any) -> int:
    axes = axis if isinstance(axis, list) else [axis]
    if not all(type(a) is int and -len(shape) - 1 < a <= len(shape) and a != 0 for a in axes):
        raise Refused(f"the saved model normalizes over axis {axis!r}", "unusable")
    return math.prod(shape[a - 1 if a > 0 else a] for a in axes)


def _layer(kind: str, cfg: dict[str, Any], shape: list[int]) -> tuple[list[int], int, int, Any]:
    """Output shape, parameters, FLOPs per image and activation of one layer."""
    size = math.prod(shape)
    if kind == "Dense":
        units, bias = cfg.get("units"), cfg.get("use_bias", True)
        if type(units) is not int or not 0 < units <= MAX_WIDTH or type(bias) is not bool:
            shown = str(units)[:20]
            raise Refused(f"the saved model has a Dense layer of {shown} units", "unusable")
        params = shape[-1] * units + (units if bias else 0)
        activation = _activation(cfg.get("activation", "linear"))
        return [*shape[:-1], units], params, 2 * size * units, activation
    if kind == "Flatten":
        return [size], 0, 0, None
    if kind == "Reshape":
        target = cfg.get("target_shape")
        if not isinstance(target, list) or not all(type(d) is int and d > 0 for d in target):
            raise Refused("the saved model has a Reshape without a fixed shape", "unusable")
        if math.prod(target) != size:
            raise Refused(f"the saved model reshapes {shape} to {target}", "unusable")
        return list(target), 0, 0, None
    if kind in ("BatchNormalization", "LayerNormalization"):
        width = _axis_size(shape, cfg.get("axis", -1))
        per = (2 if kind == "BatchNormalization" else 0) + bool(cfg.get("center", True))
        per += bool(cfg.get("scale", True))
        return shape, per * width, 4 * size, None
    if kind == "Activation":
        return shape, 0, 4 * size, _activation(cfg.get("activation"))
    return shape, 0, 4 * size, LAYER_ACTIVATION.get(kind)


def architecture(config: dict[str, Any]) -> dict[str, Any]:
    """Layers, shapes, parameter count and FLOPs per image, or Refused before any allocation."""
    check_objects(config)
    layers, declared = _chain(config)
    shape = declared
    described, total, flops, widest, input_shape = [], 0, 0, 0, None
    for index, layer in enumerate(layers):
        kind, cfg = layer.get("class_name"), layer["config"]
        if kind not in LAYERS:
            raise _refuse(f"{str(kind)[:60]!r} as a layer, which this exercise does not accept")
        if kind == "InputLayer":
            if index:
                raise Refused("the saved model has an input layer in the middle", "unusable")
            shape = _dims(cfg.get("batch_shape"), "input shape")
            if declared is not None and declared != shape:
                raise Refused("the saved model declares two input shapes", "unusable")
            input_shape = [None, *shape]
            continue
        if shape is None:
            raise Refused("the saved model does not say what shape its input has", "unusable")
        input_shape = input_shape or [None, *shape]
        built = (layer.get("build_config") or {}).get("input_shape")
        if built is not None and built != [None, *shape]:
            raise Refused(f"the saved layer {cfg.get('name')!r} was built for {built}", "unusable")
        shape, params, cost, activation = _layer(kind, cfg, shape)
        total, flops, widest = total + params, flops + cost, max(widest, math.prod(shape))
        if total > MAX_PARAMS or flops > MAX_FLOPS or widest > MAX_WIDTH:
            raise Refused(
                f"the saved model is too large to evaluate (over {MAX_PARAMS:,} parameters, "
                f"{MAX_FLOPS:,} operations per image or {MAX_WIDTH:,} values per layer)",
                "unusable",
            )
        units = cfg.get("units") if kind == "Dense" else None
        described.append(
            {
                "class_name": kind,
                "name": str(cfg.get("name"))[:100],
                "units": units,
                "activation": activation,
                "params": params,
            }
        )
    if input_shape is None or not described:
        raise Refused("the saved model has no layers after its input", "unusable")
    built = (config.get("build_config") or {}).get("input_shape")
    if built is not None and built != input_shape:
        raise Refused(f"the saved model was built for inputs of shape {built}", "unusable")
    output = next((d["activation"] for d in reversed(described) if d["activation"]), None)
    return {
        "description": {
            "input_shape": input_shape,
            "output_shape": [None, *shape],
            "layers": described,
            "output_activation": output,
            "total_params": total,
            "flops_per_image": flops,
        },
        "widest": max(widest, math.prod(input_shape[1:])),
    }
