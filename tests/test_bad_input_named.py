"""Bad input found by an adversarial pass: each is a ConfigurationError naming its field, before any work.

Typos that used to fall back to defaults, errors that came out as KeyError/TypeError/AttributeError,
messages that named no field, sizes that exhausted memory; and non-finite recorded signals.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import jaxfne
from jaxfne.errors import ConfigurationError, SimulationError

C = jaxfne.configuration


def base():
    return (C().column("V1", layers=["L2/3", "L4"], n=20).cell_types({"E": 0.8, "I": 0.2}).connectivity()
            .set_emitter("izhikevich", "RS"))


CASES = {
    "depths_um of a layer the column lacks": (
        lambda: C().column("V1", layers=["L2/3"], n=10, depths_um={"L9": [0, 100]}), "column.depths_um.L9"),
    "per_layer of a layer no column has": (
        lambda: jaxfne.construct(base().cell_types({"E": 0.8, "I": 0.2}, per_layer={"L9": {"E": 0.5, "I": 0.5}})),
        "cell_types.per_layer.L9"),
    "afferent depth of a missing layer, without field probes": (
        lambda: jaxfne.construct(base().stimulus("poisson", synapse_depth_um="L9")), "stimuli[0].synapse_depth_um"),
    "chunk_ms as a string": (
        lambda: jaxfne.simulate(jaxfne.construct(base()), duration_ms=10.0, chunk_ms="5"), "chunk_ms"),
    "chunk_ms nan": (
        lambda: jaxfne.simulate(jaxfne.construct(base()), duration_ms=10.0, chunk_ms=math.nan), "chunk_ms"),
    "a column name with the population separator": (lambda: C().column("a:b", layers=["L4"], n=5), "column.name"),
    "from_dict without n": (
        lambda: jaxfne.Configuration.from_dict({"columns": [{"name": "x", "layers": ["L4"]}]}), "columns[0].n"),
    "from_dict with an unknown key": (
        lambda: jaxfne.Configuration.from_dict({"columns": [{"name": "x", "layers": ["L4"], "n": 3, "foo": 1}]}),
        "columns[0].foo"),
    "Configuration(data) validates": (lambda: jaxfne.Configuration({"runtime": {"seed": -5}}), "runtime.seed"),
    "params as a list": (lambda: C().set_emitter("izhikevich", "RS", params=[1, 2]), "emitter.params"),
    "depths_um as a list": (lambda: C().column("V1", layers=["L4"], n=5, depths_um=[0, 100]), "column.depths_um"),
    "per_layer as a list": (lambda: C().cell_types({"E": 0.8, "I": 0.2}, per_layer=[1]), "cell_types.per_layer"),
    "per_type as a list": (lambda: C().set_emitter("izhikevich", "RS", per_type=["FS"]), "emitter.per_type"),
    "simulate with params of another structure": (
        lambda: jaxfne.simulate(jaxfne.construct(base()), duration_ms=10.0, params={}), "params"),
    "a partial tau_syn_ms map": (lambda: C().connectivity(tau_syn_ms={"E": 5.0}), "connectivity.tau_syn_ms"),
    "a partial delay_ms map": (lambda: C().connectivity(delay_ms={"E": 1.0}), "connectivity.delay_ms"),
    "a nan contact offset": (
        lambda: C().probes(["LFP-proxy"], contact_offset_um=[math.nan, 0]), "probes.contact_offset_um[0]"),
    "strings as coordinates": (
        lambda: C().probes(["EEG-proxy"], eeg_electrodes_um=[["a", 0, 0]]), "probes.eeg_electrodes_um[0][0]"),
    "an electrode inside the brain": (
        lambda: jaxfne.construct(base().probes(["EEG-proxy"], eeg_electrodes_um=[[0, 0, 0]])),
        "probes.eeg_electrodes_um"),
    "a first contact below the column": (
        lambda: jaxfne.construct(base().probes(["LFP-proxy"], first_contact_depth_um=1e6)),
        "probes.first_contact_depth_um"),
    "a duration that is no whole number of steps": (
        lambda: C().runtime(duration_ms=10.0, dt_ms=0.3), "runtime.duration_ms"),
    "delays whose ring buffer cannot fit": (
        lambda: jaxfne.construct(base().connectivity(delay_ms={"E": 1e9, "I": 1.0})), "connectivity.delay_ms"),
    "a million neurons at the default p (1e11 synapses)": (
        lambda: jaxfne.construct(C().column("V1", layers=["L2/3"], n=10**6).cell_types({"E": 0.8, "I": 0.2})
                                 .connectivity().set_emitter("izhikevich", "RS").probes(["SPK"])), "connectivity.p"),
    "an in-degree of 1e9": (
        lambda: jaxfne.construct(C().column("V1", layers=["L2/3"], n=1000).cell_types({"E": 0.8, "I": 0.2})
                                 .connectivity(rule="fixed_indegree", indegree={"E": 10**9, "I": 10})
                                 .set_emitter("izhikevich", "RS").probes(["SPK"])), "connectivity.indegree"),
    "an in-degree the rule would ignore": (
        lambda: C().connectivity(rule="pairwise_bernoulli", indegree={"E": 10, "I": 5}), "connectivity.indegree"),
    "ten million contacts (forward matrices beyond memory)": (
        lambda: jaxfne.construct(base().probes(["LFP-proxy"], n_contacts=10**7)), "probes.n_contacts"),
    "a fixed total number of 1e12": (
        lambda: jaxfne.construct(C().column("V1", layers=["L4"], n=100).cell_types({"E": 0.8, "I": 0.2})
                                 .connectivity(projections={"L4E->L4E": {"rule": "fixed_total_number",
                                                                         "N_syn": 10**12, "weight": 1.0}})
                                 .set_emitter("iaf_psc_exp", "nest_default").probes(["SPK"])),
        "connectivity.projections.L4E->L4E"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_named_configuration_error(case):
    make, field = CASES[case]
    with pytest.raises(ConfigurationError) as exc:
        make()
    assert exc.value.field == field, str(exc.value)
    assert isinstance(exc.value, ValueError) and field in str(exc.value)


def test_non_finite_recorded_signal_raises_naming_it():
    """A huge drive keeps V_m finite (reset every step) while I_syn overflows: no silent inf."""
    cfg = (C().runtime(duration_ms=50.0).column("V1", layers=["L2/3", "L4"], n=30).cell_types({"E": 1.0})
           .connectivity(recurrent=False).set_emitter("izhikevich", "RS", drive="none")
           .stimulus("poisson", weight=1e35, rate_hz=100.0).probes(["SPK", "Vm", "I_syn", "LFP-proxy"]))
    with pytest.raises(SimulationError) as exc:
        jaxfne.simulate(jaxfne.construct(cfg))
    assert exc.value.signal in ("I_syn", "LFP") and exc.value.step >= 0
    assert f"t = {exc.value.time_ms:g} ms" in str(exc.value)


def test_non_finite_synaptic_current_is_caught_in_the_scan():
    """Spikes only: nothing float is recorded, V_m stays finite (an infinite input spikes and resets),
    but the drive's current overflows float32; the in-scan check names the population."""
    cfg = (C().runtime(duration_ms=20.0).column("V1", layers=["L4"], n=5).cell_types({"E": 1.0})
           .connectivity(recurrent=False).set_emitter("izhikevich", "RS", drive="none")
           .stimulus("poisson", weight=1e38, rate_hz=100.0, n_inputs=100, start_ms=5.0).probes(["SPK"]))
    with pytest.raises(SimulationError) as exc:
        jaxfne.simulate(jaxfne.construct(cfg))
    assert exc.value.population == "V1:L4E" and exc.value.time_ms > 5.0


