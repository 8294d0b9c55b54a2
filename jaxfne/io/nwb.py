"""Export a recording to Neurodata Without Borders (NWB 2.x files, written with pynwb).

One NWB file holds one session, so one file holds **one seed** of a recording: a batched
:class:`~jaxfne.Signals` (leading ``seed`` axis) is written one seed per call (``seed_index``, the
position in the batch, default 0). The file is laid out as follows.

======================================  ==========================================================
``identifier``                          ``"<config sha256>-seed<seed>"`` (the store's
                                        ``prov_config_sha256``, else the hash of ``sig.meta.config``;
                                        a random uuid4 when there is no configuration)
``session_start_time``                  the store's ``prov_created_utc``; without one, the fixed
                                        epoch 1970-01-01T00:00:00Z (a simulation has no clock time)
``notes``                               the resolved configuration as canonical JSON
``data_collection``                     JSON: ``engine`` (dt, steps, scheme, family, seed, ...),
                                        ``provenance`` (the store's ``prov_*`` attrs but its
                                        configuration, which is ``notes``), ``geometry``, ``probe``
``units``                               one row per neuron (id = jaxfne's neuron index):
                                        ``spike_times`` (s), ``cell_type``, ``layer``,
                                        ``population``, ``column``, ``depth_um``, ``x_um``, ``y_um``
``electrodes``                          one row per laminar contact: ``x, y, z`` (µm, jaxfne's
                                        head-free column frame, ``z = -depth``), ``rel_x, rel_y,
                                        rel_z`` (from the probe's entry point at the pia),
                                        ``depth_um``, ``location`` (column and layer)
``processing/ecephys/LFP/LFP``          ``ElectricalSeries`` of the LFP over every contact
``processing/ecephys/*``                ``CSD``, ``MUA``, ``source``, ``dipole`` (and the
                                        per-population ``*_pop``) as ``TimeSeries``
``acquisition/*``                       ``V_m``, ``I_syn`` (recorded neurons as columns), ``EEG``, ``MEG``
``processing/metabolic/*``              ``EMM``, ``BOLD``
======================================  ==========================================================

Units: every series keeps jaxfne's numbers; ``unit`` is the SI unit and ``conversion`` the factor
from jaxfne's unit to it (``data * conversion`` is in SI): µV -> volts (1e-6), mV -> volts (1e-3),
pA -> amperes (1e-12), fT -> tesla (1e-15), nA m -> ampere meters (1e-9). Units that are already SI
(A/m^3, s-1 and the counts and fractions "1") are written as :data:`jaxfne.signals.UNITS` names
them, with conversion 1.0. Times are seconds: sample ``k`` of a series is at ``(k + 1) * period``
(the end of the step, jaxfne's convention), so ``starting_time`` is one sampling period (dt,
``record_every * dt`` or the BOLD repetition time) and ``rate`` its inverse; spike times are the
ends of their steps, ``(step + 1) * dt`` (a recording without spikes has no ``spike_times`` column). Each series' ``comments`` hold JSON naming its dims, jaxfne unit and the
coordinates of its non-time dims (contact depths, sensor positions, recorded neuron ids). Empty
series (no recorded neurons, a run shorter than one BOLD TR) and the STDP ``weights`` (not a time
series) are not written.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import uuid
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigurationError
from ..signals import LONG_NAMES, UNITS, Signals
from .atomic import atomic_file

__all__ = ["EPOCH", "NWB_UNITS", "SERIES_PLACE", "read_nwb", "signals_to_nwb", "to_nwb"]

#: ``session_start_time`` of a recording without a provenance time (a simulation has no wall clock).
EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)

#: jaxfne unit -> (NWB unit, conversion to it); units not listed are written as they are, conversion 1.0.
NWB_UNITS = {"uV": ("volts", 1e-6), "mV": ("volts", 1e-3), "pA": ("amperes", 1e-12), "fT": ("tesla", 1e-15),
             "nA m": ("ampere meters", 1e-9)}

#: Where each signal goes: ``None`` = ``acquisition``, else the processing module's name.
SERIES_PLACE = {"V_m": None, "I_syn": None, "EEG": None, "MEG": None, "LFP": "ecephys", "CSD": "ecephys",
                "MUA": "ecephys", "source": "ecephys", "dipole": "ecephys", "source_pop": "ecephys",
                "LFP_pop": "ecephys", "dipole_pop": "ecephys", "EMM": "metabolic", "BOLD": "metabolic"}

_MODULES = {"ecephys": "the laminar field: LFP, CSD, MUA, source density and current dipole of the columns",
            "metabolic": "the metabolic proxy (ATP consumption) and the BOLD signal derived from it"}
_NEURON_COLUMNS = {"cell_type": "cell type", "layer": "layer label", "population": "population (column:layer+type)",
                   "column": "cortical column", "depth_um": "soma depth below the pia, um",
                   "x_um": "lateral x position, um", "y_um": "lateral y position, um"}


def _json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True,
                      default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))


def _check_target(path, overwrite: bool) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigurationError("path", path, "a file path (str or os.PathLike) for the NWB file")
    if not isinstance(overwrite, bool):
        raise ConfigurationError("overwrite", overwrite, "True or False")
    final = Path(path)
    if final.is_dir():
        raise ConfigurationError("path", str(final), "a file path, not a directory")
    if final.exists() and not overwrite:
        raise ConfigurationError("path", str(final), "a path that does not exist yet (or overwrite=True to replace it)")
    return final


def _seed(sig: Signals, seed_index) -> tuple[int, Any]:
    n = len(sig.meta.seeds) if sig.meta.batched else 1
    if isinstance(seed_index, bool) or not isinstance(seed_index, (int, np.integer)) or not 0 <= seed_index < n:
        raise ConfigurationError("seed_index", seed_index,
                                 f"an integer from 0 to {n - 1}: the position of the seed in the batch of {n}")
    return int(seed_index), sig.meta.seeds[seed_index] if sig.meta.batched else sig.meta.seeds


def _config_sha256(config: Mapping, attrs: Mapping) -> str | None:
    if attrs.get("prov_config_sha256"):
        return str(attrs["prov_config_sha256"])
    if not config:
        return None
    from ..config.configuration import Configuration

    return Configuration.from_dict(dict(config)).sha256


def _provenance(attrs: Mapping) -> dict:
    out = {}
    for k, v in attrs.items():
        if str(k).startswith("prov_") and k != "prov_config_json":  # the configuration is the file's notes
            v = v.tolist() if hasattr(v, "tolist") else v
            out[k] = json.loads(v) if str(k).endswith("_json") and isinstance(v, str) else v
    return out


def _software(prov: Mapping) -> list[list[str]]:
    from .. import __version__

    names = {"jaxfne": prov.get("prov_jaxfne_version", __version__)}
    names.update({k: v for k, v in prov.get("prov_versions_json", {}).items() if v != "not installed"})
    for pkg in ("pynwb", "hdmf"):
        names[pkg] = metadata.version(pkg)
    return [[str(k), str(v)] for k, v in names.items()]


def _units_table(sig: Signals, seed_index: int):
    from hdmf.common import VectorData, VectorIndex
    from pynwb.misc import Units

    nb = sig.meta.neuron
    n = len(nb["column"])
    cols = []
    if "spikes" in sig.recorded:
        t_ms, ids = sig.spike_times(seed_index=seed_index)
        order = np.argsort(ids, kind="stable")  # by neuron, each neuron's spikes in time order
        flat = np.asarray(t_ms, np.float64)[order] * 1e-3
        ends = np.cumsum(np.bincount(np.asarray(ids, np.int64), minlength=n))
        times = VectorData(name="spike_times", data=flat,
                           description="end of the step in which the neuron crossed threshold, s")
        cols += [times, VectorIndex(name="spike_times_index", data=ends, target=times)]
    for key, desc in _NEURON_COLUMNS.items():
        v = np.asarray(nb[key])
        data = v.astype(np.float64) if key.endswith("_um") else [str(x) for x in v]
        cols.append(VectorData(name=key, description=desc, data=data))
    what = "spike times" if "spikes" in sig.recorded else "no spike times (spikes were not recorded)"
    return Units(name="units", id=np.arange(n), columns=cols, resolution=float(sig.meta.dt_ms) * 1e-3,
                 description=f"simulated point neurons, one row per neuron (id = jaxfne neuron index), {what}")


def _electrodes(nwb, sig: Signals):
    """Device, electrode group and one electrode per laminar contact; the region of all of them."""
    g = sig.meta.geometry
    xyz = np.asarray(g["contacts_um"], np.float64).reshape(-1, 3)
    centers = np.asarray(g["centers_xy_um"], np.float64).reshape(-1, 2)
    near = str(g["column_names"][int(np.argmin(((centers - xyz[0, :2]) ** 2).sum(1)))])
    dev = nwb.create_device(name=str(sig.meta.probe.get("name", "laminar_probe")),
                            description=f"simulated laminar probe (jaxfne), point contacts in a medium of "
                                        f"{g.get('sigma', 0.3)} S/m")
    entry = (float(xyz[0, 0]), float(xyz[0, 1]), 0.0)
    group = nwb.create_electrode_group(name="laminar", device=dev, location=near, position=entry,
                                       description=f"{len(xyz)} contacts along the axis of column {near}")
    nwb.add_electrode_column(name="depth_um", description="contact depth below the pia, um")
    for x, y, z in xyz:
        depth = -z
        layer = next((lab for lab, (top, bottom) in g["layers"].items() if top <= depth <= bottom),
                     "outside the modelled layers")
        nwb.add_electrode(x=float(x), y=float(y), z=float(z), rel_x=float(x - entry[0]), rel_y=float(y - entry[1]),
                          rel_z=float(z), location=f"{near} {layer}", group=group, depth_um=float(depth))
    return nwb.create_electrode_table_region(region=list(range(len(xyz))), description="every laminar contact")


def _period_ms(sig: Signals, ds, tdim: str) -> float:
    if tdim == "time":
        return float(sig.meta.dt_ms)
    if tdim == "time_rec":
        return float(sig.meta.dt_ms) * sig.meta.record_every
    return float(ds[tdim].values[0])  # tr: the first BOLD sample is at one repetition time


def _comments(ds, key: str, dims: tuple) -> str:
    coords = {str(c): ds[c].values.tolist() for c in ds.coords
              if ds[c].dims and set(ds[c].dims) <= set(dims[1:]) | {"xyz"} and set(ds[c].dims) & set(dims[1:])
              and not str(c).startswith("neuron_rec_")}
    return _json({"signal": key, "dims": list(dims), "jaxfne_units": UNITS[key], "coords": coords})


def _series(nwb, sig: Signals, ds, region) -> None:
    from pynwb import TimeSeries
    from pynwb.ecephys import LFP, ElectricalSeries

    modules: dict = {}
    for key, place in SERIES_PLACE.items():
        if key not in ds.data_vars or ds[key].size == 0:
            continue
        var = ds[key]
        period = _period_ms(sig, ds, var.dims[0])
        unit, conversion = NWB_UNITS.get(UNITS[key], (UNITS[key], 1.0))
        kw = {"name": key, "data": np.ascontiguousarray(var.values), "conversion": conversion,
              "starting_time": period * 1e-3, "rate": 1e3 / period, "description": LONG_NAMES.get(key, key),
              "comments": _comments(ds, key, var.dims)}
        if place is not None and place not in modules:
            modules[place] = nwb.create_processing_module(name=place, description=_MODULES[place])
        if key == "LFP":
            lfp = LFP(name="LFP")
            modules[place].add(lfp)
            lfp.add_electrical_series(ElectricalSeries(electrodes=region, **kw))
        elif place is None:
            nwb.add_acquisition(TimeSeries(unit=unit, **kw))
        else:
            modules[place].add(TimeSeries(unit=unit, **kw))


def _checked(sig: Signals, path, seed_index, overwrite, session_description, identifier) -> tuple[Path, int, Any]:
    """The target path, the seed's position and the seed, or the ConfigurationError naming a bad argument."""
    final = _check_target(path, overwrite)
    for name, value in (("session_description", session_description), ("identifier", identifier)):
        if value is not None and not (isinstance(value, str) and value):
            raise ConfigurationError(name, value, "a non-empty string, or None for the default")
    return (final, *_seed(sig, seed_index))


