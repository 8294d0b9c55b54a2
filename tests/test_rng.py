"""The engine's Threefry-2x32 generator: the published hash, and the very draws of ``jax.random``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxfne.engine.rng import threefry2x32, wrap_key

# Random123 known-answer vectors for threefry2x32_20 (Salmon et al. 2011; kat_vectors of the Random123
# distribution): (counter, key) -> output.
KAT = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x243F6A88, 0x85A308D3), (0x13198A2E, 0x03707344), (0xC4923A9C, 0x483DF7A0)),
]


@pytest.mark.parametrize("counter, key, expected", KAT)
def test_hash_matches_the_published_known_answers(counter, key, expected):
    u32 = lambda v: jnp.asarray(v, jnp.uint32)  # noqa: E731
    out = threefry2x32(u32(key[0]), u32(key[1]), u32(counter[0]), u32(counter[1]))
    assert tuple(int(o) for o in out) == expected


def test_hash_matches_jax_on_many_counters():
    key = jax.random.key_data(jax.random.PRNGKey(12345))
    counts = jnp.arange(2 * 4099, dtype=jnp.uint32)  # JAX pairs the first half with the second half
    from jax.extend.random import threefry_2x32

    ref = np.asarray(threefry_2x32(key, counts))
    x0, x1 = counts[:4099], counts[4099:]
    mine = np.concatenate([np.asarray(v) for v in threefry2x32(key[0], key[1], x0, x1)])
    np.testing.assert_array_equal(mine, ref)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", [0, 7, 2**31 + 5])
def test_draws_are_those_of_jax_random(dtype, seed):
    raw = jax.random.PRNGKey(seed)
    with jax.threefry_partitionable(True):
        for step in (0, 1, 999):
            k_jax = jax.random.fold_in(jax.random.fold_in(raw, 0), step)
            k_mine = jax.random.fold_in(jax.random.fold_in(wrap_key(raw), 0), step)
            np.testing.assert_array_equal(np.asarray(jax.random.normal(k_mine, (3, 1001), dtype)),
                                          np.asarray(jax.random.normal(k_jax, (3, 1001), dtype)))
            np.testing.assert_array_equal(np.asarray(jax.random.uniform(k_mine, (2, 17), dtype)),
                                          np.asarray(jax.random.uniform(k_jax, (2, 17), dtype)))
            np.testing.assert_array_equal(np.asarray(jax.random.bits(k_mine, (33,), jnp.uint8)),
                                          np.asarray(jax.random.bits(k_jax, (33,), jnp.uint8)))


def test_draws_under_vmap_and_jit_match_the_eager_ones():
    raw = jnp.stack([jax.random.PRNGKey(s) for s in range(4)])
    f = jax.jit(jax.vmap(lambda r: jax.random.normal(jax.random.fold_in(wrap_key(r), 3), (50,))))
    eager = np.stack([np.asarray(jax.random.normal(jax.random.fold_in(wrap_key(r), 3), (50,))) for r in raw])
    np.testing.assert_array_equal(np.asarray(f(raw)), eager)
