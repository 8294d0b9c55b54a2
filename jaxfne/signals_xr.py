"""Signals <-> :class:`xarray.Dataset` with named dimensions, coordinates and units.

The Dataset carries everything a :class:`~jaxfne.Signals` needs besides its arrays (engine attrs,
the neuron table as coordinates, the geometry, the probe, the configuration as JSON attrs), so
:func:`signals_from_xarray` reads it back without the model: a store answers readouts, plots and
exports on its own.
"""

from __future__ import annotations

import json

import numpy as np

from .errors import ConfigurationError
from .signals import DIMS, LONG_NAMES, UNITS, Signals, SignalsMeta

__all__ = ["signals_from_xarray", "signals_to_xarray"]

#: Attributes of a Signals Dataset (the same names in memory and in stores).
ENGINE_ATTRS = ("dt_ms", "n_steps", "scheme", "family", "propagation", "dtype", "record_every", "seeds",
                "probe_modes", "geometry_json", "probe_json", "config_json", "populations_json", "columns_json")


def _coords(sig: Signals) -> dict:
    m = sig.meta
    g = m.geometry
    coords = {
        "time": ("time", sig.time_ms, {"units": "ms", "long_name": "end of the integration step"}),
        "neuron": ("neuron", np.arange(len(m.neuron["column"]))),
    }
    for key in ("column", "layer", "cell_type", "population"):
        coords[f"neuron_{key}" if key == "column" else key] = ("neuron", np.asarray(m.neuron[key]).astype(str))
    coords["depth_um"] = ("neuron", np.asarray(m.neuron["depth_um"], float), {"units": "um"})
    coords["x_um"] = ("neuron", np.asarray(m.neuron["x_um"], float), {"units": "um"})
    coords["y_um"] = ("neuron", np.asarray(m.neuron["y_um"], float), {"units": "um"})
    if m.batched:
        coords["seed"] = ("seed", np.asarray(m.seeds))
    if g:
        bins = np.asarray(g["bin_centers_um"], float)
        coords["location_depth_um"] = ("location", np.tile(bins, len(m.columns)),
                                       {"units": "um", "long_name": "depth of the bin centre below the pia"})
        coords["location_column"] = ("location", np.repeat(np.asarray(m.columns).astype(str), bins.size),
                                     {"long_name": "column of the location"})
        cd = np.asarray(g["contact_depths_um"], float)
        coords["contact_depth_um"] = ("contact", cd, {"units": "um"})
        vaknin = bool(m.config.get("probes", {}).get("options", {}).get("csd_vaknin", False))
        coords["contact_csd_depth_um"] = ("contact_csd", cd if vaknin else cd[1:-1], {"units": "um"})
    coords["column"] = ("column", np.asarray(m.columns).astype(str))
    coords["population_name"] = ("population", np.asarray(m.populations).astype(str))
    coords["xyz"] = ("xyz", np.array(["x", "y", "z"]))
    for key, dim in (("eeg_electrodes_um", "eeg_channel"), ("meg_sensors_um", "meg_channel")):
        if key in m.probe:
            pos = np.asarray(m.probe[key], float)
            coords[f"{dim}_position_um"] = ((dim, "xyz"), pos, {"units": "um"})
    every = m.record_every
    coords["time_rec"] = ("time_rec", sig.time_ms[every - 1::every],
                          {"units": "ms", "long_name": f"every {every}-th step"})
    rec = m.record_idx
    idx = np.arange(len(m.neuron["column"])) if rec is None else np.asarray(rec)
    coords["neuron_rec"] = ("neuron_rec", idx, {"long_name": "index of the recorded neuron"})
    for key in ("column", "layer", "cell_type", "population"):
        coords[f"neuron_rec_{key}"] = ("neuron_rec", np.asarray(m.neuron[key]).astype(str)[idx])
    for key in ("depth_um", "x_um", "y_um"):
        coords[f"neuron_rec_{key}"] = ("neuron_rec", np.asarray(m.neuron[key], float)[idx], {"units": "um"})
    return coords


