"""Persistence: atomic zarr stores, provenance attrs, and rebuilding a run from its store.

- :func:`write_store` / :func:`open_store`: zarr v3, written to a sibling temporary path under a
  per-path lock, with a manifest of every file's size and sha256, and renamed into place; opened
  with consolidated metadata after :func:`verify_store` has checked every file against the manifest.
- :func:`collect`: the provenance attrs every store carries.
- :func:`rerun_store`: load a store's configuration and seeds, simulate again, compare the arrays.
"""

from .manifest import verify_store as verify_store
from .provenance import collect as collect, config_from_attrs as config_from_attrs, hash_path as hash_path
from .store import (
    StoreError as StoreError,
    add_spike_events as add_spike_events,
    open_store as open_store,
    spike_events as spike_events,
    write_store as write_store,
)

__all__ = ["collect", "config_from_attrs", "hash_path", "RerunReport", "rerun_store", "StoreError",
           "add_spike_events", "open_store", "spike_events", "verify_store", "write_store"]


def __getattr__(name: str):
    # imported on first use, so that ``python -m jaxfne.io.rerun`` runs the module only once
    if name in ("RerunReport", "rerun_store"):
        from . import rerun

        return getattr(rerun, name)
    raise AttributeError(f"module 'jaxfne.io' has no attribute {name!r}")
