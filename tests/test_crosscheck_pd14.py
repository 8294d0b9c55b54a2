"""The jaxfne-built Potjans & Diesmann (2014) microcircuit run by NEST 3 (``-m crosscheck``).

The network jaxfne draws (synapses, weights, delays in steps, initial V_m, DC) is exported and
replayed in NEST (:func:`tests.reference.nest_pd14.run_exported`), nothing redrawn:

* DC drive, float64, the full in-degrees at 5 % of the neurons: NEST and jaxfne integrate the
  same deterministic network, spike for spike over the first 200 ms.
* The same with the reference's thalamic input (902 sources, a 10 ms volley of 120 Hz): jaxfne's
  source spike trains (:func:`jaxfne.sources.spike_counts`) are replayed through NEST parrot
  neurons onto the exported thalamic synapses: spike for spike over 200 ms.
* Poisson drive at 10 % (``scale = k_scale = 0.1``): only the background noise differs; the eight
  population rates over [0.5, 2.5) s, averaged over three noise seeds on each side, agree within 5 %.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxfne
from tests.reference import nest_pd14
from tests.reference.pd14_export import export_network, poisson_drive

pytestmark = pytest.mark.crosscheck


def _nest_steps(out, dt_ms):
    """NEST's spike stamps (k + 1) h -> jaxfne's step k, as (step, neuron) pairs in jaxfne's order."""
    steps = np.rint(out["times_ms"] / dt_ms).astype(np.int64) - 1
    order = np.lexsort((out["senders"], steps))
    return steps[order], out["senders"][order]


def test_dc_network_spike_for_spike():
    pytest.importorskip("nest")
    import jax

    with jax.enable_x64(True):
        cfg = jaxfne.presets.potjans_diesmann_2014(scale=0.05, k_scale=1.0, drive="dc").runtime(
            duration_ms=200.0, dtype="float64")
        m = jaxfne.construct(cfg)
        ev = jaxfne.simulate(m, seed=0).spike_events
    out = nest_pd14.run_exported(**export_network(m, 0.1), poisson_rate_hz=None, poisson_weight_pA=None, t_sim_ms=200.0)
    steps, senders = _nest_steps(out, 0.1)
    keep = steps < 2000  # a spike stamped at 200 ms belongs to step 1999
    assert ev.steps.size > 1000
    np.testing.assert_array_equal(ev.steps, steps[keep])
    np.testing.assert_array_equal(ev.neurons, senders[keep])


def test_thalamic_volley_spike_for_spike():
    pytest.importorskip("nest")
    import jax

    with jax.enable_x64(True):
        cfg = jaxfne.presets.potjans_diesmann_2014(scale=0.05, k_scale=1.0, drive="dc", thalamus=True,
                                                  th_start_ms=100.0).runtime(duration_ms=200.0, dtype="float64")
        m = jaxfne.construct(cfg)
        ev = jaxfne.simulate(m, seed=0).spike_events
        (counts,) = jaxfne.sources.spike_counts(m, seed=0)
    steps, source = np.nonzero(counts)
    reps = counts[steps, source]
    th = m.sources[0].synapses
    replay = dict(n=th.n, steps=np.repeat(steps, reps), source=np.repeat(source, reps), pre=th.pre, post=th.post,
                  weight_pA=th.weight.astype(np.float64), delay_ms=th.delay_steps(0.1) * 0.1)
    assert 1010 <= steps.min() and steps.max() < 1110 and reps.sum() > 900  # the volley: [101, 111) ms
    out = nest_pd14.run_exported(**export_network(m, 0.1), poisson_rate_hz=None, poisson_weight_pA=None, t_sim_ms=200.0,
                                 sources=replay)
    nest_steps, senders = _nest_steps(out, 0.1)
    keep = nest_steps < 2000
    evoked = (ev.steps >= 1010) & (ev.steps < 1300)
    assert evoked.sum() > 2 * ((ev.steps >= 700) & (ev.steps < 1000)).sum()  # the volley evokes spikes
    np.testing.assert_array_equal(ev.steps, nest_steps[keep])
    np.testing.assert_array_equal(ev.neurons, senders[keep])


def test_ten_percent_poisson_rates_match():
    """Three noise seeds on each side (one seed's 2 s rates scatter by 2-4 % in L2/3E and L6E)."""
    pytest.importorskip("nest")
    cfg = jaxfne.presets.potjans_diesmann_2014(scale=0.1, k_scale=0.1).runtime(duration_ms=2500.0)
    m = jaxfne.construct(cfg)
    sizes = np.bincount(m.table.pop_index).tolist()
    ours = []
    for seed in (0, 1, 2):
        ev = jaxfne.simulate(m, seed=seed).spike_events
        ours.append(nest_pd14.population_rates(ev.neurons, (ev.steps + 1) * 0.1, sizes, 500.0, 2500.0))
    drive = poisson_drive(cfg)
    theirs = []
    for seed in (3, 4, 5):
        out = nest_pd14.run_exported(**export_network(m, 0.1), poisson_rate_hz=drive["poisson_rate_hz"],
                                     poisson_weight_pA=drive["poisson_weight_pA"],
                                     t_sim_ms=2500.0, seed=seed)
        theirs.append(nest_pd14.population_rates(out["senders"], out["times_ms"], sizes, 500.0, 2500.0))
    np.testing.assert_allclose(np.mean(ours, axis=0), np.mean(theirs, axis=0), rtol=0.05)
