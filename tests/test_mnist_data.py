"""The MNIST loader and the fixed --quick slice (numpy only, no TensorFlow)."""

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.mnist import data as mnist
from grader.mnist.data import MnistDataError

README = mnist.BUNDLED_PATH.parent / "README.md"


@pytest.fixture
def no_overrides(monkeypatch, tmp_path):
    """No $DLGRADE_MNIST and an empty Keras home: the bundled file is the only source."""
    monkeypatch.delenv(mnist.ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))


@pytest.fixture(scope="module")
def bundled():
    return mnist.load_data(mnist.BUNDLED_PATH)


def fake_mnist(path: Path, label: int = 7, **overrides) -> Path:
    """A valid-looking MNIST file of blank images all labelled ``label``; arrays replaceable."""
    arrays = {
        "x_train": np.zeros((60000, 28, 28), np.uint8),
        "y_train": np.full(60000, label, np.uint8),
        "x_test": np.zeros((10000, 28, 28), np.uint8),
        "y_test": np.full(10000, label, np.uint8),
    }
    arrays.update(overrides)
    arrays = {name: value for name, value in arrays.items() if value is not None}
    with path.open("wb") as handle:
        np.savez_compressed(handle, **arrays)
    return path


def assert_one_line_error(path: Path) -> str:
    with pytest.raises(MnistDataError) as caught:
        mnist.load_data(path)
    message = str(caught.value)
    assert "\n" not in message and message
    error = caught.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return message


def test_bundled_file_has_keras_layout(bundled):
    (x_train, y_train), (x_test, y_test) = bundled
    assert (x_train.shape, x_train.dtype) == ((60000, 28, 28), np.uint8)
    assert (y_train.shape, y_train.dtype) == ((60000,), np.uint8)
    assert (x_test.shape, x_test.dtype) == ((10000, 28, 28), np.uint8)
    assert (y_test.shape, y_test.dtype) == ((10000,), np.uint8)
    assert np.bincount(y_train).tolist()[:2] == [5923, 6742]
    assert x_train.max() == 255


def test_bundled_file_matches_sha256_in_readme():
    stated = re.search(r"\b[0-9a-f]{64}\b", README.read_text()).group(0)
    assert hashlib.sha256(mnist.BUNDLED_PATH.read_bytes()).hexdigest() == stated
    assert stated == "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"


def test_bundled_file_is_the_default(no_overrides):
    assert mnist.data_path() == mnist.BUNDLED_PATH


def test_exercise_modules_import_without_tensorflow():
    code = (
        "import sys, grader.mnist.data, grader.mnist.plots, grader.mnist.driver,"
        " grader.mnist.grading, grader.mnist.arch, grader.mnist.opener;"
        "print(sorted(m for m in ('tensorflow', 'keras', 'matplotlib') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_env_override_wins_over_keras_cache(monkeypatch, tmp_path):
    (tmp_path / "keras" / "datasets").mkdir(parents=True)
    cache = fake_mnist(tmp_path / "keras" / "datasets" / "mnist.npz", label=1)
    override = fake_mnist(tmp_path / "mine.npz", label=7)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv(mnist.ENV_VAR, str(override))
    (_, y_train), _ = mnist.load_data()
    assert set(y_train.tolist()) == {7}
    monkeypatch.delenv(mnist.ENV_VAR)
    assert mnist.data_path() == cache
    (_, y_train), _ = mnist.load_data()
    assert set(y_train.tolist()) == {1}


def test_env_override_to_missing_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv(mnist.ENV_VAR, str(tmp_path / "nowhere.npz"))
    with pytest.raises(MnistDataError, match="not found"):
        mnist.load_data()


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    assert "cannot read" in assert_one_line_error(path)


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "half.npz"
    data = mnist.BUNDLED_PATH.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert_one_line_error(path)


def test_corrupted_member_is_refused(tmp_path):
    path = tmp_path / "flipped.npz"
    data = bytearray(mnist.BUNDLED_PATH.read_bytes())
    data[len(data) // 3 : len(data) // 3 + 64] = bytes(64)
    path.write_bytes(bytes(data))
    assert_one_line_error(path)


def test_wrong_shape_is_refused(tmp_path):
    path = fake_mnist(tmp_path / "small.npz", x_train=np.zeros((100, 28, 28), np.uint8))
    assert "x_train is uint8[100, 28, 28], expected uint8[60000, 28, 28]" in assert_one_line_error(
        path
    )


def test_wrong_dtype_is_refused(tmp_path):
    path = fake_mnist(tmp_path / "floats.npz", y_test=np.zeros(10000, np.float32))
    assert "y_test" in assert_one_line_error(path)


def test_missing_array_is_refused(tmp_path):
    path = fake_mnist(tmp_path / "no_test.npz", x_test=None)
    assert "no array 'x_test'" in assert_one_line_error(path)


def test_labels_above_nine_are_refused(tmp_path):
    assert "labels above 9" in assert_one_line_error(fake_mnist(tmp_path / "l.npz", label=12))


def test_pickled_arrays_are_never_loaded(tmp_path):
    path = fake_mnist(tmp_path / "objects.npz", y_train=np.array([object()] * 60000))
    assert_one_line_error(path)


def test_plain_npy_file_is_refused(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.zeros(3))
    assert "expected an .npz archive" in assert_one_line_error(path)


def test_quick_split_is_stratified(bundled):
    (x_train, y_train), _ = bundled
    x, y = mnist.quick_split(x_train, y_train)
    assert x.shape == (10 * mnist.QUICK_PER_CLASS, 28, 28) and len(y) == len(x)
    assert np.bincount(y, minlength=10).tolist() == [mnist.QUICK_PER_CLASS] * 10


def test_quick_split_indices_are_fixed(bundled):
    (_, y_train), _ = bundled
    np.random.seed(123)
    first = mnist.quick_indices(y_train)
    np.random.seed(456)
    second = mnist.quick_indices(y_train)
    assert np.array_equal(first, second)
    assert np.all(np.diff(first) > 0)
    assert first[:5].tolist() == [0, 1, 2, 3, 4]
    digest = hashlib.sha256(first.astype("<i8").tobytes()).hexdigest()
    assert digest == QUICK_INDICES_SHA256


def test_quick_split_needs_enough_images():
    with pytest.raises(ValueError, match="digit 1"):
        mnist.quick_indices(np.array([0, 0, 1], np.uint8), per_class=2)


QUICK_INDICES_SHA256 = "578c118dc89cce53d0e9a33b1eae3c876ec4b0c64438cf8f5036d52d046ae8d0"
