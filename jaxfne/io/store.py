"""Zarr v3 stores written atomically, with spikes as a compressed raster and a ragged event list.

A store is written to a hidden sibling ``.<name>.tmp-<uuid>`` in the same directory and renamed into
place only once xarray has written every array and the consolidated metadata and
:func:`~jaxfne.io.manifest.write_manifest` has recorded the size and sha256 of every file in
``manifest.json``. A killed writer therefore leaves nothing at the final path (at most a dot-prefixed
temporary directory, which the next write to the same path removes). Writers of one path take turns
on a lock file beside it (:func:`~jaxfne.io.lock.store_lock`), so the temporary directory the next
writer removes can only be a dead writer's, and a second writer finds the first one's store
instead of damaging it.

:func:`open_store` checks every file against the manifest
(:func:`~jaxfne.io.manifest.verify_store`) before xarray reads anything, so a deleted, truncated or
altered chunk raises :class:`StoreError` naming the store, the variable and the chunk, instead of
reading as fill values or failing inside the decompressor. It then opens with ``consolidated=True``,
which fails loudly if the consolidated metadata is missing.

Encodings
---------
- ``spikes`` (bool raster): Blosc-zstd with bit shuffling; a 5 Hz raster of 10^4 neurons x 10^4 steps
  takes about 0.17 MB instead of 100 MB.
- the same spikes as a CF contiguous ragged array (CF conventions 1.11, sections 9.3.3 and H.2.4;
  :func:`add_spike_events`): ``spike_count`` (one count per seed and neuron, C order, attribute
  ``sample_dimension="event"``) and, along ``event``, ``spike_time`` (ms), ``spike_step``,
  ``spike_neuron`` (NEST's ``senders``) and in a batch ``spike_seed``, sorted by seed, then neuron,
  then time. The store's ``featureType`` is ``"timeSeries"``: each neuron is a feature (a spike train
  at a fixed place), its id the ``neuron`` coordinate (``cf_role="timeseries_id"``); the other
  variables are gridded and outside the feature type.
- floating-point variables: Blosc-zstd level 1 with byte shuffling, chunked along ``time`` only, about
  4 MB per chunk. Noisy traces (V_m) hardly compress: level 1 stores the default study's signals in
  21 MB where level 5 takes 20 MB, in about half the time.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .errors import StoreError
from .lock import store_lock
from .manifest import verify_store, write_manifest

__all__ = ["StoreError", "add_spike_events", "open_store", "ragged_spike_events", "spike_events", "write_store"]

log = logging.getLogger("jaxfne.io")

#: Uncompressed bytes per chunk the float encodings aim for.
CHUNK_BYTES = 4 * 2**20

_CONSOLIDATED_WARNING = "Consolidated metadata is currently not part in the Zarr format 3 specification"

#: Root attrs that identify what a store holds; an existing store is only kept (``exist_ok``) if
#: those the new Dataset carries are equal.
IDENTITY_ATTRS = ("prov_stage", "prov_config_sha256", "prov_seeds_json", "run_sha256")


def _codecs():
    from zarr.codecs import BloscCodec

    bits = BloscCodec(cname="zstd", clevel=5, shuffle="bitshuffle")
    bytes_ = BloscCodec(cname="zstd", clevel=1, shuffle="shuffle")
    return bits, bytes_


def _time_chunks(var: xr.DataArray) -> tuple[int, ...] | None:
    tdim = next((d for d in var.dims if d in ("time", "time_rec")), None)
    if tdim is None:
        return None
    row = max(1, var.dtype.itemsize * int(np.prod([n for d, n in var.sizes.items() if d not in (tdim, "seed")])))
    steps = int(min(max(1, var.sizes[tdim]), max(1, CHUNK_BYTES // row)))
    return tuple(steps if d == tdim else 1 if d == "seed" else max(1, n) for d, n in var.sizes.items())


def default_encoding(ds: xr.Dataset) -> dict[str, dict[str, Any]]:
    """The encoding :func:`write_store` uses for each data variable of ``ds``.

    Boolean variables get Blosc-zstd with bit shuffling, numeric ones Blosc-zstd with byte shuffling;
    arrays with a ``time`` (or ``time_rec``) dimension are chunked along it (one seed per chunk), so that a chunk
    holds about :data:`CHUNK_BYTES` uncompressed bytes.
    """
    bits, bytes_ = _codecs()
    enc: dict[str, dict[str, Any]] = {}
    for name, var in ds.data_vars.items():
        if var.dtype.kind not in "biuf":
            continue
        e: dict[str, Any] = {"compressors": (bits if var.dtype == bool else bytes_,)}
        chunks = _time_chunks(var)
        if chunks is not None:
            e["chunks"] = chunks
        enc[str(name)] = e
    return enc


def _object_strings(ds: xr.Dataset) -> xr.Dataset:
    """Fixed-width unicode arrays have no zarr v3 spec; store them as variable-length strings."""
    fix = {k: v.astype(object) for k, v in ds.variables.items() if v.dtype.kind == "U"}
    return ds.assign_coords({k: v for k, v in fix.items() if k in ds.coords}).assign(
        {k: v for k, v in fix.items() if k in ds.data_vars}
    )


def _clean_stale(final: Path) -> None:
    """Remove the temporary siblings of ``final``; only call it while holding the path's lock.

    Every writer holds the lock until its temporary directory is renamed or removed, so under the
    lock any ``.<name>.tmp-*`` left belongs to a writer that died.
    """
    for stale in final.parent.glob(f".{final.name}.tmp-*"):
        log.info("removing %s, left by a writer of %s that died", stale, final)
        shutil.rmtree(stale, ignore_errors=True)


def _stored_names_and_attrs(path: Path) -> tuple[set[str], dict[str, Any]]:
    """The array names (consolidated metadata) and root attrs of a store, from its ``zarr.json``."""
    root = json.loads((path / "zarr.json").read_text())
    names = set(root.get("consolidated_metadata", {}).get("metadata", {}))
    return names, root.get("attributes", {})


def _existing(final: Path, ds: xr.Dataset, exist_ok: bool, waited: bool) -> Path:
    """What a writer does on finding its path taken (while holding the lock)."""
    by = "another writer wrote it while this one waited for the lock" if waited else "it was written before"
    if not exist_ok:
        raise StoreError(f"path={str(final)!r} is not allowed: a store path that does not exist yet ({by}; "
                         "delete it to rewrite it, or pass exist_ok=True to keep an intact store of the same run)")
    verify_store(final)
    names, attrs = _stored_names_and_attrs(final)
    differ = [f"{k}: stored {attrs.get(k)!r}, new {ds.attrs[k]!r}" for k in IDENTITY_ATTRS
              if k in ds.attrs and attrs.get(k) != ds.attrs[k]]
    missing = sorted(str(v) for v in ds.data_vars if str(v) not in names)
    if differ or missing:
        what = "; ".join(differ + ([f"variables {missing} are not stored"] if missing else []))
        raise StoreError(f"path={str(final)!r} is not allowed: a store path that does not exist yet or holds the "
                         f"same run ({what}). Delete the store to rewrite it.")
    log.warning("%s exists and is intact (%s); kept it", final, by)
    return final


def write_store(ds: xr.Dataset, path: str | os.PathLike, *, encoding: Mapping[str, Any] | None = None,
                exist_ok: bool = False) -> Path:
    """Write ``ds`` to a zarr v3 store at ``path``, atomically, with a chunk manifest.

    Parameters
    ----------
    ds : xarray.Dataset
        The data; attrs must be JSON-serialisable (see :func:`jaxfne.io.provenance.flat_attrs`).
    path : path-like
        Final store directory. It must not exist yet (Snakemake removes stale outputs before a job).
    encoding : dict, optional
        Per-variable encodings merged over :func:`default_encoding`.
    exist_ok : bool
        If ``path`` exists (typically written by a concurrent writer of the same run), verify it
        and return it instead of raising, provided the attrs in :data:`IDENTITY_ATTRS` that ``ds``
        carries equal the stored ones and every data variable of ``ds`` is stored.

    Returns
    -------
    pathlib.Path
        The final path.

    Raises
    ------
    StoreError
        If ``path`` already exists (with ``exist_ok``: if the store there is damaged or holds
        another run).

    Notes
    -----
    The writer holds the path's lock (:func:`jaxfne.io.lock.store_lock`) from the existence check
    to the rename. A second writer of the same path waits, then finds the first one's store.
    Temporary siblings left by a writer that died are removed under the lock (on a filesystem
    without locks the writer warns, and leaves them in place). The manifest
    (:func:`jaxfne.io.manifest.write_manifest`) is written into the temporary directory after
    xarray finishes, so an incomplete store never has one.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    ds = _object_strings(ds)
    enc = default_encoding(ds)
    for k, v in (encoding or {}).items():
        enc.setdefault(k, {}).update(v)
    with store_lock(final) as held:
        if final.exists():
            return _existing(final, ds, exist_ok, held.waited)
        if held.locked:
            _clean_stale(final)
        tmp = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex}"
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_CONSOLIDATED_WARNING)
                ds.to_zarr(tmp, mode="w-", zarr_format=3, consolidated=True, encoding=enc)
            write_manifest(tmp)
            os.rename(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return final


def open_store(path: str | os.PathLike, *, load: bool = True, verify: bool = True) -> xr.Dataset:
    """Open a store written by :func:`write_store` (consolidated metadata required).

    Parameters
    ----------
    path : path-like
        Store directory.
    load : bool
        Read every array into memory (default) so the store can be moved or deleted afterwards.
    verify : bool
        Check every file against the store's manifest before reading
        (:func:`jaxfne.io.manifest.verify_store`; one sha256 pass over the stored bytes). Pass
        False only to open a store written before manifests existed.

    Raises
    ------
    StoreError
        If ``path`` is not a directory, or (with ``verify``) has no manifest or a file that does
        not match it; the message names the variable and the chunk.
    """
    p = Path(path)
    if not p.is_dir():
        raise StoreError(f"path={str(p)!r} is not allowed: an existing zarr store directory")
    if verify:
        verify_store(p)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_CONSOLIDATED_WARNING)
        ds = xr.open_zarr(p, consolidated=True, zarr_format=3)
        if load:
            ds = ds.load()
    return ds


