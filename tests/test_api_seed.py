"""The public API of the seed page (core-api.txt): every example runs as written.

The page's examples are fragments (``cfg`` is defined in the first one and extended by the next);
:data:`PAGE_EXAMPLES` holds them verbatim, in the page's order, and the tests run them chained, once
under ``import jaxfne as jtfne`` (at the page's 1000 ms / 0.1 ms / seed 7 on its 100-neuron column)
and once under ``import jaxfne`` with the ``jaxfne.`` prefix (shortened to 100 ms to keep the suite
fast). Further tests check what the page states about each name.
"""

from __future__ import annotations

import functools
import json
import math
import textwrap

import numpy as np
import pytest

import jaxfne
import jaxfne as jtfne

#: The public names of the seed page, and nothing else.
SEED_NAMES = {
    "Configuration", "configuration", "construct", "Model", "simulate", "simulation", "Simulation",
    "Signals", "readout_spec", "ReadoutSpec", "ReadoutResult", "objective", "Objective",
    "LaminarSourceGeometry", "BasisSpec",
}

#: "Available metrics" of the ReadoutSpec section of the page.
SEED_METRICS = ("spike_rate_hz", "mean_V_m", "mean_source", "mean_LFP", "mean_CSD", "max_spike_rate_hz",
                "burst_frequency_hz")

#: Every example of the seed page, verbatim and in the page's order (section headings as comments).
PAGE_EXAMPLES = textwrap.dedent('''
    # Configuration.runtime
    cfg = jtfne.Configuration()
    cfg = cfg.runtime(seed=7, dtype="float32", duration_ms=1000.0, dt_ms=0.1)
    # Configuration.column
    cfg = cfg.column("V1", layers=["L2/3", "L4", "L5"], n=100)
    # Configuration.cell_types
    cfg = cfg.cell_types({"E": 0.8, "I": 0.2})
    # Configuration.connectivity
    cfg = cfg.connectivity()
    # Configuration.set_emitter
    cfg = cfg.set_emitter("izhikevich", "cortical_eig")
    # Configuration.probes
    cfg = cfg.probes(["MUA-proxy", "source-proxy", "LFP-proxy"])
    # Model.simulate
    model = jtfne.construct(cfg)
    signals = jtfne.simulate(model, duration_ms=1000.0, dt_ms=0.1, seed=7)
    # Model.compute_readout
    readouts = model.compute_readout(signals, [
        jtfne.readout_spec("rate", "spike_rate_hz"),
        jtfne.readout_spec("voltage", "mean_V_m")
    ])
    # Simulation
    sim = jtfne.simulation(duration_ms=1000.0, dt_ms=0.1, seed=7)
    # Signals.save_json
    signals.save_json("output.json")
    # ReadoutSpec
    readout = jtfne.readout_spec("firing_rate", "spike_rate_hz")
    # ReadoutResult
    results_dict = readout.to_dict()
    # Objective
    obj = jtfne.objective(name="spike_rate", metric="spike_rate_hz", target=10.0)
    # construct
    model = jtfne.construct(cfg)
    # simulate
    signals = jtfne.simulate(model, duration_ms=1000.0, dt_ms=0.1, seed=7)
    # simulation
    sim = jtfne.simulation(duration_ms=1000.0, dt_ms=0.1, seed=7)
    # configuration
    cfg = jtfne.configuration()
''')


def _run_page(import_line: str, code: str) -> dict:
    ns: dict = {}
    exec(compile(import_line + "\n" + code, "core-api-examples", "exec"), ns)
    return ns


def _check_page_namespace(ns: dict, duration_ms: float) -> None:
    n_steps = int(round(duration_ms / 0.1))
    model, signals = ns["model"], ns["signals"]
    assert isinstance(model, jaxfne.Model) and model.n == 100
    assert isinstance(signals, jaxfne.Signals)
    assert np.shape(signals.spikes) == (n_steps, 100)
    assert isinstance(ns["sim"], jaxfne.Simulation)
    assert (ns["sim"].duration_ms, ns["sim"].dt_ms, ns["sim"].seed) == (duration_ms, 0.1, 7)
    readouts = ns["readouts"]
    assert isinstance(readouts, jaxfne.ReadoutResult)
    sp = np.asarray(signals.spikes)
    # the last simulate() of the page repeats the first with the same model seed and run seed
    rate = sp.sum() / (sp.shape[1] * duration_ms * 1e-3)
    assert float(readouts.results["rate"]) == pytest.approx(rate, rel=1e-6)
    v = float(readouts.results["voltage"])
    assert -90.0 < v < 30.0
    with open("output.json") as fh:
        saved = json.load(fh)
    assert saved["n_steps"] == n_steps
    assert isinstance(ns["readout"], jaxfne.ReadoutSpec)
    assert ns["results_dict"]["metric"] == "spike_rate_hz"
    json.dumps(ns["results_dict"])
    assert isinstance(ns["obj"], jaxfne.Objective)
    assert (ns["obj"].name, ns["obj"].metric, ns["obj"].target) == ("spike_rate", "spike_rate_hz", 10.0)
    assert isinstance(ns["cfg"], jaxfne.Configuration)
    assert ns["cfg"] == jaxfne.Configuration()


