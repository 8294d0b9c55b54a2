"""Engine behaviour: gradients, blow-up reporting, drives, plasticity, multi-column wiring."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne
from jaxfne.errors import ConfigurationError, SimulationError


def _quiet_column(**conn):
    """20 RS cells driven below threshold by Poisson synaptic input: a smooth case for gradients."""
    return (jaxfne.configuration()
            .runtime(seed=3, dtype="float64", duration_ms=50.0, dt_ms=0.1)
            .column("C", layers=["L4"], n=20)
            .cell_types({"E": 1.0})
            .connectivity(**conn)
            .set_emitter("izhikevich", "RS", drive="none")
            .stimulus("poisson", rate_hz=20.0, n_inputs=50, weight=0.3)
            .stimulus("gaussian", mean=1.0, std=0.0)
            .probes(["SPK", "Vm"]))


def _mean_v(model, f, **updates):
    p = dict(model.params)
    p.update({k: jnp.asarray(v, jnp.float64) for k, v in updates.items()})
    sig = f(p, 0)
    return model.compute_readout(sig, [jaxfne.readout_spec("v", "mean_V_m")]).results["v"]


@pytest.mark.parametrize("leaf, value", [("gauss_mean", [1.0]), ("poisson_weight", [0.3])])
def test_gradient_matches_finite_differences(leaf, value):
    model = jaxfne.construct(_quiet_column(recurrent=False))
    f = model.simulate_fn(50.0, 0.1)
    sig = f(model.params, 0)
    assert int(np.asarray(sig.spikes).sum()) == 0  # subthreshold: the readout is smooth
    g = jax.grad(lambda x: _mean_v(model, f, **{leaf: x}))(jnp.asarray(value))
    h = 1e-5
    fd = (_mean_v(model, f, **{leaf: np.asarray(value) + h}) - _mean_v(model, f, **{leaf: np.asarray(value) - h})) / (2 * h)
    assert np.isfinite(g).all() and abs(float(g[0])) > 1e-3
    np.testing.assert_allclose(float(g[0]), float(fd), rtol=1e-6)


def test_surrogate_gradient_of_rate_wrt_weight_is_finite_and_nonzero():
    cfg = (jaxfne.configuration().runtime(seed=1, dtype="float64", duration_ms=100.0, dt_ms=0.1)
           .column("C", layers=["L2/3"], n=40).cell_types({"E": 0.8, "I": 0.2})
           .connectivity(p=0.3, propagation="dense")
           .set_emitter("izhikevich", "RS", per_type={"I": "FS"}, drive="none")
           .stimulus("poisson", rate_hz=10.0, n_inputs=100, weight=1.5)
           .probes(["SPK"]))
    model = jaxfne.construct(cfg)
    f = model.simulate_fn(100.0, 0.1)
    spec = jaxfne.readout_spec("r", "spike_rate_hz")

    def rate(w):
        p = dict(model.params)
        p["weight_scale"] = w
        return model.compute_readout(f(p, 0), [spec]).results["r"]

    assert float(rate(1.0)) > 1.0
    g = jax.grad(rate)(jnp.asarray(1.0))
    assert np.isfinite(g) and abs(float(g)) > 1e-3


def test_blow_up_names_step_time_and_population():
    cfg = (jaxfne.configuration().runtime(dtype="float32", duration_ms=20.0, dt_ms=1.0)
           .column("C", layers=["L2/3", "L5"], n=10).cell_types({"E": 1.0}).connectivity(recurrent=False)
           .set_emitter("izhikevich", "RS", drive="none", params={"c": 1e30})
           .stimulus("step", amplitude=100.0, start_ms=5.0, target={"layer": "L5"}))
    model = jaxfne.construct(cfg)
    with pytest.raises(SimulationError) as exc:
        jaxfne.simulate(model)
    err = exc.value
    assert err.population == "C:L5E"
    assert 5 <= err.step < 20
    assert f"step {err.step}" in str(err) and "C:L5E" in str(err) and f"{err.time_ms:g} ms" in str(err)


def test_stimulus_reaches_only_its_target():
    cfg = (jaxfne.configuration().runtime(dtype="float64", duration_ms=100.0, dt_ms=0.1)
           .column("C", layers=["L2/3", "L4"], n=40).cell_types({"E": 0.5, "I": 0.5}).connectivity(recurrent=False)
           .set_emitter("izhikevich", "RS", drive="none")
           .stimulus("step", amplitude=10.0, start_ms=20.0, target={"layer": "L4", "cell_type": "I"})
           .probes(["SPK"]))
    model = jaxfne.construct(cfg)
    sig = jaxfne.simulate(model)
    count = np.asarray(sig.spikes).sum(0)
    target = model.table.select(layer="L4", cell_type="I")
    assert (count[target] > 0).all() and (count[~target] == 0).all()
    first = np.argmax(np.asarray(sig.spikes)[:, target], axis=0)
    assert (first >= 200).all()  # nothing before the 20 ms onset


def test_poisson_drive_delivers_the_expected_number_of_events():
    """Mean synaptic events per neuron = rate x n_inputs x T (the EMM counts expose them)."""
    cfg = (jaxfne.configuration().runtime(dtype="float64", duration_ms=500.0, dt_ms=0.1)
           .column("C", layers=["L4"], n=50).cell_types({"E": 1.0}).connectivity(recurrent=False)
           .set_emitter("izhikevich", "RS", drive="none")
           .stimulus("poisson", rate_hz=8.0, n_inputs=100, weight=0.01)
           .probes(["SPK", "EMM-proxy"]))
    model = jaxfne.construct(cfg)
    sig = jaxfne.simulate(model, seed=5)
    from jaxfne.probes.metabolic import ATP_PER_VESICLE_EXC, ATP_REST_PER_NEURON_S, RELEASE_PROBABILITY

    emm = np.asarray(sig.EMM)
    events_per_step = (emm - 50 * ATP_REST_PER_NEURON_S) * 1e-4 / (RELEASE_PROBABILITY * ATP_PER_VESICLE_EXC)
    expected = 8.0 * 100 * 50 * 1e-4  # per step, all neurons
    total, n = events_per_step.sum(), emm.size
    # Poisson total over 5000 steps: mean 2000, sd sqrt(2000) ~ 45
    assert abs(total - expected * n) < 4 * np.sqrt(expected * n), (total, expected * n)


def test_stdp_potentiates_pre_before_post_and_depresses_the_reverse():
    """Two cells, each forced to fire once by a pulse: 0 first, 1 five ms later (Song et al. 2000 window)."""
    cfg = (jaxfne.configuration().runtime(dtype="float64", duration_ms=40.0, dt_ms=0.1)
           .column("C", layers=["L2/3", "L4"], n=2, layer_fractions={"L2/3": 0.5, "L4": 0.5})
           .cell_types({"E": 2})
           .connectivity(p=1.0, weights={"E": 0.01}, weight_distribution="constant",
                         plasticity={"A_plus": 0.01, "A_minus": 0.012, "w_max": 0.02})
           .set_emitter("izhikevich", "RS", drive="none")
           .stimulus("pulse", amplitude=60.0, start_ms=8.0, width_ms=1.0, target={"layer": "L2/3"})
           .stimulus("pulse", amplitude=60.0, start_ms=13.0, width_ms=1.0, target={"layer": "L4"}))
    sig = jaxfne.simulate(jaxfne.construct(cfg))
    times = [np.flatnonzero(np.asarray(sig.spikes)[:, i]) for i in range(2)]
    assert len(times[0]) == 1 and len(times[1]) == 1 and times[0][0] < times[1][0]
    lag_ms = (times[1][0] - times[0][0]) * 0.1
    w = np.asarray(sig.weights)
    decay = np.exp(-lag_ms / 20.0)
    np.testing.assert_allclose(w[0, 1], 0.01 + 0.01 * 0.02 * decay, rtol=1e-9)  # pre (0) before post (1)
    np.testing.assert_allclose(w[1, 0], 0.01 - 0.012 * 0.02 * decay, rtol=1e-9)  # post (1) after pre (0)
    assert w[0, 0] == 0.0 and w[1, 1] == 0.0  # no autapses were created


def test_inter_column_connections_are_drawn_only_between_columns():
    cfg = (jaxfne.configuration().runtime(dtype="float64")
           .column("A", layers=["L2/3"], n=30).column("B", layers=["L2/3"], n=30, position_um=(500.0, 0.0))
           .cell_types({"E": 0.8, "I": 0.2})
           .connectivity(recurrent=False, inter_column={"p": 0.2, "delay_ms": 3.0, "types": ["E"]})
           .set_emitter("izhikevich", "RS"))
    model = jaxfne.construct(cfg)
    syn = model.synapses
    col = model.table.column
    assert syn.count > 0
    assert (col[syn.pre] != col[syn.post]).all()
    assert model.table.is_exc[syn.pre].all()
    np.testing.assert_allclose(syn.delay_ms, 3.0)
    # p = 0.2 over 2 x 24 x 30 candidate pairs: within 5 sd of the binomial mean
    n_pairs = 2 * 24 * 30
    assert abs(syn.count - 0.2 * n_pairs) < 5 * np.sqrt(n_pairs * 0.2 * 0.8)


def test_event_propagation_with_plasticity_is_refused():
    cfg = (jaxfne.configuration().column("C", layers=["L4"], n=10).cell_types({"E": 1.0})
           .connectivity(p=0.5, propagation="event", plasticity={"A_plus": 0.01}))
    with pytest.raises(ConfigurationError, match="connectivity.propagation"):
        jaxfne.construct(cfg)


def test_gradient_flows_from_a_field_readout_to_the_drive():
    """mean |LFP| of a subthreshold column is smooth in the Poisson weight: grad = finite difference."""
    cfg = _quiet_column(recurrent=False).probes(["SPK", "source-proxy", "LFP-proxy"])
    model = jaxfne.construct(cfg)
    f = model.simulate_fn(50.0, 0.1)
    spec = jaxfne.readout_spec("lfp", "mean_LFP")

    def mean_lfp(w):
        p = dict(model.params)
        p["poisson_weight"] = w
        return model.compute_readout(f(p, 0), [spec]).results["lfp"]

    w0 = jnp.asarray([0.3])
    g = jax.grad(mean_lfp)(w0)
    h = 1e-6
    fd = (mean_lfp(w0 + h) - mean_lfp(w0 - h)) / (2 * h)
    assert float(mean_lfp(w0)) > 0 and np.isfinite(g).all() and abs(float(g[0])) > 0
    np.testing.assert_allclose(float(g[0]), float(fd), rtol=1e-6)
