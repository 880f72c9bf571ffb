"""The trusted side of the boundary: start the worker, load a file, call, time out, kill.

A :class:`Sandbox` owns one warm worker process. ``load`` hands it a learner's
source; the worker forks a child for it. ``call`` sends one function call and
waits, with a wall-clock deadline, for the reply; replies are decoded strictly
(see :mod:`grader.sandbox.wire`), never unpickled. A timeout kills the whole
sandbox (it is restarted on the next ``load``); a crash costs only the child.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from grader.core.untrusted import clip, plain
from grader.sandbox import cgroups, launch, modes, procs, spawn, wire
from grader.sandbox.channel import (
    FrameReader,
    OutputBuffer,
    Reply,
    exit_text,
    learner_fields,
    warnings_of,
)
from grader.sandbox.errors import (
    LearnerCrashed,
    LearnerError,
    LearnerRaised,
    LearnerTimeout,
    LoadFailed,
    MissingFunction,
    SandboxError,
    runtime_fault,
)
from grader.sandbox.launch import FALLBACK, STRICT, Limits

START_TIMEOUT = 30.0
LIMIT_POLL = 0.2  # how often a waiting grader looks whether the child hit a cgroup limit


class Sandbox:
    """One sandboxed worker serving one learner file at a time."""

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        strict: bool | None = None,
        uid: int | None = None,
        hide: Iterable[Path] = (),
    ) -> None:
        self.limits = limits or Limits()
        bwrap = launch.bubblewrap()
        if strict and not bwrap:
            raise SandboxError("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
        self.strict = strict
        self.fallback_reason: str | None = None
        self.bwrap = bwrap if strict is not False else None
        self.isolation = STRICT if self.bwrap else FALLBACK
        self.uid = uid if uid is not None else launch.learner_uid()
        if uid is None:
            weakref.finalize(self, launch.release_uid, self.uid)
        self.hide = list(hide)
        self.proc: subprocess.Popen[bytes] | None = None
        self.loaded = False
        self._gone: int | None = None  # exit code of a child that is gone, not yet reported
        self._exited = False
        self._next_id = 0
        self._workers_cgroup: cgroups.Group | None = None
        self._cgroup: cgroups.Group | None = None  # the current child's
        self._without_cgroup = False  # a worker started where its cgroup could not be made

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker and wait until it reports ready.

        In automatic mode (``strict=None``) a bubblewrap that is installed but cannot
        create its namespaces here (user namespaces disabled, a locked-down container)
        falls back to the rlimits sandbox, and ``fallback_reason`` says why.
        """
        try:
            self._start()
        except SandboxError as exc:
            if self.strict is not None or not self.bwrap:
                raise
            self.bwrap, self.isolation = None, FALLBACK
            self.fallback_reason = f"bubblewrap is installed but failed here ({exc})"
            self._start()

    def _start(self) -> None:
        self._spawn()
        self._await_ready(time.monotonic() + START_TIMEOUT)

    def _spawn(self) -> None:
        """Start the worker process; it reads what we send once it is ready."""
        self.close()
        try:
            spawned = spawn.spawn(self.limits, self.bwrap, self.hide)
        except OSError as exc:
            raise SandboxError(f"could not start the sandbox: {exc}") from None
        self.proc, self.workdir, control_r = spawned.proc, spawned.workdir, spawned.control_fd
        self._workers_cgroup = spawned.cgroups
        self._without_cgroup = spawned.cgroups is None
        max_frame = self.limits.max_frame_mb << 20
        self._replies = FrameReader(self.proc.stdout.fileno(), max_frame)
        self._control = FrameReader(control_r, max_frame)
        for fd in (self.proc.stdout.fileno(), control_r):
            os.set_blocking(fd, False)
        self._control_fd = control_r
        self.output = OutputBuffer(self.proc.stderr, self.limits.output_kb << 10)

    def _await_ready(self, deadline: float) -> None:
        try:
            ready = self._wait(deadline, want_control=True)
        except (LearnerCrashed, LearnerTimeout) as exc:
            detail = self.output.since(0).strip().splitlines()[-1:] or [exc.message]
            self.close()
            raise SandboxError(f"the sandbox did not start: {clip(detail[0], 500)}") from None
        if ready.get("ok") != "ready":
            self.close()
            raise SandboxError("the sandbox did not start: unexpected first message")

    @property
    def inside_workdir(self) -> str:
        """The learner child's working directory as the child sees it (host path: workdir)."""
        return launch.INSIDE_WORK if self.bwrap else str(self.workdir)

    @property
    def mode(self) -> str:
        """This sandbox's mode for :mod:`grader.sandbox.modes` (e.g. "rlimits-user")."""
        return modes.current(self.isolation)

    @property
    def unenforced(self) -> list[str]:
        """What this mode cannot enforce (one phrase each), for the report header."""
        missing = modes.unenforced(self.mode)
        if self._without_cgroup and modes.MEMORY not in missing:
            missing.insert(0, modes.MEMORY)
        return missing

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        """Kill the worker and everything under it; remove its work directory."""
        proc, self.proc, self.loaded = self.proc, None, False
        if proc is None:
            self._retire_cgroup()
            return
        if not self.bwrap:
            # Without a PID namespace the process started is the worker's keeper, a child
            # subreaper: everything below it (the worker, its child, whatever that left) is
            # killed while the keeper is alive to reap it, and then the keeper exits.
            procs.kill_descendants(proc.pid)
            if self.uid is not None:
                procs.kill_uid(self.uid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.kill()
        proc.wait()
        with contextlib.suppress(OSError):
            os.close(self._control_fd)
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        self._retire_cgroup()
        spawn.release(self.workdir)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- protocol -----------------------------------------------------------------------------

    def _send(self, message: dict) -> None:
        try:
            self.proc.stdin.write(wire.encode(message))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the child is gone; the control channel will say how

    def _wait(self, deadline: float, *, want_control: bool = False) -> dict:
        """The next reply (or control message if ``want_control``), within ``deadline``."""
        try:
            while True:
                if self._gone is not None and not want_control:
                    # The child is gone; what it wrote before going is answered first.
                    reply = self._replies.next()
                    if reply is not None:
                        return reply
                    code, self._gone = self._gone, None
                    raise LearnerCrashed(f"your code {exit_text(code)}")
                message = self._control.next()
                if message is not None:
                    if want_control or "exited" not in message:
                        self._exited = "exited" in message
                        return message
                    self.loaded, self._exited = False, True
                    # The worker reports an exit only after the child is gone, so anything
                    # the child wrote before dying is already in the pipe: read it all.
                    self._drain_replies()
                    self._gone = message["exited"]["code"]
                    continue
                if not want_control:
                    message = self._replies.next()
                    if message is not None:
                        return message
                if self._control.closed:
                    self.close()
                    raise LearnerCrashed("the sandbox died (was its process killed?)")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LearnerTimeout("timed out")
                fds = [self._control_fd] + (
                    [] if self._replies.closed else [self.proc.stdout.fileno()]
                )
                ready, _, _ = select.select(fds, [], [], min(left, LIMIT_POLL))
                if not ready and self._over_limit():
                    raise LearnerCrashed("your processes ran into a limit")  # see call()
                for fd in ready:
                    (self._control if fd == self._control_fd else self._replies).feed()
        except wire.WireError as exc:
            self.close()
            raise LearnerCrashed(f"your code sent a malformed reply ({exc})") from None

    def _drain_replies(self) -> None:
        while not self._replies.closed and select.select([self._replies.fd], [], [], 0)[0]:
            before = len(self._replies.buffer)
            self._replies.feed()
            if len(self._replies.buffer) == before:
                break

    def _discard_replies(self) -> None:
        self._drain_replies()
        self._replies.buffer.clear()

    def load(self, source: str, filename: str, name: str, *, driver: str | None = None) -> None:
        """Fork a fresh child running ``source``; raise LoadFailed if it does not load."""
        if self.loaded:
            self.unload()
        if not self.alive:
            self.start()
        self.output.reset()  # what the last file printed is not this one's
        self._send_load(source, filename, name, driver)
        mark = self.output.mark()
        try:
            self._finish_load(filename, mark)
        except LoadFailed as exc:
            self._stop_at_limit(exc.output, LoadFailed, f"{filename}: ")
            raise
        self._stop_at_limit(self.output.since(mark), LoadFailed, f"{filename}: ")

    def _send_load(
        self,
        source: str,
        filename: str,
        name: str,
        driver: str | None,
    ) -> None:
        if self._exited:
            self._discard_replies()  # a dead child's last words are not the new one's
        self._exited, self._gone = False, None
        self._retire_cgroup()
        self._send(
            {
                **self._isolation_fields(),
                "op": "load",
                "source": source,
                "filename": filename,
                "name": name,
                "uid": self.uid,
                "limits": self.limits.child(),
                "imports": list(self.limits.imports),
                "driver": driver,
            }
        )

    def _finish_load(self, filename: str, mark: int) -> None:
        try:
            reply = self._wait(time.monotonic() + self.limits.load_timeout)
        except LearnerTimeout:
            self.close()
            raise LoadFailed(
                f"{filename}: loading took longer than {self.limits.load_timeout:.0f} s"
            ) from None
        except LearnerCrashed as exc:
            raise LoadFailed(
                f"{filename}: {exc.message} while loading", output=self.output.since(mark)
            ) from None
        if reply.get("error") == "setup":
            self._await_exit()
            why = learner_fields(reply)["message"]
            raise SandboxError(f"the sandbox could not prepare the child for {filename}: {why}")
        if reply.get("error") == "load":
            fields = learner_fields(reply)
            fault = runtime_fault(fields["type_name"], fields["message"])
            if fault:
                self._await_exit()
                raise SandboxError(f"{fault} while loading {filename}")
            line = f":{fields['line']}" if fields["line"] else ""
            output = self.output.since(mark)
            self._await_exit()
            raise LoadFailed(
                f"{filename}{line}: {fields['type_name']}: {fields['message']}", output=output
            )
        if reply.get("ok") != "loaded":
            self.close()
            raise LearnerCrashed("your code sent a malformed reply while loading")
        self.loaded = not self._exited  # a child may load and be gone before we look

    def unload(self) -> None:
        """End the current child and wait until the worker has cleaned up after it."""
        if not self.loaded or not self.alive:
            self.loaded = False
            return
        self.loaded = False
        self._send({"op": "unload"})
        self._await_exit()

    def _await_exit(self) -> None:
        """Wait for the worker's report that the child is gone, so no stale report is left
        for the next file (a child whose file did not load exits on its own)."""
        if self._exited:
            self._discard_replies()
            self._gone = None
            return
        try:
            self._wait(time.monotonic() + 10, want_control=True)
            self._discard_replies()
        except (LearnerTimeout, LearnerCrashed):
            self.close()

    def call(
        self,
        fn: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
        *,
        keep: bool = False,
        return_args: bool = False,
        timeout: float | None = None,
        on_event: Callable[[Any], None] | None = None,
    ) -> tuple[int, Reply]:
        """Call the loaded child's function ``fn``; returns (call id, reply)."""
        if not self.loaded:
            raise LearnerCrashed("your code is not running (it crashed earlier)")
        timeout = timeout or self.limits.call_timeout
        mark = self.output.mark()
        message = self._call_message(fn, args, kwargs, keep=keep, return_args=return_args)
        self._send(message)
        call_id, deadline = message["id"], time.monotonic() + timeout
        try:
            reply = self._finish_call(fn, call_id, mark, deadline, timeout, on_event)
        except LearnerError as exc:
            self._stop_at_limit(exc.output)
            raise
        if time.monotonic() > deadline - timeout + LIMIT_POLL:
            # A call quicker than one poll is judged on what it returned: reading the cgroup
            # costs more than such a call, and its processes die with the cgroup anyway.
            self._stop_at_limit(reply.output)
        return call_id, reply

    def _call_message(
        self,
        fn: str,
        args: list[Any],
        kwargs: dict[str, Any] | None,
        *,
        keep: bool = False,
        return_args: bool = False,
    ) -> dict[str, Any]:
        self._next_id += 1
        return {
            "op": "call",
            "id": self._next_id,
            "fn": fn,
            "args": list(args),
            "kwargs": kwargs or {},
            "keep": keep,
            "return_args": return_args,
        }

    def _finish_call(
        self,
        fn: str,
        call_id: int,
        mark: int,
        deadline: float,
        timeout: float,
        on_event: Callable[[Any], None] | None = None,
    ) -> Reply:
        try:
            while True:
                reply = self._wait(deadline)
                if "event" in reply:
                    if on_event:
                        on_event(plain(reply["event"]))
                    continue
                break
        except LearnerTimeout:
            output = self.output.since(mark)
            self.close()
            raise LearnerTimeout(
                f"{fn} did not return within {timeout:g} s (an endless loop?)", output=output
            ) from None
        except LearnerCrashed as exc:
            raise LearnerCrashed(exc.message, output=self.output.since(mark)) from None
        return self._outcome(fn, call_id, reply, self.output.since(mark))

    def _outcome(self, fn: str, call_id: int, reply: dict, output: str) -> Reply:
        """The decoded reply to call ``call_id``, or the error a failed call raises."""
        if reply.get("id") != call_id:
            self.close()
            raise LearnerCrashed("your code sent a reply out of turn", output=output)
        if reply.get("error") == "raised":
            fields = learner_fields(reply)
            fault = runtime_fault(fields["type_name"], fields["message"])
            if fault:
                self.close()
                raise SandboxError(fault)
            raise LearnerRaised(**fields, output=output)
        if reply.get("error") == "missing":
            raise MissingFunction(f"your file has no function named {fn}()", output=output)
        if reply.get("ok") != "result":
            self.close()
            raise LearnerCrashed("your code sent a malformed reply", output=output)
        args = reply.get("args")
        return Reply(
            reply.get("value"), warnings_of(reply), args if type(args) is list else None, output
        )

    # -- limits for the whole child ----------------------------------------------------------

    def _isolation_fields(self) -> dict[str, Any]:
        """The next child's cgroup (made here, limits set) and private mounts, for its load."""
        fields: dict[str, Any] = {"cgroup": None, "private": None}
        if self._workers_cgroup is not None:
            try:
                self._cgroup, name = self._workers_cgroup.child(
                    self.limits.memory_mb, self.limits.processes
                )
            except OSError as exc:
                raise SandboxError(f"could not make the child's cgroup: {exc}") from None
            inside = self._workers_cgroup.inside(self.bwrap is not None)
            fields["cgroup"] = {k: f"{v}/{name}" for k, v in inside.items()}
        if modes.private_mounts(self.mode):
            fields["private"] = {
                "disk_mb": self.limits.disk_mb,
                "tmp_mb": self.limits.tmp_mb,
                "network": self.bwrap is None,
            }
        return fields

    def _over_limit(self) -> bool:
        group = self._cgroup
        return group is not None and bool(
            group.breach(self.limits.memory_mb, self.limits.processes)
        )

    def _stop_at_limit(
        self, output: str, error: type[LearnerError] = LearnerCrashed, prefix: str = ""
    ) -> None:
        """End a child whose processes together ran into a cgroup limit: resource limit."""
        group = self._cgroup
        why = group.breach(self.limits.memory_mb, self.limits.processes) if group else None
        if why:
            self.close()
            raise error(f"{prefix}resource limit: {why}", output=output)

    def _retire_cgroup(self) -> None:
        """Kill whatever is left in the last child's cgroup and remove it."""
        group, self._cgroup = self._cgroup, None
        if group is not None:
            group.remove()
