"""Event-driven propagation parallel over a step's spikes, for GPUs (and selectable on the CPU).

The same flat synapse table and ring buffer ``[2, D, N + 1]`` as :mod:`~jaxfne.propagation.event_rows`,
but no loop over single spikes: the step's spiking neurons are listed once (in increasing index order),
and up to ``capacity`` of them at a time have their row windows gathered into ``[capacity, row_width]``
blocks (targets, weights, delays) that are scatter-added into the buffer in one operation; window
entries beyond a row, and unused slots of a partly filled batch, are dropped (an out-of-range index),
not added. A step with more spikes than ``capacity`` loops over further batches, so no spike is ever
dropped. Under ``jax.vmap`` (seeds, parameter sets) the gather and scatter batch natively. The sums
are those of the event kernel up to the order of floating-point additions.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from .base import Propagation, PropagationStatic

__all__ = ["Batched"]


class Batched(Propagation):
    name = "batched"
    differentiable = False

    def init(self, ps: PropagationStatic, dtype) -> dict:
        return {"buf": jnp.zeros((2, ps.d_len, ps.n + 1), dtype)}

    def arrivals(self, ps, state, k, weights, params, struct):
        """Read and clear the arrivals of step ``k`` (a plain slice and clear: the event kernel's
        conditional read, which keeps XLA:CPU from copying the buffer, would cost a GPU a
        device-to-host synchronisation per step)."""
        buf = state["buf"]
        slot = k % ps.d_len
        arr = lax.dynamic_index_in_dim(buf, slot, axis=1, keepdims=False)[:, :ps.n]
        buf = lax.dynamic_update_index_in_dim(buf, jnp.zeros((2, buf.shape[-1]), buf.dtype), slot, axis=1)
        return {"buf": buf}, arr

    def propagate(self, ps, state, s, k, weights, params, struct):
        gain = params["gain"] if ps.gains else None
        return {"buf": _propagate(ps, state["buf"], s, k, struct, weights, params["weight_scale"], gain)}


def _propagate(ps: PropagationStatic, buf, s, k, struct, weights, scale, gain):
    n, d_len, width, cap = ps.n, ps.d_len, ps.row_width, ps.capacity
    count, order = spike_list(s)
    order = jnp.concatenate([order, jnp.full(cap, n, order.dtype)])  # any batch's slice stays inside
    row_start, targets, delays = struct["row_start"], struct["targets"], struct["delays"]
    pop = struct["pop_index"]
    pop_padded = jnp.concatenate([pop, jnp.zeros(1, pop.dtype)]) if gain is not None else None
    lane = lax.iota(jnp.int32, width)
    size = buf.size

    def batch(first, b):
        live = first + lax.iota(jnp.int32, cap) < count
        j = jnp.where(live, lax.dynamic_slice(order, (first,), (cap,)), 0)
        start = row_start[j]
        length = jnp.where(live, row_start[j + 1] - start, 0)
        pos = start[:, None] + lane[None, :]  # [cap, width]
        inside = lane[None, :] < length[:, None]
        tg = jnp.where(inside, targets[pos], n)
        w = weights[pos] * (s[j] * scale)[:, None]
        if gain is not None:
            w = w * jnp.take_along_axis(gain[pop[j]], pop_padded[tg], axis=1)
        ch = jnp.where(struct["is_exc"][j], 0, 1).astype(jnp.int32)[:, None]
        flat = (ch * d_len + (k + delays[pos].astype(jnp.int32)) % d_len) * (n + 1) + tg
        flat = jnp.where(inside, flat, size)  # dropped, not added
        return b.reshape(-1).at[flat.reshape(-1)].add(w.reshape(-1), mode="drop").reshape(b.shape)

    def body(carry):
        first, b = carry
        return first + cap, batch(first, b)

    _, buf = lax.while_loop(lambda c: c[0] < count, body, (jnp.int32(0), buf))
    return buf


def spike_list(s):
    """``(count, order)``: the number of spikes in ``s`` (0/1 floats, [N]) and the indices of the
    spiking neurons in increasing order, padded with ``N`` (one cumulative sum and one scatter)."""
    spk = s > 0.5
    n = spk.shape[0]
    pos = jnp.cumsum(spk.astype(jnp.int32)) - 1
    order = jnp.full(n + 1, n, jnp.int32).at[jnp.where(spk, pos, n)].set(lax.iota(jnp.int32, n), mode="drop")
    return jnp.sum(spk.astype(jnp.int32)), order
