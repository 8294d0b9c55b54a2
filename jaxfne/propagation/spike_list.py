"""The spiking neurons of a step as a list, for kernels that work on a step's spikes together."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

__all__ = ["row_windows", "spike_list"]


def spike_list(s):
    """``(count, order)``: the number of spikes in ``s`` (0/1 floats, [N]) and the indices of the
    spiking neurons in increasing order, padded with ``N`` (one cumulative sum and one scatter)."""
    spk = s > 0.5
    n = spk.shape[0]
    pos = jnp.cumsum(spk.astype(jnp.int32)) - 1
    order = jnp.full(n + 1, n, jnp.int32).at[jnp.where(spk, pos, n)].set(lax.iota(jnp.int32, n), mode="drop")
    return jnp.sum(spk.astype(jnp.int32)), order


def row_windows(order, count, first, cap: int, row_start, targets, n: int, width: int):
    """The table windows of listed spiking neurons ``first .. first + cap - 1`` (``order`` from
    :func:`spike_list`, padded by ``cap`` entries): ``(live[cap], j[cap], pos[cap, width],
    inside[cap, width], tg[cap, width])`` — which slots hold a spike, its neuron, the flat-table
    positions of its window, which of them lie in its row, and their targets (``n`` outside)."""
    lane = lax.iota(jnp.int32, width)
    live = first + lax.iota(jnp.int32, cap) < count
    j = jnp.where(live, lax.dynamic_slice(order, (first,), (cap,)), 0)
    start = row_start[j]
    length = jnp.where(live, row_start[j + 1] - start, 0)
    pos = start[:, None] + lane[None, :]
    inside = lane[None, :] < length[:, None]
    return live, j, pos, inside, jnp.where(inside, targets[pos], n)
