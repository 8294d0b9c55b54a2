"""Spike propagation into delayed synaptic input, event-driven or dense.

Two channels, excitatory (0) and inhibitory (1), chosen by the presynaptic cell type.

``event``
    Padded out-rows (targets, weights, delays per presynaptic neuron). Each step visits the neurons
    that spiked, one ``lax.while_loop`` iteration each, and scatters their rows into a ring buffer of
    future arrivals ``[2, D, N + 1]`` (column N absorbs padding). Cost follows the number of spikes;
    no spike is ever dropped, however many fire in one step. When every row targets all neurons in
    order and delays are uniform (the Izhikevich 2003 network), a row is added to the buffer as a
    contiguous slice instead of scattered. Reverse-mode ``jax.grad`` cannot pass a ``while_loop``: use
    ``propagation="dense"`` to differentiate.
``dense``
    A weight matrix ``W[pre, post]`` and a history of the last ``D`` steps' spikes; arrivals are
    ``sum_pre W[pre, post] s_pre(t - d[pre, post])``, a matrix product when delays are uniform.
    Differentiable through the surrogate spikes; supports STDP.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
from jax import custom_batching, lax

__all__ = ["event_arrivals", "event_propagate", "dense_arrivals", "dense_record", "stdp_update"]


def event_arrivals(buf, k, n: int, d_len: int):
    """Read and clear the arrivals of step ``k`` from ``buf[2, D, N (+ 1)]``: returns ``(buf, arrivals[2, N])``."""
    slot = k % d_len
    arr = lax.dynamic_index_in_dim(buf, slot, axis=1, keepdims=False)[:, :n]
    buf = lax.dynamic_update_index_in_dim(buf, jnp.zeros((2, buf.shape[-1]), buf.dtype), slot, axis=1)
    return buf, arr


def event_propagate(buf, s, k, targets, weights, scale, delays, is_exc, *, n: int, d_len: int, row_slices: bool,
                    uniform_delay: int):
    """Schedule the arrivals of the spikes ``s`` (0/1 floats, [N]) emitted at step ``k`` (see :func:`_propagate_one`).

    Under ``jax.vmap`` (a batch of seeds or parameter sets) the networks are visited one after the
    other with ``lax.map``: batching the per-spike loop itself would run every network for as many
    iterations as the busiest one has spikes, with a gather and a select over the whole batch in each.
    """
    kernel = _event_kernel(n, d_len, row_slices, uniform_delay)
    return kernel(buf, s, k, targets, weights, scale, delays, is_exc)


@functools.lru_cache(maxsize=32)
def _event_kernel(n: int, d_len: int, row_slices: bool, uniform_delay: int):
    one = functools.partial(_propagate_one, n=n, d_len=d_len, row_slices=row_slices, uniform_delay=uniform_delay)
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


def _propagate_one(buf, s, k, targets, weights, scale, delays, is_exc, *, n: int, d_len: int, row_slices: bool,
                   uniform_delay: int):
    """Schedule the arrivals of the spikes ``s`` (0/1 floats, [N]) emitted at step ``k``.

    ``weights`` are the padded out-rows and ``scale`` the global weight scale, applied per visited row
    (scaling the whole table would cost a pass over it every step).

    One ``while_loop`` iteration per spiking neuron, in increasing index order: the next one is the
    smallest spiking index above the last (a plain ``min`` reduction, which XLA vectorises, unlike
    ``argmax``), and its row is sliced (a contiguous copy, much cheaper on CPU than a multi-row gather).
    With ``row_slices`` (every row targets all neurons, in order, and the delay is uniform; the buffer
    then has no padding column) the rows are summed per channel in a local ``[2, N]`` accumulator and
    written to the ring buffer once; the slot written is empty (each step owns one), so the sums are
    those of adding the rows to the buffer one by one. Otherwise each row is scattered into
    ``buf[2, D, N + 1]`` at its targets and delays.
    """
    spk = s > 0.5
    count = jnp.sum(spk.astype(jnp.int32))
    iota = lax.iota(jnp.int32, n)

    def visit(prev):
        """The next spiking neuron after ``prev``, its scaled out-row and its channel (0 E, 1 I)."""
        j = jnp.min(jnp.where(spk & (iota > prev), iota, n))
        w = lax.dynamic_index_in_dim(weights, j, keepdims=False) * (s[j] * scale)
        return j, w, jnp.where(is_exc[j], 0, 1).astype(jnp.int32)

    def cond(carry):
        return carry[0] < count

    if row_slices:
        def add_row(carry):
            i, prev, acc = carry
            j, w, c = visit(prev)
            acc = lax.dynamic_update_index_in_dim(acc, lax.dynamic_index_in_dim(acc, c, keepdims=False) + w, c, 0)
            return i + 1, j, acc

        _, _, acc = lax.while_loop(cond, add_row, (jnp.int32(0), jnp.int32(-1), jnp.zeros((2, n), buf.dtype)))
        slot = ((k + uniform_delay) % d_len).astype(jnp.int32)
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


def dense_arrivals(hist, k, w_eff, is_exc, *, d_len: int, uniform_delay: int, delays=None):
    """Arrivals ``[2, N]`` at step ``k`` from the spike history ``hist[D, N]``."""
    exc = is_exc.astype(w_eff.dtype)
    if uniform_delay > 0:
        sv = lax.dynamic_index_in_dim(hist, (k - uniform_delay) % d_len, axis=0, keepdims=False)
        return jnp.stack([sv * exc, sv * (1 - exc)]) @ w_eff
    n = w_eff.shape[0]
    past = hist[(k - delays) % d_len, jnp.arange(n)[:, None]]  # [pre, post]
    contrib = past * w_eff
    return jnp.stack([exc @ contrib, (1 - exc) @ contrib])


def dense_record(hist, s, k, d_len: int):
    """Store this step's spikes in the history."""
    return lax.dynamic_update_index_in_dim(hist, s, k % d_len, axis=0)


def stdp_update(w, s, x_pre, x_post, conn_mask, prm, dt):
    """Pair-based additive STDP with traces (Morrison, Diesmann & Gerstner 2008), excitatory rows only.

    Depression at presynaptic spikes by ``A_minus w_max x_post``, potentiation at postsynaptic spikes by
    ``A_plus w_max x_pre``; the traces are decayed to this step first and incremented after the update,
    so a pair at lag dt_pair changes w by ``A w_max exp(-dt_pair / tau)``. Weights stay in
    ``[w_min, w_max]``. Traces decay with ``tau_plus`` (pre) and ``tau_minus`` (post) and jump by 1.
    """
    x_pre = x_pre * jnp.exp(-dt / prm["tau_plus_ms"])
    x_post = x_post * jnp.exp(-dt / prm["tau_minus_ms"])
    dw = prm["A_plus"] * prm["w_max"] * jnp.outer(x_pre, s) - prm["A_minus"] * prm["w_max"] * jnp.outer(s, x_post)
    w = jnp.where(conn_mask, jnp.clip(w + dw, prm["w_min"], prm["w_max"]), w)
    x_pre = x_pre + s
    x_post = x_post + s
    return w, x_pre, x_post

