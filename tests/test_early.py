"""The early call (grader/early.py): exercise 03's XOR training sent ahead by `dlgrade check`.

The learner files here tell the paths apart: their ``train`` behaves differently in a
process that has already trained once, so a result proves which call came first in it,
and a ``train`` that waits for another check's call proves the two ran at the same time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import early, grading
from grader.checking import Target
from grader.course import ExerciseLimits, load_course
from grader.paths import hidden_from_sandbox

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = (ROOT / "solutions" / "03_backprop.py").read_text(encoding="utf-8")
XOR_CHECK = "train_learns_xor"
LOSS_CHECK = "train_loss_goes_down"  # trains too, before the XOR check in the usual order

# Trains properly only on the first call in its process; after that it stops after one epoch.
FIRST_CALL_ONLY = """

_trained = []
_train = train


def train(X, Y, n_hidden=4, lr=2.0, epochs=5000, seed=0):
    _trained.append(1)
    return _train(X, Y, n_hidden, lr, epochs if len(_trained) == 1 else 1, seed)
"""

# What train does when handed the four XOR samples (other inputs train normally).
ON_XOR = {
    "timeout": "while True:\n            pass",
    "raises": "raise ValueError('no XOR today')",
    "exits": "import os; os._exit(3)",
    "kills_parent": "import os, signal; os.kill(os.getppid(), signal.SIGKILL)",
}
# Trains on XOR only once init_params has been called elsewhere meanwhile (the two share a
# working directory); alone, it gives up after 20 s.
WAITS_FOR_THE_CHECKS = """

import os as _os
import time as _time

_init_params, _train = init_params, train


def init_params(n_in, n_hidden, n_out, seed=0):
    open("init_params_was_called", "w").close()
    return _init_params(n_in, n_hidden, n_out, seed)


def train(X, Y, n_hidden=4, lr=2.0, epochs=5000, seed=0):
    if len(X) == 4:
        waited = _time.monotonic()
        while not _os.path.exists("init_params_was_called"):
            if _time.monotonic() - waited > 20:
                raise RuntimeError("no other call came while train ran")
            _time.sleep(0.01)
    return _train(X, Y, n_hidden, lr, epochs, seed)
"""

HOSTILE = """

_train = train


def train(X, Y, n_hidden=4, lr=2.0, epochs=5000, seed=0):
    if len(X) == 4:
        {action}
    return _train(X, Y, n_hidden, lr, epochs, seed)
