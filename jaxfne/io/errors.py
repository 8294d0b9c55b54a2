"""The error of the persistence layer, in a module of its own so every io module can raise it."""

from __future__ import annotations

__all__ = ["StoreError"]


class StoreError(ValueError):
    """A store path or content that cannot be written or read as asked.

    Raised for a path that exists where a new store should go, a path that is not a store, and a
    store whose files do not match its chunk manifest (:func:`jaxfne.io.manifest.verify_store`);
    the message names the store, the variable and the chunk, and what to do.
    """
