"""Export a recording to Neo (:class:`neo.Block`), the data model Elephant analyses.

Layout of the Block
-------------------
- One :class:`neo.Segment` per seed of a batch (one for an unbatched recording), annotated with
  ``seed`` and ``seed_index``.
- In each Segment one :class:`neo.SpikeTrain` per neuron, in ms, from ``t_start = 0`` to
  ``t_stop = n_steps dt``, annotated with the neuron's ``neuron_id``, ``column``, ``layer``,
  ``cell_type``, ``population`` and ``depth_um``.
- In each Segment one :class:`neo.AnalogSignal` per recorded signal (``V_m``, ``I_syn``,
  ``source``, ``LFP``, ``CSD``, ``MUA``, ``dipole``, ``EEG``, ``MEG``, ``EMM``, ``BOLD``), named
  after it, in the units of :data:`SIGNAL_UNITS`, with per-channel ``array_annotations``
  (:func:`signal_channels`). LFP, CSD and MUA also carry the annotation ``coordinates``, the
  contact depths as an ``[N, 1]`` length Quantity, which is what
  ``elephant.current_source_density.estimate_csd(lfp, method="StandardCSD")`` reads by default.
- On the Block one :class:`neo.Group` per population holding its SpikeTrains of every Segment and
  :class:`neo.ChannelView` s of its recorded neurons' ``V_m`` / ``I_syn`` channels (Neo's idiom for
  "the same neurons across trials").
- The Block is annotated with the engine's description (``dt_ms``, ``n_steps``, ``family``,
  ``scheme``, ``propagation``, ``dtype``, ``record_every``, ``seeds``) and the configuration
  as JSON (``config_json``); a Dataset or a store adds its ``prov_*`` provenance attrs.

Time convention
---------------
Step ``k`` covers ``[k dt, (k + 1) dt]`` and is sampled at its end, so a spike of step ``k`` is at
``(k + 1) dt`` and the first sample of a signal is at ``dt`` (``record_every dt`` for ``V_m`` and
``I_syn``, sampled every ``record_every`` steps; ``TR`` for ``BOLD``): that is each AnalogSignal's
``t_start``.
"""

from __future__ import annotations

import json

import numpy as np

from ..config.schema import PROBE_OPTIONS
from ..errors import ConfigurationError
from ..signals import Signals

__all__ = ["SIGNAL_UNITS", "signal_channels", "signal_units", "signals_to_neo", "to_neo"]

#: Unit of each exported signal, by signal name: a ``quantities`` expression (``fT``, which
#: ``quantities`` lacks, is registered on first use by :func:`signal_units`).
SIGNAL_UNITS = {
    "V_m": "mV", "I_syn": "pA", "source": "A/m**3", "LFP": "uV", "CSD": "A/m**3", "MUA": "dimensionless",
    "dipole": "nA*m", "EEG": "uV", "MEG": "fT", "EMM": "1/s", "BOLD": "dimensionless",
}

#: What each exported signal's values are (the AnalogSignal's ``description``).
_DESCRIPTIONS = {
    "V_m": "membrane potential at the end of the step, before reset",
    "I_syn": "synaptic current (positive = inward/depolarising)",
    "source": "laminar source density (source > 0), one channel per column and depth bin",
    "LFP": "extracellular potential at the laminar contacts",
    "CSD": "standard CSD (-sigma d2phi/dz2), source > 0",
    "MUA": "spike count per step of the neurons near each contact",
    "dipole": "current dipole moment, head coordinates, one channel per column and axis",
    "EEG": "scalp potential (four-sphere head model)",
    "MEG": "radial magnetic field at the magnetometers",
    "EMM": "metabolic proxy: ATP molecules consumed per second",
    "BOLD": "BOLD fractional signal change, sampled at the repetition time",
}


def _plain(values) -> list:
    """Python scalars (str, int, float) of an array of table entries."""
    return np.asarray(values).tolist()


