"""Event-driven propagation parallel over a step's spikes, for GPUs (and selectable on the CPU).

The same flat synapse table and ring buffer ``[2, D, N + 1]`` as :mod:`~jaxfne.propagation.event_rows`,
but no loop over single spikes: the step's spiking neurons are listed once (in increasing index order),
and up to ``capacity`` of them at a time have their row windows gathered into ``[capacity, row_width]``
blocks (targets, weights, delays) that are scatter-added into the buffer in one operation; window
entries beyond a row, and unused slots of a partly filled batch, are dropped (an out-of-range index),
not added. A step with more spikes than ``capacity`` loops over further batches, so no spike is ever
dropped. Under ``jax.vmap`` (seeds, parameter sets) the gather and scatter batch natively. The sums
are those of the event kernel up to the order of floating-point additions. Reverse mode runs the
transposed delivery (:mod:`~jaxfne.propagation.transpose`).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from .base import Propagation, PropagationStatic
from .event_rows import table_struct
from .spike_list import row_windows, spike_list
from .transpose import deliver, take_slot

__all__ = ["Batched"]


class Batched(Propagation):
    name = "batched"
    differentiable = True

    def init(self, ps: PropagationStatic, dtype) -> dict:
        return {"buf": jnp.zeros((2, ps.d_len, ps.n + 1), dtype)}

    def arrivals(self, ps, state, k, weights, params, struct):
        """Read and clear the arrivals of step ``k`` (a plain slice and clear: the event kernel's
        conditional read, which keeps XLA:CPU from copying the buffer, would cost a GPU a
        device-to-host synchronisation per step)."""
        buf, arr = take_slot(_read_and_clear, state["buf"], k % ps.d_len)
        return {"buf": buf}, arr[:, :ps.n]

    def propagate(self, ps, state, s, k, weights, params, struct):
        gain = params["gain"] if ps.gains else jnp.zeros((0, 0), weights.dtype)
        return {"buf": deliver(ps, _propagate, state["buf"], s, k, weights, params["weight_scale"], gain,
                               table_struct(struct))}


def _read_and_clear(buf, slot):
    arr = lax.dynamic_index_in_dim(buf, slot, axis=1, keepdims=False)
    return lax.dynamic_update_index_in_dim(buf, jnp.zeros((2, buf.shape[-1]), buf.dtype), slot, axis=1), arr


def _propagate(ps: PropagationStatic, buf, s, k, weights, scale, gain, struct):
    n, d_len, width, cap = ps.n, ps.d_len, ps.row_width, ps.capacity
    count, order = spike_list(s)
    order = jnp.concatenate([order, jnp.full(cap, n, order.dtype)])  # any batch's slice stays inside
    row_start, targets, delays = struct["row_start"], struct["targets"], struct["delays"]
    pop = struct["pop_index"]
    pop_padded = jnp.concatenate([pop, jnp.zeros(1, pop.dtype)]) if ps.gains else None
    size = buf.size

    def batch(first, b):
        _, j, pos, inside, tg = row_windows(order, count, first, cap, row_start, targets, n, width)
        w = weights[pos] * (s[j] * scale)[:, None]
        if ps.gains:
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
