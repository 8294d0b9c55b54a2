"""Izhikevich 2003 network: NEST ``izhikevich`` against the numpy ``net.m`` port and jaxfne.

Which comparison means something: NEST's ``izhikevich`` with ``consistent_integration=False``
integrates with the scheme published in ``net.m`` (two 0.5 ms half-steps of v, then u), and a
1 ms-``dt`` ``noise_generator`` gives every neuron a fresh ``std * N(0, 1)`` each step, which
is ``net.m``'s thalamic input. Set up so, NEST is a second, independent implementation of
the same stochastic process, and its seed-averaged rates must fall on ``net.m``'s (measured
here: E 7.3-7.5 Hz, I 6.7-6.8 Hz over 10 s). NEST's default, ``consistent_integration=True``
(one forward Euler step of v and u from the old values), is a different model: it fires at
about 8.9 / 9.0 Hz, and the tests check that this difference is resolved, so agreement of
the published scheme is not an accident of wide tolerances.

With the thalamic input replayed (the same numbers in both), NEST and the numpy port give
the same spikes, spike for spike, until floating-point differences in the summation order of
the synaptic input flip a spike (measured: identical through 1000 ms with one thread).
"""

from __future__ import annotations

import numpy as np
import pytest

try:
    from tests.reference import nest_izhikevich2003 as nest_ref
    from tests.reference.izhikevich2003_net import make_network, run_net, run_network
except ImportError:
    from reference import nest_izhikevich2003 as nest_ref
    from reference.izhikevich2003_net import make_network, run_net, run_network

pytestmark = [
    pytest.mark.crosscheck,
    pytest.mark.skipif(not nest_ref.nest_available(), reason="NEST (nest-simulator) is not importable"),
]

REFERENCE_RATES_HZ = np.array([7.4, 6.6])
DURATION_MS = 10_000
SEEDS = range(4)


def nest_rates(seeds, consistent_integration=False) -> np.ndarray:
    """Per-seed (E, I) rates (Hz) of NEST over 10 s, shape (seed, 2)."""
    return np.array(
        [
            nest_ref.run_nest(
                duration_ms=DURATION_MS,
                seed=seed,
                threads=2,
                consistent_integration=consistent_integration,
            )[2]
            for seed in seeds
        ]
    )


@pytest.fixture(scope="module")
def nest_published() -> np.ndarray:
    return nest_rates(SEEDS)


def test_replayed_input_gives_identical_spikes():
    """Same network, same thalamic input: NEST and the port agree spike for spike (500 ms)."""
    duration = 500
    network, rng = make_network(800, 200, seed=11)
    thalamic = network.noise_std * rng.standard_normal((duration, 1000))
    thalamic[:2] = 0.0  # NEST cannot deliver a current to the first two steps
    port_steps, port_neurons = run_network(network, None, duration, thalamic=thalamic)
    nest_steps, nest_neurons, _, _ = nest_ref.run_nest(
        duration_ms=duration, seed=11, threads=1, thalamic=thalamic
    )
    assert port_steps.size > 2000
    np.testing.assert_array_equal(nest_steps, port_steps)
    np.testing.assert_array_equal(nest_neurons, port_neurons)


def test_nest_published_scheme_matches_reference_and_port(nest_published):
    """NEST (published numerics) and the port: each within 10 % of 7.4 / 6.6 Hz, and of each other."""
    port = np.array([run_net(800, 200, DURATION_MS, seed)[2] for seed in SEEDS])
    np.testing.assert_allclose(nest_published.mean(0), REFERENCE_RATES_HZ, rtol=0.10)
    np.testing.assert_allclose(port.mean(0), REFERENCE_RATES_HZ, rtol=0.10)
    np.testing.assert_allclose(nest_published.mean(0), port.mean(0), rtol=0.10)


def test_forward_euler_is_resolved(nest_published):
    """NEST's consistent (forward Euler) integration fires > 10 % faster than the published scheme."""
    euler = nest_rates(range(2), consistent_integration=True).mean(0)
    assert np.all(euler > 1.10 * nest_published.mean(0)), (euler, nest_published.mean(0))


def test_jaxfne_matches_nest(nest_published):
    """jaxfne (float64, published numerics) vs NEST: seed means within 10 %, each near 7.4 / 6.6 Hz.

    As for NEST and ``net.m``, every seed is a new network (jaxfne's configuration seed) and
    a new noise stream (its simulation seed).
    """
    import jax

    import jaxfne

    mine = []
    seconds = DURATION_MS / 1e3
    with jax.enable_x64(True):
        for seed in SEEDS:
            cfg = (
                jaxfne.configuration()
                .runtime(seed=seed, network_seed=seed, dtype="float64", dt_ms=1.0, duration_ms=float(DURATION_MS))
                .column("net", layers=["L2/3"], n=1000)
                .cell_types({"E": 800, "I": 200})
                .connectivity()
                .set_emitter("izhikevich", "cortical_eig")
                .probes(["SPK"])
            )
            model = jaxfne.construct(cfg)
            sig = jaxfne.simulate(model, duration_ms=float(DURATION_MS), dt_ms=1.0, seed=seed)
            counts = np.asarray(sig.spikes).sum(axis=0)  # [neuron]
            mine.append((counts[:800].sum() / (800 * seconds), counts[800:].sum() / (200 * seconds)))
    mine = np.array(mine)
    np.testing.assert_allclose(mine.mean(0), REFERENCE_RATES_HZ, rtol=0.10)
    np.testing.assert_allclose(nest_published.mean(0), REFERENCE_RATES_HZ, rtol=0.10)
    np.testing.assert_allclose(mine.mean(0), nest_published.mean(0), rtol=0.10)