def test_page_examples_run_as_written_with_jtfne_alias(tmp_path, monkeypatch):
    """The page verbatim: ``import jaxfne as jtfne``, 1000 ms at 0.1 ms, seed 7, 100 neurons."""
    monkeypatch.chdir(tmp_path)
    ns = _run_page("import jaxfne as jtfne", PAGE_EXAMPLES)
    _check_page_namespace(ns, 1000.0)


def test_page_examples_run_with_plain_import(tmp_path, monkeypatch):
    """The same examples under ``import jaxfne`` with the ``jaxfne.`` prefix (100 ms runs)."""
    monkeypatch.chdir(tmp_path)
    code = PAGE_EXAMPLES.replace("jtfne.", "jaxfne.").replace("duration_ms=1000.0", "duration_ms=100.0")
    assert "jtfne" not in code
    ns = _run_page("import jaxfne", code)
    assert "jtfne" not in ns
    _check_page_namespace(ns, 100.0)


# -- public names ---------------------------------------------------------------------------------

def test_public_names_are_exactly_the_seed_names():
    assert set(jaxfne.__all__) == SEED_NAMES
    assert len(jaxfne.__all__) == len(SEED_NAMES)
    for name in SEED_NAMES:
        assert getattr(jaxfne, name) is getattr(jtfne, name)
    ns: dict = {}
    exec("from jaxfne import *", ns)
    assert {k for k in ns if not k.startswith("__")} == SEED_NAMES


def test_public_names_are_the_documented_kinds():
    for cls in ("Configuration", "Model", "Simulation", "Signals", "ReadoutSpec", "ReadoutResult", "Objective",
                "LaminarSourceGeometry", "BasisSpec"):
        assert isinstance(getattr(jaxfne, cls), type), cls
    for fn in ("configuration", "construct", "simulate", "simulation", "readout_spec", "objective"):
        f = getattr(jaxfne, fn)
        assert callable(f) and not isinstance(f, type), fn
    assert isinstance(jaxfne.configuration(), jaxfne.Configuration)
    assert isinstance(jaxfne.simulation(duration_ms=10.0, dt_ms=0.1, seed=1), jaxfne.Simulation)
    assert isinstance(jaxfne.readout_spec("r", "spike_rate_hz"), jaxfne.ReadoutSpec)
    assert isinstance(jaxfne.objective(name="o", metric="spike_rate_hz", target=1.0), jaxfne.Objective)


# -- a small model shared by the remaining tests ------------------------------------------------------

ALL_NEURON_AND_FIELD_MODES = ["SPK", "Vm", "I_syn", "MUA-proxy", "source-proxy", "LFP-proxy", "CSD-proxy"]


@functools.lru_cache(maxsize=None)
def _small(modes: tuple = tuple(ALL_NEURON_AND_FIELD_MODES)):
    cfg = (jtfne.configuration()
           .runtime(seed=7, dtype="float32", duration_ms=200.0, dt_ms=0.1)
           .column("V1", layers=["L2/3", "L4", "L5"], n=40)
           .cell_types({"E": 0.8, "I": 0.2})
           .connectivity()
           .set_emitter("izhikevich", "cortical_eig")
           .probes(list(modes)))
    model = jtfne.construct(cfg)
    signals = jtfne.simulate(model, duration_ms=200.0, dt_ms=0.1, seed=7)
    return cfg, model, signals


def test_model_attributes():
    cfg, model, _ = _small()
    assert model.cfg is cfg or model.cfg == cfg
    assert isinstance(model.cfg, jaxfne.Configuration)
    assert isinstance(model.geometry, jaxfne.LaminarSourceGeometry)
    assert isinstance(model.basis_spec, jaxfne.BasisSpec)


def test_model_simulate_takes_a_simulation_object():
    _, model, signals = _small()
    sim = jtfne.simulation(duration_ms=200.0, dt_ms=0.1, seed=7)
    assert (sim.duration_ms, sim.dt_ms, sim.seed) == (200.0, 0.1, 7)
    via_sim = model.simulate(sim)
    assert isinstance(via_sim, jaxfne.Signals)
    np.testing.assert_array_equal(np.asarray(via_sim.spikes), np.asarray(signals.spikes))
    np.testing.assert_array_equal(np.asarray(via_sim.V_m), np.asarray(signals.V_m))
    # and the positional form of the same method
    again = model.simulate(200.0, 0.1, 7)
    np.testing.assert_array_equal(np.asarray(again.spikes), np.asarray(signals.spikes))
    assert np.asarray(signals.spikes).sum() > 0
    # another seed is another run
    other = model.simulate(jtfne.simulation(duration_ms=200.0, dt_ms=0.1, seed=8))
    assert not np.array_equal(np.asarray(other.spikes), np.asarray(signals.spikes))