def test_an_indegree_with_rule_auto_draws_fixed_indegrees():
    model = jaxfne.construct(C().column("V1", layers=["L2/3"], n=200).cell_types({"E": 0.8, "I": 0.2})
                             .connectivity(indegree={"E": 20, "I": 5}, autapses=True)
                             .set_emitter("izhikevich", "RS").probes(["SPK"]))
    assert model.resolved["connectivity"]["rule"] == "fixed_indegree"
    assert model.connectivity_summary()["n_synapses"].tolist() == [160 * 20, 40 * 20, 160 * 5, 40 * 5]


@pytest.mark.parametrize("autapses", [False, True])
def test_fixed_indegrees_are_exact_across_layers(autapses):
    """``indegree={"E": K_E, "I": K_I}``: exactly K_t inputs per neuron from the column's type-t neurons
    of every layer, distinct partners, no autapse unless allowed (it used to draw first and drop the
    autapses, leaving some neurons K - 1 inputs). With K = every other neuron, each neuron receives
    from all of them."""
    model = jaxfne.construct(C().runtime(network_seed=3).column("V1", layers=["L2/3", "L4"], n=25)
                             .cell_types({"E": 21, "I": 4}).connectivity(indegree={"E": 20, "I": 3}, autapses=autapses)
                             .set_emitter("izhikevich", "RS").probes(["SPK"]))
    pre, post = np.asarray(model.synapses.pre), np.asarray(model.synapses.post)
    types = np.asarray(model.table.cell_type).astype(str)
    assert np.sum(types == "E") == 21 and len(set(model.table.layer.tolist())) == 2
    for t, k in (("E", 20), ("I", 3)):
        assert np.unique(np.bincount(post[types[pre] == t], minlength=model.n)).tolist() == [k]
    key = pre.astype(np.int64) * model.n + post
    assert np.unique(key).size == key.size
    if not autapses:
        assert not np.any(pre == post)
        for t in ("E", "I"):  # K = every other neuron of the type: each receives from all of them
            members = set(np.flatnonzero(types == t).tolist())
            assert all(set(pre[(post == j) & (types[pre] == t)].tolist()) == members - {j} for j in members)


@pytest.mark.parametrize("pos", [[0.0, 0.0, 0.0], [0.0, 0.0, 79000.0], [1e9, 0.0, 0.0]])
def test_column_position_outside_the_brain_is_named(pos):
    """The column's radial direction is its position's: the head centre has none, and the head model
    needs the column inside its brain (found by the configuration fuzz: a DipoleError in construct)."""
    with pytest.raises(ConfigurationError) as exc:
        jaxfne.configuration().probes(["EEG-proxy"], column_position_um=pos)
    assert exc.value.field == "probes.column_position_um" and "79000" in str(exc.value)


def test_negative_zero_spreads_construct():
    """-0.0 passes ">= 0" but NumPy refuses it as a scale (found by the configuration fuzz)."""
    cfg = (jaxfne.configuration().column("C", layers=["L4"], n=20).cell_types({"E": 0.8, "I": 0.2})
           .connectivity(weight_rel_sd=-0.0, delay_rel_sd=-0.0, inter_column=None).set_emitter("izhikevich", "RS"))
    assert math.copysign(1.0, cfg.connectivity_spec["weight_rel_sd"]) == 1.0
    assert jaxfne.construct(cfg).n == 20