def _nwbfile(sig: Signals, attrs: Mapping, seed_index: int, seed, session_description, identifier):
    from pynwb import NWBFile

    m = sig.meta
    prov = _provenance(attrs)
    sha = _config_sha256(m.config, attrs)
    if identifier is None:
        identifier = str(uuid.uuid4()) if sha is None else (sha if seed is None else f"{sha}-seed{seed}")
    start = _dt.datetime.fromisoformat(prov["prov_created_utc"]) if prov.get("prov_created_utc") else EPOCH
    if session_description is None:
        emitter = m.config.get("emitter", {})
        session_description = (f"jaxfne simulation of column(s) {', '.join(map(str, m.columns))}: "
                               f"{emitter.get('family', m.family)}/{emitter.get('preset')}, "
                               f"{m.n_steps} steps of {m.dt_ms} ms, seed {seed}")
    engine = {"dt_ms": m.dt_ms, "n_steps": m.n_steps, "record_every": m.record_every, "scheme": m.scheme,
              "family": m.family, "propagation": m.propagation, "dtype": m.dtype, "seeds": m.seeds,
              "seed_index": seed_index, "seed": seed, "record_idx": m.record_idx,
              "time_convention": "step k covers [k dt, (k+1) dt]; samples at its end"}
    return NWBFile(session_description=session_description, identifier=identifier,
                   session_start_time=start if start.tzinfo else start.replace(tzinfo=_dt.UTC),
                   session_id=f"seed {seed}", notes=_json(m.config), keywords=["simulation", "jaxfne"],
                   data_collection=_json({"engine": engine, "provenance": prov, "geometry": m.geometry,
                                          "probe": m.probe}),
                   was_generated_by=_software(prov))