def signals_to_xarray(sig: Signals):
    """Build the Dataset; only probed signals appear, each with ``units`` and ``long_name``."""
    import xarray as xr

    m = sig.meta
    coords = _coords(sig)
    lead = ("seed",) if m.batched else ()
    data_vars = {}
    used_dims = set(lead)
    for key in sig.recorded:
        arr = np.asarray(getattr(sig, key))
        dims = lead + DIMS[key]
        if key == "BOLD":
            tr_ms = float(m.config.get("probes", {}).get("options", {}).get("bold_tr_ms", 2000.0))
            coords["tr"] = ("tr", (np.arange(arr.shape[-1]) + 1) * tr_ms, {"units": "ms"})
        data_vars[key] = (dims, arr, {"units": UNITS[key], "long_name": LONG_NAMES.get(key, key)})
        used_dims.update(dims)
    coords = {k: v for k, v in coords.items() if set(np.atleast_1d(v[0])) <= used_dims or k in ("time", "neuron")}
    ds = xr.Dataset(data_vars, coords={k: v[:2] if len(v) == 2 else v for k, v in coords.items()})
    for k, v in coords.items():
        if len(v) == 3:
            ds[k].attrs.update(v[2])
    ds.attrs.update({
        "dt_ms": m.dt_ms, "n_steps": m.n_steps, "scheme": m.scheme, "family": m.family,
        "propagation": m.propagation, "dtype": m.dtype,
        "record_every": m.record_every, "seeds": json.dumps(m.seeds),
        "probe_modes": json.dumps(m.probe.get("modes", [])), "geometry_json": json.dumps(m.geometry),
        "probe_json": json.dumps(m.probe), "config_json": json.dumps(m.config),
        "populations_json": json.dumps(list(m.populations)), "columns_json": json.dumps(list(m.columns)),
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


def signals_from_xarray(ds) -> Signals:
    """The :class:`~jaxfne.Signals` of a Dataset made by :func:`signals_to_xarray` (or a simulation
    store), without the model: arrays as numpy, ``seed`` leading, the neuron table, geometry, probe
    and configuration from the coordinates and attrs.

    Raises
    ------
    ConfigurationError
        If ``ds`` lacks an attribute or coordinate a Signals Dataset has.
    """
    for key in ENGINE_ATTRS:
        _attr(ds, key)
    batched = "seed" in ds.dims
    arrays = {}
    for name, dims in DIMS.items():
        if name in ds.data_vars:
            arrays[name] = np.asarray(ds[name].transpose(*(("seed",) if batched else ()), *dims).values)
    config = _attr(ds, "config_json")
    rec = config.get("probes", {}).get("options", {}).get("record_neurons")
    neuron = {key: np.asarray(ds[f"neuron_{key}" if key == "column" else key].values).astype(object)
              for key in ("column", "layer", "cell_type", "population")}
    neuron.update({key: np.asarray(ds[key].values, float) for key in ("depth_um", "x_um", "y_um")})
    meta = SignalsMeta(
        dt_ms=float(_attr(ds, "dt_ms")), n_steps=int(_attr(ds, "n_steps")), seeds=_attr(ds, "seeds"),
        batched=batched, record_every=int(_attr(ds, "record_every")), scheme=str(_attr(ds, "scheme")),
        family=str(_attr(ds, "family")), propagation=str(_attr(ds, "propagation")), dtype=str(_attr(ds, "dtype")),
        neuron=neuron, record_idx=None if rec is None else np.asarray(rec, np.int64),
        populations=tuple(_attr(ds, "populations_json")), columns=tuple(_attr(ds, "columns_json")),
        geometry=_attr(ds, "geometry_json"), probe=_attr(ds, "probe_json"), config=config)
    return Signals.from_arrays(arrays, meta)
