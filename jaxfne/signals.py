"""``Signals``: what a simulation recorded, in physical units, as arrays with named dimensions."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np

__all__ = ["Signals", "SignalsMeta", "SpikeEvents", "UNITS", "DIMS", "WEIGHT_UNITS", "signal_unit"]

#: Units at the API boundary (DESIGN.md "Signals and units"), as UDUNITS-2 strings (CF ``units``):
#: counts are ``"1"`` (MUA: spikes per step per contact) and rates of counts ``"s-1"`` (EMM: ATP
#: molecules per second); what is counted is in :data:`LONG_NAMES`.
UNITS = {
    "spikes": "1", "V_m": "mV", "I_syn": "pA", "source": "A/m^3", "LFP": "uV", "CSD": "A/m^3",
    "MUA": "1", "dipole": "nA m", "EEG": "uV", "MEG": "fT", "EMM": "s-1", "BOLD": "1",
    "source_pop": "A/m^3", "LFP_pop": "uV", "dipole_pop": "nA m", "weights": "pA/pF",
}

#: Units of the plastic ``weights`` by neuron family (the emitter's current units: a current in pA for
#: ``iaf_psc_exp``, a current per capacitance for Izhikevich's dimensionless-capacitance models).
WEIGHT_UNITS = {"izhikevich": "pA/pF", "iaf_psc_exp": "pA"}


def signal_unit(name: str, family: str) -> str:
    """The unit of signal ``name`` recorded from neurons of ``family`` (:data:`UNITS`, and
    :data:`WEIGHT_UNITS` for ``weights``)."""
    return WEIGHT_UNITS.get(family, UNITS[name]) if name == "weights" else UNITS[name]


#: Dimension names of each signal (without the leading ``seed`` of a batch).
DIMS = {
    "spikes": ("time", "neuron"), "V_m": ("time_rec", "neuron_rec"), "I_syn": ("time_rec", "neuron_rec"),
    "source": ("time", "location"), "LFP": ("time", "contact"), "CSD": ("time", "contact_csd"),
    "MUA": ("time", "contact"), "dipole": ("time", "column", "xyz"), "EEG": ("time", "eeg_channel"),
    "MEG": ("time", "meg_channel"), "EMM": ("time",), "BOLD": ("tr",),
    "source_pop": ("time", "population", "location"), "LFP_pop": ("time", "population", "contact"),
    "dipole_pop": ("time", "population", "column", "xyz"),
    "weights": ("pre", "post"),
}

LONG_NAMES = {
    "spikes": "spike raster (threshold crossing within the step)",
    "V_m": "membrane potential at the end of the step, before reset (clipped to v_peak on spike steps)",
    "I_syn": "synaptic current (positive = inward/depolarising)",
    "source": "laminar source density (transmembrane current per volume, source > 0)",
    "LFP": "extracellular potential at the laminar contacts",
    "CSD": "standard CSD estimated from the LFP (-sigma d2phi/dz2), source > 0",
    "MUA": "spike count of the neurons near each contact (spikes per time step per contact)",
    "dipole": "current dipole moment per column, head coordinates",
    "EEG": "scalp potential (four-sphere head model)",
    "MEG": "radial magnetic field at magnetometers",
    "EMM": "metabolic proxy: ATP consumption rate (ATP molecules per second)",
    "BOLD": "BOLD signal change (Balloon-Windkessel), sampled at the repetition time",
    "source_pop": "share of the laminar source density of each population (its neurons' currents, source > 0)",
    "LFP_pop": "share of the extracellular potential at the laminar contacts of each population",
    "dipole_pop": "share of the current dipole moment per column of each population, head coordinates",
    "weights": "synaptic weights at the end of the run (STDP)",
}


@dataclass(eq=False)
class SignalsMeta:
    """Static description of a recording (identity-hashed, so Signals can be a pytree)."""

    dt_ms: float
    n_steps: int
    seeds: Any
    batched: bool
    record_every: int
    scheme: str
    family: str
    propagation: str
    dtype: str
    neuron: dict  # column, layer, cell_type, population, depth_um, x_um, y_um arrays
    record_idx: np.ndarray | None
    populations: tuple
    columns: tuple
    geometry: dict = field(default_factory=dict)
    probe: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)

    @classmethod
    def from_model(cls, model, *, dt_ms, n_steps, seeds, batched, record_every) -> SignalsMeta:
        """The description of a recording of ``model``: its neuron table, geometry, probe sensors and
        configuration, with the step ``dt_ms``, ``n_steps``, ``seeds``, ``batched`` and ``record_every``."""
        t = model.table
        opts = model.cfg.probe_spec["options"]
        probe = {"modes": list(model.cfg.probe_spec["modes"]), "name": opts["name"]}
        mats = model.probes.matrices
        for k in ("eeg_electrodes_um", "meg_sensors_um", "column_positions_um", "column_axis"):
            if k in mats:
                probe[k] = np.asarray(mats[k]).tolist()
        g = model.geometry
        geom = g.to_dict()
        geom.update({"layers": {lab: [top, bottom] for lab, top, bottom in g.layers},
                     "bin_centers_um": np.asarray(g.bin_centers_um).tolist(),
                     "contact_depths_um": np.asarray(g.contact_depths_um).tolist()})
        rec = opts["record_neurons"]
        return cls(dt_ms=dt_ms, n_steps=n_steps, seeds=seeds, batched=batched, record_every=record_every,
                   scheme=model.scheme, family=model.family, propagation=model.propagation, dtype=model.dtype,
                   neuron={"column": t.column, "layer": t.layer, "cell_type": t.cell_type,
                           "population": t.population, "depth_um": t.depth_um, "x_um": t.xyz_um[:, 0],
                           "y_um": t.xyz_um[:, 1]},
                   record_idx=None if rec is None else np.asarray(rec, np.int64), populations=t.populations,
                   columns=tuple(dict.fromkeys(t.column.tolist())), geometry=geom, probe=probe,
                   config=model.cfg.to_dict())


_FIELDS = ("spikes", "V_m", "I_syn", "source", "LFP", "CSD", "MUA", "dipole", "EEG", "MEG", "EMM", "BOLD",
           "source_pop", "LFP_pop", "dipole_pop", "weights", "bad_step")


@dataclass(frozen=True)
class SpikeEvents:
    """Spikes as a ragged event list: step and neuron of every spike (and its seed in a batch).

    Events are ordered by seed, then step, then neuron. Memory is 8 (12 in a batch) bytes per spike,
    against one byte per neuron and step of the raster.
    """

    steps: np.ndarray  # int32 [event]
    neurons: np.ndarray  # int32 [event]
    seeds: np.ndarray | None  # int32 [event], index into the batch's seeds; None unbatched
    shape: tuple  # the raster's shape: ([seed,] time, neuron)

    @classmethod
    def from_raster(cls, raster: np.ndarray, batched: bool, step0: int = 0) -> SpikeEvents:
        """The events of a bool ``raster`` ``[(seed,) time, neuron]``, steps offset by ``step0``."""
        # flatnonzero and unravel: ``np.nonzero`` of a 2-D or 3-D bool array is about 15x slower (one pass
        # per axis); both give the events in C order (by seed, then step, then neuron)
        idx = np.unravel_index(np.flatnonzero(raster), raster.shape)
        if batched:
            s, t, n = idx
            return cls(t.astype(np.int32) + step0, n.astype(np.int32), s.astype(np.int32), raster.shape)
        t, n = idx
        return cls(t.astype(np.int32) + step0, n.astype(np.int32), None, raster.shape)

    @classmethod
    def concatenate(cls, parts: list[SpikeEvents], shape: tuple) -> SpikeEvents:
        """Join the events of consecutive time chunks (each already offset by its first step)."""
        steps = np.concatenate([p.steps for p in parts])
        neurons = np.concatenate([p.neurons for p in parts])
        if parts[0].seeds is None:
            return cls(steps, neurons, None, shape)
        seeds = np.concatenate([p.seeds for p in parts])
        order = np.lexsort((neurons, steps, seeds))  # by seed, then time (chunks are time-ordered)
        return cls(steps[order], neurons[order], seeds[order], shape)

    def of_seed(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, neurons)`` of the spikes of the ``i``-th seed of a batch."""
        m = self.seeds == i
        return self.steps[m], self.neurons[m]

    def raster(self) -> np.ndarray:
        """The dense bool raster ``[(seed,) time, neuron]``."""
        out = np.zeros(self.shape, bool)
        if self.seeds is None:
            out[self.steps, self.neurons] = True
        else:
            out[self.seeds, self.steps, self.neurons] = True
        return out


