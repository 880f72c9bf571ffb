"""A head start for an exercise's slowest call, when its inputs never change.

Exercise 03's check that XOR is learned trains for 5000 epochs: about half of a whole
``dlgrade check 03_backprop``. Its inputs are fixed, so the ``dlgrade`` entry point sends
that call, before the grader has even imported pytest, to a sandbox of its own on the
other CPU. The other checks run meanwhile in the usual sandbox; the check that makes the
same call gets the early outcome (:func:`take`) when the file's text and names, the
function, the encoded arguments and the sandbox settings all match.

The early call runs in its own worker and child (its own uid and work directory) with the
exercise's limits, so it cannot see or disturb the checks' child; its timeout, crash or
exception reaches the check that makes the call exactly as a direct call's would (its
timeout counts from when it was sent). Anything else (the sandbox did not start, the file
changed meanwhile, the command line was guessed wrong) and the check simply makes the call
directly. Only ``dlgrade check`` sends calls ahead: class grading (warm workers, time
budgets) and ``watch`` make every call directly.

An exercise opts in with ``early_call = true`` under ``[exercise.grading]`` in info.toml;
its check module names the call in ``EARLY_CALL`` as ``(function, args, kwargs)``.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader import checking, workspace
from grader.course import Exercise, load_course
from grader.errors import InputError
from grader.sandbox import spawn
from grader.sandbox.launch import learner_uid
from grader.sources import read_source, source_problem

if TYPE_CHECKING:
    from grader.learner import Learner
    from grader.sandbox.channel import Reply
    from grader.sandbox.runner import Sandbox

# uid slots 3000-3999: never the checks' own child's (slots 0-2999, see launch.learner_uid).
EARLY_SLOT = 3000
# The worker reads nothing until it has started, so what is sent ahead must fit in its pipe.
MAX_SENT_AHEAD = 48 << 10


@dataclass
class EarlyCall:
    """A call sent ahead: the file (text, shown name, file name), the encoded call, its box."""

    file: tuple[str, str, str]
    call: bytes
    sandbox: Sandbox


_calls: list[EarlyCall] = []


def has_early_call(exercise: Exercise) -> bool:
    return bool(exercise.grading.get("early_call"))


def start_for_check(args: list[str], hide: Iterable[Path]) -> None:
    """Send the early calls of ``dlgrade check ARGS``, if the command line is a plain one.

    Called by the entry point before the grader's heavy imports. Options are only glanced
    at (a command line not understood here sends nothing); a wrong guess cannot change a
    grade, since :func:`take` hands out an outcome only for an exact match.
    """
    parsed = _check_arguments(args)
    if parsed is None:
        return
    ids, path, solution = parsed
    try:
        course = load_course()
        targets = checking.targets(
            course,
            ids,
            path=path,
            solution=solution,
            workspace=lambda: workspace.find(course),
        )
    except (InputError, OSError, ValueError):
        return  # the command itself reports it
    targets = [t for t in targets if has_early_call(t.exercise)]
    hide = list(hide)
    for target in targets:  # boot first: the worker starts while numpy is imported here
        limits = target.exercise.sandbox_limits()
        spawn.spawn_early(hide, limits, cpu=spawn.other_cpu(limits))
    for target in targets:
        start(target, hide)


def start(target: checking.Target, hide: Iterable[Path]) -> None:
    """Send ``target``'s early call ahead, without waiting for anything."""
    from grader.sandbox.errors import SandboxError
    from grader.sandbox.runner import Sandbox

    file = _file(target)
    if file is None:
        return
    fn, args, kwargs = _declared(target.exercise)
    call = _encode(fn, args, kwargs)
    if not call or len(call) + len(file[0]) > MAX_SENT_AHEAD:
        return
    limits = target.exercise.sandbox_limits()
    uid = learner_uid(EARLY_SLOT + os.getpid() % 1000)
    box = Sandbox(limits, uid=uid, hide=hide)
    try:
        box.begin(*file, fn, list(args), kwargs, cpu=spawn.other_cpu(limits))
    except (OSError, SandboxError):
        box.close()
        return
    if not _calls:
        atexit.register(discard)
    _calls.append(EarlyCall(file, call, box))


def take(learner: Learner, fn: str, args: tuple | list, kwargs: dict | None) -> Reply | None:
    """The outcome of the early call that matches this call exactly, or None.

    Raises what the call raised (timeout, crash, exception in the learner's code). None
    also when the early sandbox itself failed: the caller then makes the call directly.
    """
    if not _calls:
        return None
    from grader.sandbox.errors import LearnerError, LoadFailed

    mine = learner.sandbox
    for early in _calls:
        box = early.sandbox
        same_box = (box.isolation, box.limits, box.hide) == (mine.isolation, mine.limits, mine.hide)
        same_file = early.file == (learner.source, learner.filename, learner.name)
        if same_box and same_file and early.call == _encode(fn, args, kwargs):
            _calls.remove(early)
            box.settle()
            box.close()
            outcome = box.ahead
            if isinstance(outcome, LearnerError) and not isinstance(outcome, LoadFailed):
                raise outcome
            return None if isinstance(outcome, Exception) else outcome
    return None


def discard() -> None:
    """Stop every early call nobody took."""
    while _calls:
        _calls.pop().sandbox.close()


def _check_arguments(args: list[str]) -> tuple[list[str], Path | None, bool] | None:
    """(exercise ids, --path, --solution) of ``dlgrade check ARGS``; None if not understood."""
    ids: list[str] = []
    path, solution = None, False
    rest = iter(args)
    for arg in rest:
        if arg in ("--json", "--quick"):
            continue
        if arg == "--solution":
            solution = True
        elif arg in ("--path", "--seed"):
            value = next(rest, None)
            if value is None:
                return None
            path = Path(value) if arg == "--path" else path
        elif arg.startswith("--path="):
            path = Path(arg.removeprefix("--path="))
        elif arg.startswith("--seed="):
            continue
        elif arg.startswith("-"):
            return None
        else:
            ids.append(arg)
    return ids, path, solution


def _file(target: checking.Target) -> tuple[str, str, str] | None:
    """(text, shown name, file name) if small enough to send ahead; problems are the checks'."""
    try:
        raw = read_source(target.path)
    except InputError:
        return None
    if source_problem(raw) or len(raw) > MAX_SENT_AHEAD:
        return None
    return raw.decode("utf-8"), target.shown, target.exercise.file_name


def _declared(exercise: Exercise) -> tuple[str, tuple, dict[str, Any]]:
    """``EARLY_CALL`` from the exercise's check module (loaded apart from pytest's copy)."""
    spec = importlib.util.spec_from_file_location(
        f"dlgrade_early_{exercise.id}", exercise.check_module
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EARLY_CALL


def _encode(fn: str, args: Any, kwargs: Any) -> bytes:
    from grader.sandbox import wire

    try:
        return wire.encode({"fn": fn, "args": list(args), "kwargs": kwargs or {}})
    except ValueError:
        return b""  # not encodable: never matches; the direct call reports it
