"""Configuration errors, immutability and serialisation of :class:`jaxfne.Configuration`.

Every mistake a user can make in a configuration raises a :class:`jaxfne.errors.ConfigurationError`
(a ``ValueError``) whose message names the field, the value and what is allowed, and it does so in the
configuration call that receives the value (or, where the mistake needs the built network, in
``construct`` / ``simulate`` before any simulation step runs). Property-based with hypothesis.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import jaxfne
from jaxfne.config import schema as S
from jaxfne.errors import ConfigurationError

KNOWN_LAYERS = ("L1", "L2/3", "L4", "L5", "L6", "L2", "L3", "L6a", "L6b")
PROBE_MODES = ("SPK", "Vm", "I_syn", "MUA-proxy", "source-proxy", "LFP-proxy", "CSD-proxy", "EEG-proxy",
               "MEG-proxy", "EMM-proxy")
IZH2004 = ("tonic_spiking", "phasic_spiking", "tonic_bursting", "phasic_bursting", "mixed_mode",
           "spike_frequency_adaptation", "class_1_excitable", "class_2_excitable", "spike_latency",
           "subthreshold_oscillations", "resonator", "integrator", "rebound_spike", "rebound_burst",
           "threshold_variability", "bistability", "depolarizing_after_potential", "accommodation",
           "inhibition_induced_spiking", "inhibition_induced_bursting")
CLASSES = ("RS", "IB", "CH", "FS", "LTS", "TC", "RZ")
PRESETS = IZH2004 + CLASSES + ("cortical_eig",)
STIMULUS_KINDS = ("step", "pulse", "ramp", "series", "poisson", "gaussian")

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])

C = jaxfne.Configuration


def _col(cfg=None, name="V1", layers=("L2/3", "L4"), n=10):
    return (cfg or C()).column(name, list(layers), n)


def expect(fn, field, value, *allowed):
    """Call ``fn``; it must raise a ConfigurationError naming ``field``, ``value`` and ``allowed``.

    ``value`` is compared through ``repr`` (for a number also as a float, since numbers are
    normalised to float before the check).
    """
    with pytest.raises(ValueError) as info:
        fn()
    exc = info.value
    assert isinstance(exc, ConfigurationError), type(exc)
    msg = str(exc)
    assert exc.field == field, (exc.field, field)
    assert msg.startswith(f"{field}="), msg
    reprs = {repr(value)}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        reprs.add(repr(float(value)))
    assert any(r in msg for r in reprs), (reprs, msg)
    for words in allowed:
        assert words in msg, (words, msg)
    return exc


def _not_in(options):
    return st.text(max_size=12).filter(lambda s: s not in options)


# -- cell types ----------------------------------------------------------------------------------

def _is_counts(m):
    return all(float(v).is_integer() for v in m.values()) and sum(m.values()) > 1


fraction_maps = st.one_of(
    st.fixed_dictionaries({"E": st.floats(0, 2, allow_nan=False), "I": st.floats(0, 2, allow_nan=False)}),
    st.fixed_dictionaries({"E": st.floats(0, 2, allow_nan=False)}),
    st.fixed_dictionaries({"I": st.floats(0, 2, allow_nan=False)}),
).filter(lambda m: abs(sum(m.values()) - 1.0) > 1e-6 and sum(m.values()) > 0 and not _is_counts(m))


@FAST
@given(fraction_maps)
def test_fractions_not_summing_to_one(m):
    expect(lambda: C().cell_types(m), "cell_types", m, "fractions summing to 1", "counts summing to n")
    expect(lambda: _col().cell_types(m), "cell_types", m, "fractions summing to 1")


def test_all_zero_or_negative_or_unknown_cell_types():
    expect(lambda: C().cell_types({"E": 0.0, "I": 0.0}), "cell_types", {"E": 0.0, "I": 0.0}, "positive")
    expect(lambda: C().cell_types({"E": 1.2, "I": -0.2}), "cell_types.I", -0.2, ">= 0")
    expect(lambda: C().cell_types({"E": 0.8, "X": 0.2}), "cell_types.X", 0.2, "known keys: E, I")
    expect(lambda: C().cell_types({}), "cell_types", {}, "non-empty mapping")
    expect(lambda: C().cell_types([0.8, 0.2]), "cell_types", [0.8, 0.2], "mapping")
    expect(lambda: C().cell_types({"E": "0.8", "I": 0.2}), "cell_types.E", "0.8", "a real number")
    expect(lambda: C().cell_types({"E": 0.8, "I": 0.2}, per_layer={"L4": {"E": 0.5, "I": 0.6}}),
           "cell_types.per_layer.L4", {"E": 0.5, "I": 0.6}, "fractions summing to 1")


count_case = st.integers(2, 300).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(0, 400), st.integers(0, 400))
).filter(lambda t: t[1] + t[2] != t[0] and t[1] + t[2] > 1)


@FAST
@given(count_case)
def test_counts_not_summing_to_n_after_the_column(case):
    n, e, i = case
    m = {"E": e, "I": i}
    expect(lambda: _col(n=n).cell_types(m), "cell_types", m, f"counts summing to n={n}", "'V1'")


@FAST
@given(count_case)
def test_counts_not_summing_to_n_before_the_column(case):
    """The same mistake in the other order is caught by column(), the call that makes it wrong."""
    n, e, i = case
    m = {"E": e, "I": i}
    cfg = C().cell_types(m)
    expect(lambda: cfg.column("V1", ["L2/3", "L4"], n), "cell_types", m, f"counts summing to n={n}", "'V1'")


@FAST
@given(st.integers(2, 200), st.integers(2, 200))
def test_counts_fitting_one_column_but_not_the_next(n1, n2):
    assume(n1 != n2)
    m = {"E": n1 - 1, "I": 1}
    cfg = _col(n=n1).cell_types(m)
    assert cfg.cell_type_spec["fractions"] == m
    expect(lambda: cfg.column("V2", ["L4"], n2), "cell_types", m, f"counts summing to n={n2}", "'V2'")


# -- columns -------------------------------------------------------------------------------------

@FAST
@given(st.integers(max_value=0))
def test_non_positive_n(n):
    expect(lambda: C().column("V1", ["L4"], n), "column.n", n, "an integer >= 1")


@FAST
@given(st.one_of(st.floats(), st.text(max_size=5), st.none(), st.booleans(), st.lists(st.integers(), max_size=2)))
def test_non_integer_n(n):
    with pytest.raises(ConfigurationError) as info:
        C().column("V1", ["L4"], n)
    msg = str(info.value)
    assert info.value.field == "column.n" and msg.startswith("column.n=")
    assert repr(n) in msg or (isinstance(n, float) and math.isnan(n) and "nan" in msg)
    assert "an integer" in msg


@pytest.mark.parametrize("layers", [[], (), "", "L4"])
def test_empty_or_non_list_layers(layers):
    expect(lambda: C().column("V1", layers, 10), "column.layers", layers, "a non-empty list of layer labels")


@FAST
@given(st.lists(st.sampled_from(KNOWN_LAYERS), min_size=1, max_size=4, unique=True), st.data())
def test_duplicate_layers(layers, data):
    dup = data.draw(st.sampled_from(layers))
    pos = data.draw(st.integers(0, len(layers)))
    bad = layers[:pos] + [dup] + layers[pos:]
    expect(lambda: C().column("V1", bad, 10), "column.layers", bad, "distinct layer labels")


# any name but one with ':', which separates column and population (tests/test_bad_input_named.py)
names = st.text(min_size=1, max_size=10).filter(lambda s: s.strip() and ":" not in s)


@FAST
@given(names, names)
def test_duplicate_column_names(name, other):
    cfg = C().column(name, ["L4"], 10)
    expect(lambda: cfg.column(name, ["L5"], 20), "column.name", name, "a name not used by another column")
    if other != name:
        cfg2 = cfg.column(other, ["L4"], 10)
        expect(lambda: cfg2.column(name, ["L4"], 10), "column.name", name, "not used by another column")


@pytest.mark.parametrize("name", ["", "   ", None, 3])
def test_column_name_must_be_a_non_empty_string(name):
    expect(lambda: C().column(name, ["L4"], 10), "column.name", name, "a non-empty string")


@FAST
@given(names.filter(lambda s: s not in KNOWN_LAYERS))
def test_unknown_layer_label_without_depths(label):
    with pytest.raises(ConfigurationError) as info:
        C().column("V1", ["L4", label], 10)
    msg = str(info.value)
    assert info.value.field.startswith("column."), info.value.field
    assert repr(label) in msg
    assert "no default depth" in msg and "known labels" in msg
    for known in KNOWN_LAYERS:
        assert known in msg
    # with explicit depths the same label is fine
    cfg = C().column("V1", ["L4", label], 10, depths_um={label: (1500.0, 1700.0)})
    assert cfg.columns[0]["depths_um"][label] == [1500.0, 1700.0]


depth = st.floats(-100, 3000, allow_nan=False)


@FAST
@given(depth, depth)
def test_bad_depth_ranges(top, bottom):
    assume(not (0 <= top < bottom))
    with pytest.raises(ConfigurationError) as info:
        C().column("V1", ["X"], 10, depths_um={"X": (top, bottom)})
    msg = str(info.value)
    assert info.value.field.startswith("column.depths_um")
    assert "'X'" in msg and repr(float(top)) in msg and repr(float(bottom)) in msg
    assert "0 <= top < bottom" in msg


@pytest.mark.parametrize("rng", [(100.0,), (1.0, 2.0, 3.0), "deep", (0.0, float("inf")), (float("nan"), 10.0), None])
def test_malformed_depth_ranges(rng):
    with pytest.raises(ConfigurationError) as info:
        C().column("V1", ["X"], 10, depths_um={"X": rng})
    msg = str(info.value)
    assert info.value.field.startswith("column.depths_um") and "'X'" in msg
    assert "(top, bottom)" in msg or "top < bottom" in msg


@FAST
@given(st.floats(0, 500), st.floats(1, 500), st.floats(1, 500))
def test_overlapping_layers(top, thick_a, shift):
    """Two layers overlap when the second starts before the first ends."""
    a = (top, top + thick_a)
    b_top = top + thick_a * 0.5
    assume(b_top < a[1])
    b = (b_top, b_top + shift)
    with pytest.raises(ConfigurationError) as info:
        C().column("V1", ["A", "B"], 10, depths_um={"A": a, "B": b})
    assert "overlap" in str(info.value) and "'A'" in str(info.value) and "'B'" in str(info.value)


@pytest.mark.parametrize("layers", [["L2/3", "L2"], ["L3", "L2/3"], ["L6", "L6b"], ["L6a", "L6"]])
def test_default_layers_that_overlap(layers):
    with pytest.raises(ConfigurationError) as info:
        C().column("V1", layers, 10)
    assert "overlap" in str(info.value)
    for lab in layers:
        assert repr(lab) in str(info.value)


def test_other_column_arguments():
    expect(lambda: C().column("V1", ["L4"], 10, radius_um=0.0), "column.radius_um", 0.0, "> 0")
    expect(lambda: C().column("V1", ["L4"], 10, position_um=(1.0,)), "column.position_um", (1.0,), "(x, y)")
    expect(lambda: C().column("V1", ["L4", "L5"], 10, layer_fractions={"L4": 0.5, "L5": 0.6}),
           "column.layer_fractions", {"L4": 0.5, "L5": 0.6}, "fractions summing to 1")
    expect(lambda: C().column("V1", ["L4"], 10, layer_fractions={"L5": 1.0}),
           "column.layer_fractions.L5", 1.0, "known keys: L4")
    expect(lambda: C().column("V1", ["L4", 5], 10), "column.layers[1]", 5, "a non-empty string")


# -- emitter ----------------------------------------------------------------------------------------

@FAST
@given(_not_in(PRESETS + ("TC_burst",)))
def test_unknown_preset(preset):
    exc = expect(lambda: C().set_emitter("izhikevich", preset), "emitter.preset", preset, "one of")
    for known in PRESETS:
        assert repr(known) in str(exc), known


@FAST
@given(_not_in(("izhikevich",)))
def test_unknown_family(family):
    expect(lambda: C().set_emitter(family, "RS"), "emitter.family", family, "one of 'izhikevich'")


def test_other_emitter_arguments():
    expect(lambda: C().set_emitter("izhikevich", "RS", scheme="rk4"), "emitter.scheme", "rk4",
           "'sequential_euler'", "'split_half_step'", "'euler'")
    expect(lambda: C().set_emitter("izhikevich", "RS", per_type={"I": "nope"}), "emitter.per_type.I", "nope", "'FS'")
    expect(lambda: C().set_emitter("izhikevich", "RS", per_type={"X": "FS"}), "emitter.per_type.X", "FS",
           "known keys: E, I")
    expect(lambda: C().set_emitter("izhikevich", "cortical_eig", per_type={"I": "FS"}), "emitter.per_type",
           {"I": "FS"}, "cortical_eig")
    expect(lambda: C().set_emitter("izhikevich", "RS", drive="thalamus"), "emitter.drive", "thalamus",
           "'preset'", "'none'")
    expect(lambda: C().set_emitter("izhikevich", "RS", capacitance_pF=-1.0), "emitter.capacitance_pF", -1.0, "> 0")
    expect(lambda: C().set_emitter("izhikevich", "RS", params={"tau": 1.0}), "emitter.params.tau", 1.0,
           "known keys: a, b, c, d")


# -- probes -------------------------------------------------------------------------------------------

@FAST
@given(_not_in(PROBE_MODES), st.lists(st.sampled_from(PROBE_MODES), max_size=4), st.data())
def test_unknown_probe_mode(mode, good, data):
    pos = data.draw(st.integers(0, len(good)))
    modes = good[:pos] + [mode] + good[pos:]
    exc = expect(lambda: C().probes(modes), f"probes.modes[{pos}]", mode, "one of")
    for known in PROBE_MODES:
        assert repr(known) in str(exc), known


@pytest.mark.parametrize("modes", [[], "LFP-proxy", None])
def test_probe_modes_must_be_a_non_empty_list(modes):
    exc = expect(lambda: C().probes(modes), "probes.modes", modes, "a non-empty list of")
    assert "LFP-proxy" in str(exc) and "EMM-proxy" in str(exc)


def test_other_probe_options():
    expect(lambda: C().probes(["SPK"], contacts=16), "probes.contacts", 16, "known keys: name")
    expect(lambda: C().probes(["SPK"], record_every=0), "probes.record_every", 0, "an integer >= 1")
    expect(lambda: C().probes(["SPK"], record_neurons=[0, -1]), "probes.record_neurons[1]", -1, "an integer >= 0")
    expect(lambda: C().probes(["SPK"], record_neurons=3), "probes.record_neurons", 3, "a list of neuron indices")
    expect(lambda: C().probes(["SPK"], mua_kind="box"), "probes.mua_kind", "box", "'radius'", "'exponential'")
    expect(lambda: C().probes(["SPK"], sigma_S_per_m=0.0), "probes.sigma_S_per_m", 0.0, "> 0")
    expect(lambda: C().probes(["SPK"], column_tilt_deg=91.0), "probes.column_tilt_deg", 91.0, "<= 90")


# -- runtime ------------------------------------------------------------------------------------------

positive = st.floats(1e-3, 1e4, allow_nan=False)


@FAST
@given(positive, st.floats(1.0 + 1e-6, 100.0))
def test_dt_longer_than_duration(duration, factor):
    dt = duration * factor
    assume(dt > duration)
    expect(lambda: C().runtime(duration_ms=duration, dt_ms=dt), "runtime.dt_ms", dt,
           f"no longer than duration_ms={duration:g}")
    expect(lambda: jaxfne.simulation(duration_ms=duration, dt_ms=dt), "simulation.dt_ms", dt,
           f"no longer than duration_ms={duration:g}")


@FAST
@given(st.floats(max_value=0.0, allow_nan=False, allow_infinity=False))
def test_non_positive_dt_or_duration(v):
    expect(lambda: C().runtime(dt_ms=v), "runtime.dt_ms", v, "a number > 0")
    expect(lambda: C().runtime(duration_ms=v), "runtime.duration_ms", v, "a number > 0")
    expect(lambda: jaxfne.simulation(dt_ms=v), "simulation.dt_ms", v, "a number > 0")
    expect(lambda: jaxfne.simulation(duration_ms=v), "simulation.duration_ms", v, "a number > 0")


@pytest.mark.parametrize("v", [float("nan"), float("inf"), "0.1", None, True])
def test_non_numeric_or_non_finite_dt(v):
    with pytest.raises(ConfigurationError) as info:
        C().runtime(dt_ms=v)
    msg = str(info.value)
    assert info.value.field == "runtime.dt_ms"
    assert repr(v) in msg
    assert "a finite number" in msg or "a real number" in msg


@FAST
@given(_not_in(S.DTYPES))
def test_invalid_dtype(dtype):
    expect(lambda: C().runtime(dtype=dtype), "runtime.dtype", dtype, "one of 'float32', 'float64'")


@pytest.mark.parametrize("dtype", ["float16", "int32", "bfloat16", "f4", "Float32"])
def test_invalid_dtype_names(dtype):
    expect(lambda: C().runtime(dtype=dtype), "runtime.dtype", dtype, "'float32'", "'float64'")


@FAST
@given(st.integers(max_value=-1))
def test_negative_seed(seed):
    expect(lambda: C().runtime(seed=seed), "runtime.seed", seed, "an integer >= 0")
    expect(lambda: jaxfne.simulation(seed=seed), "simulation.seed", seed, "an integer >= 0")


def test_other_seed_mistakes():
    expect(lambda: C().runtime(seed=2**32), "runtime.seed", 2**32, f"an integer <= {2**32 - 1}")
    # simulate() accepts seeds up to 2**32 - 1, so simulation() must reject a larger one when it is given
    expect(lambda: jaxfne.simulation(seed=2**32), "simulation.seed", 2**32, f"an integer <= {2**32 - 1}")
    expect(lambda: jaxfne.simulation(seed=(1, 2**32)), "simulation.seed", 2**32, f"an integer <= {2**32 - 1}")
    expect(lambda: C().runtime(seed=1.5), "runtime.seed", 1.5, "an integer")
    expect(lambda: C().runtime(seed="7"), "runtime.seed", "7", "an integer")


@FAST
@given(st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True).filter(lambda k: k not in S.RUNTIME_DEFAULTS))
def test_unknown_runtime_key(key):
    expect(lambda: C().runtime(**{key: 1.0}), f"runtime.{key}", 1.0, "known keys: seed, network_seed, dtype, duration_ms, dt_ms")


def test_unknown_simulation_key():
    expect(lambda: jaxfne.simulation(steps=10), "simulation.steps", 10, "duration_ms", "dt_ms", "seed")


# -- connectivity -------------------------------------------------------------------------------------

@FAST
@given(st.text(min_size=1, max_size=12).filter(lambda k: k not in S.CONNECTIVITY_DEFAULTS))
def test_unknown_connectivity_key(key):
    exc = expect(lambda: C().connectivity(**{key: 0.1}), f"connectivity.{key}", 0.1, "known keys:")
    for known in ("p", "weights", "tau_syn_ms", "delay_ms", "recurrent", "inter_column", "plasticity"):
        assert known in str(exc)


outside_unit = st.one_of(st.floats(max_value=-1e-9, allow_infinity=False, allow_nan=False),
                         st.floats(min_value=1 + 1e-9, allow_infinity=False, allow_nan=False))


@FAST
@given(outside_unit, st.sampled_from(("E->E", "E->I", "I->E", "I->I", "L4E->L2/3E")))
def test_p_outside_unit_interval(p, key):
    bound = "<= 1" if p > 1 else ">= 0"
    expect(lambda: C().connectivity(p=p), "connectivity.p", p, bound)
    expect(lambda: C().connectivity(p={key: p}), f"connectivity.p.{key}", p, bound)
    expect(lambda: C().connectivity(inter_column={"p": p}), "connectivity.inter_column.p", p, bound)


@FAST
@given(st.floats(min_value=1e-12, max_value=1e6))
def test_positive_inhibitory_weight(w):
    expect(lambda: C().connectivity(weights={"E": 0.5, "I": w}), "connectivity.weights.I", w, "a number <= 0")
    expect(lambda: C().connectivity(weights={"E": -w, "I": -1.0}), "connectivity.weights.E", -w, "a number >= 0")


def test_other_connectivity_mistakes():
    expect(lambda: C().connectivity(rule="random"), "connectivity.rule", "random", "'pairwise_bernoulli'")
    expect(lambda: C().connectivity(recurrent="yes"), "connectivity.recurrent", "yes", "True or False")
    expect(lambda: C().connectivity(p={"EE": 0.1}), "connectivity.p.EE", 0.1, '"PRE->POST"')
    expect(lambda: C().connectivity(weight_distribution="cauchy"), "connectivity.weight_distribution", "cauchy",
           "'lognormal'")
    expect(lambda: C().connectivity(synapse="alpha"), "connectivity.synapse", "alpha", "'exponential'", "'delta'")
    expect(lambda: C().connectivity(tau_syn_ms={"E": 0.0}), "connectivity.tau_syn_ms.E", 0.0, "> 0")
    expect(lambda: C().connectivity(delay_ms=-1.0), "connectivity.delay_ms", -1.0, ">= 0")
    expect(lambda: C().connectivity(rule="fixed_indegree"), "connectivity.indegree", None, "fixed_indegree")
    expect(lambda: C().connectivity(plasticity={"rule": "bcm"}), "connectivity.plasticity.rule", "bcm", "'stdp'")
    expect(lambda: C().connectivity(plasticity={"eta": 0.1}), "connectivity.plasticity.eta", 0.1, "tau_plus_ms")
    expect(lambda: C().connectivity(propagation="sparse"), "connectivity.propagation", "sparse", "'event'", "'dense'")


# -- stimuli ------------------------------------------------------------------------------------------

@FAST
@given(_not_in(STIMULUS_KINDS))
def test_unknown_stimulus_kind(kind):
    exc = expect(lambda: C().stimulus(kind), "stimulus.kind", kind, "one of")
    for known in STIMULUS_KINDS:
        assert repr(known) in str(exc)


@FAST
@given(st.text(min_size=1, max_size=10).filter(lambda k: k not in ("column", "layer", "cell_type")),
       st.sampled_from(STIMULUS_KINDS))
def test_unknown_stimulus_target_key(key, kind):
    params = {"values": [1.0, 2.0], "dt_ms": 1.0} if kind == "series" else {}
    expect(lambda: C().stimulus(kind, {key: "V1"}, **params), f"stimulus.target.{key}", "V1",
           "known keys: column, layer, cell_type")


def test_other_stimulus_mistakes():
    expect(lambda: C().stimulus("step", "L4"), "stimulus.target", "L4", '"all" or a mapping')
    expect(lambda: C().stimulus("step", {"cell_type": "X"}), "stimulus.target.cell_type", "X", "'E'", "'I'")
    expect(lambda: C().stimulus("step", freq_hz=5.0), "stimulus[step].freq_hz", 5.0, "known keys: amplitude")
    expect(lambda: C().stimulus("step", start_ms=10.0, stop_ms=5.0), "stimulus[step].stop_ms", 5.0, ">= 10")
    expect(lambda: C().stimulus("series", values=[], dt_ms=1.0), "stimulus[series].values", [], "non-empty list")
    expect(lambda: C().stimulus("poisson", rate_hz=-1.0), "stimulus[poisson].rate_hz", -1.0, ">= 0")
    expect(lambda: C().stimulus("gaussian", std=-1.0), "stimulus[gaussian].std", -1.0, ">= 0")


# -- mistakes that need the network: construct / simulate / readouts -----------------------------------

@functools.lru_cache(maxsize=None)
def _tiny_model():
    cfg = (C().runtime(seed=1, duration_ms=20.0, dt_ms=0.5).column("V1", ["L2/3", "L4"], 12)
           .set_emitter("izhikevich", "RS").connectivity(p=0.2).probes(["SPK", "Vm"]))
    return jaxfne.construct(cfg)


@SLOW
@given(st.integers(1, 20), st.integers(0, 50), st.data())
def test_record_neurons_out_of_range_at_construct(n, extra, data):
    bad = n + extra
    good = data.draw(st.lists(st.integers(0, n - 1), max_size=3))
    cfg = C().column("V1", ["L4"], n).probes(["SPK", "Vm"], record_neurons=good + [bad])
    expect(lambda: jaxfne.construct(cfg), "probes.record_neurons", bad, f"neuron indices below n={n}")


def test_construct_needs_a_column_and_existing_targets():
    expect(lambda: jaxfne.construct(C()), "columns", [], "at least one column")
    with pytest.raises(ConfigurationError) as info:
        jaxfne.construct(_col().stimulus("step", {"layer": "L5"}))
    assert "stimuli[0].target" in str(info.value) and "'L5'" in str(info.value)
    with pytest.raises(ConfigurationError) as info:
        jaxfne.construct(_col().stimulus("step", {"column": "V9"}))
    assert "stimuli[0].target" in str(info.value) and "'V9'" in str(info.value) and "V1" in str(info.value)
    expect(lambda: jaxfne.construct(_col().to_dict()), "cfg", "dict", "a jaxfne.Configuration")


@FAST
@given(st.integers(1, 400), st.floats(0.01, 0.99))
def test_simulate_duration_not_a_multiple_of_dt(steps, frac):
    model = _tiny_model()
    dt = 0.5
    duration = (steps + frac) * dt
    assume(abs(duration / dt - round(duration / dt)) > 1e-3)
    expect(lambda: jaxfne.simulate(model, duration_ms=duration, dt_ms=dt, seed=0), "duration_ms", duration,
           "a whole number of steps of dt_ms=0.5")
    # with a Simulation object the mistake is caught by simulation() or, at the latest, by model.simulate()
    with pytest.raises(ConfigurationError) as info:
        model.simulate(jaxfne.simulation(duration_ms=duration, dt_ms=dt, seed=0))
    assert info.value.field in ("duration_ms", "simulation.duration_ms")
    assert repr(duration) in str(info.value) and "a whole number of steps" in str(info.value)


def test_simulate_argument_mistakes():
    model = _tiny_model()
    expect(lambda: jaxfne.simulate(model, duration_ms=1.0, dt_ms=2.0, seed=0), "dt_ms", 2.0,
           "no longer than duration_ms=1")
    expect(lambda: jaxfne.simulate(model, duration_ms=-1.0, dt_ms=0.5, seed=0), "duration_ms", -1.0, "> 0")
    expect(lambda: jaxfne.simulate(model, duration_ms=10.0, dt_ms=0.5, seed=-3), "seed", -3, "an integer >= 0")
    expect(lambda: jaxfne.simulate(model.cfg, duration_ms=10.0, dt_ms=0.5, seed=0), "model", "Configuration",
           "jaxfne.construct")


@SLOW
@given(st.floats(20.5, 1e4, allow_nan=False))  # RS runs its published protocol: 20 ms / 0.5 ms + 1 steps
def test_readout_window_without_samples(t_start):
    model = _tiny_model()
    signals = _tiny_signals()
    spec = jaxfne.readout_spec("late", "spike_rate_hz", t_start_ms=t_start)
    exc = expect(lambda: model.compute_readout(signals, [spec]), "readout_spec.t_start_ms/t_stop_ms",
                 [t_start, math.inf], "a window containing samples")
    assert exc.value == [t_start, math.inf]


@functools.lru_cache(maxsize=None)
def _tiny_signals():
    return jaxfne.simulate(_tiny_model(), duration_ms=20.0, dt_ms=0.5, seed=0)


def test_readout_spec_mistakes():
    expect(lambda: jaxfne.readout_spec("r", "spike_rate_hz", t_start_ms=50.0, t_stop_ms=10.0),
           "readout_spec.t_stop_ms", 10.0, "after t_start_ms=50")
    expect(lambda: jaxfne.readout_spec("r", "spike_rate_hz", cell_type="P"), "readout_spec.cell_type", "P", "'E'")
    expect(lambda: jaxfne.readout_spec("r", "spike_rate_hz", area="V1"), "readout_spec.area", "V1", "column")
    expect(lambda: jaxfne.objective(name="o", metric="spike_rate_hz", target=1.0, weight=-1.0), "objective.weight",
           -1.0, ">= 0")
    model, signals = _tiny_model(), _tiny_signals()
    expect(lambda: model.compute_readout(signals, [jaxfne.readout_spec("r", "spike_rate_hz", layer="L6")]),
           "readout_spec.layer", "L6", "L2/3", "L4")
    expect(lambda: model.compute_readout(signals, [jaxfne.readout_spec("r", "mean_LFP")]),
           "readout_spec.metric", "LFP", "'LFP-proxy'")


# -- immutability ----------------------------------------------------------------------------------

def _full():
    return (C().runtime(seed=3, dtype="float64", duration_ms=50.0, dt_ms=0.25)
            .column("V1", ["L2/3", "L4"], 30).cell_types({"E": 0.75, "I": 0.25})
            .connectivity(p=0.3).set_emitter("izhikevich", "RS", per_type={"I": "FS"})
            .stimulus("step", {"layer": "L4"}, amplitude=5.0).probes(["SPK", "Vm", "LFP-proxy"], record_every=2))


@pytest.mark.parametrize("attr", ["seed", "runtime", "_data", "columns", "sha256", "anything"])
def test_attributes_cannot_be_set(attr):
    cfg = _full()
    before = cfg.to_json()
    with pytest.raises(AttributeError):
        setattr(cfg, attr, 1)
    assert cfg.to_json() == before


@pytest.mark.parametrize("attr", ["_data", "runtime", "anything"])
def test_attributes_cannot_be_deleted(attr):
    cfg = _full()
    before = cfg.to_json()
    with pytest.raises(AttributeError):
        delattr(cfg, attr)
    assert cfg.to_json() == before


def test_methods_return_new_objects_and_leave_the_original_unchanged():
    cfg = _full()
    before = copy.deepcopy(cfg.to_dict())
    sha = cfg.sha256
    calls = [
        lambda c: c.runtime(seed=4),
        lambda c: c.column("V2", ["L5"], 10),
        lambda c: c.cell_types({"E": 0.5, "I": 0.5}),
        lambda c: c.connectivity(p=0.1, recurrent=False),
        lambda c: c.set_emitter("izhikevich", "cortical_eig"),
        lambda c: c.stimulus("gaussian", std=2.0),
        lambda c: c.probes(["SPK"]),
    ]
    for call in calls:
        new = call(cfg)
        assert isinstance(new, C) and new is not cfg
        assert new.sha256 != sha
        assert cfg.to_dict() == before and cfg.sha256 == sha
    # a rejected call leaves it unchanged too
    with pytest.raises(ConfigurationError):
        cfg.runtime(dt_ms=-1.0)
    assert cfg.to_dict() == before


def test_views_and_inputs_do_not_alias_the_configuration():
    layers = ["L2/3", "L4"]
    m = {"E": 0.8, "I": 0.2}
    cfg = C().column("V1", layers, 10).cell_types(m)
    sha = cfg.sha256
    layers.append("L5")
    m["E"] = 0.1
    d = cfg.to_dict()
    d["columns"][0]["n"] = 99
    d["runtime"]["seed"] = 123
    cfg.columns[0]["layers"].append("L6")
    cfg.runtime_spec["seed"] = 5
    cfg.cell_type_spec["fractions"]["E"] = 0.0
    assert cfg.sha256 == sha
    assert cfg.columns[0]["layers"] == ["L2/3", "L4"] and cfg.columns[0]["n"] == 10
    assert cfg.cell_type_spec["fractions"] == {"E": 0.8, "I": 0.2}


# -- serialisation ----------------------------------------------------------------------------------

LAYER_GROUPS = (
    (("L1",),),
    (("L2/3",), ("L2", "L3"), ("L2",), ("L3",)),
    (("L4",),),
    (("L5",),),
    (("L6",), ("L6a", "L6b"), ("L6a",), ("L6b",)),
)


@st.composite
def layer_sets(draw):
    chosen = []
    for group in LAYER_GROUPS:
        if draw(st.booleans()):
            chosen.extend(draw(st.sampled_from(group)))
    if not chosen:
        chosen = [draw(st.sampled_from(KNOWN_LAYERS))]
    return draw(st.permutations(chosen))


@st.composite
def valid_configs(draw):
    cfg = C()
    dt = draw(st.sampled_from([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]))
    cfg = cfg.runtime(seed=draw(st.integers(0, 2**32 - 1)), dtype=draw(st.sampled_from(["float32", "float64"])),
                      duration_ms=dt * draw(st.integers(1, 100000)), dt_ms=dt)
    col_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    ns = []
    for name in col_names:
        layers = list(draw(layer_sets()))
        kw = {}
        if draw(st.booleans()):
            layers.append("WM")
            kw["depths_um"] = {"WM": [1500.0, draw(st.floats(1501.0, 3000.0))]}
        if draw(st.booleans()):
            kw["radius_um"] = draw(st.floats(1.0, 1000.0))
        n = draw(st.integers(1, 2000))
        ns.append(n)
        cfg = cfg.column(name, layers, n, **kw)
    if len(set(ns)) == 1 and ns[0] > 1 and draw(st.booleans()):
        e = draw(st.integers(0, ns[0]))
        cfg = cfg.cell_types({"E": e, "I": ns[0] - e})
    else:
        e = draw(st.floats(0.0, 1.0))
        cfg = cfg.cell_types({"E": e, "I": 1.0 - e})
    conn = {}
    if draw(st.booleans()):
        conn["p"] = draw(st.one_of(st.floats(0.0, 1.0), st.fixed_dictionaries({"E->E": st.floats(0.0, 1.0),
                                                                                "I->E": st.floats(0.0, 1.0)})))
    if draw(st.booleans()):
        conn["recurrent"] = draw(st.booleans())
    if draw(st.booleans()):
        conn["weights"] = {"E": draw(st.floats(0.0, 10.0)), "I": -draw(st.floats(0.0, 10.0))}
    if draw(st.booleans()):
        conn["plasticity"] = {"rule": "stdp", "A_plus": draw(st.floats(0.0, 0.1))}
    cfg = cfg.connectivity(**conn)
    preset = draw(st.sampled_from(PRESETS))
    per_type = {} if preset == "cortical_eig" or draw(st.booleans()) else {"I": draw(st.sampled_from(CLASSES))}
    cfg = cfg.set_emitter("izhikevich", preset, per_type=per_type)
    if draw(st.booleans()):
        cfg = cfg.stimulus("step", {"cell_type": "E"}, amplitude=draw(st.floats(-50.0, 50.0)))
    if draw(st.booleans()):
        cfg = cfg.stimulus("gaussian", mean=draw(st.floats(-5.0, 5.0)), std=draw(st.floats(0.0, 5.0)))
    modes = draw(st.lists(st.sampled_from(PROBE_MODES), min_size=1, max_size=5, unique=True))
    cfg = cfg.probes(modes, record_every=draw(st.integers(1, 10)))
    return cfg


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_configs())
def test_dict_yaml_json_round_trips_keep_the_hash(cfg):
    d = cfg.to_dict()
    json.dumps(d)  # JSON-safe
    back = C.from_dict(d)
    assert back.sha256 == cfg.sha256 and back == cfg and back.to_dict() == d
    via_yaml = C.from_yaml(cfg.to_yaml())
    assert via_yaml.sha256 == cfg.sha256 and via_yaml.to_dict() == d
    via_json = C.from_dict(json.loads(cfg.to_json()))
    assert via_json.sha256 == cfg.sha256
    assert len(cfg.sha256) == 64 and int(cfg.sha256, 16) >= 0


def _reverse_keys(x):
    if isinstance(x, dict):
        return {k: _reverse_keys(x[k]) for k in reversed(list(x))}
    if isinstance(x, list):
        return [_reverse_keys(v) for v in x]
    return x


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_configs())
def test_hash_is_stable_across_key_order(cfg):
    d = cfg.to_dict()
    r = _reverse_keys(d)
    assert list(r) == list(reversed(list(d)))
    assert C.from_dict(r).sha256 == cfg.sha256
    assert C(r).sha256 == cfg.sha256


def test_hash_depends_on_content_and_is_stable_across_processes():
    cfg = _full()
    assert cfg.runtime(seed=4).sha256 != cfg.sha256
    assert cfg.runtime(seed=3).sha256 == cfg.sha256
    code = (
        "import json, sys, jaxfne\n"
        "print(jaxfne.Configuration.from_dict(json.loads(sys.stdin.read())).sha256)\n"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(_reverse_keys(cfg.to_dict())),
                         capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == cfg.sha256


def test_from_dict_rejects_unknown_sections_and_values():
    expect(lambda: C.from_dict({"runtim": {}}), "configuration.runtim", {}, "known keys: runtime")
    expect(lambda: C.from_dict([1, 2]), "configuration", [1, 2], "a mapping")
    d = _full().to_dict()
    d["runtime"]["dtype"] = "float16"
    expect(lambda: C.from_dict(d), "runtime.dtype", "float16", "'float32'")
    with pytest.raises(ConfigurationError):
        C.from_yaml("runtime:\n  dt_ms: -1\n")
