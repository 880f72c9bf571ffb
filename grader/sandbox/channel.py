"""Reading what comes back from the sandbox: reply frames, learner output, exit reports.

Used by :mod:`grader.sandbox.runner`; everything here is plain bookkeeping over pipes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import sys
import termios
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from grader.sandbox import wire

SIGNALS = {
    signal.SIGKILL: "was killed (out of memory, or a process limit)",
    signal.SIGXCPU: "used up its CPU time limit",
    signal.SIGXFSZ: "wrote a file larger than the limit",
    signal.SIGSEGV: "crashed with a segmentation fault",
    signal.SIGABRT: "aborted",
}


@dataclass
class Reply:
    """A successful call: the decoded value, warnings raised, arguments after the call."""

    value: Any
    warnings: list[str] = field(default_factory=list)
    args: list[Any] | None = None
    output: str = ""


class OutputBuffer:
    """Drains a pipe continuously into a capped buffer, so a flood never blocks the child."""

    def __init__(self, stream: Any, cap: int) -> None:
        self.data, self.cap, self.dropped = bytearray(), cap, 0
        self._stream = stream  # kept open for as long as the buffer lives
        self._fd = stream.fileno()
        os.set_blocking(self._fd, False)
        self._lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()

    def settle(self, timeout: float = 0.2) -> None:
        """Wait (briefly) until what the child already wrote has been drained.

        Bytes are read and appended under one lock, so once the pipe is seen empty while
        holding it, everything written before is in ``data``.
        """
        deadline = time.monotonic() + timeout
        with contextlib.suppress(OSError):
            while time.monotonic() < deadline:
                with self._lock:
                    pending = fcntl.ioctl(self._fd, termios.FIONREAD, b"\0\0\0\0")
                    if not int.from_bytes(pending, sys.byteorder):
                        break
                time.sleep(0.002)

    def _drain(self) -> None:
        while True:
            try:
                select.select([self._fd], [], [])
                with self._lock:
                    chunk = os.read(self._fd, 65536)
                    if not chunk:
                        return
                    room = self.cap - len(self.data)
                    self.data += chunk[: max(room, 0)]
                    self.dropped += max(len(chunk) - room, 0)
            except BlockingIOError:
                continue
            except (OSError, ValueError):
                return  # the pipe was closed with the sandbox

    def mark(self) -> int:
        with self._lock:
            return len(self.data) + self.dropped

    def since(self, mark: int) -> str:
        self.settle()
        with self._lock:
            text = bytes(self.data[max(mark - self.dropped, 0) :]).decode("utf-8", "replace")
            return text + ("\n… (output truncated)" if self.dropped else "")


class FrameReader:
    """Reassembles frames from a non-blocking pipe."""

    def __init__(self, fd: int, max_frame: int) -> None:
        self.fd, self.max_frame, self.buffer, self.closed = fd, max_frame, bytearray(), False

    def feed(self) -> None:
        try:
            chunk = os.read(self.fd, 1 << 20)
        except BlockingIOError:
            return
        self.closed = self.closed or not chunk
        self.buffer += chunk

    def next(self) -> dict | None:
        if len(self.buffer) < wire.HEADER.size:
            return None
        json_len, bin_len = wire.split_header(
            bytes(self.buffer[: wire.HEADER.size]), self.max_frame
        )
        end = wire.HEADER.size + json_len + bin_len
        if len(self.buffer) < end:
            return None
        body = bytes(self.buffer[wire.HEADER.size : end])
        del self.buffer[:end]
        return wire.decode(body[:json_len], body[json_len:])


def exit_text(code: int) -> str:
    if code < 0:
        sig = signal.Signals(-code)
        return SIGNALS.get(sig, f"was killed by {sig.name}")
    return f"exited with status {code} (sys.exit or os._exit?)"