"""


@pytest.fixture(autouse=True)
def no_calls_left():
    yield
    early.discard()


def exercise(call_timeout: float | None = None):
    ex = load_course().get("03_backprop")
    if call_timeout:
        ex = dataclasses.replace(ex, limits=ExerciseLimits(call_timeout=call_timeout))
    return ex


def checks(result) -> dict[str, object]:
    return {c.name: c for c in result.checks}


def grade(path: Path, ex, *, ahead: bool):
    if ahead:
        early.start(Target(ex, path, str(path), record=False), hidden_from_sandbox())
        assert len(early._calls) == 1, "the call was not sent ahead"
    return grading.grade(load_course(), ex, path, seed=7, display_name=str(path))


def test_the_check_gets_the_early_outcome(tmp_path: Path) -> None:
    path = tmp_path / "03_backprop.py"
    path.write_text(SOLUTION + FIRST_CALL_ONLY, encoding="utf-8")
    direct = checks(grade(path, exercise(), ahead=False))
    assert direct[LOSS_CHECK].status == "passed"  # the first train call in its child
    assert direct[XOR_CHECK].status == "failed"  # its child trained for other checks first

    ahead = checks(grade(path, exercise(), ahead=True))
    assert ahead[XOR_CHECK].status == "passed"  # trained first thing in its process
    assert ahead[LOSS_CHECK].status == "passed"  # and left the checks' child untouched
    others = {n: c.status for n, c in ahead.items() if n not in (XOR_CHECK, LOSS_CHECK)}
    assert others == {n: c.status for n, c in direct.items() if n not in (XOR_CHECK, LOSS_CHECK)}
    assert early._calls == []  # taken


def test_the_checks_run_while_the_early_call_trains(tmp_path: Path) -> None:
    path = tmp_path / "03_backprop.py"
    path.write_text(SOLUTION + WAITS_FOR_THE_CHECKS, encoding="utf-8")
    result = grade(path, exercise(call_timeout=30), ahead=True)
    assert early._calls == []
    by_name = checks(result)
    assert by_name[XOR_CHECK].status == "passed", by_name[XOR_CHECK].message
    assert result.passed


def test_the_call_goes_to_the_booted_worker_before_numpy_is_imported() -> None:
    """The head start is worth having only if it comes before the grader's slow imports,
    and costs no second worker: it uses the one the entry point has just booted."""
    script = (
        "import sys\n"
        "from grader import early\n"
        "from grader.paths import hidden_from_sandbox\n"
        "from grader.sandbox import spawn\n"
        "hide = hidden_from_sandbox()\n"
        "spawn.spawn_early(hide)\n"
        "assert len(spawn._early) == 1\n"
        "early.start_for_check(['03_backprop', '--solution'], hide)\n"
        "assert len(early._calls) == 1, 'nothing was sent'\n"
        "assert spawn._early == [], 'a second worker was started'\n"
        "assert 'numpy' not in sys.modules, 'numpy was imported first'\n"
        "early.discard()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_the_declared_call_is_the_checks_own_call() -> None:
    """info.toml repeats test_train_learns_xor's call as data; the two must stay equal."""
    from grader.checks import check_03_backprop as check

    fn, args, kwargs = early._declared(exercise())
    assert early._encode(fn, args, kwargs) == early._encode("train", (check.XOR_X, check.XOR_Y), {})
    assert early._encode(fn, args, kwargs) != early._encode("train", (check.XOR_Y, check.XOR_X), {})


@pytest.mark.parametrize("differs", ["text", "name", "sandbox mode", "hidden paths", None])
def test_only_the_same_file_in_the_same_kind_of_sandbox_is_handed_over(
    tmp_path: Path, differs: str | None
) -> None:
    path = tmp_path / "03_backprop.py"
    path.write_text(SOLUTION, encoding="utf-8")
    ex, hide = exercise(), hidden_from_sandbox()
    early.start(Target(ex, path, str(path), record=False), hide)
    sent = early._calls[0].sandbox
    wanted = {"source": SOLUTION.encode(), "shown": str(path), "strict": None, "hide": hide}
    changed = {
        "text": {"source": SOLUTION.encode() + b"\n"},
        "name": {"shown": "elsewhere.py"},
        "sandbox mode": {"strict": False},
        "hidden paths": {"hide": []},
        None: {},
    }[differs]
    args = {**wanted, **changed}
    box = early.claim(ex, args.pop("source"), args.pop("shown"), **args)
    if differs is None:
        assert box is sent and sent.alive
        assert early.claim(ex, SOLUTION.encode(), str(path), strict=None, hide=hide) is None
    else:
        assert box is None
        assert early._calls == [] and not sent.alive  # stopped: nothing else could use it


def test_a_changed_file_is_graded_directly(tmp_path: Path) -> None:
    path = tmp_path / "03_backprop.py"
    path.write_text(SOLUTION + HOSTILE.format(action=ON_XOR["raises"]), encoding="utf-8")
    ex = exercise()
    early.start(Target(ex, path, str(path), record=False), hidden_from_sandbox())
    path.write_text(SOLUTION, encoding="utf-8")  # saved again before grading starts
    sent = early._calls[0].sandbox
    result = grading.grade(load_course(), ex, path, seed=7, display_name=str(path))
    assert result.passed
    assert early._calls == [] and not sent.alive  # the file it ran is not the file graded


