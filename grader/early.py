"""A head start for an exercise's slowest call, when its inputs never change.

Exercise 03's check that XOR is learned trains for 5000 epochs: about half of a whole
``dlgrade check 03_backprop``. Its inputs are fixed, so the ``dlgrade`` entry point loads
the learner's file in the sandbox worker it has just booted and sends that call with it,
before the grader has even imported pytest. As soon as the file is loaded, the child
forks a copy of itself that trains, while the child itself answers the checks' calls:

* :func:`claim` hands the sandbox to the grading of the very same file (text, names,
  limits, hidden paths and sandbox mode must all match); anything else gets a sandbox
  of its own, as without a head start;
* :func:`take` gives the check that makes exactly the same call (function and encoded
  arguments) the copy's outcome. A timeout or exception in it reaches that check as a
  direct call's would (its timeout counts from when it was sent). A copy that ends
  without replying (it exited, or went with a child the sandbox replaced) leaves the
  check to make the call itself, so a crash is reported as a direct call's would be.

The copy starts from the freshly loaded module, as a fresh child would, so the training
neither sees nor leaves behind any state of the checks' calls. Being the learner's own
process, it can still harm them (kill the child, say); that costs the learner checks,
never the grader.

Only ``dlgrade check`` sends a call ahead, and only for the first exercise it grades
(the one the booted worker is for): class grading (warm workers, time budgets) and
``watch`` make every call directly. A wrong guess at the command line cannot change a
grade; at worst the head start goes unused.

An exercise opts in with ``early_call = {function = ..., float64_args = [...]}`` under
``[exercise.grading]`` in info.toml: the call, its positional arguments given as nested
lists that arrive as float64 arrays. The grader sends it before importing numpy.
"""

from __future__ import annotations

import atexit
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader import checking, workspace
from grader.course import Exercise, load_course
from grader.errors import InputError
from grader.sources import read_source, source_problem

if TYPE_CHECKING:
    from grader.learner import Learner
    from grader.sandbox.channel import Reply
    from grader.sandbox.runner import Sandbox

# The worker reads nothing until it has started, so what is sent ahead must fit in its pipe.
MAX_SENT_AHEAD = 48 << 10


@dataclass
class EarlyCall:
    """A call sent ahead: the file (text, shown name, file name), the encoded call, its box."""

    file: tuple[str, str, str]
    call: bytes
    sandbox: Sandbox
    claimed: bool = False


_calls: list[EarlyCall] = []


def has_early_call(exercise: Exercise) -> bool:
    return isinstance(exercise.grading.get("early_call"), dict)


def start_for_check(args: list[str], hide: Iterable[Path]) -> None:
    """Send the early call of ``dlgrade check ARGS``, if the command line is a plain one.

    Called by the entry point before the grader's heavy imports. Options are only glanced
    at: a command line not understood here sends nothing.
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
    if targets and has_early_call(targets[0].exercise):
        start(targets[0], hide)


def start(target: checking.Target, hide: Iterable[Path]) -> None:
    """Load ``target``'s file in a sandbox and send its early call, without waiting."""
    from grader.sandbox.errors import SandboxError
    from grader.sandbox.runner import Sandbox

    file = _file(target)
    if file is None:
        return
    declared = _declared(target.exercise)
    if declared is None:
        return
    fn, args, kwargs = declared
    call = _encode(fn, args, kwargs)
    if not call or len(call) + len(file[0]) > MAX_SENT_AHEAD:
        return
    box = Sandbox(target.exercise.sandbox_limits(), hide=hide)
    try:
        box.begin(*file, fn, list(args), kwargs)
    except (OSError, SandboxError):
        box.close()
        return
    if not _calls:
        atexit.register(discard)
    _calls.append(EarlyCall(file, call, box))


def claim(
    exercise: Exercise,
    source: bytes,
    shown: str,
    *,
    strict: bool | None,
    hide: Iterable[Path],
) -> Sandbox | None:
    """The sandbox already running this file's early call, for the grading of that file.

    The caller owns (and closes) the sandbox from then on. An early call whose file,
    limits or sandbox differ from this grading's is stopped here: only the first file
    graded ever gets one, so nothing else could use it.
    """
    if not _calls:
        return None
    text = source.decode("utf-8", errors="replace")
    wanted = ((text, shown, exercise.file_name), exercise.sandbox_limits(), strict, list(hide))
    found = None
    for early in list(_calls):
        box = early.sandbox
        if early.claimed:
            continue
        if found is None and (early.file, box.limits, box.strict, box.hide) == wanted:
            early.claimed, found = True, box
        else:
            _calls.remove(early)
            box.close()
    return found


def take(learner: Learner, fn: str, args: tuple | list, kwargs: dict | None) -> Reply | None:
    """The outcome of the early call that matches this call exactly, or None.

    Raises what the call raised (timeout, crash, exception in the learner's code). None
    also when the sandbox itself failed: the caller then makes the call directly.
    """
    if not _calls:
        return None
    from grader.sandbox.errors import LearnerError, LoadFailed

    for early in _calls:
        box = early.sandbox
        same_file = early.file == (learner.source, learner.filename, learner.name)
        if box is learner.sandbox and same_file and early.call == _encode(fn, args, kwargs):
            _calls.remove(early)
            outcome = box.take_ahead()
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


def _declared(exercise: Exercise) -> tuple[str, tuple, dict[str, Any]] | None:
    """The call info.toml declares, its arrays as plain data: no numpy needed yet."""
    from grader.sandbox.wire import PlainArray

    declared = exercise.grading.get("early_call")
    try:
        args = tuple(PlainArray.float64(a) for a in declared["float64_args"])
        return declared["function"], args, {}
    except (TypeError, KeyError, ValueError):
        return None


def _encode(fn: str, args: Any, kwargs: Any) -> bytes:
    from grader.sandbox import wire

    try:
        return wire.encode({"fn": fn, "args": list(args), "kwargs": kwargs or {}})
    except ValueError:
        return b""  # not encodable: never matches; the direct call reports it
