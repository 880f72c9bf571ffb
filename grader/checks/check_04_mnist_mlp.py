"""Checks for exercise 04: the Keras MLP on MNIST, trained in the sandbox, measured here.

The learner's code only ever sees training images: the sandboxed child runs
prepare_data, build_model and train_model through the driver
(grader/mnist/driver.py) and returns the saved model's bytes. A second sandbox
that runs no learner code checks, loads and evaluates them on the 10,000 test
images (grader/mnist/opener.py); this process only reads the plain numbers it
returns. Accuracy tiers, the quick mode's seed and the limits come from info.toml.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest

from grader.grading.expect import CheckFailed, as_numeric, expect_close, expect_that
from grader.mnist import data as mnist

SAMPLE = 64


@pytest.fixture(scope="module")
def data() -> tuple:
    return _dataset()


@cache
def _dataset() -> tuple:
    return mnist.load_data()


@pytest.fixture(scope="module")
def settings(options: dict[str, Any], exercise_grading: dict[str, Any]) -> dict[str, Any]:
    mode = "quick" if options.get("quick") else "full"
    return {"mode": mode, **exercise_grading[mode]}


@pytest.fixture(scope="module")
def trained(learner, data, settings, on_event, artifacts, exercise_grading) -> dict[str, Any]:
    """Train the learner's model in the sandbox once; the driver's summary and model bytes.

    The training images go over the wire and the model comes back over it: the grader
    opens no file in the learner's work directory. The learner's child is ended before its
    model is opened, so no learner process runs beside the model sandbox.
    """
    (x_train, y_train), _ = data
    if settings["mode"] == "quick":
        x_train, y_train = mnist.quick_split(x_train, y_train)
    summary = learner.call(
        "driver.run",
        [x_train, y_train, settings.get("seed")],
        timeout=settings["time_budget"],
        on_event=on_event,
    )
    learner.sandbox.unload()
    summary = summary if isinstance(summary, dict) else {}
    artifacts["mode"] = settings["mode"]
    artifacts["history"] = summary.get("history")
    artifacts["train_seconds"] = summary.get("train_seconds")
    return {**summary, "model": summary.get("model")}


@pytest.fixture(scope="module")
def opened(trained, learner, data, exercise_grading) -> dict[str, Any]:
    """The model described and evaluated in the model sandbox (mnist_open), never here."""
    from grader.mnist.opener import model_bytes, open_model

    model = model_bytes(trained["model"], exercise_grading["model_mb"])
    settings = exercise_grading["model_sandbox"]
    return open_model(learner.sandbox, model, data[1], settings, frozenset({"custom_layer"}))


@pytest.fixture(scope="module")
def description(opened) -> dict[str, Any]:
    return opened["description"]


@pytest.fixture(scope="module")
def evaluation(opened, artifacts) -> dict[str, Any]:
    result = opened.get("evaluation")
    if result is None:
        raise CheckFailed(opened["evaluation_error"])
    artifacts["accuracy"] = result["accuracy"]
    artifacts["misclassified"] = result["misclassified"]
    return result


def _sample(data) -> tuple[np.ndarray, np.ndarray]:
    (x_train, y_train), _ = data
    return x_train[:SAMPLE].copy(), y_train[:SAMPLE].copy()


def _expect_the_data(got: Any, x: np.ndarray, y: np.ndarray) -> None:
    """The pair prepare_data returned holds these images, flattened (scaled or not), and labels.

    Shapes, dtypes and untouched inputs are worth points only when the values are the
    images and labels given; arrays of zeros of the right shape are not.
    """
    expect_that(
        isinstance(got, tuple) and len(got) == 2, "prepare_data must return (x, y)", got=got
    )
    images, labels = (as_numeric(v, what=w) for v, w in zip(got, ("x", "y"), strict=True))
    pixels = x.reshape(len(x), 784).astype(np.float64)
    same_images = images.shape == pixels.shape and any(
        np.allclose(images, pixels / scale, rtol=1e-4, atol=1e-5) for scale in (255, 1)
    )
    same_labels = (labels.shape == y.shape and np.array_equal(labels, y)) or (
        labels.shape == (len(y), 10) and np.array_equal(labels, np.eye(10)[y])
    )
    expect_that(
        same_images and same_labels,
        "prepare_data did not return the images it was given, flattened to (n, 784), and "
        f"their labels ({'the labels' if same_images else 'the images'} are not right)",
        got=got,
    )


def test_prepare_data_shapes_and_dtypes(learner, data):
    """prepare_data gives (n, 784) float32 images and (n, 10) float32 labels"""
    x, y = _sample(data)
    got = learner.prepare_data(x, y)
    expect_that(
        isinstance(got, tuple) and len(got) == 2, "prepare_data must return (x, y)", got=got
    )
    images, labels = (as_numeric(v, what=w) for v, w in zip(got, ("x", "y"), strict=True))
    expect_that(
        images.shape == (SAMPLE, 784),
        f"x has shape {images.shape}, expected ({SAMPLE}, 784): flatten each 28x28 image",
        expected=(SAMPLE, 784),
        got=images.shape,
    )
    expect_that(
        labels.shape == (SAMPLE, 10),
        f"y has shape {labels.shape}, expected ({SAMPLE}, 10)",
        expected=(SAMPLE, 10),
        got=labels.shape,
        mistake="labels_not_one_hot" if labels.ndim == 1 else None,
    )
    expect_that(
        images.dtype == np.float32 and labels.dtype == np.float32,
        f"dtypes are {images.dtype} and {labels.dtype}, expected float32",
        expected="float32",
        got=f"{images.dtype}, {labels.dtype}",
    )
    _expect_the_data(got, x, y)


def test_prepare_data_scales_pixels(learner, data):
    """Pixels are scaled from 0–255 to the range 0–1"""
    x, y = _sample(data)
    images = as_numeric(learner.prepare_data(x, y)[0], what="x")
    expected = x.reshape(SAMPLE, 784).astype(np.float32) / 255
    expect_close(
        images.reshape(expected.shape) if images.size == expected.size else images,
        expected,
        what="the prepared pixels",
        rtol=1e-5,
        atol=1e-6,
        mistakes={"not_scaled": lambda a: float(np.max(a)) > 1.5},
    )


def test_prepare_data_one_hot_labels(learner, data):
    """Each label becomes a one-hot row with its 1 at the digit's position"""
    x, y = _sample(data)
    labels = as_numeric(learner.prepare_data(x, y)[1], what="y")
    expect_close(
        labels,
        np.eye(10, dtype=np.float32)[y],
        what="the one-hot labels",
        mistakes={"labels_not_one_hot": lambda a: a.ndim == 1},
    )


