"""From a model and a step size to the compilation key and the structure arrays of a run."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..propagation import TABLE_KERNELS
from ..propagation.base import PropagationStatic
from ..propagation.event_rows import segment_width
from ..propagation.transpose import presynaptic_index
from .drive import poisson_kmax
from .static import DriveStatic, Static
from .surrogate import Surrogate
from .transfer import device_array

__all__ = ["BATCH_CAPACITY", "prepare", "ring_buffer_bytes", "ring_memory_budget"]

#: Spikes per gather-and-scatter batch of the ``batched`` kernel: a step with more loops over batches.
BATCH_CAPACITY = 128


def prepare(model, dt_ms: float, params: dict | None = None, *, float_spikes: bool = False,
            surrogate: Surrogate | None = None):
    """``(Static, structure)`` for step ``dt_ms`` (delays in steps depend on it), cached per model and dt.

    ``params`` size the Poisson sampler (its support depends on the rates; part of the key).
    ``float_spikes`` prepares a run for reverse mode: spikes are emitted as floats that carry the
    surrogate gradient (``surrogate``'s pseudo-derivative), and a table kernel's structure gains the
    presynaptic index of every synapse, which its transposed delivery over all rows reads (not needed
    when only spiking rows are visited).
    """
    host = model._host
    if dt_ms not in host.per_dt:
        host.per_dt[dt_ms] = _build(model, dt_ms)
    static, struct = host.per_dt[dt_ms]
    sur = surrogate or Surrogate()
    if float_spikes and not sur.spikes_only and (static.prop.kind in TABLE_KERNELS or static.sources):
        if (dt_ms, "grad") not in host.per_dt:
            host.per_dt[(dt_ms, "grad")] = _with_presynaptic_index(struct, static.prop.kind in TABLE_KERNELS)
        struct = host.per_dt[(dt_ms, "grad")]
    p = model.params if params is None else params
    if static.drive.n_poisson:
        k = poisson_kmax(np.asarray(p["poisson_rate_hz"]), np.asarray(p["poisson_n_inputs"]), dt_ms)
        static = dataclasses.replace(static, drive=dataclasses.replace(static.drive, poisson_kmax=k))
    if static.drive.n_sources:
        rates = np.asarray(p["source_rate_hz"])
        k = poisson_kmax(rates, np.ones_like(rates), dt_ms)
        static = dataclasses.replace(static, drive=dataclasses.replace(static.drive, source_kmax=k))
    if float_spikes:
        static = dataclasses.replace(static, float_spikes=True, surrogate=sur,
                                     prop=dataclasses.replace(static.prop, spiking_transpose=sur.spikes_only))
    return static, struct


def _with_presynaptic_index(struct: dict, network: bool) -> dict:
    """``struct`` with the presynaptic index of every synapse of the network's table (when ``network``)
    and of every spike-source table: what their transposed delivery over all rows reads."""
    out = dict(struct)
    if network:
        out["flat_pre"] = presynaptic_index(struct["row_start"], struct["targets"].shape[0])
    if "sources" in struct:
        out["sources"] = tuple({**t, "flat_pre": presynaptic_index(t["row_start"], t["targets"].shape[0])}
                               for t in struct["sources"])
    return out


def _source_statics(model, dt_ms: float, struct: dict) -> tuple:
    """Each spike-source population's :class:`PropagationStatic` (its table's ``n_pre`` = its sources),
    with the table's delays in steps of ``dt_ms`` added to ``struct["sources"]``."""
    if not model.sources:
        return ()
    statics, tables = [], []
    for sp, tab in zip(model.sources, struct["sources"]):
        syn = sp.synapses
        _check_ring_memory(model, float(np.max(syn.delay_ms)) if syn.count else dt_ms, dt_ms,
                           f"stimuli[{sp.index}].projections")
        statics.append(PropagationStatic(kind=model.static.source_kind, n=model.n, d_len=syn.max_delay_steps(dt_ms) + 1,
                                         uniform_delay=0, full_rows=False, gains=False, row_width=syn.row_width,
                                         segment=_segment(model.static.source_kind, syn),
                                         capacity=min(syn.n, BATCH_CAPACITY), n_pre=syn.n))
        tables.append({**tab, "delays": device_array(syn.flat_delays(dt_ms))})
    struct["sources"] = tuple(tables)
    return tuple(statics)


def _segment(kind: str, syn) -> int:
    """The event kernel's segment width for this table (0 for the other kernels)."""
    return segment_width(np.diff(syn.row_start)) if kind == "event" and syn.count else 0


