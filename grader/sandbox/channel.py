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

from grader.core.untrusted import CLIP_BYTES, MORE, clip, plain
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
    """Drains a pipe continuously into a capped buffer, so a flood never blocks the child.

    Positions count every byte ever read; the buffer keeps the first ``cap`` bytes since
    the last :meth:`reset` (one per learner file), so one student's printing never shows
    in another's feedback and a flood costs at most ``cap`` bytes of memory.
    """

    def __init__(self, stream: Any, cap: int) -> None:
        self.data, self.cap = bytearray(), cap
        self.base = self.total = 0  # the position of data[0]; every byte ever read
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
                    self.total += len(chunk)
            except BlockingIOError:
                continue
            except (OSError, ValueError):
                return  # the pipe was closed with the sandbox

    def reset(self) -> None:
        """Forget everything read so far (what the last file printed included)."""
        self.settle()
        with self._lock:
            self.data.clear()
            self.base = self.total

    def mark(self) -> int:
        with self._lock:
            return self.total

    def since(self, mark: int, limit: int = CLIP_BYTES) -> str:
        """What was printed after ``mark`` (since the last reset at most), clipped to ``limit``."""
        self.settle()
        with self._lock:
            start = max(mark - self.base, 0)
            kept = bytes(self.data[start : start + limit])
            missing = self.total - max(mark, self.base) - len(kept)
        text = kept.decode("utf-8", "ignore" if missing else "replace")
        return text + (MORE.format(n=missing) if missing > 0 else "")


def _text(value: Any, limit: int) -> str:
    return clip(value if type(value) is str else plain(value), limit)


def learner_fields(reply: dict) -> dict[str, Any]:
    """An error reply's learner-written fields, as bounded plain values (message clipped once)."""
    line = reply.get("line")
    bases, trace = reply.get("bases"), reply.get("trace")
    return {
        "type_name": _text(reply.get("type") or "Exception", 200),
        "message": _text(reply.get("message") or "", CLIP_BYTES),
        "line": line if type(line) is int else None,
        "bases": [_text(b, 200) for b in bases[:50]] if type(bases) is list else None,
        "trace": [_text(t, 500) for t in trace[:10]] if type(trace) is list else None,
    }


def warnings_of(reply: dict) -> list[str]:
    found = reply.get("warnings")
    return [_text(w, 500) for w in found[:20]] if type(found) is list else []


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
