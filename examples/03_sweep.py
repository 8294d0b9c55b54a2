"""Sweeps in one call: a batch of noise seeds and a swept projection gain.

Parameters of a constructed model are array leaves (``model.params``), so a sweep does not rebuild or
recompile anything: the same compiled scan runs every member of the batch.

1. A batch of seeds: ``jaxfne.simulate(model, seed=[...])`` (or a :class:`jaxfne.Simulation` value)
   runs all seeds in one call; member ``i`` is exactly the run of seed ``i`` alone.
2. A parameter sweep: NEST's ``iaf_psc_exp`` in a column wired by population pairs (the README's
   tour), with the gain of the L4E -> L2/3E projection swept in one call (``params_batched=True``).

The same leaves are what ``jax.vmap`` and ``jax.grad`` see in the pure function
``model.simulate_fn(duration_ms, dt_ms)`` (``04_fitting.py`` differentiates through it).

Run it with ``python examples/03_sweep.py``; ``JAXFNE_EXAMPLE_SCALE=small`` runs tiny columns for
50 ms (the tests), unset columns of 1000 and 2000 neurons for one second. This example writes no files.
"""

from __future__ import annotations

import os

import jax
import numpy as np

import jaxfne as jtfne
from jaxfne.errors import ConfigurationError

SCALE = os.environ.get("JAXFNE_EXAMPLE_SCALE", "")
if SCALE not in ("", "small"):
    raise ConfigurationError("JAXFNE_EXAMPLE_SCALE", SCALE, "'small' (tiny sizes, as the tests run) or unset")
SMALL = SCALE == "small"

DURATION_MS = 50.0 if SMALL else 1000.0
T_START_MS = 10.0 if SMALL else 200.0
N_SEEDS = 4 if SMALL else 16


def seed_batch() -> None:
    """One column, many noise seeds, one call."""
    cfg = (jtfne.configuration()
           .runtime(duration_ms=DURATION_MS, dt_ms=0.1)
           .column("V1", layers=["L2/3", "L4", "L5"], n=60 if SMALL else 1000)
           .cell_types({"E": 0.8, "I": 0.2})
           .connectivity()
           .set_emitter("izhikevich", "cortical_eig")
           .probes(["SPK"]))  # spikes only
    model = jtfne.construct(cfg)
    seeds = list(range(N_SEEDS))
    batch = jtfne.simulate(model, seed=seeds)               # spikes: [seed, time, neuron]
    rate = jtfne.readout_spec("rate_E", "spike_rate_hz", cell_type="E", t_start_ms=T_START_MS)
    rates = np.asarray(model.compute_readout(batch, [rate]).results["rate_E"])
    print(f"E rate over {len(seeds)} seeds: {rates.mean():.2f} +- {rates.std(ddof=1):.2f} Hz "
          f"(per seed {np.round(rates, 2).tolist()})")

    # The same batch described as a value (what a study stores): a Simulation with a tuple of seeds.
    sim = jtfne.simulation(duration_ms=DURATION_MS, dt_ms=0.1, seed=tuple(seeds))
    again = model.simulate(sim)
    assert np.array_equal(np.asarray(again.spikes), np.asarray(batch.spikes))
    # A member of the batch is the run of its seed alone, spike for spike.
    alone = jtfne.simulate(model, seed=seeds[-1])
    assert np.array_equal(np.asarray(alone.spikes), np.asarray(batch.spikes)[-1])
    print("batch member == single run: identical spikes")


def gain_sweep() -> None:
    """Three gains of one projection, one call (the README's tour)."""
    n = 100 if SMALL else 2000
    scale = n / 2000  # fewer neurons, proportionally fewer synapses of the fixed total number
    cfg = (jtfne.configuration()
           .runtime(network_seed=1, duration_ms=DURATION_MS, dt_ms=0.1)
           .column("V1", layers=["L2/3", "L4"], n=n)
           .cell_types({"E": 0.8, "I": 0.2})
           .connectivity(projections={
               "L4E->L2/3E": {"rule": "fixed_total_number", "N_syn": int(40000 * scale), "weight": 175.6},
               "L2/3E->L2/3E": {"rule": "pairwise_bernoulli", "p": 0.1, "weight": 87.8,
                                "delay_ms": 1.5, "delay_sd_ms": 0.75},
               "L2/3I->L2/3E": {"rule": "fixed_indegree", "K": 50, "weight": -351.2, "delay_ms": 0.75}})
           .set_emitter("iaf_psc_exp", "potjans_diesmann_2014")
           .stimulus("poisson", rate_hz=8.0, n_inputs=900, weight=87.8)   # pA
           .probes(["SPK"]))
    model = jtfne.construct(cfg)
    print(model.connectivity_summary().to_string(index=False))

    # Every leaf gets a leading axis of parameter sets; the gain matrix is [set, pre, post].
    pops = list(model.table.populations)                # "V1:L2/3E", "V1:L2/3I", "V1:L4E", "V1:L4I"
    gains_swept = [0.5, 1.0, 2.0]
    k = len(gains_swept)
    gains = np.ones((k,) + model.params["gain"].shape)
    gains[:, pops.index("V1:L4E"), pops.index("V1:L2/3E")] = gains_swept
    params = jax.tree_util.tree_map(lambda a: np.broadcast_to(a, (k,) + np.shape(a)), model.params)
    sweep = jtfne.simulate(model, seed=[0] * k, params={**params, "gain": gains}, params_batched=True)

    rate = jtfne.readout_spec("rate", "spike_rate_hz", layer="L2/3", cell_type="E", t_start_ms=T_START_MS)
    rates = model.compute_readout(sweep, [rate]).results["rate"]
    for g, r in zip(gains_swept, rates):
        print(f"gain L4E->L2/3E {g:3.1f}: L2/3E fires at {r:6.2f} Hz")


def main() -> None:
    """Run both sweeps."""
    print("-- a batch of seeds")
    seed_batch()
    print("\n-- a gain swept in one call")
    gain_sweep()


if __name__ == "__main__":
    main()
