"""Heaviside spike function with a surrogate gradient.

Forward: exactly 0 or 1. Backward: the derivative of a fast sigmoid, ``beta / (1 + beta |x|)^2``
(SuperSpike; Zenke & Ganguli 2018, Neural Comput 30:1514), so ``jax.grad`` through spikes is finite.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["spike_fn"]

#: Steepness of the surrogate, per mV.
BETA = 1.0


@jax.custom_jvp
def spike_fn(x):
    """``1.0`` where ``x >= 0`` else ``0.0`` (x = v - v_peak), in ``x``'s dtype."""
    return (x >= 0).astype(x.dtype)


@spike_fn.defjvp
def _spike_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    y = spike_fn(x)
    return y, dx * BETA / (1.0 + BETA * jnp.abs(x)) ** 2