def _export(sig: Signals, ds, attrs: Mapping, path, *, seed_index: int = 0, session_description: str | None = None,
            identifier: str | None = None, overwrite: bool = False) -> Path:
    from pynwb import NWBHDF5IO

    final, seed_index, seed = _checked(sig, path, seed_index, overwrite, session_description, identifier)
    if sig.meta.batched:
        ds = ds.isel(seed=seed_index)
    nwb = _nwbfile(sig, attrs, seed_index, seed, session_description, identifier)
    nwb.units = _units_table(sig, seed_index)
    _series(nwb, sig, ds, _electrodes(nwb, sig) if "LFP" in ds.data_vars else None)
    with atomic_file(final, suffix=".nwb") as tmp:
        with NWBHDF5IO(str(tmp), mode="w") as io:
            io.write(nwb)
        if final.exists() and not overwrite:  # written by someone else meanwhile
            raise ConfigurationError("path", str(final), "a path that does not exist yet (or overwrite=True)")
    return final


def signals_to_nwb(sig: Signals, path: str | os.PathLike, *, seed_index: int = 0,
                   session_description: str | None = None, identifier: str | None = None,
                   overwrite: bool = False, attrs: Mapping[str, Any] | None = None) -> Path:
    """Write one seed of a recording to an NWB file, atomically.

    Parameters
    ----------
    sig : Signals
        The recording (batched or not).
    path : path-like
        The ``.nwb`` file to write; its folder is created if missing.
    seed_index : int
        Position of the seed in a batch (0 for an unbatched recording): one file holds one seed.
    session_description : str, optional
        Default: the columns, emitter, steps and seed.
    identifier : str, optional
        Default: ``"<configuration sha256>-seed<seed>"`` (see the module docstring).
    overwrite : bool
        Replace an existing file at ``path``.
    attrs : mapping, optional
        Attrs of the store the recording was read from: its ``prov_*`` entries become the file's
        provenance (``data_collection``), ``prov_created_utc`` its ``session_start_time`` and
        ``prov_config_sha256`` its identifier.

    Returns
    -------
    pathlib.Path
        The file written. It is made as a temporary sibling and renamed into place.

    Raises
    ------
    ConfigurationError
        If ``path`` exists (without ``overwrite``) or is a directory, ``seed_index`` is not a
        position in the batch, or a description or identifier is not a non-empty string.

    Examples
    --------
    >>> import pathlib, tempfile, jaxfne
    >>> cfg = (jaxfne.configuration().runtime(duration_ms=20.0).column("V1", layers=["L4"], n=20)
    ...        .cell_types({"E": 0.8, "I": 0.2}).set_emitter("izhikevich", "cortical_eig")
    ...        .probes(["SPK", "LFP-proxy"]))
    >>> sig = jaxfne.simulate(jaxfne.construct(cfg), seed=[1, 2])
    >>> path = signals_to_nwb(sig, pathlib.Path(tempfile.mkdtemp()) / "run.nwb", seed_index=1)
    >>> read_nwb(path)["identifier"] == cfg.sha256 + "-seed2"
    True
    """
    _checked(sig, path, seed_index, overwrite, session_description, identifier)  # before any work
    return _export(sig, sig.to_xarray(), attrs or {}, path, seed_index=seed_index, overwrite=overwrite,
                   session_description=session_description, identifier=identifier)


