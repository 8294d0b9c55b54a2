"""Read a simulation store back as :class:`~jaxfne.Signals`, the spikes from its ragged event list.

A simulation store (``sim.zarr`` of the workflow or of ``python -m jaxfne``) holds the Signals Dataset
(:meth:`jaxfne.Signals.to_xarray`) and the spikes twice: as a compressed raster and as a CF ragged
event list (:func:`jaxfne.io.store.add_spike_events`). :func:`load_signals` reads the event list only,
as :class:`~jaxfne.signals.SpikeEvents` (a few bytes per spike), and leaves the raster unread until
``Signals.spikes`` is asked for, which then makes it from the events.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigurationError
from .errors import StoreError
from .store import open_store, ragged_spike_events

if TYPE_CHECKING:
    from ..signals import Signals

__all__ = ["RECORDING", "load_signals", "recording"]


def load_signals(store: str | os.PathLike, *, verify: bool = True) -> Signals:
    """The :class:`~jaxfne.Signals` recorded in a simulation store.

    Parameters
    ----------
    store : path-like
        A simulation store written by the workflow's simulate stage or ``python -m jaxfne``
        (or any :func:`jaxfne.io.write_store` of a :meth:`jaxfne.Signals.to_xarray` Dataset).
    verify : bool
        Check every file against the store's manifest first (:func:`jaxfne.io.open_store`; one
        sha256 pass over the stored bytes). Pass False only for a store written before manifests.

    Returns
    -------
    Signals
        numpy arrays with a leading ``seed`` axis in a batch, the neuron table, geometry, probe and
        configuration (:meth:`jaxfne.Signals.from_xarray`). The spikes come from the ragged event
        list when the store has one (``signals.spike_events``; the raster is made on first use of
        ``signals.spikes``), else from the raster.

    Raises
    ------
    StoreError
        If ``store`` is not a directory holding a store, fails the manifest check, is the store of
        another stage (construct, readout, aggregate), or its event list is damaged; the message
        names the path.

    Examples
    --------
    >>> sig = load_signals("results/default/runs/<run_id>/sim.zarr")  # doctest: +SKIP
    >>> times, senders = sig.spike_times(seed_index=0)                 # doctest: +SKIP
    """
    path = Path(store)
    try:
        ds = open_store(path, load=False, verify=verify)
    except StoreError:
        raise
    except (OSError, ValueError, KeyError) as exc:  # a directory that is not a zarr store (verify=False)
        raise StoreError(f"store={str(path)!r} is not allowed: a zarr store directory written by "
                         f"jaxfne.io.write_store ({type(exc).__name__}: {exc})") from exc
    from ..signals_xr import signals_from_xarray

    try:
        return signals_from_xarray(ds, spike_events=ragged_spike_events(ds))
    except StoreError as exc:
        raise StoreError(f"store={str(path)!r}: {exc}") from exc
    except ConfigurationError as exc:
        stage = ds.attrs.get("prov_stage", "unknown")
        raise StoreError(f"store={str(path)!r} is not allowed: a simulation store (sim.zarr; this one is a "
                         f"{stage!r} store, {exc})") from exc


#: What the exports (:func:`jaxfne.io.to_neo`, :func:`jaxfne.io.to_nwb`) take as a recording.
RECORDING = "a jaxfne.Signals, an xarray.Dataset of one (Signals.to_xarray) or the path of a simulation store"


def recording(source):
    """The Signals of a recording given as Signals, a Signals Dataset or a simulation store's path.

    Parameters
    ----------
    source : Signals or xarray.Dataset or path-like
        A recording; a Dataset made by :meth:`jaxfne.Signals.to_xarray` (or opened from a store); or
        the path of a store, opened and verified with :func:`jaxfne.io.open_store`.

    Returns
    -------
    (Signals, xarray.Dataset or None, str or None)
        The Signals, the Dataset they were read from (its ``prov_*`` attrs are the provenance) and
        the store's path.

    Raises
    ------
    ConfigurationError
        Naming ``source`` if it is none of these: not a Signals, a path without a directory, or a
        Dataset without the attrs and coordinates of a Signals Dataset.
    StoreError
        If the store fails its manifest check.
    """
    import xarray as xr

    from ..signals import Signals

    if isinstance(source, Signals):
        return source, None, None
    origin = None
    if isinstance(source, (str, os.PathLike)):
        if not os.path.isdir(source):
            raise ConfigurationError("source", os.fspath(source), RECORDING + " (no directory at this path)")
        origin = os.fspath(source)
        source = open_store(source)
    if not isinstance(source, xr.Dataset):
        raise ConfigurationError("source", type(source).__name__, RECORDING)
    try:
        sig = Signals.from_xarray(source)
    except ConfigurationError as err:
        raise ConfigurationError("source", f"a Dataset with attrs {sorted(source.attrs)[:8]}",
                                 f"{RECORDING} ({err})") from err
    return sig, source, origin
