"""The spiking neurons of a step as a list, for kernels that work on a step's spikes together."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

__all__ = ["spike_list"]


def spike_list(s):
    """``(count, order)``: the number of spikes in ``s`` (0/1 floats, [N]) and the indices of the
    spiking neurons in increasing order, padded with ``N`` (one cumulative sum and one scatter)."""
    spk = s > 0.5
    n = spk.shape[0]
    pos = jnp.cumsum(spk.astype(jnp.int32)) - 1
    order = jnp.full(n + 1, n, jnp.int32).at[jnp.where(spk, pos, n)].set(lax.iota(jnp.int32, n), mode="drop")
    return jnp.sum(spk.astype(jnp.int32)), order
