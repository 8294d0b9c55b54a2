"""Where the benchmarks find Brian2: an interpreter of its own, since Brian2 2.9 (the newest for
Python 3.11) does not import with numpy >= 2.4 (see benchmarks/README.md, "Install")."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["DEFAULT_BRIAN2_PYTHON", "find_brian2_python"]

#: The environment benchmarks/README.md sets up for Brian2.
DEFAULT_BRIAN2_PYTHON = Path(tempfile.gettempdir()) / "bench-venv" / "bin" / "python"


def find_brian2_python(requested: str | None) -> str | None:
    """An interpreter that can import brian2: this one, the requested one, ``BRIAN2_PYTHON``, or the
    bench venv (in that order); None if none can."""
    candidates = [requested, os.environ.get("BRIAN2_PYTHON")]
    try:
        import brian2  # noqa: F401

        return sys.executable
    except Exception:  # brian2 2.9 raises AttributeError under numpy >= 2.4
        pass
    if DEFAULT_BRIAN2_PYTHON.exists():
        candidates.append(str(DEFAULT_BRIAN2_PYTHON))
    for python in candidates:
        if python and (shutil.which(python) or Path(python).exists()):
            probe = subprocess.run([python, "-c", "import brian2"], capture_output=True)
            if probe.returncode == 0:
                return python
    return None