def add_spike_events(ds: xr.Dataset, var: str = "spikes") -> xr.Dataset:
    """Add the CF contiguous ragged event list of the boolean raster ``ds[var]``.

    Parameters
    ----------
    ds : xarray.Dataset
        Holds ``var`` with dims ``(time, neuron)`` or ``(seed, time, neuron)`` and a ``time`` coord in ms.
    var : str
        Name of the raster variable.

    Returns
    -------
    xarray.Dataset
        ``ds`` with ``spike_count`` (int32, dims ``neuron`` or ``(seed, neuron)``, attribute
        ``sample_dimension="event"``) and, along the new dim ``event``, ``spike_step`` (int32, step
        index), ``spike_time`` (ms, the step's end), ``spike_neuron`` (int32 index along ``neuron``:
        NEST's ``senders``) and in a batch ``spike_seed`` (int32 index along ``seed``). Events are
        ordered by seed, neuron and time, so instance ``k`` (C order over ``spike_count``) owns the
        events ``sum(count[:k]) ... sum(count[:k+1]) - 1``. The ``neuron`` coordinate gets
        ``cf_role="timeseries_id"`` and the Dataset ``featureType="timeSeries"``.

    Notes
    -----
    A run without a spike has a zero-length ``event`` dimension and every count 0: CF allows a
    feature without elements, and the counts still say that the spikes were recorded (netCDF writes
    a zero-length dimension as its unlimited one).

    CF's count variable is indexed by one instance dimension. In a batch the instance is a
    (seed, neuron) pair and ``spike_count`` keeps both dimensions; CF's instance dimension is their
    C-order flattening (``spike_count.values.ravel()``). ``spike_neuron`` and ``spike_seed`` name
    every event's instance, so the list reads as NEST's senders/times without the counts.

    Examples
    --------
    >>> ds = add_spike_events(xr.Dataset({"spikes": (("time", "neuron"), [[True, False], [True, True]])},
    ...                                  coords={"time": [0.1, 0.2]}))
    >>> ds["spike_count"].values.tolist(), ds["spike_neuron"].values.tolist(), ds["spike_time"].values.tolist()
    ([2, 1], [0, 0, 1], [0.1, 0.2, 0.2])
    """
    if var not in ds:
        return ds
    r = ds[var]
    batched = "seed" in r.dims
    order = ("seed", "neuron", "time") if batched else ("neuron", "time")
    raster = np.asarray(r.transpose(*order).values, dtype=bool)
    counts = raster.sum(axis=-1).astype(np.int32)
    idx = np.nonzero(raster)  # C order: seed, neuron, then time
    steps = idx[-1].astype(np.int32)
    t = np.asarray(ds["time"].values, dtype=np.float64)
    events = {
        "spike_count": (order[:-1], counts, {
            "sample_dimension": "event",
            "long_name": "number of spikes per instance (CF contiguous ragged array)",
            "units": "1",
        }),
        "spike_step": ("event", steps, {"long_name": "time step index of each spike", "units": "1"}),
        "spike_time": ("event", t[steps], {"long_name": "spike time (end of the step of the threshold crossing)",
                                           "units": "ms"}),
        "spike_neuron": ("event", idx[-2].astype(np.int32),
                         {"long_name": "index along neuron of the neuron that spiked (NEST's senders)"}),
    }
    if batched:
        events["spike_seed"] = ("event", idx[0].astype(np.int32),
                                {"long_name": "index along seed of the noise seed of each spike"})
    out = ds.assign(events)
    neuron = (out["neuron"].variable.copy(deep=False) if "neuron" in out.coords
              else xr.Variable("neuron", np.arange(out.sizes["neuron"])))
    neuron.attrs = {"long_name": "neuron index", **neuron.attrs, "cf_role": "timeseries_id"}
    out = out.assign_coords(neuron=neuron)
    out.attrs = {**out.attrs, "featureType": "timeSeries"}
    return out


