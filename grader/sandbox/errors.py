"""What can go wrong across the boundary, from the trusted side's point of view.

``LearnerError`` and its subclasses are the learner's doing and fail a check;
``SandboxError`` is the grader's own failure (the sandbox would not start) and
must never be reported as a learner's zero.
"""

from __future__ import annotations

import sys


class LearnerError(Exception):
    """Something the learner's code did that fails the current check."""

    status = "error"

    def __init__(self, message: str, *, output: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.output = output


class LoadFailed(LearnerError):
    """The learner's file could not be loaded (syntax error, exception at import…)."""

    status = "error"


class LearnerRaised(LearnerError):
    """The learner's function raised an exception."""

    def __init__(
        self,
        type_name: str,
        message: str,
        *,
        bases: list[str] | None = None,
        line: int | None = None,
        trace: list[str] | None = None,
        output: str = "",
    ) -> None:
        super().__init__(f"{type_name}: {message}" if message else type_name, output=output)
        self.type_name = type_name
        self.bases = bases or [type_name]
        self.line = line
        self.trace = trace or []
        self.status = "not_implemented" if self.is_a("NotImplementedError") else "error"

    def is_a(self, name: str) -> bool:
        """Whether the learner's exception is ``name`` or derives from that builtin."""
        return name == self.type_name or name in self.bases


class MissingFunction(LearnerError):
    """The learner's module has no such function."""


class LearnerTimeout(LearnerError):
    """A call ran past its wall-clock limit."""

    status = "timeout"


class LearnerCrashed(LearnerError):
    """The learner's process died or broke the protocol during a call."""

    status = "crashed"


class SandboxError(RuntimeError):
    """The sandbox itself failed: a grader error, never the learner's fault."""


def runtime_fault(type_name: str, message: str) -> str | None:
    """Why an exception from the child is the sandbox's fault, or None if it is the learner's.

    A correct program may import any standard module and use any standard codec. When the
    child cannot, although this runtime has them, the sandbox hid its own runtime (a uid
    that cannot read it, say): that is a grader error, never "your code raised".
    """
    import codecs
    import importlib.util
    import re

    if type_name in ("ModuleNotFoundError", "ImportError"):
        found = re.search(r"No module named '([\w.]+)'", message)
        name = found.group(1) if found else ""
        top = name.split(".")[0]
        if top in sys.stdlib_module_names:
            # Only the top-level name is looked up: finding ``a.b`` would import ``a`` here,
            # and the name comes from the learner (``antigravity.x`` opens a browser).
            try:
                present = importlib.util.find_spec(top) is not None
            except (ImportError, ValueError):
                present = False
            if present:
                return f"the sandbox could not import the standard module {name}"
    if type_name == "LookupError":
        found = re.search(r"unknown encoding: ([\w.-]+)", message)
        if found:
            try:
                codecs.lookup(found.group(1))
            except LookupError:
                return None
            return f"the sandbox could not load the standard codec {found.group(1)}"
    return None
