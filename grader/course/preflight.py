"""What a grading command checks about the machine before it starts any sandbox.

Run as root without bubblewrap, learner code drops to an unprivileged uid inside a work
directory under ``$TMPDIR``; if that uid cannot enter every folder above it, each child
dies before the learner's file is even written ("status 70"). Found here, it is one line
naming the folder and the fix.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from grader.core.errors import InputError

UNREACHABLE = (
    "{folder}: learner code runs as an unprivileged user and cannot enter this folder, "
    "which holds dlgrade's work directories (TMPDIR={tmp}); set TMPDIR to a folder every "
    "user can enter, for example TMPDIR=/tmp"
)


def work_folder(*, bubblewrap: bool) -> None:
    """Raise InputError (exit 2) when learner uids could not reach their work directory."""
    if bubblewrap or os.geteuid() != 0:
        return
    tmp = Path(tempfile.gettempdir()).resolve()
    for folder in [*reversed(tmp.parents), tmp]:
        try:
            mode = folder.stat().st_mode
        except OSError:
            continue
        if not mode & stat.S_IXOTH:
            raise InputError(UNREACHABLE.format(folder=folder, tmp=tmp))