def signal_channels(sig: Signals, name: str) -> dict[str, np.ndarray]:
    """The per-channel ``array_annotations`` of the exported signal ``name``.

    Parameters
    ----------
    sig : Signals
        The recording.
    name : str
        One of the keys of :data:`SIGNAL_UNITS`.

    Returns
    -------
    dict of str to numpy.ndarray
        One entry per annotation, each with one value per channel of the AnalogSignal:
        ``neuron_id`` / ``population`` / ``column`` / ``layer`` / ``cell_type`` / ``depth_um`` for
        V_m and I_syn; ``contact_depth_um`` (µm below the pia) for LFP, CSD and MUA; ``column`` and
        ``depth_um`` (the bin centre) for source; ``column`` and ``axis`` for the dipole (channels
        are ``[column, xyz]`` flattened, column-major); ``x_um`` / ``y_um`` / ``z_um`` (head
        coordinates of the sensor) for EEG and MEG; nothing for EMM and BOLD.
    """
    m = sig.meta
    g = m.geometry
    if name in ("V_m", "I_syn"):
        n = len(m.neuron["column"])
        idx = np.arange(n) if m.record_idx is None else np.asarray(m.record_idx, np.int64)
        out = {"neuron_id": idx.astype(np.int64)}
        for key in ("population", "column", "layer", "cell_type"):
            out[key] = np.asarray(m.neuron[key]).astype(str)[idx]
        out["depth_um"] = np.asarray(m.neuron["depth_um"], float)[idx]
        return out
    if name in ("LFP", "MUA", "CSD"):
        depths = np.asarray(g["contact_depths_um"], float)
        vaknin = bool(_probe_option(sig, "csd_vaknin"))
        return {"contact_depth_um": depths[1:-1] if name == "CSD" and not vaknin else depths}
    if name == "source":
        bins = np.asarray(g["bin_centers_um"], float)
        return {"column": np.repeat(np.asarray(m.columns).astype(str), bins.size),
                "depth_um": np.tile(bins, len(m.columns))}
    if name == "dipole":
        return {"column": np.repeat(np.asarray(m.columns).astype(str), 3),
                "axis": np.tile(np.array(["x", "y", "z"]), len(m.columns))}
    if name in ("EEG", "MEG"):
        pos = np.asarray(m.probe["eeg_electrodes_um" if name == "EEG" else "meg_sensors_um"], float)
        return {"x_um": pos[:, 0], "y_um": pos[:, 1], "z_um": pos[:, 2]}
    return {}


def _probe_option(sig: Signals, key: str):
    """A probe option of the recording's configuration, or its default."""
    return sig.meta.config.get("probes", {}).get("options", {}).get(key, PROBE_OPTIONS[key])


def _timing(sig: Signals, name: str) -> float:
    """Sampling period (ms) of ``name``; its first sample is one period after 0."""
    m = sig.meta
    if name in ("V_m", "I_syn"):
        return m.record_every * m.dt_ms
    if name == "BOLD":
        return float(_probe_option(sig, "bold_tr_ms"))
    return m.dt_ms


def signal_units(name: str):
    """The ``quantities`` unit of the exported signal ``name`` (:data:`SIGNAL_UNITS`).

    Parameters
    ----------
    name : str
        One of the keys of :data:`SIGNAL_UNITS`.

    Returns
    -------
    quantities.Quantity
        A unit quantity. ``quantities`` has no femtotesla, so the first call for ``MEG`` registers
        one, ``fT`` = 1e-15 T (unless a unit of that symbol is already registered).

    Raises
    ------
    ConfigurationError
        If ``name`` is not an exported signal.
    """
    import quantities as pq

    if name not in SIGNAL_UNITS:
        raise ConfigurationError("name", name, "one of " + ", ".join(SIGNAL_UNITS))
    unit = SIGNAL_UNITS[name]
    if unit == "fT":
        try:
            return pq.unit_registry["fT"]
        except LookupError:
            return pq.UnitQuantity("femtotesla", pq.T * 1e-15, symbol="fT")
    return pq.Quantity(1.0, unit).units


