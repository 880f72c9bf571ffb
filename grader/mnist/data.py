"""MNIST for exercise 04: load the digits and cut the fixed slice used by ``--quick``.

Plain numpy only: this module never imports TensorFlow, so the CLI stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

BUNDLED_PATH = Path(__file__).parent.parent / "data" / "mnist.npz"
ENV_VAR = "DLGRADE_MNIST"
EXPECTED = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}
QUICK_PER_CLASS = 1000

Split = tuple[np.ndarray, np.ndarray]


class MnistDataError(ValueError):
    """The MNIST file is missing, corrupt, truncated or not MNIST at all."""


def keras_cache_path() -> Path:
    """Where ``keras.datasets.mnist.load_data()`` keeps its download."""
    home = os.environ.get("KERAS_HOME") or "~/.keras"
    return Path(home).expanduser() / "datasets" / "mnist.npz"


def data_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Pick the file to read: ``path``, then $DLGRADE_MNIST, then Keras's cache, then ours."""
    if path is not None:
        return Path(path)
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    cache = keras_cache_path()
    return cache if cache.is_file() else BUNDLED_PATH


def load_data(path: str | os.PathLike[str] | None = None) -> tuple[Split, Split]:
    """Return ``((x_train, y_train), (x_test, y_test))`` exactly as Keras's loader does.

    Images are uint8 arrays of shape (n, 28, 28), labels uint8 arrays of shape (n,).
    Any unreadable or unexpected file raises :class:`MnistDataError` with a one-line message.
    """
    source = data_path(path)
    if not source.is_file():
        raise MnistDataError(f"MNIST file not found: {source}")
    arrays = _read_npz(source)
    for name, shape in EXPECTED.items():
        array = arrays.get(name)
        if array is None:
            raise MnistDataError(f"{source} is not an MNIST file: it has no array {name!r}")
        if array.shape != shape or array.dtype != np.uint8:
            raise MnistDataError(
                f"{source} is not an MNIST file: {name} is {array.dtype}{list(array.shape)}, "
                f"expected uint8{list(shape)}"
            )
    for name in ("y_train", "y_test"):
        if arrays[name].max() > 9:
            raise MnistDataError(f"{source} is not an MNIST file: {name} has labels above 9")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _read_npz(source: Path) -> dict[str, np.ndarray]:
    """Read the four expected arrays, turning every low-level failure into one line."""
    try:
        archive = np.load(source, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise MnistDataError(f"{source} is not an MNIST file: expected an .npz archive")
        with archive:
            return {name: archive[name] for name in EXPECTED if name in archive.files}
    except MnistDataError:
        raise
    except Exception as exc:  # zipfile, zlib, numpy and OS errors all mean "unreadable"
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise MnistDataError(f"cannot read MNIST file {source}: {reason}") from None


def quick_indices(y_train: np.ndarray, per_class: int = QUICK_PER_CLASS) -> np.ndarray:
    """Indices of a fixed stratified slice: ``per_class`` evenly spaced images of each digit.

    No random numbers are involved, so the slice is the same on every run and machine.
    """
    labels = np.asarray(y_train)
    chosen = []
    for digit in range(10):
        positions = np.flatnonzero(labels == digit)
        if len(positions) < per_class:
            raise ValueError(f"only {len(positions)} images of digit {digit}, need {per_class}")
        chosen.append(positions[(np.arange(per_class) * len(positions)) // per_class])
    return np.sort(np.concatenate(chosen))


def quick_split(
    x_train: np.ndarray, y_train: np.ndarray, per_class: int = QUICK_PER_CLASS
) -> Split:
    """The training images and labels of the ``--quick`` slice (copies, in dataset order)."""
    indices = quick_indices(y_train, per_class)
    return x_train[indices], y_train[indices]