@jax.tree_util.register_pytree_node_class
class Signals:
    """Neural signals from a simulation.

    Every signal is an attribute, ``None`` when it was not probed; a batch adds a leading ``seed``
    axis to every array. Step ``k`` covers ``[k dt, (k + 1) dt]`` and is sampled at its end:
    ``time_ms[k] = (k + 1) dt``.

    Attributes
    ----------
    spikes : bool [time, neuron]
        True where the neuron crossed threshold during the step.
    V_m : [time_rec, neuron_rec], mV
        Membrane potential at the end of each step, before the reset, clipped to ``v_peak`` on spike
        steps (as Izhikevich's figure code); every ``record_every``-th step of the recorded neurons.
    I_syn : [time_rec, neuron_rec], pA
        Synaptic current, positive = inward/depolarising (NEST/Brian2 convention).
    source : [time, location], A/m^3
        Ground-truth laminar source density (source > 0); a location is a depth bin of a column
        (column-major: every bin of the first column, then the next), with both as coordinates.
    LFP : [time, contact], µV
        Extracellular potential at the laminar contacts.
    CSD : [time, contact_csd], A/m^3
        Standard CSD estimated from the LFP at the inner contacts, source > 0.
    MUA : [time, contact], 1
        Spike count of the neurons near each contact (spikes per step per contact).
    dipole : [time, column, 3], nA·m
        Current dipole moment per column, head coordinates.
    EEG : [time, eeg_channel], µV
        Scalp potential (four-sphere head model).
    MEG : [time, meg_channel], fT
        Radial magnetic field at the magnetometers.
    EMM : [time], s-1
        Metabolic proxy: ATP consumption rate (ATP molecules per second).
    BOLD : [tr], 1
        Fractional BOLD signal change at the repetition time.
    weights : [pre, post]
        The plastic weights at the end of the run (with STDP), before ``weight_scale``, in the
        emitter's current units.
    """

    def __init__(self, arrays: dict, meta: SignalsMeta, spike_events: SpikeEvents | None = None):
        self._arrays = {k: v for k, v in arrays.items() if v is not None}
        self.meta = meta
        self._events = spike_events

    @classmethod
    def from_arrays(cls, arrays: dict, meta: SignalsMeta, spike_events: SpikeEvents | None = None) -> Signals:
        """Signals of ``arrays``; the spikes either as a raster in ``arrays`` or as ``spike_events``."""
        return cls(dict(arrays), meta, spike_events)

    def __getattr__(self, name: str):
        if name.startswith("_") or name == "meta":
            raise AttributeError(name)
        if name == "spikes" and "spikes" not in self._arrays and self._events is not None:
            # the raster is made when first asked for (simulate keeps the events only)
            self._arrays["spikes"] = self._events.raster()
        if name in _FIELDS:
            return self._arrays.get(name)
        raise AttributeError(f"Signals has no attribute {name!r}")

    @property
    def spike_events(self) -> SpikeEvents | None:
        """The spikes as a ragged event list (NEST's senders/times), without the dense raster."""
        if self._events is None and "spikes" in self._arrays:
            self._events = SpikeEvents.from_raster(np.asarray(self._arrays["spikes"]), self.meta.batched)
        return self._events

    # -- pytree -------------------------------------------------------------------------------------
    def tree_flatten(self):
        """JAX pytree protocol: the recorded arrays as leaves (the spike raster made from the events),
        their names and the metadata as auxiliary data."""
        if self._events is not None:
            self.spikes  # noqa: B018  (a pytree's leaves are arrays: the raster)
        keys = tuple(sorted(self._arrays))
        return tuple(self._arrays[k] for k in keys), (keys, self.meta)

    @classmethod
    def tree_unflatten(cls, aux, children):
        """JAX pytree protocol: the Signals of the arrays ``children`` named and described by ``aux``."""
        keys, meta = aux
        return cls(dict(zip(keys, children)), meta)

    # -- coordinates -----------------------------------------------------------------------------
    @property
    def dt_ms(self) -> float:
        """Simulation step, ms."""
        return self.meta.dt_ms

    @property
    def time_ms(self) -> np.ndarray:
        """Sample times in ms, at the end of each step (``time_ms[k] = (k + 1) dt``)."""
        return (np.arange(self.meta.n_steps) + 1) * self.meta.dt_ms

    @property
    def recorded(self) -> tuple[str, ...]:
        """Names of the recorded signals (``"spikes"``, ``"V_m"``, ``"LFP"``, ...), in a fixed order."""
        have = set(self._arrays) | ({"spikes"} if self._events is not None else set())
        return tuple(k for k in _FIELDS if k in have and k != "bad_step")

    @property
    def units(self) -> dict[str, str]:
        """Unit of each recorded signal, e.g. ``{"spikes": "1", "V_m": "mV"}`` (see :data:`jaxfne.signals.UNITS`)."""
        return {k: signal_unit(k, self.meta.family) for k in self.recorded}

    def spike_times(self, neuron: int | None = None, seed_index: int | None = None):
        """Spike times (ms) of one neuron, or ``(times, neurons)`` of all."""
        ev = self.spike_events
        steps, ids = ev.of_seed(0 if seed_index is None else seed_index) if self.meta.batched else (ev.steps, ev.neurons)
        t = (steps + 1) * self.meta.dt_ms
        if neuron is None:
            return t, ids
        return t[ids == neuron]

    # -- export ----------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-safe dict: metadata, units and every recorded array as nested lists."""
        m = self.meta
        arrays = {}
        for k in self.recorded:
            a = np.asarray(getattr(self, k))
            arrays[k] = a.astype(int).tolist() if a.dtype == bool else np.where(np.isfinite(a), a, None).tolist()
        return {
            "dt_ms": m.dt_ms, "n_steps": m.n_steps, "seeds": m.seeds, "scheme": m.scheme, "family": m.family,
            "propagation": m.propagation, "dtype": m.dtype,
            "record_every": m.record_every, "units": self.units,
            "dims": {k: (["seed"] if m.batched else []) + list(DIMS[k]) for k in self.recorded},
            "neuron": {k: np.asarray(v).tolist() for k, v in m.neuron.items()},
            "signals": arrays,
        }

    def save_json(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as JSON (atomically: temporary file, then rename)."""
        from .io.atomic import atomic_file

        with atomic_file(path, suffix=".json") as tmp:
            tmp.write_text(json.dumps(self.to_dict()))

    def to_xarray(self):
        """An :class:`xarray.Dataset` with named dims, coordinates and units (see :mod:`jaxfne.signals_xr`)."""
        from .signals_xr import signals_to_xarray

        return signals_to_xarray(self)

    def to_neo(self):
        """A :class:`neo.Block` (one segment per seed) of the spike trains and analog signals, with
        ``quantities`` units and the end-of-step sample times, for Elephant (see :mod:`jaxfne.io.neo`)."""
        from .io.neo import signals_to_neo

        return signals_to_neo(self)

    def to_nwb(self, path, **kwargs):
        """Write one seed as an NWB file (Units table, laminar LFP as an ElectricalSeries, the other
        signals as TimeSeries, configuration and provenance in the metadata); returns the path.
        Keywords as :func:`jaxfne.io.nwb.signals_to_nwb` (``seed_index``, ``overwrite``, ...)."""
        from .io.nwb import signals_to_nwb

        return signals_to_nwb(self, path, **kwargs)

    @classmethod
    def from_xarray(cls, ds) -> Signals:
        """The Signals of a Dataset made by :meth:`to_xarray` or read from a simulation store (numpy
        arrays; no model needed). ``Signals.from_xarray(s.to_xarray())`` equals ``s``."""
        from .signals_xr import signals_from_xarray

        return signals_from_xarray(ds)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}{self._events.shape if k == 'spikes' and k not in self._arrays else tuple(np.shape(self._arrays[k]))}"
                           for k in self.recorded)
        return f"Signals(dt_ms={self.meta.dt_ms}, {shapes})"