def _analog(sig: Signals, name: str, data: np.ndarray, pq, neo):
    """One AnalogSignal ``[time, channel]`` of ``data`` (``[time, ...]``, one seed)."""
    period = _timing(sig, name)
    data = data.reshape(data.shape[0], -1)
    a = neo.AnalogSignal(data, units=signal_units(name),
                         sampling_period=period * pq.ms, t_start=period * pq.ms, name=name,
                         description=_DESCRIPTIONS[name], array_annotations=signal_channels(sig, name))
    if name in ("LFP", "CSD", "MUA"):
        # elephant.current_source_density.estimate_csd reads an [N, 1] length Quantity by this name
        a.annotate(coordinates=a.array_annotations["contact_depth_um"][:, None] * pq.um)
    return a


def _trains(sig: Signals, seed_index: int | None, pq, neo) -> list:
    """One SpikeTrain per neuron (ms, end-of-step times) of one seed."""
    m = sig.meta
    n = len(m.neuron["column"])
    ev = sig.spike_events
    steps, ids = ev.of_seed(seed_index) if seed_index is not None else (ev.steps, ev.neurons)
    order = np.argsort(ids, kind="stable")  # events are time-ordered, so each neuron's stay sorted
    times = (np.asarray(steps, np.int64)[order] + 1) * m.dt_ms
    bounds = np.concatenate([[0], np.cumsum(np.bincount(ids, minlength=n))])
    t_stop = m.n_steps * m.dt_ms
    table = {key: _plain(m.neuron[key]) for key in ("column", "layer", "cell_type", "population")}
    depth = _plain(np.asarray(m.neuron["depth_um"], float))
    return [neo.SpikeTrain(times[bounds[i]:bounds[i + 1]], units="ms", t_start=0.0, t_stop=t_stop,
                           sampling_rate=(1.0 / m.dt_ms) / pq.ms, name=f"neuron {i}", neuron_id=i,
                           column=str(table["column"][i]), layer=str(table["layer"][i]),
                           cell_type=str(table["cell_type"][i]), population=str(table["population"][i]),
                           depth_um=float(depth[i]))
            for i in range(n)]


def _block_annotations(sig: Signals) -> dict:
    m = sig.meta
    return {"dt_ms": float(m.dt_ms), "n_steps": int(m.n_steps), "family": str(m.family), "scheme": str(m.scheme),
            "propagation": str(m.propagation), "dtype": str(m.dtype), "record_every": int(m.record_every),
            "seeds": [int(s) for s in m.seeds] if m.batched else int(m.seeds), "config_json": json.dumps(m.config),
            "time_convention": "step k covers [k dt, (k+1) dt]; samples at its end"}


