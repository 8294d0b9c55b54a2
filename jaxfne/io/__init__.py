"""Persistence: atomic zarr stores, provenance attrs, and rebuilding a run from its store.

- :func:`write_store` / :func:`open_store`: zarr v3, written to a sibling temporary path under a
  per-path lock, with a manifest of every file's size and sha256, and renamed into place; opened
  with consolidated metadata after :func:`verify_store` has checked every file against the manifest.
- :func:`collect`: the provenance attrs every store carries.
- :func:`rerun_store`: load a store's configuration and seeds, simulate again, compare the arrays.
- :func:`load_signals`: a store back as :class:`~jaxfne.Signals`, without the model.
- :func:`to_neo`: a :class:`neo.Block` for Elephant; :func:`to_nwb` / :func:`read_nwb`: an NWB file.
"""

__all__ = ["collect", "config_from_attrs", "hash_path", "RerunReport", "rerun_store", "StoreError",
           "add_spike_events", "load_signals", "open_store", "read_nwb", "spike_events", "to_neo", "to_nwb",
           "verify_store", "write_store"]

#: The module of each name, imported on first use: ``python -m jaxfne.io.rerun`` then runs its module
#: only once, the workflow's composition (which needs :mod:`jaxfne.io.atomic`) imports no xarray, and
#: the exports import the model's Signals (and JAX) only when asked for.
_LAZY = {"verify_store": "manifest", "collect": "provenance", "config_from_attrs": "provenance",
         "hash_path": "provenance", "StoreError": "store", "add_spike_events": "store", "open_store": "store",
         "spike_events": "store", "write_store": "store", "RerunReport": "rerun", "rerun_store": "rerun",
         "load_signals": "load", "to_neo": "neo", "to_nwb": "nwb", "read_nwb": "nwb"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'jaxfne.io' has no attribute {name!r}")
