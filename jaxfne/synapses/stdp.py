"""Pair-based additive STDP with traces (Morrison, Diesmann & Gerstner 2008), on excitatory synapses.

Depression at presynaptic spikes by ``A_minus w_max x_post``, potentiation at postsynaptic spikes by
``A_plus w_max x_pre``; the traces are decayed to this step first and incremented after the update,
so a pair at lag dt_pair changes w by ``A w_max exp(-dt_pair / tau)``. Weights stay in
``[w_min, w_max]``. Traces decay with ``tau_plus`` (pre) and ``tau_minus`` (post) and jump by 1.
Runs on the dense weight matrix ``W[pre, post]``.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["init_state", "update"]


def init_state(weights, n: int, dtype) -> dict:
    """Plastic weights start at the constructed ones; traces at 0."""
    return {"w": weights.astype(dtype), "x_pre": jnp.zeros(n, dtype), "x_post": jnp.zeros(n, dtype)}


def update(state: dict, s, conn_mask, prm: dict, dt: float) -> dict:
    """One step of the rule for the spikes ``s`` [neuron] of this step."""
    w, x_pre, x_post = state["w"], state["x_pre"], state["x_post"]
    x_pre = x_pre * jnp.exp(-dt / prm["tau_plus_ms"])
    x_post = x_post * jnp.exp(-dt / prm["tau_minus_ms"])
    dw = prm["A_plus"] * prm["w_max"] * jnp.outer(x_pre, s) - prm["A_minus"] * prm["w_max"] * jnp.outer(s, x_post)
    w = jnp.where(conn_mask, jnp.clip(w + dw, prm["w_min"], prm["w_max"]), w)
    return {"w": w, "x_pre": x_pre + s, "x_post": x_post + s}
