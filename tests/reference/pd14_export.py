"""A jaxfne-built ``iaf_psc_exp`` network as plain arrays, for replay in another simulator.

:func:`export_network` gives what :func:`tests.reference.nest_pd14.run_exported` takes (and what
``benchmarks/brian2_pd14.py`` reads from an ``.npz``): the synapse list as jaxfne drew it (source,
target, weight in pA, delay on the grid of ``dt_ms``), the shared neuron parameters and each neuron's
V_m(0) and constant current. :func:`poisson_drive` adds the per-population Poisson background
(rate of the summed train and weight of its events), from the configuration's ``poisson`` stimuli.
Nothing is redrawn.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NEURON_KEYS", "export_network", "poisson_drive"]

#: The ``iaf_psc_exp`` parameters shared by all neurons of the exported network.
NEURON_KEYS = ("C_m", "tau_m", "t_ref", "E_L", "V_th", "V_reset", "tau_syn_ex", "tau_syn_in")


def export_network(m, dt_ms: float) -> dict:
    """``n_per_pop, pre, post, weight_pA, delay_ms, V_m0, I_e, neuron, dt_ms`` of model ``m``."""
    syn = m.synapses
    prm = {k: np.asarray(v, float) for k, v in m.params["neuron"].items()}
    for k in NEURON_KEYS:
        if np.ptp(prm[k]) != 0:
            raise ValueError(f"neuron parameter {k} differs between neurons; the export shares one value")
    neuron = {k: float(prm[k][0]) for k in NEURON_KEYS}
    return {"n_per_pop": np.bincount(m.table.pop_index).tolist(), "pre": syn.pre, "post": syn.post,
            "weight_pA": syn.weight.astype(np.float64) * float(m.params["weight_scale"]),
            "delay_ms": syn.delay_steps(dt_ms) * dt_ms, "V_m0": prm["V_m0"], "I_e": prm["I_e"], "neuron": neuron,
            "dt_ms": dt_ms}


def poisson_drive(cfg) -> dict:
    """``poisson_rate_hz`` (one summed train per population: rate x inputs, in population order),
    ``poisson_n_inputs``, ``poisson_input_rate_hz`` and ``poisson_weight_pA`` of the configuration's
    Poisson stimuli, one per population (as the Potjans-Diesmann preset makes them)."""
    stim = [s for s in cfg.stimuli if s["kind"] == "poisson"]
    if not stim:
        raise ValueError("the configuration has no Poisson stimuli")
    weights = {float(s["weight"]) for s in stim}
    if len(weights) != 1:
        raise ValueError(f"the Poisson stimuli have different weights {sorted(weights)}; one is exported")
    return {"poisson_rate_hz": np.array([s["rate_hz"] * s["n_inputs"] for s in stim], float),
            "poisson_n_inputs": np.array([s["n_inputs"] for s in stim], np.int64),
            "poisson_input_rate_hz": np.array([s["rate_hz"] for s in stim], float),
            "poisson_weight_pA": weights.pop()}
