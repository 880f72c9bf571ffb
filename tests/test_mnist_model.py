"""Exercise 04 with real Keras on small slices: solution, driver, model loading and scoring."""

import importlib.util
import json
import zipfile
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from grader import mnist, mnist_driver
from grader.mnist_grading import ModelLoadError, describe_model, evaluate, load_learner_model

ROOT = Path(__file__).resolve().parents[1]
RESULT_KEYS = {
    "history",
    "train_seconds",
    "epochs",
    "x_shape",
    "x_dtype",
    "x_min",
    "x_max",
    "y_shape",
}


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


def run_driver(learner, data, tmp_path, count: int = 300):
    (x, y), _ = data
    train_path = mnist.save_training_file(tmp_path / "train.npz", x[:count], y[:count])
    events = []
    model_path = tmp_path / "model.keras"
    result = mnist_driver.train_and_save(learner, str(train_path), str(model_path), events.append)
    return result, events, model_path


@pytest.fixture(scope="module")
def trained(solution, data, tmp_path_factory):
    return run_driver(learner_from(solution), data, tmp_path_factory.mktemp("trained"))


def save(model, tmp_path, name="model.keras") -> Path:
    path = tmp_path / name
    model.save(path)
    return path


def compiled(keras, *layers):
    model = keras.Sequential([keras.Input(shape=(784,)), *layers])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def test_solution_builds_the_article_network(solution):
    description = describe_model(solution.build_model())
    assert description["total_params"] == 407050
    assert description["input_shape"] == [None, 784]
    assert [
        (layer["class_name"], layer["units"], layer["activation"])
        for layer in description["layers"]
    ] == [("Dense", 512, "relu"), ("Dense", 10, "softmax")]
    assert description["optimizer"] == "rmsprop"
    assert description["loss"] == ["categorical_crossentropy"]
    assert description["metrics"] == ["accuracy"]


def test_solution_prepares_data_without_touching_inputs(solution, data):
    (x, y), _ = data
    x_before, y_before = x.copy(), y.copy()
    x_prepared, y_onehot = solution.prepare_data(x, y)
    assert (x_prepared.shape, x_prepared.dtype) == ((300, 784), np.float32)
    assert x_prepared.min() == 0.0 and x_prepared.max() == 1.0
    assert (y_onehot.shape, y_onehot.dtype) == ((300, 10), np.float32)
    assert np.array_equal(y_onehot.argmax(axis=1), y) and np.all(y_onehot.sum(axis=1) == 1)
    assert np.array_equal(x, x_before) and np.array_equal(y, y_before)


def test_stub_functions_are_not_implemented():
    stub = load_file("exercises/04_mnist_mlp.py")
    calls = [
        lambda: stub.prepare_data(np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8)),
        stub.build_model,
        lambda: stub.train_model(None, None, None),
    ]
    for call in calls:
        with pytest.raises(NotImplementedError):
            call()


def test_driver_returns_plain_json_data(trained):
    result, _, model_path = trained
    assert set(result) == RESULT_KEYS
    json.dumps(result, allow_nan=False)
    assert result["x_shape"] == [300, 784] and result["x_dtype"] == "float32"
    assert result["x_min"] == 0.0 and result["x_max"] == 1.0
    assert result["y_shape"] == [300, 10]
    assert result["epochs"] == 1 and set(result["history"]) == {"loss", "accuracy"}
    assert result["train_seconds"] > 0 and model_path.is_file()


def test_driver_emits_one_event_per_epoch(trained):
    result, events, _ = trained
    assert events == [
        {
            "epoch": 1,
            "epochs": 1,
            "loss": result["history"]["loss"][0],
            "accuracy": result["history"]["accuracy"][0],
        }
    ]


def test_saved_model_loads_and_is_described(trained):
    description = describe_model(load_learner_model(trained[2]))
    assert description["total_params"] == 407050
    assert description["output_activation"] == "softmax"


def test_evaluate_computes_accuracy_itself(trained, data):
    _, (x_test, y_test) = data
    model = load_learner_model(trained[2])
    report = evaluate(model, x_test, y_test, show=5)
    expected = model.predict(x_test.reshape(-1, 784) / 255, verbose=0).argmax(axis=1) == y_test
    assert report["total"] == 500 and report["correct"] == int(expected.sum())
    assert report["accuracy"] == pytest.approx(expected.mean()) and report["accuracy"] > 0.3
    assert report["outputs_sum_to_one"] and report["non_finite_outputs"] == 0
    wrong = report["misclassified"]
    assert len(wrong) == 5 and all(item["predicted"] != item["true"] for item in wrong)
    assert all(y_test[item["index"]] == item["true"] for item in wrong)
    assert [item["confidence"] for item in wrong] == sorted(
        (item["confidence"] for item in wrong), reverse=True
    )
    json.dumps(report, allow_nan=False)


