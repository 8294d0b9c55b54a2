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

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["event_arrivals", "event_propagate", "dense_arrivals", "dense_record", "stdp_update"]


def event_arrivals(buf, k, n: int, d_len: int):
    """Read and clear the arrivals of step ``k`` from ``buf[2, D, N + 1]``: returns ``(buf, arrivals[2, N])``."""
    slot = k % d_len
    arr = lax.dynamic_index_in_dim(buf, slot, axis=1, keepdims=False)[:, :n]
    buf = lax.dynamic_update_index_in_dim(buf, jnp.zeros((2, n + 1), buf.dtype), slot, axis=1)
    return buf, arr


def event_propagate(buf, s, k, targets, weights, delays, is_exc, *, n: int, d_len: int, full_rows: bool,
                    uniform_delay: int):
    """Schedule the arrivals of the spikes ``s`` (0/1 floats, [N]) emitted at step ``k``.

    One ``while_loop`` iteration per spiking neuron: ``argmax`` finds the next one, its row is sliced
    (a contiguous copy, much cheaper on CPU than a multi-row gather) and added to the ring buffer.
    """
    spk = s > 0.5
    count = jnp.sum(spk.astype(jnp.int32))

    def body(carry):
        i, rem, b = carry
        j = jnp.argmax(rem)
        w = lax.dynamic_index_in_dim(weights, j, keepdims=False) * s[j]
        c = jnp.where(is_exc[j], 0, 1).astype(jnp.int32)
        if full_rows and uniform_delay > 0:
            slot = ((k + uniform_delay) % d_len).astype(jnp.int32)
            row = lax.dynamic_slice(b, (c, slot, jnp.int32(0)), (1, 1, n)) + w[None, None, :]
            b = lax.dynamic_update_slice(b, row, (c, slot, jnp.int32(0)))
        else:
            tg = lax.dynamic_index_in_dim(targets, j, keepdims=False)
            dl = lax.dynamic_index_in_dim(delays, j, keepdims=False)
            flat = (c * d_len + (k + dl) % d_len) * (n + 1) + tg
            b = b.reshape(-1).at[flat].add(w).reshape(b.shape)
        return i + 1, rem.at[j].set(False), b

    def cond(carry):
        return carry[0] < count

    _, _, buf = lax.while_loop(cond, body, (jnp.int32(0), spk, buf))
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

