"""Signals <-> :class:`xarray.Dataset` with named dimensions, coordinates and units.

The Dataset carries everything a :class:`~jaxfne.Signals` needs besides its arrays (engine attrs,
the neuron table as coordinates, the geometry, the probe, the configuration as JSON attrs), so
:func:`signals_from_xarray` reads it back without the model: a store answers readouts, plots and
exports on its own.

Conventions (CF 1.11 where it has one)
--------------------------------------
- Every coordinate and data variable has a ``long_name``; every dimensional one a ``units`` string
  that UDUNITS-2 parses (``"um"``, ``"ms"``, ``"uV"``, ``"A/m^3"``, ``"nA m"``, ``"fT"``, ``"s-1"``;
  counts and fractions ``"1"``). Indices and labels have no ``units``.
- Index coordinates: ``contact`` and ``contact_csd`` are the contact depths below the pia (µm, unique),
  so ``ds.LFP.sel(contact=depth)`` selects a contact; ``eeg_channel`` / ``meg_channel`` are MNE-style
  labels ``"EEG001"``, ``"MEG001"``, ...; ``location`` stays an integer index, since a location is a
  (column, depth bin) pair, with ``location_column`` and ``location_depth_um`` beside it;
  ``column``, ``xyz``, ``seed``, ``neuron`` (index), ``time`` / ``time_rec`` (ms) and ``tr`` (ms) as
  their names say. ``contact_depth_um`` and ``contact_csd_depth_um`` repeat the depths for the
  readers that look for them.
- No zero-length variables: a probed signal without a single sample (BOLD of a run shorter than one
  repetition time, V_m / I_syn when ``record_every`` exceeds the steps) is not a variable; the attr
  ``empty_signals_json`` lists its shape and dtype, and :func:`signals_from_xarray` gives it back as
  the same empty array. Its dimension (``tr``, ``time_rec``) is absent too.
"""

from __future__ import annotations

import json

import numpy as np

from .errors import ConfigurationError
from .signals import (
    DIMS,
    LONG_NAMES,
    Signals,
    SignalsMeta,
    SpikeEvents,
    signal_unit,
)

__all__ = ["channel_labels", "signals_from_xarray", "signals_to_xarray"]

#: Attributes of a Signals Dataset (the same names in memory and in stores).
ENGINE_ATTRS = ("dt_ms", "n_steps", "scheme", "family", "propagation", "dtype", "record_every", "seeds",
                "probe_modes", "geometry_json", "probe_json", "config_json", "populations_json", "columns_json")

#: The attr listing the probed signals that hold no sample: ``{name: {"shape": [...], "dtype": "..."}}``.
EMPTY_ATTR = "empty_signals_json"

_NEURON_LONG = {"column": "column of the {}", "layer": "cortical layer of the {}", "cell_type": "cell type of the {}",
                "population": "population (column:layer and type) of the {}",
                "depth_um": "soma depth below the pia of the {}", "x_um": "soma x position of the {}",
                "y_um": "soma y position of the {}"}


def channel_labels(prefix: str, n: int) -> np.ndarray:
    """MNE-style channel labels ``prefix + "001"``, ... (``channel_labels("EEG", 3)``: EEG001..EEG003).

    Parameters
    ----------
    prefix : str
        ``"EEG"`` or ``"MEG"``.
    n : int
        Number of channels.

    Returns
    -------
    numpy.ndarray of str, shape (n,)
    """
    return np.array([f"{prefix}{i + 1:03d}" for i in range(int(n))], dtype=str)


def _c(dims, values, long_name: str, units: str | None = None) -> tuple:
    attrs = {"long_name": long_name} | ({"units": units} if units else {})
    return (dims, values, attrs)


def _neuron_coords(m: SignalsMeta, idx: np.ndarray, dim: str) -> dict:
    """The neuron table along ``dim`` (``neuron``: ``neuron_column``, ``layer``, ...; ``neuron_rec``:
    ``neuron_rec_column``, ``neuron_rec_layer``, ...) for the neurons ``idx``."""
    coords = {}
    who = "recorded neuron" if dim == "neuron_rec" else "neuron"
    for key in ("column", "layer", "cell_type", "population", "depth_um", "x_um", "y_um"):
        name = f"{dim}_{key}" if dim == "neuron_rec" or key == "column" else key
        what = _NEURON_LONG[key].format(who)
        if key.endswith("_um"):
            coords[name] = _c(dim, np.asarray(m.neuron[key], float)[idx], what, "um")
        else:
            coords[name] = _c(dim, np.asarray(m.neuron[key]).astype(str)[idx], what)
    return coords