def test_prepare_data_leaves_its_input_alone(learner, data):
    """prepare_data does not modify the images or labels it is given"""
    x, y = _sample(data)
    got, after = learner.with_args.prepare_data(x, y)
    _expect_the_data(got, x, y)
    expect_that(
        np.array_equal(as_numeric(after[0]), x) and np.array_equal(as_numeric(after[1]), y),
        "prepare_data changed the arrays it was given; work on a copy",
        mistake="input_mutated",
    )


def test_model_layers(description):
    """784 inputs → Dense(512, relu) → Dense(10, softmax)"""
    dense = [layer for layer in description["layers"] if layer["class_name"] == "Dense"]
    shape = [(layer["units"], layer["activation"]) for layer in dense]
    expect_that(
        description["input_shape"][-1:] == [784],
        "the model's input must be 784 numbers per image",
        expected=784,
        got=description["input_shape"],
    )
    expect_that(
        shape == [(512, "relu"), (10, "softmax")],
        "the layers are not Dense(512, relu) then Dense(10, softmax)",
        expected="[(512, 'relu'), (10, 'softmax')]",
        got=str(shape),
        mistake="sigmoid_output" if shape[-1:] == [(10, "sigmoid")] else None,
    )


def test_model_parameter_count(description):
    """The network has 407,050 trainable parameters, as the article's table counts"""
    expect_close(description["total_params"], 407_050, what="the number of parameters")


def test_model_compilation(description):
    """Compiled with RMSprop, categorical cross-entropy and the accuracy metric"""
    got = (description["optimizer"], description["loss"], description["metrics"])
    expect_that(
        got[0] == "rmsprop", f"the optimizer is {got[0]}, expected rmsprop", mistake="wrong_compile"
    )
    expect_that(
        got[1] == ["categorical_crossentropy"],
        f"the loss is {got[1]}, expected categorical_crossentropy",
        mistake="wrong_compile",
    )
    expect_that(
        "accuracy" in got[2],
        f"the metrics are {got[2]}, expected accuracy",
        mistake="wrong_compile",
    )


def test_training_loss_falls(trained):
    """train_model returns a History whose loss falls from the first epoch to the last"""
    losses = [v for v in (trained.get("history") or {}).get("loss", []) if v is not None]
    expect_that(len(losses) >= 1, "the History has no loss values", got=trained.get("history"))
    expect_that(
        len(losses) == 1 or losses[-1] < losses[0],
        "the loss did not go down",
        got=losses,
        mistake="too_few_epochs" if len(losses) < 2 else None,
    )


def _tier(evaluation, settings, index: int) -> None:
    threshold = settings["tiers"][index]
    accuracy = evaluation["accuracy"]
    mistake = None
    if accuracy < 0.5:
        mistake = "not_scaled_or_broken"
    elif accuracy < threshold:
        mistake = "too_few_epochs"
    expect_that(
        accuracy >= threshold,
        f"test accuracy {accuracy:.2%} is below {threshold:.0%} ({settings['mode']} mode)",
        expected=f">= {threshold:.2%}",
        got=f"{accuracy:.2%}",
        mistake=mistake,
    )


def test_accuracy_tier_1(evaluation, settings):
    """Test accuracy reaches the first tier (measured by the grader on unseen images)"""
    _tier(evaluation, settings, 0)


def test_accuracy_tier_2(evaluation, settings):
    """Test accuracy reaches the second tier"""
    _tier(evaluation, settings, 1)


def test_accuracy_tier_3(evaluation, settings):
    """Test accuracy reaches the third tier (the article's network reached 97.86 %)"""
    _tier(evaluation, settings, 2)
