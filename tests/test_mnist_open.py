"""The model sandbox for real: crafted model files cost the learner the checks, never the grader.

The opener runs in a sandboxed worker of its own (grader/mnist/opener.py); what it answers is
checked for type before a check reads it.
"""

from __future__ import annotations

import io
import json
import resource
import zipfile

import numpy as np
import pytest

from grader.course.info import load_course
from grader.grading.expect import CheckFailed
from grader.mnist import data as mnist
from grader.mnist import driver as mnist_driver
from grader.mnist.opener import checked, model_bytes, open_model
from grader.sandbox.runner import Sandbox

EXERCISE = load_course().get("04_mnist_mlp")
SETTINGS = EXERCISE.grading["model_sandbox"]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    keras = mnist_driver.import_keras()
    model = keras.Sequential(
        [keras.Input(shape=(784,)), keras.layers.Dense(16), keras.layers.Dense(10)]
    )
    return np.frombuffer(mnist_driver.saved_bytes(model), np.uint8)


@pytest.fixture(scope="module")
def learner_box():
    with Sandbox(EXERCISE.sandbox_limits()) as box:
        yield box


@pytest.fixture(scope="module")
def test_images():
    _, (x_test, y_test) = mnist.load_data()
    return x_test[:200], y_test[:200]


def with_config(data: np.ndarray, edit) -> np.ndarray:
    source = zipfile.ZipFile(io.BytesIO(data.tobytes()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in source.namelist():
            content = source.read(name)
            if name == "config.json":
                content = json.dumps(edit(json.loads(content))).encode()
            archive.writestr(name, content)
    return np.frombuffer(buffer.getvalue(), np.uint8)


def test_a_dense_of_a_million_units_costs_the_grader_nothing(learner_box, reference, test_images):
    def million(config):
        config["config"]["layers"][1]["config"]["units"] = 1_000_000
        config["config"]["layers"][2]["build_config"] = {"input_shape": [None, 1_000_000]}
        return config

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckFailed, match="Dense layer of 1000000 units"):
        open_model(learner_box, with_config(reference, million), test_images, SETTINGS)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 256  # 784 x 1,000,000 float32 weights would be 3 GiB


def test_a_zip_bomb_is_refused_in_the_sandbox(learner_box, test_images):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", "{}")
        with archive.open("model.weights.h5", "w", force_zip64=True) as member:
            for _ in range(100):
                member.write(bytes(1 << 20))
    bomb = np.frombuffer(buffer.getvalue(), np.uint8)
    with pytest.raises(CheckFailed, match="declares 104857600 bytes"):
        open_model(learner_box, bomb, test_images, SETTINGS)


def test_the_reference_architecture_is_opened_and_evaluated(learner_box, reference, test_images):
    opened = open_model(learner_box, reference, test_images, SETTINGS)
    assert opened["description"]["total_params"] == 784 * 16 + 16 + 16 * 10 + 10
    assert opened["evaluation"]["total"] == 200
    assert 0 <= opened["evaluation"]["accuracy"] <= 1


def test_a_model_sandbox_that_gives_up_fails_the_check(learner_box, reference, test_images):
    impatient = {**SETTINGS, "call_timeout": 0.01}
    with pytest.raises(CheckFailed, match=r"could not be opened: .*did not return"):
        open_model(learner_box, reference, test_images, impatient)


@pytest.mark.parametrize(
    "answer",
    [
        None,
        [],
        {"refused": 5},
        {"refused": "x", "mistake": "os.system"},
        {"description": {"layers": "many"}},
        {"description": {"layers": [], "input_shape": [], "total_params": True}},
        {
            "description": {"layers": [], "input_shape": [], "total_params": 1, "loss": []},
            "evaluation": {"accuracy": 2.0, "misclassified": []},
        },
    ],
)
def test_an_answer_that_is_not_a_description_fails_the_check(answer):
    with pytest.raises(CheckFailed):
        checked(answer, 10)


def test_a_misclassified_index_outside_the_test_set_fails_the_check():
    description = {
        "layers": [],
        "input_shape": [None, 784],
        "total_params": 1,
        "loss": [],
        "metrics": [],
    }
    good = {"index": 3, "predicted": 1, "true": 2, "confidence": 0.5}
    answer = {"description": description, "evaluation": {"accuracy": 0.5, "misclassified": [good]}}
    assert checked(answer, 10) is answer
    answer["evaluation"]["misclassified"] = [{**good, "index": 10}]
    with pytest.raises(CheckFailed):
        checked(answer, 10)


def test_the_model_must_come_back_as_bytes_under_the_cap():
    with pytest.raises(CheckFailed, match="no trained model"):
        model_bytes("model.keras", 1)
    with pytest.raises(CheckFailed, match="larger than 1 MiB"):
        model_bytes(np.zeros((1 << 20) + 1, np.uint8), 1)
    assert model_bytes(np.zeros(5, np.uint8), 1).size == 5
