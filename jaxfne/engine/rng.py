"""Threefry-2x32 random numbers that XLA:CPU compiles into one vectorised loop.

JAX's default generator is Threefry-2x32 (Salmon et al. 2011, SC'11, "Parallel random numbers: as easy
as 1, 2, 3"). On the CPU, JAX lowers its 20 rounds as a rolled five-iteration loop, which keeps every
intermediate array in memory: drawing the Gaussian noise of a 1000-neuron network cost about as much as
simulating it. This module defines the same generator with the rounds written out (as JAX itself lowers
them on accelerators), through the public :func:`jax.extend.random.define_prng_impl`. The hash, the
key derivation, ``fold_in`` and the counter layout are JAX's (its ``jax_threefry_partitionable``
layout, the default since JAX 0.5), so every draw is bit-identical to ``jax.random`` with
``jax.random.key(seed)``; only the compiled code differs. ``tests/test_rng.py`` checks both claims:
the hash against the published known-answer vectors of Random123 and the draws against ``jax.random``.
"""

from __future__ import annotations

import math

import jax
import jax.extend.random as jex_random
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["threefry2x32", "THREEFRY", "wrap_key"]

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)


def _rotl(x, r: int):
    return lax.shift_left(x, np.uint32(r)) | lax.shift_right_logical(x, np.uint32(32 - r))


def threefry2x32(k0, k1, x0, x1):
    """The Threefry-2x32 block (20 rounds) of counters ``(x0, x1)`` under key ``(k0, k1)``, unrolled."""
    ks = (k0, k1, k0 ^ k1 ^ _PARITY)
    x0 = x0 + ks[0]
    x1 = x1 + ks[1]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 = x0 + x1
            x1 = _rotl(x1, r) ^ x0
        x0 = x0 + ks[(i + 1) % 3]
        x1 = x1 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x0, x1


def _random_bits(key, bit_width: int, shape):
    """JAX's partitionable layout: block ``i`` of the flattened shape hashes the counter pair (hi(i), lo(i))."""
    size = math.prod(shape)
    if size >= 2**32:
        raise ValueError(f"random bits: {size} values in one draw; at most 2**32 - 1 are allowed")
    lo = lax.iota(np.uint32, size).reshape(shape)
    b0, b1 = threefry2x32(key[0], key[1], jnp.zeros_like(lo), lo)
    if bit_width == 64:
        return lax.shift_left(b0.astype(np.uint64), np.uint64(32)) | b1.astype(np.uint64)
    bits = b0 ^ b1
    return bits if bit_width == 32 else bits.astype(np.dtype(f"uint{bit_width}"))


_JAX_THREEFRY = jex_random.threefry_prng_impl

#: The generator: JAX's threefry2x32 with an unrolled CPU lowering of its bits.
THREEFRY = jex_random.define_prng_impl(
    key_shape=(2,),
    seed=_JAX_THREEFRY.seed,
    split=_JAX_THREEFRY.split,
    random_bits=_random_bits,
    fold_in=_JAX_THREEFRY.fold_in,
    name="threefry2x32_unrolled",
    tag="fru",
)


def wrap_key(raw):
    """A typed key of :data:`THREEFRY` from the raw ``uint32[2]`` data of ``jax.random.PRNGKey(seed)``."""
    return jax.random.wrap_key_data(raw, impl=THREEFRY)