def _check_delay_memory(model, dt_ms: float) -> None:
    """The ring buffer of future arrivals, [2, max delay steps + 1, N], must fit in memory."""
    syn = model.synapses
    if not syn.count or model.static.propagation == "none":
        return
    field = "connectivity.projections" if model.resolved["connectivity"]["projections"] else "connectivity.delay_ms"
    _check_ring_memory(model, float(np.max(syn.delay_ms)), dt_ms, field)


def _check_ring_memory(model, longest: float, dt_ms: float, field: str) -> None:
    """A ring buffer [2, longest / dt + 1, N] must fit in memory (else ``ConfigurationError`` on ``field``)."""
    from ..errors import ConfigurationError

    d_len = longest / dt_ms + 2
    need = ring_buffer_bytes(d_len, model.n, model.static.dtype)
    if d_len > 2**31 - 1 or need > ring_memory_budget():
        raise ConfigurationError(field, longest, f"delays whose ring buffer fits in memory: {longest:g} ms at dt "
                                 f"{dt_ms:g} ms for {model.n} neurons needs {need / 2**30:.3g} GiB")


def ring_buffer_bytes(d_len: float, n: int, dtype: str) -> float:
    """Bytes of one ring buffer of future arrivals, ``[2, d_len, n + 1]`` of the run's float."""
    return 2 * d_len * (n + 1) * (8 if dtype == "float64" else 4)


def ring_memory_budget() -> float:
    """What the ring buffers of one run (all its networks together) may take: half the machine's memory."""
    return physical_memory_bytes() / 2


def physical_memory_bytes() -> float:
    """The machine's physical memory (inf where the OS does not say)."""
    import os

    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


def _poisson_disjoint(struct: dict, n_poisson: int) -> bool:
    """Every neuron gets at most one Poisson drive; then ``struct["poisson_of"]`` says which (P = none)."""
    if not n_poisson:
        return False
    mask = np.asarray(struct["poisson_mask"]) > 0
    if np.any(mask.sum(axis=0) > 1):
        return False
    struct["poisson_of"] = device_array(np.where(mask.any(axis=0), np.argmax(mask, axis=0), n_poisson), np.int32)
    return True


def _poisson_always_on(model) -> bool:
    """Every Poisson drive is on at every step: its window (``engine.stimulus.drive_window``, in the
    columns after the stimuli and the Gaussian drives) is 1 from a start at or before t = 0, with no stop."""
    ms = model.static
    first = ms.n_wave + ms.n_gauss
    windows = model.waveforms[first:first + ms.n_poisson]
    return bool(ms.n_poisson) and all(
        w.series is None and len(w.segments) == 1 and _covers_all_steps(w.segments[0]) for w in windows)


def _covers_all_steps(seg) -> bool:
    starts = seg.t_start < 0 or (seg.t_start == 0 and seg.closed_start)
    return starts and math.isinf(seg.t_stop) and seg.t_stop > 0 and seg.value == 1.0 and seg.slope == 0.0


def _build(model, dt_ms: float):
    ms = model.static
    syn = model.synapses
    struct = dict(model.structure)
    _check_delay_memory(model, dt_ms)
    longest = syn.max_delay_steps(dt_ms)
    uniform = longest if ms.uniform_delay else 0
    if ms.propagation in TABLE_KERNELS:
        struct["delays"] = device_array(syn.flat_delays(dt_ms))
    elif ms.propagation == "dense" and not uniform:
        _, delays = syn.to_dense(dt_ms)
        struct["delays"] = device_array(delays)
    prop = PropagationStatic(kind=ms.propagation, n=ms.n, d_len=longest + 1, uniform_delay=uniform,
                             full_rows=ms.full_rows, gains=ms.gains, row_width=syn.row_width if syn.count else 1,
                             segment=_segment(ms.propagation, syn), capacity=min(ms.n, BATCH_CAPACITY))
    static = Static(n=ms.n, dt=float(dt_ms), dtype=ms.dtype, family=ms.family, scheme=ms.scheme,
                    synapse=ms.synapse, prop=prop,
                    drive=DriveStatic(n_wave=ms.n_wave, n_gauss=ms.n_gauss, n_poisson=ms.n_poisson,
                                      poisson_disjoint=_poisson_disjoint(struct, ms.n_poisson),
                                      poisson_always_on=_poisson_always_on(model),
                                      source_sizes=tuple(sp.n_sources for sp in model.sources),
                                      drive_rows=ms.drive_rows),
                    record=ms.record, plastic=ms.plastic, strict_threshold=ms.strict_threshold,
                    sources=_source_statics(model, dt_ms, struct))
    return static, struct