def _coords(sig: Signals, n_channels: dict) -> dict:
    m = sig.meta
    g = m.geometry
    n = len(m.neuron["column"])
    every = m.record_every
    coords = {
        "time": _c("time", sig.time_ms, "time at the end of the integration step", "ms"),
        "neuron": _c("neuron", np.arange(n), "neuron index"),
        **_neuron_coords(m, np.arange(n), "neuron"),
        "column": _c("column", np.asarray(m.columns).astype(str), "column name"),
        "population_name": _c("population", np.asarray(m.populations).astype(str), "population name"),
        "xyz": _c("xyz", np.array(["x", "y", "z"]), "Cartesian axis of the head coordinates"),
        "time_rec": _c("time_rec", sig.time_ms[every - 1::every],
                       "time at the end of the step of each V_m / I_syn sample (every "
                       + ("step)" if every == 1 else f"{every} steps)"), "ms"),
    }
    if m.batched:
        coords["seed"] = _c("seed", np.asarray(m.seeds), "noise seed of the simulation")
    if g:
        bins = np.asarray(g["bin_centers_um"], float)
        coords["location"] = _c("location", np.arange(bins.size * len(m.columns)),
                                "location index (every depth bin of the first column, then the next)")
        coords["location_depth_um"] = _c("location", np.tile(bins, len(m.columns)),
                                         "depth of the bin centre below the pia", "um")
        coords["location_column"] = _c("location", np.repeat(np.asarray(m.columns).astype(str), bins.size),
                                       "column of the location")
        cd = np.asarray(g["contact_depths_um"], float)
        vaknin = bool(m.config.get("probes", {}).get("options", {}).get("csd_vaknin", False))
        cd_csd = cd if vaknin else cd[1:-1]
        for name, depths in (("contact", cd), ("contact_csd", cd_csd)):
            what = "depth below the pia of the " + ("CSD estimate's contact" if name == "contact_csd" else "contact")
            coords[name] = _c(name, depths, what, "um")
            coords[f"{name}_depth_um"] = _c(name, depths, what, "um")
    for key, dim, prefix, what in (("eeg_electrodes_um", "eeg_channel", "EEG", "EEG electrode"),
                                   ("meg_sensors_um", "meg_channel", "MEG", "MEG magnetometer")):
        if key in m.probe:
            pos = np.asarray(m.probe[key], float)
            coords[f"{dim}_position_um"] = _c((dim, "xyz"), pos, f"position of the {what}, head coordinates",
                                              "um")
            n_channels.setdefault(dim, pos.shape[0])
        if dim in n_channels:
            coords[dim] = _c(dim, channel_labels(prefix, n_channels[dim]), f"{what} label")
    idx = np.arange(n) if m.record_idx is None else np.asarray(m.record_idx)
    coords["neuron_rec"] = _c("neuron_rec", idx, "index (along neuron) of the recorded neuron")
    coords.update(_neuron_coords(m, idx, "neuron_rec"))
    return coords


def signals_to_xarray(sig: Signals):
    """The Dataset of ``sig``: only probed signals appear, each with ``units`` and ``long_name``.

    Parameters
    ----------
    sig : Signals
        A recording, batched (leading ``seed`` dimension) or not.

    Returns
    -------
    xarray.Dataset
        Data variables named as the Signals attributes, dims as :data:`jaxfne.signals.DIMS` (with a
        leading ``seed`` in a batch); the coordinates and attrs of the module docstring. Signals
        without a sample are listed in ``attrs["empty_signals_json"]`` instead.
    """
    import xarray as xr

    m = sig.meta
    lead = ("seed",) if m.batched else ()
    data_vars, empty, n_channels = {}, {}, {}
    used_dims = set(lead)
    for key in sig.recorded:
        arr = np.asarray(getattr(sig, key))
        dims = lead + DIMS[key]
        if arr.size == 0:
            empty[key] = {"shape": list(arr.shape), "dtype": str(arr.dtype)}
            continue
        data_vars[key] = (dims, arr, {"units": signal_unit(key, m.family), "long_name": LONG_NAMES.get(key, key)})
        used_dims.update(dims)
        n_channels.update({d: arr.shape[dims.index(d)] for d in ("eeg_channel", "meg_channel") if d in dims})
    coords = _coords(sig, n_channels)
    if "BOLD" in data_vars:
        tr_ms = float(m.config.get("probes", {}).get("options", {}).get("bold_tr_ms", 2000.0))
        coords["tr"] = _c("tr", (np.arange(data_vars["BOLD"][1].shape[-1]) + 1) * tr_ms,
                          "time of the BOLD sample (one per repetition time)", "ms")
    coords = {k: v for k, v in coords.items() if set(np.atleast_1d(v[0])) <= used_dims or k in ("time", "neuron")}
    ds = xr.Dataset(data_vars, coords={k: v[:2] for k, v in coords.items()})
    for k, v in coords.items():
        ds[k].attrs.update(v[2])
    ds.attrs.update({
        "dt_ms": m.dt_ms, "n_steps": m.n_steps, "scheme": m.scheme, "family": m.family,
        "propagation": m.propagation, "dtype": m.dtype,
        "record_every": m.record_every, "seeds": json.dumps(m.seeds),
        "probe_modes": json.dumps(m.probe.get("modes", [])), "geometry_json": json.dumps(m.geometry),
        "probe_json": json.dumps(m.probe), "config_json": json.dumps(m.config),
        "populations_json": json.dumps(list(m.populations)), "columns_json": json.dumps(list(m.columns)),
        EMPTY_ATTR: json.dumps(empty),
        "time_convention": "step k covers [k dt, (k+1) dt]; samples at its end",
    })
    return ds


