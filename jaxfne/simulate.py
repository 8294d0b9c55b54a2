"""``simulate``: run a model in time chunks, batched over seeds or parameter sets."""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .engine.numerics import first_on_host, first_step
from .engine.prepare import prepare
from .engine.scan import chunk_fn, init_carry
from .engine.stimulus import waveform_table
from .engine.transfer import device_array
from .errors import ConfigurationError, SimulationError
from .model import Model
from .propagation import KERNELS, TABLE_KERNELS
from .signals import Signals, SignalsMeta, SpikeEvents

__all__ = ["one_network_at_a_time", "pure_simulate_fn", "run_steps", "simulate"]

#: Memory budget of the outputs of one chunk (all seeds together), bytes.
CHUNK_BUDGET_BYTES = 128 * 2**20

#: Largest single array of a chunk (an output or the chunk's random draws, all seeds together),
#: bytes. glibc serves blocks up to its largest mmap threshold (32 MiB on 64-bit Linux) from its
#: heap once such a block has been freed, so the chunks after the first reuse their memory; larger
#: blocks are fresh mappings every chunk, page-faulted and zeroed by the kernel (10 % microcircuit,
#: 2,000-step chunks: 620 MB of page faults per 2 s run, about 7 % of its wall time).
CHUNK_ARRAY_BYTES = 16 * 2**20

#: Steps below which the array cap does not shorten a chunk (each chunk costs a host round trip).
MIN_CAPPED_STEPS = 256


def run_steps(model: Model, duration_ms: Any, dt_ms: Any) -> int:
    """Steps of a run: ``T / dt``, or ``T / dt + 1`` for a preset's published protocol (``t = 0:dt:T``)."""
    from .config.validate import check_steps

    return check_steps(duration_ms, dt_ms) + int(model.static.closed_end)


def _seeds(seed: Any) -> tuple[list[int], bool]:
    from .config.validate import check_int

    if isinstance(seed, (Sequence, np.ndarray)) and not isinstance(seed, str):
        seeds = [check_int(f"seed[{i}]", s, lo=0, hi=2**32 - 1) for i, s in enumerate(list(seed))]
        if not seeds:
            raise ConfigurationError("seed", seed, "an integer or a non-empty list of integers")
        return seeds, True
    return [check_int("seed", seed, lo=0, hi=2**32 - 1)], False


