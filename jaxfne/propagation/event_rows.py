"""Event-driven propagation over padded out-rows, for the CPU.

Padded out-rows (targets, weights, delays per presynaptic neuron). Each step visits the neurons that
spiked, one ``lax.while_loop`` iteration each, and scatters their rows into a ring buffer of future
arrivals ``[2, D, N + 1]`` (column N absorbs padding). Cost follows the number of spikes; no spike is
ever dropped, however many fire in one step. When every row targets all neurons in order and delays
are uniform (the Izhikevich 2003 network), a row is added to the buffer as a contiguous slice instead
of scattered. Reverse-mode ``jax.grad`` cannot pass a ``while_loop``: differentiate with ``dense``.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
from jax import custom_batching, lax

from .base import Propagation, PropagationStatic

__all__ = ["EventRows"]


class EventRows(Propagation):
    name = "event"
    differentiable = False

    def init(self, ps: PropagationStatic, dtype) -> dict:
        # rows added as slices need no padding column (it absorbs the padded targets of scattered rows)
        return {"buf": jnp.zeros((2, ps.d_len, ps.n + (0 if ps.row_slices else 1)), dtype)}

    def arrivals(self, ps, state, k, weights, params, struct):
        """Read and clear the arrivals of step ``k``."""
        buf = state["buf"]
        slot = k % ps.d_len
        arr = lax.dynamic_index_in_dim(buf, slot, axis=1, keepdims=False)[:, :ps.n]
        buf = lax.dynamic_update_index_in_dim(buf, jnp.zeros((2, buf.shape[-1]), buf.dtype), slot, axis=1)
        return {"buf": buf}, arr

    def propagate(self, ps, state, s, k, weights, params, struct):
        """Schedule the arrivals of the spikes ``s``.

        Under ``jax.vmap`` (a batch of seeds or parameter sets) the networks are visited one after the
        other with ``lax.map``: batching the per-spike loop itself would run every network for as many
        iterations as the busiest one has spikes, with a gather and a select over the whole batch in each.
        """
        gain = params["gain"] if ps.gains else jnp.zeros((0, 0), weights.dtype)
        kernel = _event_kernel(ps)
        buf = kernel(state["buf"], s, k, struct["targets"], weights, params["weight_scale"], struct["delays"],
                     struct["is_exc"], struct["pop_index"], gain)
        return {"buf": buf}


@functools.lru_cache(maxsize=32)
def _event_kernel(ps: PropagationStatic):
    one = functools.partial(_propagate_one, ps=ps)
    kernel = custom_batching.custom_vmap(one)

    @kernel.def_vmap
    def _one_network_at_a_time(axis_size, in_batched, *args):
        batched = [i for i, b in enumerate(in_batched) if b]

        def visit(xs):
            full = list(args)
            for i, x in zip(batched, xs):
                full[i] = x
            return one(*full)

        return lax.map(visit, [args[i] for i in batched]), True

    return kernel


def _propagate_one(buf, s, k, targets, weights, scale, delays, is_exc, pop_index, gain, *, ps: PropagationStatic):
    """Schedule the arrivals of the spikes ``s`` (0/1 floats, [N]) emitted at step ``k``.

    ``weights`` are the padded out-rows and ``scale`` the global weight scale, applied per visited row
    (scaling the whole table would cost a pass over it every step), as are the per-projection gains.

    One ``while_loop`` iteration per spiking neuron, in increasing index order: the next one is the
    smallest spiking index above the last (a plain ``min`` reduction, which XLA vectorises, unlike
    ``argmax``), and its row is sliced (a contiguous copy, much cheaper on CPU than a multi-row gather).
    With ``row_slices`` (every row targets all neurons, in order, and the delay is uniform; the buffer
    then has no padding column) the rows are summed per channel in a local ``[2, N]`` accumulator and
    written to the ring buffer once; the slot written is empty (each step owns one), so the sums are
    those of adding the rows to the buffer one by one. Otherwise each row is scattered into
    ``buf[2, D, N + 1]`` at its targets and delays.
    """
    n, d_len = ps.n, ps.d_len
    spk = s > 0.5
    count = jnp.sum(spk.astype(jnp.int32))
    iota = lax.iota(jnp.int32, n)
    pop_padded = jnp.concatenate([pop_index, jnp.zeros(1, pop_index.dtype)]) if ps.gains else None

    def visit(prev):
        """The next spiking neuron after ``prev``, its scaled out-row and its channel (0 E, 1 I)."""
        j = jnp.min(jnp.where(spk & (iota > prev), iota, n))
        w = lax.dynamic_index_in_dim(weights, j, keepdims=False) * (s[j] * scale)
        if ps.gains:
            g_row = lax.dynamic_index_in_dim(gain, pop_index[j], keepdims=False)
            post_pop = pop_index if ps.row_slices else pop_padded[lax.dynamic_index_in_dim(targets, j, keepdims=False)]
            w = w * g_row[post_pop]
        return j, w, jnp.where(is_exc[j], 0, 1).astype(jnp.int32)

    def cond(carry):
        return carry[0] < count

    if ps.row_slices:
        def add_row(carry):
            i, prev, acc = carry
            j, w, c = visit(prev)
            acc = lax.dynamic_update_index_in_dim(acc, lax.dynamic_index_in_dim(acc, c, keepdims=False) + w, c, 0)
            return i + 1, j, acc

        _, _, acc = lax.while_loop(cond, add_row, (jnp.int32(0), jnp.int32(-1), jnp.zeros((2, n), buf.dtype)))
        slot = ((k + ps.uniform_delay) % d_len).astype(jnp.int32)
        cur = lax.dynamic_slice(buf, (jnp.int32(0), slot, jnp.int32(0)), (2, 1, n))
        return lax.dynamic_update_slice(buf, cur + acc[:, None, :], (jnp.int32(0), slot, jnp.int32(0)))

    def body(carry):
        i, prev, b = carry
        j, w, c = visit(prev)
        tg = lax.dynamic_index_in_dim(targets, j, keepdims=False)
        dl = lax.dynamic_index_in_dim(delays, j, keepdims=False)
        flat = (c * d_len + (k + dl) % d_len) * (n + 1) + tg
        return i + 1, j, b.reshape(-1).at[flat].add(w).reshape(b.shape)

    _, _, buf = lax.while_loop(cond, body, (jnp.int32(0), jnp.int32(-1), buf))
    return buf
