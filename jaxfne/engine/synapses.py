"""Spike propagation into delayed synaptic input, event-driven or dense.

Two channels, excitatory (0) and inhibitory (1), chosen by the presynaptic cell type.

``event``
    Padded out-rows (targets, weights, delays per presynaptic neuron). Each step gathers the rows of
    the neurons that spiked, ``K`` at a time in a ``lax.while_loop`` until all are done, and scatters
    them into a ring buffer of future arrivals ``[2, D, N + 1]`` (column N absorbs padding). Cost
    follows the number of spikes; no spike is ever dropped, however many fire in one step. When every
    row targets all neurons in order and delays are uniform (the Izhikevich 2003 network), the rows
    are summed instead of scattered. Reverse-mode ``jax.grad`` cannot pass a ``while_loop``: use
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
    """Read and clear the arrivals of step ``k``: returns ``(buf, arrivals[2, N])``."""
    b3 = buf.reshape(2, d_len, n + 1)
    slot = k % d_len
    arr = lax.dynamic_index_in_dim(b3, slot, axis=1, keepdims=False)[:, :n]
    b3 = lax.dynamic_update_index_in_dim(b3, jnp.zeros((2, n + 1), buf.dtype), slot, axis=1)
    return b3.reshape(-1), arr


def event_propagate(buf, s, k, targets, weights, delays, is_exc, *, n: int, d_len: int, chunk: int,
                    full_rows: bool, uniform_delay: int):
    """Schedule the arrivals of the spikes ``s`` (0/1 floats, [N]) emitted at step ``k``."""
    spk = s > 0.5
    count = jnp.sum(spk.astype(jnp.int32))
    idx = jnp.nonzero(spk, size=n, fill_value=n)[0]
    idx = jnp.concatenate([idx, jnp.full((chunk,), n, idx.dtype)])
    chan_of = jnp.where(is_exc, 0, 1)

    def body(carry):
        i, b = carry
        ids = lax.dynamic_slice(idx, (i * chunk,), (chunk,))
        valid = ids < n
        ids_c = jnp.minimum(ids, n - 1)
        sv = jnp.where(valid, s[ids_c], 0.0)
        w = weights[ids_c] * sv[:, None]  # [K, Kout]
        ch = chan_of[ids_c]
        if full_rows and uniform_delay > 0:
            slot = (k + uniform_delay) % d_len
            exc = jnp.sum(jnp.where((ch == 0)[:, None], w, 0.0), axis=0)
            inh = jnp.sum(jnp.where((ch == 1)[:, None], w, 0.0), axis=0)
            b3 = b.reshape(2, d_len, n + 1)
            b3 = b3.at[0, slot, :n].add(exc).at[1, slot, :n].add(inh)
            return i + 1, b3.reshape(-1)
        tg = targets[ids_c]
        slot = (k + delays[ids_c]) % d_len
        flat = (ch[:, None] * d_len + slot) * (n + 1) + tg
        return i + 1, b.at[flat.reshape(-1)].add(w.reshape(-1))

    def cond(carry):
        return carry[0] * chunk < count

    _, buf = lax.while_loop(cond, body, (jnp.int32(0), buf))
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
    ``A_plus w_max x_pre``, both with the traces from before this step's increments; weights stay in
    ``[w_min, w_max]``. Traces decay with ``tau_plus`` (pre) and ``tau_minus`` (post) and jump by 1.
    """
    dw = prm["A_plus"] * prm["w_max"] * jnp.outer(x_pre, s) - prm["A_minus"] * prm["w_max"] * jnp.outer(s, x_post)
    w = jnp.where(conn_mask, jnp.clip(w + dw, prm["w_min"], prm["w_max"]), w)
    x_pre = x_pre * jnp.exp(-dt / prm["tau_plus_ms"]) + s
    x_post = x_post * jnp.exp(-dt / prm["tau_minus_ms"]) + s
    return w, x_pre, x_post

