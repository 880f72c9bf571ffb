"""Exercise 04 graded for real: Keras training in the sandbox on the bundled MNIST (quick mode).

All variants are graded in one sandbox, as class grading does: first the one that never
returns, in a run of its own with a budget just long enough for its quick checks (it uses up
whatever budget it is given), then all the others in one run with a budget that fits a busy
machine.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from conftest import FIXTURES, HAS_BWRAP, ROOT, needs_bwrap, patched_solution

from grader.course.info import load_course
from grader.course.paths import hidden_from_sandbox
from grader.grading.engine import Submission, grade_many
from grader.mnist import driver as mnist_driver
from grader.sandbox.runner import Sandbox

COURSE = load_course()
EXERCISE = COURSE.get("04_mnist_mlp")
FAULTY = tomllib.loads((FIXTURES / "mnist.toml").read_text())
VARIANTS = ["sigmoid_output", "unscaled", "lambda_layer", "plants_links"]
# With bubblewrap the file that plants links also hunts for the test images: one training
# serves the test of each.
ALSO = {"plants_links": ["peeks_at_test_data"]} if HAS_BWRAP else {}
DEGENERATE = ["returns_input", "untrained_constants", "plants_links_untrained"]
HANGS = "never_returns"
PREPARE = {
    "prepare_data_shapes_and_dtypes",
    "prepare_data_scales_pixels",
    "prepare_data_one_hot_labels",
    "prepare_data_leaves_its_input_alone",
}


def planted(name: str, outside: Path) -> str:
    """A variant whose planted links point at ``outside``/absent and ``outside``/model.keras."""
    patch = [edit for part in [name, *ALSO.get(name, [])] for edit in FAULTY[part]["patch"]]
    source = patched_solution(EXERCISE.id, patch)
    return source.replace("{absent}", str(outside / "absent")).replace(
        "{model}", str(outside / "model.keras")
    )


@pytest.fixture(scope="module")
def outside(tmp_path_factory) -> Path:
    """A folder outside every sandbox, holding a saved model of the article's architecture."""
    folder = tmp_path_factory.mktemp("outside")
    keras = mnist_driver.import_keras()
    solution = ROOT / "solutions" / "04_mnist_mlp.py"
    namespace: dict = {}
    exec(compile(solution.read_text(), str(solution), "exec"), namespace)
    namespace["build_model"]().save(folder / "model.keras")
    assert keras.saving.load_model(folder / "model.keras").count_params() == 407_050
    return folder


@pytest.fixture(scope="module")
def graded(outside) -> dict:
    files = {
        "solution": (ROOT / "solutions" / "04_mnist_mlp.py").read_text(),
        "stub": (ROOT / "exercises" / "04_mnist_mlp.py").read_text(),
        **{name: planted(name, outside) for name in VARIANTS + DEGENERATE},
    }
    subs = [Submission(source.encode(), name) for name, source in files.items()]
    hangs = Submission(planted(HANGS, outside).encode(), HANGS)
    with Sandbox(EXERCISE.sandbox_limits(), hide=hidden_from_sandbox()) as box:
        (hung,) = grade_many(
            COURSE, EXERCISE, [hangs], sandbox=box, seed=4, options={"quick": True}, budget=20
        )
        results = grade_many(
            COURSE, EXERCISE, subs, sandbox=box, seed=4, options={"quick": True}, budget=60
        )
    return {**dict(zip(files, results, strict=True)), HANGS: hung}


def checks(result) -> dict:
    return {c.name: c for c in result.checks}


def test_the_solution_scores_full_marks_in_quick_mode(graded):
    result = graded["solution"]
    assert result.passed, [(c.name, c.message) for c in result.checks if not c.passed]
    assert result.artifacts["accuracy"] >= 0.93
    assert result.artifacts["history"]["loss"][-1] < result.artifacts["history"]["loss"][0]


def test_the_stub_scores_zero_with_not_implemented(graded):
    result = graded["stub"]
    assert result.score == 0
    assert all(c.status == "not_implemented" for c in result.checks), [
        (c.name, c.status, c.message) for c in result.checks
    ]


def test_a_sigmoid_output_is_named_as_the_mistake(graded):
    layers = checks(graded["sigmoid_output"])["model_layers"]
    assert not layers.passed and layers.mistake == "sigmoid_output"
    assert "softmax" in layers.hint


def test_unscaled_pixels_fail_the_scaling_check_with_its_hint(graded):
    scaling = checks(graded["unscaled"])["prepare_data_scales_pixels"]
    assert not scaling.passed and scaling.mistake == "not_scaled"
    assert "255" in scaling.hint
    assert graded["unscaled"].score < EXERCISE.max_score


def test_a_lambda_layer_is_refused_by_safe_mode_with_a_clear_message(graded):
    layers = checks(graded["lambda_layer"])["model_layers"]
    assert not layers.passed and layers.mistake == "custom_layer"
    assert "keras.layers only" in layers.message
    assert all(checks(graded["lambda_layer"])[name].passed for name in PREPARE)


def test_a_train_model_that_never_returns_times_out_and_grading_finishes(graded):
    found = checks(graded[HANGS])
    assert all(found[name].passed for name in PREPARE)
    trained = [c for c in found.values() if c.name not in PREPARE]
    assert trained and all(c.status == "timeout" for c in trained), [
        (c.name, c.status) for c in trained
    ]


@needs_bwrap(reason="bubblewrap is not installed")
def test_learner_code_cannot_find_the_test_images(graded):
    found = checks(graded["plants_links"])  # it hunts too (ALSO)
    assert all(found[name].passed for name in PREPARE), [found[n].message for n in PREPARE]
    assert graded["plants_links"].passed


@pytest.mark.parametrize("name", DEGENERATE)
def test_a_learner_that_computes_nothing_scores_zero(graded, name):
    result = graded[name]
    assert result.score == 0, [(c.name, c.status, c.message) for c in result.checks if c.passed]
    assert len(result.checks) == len(EXERCISE.points)


def test_links_and_fifos_planted_in_the_work_directory_change_nothing(graded, outside):
    result = graded["plants_links"]
    assert result.passed, [(c.name, c.message) for c in result.checks if not c.passed]
    assert sorted(p.name for p in outside.iterdir()) == ["model.keras"]