def test_driver_adds_progress_to_learner_callbacks(keras, solution, data, tmp_path):
    seen = []
    own = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))

    def train_model(model, x, y):
        return model.fit(x, y, epochs=2, batch_size=50, verbose=0, callbacks=[own])

    result, events, _ = run_driver(
        learner_from(solution, train_model=train_model), data, tmp_path, count=100
    )
    assert seen == [0, 1]
    assert [(event["epoch"], event["epochs"]) for event in events] == [(1, 2), (2, 2)]
    assert result["epochs"] == 2


def test_driver_lets_learner_exceptions_through(solution, data, tmp_path):
    problem = ZeroDivisionError("learner bug")

    def prepare_data(x, y):
        raise problem

    with pytest.raises(ZeroDivisionError) as caught:
        run_driver(learner_from(solution, prepare_data=prepare_data), data, tmp_path)
    assert caught.value is problem


def test_driver_requires_the_history(solution, data, tmp_path):
    def train_model(model, x, y):
        model.fit(x, y, epochs=1, verbose=0)

    learner = learner_from(solution, train_model=train_model)
    with pytest.raises(TypeError, match="must return the History"):
        run_driver(learner, data, tmp_path, count=50)


def test_driver_reports_nan_as_none(solution, data, tmp_path):
    def prepare_data(x, y):
        x_prepared, y_onehot = solution.prepare_data(x, y)
        x_prepared[:], y_onehot[:] = np.inf, np.nan
        return x_prepared, y_onehot

    result, events, _ = run_driver(
        learner_from(solution, prepare_data=prepare_data), data, tmp_path, count=50
    )
    json.dumps([result, events], allow_nan=False)
    assert result["x_min"] is None and events[0]["loss"] is None


def test_lambda_layer_is_refused(keras, tmp_path):
    model = compiled(
        keras, keras.layers.Lambda(lambda x: x * 2), keras.layers.Dense(10, activation="softmax")
    )
    with pytest.raises(ModelLoadError, match=r"^use keras\.layers only: .*Lambda"):
        load_learner_model(save(model, tmp_path))


def test_custom_layer_is_refused(keras, tmp_path):
    @keras.saving.register_keras_serializable(package="learner")
    class Double(keras.layers.Layer):
        def call(self, x):
            return x * 2

    model = compiled(keras, Double(), keras.layers.Dense(10, activation="softmax"))
    with pytest.raises(ModelLoadError, match=r"^use keras\.layers only: .*'Double'"):
        load_learner_model(save(model, tmp_path))


def test_tampered_config_is_refused_before_keras_reads_it(trained, tmp_path):
    with zipfile.ZipFile(trained[2]) as original:
        members = {name: original.read(name) for name in original.namelist()}
    config = members["config.json"].decode()
    members["config.json"] = config.replace('"module": "keras.layers"', '"module": "os"', 1)
    tampered = tmp_path / "tampered.keras"
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(ModelLoadError, match=r"^use keras\.layers only: .*os.InputLayer"):
        load_learner_model(tampered)


def test_sigmoid_output_is_described_and_not_a_distribution(keras, trained, data, tmp_path):
    model = compiled(
        keras,
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(10, activation="sigmoid"),
    )
    loaded = load_learner_model(save(model, tmp_path))
    assert describe_model(loaded)["output_activation"] == "sigmoid"
    _, (x_test, y_test) = data
    assert evaluate(loaded, x_test[:50], y_test[:50])["outputs_sum_to_one"] is False


def test_output_activation_is_the_last_one_applied(keras):
    linear = compiled(keras, keras.layers.Dense(16, activation="relu"), keras.layers.Dense(10))
    assert describe_model(linear)["output_activation"] == "linear"
    separate = compiled(
        keras, keras.layers.Dense(10), keras.layers.Softmax(), keras.layers.Dropout(0.1)
    )
    assert describe_model(separate)["output_activation"] == "softmax"


def test_missing_or_broken_files_are_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="no trained model"):
        load_learner_model(tmp_path / "absent.keras")
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(ModelLoadError, match=r"not a model saved with model\.save\(\)"):
        load_learner_model(broken)


def test_evaluate_refuses_models_that_do_not_take_784_pixels(keras, data):
    model = keras.Sequential([keras.Input(shape=(100,)), keras.layers.Dense(10)])
    _, (x_test, y_test) = data
    with pytest.raises(ModelLoadError, match="784 pixels"):
        evaluate(model, x_test, y_test)
