"""The numerics check of the scan: each neuron's first step with a non-finite V_m or I_syn.

The carry holds one int32 per neuron, the step at whose end its membrane potential or total synaptic
current was first inf or NaN (-1 while finite). The step's update is elementwise, with no reduction
over the neurons: XLA:CPU ran the former per-step search for the first non-finite neuron (an argmin,
a reduction of index-value pairs) as a scalar loop that cost about a quarter of the microcircuit's
fixed per-step work. The earliest step and its first neuron, which the error names, are found once
per chunk from the carry: the neurons whose first step is the earliest are exactly those that were
non-finite in that step, so the lowest of them is the first non-finite neuron of the first bad step.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..synapses import CurrentSynapses

__all__ = ["first_on_host", "first_step", "init", "update"]


def init(n: int):
    """No neuron has been non-finite."""
    return jnp.full(n, -1, jnp.int32)


def update(bad, v, syn_state, k):
    """``bad`` with step ``k`` set where a neuron's ``v`` or total synaptic current is not finite
    for the first time."""
    currents = CurrentSynapses.total_current(syn_state)  # inf/NaN survive the sum
    finite = jnp.isfinite(v) & jnp.isfinite(currents)
    return jnp.where((bad < 0) & ~finite, k, bad).astype(jnp.int32)


def first_step(bad):
    """The first step with a non-finite value (-1 if none), traceable."""
    never = jnp.iinfo(jnp.int32).max
    first = jnp.min(jnp.where(bad >= 0, bad, never))
    return jnp.where(first == never, -1, first).astype(jnp.int32)


def first_on_host(bad: np.ndarray):
    """``(step, neuron)`` of the first non-finite value of one network (``bad`` [N] on the host), or
    ``None``: the earliest step and the lowest-numbered neuron non-finite in it."""
    hit = np.flatnonzero(bad >= 0)
    if hit.size == 0:
        return None
    step = int(bad[hit].min())
    return step, int(hit[bad[hit] == step][0])
