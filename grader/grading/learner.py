"""The ``learner`` fixture: the learner's module as seen from a check, across the sandbox.

``learner.weighted_sum(x, w)`` sends the call to the sandboxed child and returns
plain data. After a crash or timeout the next call reloads a fresh child, so one
hang costs one check; a file that does not load fails every call the same way.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from grader.grading.expect import describe
from grader.sandbox.errors import LearnerError, LearnerTimeout, LoadFailed, SandboxError
from grader.sandbox.runner import Sandbox
from grader.sandbox.wire import FunctionRef, Ref


def _grader_side(method: Callable) -> Callable:
    """Any failure of the sandbox machinery itself (not the learner's code) is a SandboxError.

    Without this, an unexpected error in the grader (a RecursionError while cleaning up,
    say) would reach the check as an ordinary exception and be scored as the learner's.
    """

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (LearnerError, SandboxError):
            raise
        except Exception as exc:
            raise SandboxError(f"the grader failed: {type(exc).__name__}: {exc}") from exc

    return guarded


class Handle:
    """A result kept in the child: ``.value`` to inspect it, ``[i]`` to pass part of it back."""

    def __init__(self, value: Any, ref: Ref) -> None:
        self.value = value
        self._ref = ref

    def __getitem__(self, key: Any) -> Ref:
        return self._ref[key]


class _Mode:
    def __init__(self, learner: Learner, **options: Any) -> None:
        self._learner, self._options = learner, options

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self._learner.call(name, args, kwargs, **self._options)


class Learner:
    """Calls into one learner file loaded in a sandbox."""

    def __init__(
        self,
        sandbox: Sandbox,
        source: str,
        filename: str,
        name: str,
        *,
        driver: str | None = None,
        budget: float | None = None,
    ) -> None:
        self.sandbox, self.source, self.filename, self.name = sandbox, source, filename, name
        self.driver = driver
        self.load_error: LoadFailed | None = None
        self._last: tuple[str, tuple | list, dict] | None = None
        self.last_warnings: list[str] = []
        self.last_output = ""
        self.budget = budget
        self._deadline: float | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, args, kwargs)

    @property
    def last_call(self) -> str:
        """The most recent call, as the learner would write it (rendered only when needed)."""
        if self._last is None:
            return ""
        fn, args, kwargs = self._last
        shown = [describe(a, 60, brief=True) for a in args]
        shown += [f"{k}={describe(v, 60, brief=True)}" for k, v in kwargs.items()]
        return f"{fn}({', '.join(shown)})"

    def forget_last_call(self) -> None:
        self._last = None

    @property
    def keep(self) -> _Mode:
        """Calls whose result stays in the child too (returns a :class:`Handle`)."""
        return _Mode(self, keep=True)

    @property
    def with_args(self) -> _Mode:
        """Calls that also return the positional arguments as they were after the call."""
        return _Mode(self, return_args=True)

    @staticmethod
    def function(name: str) -> FunctionRef:
        """Stands for the learner's own function ``name`` when passed as an argument."""
        return FunctionRef(name)

    def _timeout(self, wanted: float | None) -> float | None:
        """The call's timeout, shortened to what is left of the exercise's time budget."""
        if self.budget is None:
            return wanted
        now = time.monotonic()
        self._deadline = self._deadline or now + self.budget
        left = self._deadline - now
        if left <= 0:
            raise LearnerTimeout(
                f"time budget used up: this exercise's calls may take {self.budget:g} s in all"
            )
        return min(wanted or self.sandbox.limits.call_timeout, left)

    @_grader_side
    def ensure_loaded(self) -> None:
        if self.load_error:
            raise self.load_error
        if not self.sandbox.loaded:
            try:
                self.sandbox.load(self.source, self.filename, self.name, driver=self.driver)
            except LoadFailed as exc:
                self.load_error = exc
                raise

    def call(
        self,
        fn: str,
        args: tuple | list,
        kwargs: dict | None = None,
        *,
        keep: bool = False,
        return_args: bool = False,
        timeout: float | None = None,
        on_event: Any = None,
    ) -> Any:
        """Call ``fn`` in the child and return its decoded result."""
        self._last = (fn, args, kwargs or {})
        self._timeout(timeout)  # a used-up budget fails the call before any reload
        self.ensure_loaded()
        call_id, reply = _grader_side(self.sandbox.call)(
            fn,
            list(args),
            kwargs,
            keep=keep,
            return_args=return_args,
            timeout=self._timeout(timeout),
            on_event=on_event,
        )
        self.last_warnings, self.last_output = reply.warnings, reply.output
        if keep:
            return Handle(reply.value, Ref(call_id))
        if return_args:
            return reply.value, reply.args
        return reply.value
