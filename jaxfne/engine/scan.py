"""One builder of the initial state and the compiled chunk, under both ``simulate`` and ``simulate_fn``.

The scan carries the state pytree; only what the record spec asks for leaves it, V_m and I_syn
decimated inside the scan (a nested scan: ``every - 1`` steps without sampling, then one with),
so nothing unrequested is materialised (diffrax ``SaveAt``, vbjax monitors).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..neurons import FAMILIES
from ..propagation import KERNELS
from ..synapses import init_state as synapse_state, stdp
from . import numerics, sources
from .step import step

__all__ = ["chunk_fn", "init_carry"]


def init_carry(static, params: dict, struct: dict) -> dict:
    """The state at t = 0 of every component."""
    dt = jnp.dtype(static.dtype)
    carry = {
        "neuron": FAMILIES[static.family].init_state(params["neuron"], dt),
        "syn": synapse_state(static.n, static.drive.n_rows, dt),
        "bad": numerics.init(static.n),
    }
    kernel = KERNELS.get(static.prop.kind)
    if kernel is not None:
        carry["prop"] = kernel.init(static.prop, dt)
    if static.plastic:
        carry["plastic"] = stdp.init_state(params["weights"], static.n, dt)
    if static.sources:
        carry["sources"] = sources.init(static.sources, dt)
    return carry


def _pack(outs: dict):
    """One float output per step instead of several: each scan output costs a write per step."""
    floats = {k: v for k, v in outs.items() if k != "spikes"}
    layout = {k: v.shape for k, v in floats.items()}
    packed = jnp.concatenate([v.reshape(-1) for v in floats.values()]) if floats else None
    return {"spikes": outs.get("spikes"), "packed": packed}, layout


def _unpack(ys: dict, layout: dict, t_len: int) -> dict:
    outs = {} if ys["spikes"] is None else {"spikes": ys["spikes"]}
    start = 0
    for k, shape in layout.items():
        size = int(np.prod(shape, dtype=int))
        outs[k] = ys["packed"][:, start:start + size].reshape((t_len,) + shape)
        start += size
    return outs


def _merge_blocks(ys_head: dict, ys_last: dict, layout: dict, n_blocks: int, every: int) -> dict:
    """Per-step signals of all steps (head + last of each block) and the sampled ones of each block."""
    per_layout = layout[False]
    sampled_layout = {k: v for k, v in layout[True].items() if k not in per_layout}
    f_per = sum(int(np.prod(v, dtype=int)) for v in per_layout.values())
    t_len = n_blocks * every
    outs = {}
    if ys_last["spikes"] is not None:
        outs["spikes"] = jnp.concatenate([ys_head["spikes"], ys_last["spikes"][:, None]], axis=1).reshape(
            (t_len,) + ys_last["spikes"].shape[1:])
    if f_per:
        per = jnp.concatenate([ys_head["packed"], ys_last["packed"][:, None, :f_per]], axis=1).reshape(t_len, f_per)
        outs.update(_unpack({"spikes": None, "packed": per}, per_layout, t_len))
    outs.update(_unpack({"spikes": None, "packed": ys_last["packed"][:, f_per:]}, sampled_layout, n_blocks))
    return outs


@functools.lru_cache(maxsize=64)
def chunk_fn(static, batched_key: bool, batched_params: bool):
    """The compiled ``run(params, struct, carry, key, step0, wave) -> (carry, outputs)`` of one chunk.

    The chunk's length must be a multiple of ``static.record.every``. With ``batched_key`` (and
    ``batched_params``) the function is ``vmap``-ed over a leading seed axis of ``key`` and ``carry``
    (and of ``params``): a sweep is one call.
    """
    from . import drive

    fam = FAMILIES[static.family]
    every = static.record.every if static.record.decimated else 1

    def run(params, struct, carry, key, step0, wave):
        t_len = wave.shape[0]
        steps = step0 + jnp.arange(t_len, dtype=jnp.int32)
        xs = {"k": steps, "wave": wave,
              **drive.draws(static.drive, static.n, static.dt, jnp.dtype(static.dtype), params, struct, key, steps,
                                 pathwise=static.float_spikes)}
        nparams = {**params["neuron"], **fam.precompute(params["neuron"], static.dt)}
        struct = {**struct, **drive.per_chunk(static.drive, jnp.dtype(static.dtype), params, struct)}
        layout = {}

        def one(c, x, sample):
            new, out = step(static, params, nparams, struct, c, x, sample=sample)
            packed, lay = _pack(out)
            layout[sample] = lay
            return new, packed

        if every == 1:
            carry, ys = lax.scan(lambda c, x: one(c, x, True), carry, xs)
            return carry, _unpack(ys, layout[True], t_len)

        blocks = jax.tree_util.tree_map(lambda a: a.reshape((t_len // every, every) + a.shape[1:]), xs)

        def block(c, xb):
            head = jax.tree_util.tree_map(lambda a: a[:-1], xb)
            last = jax.tree_util.tree_map(lambda a: a[-1], xb)
            c, ys_head = lax.scan(lambda cc, x: one(cc, x, False), c, head)
            c, y_last = one(c, last, True)
            return c, (ys_head, y_last)

        carry, (ys_head, ys_last) = lax.scan(block, carry, blocks)
        return carry, _merge_blocks(ys_head, ys_last, layout, t_len // every, every)

    if batched_key:
        run = jax.vmap(run, in_axes=(0 if batched_params else None, None, 0, 0, None, None))
    return jax.jit(run)