def test_signals_attributes_have_time_by_neuron_shapes():
    _, model, signals = _small()
    n_steps = 2000
    assert np.shape(signals.V_m) == (n_steps, model.n)
    assert np.shape(signals.spikes) == (n_steps, model.n)
    assert np.shape(signals.I_syn) == (n_steps, model.n)
    assert np.asarray(signals.spikes).dtype == bool
    assert np.asarray(signals.source).shape[0] == n_steps
    assert np.asarray(signals.LFP).shape[0] == n_steps
    assert np.asarray(signals.CSD).shape[0] == n_steps
    # not probed: None, as the page's "optional" says
    assert signals.EEG is None and signals.MEG is None and signals.EMM is None


def test_signals_to_dict_is_json_and_save_json_round_trips(tmp_path):
    _, _, signals = _small()
    d = signals.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text)["n_steps"] == 2000
    n_spikes = int(np.asarray(signals.spikes).sum())
    path = tmp_path / "output.json"
    signals.save_json(str(path))
    with open(path) as fh:
        back = json.load(fh)
    assert int(np.asarray(back["signals"]["spikes"]).sum()) == n_spikes
    assert np.asarray(back["signals"]["spikes"]).shape == (2000, 40)
    np.testing.assert_allclose(np.asarray(back["signals"]["V_m"], float), np.asarray(signals.V_m, float),
                               rtol=1e-6)
    assert back["dt_ms"] == 0.1


def test_every_seed_metric_computes():
    _, model, signals = _small()
    specs = [jtfne.readout_spec(m, m) for m in SEED_METRICS]
    result = model.compute_readout(signals, specs)
    assert isinstance(result, jaxfne.ReadoutResult)
    assert list(result.specs) == specs
    assert set(result.results) == set(SEED_METRICS)
    r = {k: float(v) for k, v in result.results.items()}
    for k, v in r.items():
        assert math.isfinite(v), k

    sp = np.asarray(signals.spikes)
    rates = sp.sum(axis=0) / 0.2
    assert r["spike_rate_hz"] == pytest.approx(rates.mean(), rel=1e-6)
    assert r["max_spike_rate_hz"] == pytest.approx(rates.max(), rel=1e-6)
    assert r["spike_rate_hz"] > 0
    assert r["mean_V_m"] == pytest.approx(float(np.mean(np.asarray(signals.V_m, float))), rel=1e-5)
    assert r["mean_source"] == pytest.approx(float(np.mean(np.abs(np.asarray(signals.source, float)))), rel=1e-5)
    assert r["mean_LFP"] == pytest.approx(float(np.mean(np.abs(np.asarray(signals.LFP, float)))), rel=1e-5)
    assert r["mean_CSD"] == pytest.approx(float(np.mean(np.abs(np.asarray(signals.CSD, float)))), rel=1e-5)
    assert r["mean_source"] > 0 and r["mean_LFP"] > 0 and r["mean_CSD"] > 0
    # a burst holds at least two spikes, so a neuron's burst rate is at most half its spike rate
    assert 0.0 <= r["burst_frequency_hz"] <= r["spike_rate_hz"] / 2 + 1e-9

    out = result.to_dict()
    back = json.loads(json.dumps(out))
    assert back["results"] == pytest.approx(r, rel=1e-6)
    assert [s["metric"] for s in back["specs"]] == list(SEED_METRICS)


def test_readout_result_example_to_dict_is_json_safe():
    _, model, signals = _small()
    readout = model.compute_readout(signals, [jtfne.readout_spec("firing_rate", "spike_rate_hz")])
    results_dict = readout.to_dict()
    text = json.dumps(results_dict, allow_nan=False)
    assert json.loads(text)["results"]["firing_rate"] == pytest.approx(float(readout.results["firing_rate"]))


def test_objective_example_and_weight():
    obj = jtfne.objective(name="spike_rate", metric="spike_rate_hz", target=10.0)
    assert obj.weight == 1.0
    weighted = jtfne.objective(name="spike_rate", metric="spike_rate_hz", target=10.0, weight=2.5)
    assert weighted.weight == 2.5
    _, model, signals = _small()
    rate = float(model.compute_readout(signals, [jtfne.readout_spec("r", "spike_rate_hz")]).results["r"])
    assert float(weighted.loss(model, signals)) == pytest.approx(2.5 * (rate - 10.0) ** 2, rel=1e-5)
    json.dumps(weighted.to_dict())


@pytest.mark.parametrize("make", [
    lambda m: jtfne.readout_spec("x", m),
    lambda m: jtfne.objective(name="x", metric=m, target=1.0),
], ids=["readout_spec", "objective"])
@pytest.mark.parametrize("metric", ["spike_rate", "mean_Vm", "LFP", "firing_rate_hz", ""])
def test_unknown_metric_lists_the_known_ones(make, metric):
    with pytest.raises(ValueError) as info:
        make(metric)
    msg = str(info.value)
    assert repr(metric) in msg
    assert "metric" in msg
    for known in SEED_METRICS:
        assert known in msg, known
