"""Terminal and PNG pictures for exercise 04 (no TensorFlow involved)."""

import struct

import numpy as np

from grader.mnist import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HISTORY = {
    "loss": [0.26, 0.105, 0.07, 0.05, 0.038, 0.02],
    "accuracy": [0.924, 0.969, 0.979, 0.985, 0.989, 0.994],
}


def png_size(path) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the PNG signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    assert data[-8:-4] == b"IEND"
    return struct.unpack(">II", data[16:24])


def digit_images(count: int) -> np.ndarray:
    """Distinct fake digits: a vertical bar whose column depends on the index."""
    images = np.zeros((count, 28, 28), np.uint8)
    for i in range(count):
        images[i, 4:24, 4 + 2 * i] = 255
    return images


def test_learning_curve_text_fits_the_requested_size():
    text = plots.learning_curve_text(HISTORY, width=70, height=14)
    lines = text.splitlines()
    assert 0 < len(lines) <= 14
    assert max(len(line) for line in lines) <= 70
    assert "loss" in text and "accuracy" in text and "epoch" in text


def test_learning_curve_text_is_plain_without_color():
    text = plots.learning_curve_text(HISTORY)
    assert "\x1b[" not in text
    assert "\x1b[" in plots.learning_curve_text(HISTORY, color=True)


def test_learning_curve_text_labels_integer_epochs():
    lines = plots.learning_curve_text(HISTORY, width=80, height=16).splitlines()
    tick_line = next(line for line in lines if line.split()[:3] == ["1", "2", "3"])
    assert "6" in tick_line and "." not in tick_line


def test_learning_curve_text_is_repeatable():
    assert plots.learning_curve_text(HISTORY) == plots.learning_curve_text(HISTORY)


def test_learning_curve_text_skips_missing_values():
    text = plots.learning_curve_text({"loss": [0.5, None, float("nan"), 0.2]})
    assert "loss" in text and "accuracy" not in text
    assert plots.learning_curve_text({"loss": [None]}) == "(no finished epochs to plot)"


def test_learning_curve_png_is_a_valid_png(tmp_path):
    path = plots.save_learning_curve(HISTORY, tmp_path / "04_mnist_mlp.curve.png")
    width, height = png_size(path)
    assert width > 300 and height > 200


def test_digits_text_draws_ink_and_captions():
    images = np.zeros((2, 28, 28), np.uint8)
    images[0] = 255
    text = plots.digits_text(images, [3, 8], [5, 0], width=80)
    lines = text.splitlines()
    assert len(lines) == 15
    assert all(line.startswith("█" * 14) for line in lines[:14])
    assert lines[14].split() == ["pred", "3", "true", "5", "pred", "8", "true", "0"]


def test_digits_text_uses_quadrants_for_single_pixels():
    image = np.zeros((28, 28), np.uint8)
    image[0, 1] = 200  # top-right pixel of the first 2x2 cell
    assert plots.digits_text([image], [1], [1]).splitlines()[0] == "▝"


def test_digits_text_wraps_to_width():
    text = plots.digits_text(digit_images(6), list(range(6)), list(range(6)), width=48)
    lines = text.splitlines()
    captions = [line.split() for line in lines if line.startswith("pred")]
    assert [caption[1::4] for caption in captions] == [["0", "1", "2"], ["3", "4", "5"]]
    assert len(lines) == 2 * 15 + 1
    assert all(len(line) <= 48 for line in lines)


def test_digits_png_is_a_valid_png(tmp_path):
    path = plots.save_digits(digit_images(7), [1] * 7, [2] * 7, tmp_path / "digits.png")
    width, height = png_size(path)
    assert width > height > 0