def _attr(ds, key: str):
    if key not in ds.attrs:
        raise ConfigurationError("dataset.attrs", sorted(ds.attrs)[:8],
                                 f"the attrs of a Signals Dataset ({key!r} is missing; written by "
                                 "Signals.to_xarray or a simulation store)")
    value = ds.attrs[key]
    return json.loads(value) if key.endswith("_json") or key in ("seeds", "probe_modes") else value


def signals_from_xarray(ds, *, spike_events: SpikeEvents | None = None) -> Signals:
    """The :class:`~jaxfne.Signals` of a Dataset made by :func:`signals_to_xarray` (or a simulation
    store), without the model: arrays as numpy, ``seed`` leading, the neuron table, geometry, probe
    and configuration from the coordinates and attrs.

    Parameters
    ----------
    ds : xarray.Dataset
        A Signals Dataset; lazily opened arrays are read here.
    spike_events : SpikeEvents, optional
        The spikes as an event list (e.g. from a store's ragged list,
        :func:`jaxfne.io.store.ragged_spike_events`); used instead of a ``spikes`` raster in ``ds``,
        which is then not read. The raster is made when ``Signals.spikes`` is first asked for.

    Returns
    -------
    Signals
        With the probed signals that hold no sample (``attrs["empty_signals_json"]``) as empty arrays.

    Raises
    ------
    ConfigurationError
        If ``ds`` lacks an attribute or coordinate a Signals Dataset has, or ``spike_events`` has
        another shape than the recording's ``([seed,] time, neuron)``.
    """
    for key in ENGINE_ATTRS:
        _attr(ds, key)
    batched = "seed" in ds.dims
    seeds = _attr(ds, "seeds")
    n_steps = int(_attr(ds, "n_steps"))
    if spike_events is not None:
        want = ((len(seeds),) if batched else ()) + (n_steps, int(ds.sizes["neuron"]))
        if tuple(spike_events.shape) != want:
            raise ConfigurationError("spike_events", tuple(spike_events.shape),
                                     f"events of the Dataset's raster shape {want}")
    arrays = {}
    for name, dims in DIMS.items():
        if name in ds.data_vars and not (name == "spikes" and spike_events is not None):
            arrays[name] = np.asarray(ds[name].transpose(*(("seed",) if batched else ()), *dims).values)
    for name, e in json.loads(ds.attrs.get(EMPTY_ATTR, "{}")).items():
        arrays[name] = np.zeros(tuple(e["shape"]), np.dtype(e["dtype"]))
    config = _attr(ds, "config_json")
    rec = config.get("probes", {}).get("options", {}).get("record_neurons")
    neuron = {key: np.asarray(ds[f"neuron_{key}" if key == "column" else key].values).astype(object)
              for key in ("column", "layer", "cell_type", "population")}
    neuron.update({key: np.asarray(ds[key].values, float) for key in ("depth_um", "x_um", "y_um")})
    meta = SignalsMeta(
        dt_ms=float(_attr(ds, "dt_ms")), n_steps=n_steps, seeds=seeds,
        batched=batched, record_every=int(_attr(ds, "record_every")), scheme=str(_attr(ds, "scheme")),
        family=str(_attr(ds, "family")), propagation=str(_attr(ds, "propagation")), dtype=str(_attr(ds, "dtype")),
        neuron=neuron, record_idx=None if rec is None else np.asarray(rec, np.int64),
        populations=tuple(_attr(ds, "populations_json")), columns=tuple(_attr(ds, "columns_json")),
        geometry=_attr(ds, "geometry_json"), probe=_attr(ds, "probe_json"), config=config)
    return Signals.from_arrays(arrays, meta, spike_events)