def ragged_spike_events(ds: xr.Dataset):
    """The spikes of the ragged event list of ``ds`` (:func:`add_spike_events`) as
    :class:`~jaxfne.signals.SpikeEvents`, without reading or making the raster.

    Parameters
    ----------
    ds : xarray.Dataset
        A simulation store (lazily opened is fine: only the event variables are read).

    Returns
    -------
    SpikeEvents or None
        Ordered by seed, step and neuron (the order of :class:`~jaxfne.signals.SpikeEvents`), shape
        ``([seed,] time, neuron)``; ``None`` when ``ds`` has no ``spike_count`` / ``spike_step``.
        ``spike_neuron`` and ``spike_seed`` are derived from the counts in a store written before they
        existed.

    Raises
    ------
    StoreError
        If the counts do not add up to the events, or ``spike_neuron`` / ``spike_seed`` disagree
        with the counts.
    """
    from ..signals import SpikeEvents

    if "spike_count" not in ds or "spike_step" not in ds:
        return None
    counts = np.asarray(ds["spike_count"].values, dtype=np.int64)
    steps = np.asarray(ds["spike_step"].values, dtype=np.int32)
    if int(counts.sum()) != steps.size:
        raise StoreError(f"spike_count={int(counts.sum())} spikes is not allowed: the number of events along "
                         f"'event' ({steps.size}); the ragged list is damaged")
    n_neurons = counts.shape[-1]
    instance = np.repeat(np.arange(counts.size), counts.ravel())
    ids = {"spike_neuron": instance % n_neurons, "spike_seed": instance // n_neurons}
    for name, want in ids.items():
        if name in ds and not np.array_equal(np.asarray(ds[name].values), want):
            raise StoreError(f"{name} is not allowed to disagree with spike_count: each event's instance "
                             "(C order over spike_count); the ragged list is damaged")
    neurons = ids["spike_neuron"].astype(np.int32)
    shape = counts.shape[:-1] + (int(ds.sizes["time"]), n_neurons)
    if counts.ndim == 1:
        order = np.lexsort((neurons, steps))
        return SpikeEvents(steps[order], neurons[order], None, shape)
    seeds = ids["spike_seed"].astype(np.int32)
    order = np.lexsort((neurons, steps, seeds))
    return SpikeEvents(steps[order], neurons[order], seeds[order], shape)


def spike_events(ds: xr.Dataset, neuron: int, seed_index: int | None = None) -> np.ndarray:
    """Spike times (ms) of one neuron read from the ragged event list of a store.

    Parameters
    ----------
    ds : xarray.Dataset
        A dataset with ``spike_count`` and ``spike_time`` (see :func:`add_spike_events`).
    neuron : int
        Position of the neuron along ``neuron``.
    seed_index : int, optional
        Position along ``seed`` for a batched dataset.
    """
    counts = np.asarray(ds["spike_count"].values)
    if counts.ndim == 2:
        if seed_index is None:
            raise StoreError("seed_index=None is not allowed: a seed position for a batched store")
        k = seed_index * counts.shape[1] + neuron
    else:
        k = neuron
    flat = counts.ravel()
    start = int(flat[:k].sum())
    return np.asarray(ds["spike_time"].values[start:start + int(flat[k])])
