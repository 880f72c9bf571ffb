"""Write constraints.txt: the exact versions of the venv CI tested, for the Gradescope image.

    python scripts/write_constraints.py        # from the interpreter running it (CI's .venv)

``dlgrade gradescope-bundle`` ships the file and its setup.sh installs with ``-c``, so the
image built on Gradescope runs the versions CI ran. Regenerate after changing a dependency.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = "# Versions CI tested (scripts/write_constraints.py); gradescope-bundle uses -c.\n"
SKIP = ("dlgrade", "pip", "setuptools", "wheel")


def main() -> int:
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    pins = sorted(
        (line for line in frozen if "==" in line and line.split("==")[0].lower() not in SKIP),
        key=str.lower,
    )
    (ROOT / "constraints.txt").write_text(HEADER + "\n".join(pins) + "\n", encoding="utf-8")
    print(f"constraints.txt: {len(pins)} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