def to_nwb(source, path: str | os.PathLike, **kw) -> Path:
    """Write a Signals, a Signals Dataset or a simulation store to an NWB file.

    Parameters
    ----------
    source : Signals, xarray.Dataset or path-like
        A recording, the Dataset of one (:meth:`Signals.to_xarray`) or a simulation store's path
        (opened with :func:`jaxfne.io.open_store`, which verifies its manifest); a Dataset's or
        store's ``prov_*`` attrs become the file's provenance.
    path : path-like
        The ``.nwb`` file to write.
    **kw
        ``seed_index``, ``session_description``, ``identifier``, ``overwrite`` of :func:`signals_to_nwb`.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ConfigurationError
        If ``source`` is none of these (or a path that is not a directory), or as :func:`signals_to_nwb`.
    jaxfne.io.StoreError
        If the store at ``source`` fails its manifest check.
    """
    from .load import recording

    if isinstance(source, Signals):
        return signals_to_nwb(source, path, **kw)
    _check_target(path, kw.get("overwrite", False))  # before the store is read
    sig, ds, _ = recording(source)
    return _export(sig, ds, dict(ds.attrs), path, **kw)


def _column(table, key: str) -> np.ndarray:
    v = np.asarray(table[key].data[:])
    return v if v.dtype.kind == "f" else np.array([str(s) for s in v], dtype=object)


