"""Readout metrics computed: the named reductions of :class:`~jaxfne.Signals` (the registry and
the specification of a readout are :mod:`jaxfne.metrics`).

Every metric is computed with ``jax.numpy`` on JAX arrays, so gradients flow from a readout back to
parameters (through surrogate spikes), and with numpy on host arrays (signals read back from a
store), where there is nothing to differentiate and nothing to compile. Selections: ``column``,
``layer``, ``cell_type`` and a time window ``t_start_ms``/``t_stop_ms`` (so a start-up transient
can be discarded).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .errors import ConfigurationError
from .metrics import BURST_DEFAULTS, CV_MIN_SPIKES, METRICS, SIGNAL_MODES, ReadoutSpec

__all__ = ["ReadoutResult", "compute_readout"]


@dataclass
class ReadoutResult:
    """Computed readouts: ``results[name]`` is a float (a list of floats, one per seed, for a batch)."""

    specs: list
    results: dict

    def to_dict(self) -> dict:
        """A JSON-safe dict: ``specs`` (each :meth:`ReadoutSpec.to_dict`) and ``results`` as floats (lists
        of floats, one per seed, for a batch)."""
        out = {}
        for k, v in self.results.items():
            a = np.asarray(v, dtype=float)
            out[k] = a.tolist() if a.ndim else float(a)
        return {"specs": [s.to_dict() for s in self.specs], "results": out}


def _time_mask(times: np.ndarray, opts: dict) -> np.ndarray:
    lo = opts.get("t_start_ms", -np.inf)
    hi = opts.get("t_stop_ms", np.inf)
    m = (times > lo) & (times <= hi)
    if not m.any():
        raise ConfigurationError("readout_spec.t_start_ms/t_stop_ms", [lo, hi], "a window containing samples")
    return m


def _neuron_mask(meta, opts: dict) -> np.ndarray:
    mask = np.ones(len(meta.neuron["column"]), bool)
    for key in ("column", "layer", "cell_type"):
        if key in opts:
            vals = meta.neuron[key]
            if opts[key] not in set(vals.tolist()):
                raise ConfigurationError(f"readout_spec.{key}", opts[key], "one of " + ", ".join(sorted(set(vals.tolist()))))
            mask &= vals == opts[key]
    return mask


def _need(sig, key: str):
    a = getattr(sig, key)
    if a is None:
        raise ConfigurationError("readout_spec.metric", key,
                                 f"a metric of a recorded signal: probe {SIGNAL_MODES[key]!r}")
    return a if isinstance(a, np.ndarray) else jnp.asarray(a)


def _xp(a):
    """The array module of ``a``: numpy for host arrays, ``jax.numpy`` for JAX arrays and tracers."""
    return np if isinstance(a, np.ndarray) else jnp


def _select(a, idx: np.ndarray, axis: int):
    """``a`` at the indices ``idx`` along ``axis``: a slice where they are contiguous (a window, a
    population), else a gather. A slice's reverse mode is a pad; a gather's, a scatter that XLA may
    spend many seconds constant-folding."""
    idx = np.asarray(idx)
    contiguous = idx.size and np.array_equal(idx, np.arange(idx[0], idx[0] + idx.size))
    if isinstance(a, np.ndarray):
        return a[(slice(None),) * (axis % a.ndim) + (slice(int(idx[0]), int(idx[0] + idx.size)),)] \
            if contiguous else np.take(a, idx, axis=axis)
    if contiguous:
        return jax.lax.slice_in_dim(a, int(idx[0]), int(idx[0] + idx.size), axis=axis % a.ndim)
    return jnp.take(a, idx, axis=axis)


def _rates(sig, opts):
    meta = sig.meta
    tm = _time_mask(sig.time_ms, opts)
    nm = _neuron_mask(meta, opts)
    sp = _need(sig, "spikes")
    sp = _select(_select(sp, np.flatnonzero(tm), -2), np.flatnonzero(nm), -1)
    window_s = tm.sum() * meta.dt_ms * 1e-3
    return sp.astype(_xp(sp).result_type(float)).sum(axis=-2) / window_s  # [..., neuron]


def _bursts(sig, opts) -> np.ndarray:
    """Burst count per selected neuron (host computation: bursts are not differentiable)."""
    meta = sig.meta
    tm = _time_mask(sig.time_ms, opts)
    nm = np.flatnonzero(_neuron_mask(meta, opts))
    sp = np.asarray(_need(sig, "spikes"))
    sp = sp[..., np.flatnonzero(tm), :][..., nm]
    max_isi = opts.get("max_isi_ms", BURST_DEFAULTS["max_isi_ms"]) / meta.dt_ms
    min_spikes = opts.get("min_spikes", BURST_DEFAULTS["min_spikes"])
    flat = sp.reshape((-1,) + sp.shape[-2:])
    counts = np.zeros((flat.shape[0], flat.shape[-1]))
    for b in range(flat.shape[0]):
        for j in range(flat.shape[-1]):
            steps = np.flatnonzero(flat[b, :, j])
            if steps.size < min_spikes:
                continue
            breaks = np.flatnonzero(np.diff(steps) > max_isi + 1e-9)
            runs = np.diff(np.concatenate([[0], breaks + 1, [steps.size]]))
            counts[b, j] = np.sum(runs >= min_spikes)
    window_s = tm.sum() * meta.dt_ms * 1e-3
    return (counts / window_s).reshape(sp.shape[:-2] + (sp.shape[-1],))


def _cv_isi(sig, opts) -> np.ndarray:
    """Mean ISI coefficient of variation over the selected neurons that enter (host computation)."""
    tm = _time_mask(sig.time_ms, opts)
    nm = np.flatnonzero(_neuron_mask(sig.meta, opts))
    sp = np.asarray(_need(sig, "spikes"))[..., np.flatnonzero(tm), :][..., nm]
    min_spikes = opts.get("min_spikes", CV_MIN_SPIKES)
    flat = sp.reshape((-1,) + sp.shape[-2:])
    out = np.full(flat.shape[0], np.nan)
    for b in range(flat.shape[0]):
        cvs = []
        for j in range(flat.shape[-1]):
            steps = np.flatnonzero(flat[b, :, j])
            if steps.size >= min_spikes:
                isi = np.diff(steps).astype(float)
                cvs.append(isi.std() / isi.mean())
        if cvs:
            out[b] = float(np.mean(cvs))
    return out.reshape(sp.shape[:-2])


def _depth_select(sig, opts, depths: np.ndarray) -> np.ndarray:
    if "layer" not in opts:
        return np.ones(depths.size, bool)
    layers = sig.meta.geometry.get("layers", {})
    if opts["layer"] not in layers:
        raise ConfigurationError("readout_spec.layer", opts["layer"], "one of " + ", ".join(layers))
    top, bottom = layers[opts["layer"]]
    m = (depths >= top) & (depths < bottom)
    if not m.any():
        raise ConfigurationError("readout_spec.layer", opts["layer"], "a layer containing probe sites")
    return m


def _field(sig, opts, key: str):
    if "cell_type" in opts:
        raise ConfigurationError("readout_spec.cell_type", opts["cell_type"],
                                 "no cell_type for field metrics (use probes(..., attribution=True) and the *_pop signals)")
    a = _need(sig, key)
    tm = np.flatnonzero(_time_mask(sig.time_ms, opts))
    a = _select(a, tm, -2)
    g = sig.meta.geometry
    if key == "source":
        cols = list(sig.meta.columns)
        a = a.reshape(a.shape[:-1] + (len(cols), -1))  # location -> column x bin
        ci = [cols.index(opts["column"])] if "column" in opts else list(range(len(cols)))
        bm = np.flatnonzero(_depth_select(sig, opts, np.asarray(g["bin_centers_um"])))
        a = a[..., ci, :][..., bm]
        return _xp(a).mean(_xp(a).abs(a), axis=(-3, -2, -1))
    depths = np.asarray(g["contact_depths_um"])
    if key == "CSD":
        depths = depths if a.shape[-1] == depths.size else depths[1:-1]
    cm = np.flatnonzero(_depth_select(sig, opts, depths))
    return _xp(a).mean(_xp(a).abs(a[..., cm]), axis=(-2, -1))


def _metric(sig, spec: ReadoutSpec):
    o = spec.options
    m = spec.metric
    if m == "spike_rate_hz":
        r = _rates(sig, o)
        return _xp(r).mean(r, axis=-1)
    if m == "max_spike_rate_hz":
        r = _rates(sig, o)
        return _xp(r).max(r, axis=-1)
    if m == "burst_frequency_hz":
        b = np.mean(_bursts(sig, o), axis=-1)
        return b if isinstance(sig.spikes, np.ndarray) else jnp.asarray(b)
    if m == "cv_isi":
        c = _cv_isi(sig, o)
        return c if isinstance(sig.spikes, np.ndarray) else jnp.asarray(c)
    if m == "fano_factor":
        n = _rates(sig, o)  # counts / window: the ratio var/mean of counts is window * var/mean of rates
        xp = _xp(n)
        window_s = _time_mask(sig.time_ms, o).sum() * sig.meta.dt_ms * 1e-3
        return xp.var(n, axis=-1) / xp.mean(n, axis=-1) * window_s
    if m == "mean_V_m":
        v = _need(sig, "V_m")
        every = sig.meta.record_every
        t_rec = sig.time_ms[every - 1::every][: v.shape[-2]]
        tm = np.flatnonzero(_time_mask(t_rec, o))
        nm = _neuron_mask(sig.meta, o)
        rec = sig.meta.record_idx
        if rec is not None and rec.size == 0:
            raise ConfigurationError("probes.record_neurons", [], "at least one neuron index for mean_V_m")
        cols = np.flatnonzero(nm if rec is None else nm[rec])
        if cols.size == 0:
            raise ConfigurationError("readout_spec", o, "a selection containing recorded neurons")
        return _xp(v).mean(_select(_select(v, tm, -2), cols, -1), axis=(-2, -1))
    if m == "mean_source":
        return _field(sig, o, "source")
    if m == "mean_LFP":
        return _field(sig, o, "LFP")
    if m == "mean_CSD":
        return _field(sig, o, "CSD")
    raise ConfigurationError("readout_spec.metric", m, "one of " + ", ".join(METRICS))


def compute_readout(model, signals, readout_specs) -> ReadoutResult:
    """Compute every readout of ``readout_specs`` on ``signals``.

    ``model`` is the model that made the signals, or None for signals read back from a store (the
    signals carry their own description: neuron table, geometry, time axis).

    Values are ``jax.Array`` scalars (``[seed]`` for a batch) for signals held as JAX arrays, so the
    call can sit inside ``jax.grad``, and numpy values for signals on the host (read back from a
    store: no compilation); :meth:`~jaxfne.ReadoutResult.to_dict` turns them into floats.
    """
    if isinstance(readout_specs, ReadoutSpec):
        readout_specs = [readout_specs]
    names = [s.name for s in readout_specs]
    if len(set(names)) != len(names):
        raise ConfigurationError("readout_specs", names, "distinct readout names")
    results = {s.name: _metric(signals, s) for s in readout_specs}
    return ReadoutResult(specs=list(readout_specs), results=results)
