"""The Potjans & Diesmann (2014) microcircuit factory: its numbers, its network, its activity.

Numbers: every derived quantity (neurons, fixed total numbers, weights, delays, K_ext, DC
compensation of scaled in-degrees) equals an independent reimplementation of the reference code
(``tests/reference/nest_pd14.reference_parameters``). Network: per-projection synapse counts equal
the fixed totals exactly; in-degrees are those of fixed_total_number with multapses; weights keep
their sign with relative SD 0.1; delays are the reference's truncated normal, at least one step.
Activity: at 10 % scale the eight population rates lie within 10 % of NEST 3 running the reference
code on the same configuration (``tests/golden/pd14_nest_rates.json``, three seeds), and the ISI
CVs near NEST's (a mean over 4 instances lay within 1.7 % of NEST's rates in every population).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import jaxfne
from jaxfne.errors import ConfigurationError
from jaxfne.presets import potjans_diesmann as PD
from tests.reference.nest_pd14 import population_cv_isi, population_rates, reference_parameters

NEST_10 = json.loads((Path(__file__).parent / "golden" / "pd14_nest_rates.json").read_text())


def _projection(cfg, pre, post):
    return cfg.connectivity_spec["projections"].get(f"{pre}->{post}")


@pytest.mark.parametrize("scale,k_scale,drive", [(1.0, 1.0, "poisson"), (1.0, 1.0, "dc"), (0.1, 0.1, "poisson"),
                                                 (0.1, 0.1, "dc"), (0.5, 0.25, "poisson")])
def test_factory_numbers_equal_the_reference(scale, k_scale, drive):
    cfg = jaxfne.presets.potjans_diesmann_2014(scale=scale, k_scale=k_scale, drive=drive)
    ref = reference_parameters(scale, k_scale, drive)
    col = cfg.columns[0]
    assert [col["population_sizes"][p] for p in PD.POPULATIONS] == ref["n_per_pop"].tolist()
    assert col["n"] == int(ref["n_per_pop"].sum())
    for i, post in enumerate(PD.POPULATIONS):
        for j, pre in enumerate(PD.POPULATIONS):
            pj = _projection(cfg, pre, post)
            if ref["num_synapses"][i, j] == 0:
                assert pj is None
                continue
            assert pj["rule"] == "fixed_total_number" and pj["N_syn"] == ref["num_synapses"][i, j]
            assert math.isclose(pj["weight"], ref["weight_mean_pA"][i, j], rel_tol=1e-12)
            assert pj["weight_rel_sd"] == ref["weight_rel_sd"]
            assert pj["delay_ms"] == ref["delay_mean_ms"][i, j]
            assert math.isclose(pj["delay_sd_ms"], ref["delay_mean_ms"][i, j] * ref["delay_rel_sd"])
    em = cfg.emitter_spec
    for i, pop in enumerate(PD.POPULATIONS):
        pp = em["per_population"][pop]
        assert math.isclose(pp["I_e"], ref["dc_pA"][i], rel_tol=1e-12, abs_tol=1e-9)
        assert pp["V_m0"] == {"mean": ref["V0_mean_mV"][i], "sd": ref["V0_sd_mV"][i]}
    poisson = [s for s in cfg.stimuli if s["kind"] == "poisson"]
    if drive == "dc":
        assert poisson == []
    else:
        assert [s["n_inputs"] for s in poisson] == ref["ext_indegree"].tolist()
        assert all(math.isclose(s["weight"], ref["weight_ext_pA"], rel_tol=1e-12) and s["rate_hz"] == 8.0
                   for s in poisson)
    for k, v in ref["neuron"].items():
        assert em["params"][k] == v


def test_full_scale_counts_are_the_published_ones():
    cfg = jaxfne.presets.potjans_diesmann_2014()
    assert cfg.columns[0]["n"] == 77169
    total = sum(p["N_syn"] for p in cfg.connectivity_spec["projections"].values())
    assert round(total / 1e6) == 299  # "2.99e8 synapses" (REFERENCES.md), about 3e8
    psc = _projection(cfg, "L2/3E", "L2/3E")["weight"]
    assert abs(psc - 87.8) < 0.05  # PSP 0.15 mV -> 87.8 pA
    assert math.isclose(_projection(cfg, "L4E", "L2/3E")["weight"], 2 * psc)
    assert math.isclose(_projection(cfg, "L2/3I", "L2/3E")["weight"], -4 * psc)


@pytest.mark.parametrize("kwargs,field", [
    ({"scale": 0.0}, "scale"), ({"scale": 1.5}, "scale"), ({"k_scale": -0.1}, "k_scale"),
    ({"k_scale": 2.0}, "k_scale"), ({"drive": "noise"}, "drive"), ({"thalamus": "yes"}, "thalamus"),
    ({"K_ext": {"L7E": 100}}, "K_ext.L7E"), ({"num_neurons": {"L4": 10}}, "num_neurons.L4"),
    ({"tau_m": -1.0}, "tau_m"), ({"psp_mV": 0.2}, "psp_mV"), ({"V0": "random"}, "V0"),
    ({"scale": 1e-4}, "scale"),
])
def test_bad_arguments_are_named(kwargs, field):
    with pytest.raises(ConfigurationError) as err:
        jaxfne.presets.potjans_diesmann_2014(**kwargs)
    assert err.value.field == field


def test_overrides_change_the_numbers():
    cfg = jaxfne.presets.potjans_diesmann_2014(scale=0.1, k_scale=0.1, K_ext={"L4E": 3000}, g=-5.0)
    l4e = [s for s in cfg.stimuli if s["target"] == {"layer": "L4", "cell_type": "E"}][0]
    assert l4e["n_inputs"] == 300
    assert math.isclose(_projection(cfg, "L4I", "L4E")["weight"], -5 * _projection(cfg, "L4E", "L4E")["weight"])


def test_unknown_population_in_per_population_parameters_is_named():
    cfg = jaxfne.presets.potjans_diesmann_2014(scale=0.01, k_scale=0.05)
    pp = dict(cfg.emitter_spec["per_population"])
    pp["L3E"] = {"I_e": 10.0}
    em = cfg.emitter_spec
    bad = cfg.set_emitter(em["family"], em["preset"], drive=em["drive"], params=em["params"], per_population=pp)
    with pytest.raises(ConfigurationError) as err:
        jaxfne.construct(bad)
    assert err.value.field == "emitter.per_population.L3E"


@pytest.fixture(scope="module")
def model10():
    return jaxfne.construct(jaxfne.presets.potjans_diesmann_2014(scale=0.1, k_scale=0.1).runtime(duration_ms=2500.0))


def test_network_is_the_specified_one(model10):
    m = model10
    cfg = m.cfg
    t, syn = m.table, m.synapses
    assert syn.weight.dtype == np.float32 and syn.post.dtype == np.int32
    pop_of = t.pop_index
    names = [p.split(":", 1)[1] for p in t.populations]
    size = np.bincount(pop_of)
    pair = pop_of[syn.pre].astype(np.int64) * 8 + pop_of[syn.post]
    counts = np.bincount(pair, minlength=64).reshape(8, 8)  # [pre, post]
    for a, pre in enumerate(names):
        for b, post in enumerate(names):
            pj = _projection(cfg, pre, post)
            assert counts[a, b] == (pj["N_syn"] if pj else 0), (pre, post)
    # in-degrees of fixed_total_number with multapses: multinomial over the targets
    sel = pair == 0 * 8 + 0  # L2/3E -> L2/3E
    indeg = np.bincount(syn.post[sel], minlength=t.n)[pop_of == 0]
    n_syn = counts[0, 0]
    assert abs(indeg.mean() - n_syn / size[0]) < 1e-9
    assert abs(indeg.var() / (n_syn / size[0] * (1 - 1 / size[0])) - 1) < 0.1
    # weights: normal with relative SD 0.1, sign kept
    for (a, b) in ((0, 0), (1, 0), (2, 0), (5, 4)):
        w = syn.weight[pair == a * 8 + b].astype(float)
        mean = _projection(cfg, names[a], names[b])["weight"]
        assert np.all(np.sign(w) == np.sign(mean))
        assert abs(w.mean() / mean - 1) < 0.01 and abs(w.std() / abs(mean) / 0.1 - 1) < 0.05
    # delays: normal (1.5 / 0.75 ms, relative SD 0.5) redrawn below dt/2, at least one step
    for (a, b), mu in (((0, 0), 1.5), ((1, 0), 0.75)):
        d = syn.delay_ms[pair == a * 8 + b].astype(float)
        tn = stats.truncnorm((0.05 - mu) / (0.5 * mu), np.inf, loc=mu, scale=0.5 * mu)
        assert d.min() >= 0.05 and abs(d.mean() - tn.mean()) < 0.01 and abs(d.std() / tn.std() - 1) < 0.02
    assert syn.delay_steps(0.1).min() == 1


def test_table_is_held_once():
    """On the CPU the kernel's device arrays are the host table's memory (no second copy), the host
    views are read-only, and the presynaptic indices are the rows' offsets, derived when read."""
    import jax

    m = jaxfne.construct(jaxfne.presets.potjans_diesmann_2014(scale=0.02, k_scale=0.1))
    syn = m.synapses
    assert "pre" not in vars(syn)  # not held until read
    if jax.default_backend() == "cpu":
        assert m.structure["targets"].unsafe_buffer_pointer() == syn.post.ctypes.data
        assert m.params["weights"].unsafe_buffer_pointer() == syn.weight.ctypes.data
    assert not syn.post.flags.writeable and not syn.weight.flags.writeable
    np.testing.assert_array_equal(np.asarray(m.structure["targets"])[:syn.count], syn.post)
    np.testing.assert_array_equal(np.asarray(m.structure["targets"])[syn.count:], m.n)  # the padding
    np.testing.assert_array_equal(syn.pre, np.repeat(np.arange(m.n), np.diff(syn.row_start)))
    assert syn.pre.dtype == np.int32
    with pytest.raises(AttributeError):
        syn.n = 1


