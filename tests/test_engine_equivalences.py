"""Equivalences the engine must keep: batch = loop, chunked = one-shot, event = dense, jit = eager."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import jaxfne
from jaxfne.errors import ConfigurationError

FIELDS = ["SPK", "Vm", "I_syn", "MUA-proxy", "source-proxy", "LFP-proxy", "CSD-proxy", "EEG-proxy",
          "MEG-proxy", "EMM-proxy"]


def _column(n=60, propagation="auto", dtype="float64", modes=("SPK", "Vm", "I_syn")):
    """A small sparse column with heterogeneous delays and both kinds of random drive."""
    return (jaxfne.configuration()
            .runtime(seed=11, dtype=dtype, duration_ms=120.0, dt_ms=0.1)
            .column("V1", layers=["L2/3", "L4", "L5"], n=n)
            .cell_types({"E": 0.8, "I": 0.2})
            .connectivity(p={"E->E": 0.2, "E->I": 0.3, "I->E": 0.3, "I->I": 0.2}, propagation=propagation)
            .set_emitter("izhikevich", "RS", per_type={"I": "FS"}, drive="none")
            .stimulus("poisson", rate_hz=8.0, n_inputs=120, weight=1.5)
            .stimulus("gaussian", mean=2.0, std=3.0, target={"layer": "L4"})
            .probes(list(modes)))


@pytest.fixture(scope="module")
def model():
    return jaxfne.construct(_column(modes=FIELDS))


def test_the_column_is_active(model):
    sig = jaxfne.simulate(model, seed=1)
    rate = np.asarray(sig.spikes).mean() / 1e-4
    assert 1.0 < rate < 100.0, rate  # an actual network state, not a silent or saturated one


def test_seed_batch_equals_loop(model):
    seeds = [3, 4, 5]
    batch = jaxfne.simulate(model, seed=seeds)
    for i, s in enumerate(seeds):
        one = jaxfne.simulate(model, seed=s)
        np.testing.assert_array_equal(np.asarray(batch.spikes[i]), np.asarray(one.spikes))
        for key in ("V_m", "I_syn", "LFP", "EEG", "MEG", "EMM"):
            np.testing.assert_allclose(np.asarray(getattr(batch, key)[i]), np.asarray(getattr(one, key)),
                                       rtol=1e-10, atol=1e-10, err_msg=key)


def test_parameter_batch_equals_loop(model):
    scales = np.array([0.5, 1.0, 1.5])
    params = jax.tree_util.tree_map(lambda a: np.broadcast_to(np.asarray(a), (3,) + np.shape(a)).copy(), model.params)
    params["weight_scale"] = scales
    batch = jaxfne.simulate(model, seed=[7, 7, 7], params=params, params_batched=True)
    for i, w in enumerate(scales):
        one = jaxfne.simulate(model.with_params(weight_scale=w), seed=7)
        np.testing.assert_array_equal(np.asarray(batch.spikes[i]), np.asarray(one.spikes))
    # the parameter matters: different weights give different rasters
    assert not np.array_equal(np.asarray(batch.spikes[0]), np.asarray(batch.spikes[2]))


def test_chunked_equals_one_shot(model):
    whole = jaxfne.simulate(model, seed=2)
    chunked = jaxfne.simulate(model, seed=2, chunk_ms=3.7)  # 37 steps, not a divisor of 1200
    assert set(whole.recorded) == set(chunked.recorded)
    for key in whole.recorded:
        np.testing.assert_array_equal(np.asarray(getattr(chunked, key)), np.asarray(getattr(whole, key)), err_msg=key)


def test_default_chunks_are_equal_and_budget_one_draw_per_neuron(monkeypatch):
    """The run is split into as few chunks as the budget allows, of equal length (each chunk runs in
    full: a budget-sized chunk and a short remainder would compute up to a chunk of steps for nothing);
    a neuron with one Poisson drive costs one uniform a step in that budget, not one per drive."""
    import importlib

    sim = importlib.import_module("jaxfne.simulate")
    m = jaxfne.construct(jaxfne.presets.potjans_diesmann_2014(scale=0.02, k_scale=0.1).runtime(duration_ms=50.0))
    per_step = 5 * m.n  # the spike raster (bool) and one float32 uniform per neuron
    monkeypatch.setattr(sim, "CHUNK_BUDGET_BYTES", 180 * per_step + per_step // 2)  # 180 steps
    chunks = []
    split = jaxfne.simulate(m, seed=3, on_chunk=lambda step0, host: chunks.append((step0, host["spikes"].shape[0])))
    assert chunks == [(0, 167), (167, 167), (334, 166)]  # 500 steps: 3 chunks, not 180 + 180 + 140
    whole = jaxfne.simulate(m, seed=3, chunk_ms=50.0)
    assert whole.spike_events.steps.size > 100
    np.testing.assert_array_equal(split.spike_events.steps, whole.spike_events.steps)
    np.testing.assert_array_equal(split.spike_events.neurons, whole.spike_events.neurons)


def test_default_chunks_keep_each_array_under_the_cap():
    """Within the budget, a default chunk holds no array above ``CHUNK_ARRAY_BYTES`` (glibc reuses
    such blocks from its heap; larger ones are fresh page-faulted mappings every chunk): the 10 %
    microcircuit's largest array is its uniform draws, one float32 per neuron and step, 30,868 bytes,
    so 16 MiB hold 543 steps and 2,000 steps run as 4 equal chunks of 500; the spikes are those of
    one chunk."""
    import importlib

    sim = importlib.import_module("jaxfne.simulate")
    assert sim.CHUNK_ARRAY_BYTES == 16 * 2**20
    m = jaxfne.construct(jaxfne.presets.potjans_diesmann_2014(scale=0.1, k_scale=0.1).runtime(duration_ms=200.0))
    assert m.n == 7717
    chunks = []
    split = jaxfne.simulate(m, seed=1, on_chunk=lambda step0, host: chunks.append((step0, host["spikes"].shape[0])))
    assert chunks == [(0, 500), (500, 500), (1000, 500), (1500, 500)]
    whole = jaxfne.simulate(m, seed=1, chunk_ms=200.0)
    assert whole.spike_events.steps.size > 1000
    np.testing.assert_array_equal(split.spike_events.steps, whole.spike_events.steps)
    np.testing.assert_array_equal(split.spike_events.neurons, whole.spike_events.neurons)


def test_event_and_dense_propagation_agree():
    dense = jaxfne.construct(_column(propagation="dense"))
    event = jaxfne.construct(_column(propagation="event"))
    assert dense.propagation == "dense" and event.propagation == "event"
    a, b = jaxfne.simulate(dense, seed=9), jaxfne.simulate(event, seed=9)
    assert np.asarray(a.spikes).sum() > 20
    np.testing.assert_array_equal(np.asarray(a.spikes), np.asarray(b.spikes))
    np.testing.assert_allclose(np.asarray(a.V_m), np.asarray(b.V_m), atol=1e-9)


def test_jit_equals_eager(model):
    f = model.simulate_fn(duration_ms=30.0, dt_ms=0.1)
    eager = f(model.params, 4)
    jitted = jax.jit(f)(model.params, 4)
    np.testing.assert_array_equal(np.asarray(eager.spikes), np.asarray(jitted.spikes))
    np.testing.assert_allclose(np.asarray(eager.LFP), np.asarray(jitted.LFP), rtol=1e-12, atol=1e-15)
    # and the pure function agrees with the chunked driver
    driver = jaxfne.simulate(model, duration_ms=30.0, dt_ms=0.1, seed=4)
    np.testing.assert_array_equal(np.asarray(eager.spikes), np.asarray(driver.spikes))


def test_float32_tracks_float64():
    """Same network in single and double precision: population rates within 10 % over 120 ms."""
    r = {}
    for dt in ("float32", "float64"):
        sig = jaxfne.simulate(jaxfne.construct(_column(dtype=dt)), seed=1)
        r[dt] = np.asarray(sig.spikes).mean()
    assert r["float64"] > 0
    assert abs(r["float32"] - r["float64"]) / r["float64"] < 0.10, r


def test_record_subset_and_decimation_bound_memory():
    cfg = _column().probes(["SPK", "Vm", "I_syn"], record_neurons=[0, 5, 17], record_every=10)
    m = jaxfne.construct(cfg)
    sub = jaxfne.simulate(m, seed=3)
    full = jaxfne.simulate(jaxfne.construct(_column()), seed=3)
    assert np.asarray(sub.V_m).shape == (120, 3)
    np.testing.assert_array_equal(np.asarray(sub.V_m), np.asarray(full.V_m)[9::10][:, [0, 5, 17]])


def test_record_neurons_empty_keeps_spikes_only():
    # record_neurons=[] is a spike recorder: the same spikes, V_m and I_syn of no neuron
    cfg = _column().probes(["SPK", "Vm", "I_syn"], record_neurons=[])
    m = jaxfne.construct(cfg)
    bare = jaxfne.simulate(m, seed=3)
    full = jaxfne.simulate(jaxfne.construct(_column()), seed=3)
    assert np.asarray(bare.V_m).shape == (1200, 0) and np.asarray(bare.I_syn).shape == (1200, 0)
    np.testing.assert_array_equal(np.asarray(bare.spikes), np.asarray(full.spikes))
    with pytest.raises(ConfigurationError, match=r"probes\.record_neurons"):
        m.compute_readout(bare, [jaxfne.readout_spec("v", "mean_V_m")])


def test_event_and_dense_agree_with_full_rows_and_mixed_delays():
    # all-to-all within and between two columns: every row is full, but delays are 1 step inside a
    # column and 3 between, so the event kernel must scatter (into the padded buffer), not add slices
    def cfg(propagation):
        return (jaxfne.configuration().runtime(seed=3, dtype="float64", duration_ms=300.0, dt_ms=1.0)
                .column("A", layers=["L2/3"], n=40).column("B", layers=["L2/3"], n=40)
                .cell_types({"E": 0.8, "I": 0.2})
                .connectivity(inter_column={"p": 1.0, "types": ["E", "I"], "delay_ms": 3.0}, propagation=propagation)
                .set_emitter("izhikevich", "cortical_eig").probes(["SPK", "Vm"]))

    dense, event = jaxfne.construct(cfg("dense")), jaxfne.construct(cfg("event"))
    a, b = jaxfne.simulate(dense, seed=2), jaxfne.simulate(event, seed=2)
    assert np.asarray(a.spikes).sum() > 50
    np.testing.assert_array_equal(np.asarray(a.spikes), np.asarray(b.spikes))
    np.testing.assert_allclose(np.asarray(a.V_m), np.asarray(b.V_m), atol=1e-9)
