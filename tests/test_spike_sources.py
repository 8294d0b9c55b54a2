"""Spike-source populations (``stimulus("spike_sources", ...)``): Poisson trains shared among targets.

What is checked against something we did not write: the delivered current equals the exponential
synapse filter of the documented spike counts (a numpy computation from the counts and the drawn
table), and NEST replays the thalamic volley of the Potjans & Diesmann column spike for spike
(``tests/test_crosscheck_pd14.py``, crosscheck marker). Here: kernels agree, gradients reach the
rate and the weights and match finite differences, the fields and metabolic counts see the
sources, the preset's thalamus has the reference's numbers, and bad input is named.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne
from jaxfne.errors import ConfigurationError
from jaxfne.presets import potjans_diesmann as pd


def _column(n=30, layers=("L2/3", "L4"), **stim):
    spec = {"n_sources": 40, "rate_hz": 150.0, "projections": {
        "L4E": {"rule": "pairwise_bernoulli", "p": 1.0, "weight": 87.8, "weight_rel_sd": 0.0, "delay_ms": 1.5}}}
    spec.update(stim)
    return (jaxfne.configuration().runtime(seed=0, dt_ms=0.1, duration_ms=60.0, dtype="float64")
            .column("C", layers=list(layers), n=n).cell_types({"E": 1.0}).connectivity(recurrent=False)
            .set_emitter("iaf_psc_exp", "potjans_diesmann_2014")
            .stimulus("spike_sources", **spec).probes(["SPK", "Vm", "I_syn"]))


def _filtered(counts, syn, n, dt, tau):
    """I[k, i] after step k: sum over synapses of w c_j(k') exp(-(k - k' - d) dt / tau) for k' + d <= k
    (an arrival read at the start of step k' + d jumps the current, then it decays per step)."""
    steps = counts.shape[0]
    d = syn.delay_steps(dt)
    arr = np.zeros((steps, n))
    for e in range(syn.count):
        c = counts[:, syn.pre[e]]
        at = np.arange(steps) + d[e]
        ok = at < steps
        np.add.at(arr, (at[ok], np.full(ok.sum(), syn.post[e])), syn.weight[e] * c[ok])
    out = np.zeros_like(arr)
    acc = np.zeros(n)
    for k in range(steps):
        acc = acc * math.exp(-dt / tau) + arr[k]
        out[k] = acc
    return out


def test_current_is_the_filtered_shared_spike_trains():
    """Every L4E neuron gets all 40 sources (p = 1, equal weights): identical currents, equal to the
    exponential filter of the drawn counts; the L2/3 neurons get none."""
    with jax.enable_x64(True):
        m = jaxfne.construct(_column())
        sig = jaxfne.simulate(m, seed=5)
        (counts,) = jaxfne.sources.spike_counts(m, seed=5)
    isyn = np.asarray(sig.I_syn)
    l4 = m.table.layer == "L4"
    syn = m.sources[0].synapses
    assert syn.count == 40 * int(l4.sum()) and counts.sum() > 200
    expect = _filtered(counts, syn, m.n, 0.1, 0.5)
    np.testing.assert_allclose(isyn, expect, rtol=1e-10, atol=1e-9)
    assert np.all(isyn[:, l4] == isyn[:, l4][:, :1]) and np.all(isyn[:, ~l4] == 0)


def test_sources_are_shared_where_a_poisson_drive_is_private():
    """Two neurons with the same sources get the same current; a Poisson drive of the same mean does not."""
    with jax.enable_x64(True):
        shared = jaxfne.simulate(jaxfne.construct(_column()), seed=1).I_syn
        private = (jaxfne.configuration().runtime(seed=0, dt_ms=0.1, duration_ms=60.0, dtype="float64")
                   .column("C", layers=["L4"], n=10).cell_types({"E": 1.0}).connectivity(recurrent=False)
                   .set_emitter("iaf_psc_exp", "potjans_diesmann_2014")
                   .stimulus("poisson", rate_hz=150.0, n_inputs=40, weight=87.8).probes(["SPK", "I_syn"]))
        private = jaxfne.simulate(jaxfne.construct(private), seed=1).I_syn
    a, b = np.asarray(shared)[:, -2:].T
    assert np.array_equal(a, b) and a.std() > 0
    p, q = np.asarray(private)[:, :2].T
    assert abs(np.corrcoef(p, q)[0, 1]) < 0.3


def test_counts_are_poisson_of_the_rate_inside_the_window():
    with jax.enable_x64(True):
        m = jaxfne.construct(_column(n_sources=400, rate_hz=100.0, start_ms=10.0, stop_ms=50.0))
        (counts,) = jaxfne.sources.spike_counts(m, 200.0, 0.1, seed=2)
    assert counts[:100].sum() == 0 and counts[500:].sum() == 0
    inside = counts[100:500]
    mean = 400 * 400 * 100.0 * 1e-4  # sources x steps x rate dt
    assert abs(inside.sum() - mean) < 4 * math.sqrt(mean)
    assert inside.var() == pytest.approx(inside.mean(), rel=0.1)  # Poisson: variance = mean


@pytest.fixture(scope="module")
def microcircuit_cfg():
    return (pd.potjans_diesmann_2014(scale=0.02, k_scale=0.05).runtime(duration_ms=150.0)
            .stimulus("spike_sources", n_sources=200, rate_hz=120.0, start_ms=50.0, stop_ms=60.0, projections={
                "L4E": {"rule": "fixed_total_number", "N_syn": 5000, "weight": 200.0, "delay_ms": 1.5, "delay_sd_ms": 0.75},
                "L6E": {"rule": "fixed_indegree", "K": 8, "weight": 200.0, "delay_ms": 1.5, "delay_sd_ms": 0.75}}))


def test_kernels_agree_and_the_network_is_unchanged(microcircuit_cfg):
    """Event and batched kernels, seeds vmapped: the same spikes; the recurrent synapses drawn before
    the sources are those of the column without them; the volley evokes L4 spikes."""
    plain = jaxfne.construct(pd.potjans_diesmann_2014(scale=0.02, k_scale=0.05))
    out = {}
    for kind in ("event", "batched"):
        m = jaxfne.construct(microcircuit_cfg.connectivity(propagation=kind))
        assert m.static.source_kind == kind
        out[kind] = np.asarray(jaxfne.simulate(m, seed=[3, 4]).spikes)
    np.testing.assert_array_equal(plain.synapses.post, m.synapses.post)
    np.testing.assert_array_equal(plain.synapses.weight, m.synapses.weight)
    np.testing.assert_array_equal(out["event"], out["batched"])
    l4 = m.table.layer == "L4"
    before, during = out["event"][:, 300:500, l4].sum(), out["event"][:, 500:700, l4].sum()
    assert during > 2 * before
    th = m.sources[0].synapses
    assert m.resolved["source_synapses"] == [th.count]
    assert np.sum(np.isin(th.post, np.flatnonzero(m.table.population == "PD14:L4E"))) == 5000
    l6e = np.flatnonzero(m.table.population == "PD14:L6E")
    np.testing.assert_array_equal(np.bincount(th.post, minlength=m.n)[l6e], 8)


def test_dense_network_with_sources_matches_event():
    """A network small enough for the dense kernel keeps its sources on a table kernel: same spikes."""
    cfg = (jaxfne.configuration().runtime(seed=0, dt_ms=0.1, duration_ms=80.0, dtype="float64")
           .column("C", layers=["L4"], n=60).cell_types({"E": 0.8, "I": 0.2})
           .connectivity(projections={"L4E->L4I": {"p": 0.3, "weight": 87.8}, "L4I->L4E": {"p": 0.3, "weight": -300.0}})
           .set_emitter("iaf_psc_exp", "potjans_diesmann_2014")
           .stimulus("spike_sources", n_sources=50, rate_hz=200.0, projections={
               "L4E": {"rule": "fixed_indegree", "K": 30, "weight": 150.0, "delay_ms": 1.0, "delay_sd_ms": 0.5}}))
    with jax.enable_x64(True):
        runs = {k: jaxfne.construct(cfg.connectivity(propagation=k)) for k in ("dense", "event")}
        spikes = {k: np.asarray(jaxfne.simulate(m, seed=7).spikes) for k, m in runs.items()}
    assert runs["dense"].propagation == "dense" and runs["dense"].static.source_kind == "event"
    assert spikes["dense"].sum() > 20
    np.testing.assert_array_equal(spikes["dense"], spikes["event"])


def _subthreshold():
    """Subthreshold iaf neurons fed by shared sources: V_m is linear in the counts and the weights."""
    return (jaxfne.configuration().runtime(seed=0, dtype="float64", dt_ms=0.1, duration_ms=100.0)
            .column("C", layers=["L4"], n=30).cell_types({"E": 1.0}).connectivity(recurrent=False)
            .set_emitter("iaf_psc_exp", "potjans_diesmann_2014")
            .stimulus("spike_sources", n_sources=100, rate_hz=15.0, projections={
                "L4E": {"rule": "fixed_indegree", "K": 40, "weight": 87.8, "delay_ms": 1.5, "delay_sd_ms": 0.75}})
            .probes(["SPK", "Vm"]))


def test_rate_gradient_matches_finite_differences():
    """The pathwise gradient of the seed-mean V_m in the sources' rate is the slope of the mean V_m
    (10 -> 20 Hz), through the transposed delivery of the source table; reached by the fit path."""
    from jaxfne.fitting.paths import resolve

    with jax.enable_x64(True):
        m = jaxfne.construct(_subthreshold())
        f = m.simulate_fn(100.0, 0.1)
        spec = jaxfne.readout_spec("v", "mean_V_m", t_start_ms=20.0)
        seeds = jnp.arange(16, dtype=jnp.uint32)
        path = resolve(m, "source_rate_hz/0")

        def mean_v(rate):
            def run(s):
                return m.compute_readout(f(path.put(m.params, rate), s), [spec]).results["v"]

            return jnp.mean(jax.vmap(run)(seeds))

        high = path.put(m.params, jnp.asarray(20.0))
        assert all(int(np.asarray(f(high, s).spikes).sum()) == 0 for s in range(16))
        g = float(jax.grad(mean_v)(jnp.asarray(15.0)))
        slope = (float(mean_v(jnp.asarray(20.0))) - float(mean_v(jnp.asarray(10.0)))) / 10.0
    assert slope > 0.01
    assert g == pytest.approx(slope, rel=0.05)


@pytest.mark.parametrize("surrogate", ["fast_sigmoid", "one_sided"])
def test_weight_gradients_are_exact_and_kernel_independent(surrogate):
    """V_m is linear in the source weights: the gradient of mean V_m in the table's weights equals a
    central difference along a random direction, for both table kernels (the same numbers)."""
    with jax.enable_x64(True):
        grads = {}
        for kind in ("event", "batched"):
            m = jaxfne.construct(_subthreshold().connectivity(propagation=kind))
            f = m.simulate_fn(60.0, 0.1, surrogate=surrogate)

            def v(w, m=m, f=f):
                return jnp.mean(f({**m.params, "source_weights": (w,)}, 3).V_m[100:])

            w0 = m.params["source_weights"][0]
            grads[kind] = np.asarray(jax.grad(v)(w0))
        direction = np.random.default_rng(0).standard_normal(w0.shape)
        fd = (float(v(w0 + 1e-3 * direction)) - float(v(w0 - 1e-3 * direction))) / 2e-3
    assert np.abs(grads["event"]).sum() > 0
    assert float(grads["event"] @ direction) == pytest.approx(fd, rel=1e-6)
    np.testing.assert_allclose(grads["batched"], grads["event"], rtol=1e-9, atol=1e-15)


def test_fields_and_metabolic_counts_see_the_sources():
    """An afferent at 100-200 µm: the source density there is a sink (< 0) and the profile integrates
    to zero; the metabolic proxy counts every delivered event (count x out-degree)."""
    cfg = _column(synapse_depth_um=[100.0, 200.0]).probes(["SPK", "source-proxy", "EMM-proxy"], bin_width_um=50.0)
    base = _column().probes(["SPK", "EMM-proxy"])
    with jax.enable_x64(True):
        m = jaxfne.construct(cfg)
        sig = jaxfne.simulate(m, seed=4)
        (counts,) = jaxfne.sources.spike_counts(m, seed=4)
        quiet = base.stimulus("step", amplitude=0.0)  # same model, sources with zero rate
        mz = jaxfne.construct(quiet)
        zero = jaxfne.simulate(mz, params={**mz.params, "source_rate_hz": jnp.zeros(1)}, seed=4)
        full = jaxfne.simulate(mz, seed=4)
    src = np.asarray(sig.source)  # [time, bin]
    edges = np.asarray(m.geometry.bin_edges_um)
    mid = 0.5 * (edges[1:] + edges[:-1])
    inside = (mid > 100) & (mid < 200)
    active = np.abs(src).sum(axis=1) > 0
    assert active.sum() > 100
    assert np.all(src[active][:, inside] < 0)
    vol = np.asarray(m.geometry.bin_volume_m3)
    np.testing.assert_allclose((src * vol).sum(axis=1), 0.0, atol=1e-9 * np.abs(src * vol).max())
    assert int(np.asarray(sig.spikes).sum()) == 0
    outdeg = m.sources[0].synapses.out_degree()
    events = float((counts * outdeg).sum())
    assert events > 1000
    # EMM is affine in the event counts: the difference to the run without source spikes is the events' share
    from jaxfne.probes.metabolic import atp_rate

    per_event = float(atp_rate(np.zeros(1), np.ones(1), np.zeros(1), m.n, 0.1)[0]
                      - atp_rate(np.zeros(1), np.zeros(1), np.zeros(1), m.n, 0.1)[0])
    emm_diff = (np.asarray(full.EMM) - np.asarray(zero.EMM)).sum()
    assert emm_diff == pytest.approx(per_event * events, rel=1e-9)


def test_preset_thalamus_has_the_reference_numbers():
    """902 sources, 120 Hz in [701, 711) ms (the generator's 1 ms connection delay), synapse numbers of
    the reference's num_synapses_from_conn_probs on the full-scale populations times k_scale, PSC of
    0.15 mV / sqrt(k_scale)."""
    full = pd.potjans_diesmann_2014(thalamus=True).stimuli[-1]
    assert (full["kind"], full["n_sources"], full["rate_hz"], full["start_ms"], full["stop_ms"]) == \
        ("spike_sources", 902, 120.0, 701.0, 711.0)
    prod = 902.0 * pd.FULL_NUM_NEURONS
    ref = np.round(np.log(1 - pd.CONN_PROBS_TH) / np.log((prod - 1) / prod)).astype(int)
    got = {k: v["N_syn"] for k, v in full["projections"].items()}
    assert got == {pop: int(k) for pop, k in zip(pd.POPULATIONS, ref) if k}
    assert got == {"L4E": 2045393, "L4I": 315791, "L6E": 682419, "L6I": 52636}
    ratio = pd.psc_over_psp(250.0, 10.0, 0.5)
    assert full["projections"]["L4E"]["weight"] == pytest.approx(0.15 * ratio)
    assert full["projections"]["L4E"]["delay_sd_ms"] == pytest.approx(0.75)
    tenth = pd.potjans_diesmann_2014(scale=0.1, k_scale=0.1, thalamus=True, th_start_ms=300.0).stimuli[-1]
    assert tenth["projections"]["L4E"]["N_syn"] == round(np.log(1 - 0.0983) / np.log((prod[2] - 1) / prod[2]) * 0.1)
    assert tenth["projections"]["L4E"]["weight"] == pytest.approx(0.15 * ratio / math.sqrt(0.1))
    assert tenth["start_ms"] == 301.0
    assert pd.potjans_diesmann_2014(thalamus=False).stimuli[-1]["kind"] == "poisson"


def test_bad_input_is_named():
    C = jaxfne.Configuration
    proj = {"L4E": {"rule": "fixed_indegree", "K": 5, "weight": 10.0}}
    cases = [
        (lambda: C().stimulus("spike_sources"), "stimulus[spike_sources].projections", "non-empty mapping"),
        (lambda: C().stimulus("spike_sources", {"layer": "L4"}, projections=proj), "stimulus[spike_sources].target",
         "projections name"),
        (lambda: C().stimulus("spike_sources", n_sources=0, projections=proj), "stimulus[spike_sources].n_sources", ">= 1"),
        (lambda: C().stimulus("spike_sources", projections={"A->B": proj["L4E"]}),
         "stimulus[spike_sources].projections.A->B", "target population name"),
        (lambda: C().stimulus("spike_sources", projections={"L4E": {"rule": "fixed_indegree", "K": 5, "weight": -1.0}}),
         "stimulus[spike_sources].projections.L4E.weight", "sign of the presynaptic type 'E'"),
        (lambda: C().stimulus("spike_sources", projections={"L4E": {"rule": "fixed_indegree", "p": 0.1, "weight": 1.0}}),
         "stimulus[spike_sources].projections.L4E.p", "nothing with rule='fixed_indegree'"),
        (lambda: C().stimulus("spike_sources", projections=proj, rate_hz=-1.0), "stimulus[spike_sources].rate_hz", ">= 0"),
        (lambda: C().stimulus("spike_sources", projections=proj, n_inputs=3), "stimulus[spike_sources].n_inputs",
         "known keys"),
        (lambda: pd.potjans_diesmann_2014(thalamus="yes"), "thalamus", "True or False"),
        (lambda: pd.potjans_diesmann_2014(th_num_neurons=0), "th_num_neurons", ">= 1"),
    ]
    for make, field, allowed in cases:
        with pytest.raises(ConfigurationError) as exc:
            make()
        assert exc.value.field == field, (field, exc.value)
        assert allowed in str(exc.value), (allowed, str(exc.value))
    with pytest.raises(ConfigurationError) as exc:
        jaxfne.construct(_column(projections={"L9E": proj["L4E"]}))
    assert exc.value.field == "stimuli[0].projections.L9E" and "C:L4E" in str(exc.value)
    with pytest.raises(ConfigurationError) as exc:  # refused with the estimate before anything is drawn
        jaxfne.construct(_column(projections={"L4E": {"rule": "fixed_total_number", "N_syn": 10**14, "weight": 1.0}}))
    assert exc.value.field == "stimuli[0].projections.L4E" and "GiB" in str(exc.value)
    with pytest.raises(ConfigurationError) as exc:
        jaxfne.construct(_column(synapse_depth_um="L9"))
    assert exc.value.field == "stimuli[0].synapse_depth_um"


def test_configuration_round_trips_and_draws_the_same_sources():
    cfg = _column(n_sources=25)
    again = jaxfne.Configuration.from_yaml(cfg.to_yaml())
    assert again == cfg and again.sha256 == cfg.sha256
    assert jaxfne.Configuration.from_dict(cfg.to_dict()) == cfg
    with jax.enable_x64(True):
        a, b = jaxfne.construct(cfg).sources[0].synapses, jaxfne.construct(again).sources[0].synapses
    for name in ("pre", "post", "weight", "delay_ms"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