def read_nwb(path: str | os.PathLike) -> dict:
    """Read back a file written by :func:`signals_to_nwb` (everything loaded, the file closed).

    Returns
    -------
    dict
        ``identifier``, ``session_description``, ``session_start_time`` (aware datetime),
        ``config`` (dict, from ``notes``), ``metadata`` (dict with ``engine``, ``provenance``,
        ``geometry``, ``probe``), ``units`` (``id``, ``spike_times_s``: one array per unit, and the
        neuron columns as arrays), ``electrodes`` (``x``, ``y``, ``z``, ``rel_x``, ``rel_y``,
        ``rel_z``, ``depth_um``, ``location`` arrays; empty without an LFP) and ``series``: name ->
        ``data`` (as stored), ``unit``, ``conversion``, ``starting_time`` (s), ``rate`` (Hz),
        ``description``, ``comments`` (parsed JSON), ``path`` in the file, and for the LFP
        ``electrodes`` (row indices).

    Raises
    ------
    ConfigurationError
        If ``path`` is not an existing file.
    """
    from pynwb import NWBHDF5IO, TimeSeries
    from pynwb.ecephys import LFP

    if not isinstance(path, (str, os.PathLike)) or not Path(path).is_file():
        raise ConfigurationError("path", path, "an existing NWB file")
    with NWBHDF5IO(str(path), mode="r") as io:
        f = io.read()
        out: dict = {"identifier": f.identifier, "session_description": f.session_description,
                     "session_start_time": f.session_start_time, "config": json.loads(f.notes),
                     "metadata": json.loads(f.data_collection), "units": {}, "electrodes": {}, "series": {}}
        u = f.units
        if u is not None:
            out["units"]["id"] = np.asarray(u.id.data[:])
            if "spike_times" in u.colnames:
                idx = u["spike_times"]
                out["units"]["spike_times_s"] = np.split(np.asarray(idx.target.data[:]), np.asarray(idx.data[:])[:-1])
            out["units"].update({key: _column(u, key) for key in _NEURON_COLUMNS})
        if f.electrodes is not None:
            out["electrodes"] = {key: _column(f.electrodes, key)
                                 for key in ("x", "y", "z", "rel_x", "rel_y", "rel_z", "depth_um", "location")}
        places = [("acquisition", f.acquisition)] + [(f"processing/{k}", m.data_interfaces)
                                                      for k, m in f.processing.items()]
        for where, objs in places:
            for name, obj in objs.items():
                found = ([(f"{where}/{name}/{k}", es) for k, es in obj.electrical_series.items()]
                         if isinstance(obj, LFP) else [(f"{where}/{name}", obj)] if isinstance(obj, TimeSeries) else [])
                for p, ts in found:
                    rec = {"data": np.asarray(ts.data[:]), "unit": ts.unit, "conversion": ts.conversion,
                           "starting_time": ts.starting_time, "rate": ts.rate, "description": ts.description,
                           "comments": json.loads(ts.comments), "path": p}
                    if getattr(ts, "electrodes", None) is not None:
                        rec["electrodes"] = np.asarray(ts.electrodes.data[:])
                    out["series"][ts.name] = rec
    return out
