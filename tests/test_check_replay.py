"""Exercise 03's reference replay: computed once per input, never shared across inputs."""

from __future__ import annotations

import importlib.util

import numpy as np
from conftest import ROOT

from grader.checks import check_03_backprop as check


def reference():
    spec = importlib.util.spec_from_file_location("ref03", ROOT / "solutions" / "03_backprop.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_replay_is_reused_for_equal_inputs_and_recomputed_for_any_other():
    ref = reference()
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(6, 2)), rng.uniform(size=(6, 1))
    params = ref.init_params(2, 3, 1, seed=4)
    calls = []
    forward = ref.forward
    ref.forward = lambda *a: calls.append(1) or forward(*a)
    first, final = check._replay(ref, X, Y, params, 0.5, 10)
    assert len(calls) == 10
    again, final_again = check._replay(ref, X, Y, {k: v.copy() for k, v in params.items()}, 0.5, 10)
    assert len(calls) == 10 and again == first  # the same bytes: not computed again
    final_again["W1"][:] = 0  # what a check gets is its own copy
    assert check._replay(ref, X, Y, params, 0.5, 10)[1]["W1"].any()
    moved = {**params, "b2": params["b2"] + 1e-12}
    other, _ = check._replay(ref, X, Y, moved, 0.5, 10)
    assert len(calls) == 20 and other != first
    assert check._replay(ref, X, Y, params, 0.6, 10)[0] != first and len(calls) == 30
    assert np.allclose(final["W1"], check._replay_once(ref, X, Y, params, 0.5, 10)[1]["W1"])