def signals_to_neo(sig: Signals):
    """A :class:`neo.Block` of a recording: spike trains, analog signals, populations, provenance.

    Parameters
    ----------
    sig : Signals
        A recording (batched or not), from :func:`jaxfne.simulate` or :meth:`Signals.from_xarray`.

    Returns
    -------
    neo.Block
        ``segments[i]`` holds seed ``i`` of a batch (annotation ``seed``); its ``spiketrains[j]`` is
        neuron ``j`` (ms; ``t_start`` 0, ``t_stop`` ``n_steps dt``) and its ``analogsignals`` the
        recorded signals in :data:`SIGNAL_UNITS` (``t_start`` = the time of the first sample, one
        sampling period after 0). ``groups`` holds one :class:`neo.Group` per population (its
        trains across segments and :class:`neo.ChannelView` s of its V_m / I_syn channels).

    Raises
    ------
    ConfigurationError
        If ``sig`` is not a :class:`~jaxfne.Signals`.

    Notes
    -----
    A spike of step ``k`` is at ``(k + 1) dt`` (the end of the step), so
    ``elephant.statistics.mean_firing_rate`` of a train equals jaxfne's ``spike_rate_hz`` over the
    whole run. Signals that hold no sample or no channel (``BOLD`` of a run shorter than TR,
    ``V_m`` with ``record_neurons=[]``) are left out; so are the ``*_pop`` attributions and the
    plastic ``weights``, which are not time series of channels.

    Examples
    --------
    >>> import jaxfne as j
    >>> cfg = (j.configuration().runtime(seed=1, duration_ms=20.0, dt_ms=0.1)
    ...        .column("V1", layers=["L2/3", "L4"], n=20).cell_types({"E": 0.8, "I": 0.2})
    ...        .connectivity().set_emitter("izhikevich", "cortical_eig").probes(["SPK", "LFP-proxy"]))
    >>> block = signals_to_neo(j.simulate(j.construct(cfg), seed=[1, 2]))
    >>> [s.annotations["seed"] for s in block.segments], len(block.segments[0].spiketrains)
    ([1, 2], 20)
    """
    if not isinstance(sig, Signals):
        raise ConfigurationError("sig", type(sig).__name__, "a jaxfne.Signals")
    import neo
    import quantities as pq

    m = sig.meta
    block = neo.Block(name=f"jaxfne {m.family}/{m.scheme}", description="a jaxfne simulation",
                      **_block_annotations(sig))
    seeds = list(m.seeds) if m.batched else [m.seeds]
    names = [k for k in SIGNAL_UNITS if k in sig.recorded]
    arrays = {k: np.asarray(getattr(sig, k)) for k in names}
    has_spikes = "spikes" in sig.recorded
    groups = {p: neo.Group(name=str(p), population=str(p),
                           allowed_types=[neo.SpikeTrain, neo.ChannelView]) for p in m.populations}
    rec_pop = signal_channels(sig, "V_m")["population"]
    for i, seed in enumerate(seeds):
        seg = neo.Segment(name=f"seed {seed}", seed=int(seed), seed_index=i)
        if has_spikes:
            for st in _trains(sig, i if m.batched else None, pq, neo):
                seg.spiketrains.append(st)
                groups[st.annotations["population"]].add(st)
        for k in names:
            a = arrays[k][i] if m.batched else arrays[k]
            if a.shape[0] == 0 or a.size == 0:
                continue
            asig = _analog(sig, k, a, pq, neo)
            seg.analogsignals.append(asig)
            if k in ("V_m", "I_syn"):
                for p, g in groups.items():
                    ch = np.flatnonzero(rec_pop == str(p))
                    if ch.size:
                        g.add(neo.ChannelView(asig, ch, name=f"{k} {p}", population=str(p)))
        block.segments.append(seg)
    for g in groups.values():
        block.groups.append(g)
    block.check_relationships()
    return block


def to_neo(source):
    """A :class:`neo.Block` of a recording given as Signals, a Dataset or a simulation store.

    Parameters
    ----------
    source : Signals or xarray.Dataset or path-like
        A recording; a Dataset made by :meth:`Signals.to_xarray` (or opened from a store); or the
        path of a store written by :func:`jaxfne.io.write_store` (opened and verified with
        :func:`jaxfne.io.open_store`).

    Returns
    -------
    neo.Block
        As :func:`signals_to_neo`; from a Dataset or a store, the Block also carries the Dataset's
        ``prov_*`` provenance attrs as annotations, and ``file_origin`` is the store's path.

    Raises
    ------
    ConfigurationError
        If ``source`` is none of these: not a Signals, a Dataset without the attrs and coordinates
        of a Signals Dataset, or a path that is not a directory.
    jaxfne.io.StoreError
        If the store fails its manifest check.

    Examples
    --------
    >>> to_neo(3.0)
    Traceback (most recent call last):
    ...
    jaxfne.errors.ConfigurationError: source='float' is not allowed: a jaxfne.Signals, an xarray.Dataset of one (Signals.to_xarray) or the path of a simulation store
    """
    from .load import recording

    sig, ds, origin = recording(source)
    block = signals_to_neo(sig)
    if ds is not None:
        block.annotate(**{k: v for k, v in ds.attrs.items() if str(k).startswith("prov_")
                          and isinstance(v, (str, int, float, bool))})
    if origin is not None:
        block.file_origin = origin
    return block