def test_initial_potentials_are_the_optimized_ones(model10):
    v0 = np.asarray(model10.params["neuron"]["V_m0"])
    pop = model10.table.pop_index
    for i in range(8):
        v = v0[pop == i]
        assert abs(v.mean() - PD.V0_MEAN_MV[i]) < 4 * PD.V0_SD_MV[i] / math.sqrt(v.size)
        assert abs(v.std() / PD.V0_SD_MV[i] - 1) < 0.15


def test_ten_percent_rates_match_nest(model10):
    """2.5 s, the first 0.5 s discarded, against NEST's reference build at 10 % (three seeds, the same
    window). Tolerance 12 %: three times the spread of one instance's 2 s rates (L5E, the widest,
    3.8 % over four network instances, whose mean lay within 1.7 % of NEST's in every population)."""
    sig = jaxfne.simulate(model10, seed=0)
    ev = sig.spike_events
    sizes = np.bincount(model10.table.pop_index).tolist()
    t_ms = (ev.steps.astype(float) + 1) * 0.1  # NEST's stamp of a spike in step k: (k + 1) h
    rates = population_rates(ev.neurons, t_ms, sizes, *NEST_10["window_ms"])
    cvs = population_cv_isi(ev.neurons, t_ms, sizes, *NEST_10["window_ms"])
    nest = np.array(NEST_10["rates_hz"])
    np.testing.assert_allclose(rates, nest, rtol=0.12)
    # the full-scale reference: within 30 % except in layer 2/3, where NEST at 10 % is itself 47 % (E)
    # and 29 % (I) below it (0.47 vs 0.90 Hz, 2.11 vs 2.97 Hz)
    full = PD.FULL_MEAN_RATES_HZ
    assert np.all(np.abs(rates[2:] / full[2:] - 1) < 0.30)
    np.testing.assert_allclose(cvs, np.array(NEST_10["cv_isi"]), atol=0.15)


@pytest.mark.slow
def test_full_scale_rates_match_the_reference():
    """The full model (77,169 neurons, 2.99e8 synapses), one seed, 1 s: every population's rate over
    [0.5, 1) s within 10 % of the reference's (the issue's 3 seeds x 10 s form is conf/study/pd14_full
    on a GPU; at about 190 s per biological second on 2 CPU cores this one takes about 4 minutes)."""
    m = jaxfne.construct(jaxfne.presets.potjans_diesmann_2014().runtime(duration_ms=1000.0))
    assert m.n == 77169 and m.synapses.count == 298_880_968
    ev = jaxfne.simulate(m, seed=0).spike_events
    rates = population_rates(ev.neurons, (ev.steps + 1) * 0.1, np.bincount(m.table.pop_index).tolist(), 500.0, 1000.0)
    np.testing.assert_allclose(rates, PD.FULL_MEAN_RATES_HZ, rtol=0.10)
