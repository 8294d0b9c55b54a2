"""One writer per store path: an advisory ``flock`` on a lock file beside the store.

Writers of one final store path (two ``python -m jaxfne`` runs of one configuration, two Snakemake
runs from different working directories that share ``results=``) hold the lock from the moment they
check whether the store exists until it has been renamed into place. While a writer holds the lock,
no other writer can be half-way through writing that store. A temporary sibling ``.<name>.tmp-*``
found by the lock holder therefore belongs to a writer that died, and can be removed.

The lock file is ``.<name>.lock`` in the store's parent directory (``runs/<id>/.sim.zarr.lock`` for
``runs/<id>/sim.zarr``). It records the last holder's pid and host, so a waiting writer can say whom
it waits for. It stays in place after use: removing it would let a writer that is waiting on the
removed file and a newcomer that creates a new one both hold "the" lock.

Notes
-----
The lock is a POSIX advisory lock (``fcntl.flock``). Only processes that take it are kept out, and
every writer in jaxfne takes it (:func:`jaxfne.io.store.write_store`). It works on local disks, on
NFSv4 (Linux emulates ``flock`` with byte-range locks there) and on Lustre mounted with ``-o flock``.
The kernel releases it when its holder exits, even after SIGKILL, so a dead writer never leaves a
stuck lock. On a filesystem without locks (Lustre without ``flock``, NFS without a lock manager) it
warns and goes on unlocked, and the caller must then not remove temporaries
(:attr:`StoreLock.locked` is False). Within one process the lock is re-entrant per thread; two
threads of one process exclude each other, except on NFS, where the emulated lock belongs to the
process.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import socket
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["StoreLock", "lock_path", "store_lock"]

log = logging.getLogger("jaxfne.io")

#: errno values of a filesystem that cannot lock.
_NO_LOCKS = frozenset({errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP})

_held = threading.local()


@dataclass(frozen=True)
class StoreLock:
    """The lock a writer holds on a store path.

    Attributes
    ----------
    path : pathlib.Path
        The store path the lock is for.
    lock_file : pathlib.Path
        The lock file, ``.<name>.lock`` beside the store.
    locked : bool
        False if the filesystem has no locks and the writer goes on unlocked.
    waited : bool
        Whether another process held the lock when this writer asked for it. A store found at
        ``path`` after waiting was written by that process.
    """

    path: Path
    lock_file: Path
    locked: bool
    waited: bool


def lock_path(path: str | os.PathLike) -> Path:
    """The lock file of a store path: ``.<name>.lock`` in the same directory."""
    final = Path(path)
    return final.parent / f".{final.name}.lock"


def _holder(lock: Path) -> str:
    try:
        return lock.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


def _acquire(fd: int, lock: Path, path: Path, on_wait: Callable[[str], None]) -> tuple[bool, bool]:
    """Take the lock on ``fd``; return ``(locked, waited)``."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True, False
    except BlockingIOError:
        on_wait(f"waiting for {lock}: another writer ({_holder(lock)}) is writing {path}")
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True, True
    except OSError as exc:
        if exc.errno not in _NO_LOCKS:
            raise
        warnings.warn(f"{lock}: the filesystem cannot lock ({os.strerror(exc.errno)}), so writers of {path} are "
                      "not serialised and stale temporaries are left in place; mount it with locking (NFSv4, "
                      "Lustre -o flock) to have both", RuntimeWarning, stacklevel=4)
        return False, False


@contextlib.contextmanager
def store_lock(path: str | os.PathLike, *, on_wait: Callable[[str], None] | None = None) -> Iterator[StoreLock]:
    """Hold the writer lock of a store path for the duration of a ``with`` block.

    Parameters
    ----------
    path : path-like
        The final store path (it need not exist). Its parent directory is created.
    on_wait : callable, optional
        Called with a message naming the lock file, the holder (pid and host) and the store before
        this writer blocks on a lock another process holds; default: a warning on the
        ``jaxfne.io`` logger.

    Yields
    ------
    StoreLock
        Whether the lock is held and whether this writer had to wait for it. A nested
        ``store_lock`` of the same path in the same thread yields the outer one.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "sim.zarr"
    >>> with store_lock(p) as held:
    ...     held.locked, held.waited, held.lock_file.name
    (True, False, '.sim.zarr.lock')
    """
    final = Path(path)
    lock = lock_path(final)
    lock.parent.mkdir(parents=True, exist_ok=True)
    key = os.path.join(os.path.realpath(lock.parent), lock.name)
    held: dict[str, StoreLock] = _held.__dict__.setdefault("locks", {})
    if key in held:
        yield held[key]
        return
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        locked, waited = _acquire(fd, lock, final, on_wait or log.warning)
        if locked:
            stamp = f"pid {os.getpid()} on {socket.gethostname()}\n".encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, stamp, 0)
        held[key] = StoreLock(path=final, lock_file=lock, locked=locked, waited=waited)
        try:
            yield held[key]
        finally:
            del held[key]
    finally:
        os.close(fd)  # releases the lock
