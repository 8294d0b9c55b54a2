"""One file written atomically: to a hidden temporary sibling, then renamed into place.

A reader of the final path sees either the old file or the complete new one, never half a file; a
writer that fails (or is killed before the rename) leaves the final path untouched. The temporary
file is opened by the writer like any new file, so the result has the permissions a new file gets
(``0o666`` less the umask), unlike :func:`tempfile.mkstemp`'s ``0o600``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_file"]


@contextmanager
def atomic_file(final: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it to ``final`` when the block succeeds.

    Parameters
    ----------
    final : path-like
        The file to write; its parent folders are created.
    suffix : str
        Ending of the temporary name (some writers choose the format by it, e.g. ``".png"``).

    Yields
    ------
    pathlib.Path
        ``.<name>.tmp-<uuid><suffix>`` in the folder of ``final``, not yet created: the block writes it.
        If the block raises, the temporary file is removed and ``final`` is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_file(out) as tmp:
    ...     _ = tmp.write_text("done")
    >>> out.read_text()
    'done'
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex}{suffix}")
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