@pytest.mark.parametrize("behaviour", ["timeout", "raises", "exits"])
def test_a_hostile_early_call_fails_only_its_check(tmp_path: Path, behaviour: str) -> None:
    path = tmp_path / "03_backprop.py"
    path.write_text(SOLUTION + HOSTILE.format(action=ON_XOR[behaviour]), encoding="utf-8")
    result = grade(path, exercise(call_timeout=3), ahead=True)
    assert early._calls == []  # the outcome came from the early call
    by_name = checks(result)
    failed = {name for name, c in by_name.items() if c.status != "passed"}
    assert failed == {XOR_CHECK}, {n: by_name[n].message for n in failed}
    message = by_name[XOR_CHECK].message
    expected = {
        "timeout": ["did not return within 3 s"],
        "raises": ["no XOR today"],
        "exits": ["exited with status 3"],  # the copy exits; the direct call then reports it
    }[behaviour]
    assert any(text in message for text in expected), message
    if behaviour == "timeout":
        assert by_name[XOR_CHECK].status == "timeout"
    assert result.grader_error is None


def test_an_early_call_that_kills_the_checks_child_costs_one_more_check_at_most(
    tmp_path: Path,
) -> None:
    """The copy that trains is the learner's own process: it can kill the child answering
    the checks (its parent). The check that meets the dead child fails, a fresh child serves
    the rest, and the XOR check makes its call directly, in a fresh child too."""
    path = tmp_path / "03_backprop.py"
    path.write_text(SOLUTION + HOSTILE.format(action=ON_XOR["kills_parent"]), encoding="utf-8")
    result = grade(path, exercise(call_timeout=3), ahead=True)
    assert early._calls == []
    by_name = checks(result)
    failed = {name for name, c in by_name.items() if c.status != "passed"}
    messages = {n: by_name[n].message for n in failed}
    assert XOR_CHECK in failed and len(failed) <= 2, messages
    # the direct call kills the worker, or as root (another uid) is not allowed to
    assert any(t in messages[XOR_CHECK] for t in ("sandbox died", "PermissionError")), messages
    for name in failed - {XOR_CHECK}:
        assert "killed" in messages[name], messages
    assert result.grader_error is None


def test_dlgrade_check_sends_the_call_ahead(tmp_path: Path, dlgrade_home: Path) -> None:
    path = tmp_path / "03_backprop.py"
    path.write_text(SOLUTION + FIRST_CALL_ONLY, encoding="utf-8")
    env = {**os.environ, "DLGRADE_HOME": str(dlgrade_home)}
    done = subprocess.run(
        [sys.executable, "-m", "grader", "check", "03", "--path", str(path), "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    result = json.loads(done.stdout)
    by_name = {c["name"]: c for c in result["checks"]}
    assert by_name[XOR_CHECK]["passed"], done.stdout + done.stderr  # only the first train works
    assert by_name[LOSS_CHECK]["passed"]  # in the checks' child too: the copy trained


@pytest.mark.parametrize(
    ("args", "understood"),
    [
        (["03_backprop"], (["03_backprop"], None, False)),
        (["03", "--solution", "--json"], (["03"], None, True)),
        (["--path", "f.py", "--seed", "4"], ([], Path("f.py"), False)),
        (["--path=f.py", "--seed=4", "--quick"], ([], Path("f.py"), False)),
        ([], ([], None, False)),
        (["03", "--path"], None),
        (["03", "--no-such-option"], None),
        (["--", "03"], None),
    ],
)
def test_the_command_line_is_read_or_left_alone(args, understood) -> None:
    assert early._check_arguments(args) == understood


def test_every_option_of_check_is_understood() -> None:
    """A new option of `dlgrade check` must not silently cost the head start."""
    from grader.cli import check

    for param in check.params:
        for option in param.opts:
            if option.startswith("-"):
                args = [option] if param.is_flag else [option, "1"]
                assert early._check_arguments(["03", *args]) is not None, option
