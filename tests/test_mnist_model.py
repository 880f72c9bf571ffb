"""Exercise 04 with real Keras on small slices: the driver, and opening saved models safely.

The opener's logic (grader/mnist/grading.py, grader/mnist/arch.py) is tested here in-process
on crafted files; test_mnist_open.py sends crafted files through the real model sandbox.
"""

import importlib.util
import io
import json
import zipfile
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from grader.mnist import data as mnist
from grader.mnist import driver as mnist_driver
from grader.mnist.grading import open_and_evaluate

ROOT = Path(__file__).resolve().parents[1]
RESULT_KEYS = {"history", "train_seconds", "epochs", "model", "x_shape", "x_dtype"}
RESULT_KEYS |= {"x_min", "x_max", "y_shape"}


def load_file(relative: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(Path(relative).stem, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def keras():
    return mnist_driver.import_keras()


@pytest.fixture(scope="module")
def solution(keras):
    return load_file("solutions/04_mnist_mlp.py")


@pytest.fixture(scope="module")
def data():
    (x_train, y_train), (x_test, y_test) = mnist.load_data(mnist.BUNDLED_PATH)
    return mnist.quick_split(x_train, y_train, per_class=30), (x_test[:500], y_test[:500])


def learner_from(solution: ModuleType, epochs: int = 1, **replacements) -> ModuleType:
    """A learner module using the solution's functions, training for ``epochs`` epochs."""
    learner = ModuleType("learner")
    learner.prepare_data = solution.prepare_data
    learner.build_model = solution.build_model
    learner.train_model = lambda model, x, y: model.fit(
        x, y, epochs=epochs, batch_size=32, verbose=0
    )
    for name, function in replacements.items():
        setattr(learner, name, function)
    return learner


def run_driver(learner, data, count: int = 300, seed=None):
    (x, y), _ = data
    events = []
    result = mnist_driver.train_and_save(learner, x[:count], y[:count], events.append, seed)
    return result, events


@pytest.fixture(scope="module")
def trained(solution, data):
    return run_driver(learner_from(solution), data)


def compiled(keras, *layers, shape=(784,)):
    model = keras.Sequential([keras.Input(shape=shape), *layers])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def members_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def archive_of(members: dict[str, bytes]) -> np.ndarray:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return np.frombuffer(buffer.getvalue(), np.uint8)


def edited(model_bytes: np.ndarray, edit) -> np.ndarray:
    """The archive with its config.json passed through ``edit`` (a dict -> dict function)."""
    members = members_of(model_bytes.tobytes())
    members["config.json"] = json.dumps(edit(json.loads(members["config.json"]))).encode()
    return archive_of(members)


def opened(model_bytes, data) -> dict:
    _, (x_test, y_test) = data
    return open_and_evaluate(np.asarray(model_bytes, np.uint8), x_test, y_test)


@pytest.fixture(scope="module")
def reference_bytes(trained):
    return trained[0]["model"]


def test_driver_returns_plain_data_and_the_model_bytes(trained):
    result, _ = trained
    assert set(result) == RESULT_KEYS
    json.dumps({k: v for k, v in result.items() if k != "model"}, allow_nan=False)
    assert result["x_shape"] == [300, 784] and result["x_dtype"] == "float32"
    assert result["x_min"] == 0.0 and result["x_max"] == 1.0 and result["y_shape"] == [300, 10]
    assert result["epochs"] == 1 and set(result["history"]) == {"loss", "accuracy"}
    assert result["model"].dtype == np.uint8 and result["model"][:2].tobytes() == b"PK"


def test_driver_emits_one_event_per_epoch(trained):
    result, events = trained
    assert events == [
        {
            "epoch": 1,
            "epochs": 1,
            "loss": result["history"]["loss"][0],
            "accuracy": result["history"]["accuracy"][0],
        }
    ]


def test_a_seeded_run_trains_to_the_same_weights_twice(solution, data):
    first, _ = run_driver(learner_from(solution), data, count=200, seed=0)
    again, _ = run_driver(learner_from(solution), data, count=200, seed=0)
    other, _ = run_driver(learner_from(solution), data, count=200, seed=1)
    assert first["history"] == again["history"]
    assert first["history"] != other["history"]


def test_the_saved_model_is_described_and_evaluated(reference_bytes, data):
    result = opened(reference_bytes, data)
    description, report = result["description"], result["evaluation"]
    assert description["total_params"] == 407_050 and description["input_shape"] == [None, 784]
    assert [(d["class_name"], d["units"], d["activation"]) for d in description["layers"]] == [
        ("Dense", 512, "relu"),
        ("Dense", 10, "softmax"),
    ]
    assert (description["optimizer"], description["loss"], description["metrics"]) == (
        "rmsprop",
        ["categorical_crossentropy"],
        ["accuracy"],
    )
    assert report["total"] == 500 and report["outputs_sum_to_one"] and report["accuracy"] > 0.3
    wrong = report["misclassified"]
    assert len(wrong) == 8 and all(item["predicted"] != item["true"] for item in wrong)
    _, (_, y_test) = data
    assert all(y_test[item["index"]] == item["true"] for item in wrong)
    json.dumps(result, allow_nan=False)


def test_a_functional_chain_and_a_separate_softmax_are_described(keras, data):
    inputs = keras.Input(shape=(28, 28))
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.Dense(16, activation="relu")(keras.layers.Dropout(0.1)(x))
    model = keras.Model(inputs, keras.layers.Softmax()(keras.layers.Dense(10)(x)))
    result = opened(np.frombuffer(mnist_driver.saved_bytes(model), np.uint8), data)
    assert result["description"]["output_activation"] == "softmax"
    assert result["description"]["total_params"] == model.count_params()
    assert result["evaluation"]["total"] == 500


def test_a_sigmoid_output_is_not_a_distribution(keras, data):
    model = compiled(keras, keras.layers.Dense(10, activation="sigmoid"))
    result = opened(np.frombuffer(mnist_driver.saved_bytes(model), np.uint8), data)
    assert result["description"]["output_activation"] == "sigmoid"
    assert result["evaluation"]["outputs_sum_to_one"] is False


def test_a_model_for_other_inputs_is_described_but_not_evaluated(keras, data):
    model = compiled(keras, keras.layers.Dense(10), shape=(100,))
    result = opened(np.frombuffer(mnist_driver.saved_bytes(model), np.uint8), data)
    assert result["evaluation"] is None and "784 pixels" in result["evaluation_error"]


def refused(result: dict, pattern: str) -> str:
    assert "refused" in result, result
    assert pattern in result["refused"], result["refused"]
    return result["mistake"]


def test_a_config_naming_a_non_keras_class_is_refused(reference_bytes, data):
    def edit(config):
        config["config"]["layers"][1].update(module="os", class_name="system")
        return config

    result = opened(edited(reference_bytes, edit), data)
    assert refused(result, "os.system") == "custom_layer"


def test_a_lambda_nested_in_a_sequential_is_refused(keras, data):
    inner = keras.Sequential([keras.layers.Lambda(lambda t: t * 2)])
    model = compiled(keras, inner, keras.layers.Dense(10, activation="softmax"))
    result = opened(np.frombuffer(mnist_driver.saved_bytes(model), np.uint8), data)
    assert refused(result, "Lambda") == "custom_layer"


def test_a_tfsm_layer_is_refused(reference_bytes, data):
    def edit(config):
        layer = config["config"]["layers"][1]
        layer["class_name"] = "TFSMLayer"
        layer["config"] = {"filepath": "/tmp/saved_model", "call_endpoint": "serve"}
        return config

    assert refused(opened(edited(reference_bytes, edit), data), "keras.layers.TFSMLayer")


def test_a_keras_function_that_is_not_an_activation_is_refused(reference_bytes, data):
    def edit(config):
        gadget = {"module": "keras.utils", "class_name": "function", "config": "get_file"}
        config["config"]["layers"][1]["config"]["activation"] = gadget
        return config

    assert refused(opened(edited(reference_bytes, edit), data), "get_file")


def test_an_h5_file_renamed_to_keras_is_refused(keras, tmp_path, data):
    model = compiled(keras, keras.layers.Dense(10, activation="softmax"))
    model.save(tmp_path / "model.h5")
    data_h5 = np.frombuffer((tmp_path / "model.h5").read_bytes(), np.uint8)
    assert refused(opened(data_h5, data), "HDF5 (.h5)") == "unusable"


def test_a_zip_bomb_is_refused_before_it_is_read(data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", "{}")
        with archive.open("model.weights.h5", "w", force_zip64=True) as member:
            block = bytes(1 << 20)
            for _ in range(200):
                member.write(block)
    assert len(buffer.getvalue()) < 1 << 20
    result = opened(np.frombuffer(buffer.getvalue(), np.uint8), data)
    assert refused(result, "model.weights.h5 declares 209715200 bytes") == "unusable"


def test_a_weights_member_declaring_gigabytes_is_refused(reference_bytes, data):
    blob = bytearray(reference_bytes.tobytes())
    name = b"model.weights.h5"
    entry = blob.find(b"PK\x01\x02")  # the central directory entry of the weights member
    while entry != -1 and blob[entry + 46 : entry + 46 + len(name)] != name:
        entry = blob.find(b"PK\x01\x02", entry + 4)
    assert entry != -1
    blob[entry + 24 : entry + 28] = (0xFFFFFFF0).to_bytes(4, "little")  # 4 GiB declared
    assert refused(opened(np.frombuffer(bytes(blob), np.uint8), data), "declares 4294967280")


def test_weights_declaring_ten_gigabytes_are_refused(reference_bytes, data):
    import h5py

    members = members_of(reference_bytes.tobytes())
    weights = io.BytesIO(members["model.weights.h5"])
    with h5py.File(weights, "a") as store:
        store.create_dataset("huge", shape=(50_000, 50_000), dtype="float32", chunks=(100, 100))
    members["model.weights.h5"] = weights.getvalue()
    assert len(members["model.weights.h5"]) < 8 << 20
    assert refused(opened(archive_of(members), data), "declare more than the 407,050")


def test_weights_linking_outside_their_file_are_refused(reference_bytes, data):
    import h5py

    members = members_of(reference_bytes.tobytes())
    weights = io.BytesIO(members["model.weights.h5"])
    with h5py.File(weights, "a") as store:
        store["elsewhere"] = h5py.ExternalLink("/etc/passwd", "/")
    members["model.weights.h5"] = weights.getvalue()
    assert refused(opened(archive_of(members), data), "link")


def test_a_dense_of_a_million_units_is_refused_from_its_config(reference_bytes, data):
    def edit(config):
        layer = config["config"]["layers"][1]
        layer["config"]["units"] = 1_000_000
        return config

    assert refused(opened(edited(reference_bytes, edit), data), "Dense layer of 1000000 units")


def test_a_build_config_that_lies_about_the_input_is_refused(reference_bytes, data):
    def edit(config):
        config["config"]["layers"][1]["build_config"] = {"input_shape": [None, 50_000]}
        return config

    assert refused(opened(edited(reference_bytes, edit), data), "was built for")


def test_repeated_keys_and_extra_members_are_refused(reference_bytes, data):
    members = members_of(reference_bytes.tobytes())
    text = members["config.json"].decode()
    repeated = {**members, "config.json": ('{"module": "os", ' + text[1:]).encode()}
    assert refused(opened(archive_of(repeated), data), "repeats a key")
    extra = {**members, "assets/vocabulary.txt": b"/etc/passwd"}
    assert refused(opened(archive_of(extra), data), "4 members")
    members.pop("metadata.json")
    other = {**members, "assets/vocabulary.txt": b"/etc/passwd"}
    assert refused(opened(archive_of(other), data), "assets/vocabulary.txt")
    assert refused(opened(np.frombuffer(b"not a zip file", np.uint8), data), "model.save()")
