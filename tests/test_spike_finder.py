"""The event kernel's bitmap search visits exactly the spiking neurons, in increasing order."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from jaxfne.propagation.event_rows import spike_finder


def _visited(s):
    first, after = spike_finder(s)
    n = s.shape[0]

    def body(carry):
        j, out, i = carry
        return after(j), out.at[i].set(j), i + 1

    _, out, count = lax.while_loop(lambda c: c[0] < n, body, (first, jnp.full(n, -1, jnp.int32), jnp.int32(0)))
    return out, count


@pytest.mark.parametrize("n", [1, 31, 32, 33, 1024, 1025, 4099, 40_000])
@pytest.mark.parametrize("p", [0.0, 0.002, 0.3, 1.0])
def test_visits_every_spike_in_order(n, p):
    rng = np.random.default_rng(n + int(p * 1000))
    s = (rng.random(n) < p).astype(np.float32)
    if p == 0.002 and n > 1:
        s[[0, n - 1]] = 1.0  # the first and the last neuron, across word and level boundaries
    out, count = jax.jit(_visited)(jnp.asarray(s))
    want = np.flatnonzero(s)
    assert int(count) == len(want)
    np.testing.assert_array_equal(np.asarray(out)[:len(want)], want)


def test_first_is_n_without_spikes():
    first, after = spike_finder(jnp.zeros(70, jnp.float32))
    assert int(first) == 70 and int(after(jnp.int32(5))) == 70
