"""Dense propagation: a weight matrix and a history of the last D steps' spikes.

Arrivals are ``sum_pre W[pre, post] s_pre(t - d[pre, post])``, a matrix product when delays are
uniform. Differentiable through the surrogate spikes (``jax.grad``); supports STDP. Chosen by
``propagation="auto"`` up to 128 neurons and with plasticity.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from .base import Propagation, PropagationStatic

__all__ = ["Dense"]


class Dense(Propagation):
    name = "dense"
    differentiable = True

    def init(self, ps: PropagationStatic, dtype) -> dict:
        return {"hist": jnp.zeros((ps.d_len, ps.n), dtype)}

    def arrivals(self, ps, state, k, weights, params, struct):
        w_eff = weights * params["weight_scale"]
        if ps.gains:
            pop = struct["pop_index"]
            w_eff = w_eff * params["gain"][pop][:, pop]
        is_exc = struct["is_exc"]
        exc = is_exc.astype(w_eff.dtype)
        hist, d_len = state["hist"], ps.d_len
        if ps.uniform_delay > 0:
            sv = lax.dynamic_index_in_dim(hist, (k - ps.uniform_delay) % d_len, axis=0, keepdims=False)
            return state, jnp.stack([sv * exc, sv * (1 - exc)]) @ w_eff
        n = w_eff.shape[0]
        past = hist[(k - struct["delays"]) % d_len, jnp.arange(n)[:, None]]  # [pre, post]
        contrib = past * w_eff
        return state, jnp.stack([exc @ contrib, (1 - exc) @ contrib])

    def propagate(self, ps, state, s, k, weights, params, struct):
        return {"hist": lax.dynamic_update_index_in_dim(state["hist"], s, k % ps.d_len, axis=0)}
