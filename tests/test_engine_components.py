"""The component engine's equivalences, for both neuron families, and population-pair connectivity.

For Izhikevich and iaf_psc_exp alike: chunked = one-shot, seed batch = loop, parameter batch = loop,
event = dense, simulate = simulate_fn (neuron subset, decimation inside the scan), jit = eager.
Population-pair projections: realised counts match each rule's expectation, delays never fall
below dt, weight signs are kept, gains are array leaves that scale exactly their projection.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne
from jaxfne.errors import ConfigurationError

FAMILIES = {
    "izhikevich": dict(emitter=("izhikevich", "RS"), kw={"per_type": {"I": "FS"}, "drive": "none"},
                       weights={"E": 0.6, "I": -2.4}, poisson={"rate_hz": 8.0, "n_inputs": 100, "weight": 0.6}),
    "iaf_psc_exp": dict(emitter=("iaf_psc_exp", "potjans_diesmann_2014"), kw={},
                        weights={"E": 87.8, "I": -351.2}, poisson={"rate_hz": 8.0, "n_inputs": 1000, "weight": 87.8}),
}


def _cfg(family, propagation="event", n=80, duration_ms=120.0, record_neurons=None, record_every=1, seed=0):
    f = FAMILIES[family]
    return (jaxfne.configuration()
            .runtime(seed=seed, network_seed=5, dtype="float64", dt_ms=0.1, duration_ms=duration_ms)
            .column("V1", layers=["L2/3", "L4"], n=n).cell_types({"E": 0.8, "I": 0.2})
            .connectivity(p=0.15, weights=f["weights"], propagation=propagation)
            .set_emitter(*f["emitter"], **f["kw"])
            .stimulus("poisson", **f["poisson"])
            .probes(["SPK", "Vm", "I_syn"], record_neurons=record_neurons, record_every=record_every))


@pytest.fixture(scope="module", params=list(FAMILIES))
def family(request):
    return request.param


@pytest.fixture(scope="module")
def model(family):
    return jaxfne.construct(_cfg(family))


def _same(a, b, keys=("spikes", "V_m", "I_syn")):
    for k in keys:
        np.testing.assert_array_equal(np.asarray(getattr(a, k)), np.asarray(getattr(b, k)), err_msg=k)


def test_network_is_active(model):
    rate = np.asarray(jaxfne.simulate(model, seed=1).spikes).mean() * 1e4
    assert 0.5 < rate < 200.0


def test_chunked_equals_one_shot(model):
    _same(jaxfne.simulate(model, seed=1), jaxfne.simulate(model, seed=1, chunk_ms=7.3))


def test_seed_batch_equals_loop(model):
    batch = jaxfne.simulate(model, seed=[1, 2, 3])
    for i, s in enumerate([1, 2, 3]):
        one = jaxfne.simulate(model, seed=s)
        for k in ("spikes", "V_m"):
            np.testing.assert_array_equal(np.asarray(getattr(batch, k))[i], np.asarray(getattr(one, k)))


def test_parameter_batch_equals_loop(model):
    scales = np.array([0.5, 1.0, 1.5])
    params = jax.tree_util.tree_map(lambda a: np.broadcast_to(np.asarray(a), (3,) + np.shape(a)).copy(), model.params)
    params["weight_scale"] = scales
    batch = jaxfne.simulate(model, seed=[4, 4, 4], params=params, params_batched=True)
    for i, w in enumerate(scales):
        one = jaxfne.simulate(model.with_params(weight_scale=w), seed=4)
        np.testing.assert_array_equal(np.asarray(batch.spikes)[i], np.asarray(one.spikes))
        np.testing.assert_allclose(np.asarray(batch.V_m)[i], np.asarray(one.V_m), rtol=0, atol=1e-9)


def test_event_equals_dense(family):
    ev, de = jaxfne.construct(_cfg(family, "event")), jaxfne.construct(_cfg(family, "dense"))
    a, b = jaxfne.simulate(ev, seed=2), jaxfne.simulate(de, seed=2)
    np.testing.assert_array_equal(np.asarray(a.spikes), np.asarray(b.spikes))
    np.testing.assert_allclose(np.asarray(a.V_m), np.asarray(b.V_m), rtol=0, atol=1e-9)


@pytest.mark.parametrize("gains", [False, True])
def test_batched_equals_event_and_dense(family, gains):
    """The GPU kernel (a step's spikes gathered and scattered together) runs the same network: spike for
    spike and V_m to 1e-9 mV against both other kernels, with per-projection gains too."""
    base = _cfg(family, "event", n=300)
    if gains:
        f = FAMILIES[family]
        proj = {"L2/3E->L4E": {"p": 0.2, "weight": f["weights"]["E"], "delay_ms": 1.5, "delay_sd_ms": 0.5},
                "L4E->L2/3I": {"p": 0.3, "weight": f["weights"]["E"], "delay_ms": 1.0},
                "L4I->L4E": {"p": 0.4, "weight": f["weights"]["I"], "delay_ms": 0.8, "delay_sd_ms": 0.3},
                "L2/3I->L2/3E": {"p": 0.4, "weight": f["weights"]["I"]}}
        base = base.connectivity(projections=proj)
    runs = {}
    for prop in ("event", "batched", "dense"):
        m = jaxfne.construct(base.connectivity(propagation=prop))
        if gains:
            g = np.ones((4, 4)); g[0, 2] = 1.7; g[3, 2] = 0.5  # L2/3E->L4E, L4I->L4E
            m = m.with_params(gain=g)
        runs[prop] = jaxfne.simulate(m, seed=2)
    assert np.asarray(runs["event"].spikes).sum() > 50
    for other in ("batched", "dense"):
        np.testing.assert_array_equal(np.asarray(runs["event"].spikes), np.asarray(runs[other].spikes), err_msg=other)
        np.testing.assert_allclose(np.asarray(runs["event"].V_m), np.asarray(runs[other].V_m), rtol=0, atol=1e-9)


def test_batched_seed_batch_equals_loop(family):
    """Seeds vmapped on the batched kernel (native batching of its gather and scatter) = one by one."""
    m = jaxfne.construct(_cfg(family, "batched", n=200))
    batch = jaxfne.simulate(m, seed=[1, 2, 3])
    for i, s in enumerate([1, 2, 3]):
        np.testing.assert_array_equal(np.asarray(batch.spikes)[i], np.asarray(jaxfne.simulate(m, seed=s).spikes))


def test_dense_refuses_multapses_with_different_delays():
    cfg = jaxfne.presets.potjans_diesmann_2014(scale=0.01, k_scale=0.05).connectivity(propagation="dense")
    with pytest.raises(ConfigurationError, match="connectivity.propagation.*multapses"):
        jaxfne.construct(cfg)


def test_simulate_equals_simulate_fn_with_subset_and_decimation(family):
    m = jaxfne.construct(_cfg(family, record_neurons=[3, 17, 40, 79], record_every=3, duration_ms=100.0))
    host = jaxfne.simulate(m, seed=6, chunk_ms=9.0)
    pure = m.simulate_fn(100.0, 0.1)(m.params, 6)
    assert np.asarray(host.V_m).shape == (333, 4) == np.asarray(pure.V_m).shape
    np.testing.assert_array_equal(np.asarray(host.spikes), np.asarray(pure.spikes) > 0.5)
    np.testing.assert_allclose(np.asarray(host.V_m), np.asarray(pure.V_m), rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(host.I_syn), np.asarray(pure.I_syn), rtol=0, atol=1e-9)
    # sampled inside the scan = every 3rd step of a full-resolution run
    full = jaxfne.simulate(jaxfne.construct(_cfg(family, duration_ms=100.0)), seed=6)
    np.testing.assert_allclose(np.asarray(host.V_m), np.asarray(full.V_m)[2::3][:333, [3, 17, 40, 79]], rtol=0, atol=0)


def test_jit_equals_eager(family):
    m = jaxfne.construct(_cfg(family, n=30, duration_ms=8.0, propagation="dense"))
    f = m.simulate_fn(8.0, 0.1)
    a = jax.jit(f)(m.params, 3)
    with jax.disable_jit():
        b = f(m.params, 3)
    np.testing.assert_array_equal(np.asarray(a.spikes), np.asarray(b.spikes))
    np.testing.assert_allclose(np.asarray(a.V_m), np.asarray(b.V_m), rtol=0, atol=1e-9)


def test_record_modes_mean_what_they_say(family):
    cfg = _cfg(family, duration_ms=20.0)
    spikes_only = jaxfne.simulate(jaxfne.construct(cfg.probes(["SPK"])), seed=0)
    assert spikes_only.recorded == ("spikes",)
    vm_only = jaxfne.simulate(jaxfne.construct(cfg.probes(["Vm"])), seed=0)
    assert vm_only.recorded == ("V_m",)
    # a list of field probes only: the core attributes (spikes, V_m) of the seed page
    field = jaxfne.simulate(jaxfne.construct(cfg.probes(["LFP-proxy"])), seed=0)
    assert {"spikes", "V_m", "LFP"} <= set(field.recorded) and "I_syn" not in field.recorded


# -- population pairs -------------------------------------------------------------------------------------

def _pd_like(projections, n=400, **kw):
    return (jaxfne.configuration().runtime(network_seed=11, dt_ms=0.1, duration_ms=50.0)
            .column("V1", layers=["L2/3", "L4"], n=n).cell_types({"E": 0.8, "I": 0.2})
            .connectivity(projections=projections, **kw)
            .set_emitter("iaf_psc_exp", "potjans_diesmann_2014").probes(["SPK"]))


PROJ = {
    "L4E->L2/3E": {"rule": "fixed_total_number", "N_syn": 5000, "weight": 175.6, "weight_rel_sd": 0.1,
                   "delay_ms": 1.5, "delay_sd_ms": 0.75},
    "L2/3E->L2/3I": {"rule": "pairwise_bernoulli", "p": 0.2, "weight": 87.8, "delay_ms": 1.5, "delay_sd_ms": 0.75},
    "L4I->L4E": {"rule": "fixed_indegree", "K": 12, "weight": -351.2, "delay_ms": 0.75, "delay_sd_ms": 0.375},
}


def test_population_pair_rules_realise_their_counts():
    m = jaxfne.construct(_pd_like(PROJ))
    t, syn = m.table, m.synapses
    pre, post = t.population[syn.pre], t.population[syn.post]
    size = {p: int(np.sum(t.population == p)) for p in t.populations}
    pairs = {(a, b) for a, b in zip(pre, post)}
    assert pairs == {("V1:L4E", "V1:L2/3E"), ("V1:L2/3E", "V1:L2/3I"), ("V1:L4I", "V1:L4E")}
    fixed = (pre == "V1:L4E") & (post == "V1:L2/3E")
    assert fixed.sum() == 5000
    bern = (pre == "V1:L2/3E") & (post == "V1:L2/3I")
    n_pairs = size["V1:L2/3E"] * size["V1:L2/3I"]
    assert abs(bern.sum() - 0.2 * n_pairs) < 4 * np.sqrt(n_pairs * 0.2 * 0.8)
    assert len(set(zip(syn.pre[bern], syn.post[bern]))) == bern.sum()  # no multapses
    indeg = (pre == "V1:L4I") & (post == "V1:L4E")
    counts = np.bincount(syn.post[indeg], minlength=t.n)[t.population == "V1:L4E"]
    assert np.all(counts == 12)
    assert np.all(syn.weight[fixed | bern] > 0) and np.all(syn.weight[indeg] < 0)
    assert abs(syn.weight[fixed].mean() / 175.6 - 1) < 0.01
    assert abs(syn.weight[fixed].std() / 17.56 - 1) < 0.05
    assert syn.delay_ms.min() >= 0.05 and np.all(syn.delay_steps(0.1) >= 1)  # redrawn below dt/2 (PD14)
    assert abs(syn.delay_ms[indeg].mean() - 0.75) < 0.05


def test_gain_is_a_leaf_that_scales_its_projection_exactly():
    """gain[L4E, L2/3E] = 2 runs the same network as doubling that projection's weights."""
    proj2 = {**PROJ, "L4E->L2/3E": {**PROJ["L4E->L2/3E"], "weight": 351.2}}
    drive = {"rate_hz": 8.0, "n_inputs": 950, "weight": 87.8}
    with jax.enable_x64(True):
        base = _pd_like(PROJ).runtime(dtype="float64").stimulus("poisson", **drive)
        doubled = _pd_like(proj2).runtime(dtype="float64").stimulus("poisson", **drive)
        m, m2 = jaxfne.construct(base), jaxfne.construct(doubled)
        pops = list(m.table.populations)
        gain = np.ones((len(pops), len(pops)))
        gain[pops.index("V1:L4E"), pops.index("V1:L2/3E")] = 2.0
        a = jaxfne.simulate(m.with_params(gain=gain), seed=1)
        b = jaxfne.simulate(m2, seed=1)
        assert np.asarray(a.spikes).sum() > 20
        np.testing.assert_array_equal(np.asarray(a.spikes), np.asarray(b.spikes))
        # and a batch of gains is one vmapped call
        params = jax.tree_util.tree_map(lambda x: np.broadcast_to(np.asarray(x), (2,) + np.shape(x)).copy(), m.params)
        params["gain"] = np.stack([np.ones_like(gain), gain])
        batch = jaxfne.simulate(m, seed=[1, 1], params=params, params_batched=True)
        np.testing.assert_array_equal(np.asarray(batch.spikes)[1], np.asarray(b.spikes))
        np.testing.assert_array_equal(np.asarray(batch.spikes)[0], np.asarray(jaxfne.simulate(m, seed=1).spikes))


@pytest.mark.parametrize("key", ["L4X->L4E", "L9E->L4E", "E->L4E"])
def test_unknown_projection_population_is_an_error(key):
    bad = {key: {"rule": "pairwise_bernoulli", "p": 0.1, "weight": 10.0}}
    with pytest.raises(ConfigurationError, match=f"connectivity.projections.{key}") as exc:
        jaxfne.construct(_pd_like(bad))
    assert "L2/3E" in str(exc.value)


@pytest.mark.parametrize("key", ["E->e", "L4E->L4X", "L9E->L4E"])
def test_unknown_pair_key_of_p_is_an_error_not_a_default(key):
    cfg = (jaxfne.configuration().column("V1", layers=["L2/3", "L4"], n=50).cell_types({"E": 0.8, "I": 0.2})
           .connectivity(p={key: 1.0}).set_emitter("izhikevich", "RS"))
    with pytest.raises(ConfigurationError, match=f"connectivity.p.{key}"):
        jaxfne.construct(cfg)


@pytest.mark.parametrize("entry,field", [
    ({"rule": "fixed_indegree", "weight": 1.0}, "K"),
    ({"rule": "fixed_total_number", "N_syn": 10, "p": 0.1, "weight": 1.0}, "p"),
    ({"rule": "pairwise_bernoulli", "p": 1.5, "weight": 1.0}, "p"),
    ({"rule": "pairwise_bernoulli", "p": 0.1, "weight": -1.0}, "weight"),
    ({"rule": "pairwise_bernoulli", "p": 0.1}, "weight"),
    ({"rule": "all_to_all", "weight": 1.0}, "rule"),
])
def test_bad_projection_entries_name_their_field(entry, field):
    with pytest.raises(ConfigurationError, match=f"connectivity.projections.L4E->L4E.{field}"):
        jaxfne.configuration().connectivity(projections={"L4E->L4E": entry})


def test_sparse_rule_never_draws_a_number_per_pair():
    """20,000 neurons at p = 0.01: one uniform per E->E pair alone would take 2 GB (16,000^2 float64)."""
    import tracemalloc

    cfg = (jaxfne.configuration().column("V1", layers=["L2/3"], n=20000).cell_types({"E": 0.8, "I": 0.2})
           .connectivity(p=0.01).set_emitter("iaf_psc_exp", "nest_default").probes(["SPK"]))
    tracemalloc.start()
    try:
        m = jaxfne.construct(cfg)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    n_pairs = 20000 * 20000 - 20000  # no autapses
    assert abs(m.synapses.count - 0.01 * n_pairs) < 4 * np.sqrt(n_pairs * 0.01 * 0.99)
    assert peak < 2**30


def _two_drive_column(modes=("SPK", "Vm", "I_syn"), depths=(None, None), weights=(87.8, 87.8),
                      stop_ms=float("inf")):
    """60 iaf_psc_exp neurons in L2/3 and L4, each layer driven by a Poisson drive of its own."""
    cfg = (jaxfne.configuration().runtime(seed=0, dtype="float64", dt_ms=0.1, duration_ms=80.0)
           .column("C", layers=["L2/3", "L4"], n=60).cell_types({"E": 0.8, "I": 0.2})
           .connectivity(projections={"L4E->L2/3E": {"p": 0.2, "weight": 300.0},
                                      "L2/3E->L2/3I": {"p": 0.2, "weight": 300.0},
                                      "L2/3I->L2/3E": {"p": 0.2, "weight": -600.0}}, propagation="event")
           .set_emitter("iaf_psc_exp", "potjans_diesmann_2014"))
    for layer, rate, depth, weight in zip(("L2/3", "L4"), (8.0, 9.0), depths, weights):
        cfg = cfg.stimulus("poisson", {"layer": layer}, rate_hz=rate, n_inputs=2000, weight=weight,
                           synapse_depth_um=depth, stop_ms=stop_ms)
    return cfg.probes(list(modes))


def _assert_same_dynamics_and_drive_gradients(first, second):
    """Two seeds of both models: the same spikes, V_m and I_syn (exactly), and the same gradient of
    the mean V_m in the drives' weights (positive)."""
    a, b = jaxfne.simulate(first, seed=[1, 2]), jaxfne.simulate(second, seed=[1, 2])
    assert np.asarray(a.spikes).sum() > 50
    for key in ("spikes", "V_m", "I_syn"):
        np.testing.assert_array_equal(np.asarray(getattr(a, key)), np.asarray(getattr(b, key)), err_msg=key)
    grads = []
    for m in (first, second):
        f = m.simulate_fn(40.0, 0.1, surrogate="one_sided")
        grads.append(jax.grad(lambda w, m=m, f=f: jnp.mean(f({**m.params, "poisson_weight": w}, 3).V_m))(
            m.params["poisson_weight"]))
    np.testing.assert_allclose(np.asarray(grads[0]), np.asarray(grads[1]), rtol=1e-12)
    assert np.all(np.asarray(grads[0]) > 0)


def test_drives_with_disjoint_targets_share_a_current_row():
    """Drives onto disjoint populations share one row of I_p unless a field probe must place them
    apart: the dynamics are the same either way (float64, exactly), and the drives' gradients too."""
    from jaxfne.engine.drive_rows import assign_rows

    with jax.enable_x64(True):
        depths = ("L2/3", "L4")
        merged = jaxfne.construct(_two_drive_column(depths=depths))
        apart = jaxfne.construct(_two_drive_column(["SPK", "Vm", "I_syn", "CSD-proxy"], depths=depths))
        assert merged.static.drive_rows == (0, 0) and apart.static.drive_rows == (0, 1)
        _assert_same_dynamics_and_drive_gradients(merged, apart)
    masks = [np.array([1, 1, 0, 0], bool), np.array([0, 0, 1, 0], bool), np.array([0, 1, 0, 1], bool)]
    assert assign_rows(masks, [None, None, None]) == (0, 0, 1)
    assert assign_rows(masks, ["a", "b", "b"]) == (0, 1, 1)
    assert assign_rows(masks, ["a", "b", "a"]) == (0, 1, 2)


def test_drives_always_on_take_their_weights_once_per_chunk():
    """Poisson drives on for the whole run multiply each neuron's count by a weight gathered once per
    chunk; a window that closes after the run keeps the per-step gather of the on-windows. The same
    dynamics (float64, exactly) and the same gradient in the drives' weights."""
    from jaxfne.engine.prepare import prepare

    with jax.enable_x64(True):
        always = jaxfne.construct(_two_drive_column(weights=(87.8, 80.0)))
        windowed = jaxfne.construct(_two_drive_column(weights=(87.8, 80.0), stop_ms=1000.0))
        flags = [prepare(m, 0.1)[0].drive for m in (always, windowed)]
        assert [f.poisson_disjoint for f in flags] == [True, True]
        assert [f.poisson_always_on for f in flags] == [True, False]
        _assert_same_dynamics_and_drive_gradients(always, windowed)