def _array_bytes_per_step(static, n_rec: int) -> list[int]:
    """Bytes per step of each array a chunk produces: its outputs and its random draws."""
    r = static.record
    item = 8 if static.dtype == "float64" else 4
    sizes = [static.n * int(r.spikes)]  # spikes (bool)
    sizes += [item * n_rec // r.every] * (int(r.V_m) + int(r.I_syn))
    sizes.append(item * (r.n_bins * (r.n_pops if r.attribution else 1) + r.n_mua + 3))
    ds = static.drive
    # random draws of the chunk: one Gaussian per neuron, one uniform per neuron when each neuron has at
    # most one Poisson drive (``engine.drive.draws``), one count per drive and neuron otherwise
    sizes += [item * static.n * int(ds.n_gauss > 0), item * static.n * (1 if ds.one_count_per_neuron else ds.n_poisson)]
    sizes.append(item * sum(static.drive.source_sizes))  # spike counts of the sources
    return sizes


def _bytes_per_step(static, n_rec: int) -> int:
    return sum(_array_bytes_per_step(static, n_rec))


def _chunk_steps(static, n_steps: int, n_rec: int, n_seeds: int, chunk_ms, dt_ms: float,
                 per_array_seeds: int | None = None) -> int:
    """Steps per chunk: a multiple of ``record_every``, at most the run (rounded up to that multiple).

    Without ``chunk_ms`` the run is split into as few chunks as the memory budget allows, all of
    equal length: every chunk runs its full length (the last one's extra steps are computed, then
    dropped), so budget-sized chunks would waste up to one chunk (5,000 steps of the 10 %
    microcircuit cost 6,954). Within the budget, no single array of a chunk exceeds
    :data:`CHUNK_ARRAY_BYTES` unless that would shorten the chunk below :data:`MIN_CAPPED_STEPS`;
    an array holds ``per_array_seeds`` networks (default all ``n_seeds``; one when the networks run
    one after the other, each with arrays of its own).
    """
    every = static.record.every
    if chunk_ms is None:
        most = max(1, CHUNK_BUDGET_BYTES // max(1, _bytes_per_step(static, n_rec) * n_seeds))
        largest = max(_array_bytes_per_step(static, n_rec)) * (n_seeds if per_array_seeds is None else per_array_seeds)
        most = min(most, max(MIN_CAPPED_STEPS, CHUNK_ARRAY_BYTES // max(1, largest)))
        chunk = -(-n_steps // -(-n_steps // most))  # ceil(n_steps / number of chunks)
    else:
        from .config.validate import check_number

        chunk = int(round(check_number("chunk_ms", chunk_ms, lo=0, lo_open=True) / dt_ms))
        if chunk < 1:
            raise ConfigurationError("chunk_ms", chunk_ms, f"at least one step of dt_ms={dt_ms:g}")
    chunk = min(chunk, n_steps)
    return max(every, -(-chunk // every) * every)


@functools.partial(jax.jit, static_argnums=(0, 3, 4))
def _initial_carry(static, params, struct, n_seeds, params_batched: bool):
    """The state at t = 0, one per seed when ``n_seeds``; one compiled program, not one per array."""
    if n_seeds is None:
        return init_carry(static, params, struct)
    if params_batched:
        return jax.vmap(lambda q: init_carry(static, q, struct))(params)
    return jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (n_seeds,) + a.shape), init_carry(static, params, struct))


#: The PRNG keys of a batch of seeds (uint32 [S]) in one compiled program, reused for any seeds of
#: the same number: the keys of ``jax.random.PRNGKey(s)`` for each seed (the fit's convention too).
_batch_keys = jax.jit(jax.vmap(jax.random.PRNGKey))


def _keys(seeds: list[int], batched: bool):
    """The PRNG key of each seed, stacked when ``batched``."""
    if not batched:
        return jax.random.PRNGKey(seeds[0])
    return _batch_keys(device_array(seeds, np.uint32))


def simulate(model: Model, duration_ms: float | None = None, dt_ms: float | None = None, seed: Any = None, *,
             params: dict | None = None, params_batched: bool = False, chunk_ms: float | None = None,
             progress: bool | None = None, on_chunk: Callable[[int, dict], None] | None = None,
             keep: bool = True) -> Signals:
    """Run a model.

    Parameters
    ----------
    model : Model
        From :func:`jaxfne.construct`.
    duration_ms, dt_ms : float, optional
        Biological duration and step, ms; default the configuration's ``runtime`` (which, where it
        leaves them unset, takes an emitter preset's published step and duration). The run has
        ``duration_ms / dt_ms`` steps; a preset's published protocol (an Izhikevich 2004 feature or
        2003 class with ``drive="preset"``) has ``duration_ms / dt_ms + 1``, the loop
        ``t = 0:dt:T`` of Izhikevich's figure code.
    seed : int or list of int, optional
        Seed of the dynamics noise. A list runs all seeds as **one** vmapped call; every output then
        has a leading ``seed`` axis. With the event kernel (the CPU's) the networks run one after the
        other within each chunk instead, which is faster there (:func:`one_network_at_a_time`); the
        results are the same. Default: the configuration's ``runtime.seed``.
    params : dict, optional
        Replacement parameter pytree (same structure as ``model.params``).
    params_batched : bool
        ``params`` leaves carry a leading axis of parameter sets, run as one vmapped call together
        with ``seed`` (a list of the same length).
    chunk_ms : float, optional
        Length of a time chunk. Default: as long as keeps one chunk's outputs under 128 MiB and each
        of its arrays (outputs, random draws) under 16 MiB, down to 256 steps. Memory is bounded by
        the chunk and by what the probes record, not by the duration.
    progress : bool, optional
        Show a progress bar over chunks; default only when stderr is a terminal and there are several.
    on_chunk : callable, optional
        ``on_chunk(step0, outputs)`` after each chunk (numpy arrays), e.g. to stream to disk.
    keep : bool
        Keep the outputs in the returned :class:`Signals` (``False`` with ``on_chunk`` streams only).

    Returns
    -------
    Signals
        ``spikes[time, neuron]`` (bool) and the probed signals. Step ``k`` covers
        ``[k dt, (k+1) dt]``; its samples are taken at its end, ``time_ms[k] = (k+1) dt``.

    Raises
    ------
    SimulationError
        When a membrane potential becomes non-finite; names the step, time, population and seed.
    """
    if not isinstance(model, Model):
        raise ConfigurationError("model", type(model).__name__, "a jaxfne.Model from jaxfne.construct(cfg)")
    rt = model.cfg.runtime_spec
    duration_ms = rt["duration_ms"] if duration_ms is None else duration_ms
    dt_ms = rt["dt_ms"] if dt_ms is None else dt_ms
    seed = rt["seed"] if seed is None else seed
    n_steps = run_steps(model, duration_ms, dt_ms)
    dt_ms = float(dt_ms)
    seeds, batched = _seeds(seed)
    if params_batched and not batched:
        raise ConfigurationError("seed", seed, "a list of seeds, one per parameter set, with params_batched=True")
    p = model.params if params is None else _check_params(model, params, params_batched)
    static, struct = prepare(model, dt_ms, p)
    sequential = batched and one_network_at_a_time(static)
    if batched:
        _check_batch_memory(static, len(seeds))
        if not sequential:
            _check_batch(static, len(seeds))
    rec = model.cfg.probe_spec["options"]["record_neurons"]
    n_rec = model.n if rec is None else len(rec)
    chunk = _chunk_steps(static, n_steps, n_rec, len(seeds), chunk_ms, dt_ms, 1 if sequential else None)
    n_chunks = math.ceil(n_steps / chunk)
    every = static.record.every

    dtype = jnp.dtype(static.dtype)
    if sequential:
        networks = _Sequential(static, p, struct, seeds, params_batched)
    else:
        networks = _Vmapped(static, p, struct, seeds, batched, params_batched)

    from .probes.fields import derive_fields, init_field_state

    probes = model.probes
    field_state = init_field_state(probes, len(seeds) if batched else None)
    pieces: dict[str, list] = {}
    events: list[SpikeEvents] = []
    bar = _progress(n_chunks, progress)
    try:
        for c in range(n_chunks):
            step0 = c * chunk
            wave = device_array(waveform_table(model.waveforms, step0, chunk, dt_ms), dtype)
            outs = networks.advance(step0, wave)
            _raise_if_bad(networks.bad(), dt_ms, model, seeds if batched else None)
            t_len = min(chunk, n_steps - step0)
            outs = _trim(outs, t_len, every, batched)
            field_state, derived = derive_fields(probes, outs, field_state, dt_ms, batched)
            outs.update(derived)
            host = {k: np.asarray(v) for k, v in outs.items()}
            _raise_if_not_finite(host, step0, dt_ms, every, seeds if batched else None)
            if on_chunk is not None:
                on_chunk(step0, host)
            if keep:
                if "spikes" in host:  # kept as events: memory follows the spikes, not the raster
                    events.append(SpikeEvents.from_raster(host.pop("spikes"), batched, step0))
                for k, v in host.items():
                    pieces.setdefault(k, []).append(v)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    axis = 1 if batched else 0
    arrays = {}
    for k in list(pieces):
        arrays[k] = pieces[k][0] if len(pieces[k]) == 1 else np.concatenate(pieces[k], axis=axis)
        del pieces[k]  # the joined array replaces its chunks
    arrays.update(derive_fields_final(probes, field_state))
    if static.plastic:
        arrays["weights"] = np.asarray(networks.carry()["plastic"]["w"])
    meta = SignalsMeta.from_model(model, dt_ms=dt_ms, n_steps=n_steps, seeds=seeds if batched else seeds[0],
                                  batched=batched, record_every=every)
    spike_events = None
    if events:
        shape = ((len(seeds),) if batched else ()) + (n_steps, model.n)
        spike_events = SpikeEvents.concatenate(events, shape)
    return Signals.from_arrays(arrays, meta, spike_events)


def one_network_at_a_time(static) -> bool:
    """A batch of seeds runs as a loop over its networks, chunk by chunk, instead of one vmapped call:
    the event kernel (CPU) visits each network's spikes in a loop of its own within every step, and
    a vmapped batch of it ran 1.4-1.9 x slower per network than the networks one after another
    (10 % microcircuit, 8 seeds: 2.7 s against 1.6 s; the Izhikevich 2003 network: 0.11 against
    0.07 s), while the dense kernel's batch ran 2 x faster than its loop. The results are the same."""
    kinds = [ps.kind for ps in (static.prop, *static.sources) if ps.kind != "none"]
    return bool(kinds) and all(kind == "event" for kind in kinds)


class _Vmapped:
    """One network, or a batch of them run by one vmapped call per chunk."""

    def __init__(self, static, params, struct, seeds: list[int], batched: bool, params_batched: bool):
        self._fn = chunk_fn(static, batched, params_batched)
        self._params, self._struct = params, struct
        self._keys = _keys(seeds, batched)
        self._carry = _initial_carry(static, params, struct, len(seeds) if batched else None, params_batched)

    def advance(self, step0: int, wave) -> dict:
        """Run one chunk from step ``step0``; its outputs (a leading seed axis when batched)."""
        self._carry, outs = self._fn(self._params, self._struct, self._carry, self._keys, step0, wave)
        return outs

    def bad(self) -> np.ndarray:
        """Each network's first non-finite step per neuron (:mod:`jaxfne.engine.numerics`)."""
        return np.asarray(self._carry["bad"])

    def carry(self) -> dict:
        return self._carry


class _Sequential:
    """A batch of networks run one after the other within each chunk (:func:`one_network_at_a_time`),
    each with its own seed's key and, with ``params_batched``, its own parameter set; the chunk's
    outputs are stacked along a leading seed axis as a vmapped call's are."""

    def __init__(self, static, params, struct, seeds: list[int], params_batched: bool):
        self._fn = chunk_fn(static, False, False)
        self._struct = struct
        self._params = [jax.tree_util.tree_map(lambda a, i=i: a[i], params) if params_batched else params
                        for i in range(len(seeds))]
        self._keys = [_keys([s], False) for s in seeds]
        self._carries = [_initial_carry(static, q, struct, None, False) for q in self._params]

    def advance(self, step0: int, wave) -> dict:
        outs = []
        for i, (q, key) in enumerate(zip(self._params, self._keys)):
            self._carries[i], out = self._fn(q, self._struct, self._carries[i], key, step0, wave)
            outs.append(out)
        return {k: jnp.stack([o[k] for o in outs]) for k in outs[0]}

    def bad(self) -> np.ndarray:
        return np.stack([np.asarray(c["bad"]) for c in self._carries])

    def carry(self) -> dict:
        return jax.tree_util.tree_map(lambda *a: jnp.stack(a), *self._carries)


def _check_batch_memory(static, n_seeds: int) -> None:
    """The ring buffers of every network of a batch must fit in memory together (before any allocation)."""
    from .engine.prepare import ring_buffer_bytes, ring_memory_budget

    per_seed = sum(ring_buffer_bytes(ps.d_len, ps.n, static.dtype) for ps in (static.prop, *static.sources)
                   if ps.kind in TABLE_KERNELS)
    budget = ring_memory_budget()
    if per_seed and n_seeds * per_seed > budget:
        raise ConfigurationError("seed", f"{n_seeds} seeds", f"at most {int(budget // per_seed)} seeds of this model in "
                                 f"one call: their ring buffers of future arrivals need {per_seed / 2**20:.3g} MiB "
                                 f"each, {n_seeds * per_seed / 2**30:.3g} GiB together; split them over several calls")


def _check_batch(static, n_seeds: int) -> None:
    """Every propagation kernel of the run takes ``n_seeds`` networks in one call (before any allocation)."""
    for ps in (static.prop, *static.sources):
        kernel = KERNELS.get(ps.kind)
        most = None if kernel is None else kernel.max_batch(ps)
        if most is not None and n_seeds > most:
            raise ConfigurationError("seed", f"{n_seeds} seeds", f"at most {most} seeds of this model in one call "
                                     f"(the {ps.kind} kernel indexes the batch's ring buffers with int32); "
                                     "split them over several calls")


def _check_params(model: Model, params: Any, batched: bool) -> Any:
    """``params`` has the tree structure of ``model.params`` (and its leaves' shapes, batched or not)."""
    want = jax.tree_util.tree_structure(model.params)
    if jax.tree_util.tree_structure(params) != want:
        keys = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ConfigurationError("params", keys, "a pytree with the structure of model.params (keys "
                                 + ", ".join(sorted(model.params)) + "); start from model.params")
    for path, a, b in zip(jax.tree_util.tree_leaves_with_path(model.params), jax.tree_util.tree_leaves(model.params),
                          jax.tree_util.tree_leaves(params)):
        shape = np.shape(b)[1:] if batched else np.shape(b)
        if shape != np.shape(a):
            name = "params" + jax.tree_util.keystr(path[0])
            raise ConfigurationError(name, f"shape {np.shape(b)}", f"shape {np.shape(a)}"
                                     + (" after the leading parameter-set axis" if batched else ""))
    return params


_SAMPLED = ("V_m", "I_syn")


def _trim(outs: dict, t_len: int, every: int, batched: bool) -> dict:
    """Drop the steps of the last chunk beyond the run (sampled signals: the blocks beyond it)."""
    out = {}
    for k, v in outs.items():
        keep = t_len // every if (k in _SAMPLED and every > 1) else t_len
        out[k] = v[:, :keep] if batched else v[:keep]
    return out


def derive_fields_final(probes, field_state) -> dict:
    from .probes.fields import finalize_fields

    return finalize_fields(probes, field_state)


def _progress(n_chunks: int, progress: bool | None):
    if n_chunks <= 1 or progress is False:
        return None
    if progress is None and not sys.stderr.isatty():
        return None
    from tqdm.auto import tqdm

    return tqdm(total=n_chunks, desc="jaxfne", unit="chunk")


def _raise_if_bad(bad: np.ndarray, dt_ms: float, model: Model, seeds) -> None:
    """The scan's numerics check (:mod:`jaxfne.engine.numerics`): the first non-finite V_m or I_syn
    of each network, named by step, time and population."""
    for i, row in enumerate(bad.reshape(-1, bad.shape[-1])):
        found = first_on_host(row)
        if found is not None:
            step, neuron = found
            raise SimulationError(step, (step + 1) * dt_ms, model.table.populations[int(model.table.pop_index[neuron])],
                                  None if seeds is None else seeds[i])


def _raise_if_not_finite(host: dict, step0: int, dt_ms: float, every: int, seeds) -> None:
    """Every recorded float signal of a chunk is finite, else the first bad sample is named."""
    for key, a in host.items():
        if a.dtype.kind != "f" or np.isfinite(a).all():
            continue
        bad = np.argwhere(~np.isfinite(a))[0]
        s, t = (int(bad[0]), int(bad[1])) if seeds is not None else (None, int(bad[0]))
        step = step0 + (t * every + every - 1 if key in _SAMPLED else t)
        raise SimulationError(step, (step + 1) * dt_ms, None, None if s is None else seeds[s], signal=key)


def pure_simulate_fn(model: Model, duration_ms: float, dt_ms: float, *, surrogate=None, checkpoint_ms=None):
    """``f(params, seed) -> Signals`` in one shot: traceable by ``jit``, ``grad`` and ``vmap``.

    The same compiled chunk as :func:`simulate` (the record spec applied in the scan), without host
    transfers or the NaN exception (check ``Signals.bad_step``): this is the function to differentiate.
    Gradients pass spikes through a surrogate derivative (``surrogate``, a
    :class:`~jaxfne.engine.surrogate.Surrogate` or its kind's name; default ``fast_sigmoid`` with
    beta = 1/mV), Poisson counts through :func:`~jaxfne.engine.drive.pathwise_counts`, and every
    propagation kernel through its reverse mode (the event and batched kernels through the transposed
    delivery).

    ``jax.vmap`` of this function over seeds runs the event kernel (the CPU's) one network after the
    other within each step; for forward runs of a seed batch on the CPU, ``simulate(seed=[...])`` is
    faster (:func:`one_network_at_a_time`).

    ``checkpoint_ms`` bounds the memory of reverse mode: the run is a scan over chunks of that length
    whose steps are recomputed in the backward pass (``jax.checkpoint``), so a gradient keeps the
    state at each chunk boundary plus one chunk's per-step residuals instead of every step's, at the
    price of running the forward pass about twice. ``None`` keeps every step's residuals (fastest,
    memory growing with the duration).
    """
    from .engine.surrogate import surrogate as check_surrogate

    n_steps = run_steps(model, duration_ms, dt_ms)
    dt_ms = float(dt_ms)
    sur = check_surrogate(surrogate)
    static, struct = prepare(model, dt_ms, model.params, float_spikes=True, surrogate=sur)
    every = static.record.every
    chunk = _remat_chunk_steps(checkpoint_ms, dt_ms, every, n_steps)
    n_chunks = -(-n_steps // chunk)
    padded = n_chunks * chunk
    fn = chunk_fn(static, False, False)
    wave_np = waveform_table(model.waveforms, 0, padded, dt_ms)
    from .probes.fields import derive_fields, finalize_fields, init_field_state

    meta = SignalsMeta.from_model(model, dt_ms=dt_ms, n_steps=n_steps, seeds=None, batched=False, record_every=every)
    probes = model.probes

    def run(params, key, carry, wave):
        if n_chunks == 1:
            return fn(params, struct, carry, key, 0, wave)

        @functools.partial(jax.checkpoint, prevent_cse=False)
        def one_chunk(c, i):
            part = jax.lax.dynamic_slice_in_dim(wave, i * chunk, chunk)
            return fn(params, struct, c, key, i * chunk, part)

        carry, outs = jax.lax.scan(one_chunk, carry, jnp.arange(n_chunks, dtype=jnp.int32))
        return carry, jax.tree_util.tree_map(lambda a: a.reshape((-1,) + a.shape[2:]), outs)

    def f(params, seed):
        key = jax.random.PRNGKey(seed) if jnp.ndim(seed) == 0 else seed
        carry = init_carry(static, params, struct)
        carry, outs = run(params, key, carry, device_array(wave_np, static.dtype))
        outs = _trim(outs, n_steps, every, False)
        state, derived = derive_fields(probes, outs, init_field_state(probes, None), dt_ms, False)
        outs.update(derived)
        outs.update(finalize_fields(probes, state))
        outs["bad_step"] = first_step(carry["bad"])
        if static.plastic:
            outs["weights"] = carry["plastic"]["w"]
        return Signals.from_arrays(outs, meta)

    return f


def _remat_chunk_steps(checkpoint_ms, dt_ms: float, every: int, n_steps: int) -> int:
    """Steps per rematerialised chunk: a multiple of ``every``; the whole run for ``None``."""
    whole = -(-n_steps // every) * every
    if checkpoint_ms is None:
        return whole
    from .config.validate import check_number

    ms = check_number("checkpoint_ms", checkpoint_ms, lo=0, lo_open=True)
    steps = max(1, int(round(ms / dt_ms)))
    return min(whole, -(-steps // every) * every)
