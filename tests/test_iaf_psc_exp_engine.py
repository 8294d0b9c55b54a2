"""iaf_psc_exp through the rest of the engine: gradients, STDP and field probes as for Izhikevich."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne


def _quiet(**conn):
    """20 PD14 cells below threshold under Poisson input: mean V_m is smooth in every leaf."""
    return (jaxfne.configuration().runtime(seed=3, dtype="float64", duration_ms=40.0, dt_ms=0.1)
            .column("C", layers=["L4"], n=20).cell_types({"E": 0.8, "I": 0.2}).connectivity(**conn)
            .set_emitter("iaf_psc_exp", "potjans_diesmann_2014")
            .stimulus("poisson", rate_hz=8.0, n_inputs=300, weight=87.8)
            .stimulus("step", amplitude=50.0, start_ms=10.0)
            .probes(["SPK", "Vm", "LFP-proxy"]))


def _readout(model, f, metric, path, x):
    p = jax.tree_util.tree_map(lambda a: a, model.params)
    if path[0] == "neuron":
        p["neuron"] = {**p["neuron"], path[1]: jnp.broadcast_to(x, p["neuron"][path[1]].shape)}
    else:
        p[path[0]] = jnp.broadcast_to(x, jnp.shape(p[path[0]]))
    return model.compute_readout(f(p, 0), [jaxfne.readout_spec("r", metric)]).results["r"]


@pytest.mark.parametrize("metric,path,value", [
    ("mean_V_m", ("neuron", "I_e"), 20.0),
    ("mean_V_m", ("neuron", "tau_syn_ex"), 0.5),
    ("mean_LFP", ("poisson_weight",), 87.8),
])
def test_gradient_matches_central_difference(metric, path, value):
    # no recurrence: the surrogate's pseudo-derivative of subthreshold neurons would otherwise reach
    # their targets, and the gradient would (by design) not be the derivative of the readout
    model = jaxfne.construct(_quiet(recurrent=False))
    f = model.simulate_fn(40.0, 0.1)
    assert int(np.asarray(f(model.params, 0).spikes).sum()) == 0
    g = jax.grad(lambda x: _readout(model, f, metric, path, x))(jnp.asarray(value))
    h = 1e-4 * max(1.0, abs(value))
    fd = (_readout(model, f, metric, path, value + h) - _readout(model, f, metric, path, value - h)) / (2 * h)
    assert abs(float(g)) > 1e-9
    np.testing.assert_allclose(float(g), float(fd), rtol=1e-5)


def test_stdp_window_with_iaf_psc_exp():
    """Cell 0 fires, cell 1 five ms later (current pulses): pre-before-post potentiates, the reverse depresses."""
    cfg = (jaxfne.configuration().runtime(dtype="float64", duration_ms=40.0, dt_ms=0.1)
           .column("C", layers=["L2/3", "L4"], n=2, layer_fractions={"L2/3": 0.5, "L4": 0.5})
           .cell_types({"E": 2})
           .connectivity(p=1.0, weights={"E": 1.0}, weight_distribution="constant",
                         plasticity={"A_plus": 0.01, "A_minus": 0.012, "w_max": 2.0})
           .set_emitter("iaf_psc_exp", "nest_default")
           .stimulus("pulse", amplitude=5000.0, start_ms=8.0, width_ms=1.0, target={"layer": "L2/3"})
           .stimulus("pulse", amplitude=5000.0, start_ms=13.0, width_ms=1.0, target={"layer": "L4"}))
    sig = jaxfne.simulate(jaxfne.construct(cfg))
    times = [np.flatnonzero(np.asarray(sig.spikes)[:, i]) for i in range(2)]
    assert len(times[0]) == 1 and len(times[1]) == 1 and times[0][0] < times[1][0]
    decay = np.exp(-(times[1][0] - times[0][0]) * 0.1 / 20.0)
    w = np.asarray(sig.weights)
    np.testing.assert_allclose(w[0, 1], 1.0 + 0.01 * 2.0 * decay, rtol=1e-9)
    np.testing.assert_allclose(w[1, 0], 1.0 - 0.012 * 2.0 * decay, rtol=1e-9)


def test_field_probes_conserve_current_with_iaf_psc_exp():
    """The laminar source density of current-based synapses sums to zero in every step (return currents)."""
    cfg = (jaxfne.configuration().runtime(dtype="float64", duration_ms=50.0, dt_ms=0.1)
           .column("C", layers=["L2/3", "L4", "L5"], n=60).cell_types({"E": 0.8, "I": 0.2}).connectivity()
           .set_emitter("iaf_psc_exp", "potjans_diesmann_2014")
           .stimulus("poisson", rate_hz=8.0, n_inputs=900, weight=87.8)
           .probes(["SPK", "source-proxy", "LFP-proxy", "CSD-proxy", "EEG-proxy"]))
    sig = jaxfne.simulate(jaxfne.construct(cfg), seed=2)
    src = np.asarray(sig.source)
    assert np.abs(src).max() > 0
    np.testing.assert_allclose(src.sum(axis=1), 0.0, atol=1e-9 * np.abs(src).max())
    assert np.isfinite(np.asarray(sig.EEG)).all() and np.abs(np.asarray(sig.LFP)).max() > 0
