"""Spike-source populations in the step: their spikes drawn, delivered and read back as arrivals.

Each source population (:mod:`jaxfne.sources`) has its own table (rows = sources, targets = the
network's neurons) and its own ring buffer, run by the model's table kernel (``event`` on the CPU,
``batched`` where the network's is) with a :class:`PropagationStatic` whose ``n_pre`` is the number
of sources. A source's spike count in a step is Poisson with mean ``rate dt`` inside the
population's on-window (NEST's ``poisson_generator``, whose parrot neurons repeat every spike with
its multiplicity); every count reaches all of the source's synapses. The arrivals are an
excitatory synaptic current of the population's own (a row of ``I_p`` after the Poisson drives),
so its synapses can sit at a depth of their own in the source profile.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from ..propagation import KERNELS

__all__ = ["arrivals", "draws", "events", "init", "propagate"]


def init(statics: tuple, dtype) -> tuple:
    """The ring buffers of every source population at t = 0."""
    return tuple(KERNELS[ps.kind].init(ps, dtype) for ps in statics)


def draws(ds, dt: float, dtype, params: dict, key, steps, *, pathwise: bool = False) -> tuple:
    """Per-step spike counts ``[T, S_q]`` of every source population (before its on-window).

    Inverse-CDF Poisson sampling over ``ds.source_kmax`` counts (``jax.random.poisson`` when the mean
    per step is too large for it), from keys ``fold_in(key, 2 + q)``: the network's Gaussian and
    Poisson drives (streams 0 and 1) do not change when a source population is added. ``pathwise``
    gives the counts a derivative in the rate (:func:`jaxfne.engine.drive.pathwise_counts`).
    """
    from .drive import inverse_cdf_counts, pathwise_counts
    from .rng import wrap_key

    raw, key = key, wrap_key(key)
    out = []
    for q, size in enumerate(ds.source_sizes):
        lam = params["source_rate_hz"][q] * dt * 1e-3
        mean = lax.stop_gradient(lam)
        if ds.source_kmax:
            kq = jax.random.fold_in(key, 2 + q)
            u = jax.vmap(lambda k, kq=kq, size=size: jax.random.uniform(jax.random.fold_in(kq, k), (size,), dtype))(steps)
            count = inverse_cdf_counts(u, jnp.broadcast_to(mean, (size,)), ds.source_kmax)
        else:
            kq = jax.random.fold_in(raw, 2 + q)
            count = jax.vmap(lambda k, kq=kq, size=size, mean=mean: jax.random.poisson(
                jax.random.fold_in(kq, k), mean, (size,)))(steps).astype(dtype)
        out.append(pathwise_counts(count, lam) if pathwise else count)
    return tuple(out)


def arrivals(statics: tuple, state: tuple, k, dtype, n: int):
    """``(state, arrivals[Q, N])``: every population's excitatory arrivals of step ``k``."""
    if not statics:
        return state, jnp.zeros((0, n), dtype)
    new, rows = [], []
    for ps, st in zip(statics, state):
        st, arr = KERNELS[ps.kind].arrivals(ps, st, k, None, {}, {})
        new.append(st)
        rows.append(arr[0])
    return tuple(new), jnp.stack(rows)


def propagate(statics: tuple, state: tuple, counts: tuple, on, k, params: dict, struct: dict) -> tuple:
    """Schedule every population's spike counts of step ``k`` (``counts[q]`` [S_q] times its window ``on[q]``)."""
    one = jnp.ones((), params["source_rate_hz"].dtype)
    out = []
    for q, (ps, st) in enumerate(zip(statics, state)):
        table = struct["sources"][q]
        out.append(KERNELS[ps.kind].propagate(ps, st, counts[q] * on[q], k, params["source_weights"][q],
                                              {"weight_scale": one}, table))
    return tuple(out)


def events(counts: tuple, on, struct: dict):
    """Synaptic events the populations' spikes of this step make (each count times its out-degree)."""
    total = jnp.zeros((), on.dtype)
    for q, c in enumerate(counts):
        total = total + on[q] * jnp.sum(c * struct["sources"][q]["out_degree"])
    return total
