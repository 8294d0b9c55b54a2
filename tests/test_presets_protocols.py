"""Presets and their published protocols: the spike comparison, the published step and duration, and
the one source of the ``rs_fs`` setup.

1. Izhikevich's single-neuron presets fire at ``v > v_peak`` (figure1.m / izhi2003.m: ``if V > 30``),
   the 2003 network ``cortical_eig`` at ``v >= v_peak`` (net.m: ``find(v>=30)``) and NEST's
   ``iaf_psc_exp`` at ``V_m >= V_th``; each is checked on a trajectory that lands exactly on the
   threshold.
2. A preset that runs its own protocol brings its published ``dt`` and ``duration`` while the runtime
   leaves them unset (Python and Hydra), and its run has ``T / dt + 1`` steps (``tspan = 0:tau:T``);
   runs without such a preset keep ``T / dt``.
3. ``conf/emitter/izhikevich/rs_fs.yaml`` only names :func:`jaxfne.presets.rs_fs`, and Hydra's
   composition gives the configuration the Python preset gives.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import yaml

import jaxfne
from jaxfne.engine.surrogate import Surrogate, spike_function
from jaxfne.errors import ConfigurationError
from jaxfne.pipeline.compose import compose_overrides, expand_study
from jaxfne.pipeline.hydra_to_config import configuration_dict, to_configuration
from jaxfne.presets import izhikevich as iz

try:
    from tests.reference import izhikevich_numpy as ref
except ImportError:  # tests/ itself on sys.path (pytest rootdir insertion)
    from reference import izhikevich_numpy as ref

CONF = Path(__file__).resolve().parents[1] / "conf"


def _composed(*overrides: str) -> jaxfne.Configuration:
    """The configuration ``python -m jaxfne <overrides>`` runs (the compose API on conf/)."""
    return to_configuration(compose_overrides(CONF, [list(overrides)])[0])


def _cell(dtype: str = "float64") -> jaxfne.Configuration:
    """One unconnected excitatory neuron (runtime left unset)."""
    return (jaxfne.configuration().runtime(dtype=dtype).column("cell", layers=["L2/3"], n=1)
            .cell_types({"E": 1}).connectivity(recurrent=False))


def _spike_steps(cfg: jaxfne.Configuration, **kw) -> tuple[np.ndarray, tuple[int, ...]]:
    sig = jaxfne.simulate(jaxfne.construct(cfg), seed=0, **kw)
    spikes = np.asarray(sig.spikes)
    return spikes, tuple(int(k) for k in np.flatnonzero(spikes[:, 0]))


# =====================================================================================
# 1. The spike comparison
# =====================================================================================


@pytest.mark.parametrize("kind", ["fast_sigmoid", "triangle", "one_sided"])
def test_spike_function_at_threshold(kind):
    """x = 0 fires with ``>=`` and not with ``>``; the pseudo-derivative stays, except that a
    spikes-only one vanishes where the strict function does not fire."""
    sur = Surrogate(kind, beta=2.0)
    x = jnp.array([-0.5, 0.0, 1e-6, 0.5])
    loose, strict = spike_function(sur), spike_function(sur, True)
    np.testing.assert_array_equal(loose(x), [0.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(strict(x), [0.0, 0.0, 1.0, 1.0])
    d_loose = jax.vmap(jax.grad(loose))(x)
    d_strict = jax.vmap(jax.grad(strict))(x)
    assert float(d_loose[1]) == 2.0  # every kind peaks at beta on the threshold
    if kind == "one_sided":
        np.testing.assert_array_equal(d_strict, np.where(np.asarray(strict(x)) > 0, d_loose, 0.0))
        assert float(d_strict[1]) == 0.0 and float(d_strict[2]) > 0.0
    else:
        np.testing.assert_array_equal(d_strict, d_loose)


def _exact_30_protocol():
    """A figure1.m loop (5v + 140 form) whose first V is exactly 30: V0 = 0, u = 0, a = 0, tau = 0.25,
    I = -20, so V1 = 0 + 0.25 (140 - 20) = 30; then V2 = 30 + 0.25 (36 + 150 + 140 - 20) = 106.5."""
    return ref.Protocol(a=0.0, b=0.0, c=-65.0, d=0.0, V0=0.0, tau=0.25, T=1.0, current=lambda t: -20.0)


def test_reference_port_is_strict_as_figure1m(monkeypatch):
    """The literal port of figure1.m does not fire at V == 30 exactly (``if V > 30``)."""
    monkeypatch.setitem(ref.PROTOCOLS, "exact_30", _exact_30_protocol())
    run = ref.simulate("exact_30")
    assert run.VV[0] == 30.0 and run.spike_steps == (1,)


def _on_threshold(preset: str) -> jaxfne.Configuration:
    """The exact-30 trajectory in the engine: a, b, d = 0, v0 = u0 = 0, a step of -20 from t = 0."""
    params = {"a": 0.0, "b": 0.0, "c": -65.0, "d": 0.0, "v0": 0.0, "u0": 0.0}
    return (_cell().runtime(dt_ms=0.25, duration_ms=1.0)
            .set_emitter("izhikevich", preset, drive="none", scheme="sequential_euler", params=params)
            .stimulus("step", amplitude=-20.0))


@pytest.mark.parametrize("preset, first_spike", [("tonic_spiking", 1), ("RS", 1), ("cortical_eig", 0)])
def test_izhikevich_fires_above_v_peak_and_net_m_at_it(preset, first_spike, monkeypatch):
    """v reaches v_peak = 30 exactly at step 0: the 2004 features and 2003 classes fire one step later,
    as the figure1.m port does; cortical_eig fires at once, as net.m's ``v >= 30`` does."""
    model = jaxfne.construct(_on_threshold(preset))
    assert model.static.strict_threshold is (preset != "cortical_eig")
    sig = jaxfne.simulate(model, seed=0)
    assert np.asarray(sig.V_m)[0, 0] == 30.0
    steps = tuple(int(k) for k in np.flatnonzero(np.asarray(sig.spikes)[:, 0]))
    assert steps == (first_spike,)
    if preset != "cortical_eig":
        monkeypatch.setitem(ref.PROTOCOLS, "exact_30", _exact_30_protocol())
        assert steps == ref.simulate("exact_30").spike_steps


def test_iaf_psc_exp_fires_at_v_th_as_nest():
    """NEST's ``V_m >= V_th``: a neuron resting exactly on its threshold fires at the first step."""
    params = {"E_L": -55.0, "V_th": -55.0, "V_m0": -55.0, "V_reset": -70.0, "I_e": 0.0}
    cfg = (_cell().runtime(dt_ms=0.1, duration_ms=1.0)
           .set_emitter("iaf_psc_exp", "nest_default", params=params))
    model = jaxfne.construct(cfg)
    assert model.static.strict_threshold is False and model.static.closed_end is False
    spikes, steps = _spike_steps(cfg)
    assert spikes.shape == (10, 1) and steps[0] == 0


def test_published_protocol_fields_say_strict():
    """Docs and data agree: the presets say ``v > v_peak``, the family's parameter table too."""
    from jaxfne.neurons import FAMILIES

    doc = {p.name: p.doc for p in FAMILIES["izhikevich"].parameters}["v_peak"]
    assert "v > v_peak" in doc and "cortical_eig: v >= v_peak" in doc
    assert "``v > v_peak``" in iz.IzhikevichPreset.__doc__
    assert all(FAMILIES["izhikevich"].strict_threshold(n) for n in iz.PRESET_NAMES)
    assert not FAMILIES["izhikevich"].strict_threshold("cortical_eig")
    assert not FAMILIES["iaf_psc_exp"].strict_threshold("nest_default")


# =====================================================================================
# 2. Published step and duration
# =====================================================================================


@pytest.mark.parametrize("name", ["tonic_spiking", "phasic_bursting", "depolarizing_after_potential",
                                  "accommodation", "RS"])
def test_selected_preset_runs_its_published_protocol(name):
    """``set_emitter`` on an unset runtime: the published tau and T, T/tau + 1 steps, and the spike
    steps of the figure1.m port (float64)."""
    p = iz.get_preset(name)
    cfg = _cell().set_emitter("izhikevich", name)
    rt = cfg.runtime_spec
    assert (rt["dt_ms"], rt["duration_ms"]) == (p.dt_ms, p.duration_ms)
    spikes, steps = _spike_steps(cfg)
    assert spikes.shape == (ref.n_iterations(p.dt_ms, p.duration_ms), 1) == (p.n_steps, 1)
    assert steps == ref.simulate(name).spike_steps


def test_explicit_published_values_and_simulate_arguments_run_the_same():
    """``runtime(dt_ms=tau, duration_ms=T)`` and ``simulate(duration_ms=T, dt_ms=tau)`` are the same
    run as the published defaults: T/tau + 1 steps, not T/tau."""
    base = _cell().set_emitter("izhikevich", "tonic_spiking")
    explicit = base.runtime(dt_ms=0.25, duration_ms=100.0)
    assert explicit == base and explicit.sha256 == base.sha256
    a, _ = _spike_steps(base)
    b, _ = _spike_steps(explicit)
    c, _ = _spike_steps(base, duration_ms=100.0, dt_ms=0.25)
    assert a.shape == (401, 1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_user_runtime_overrides_the_published_one_key_by_key():
    tonic = _cell().set_emitter("izhikevich", "tonic_spiking")
    # an explicit runtime wins, in either order, and keeps the protocol's closed loop
    for cfg in (tonic.runtime(dt_ms=0.1, duration_ms=50.0),
                _cell().runtime(dt_ms=0.1, duration_ms=50.0).set_emitter("izhikevich", "tonic_spiking")):
        assert (cfg.runtime_spec["dt_ms"], cfg.runtime_spec["duration_ms"]) == (0.1, 50.0)
        assert _spike_steps(cfg)[0].shape == (501, 1)
    # one key given: the other stays published
    assert tonic.runtime(duration_ms=50.0).runtime_spec["dt_ms"] == 0.25
    assert tonic.runtime(dt_ms=0.1).runtime_spec["duration_ms"] == 100.0
    # seed, network seed and dtype leave both unset; None is no value (unset is the initial state only)
    other = tonic.runtime(seed=3, network_seed=2, dtype="float32")
    assert (other.runtime_spec["dt_ms"], other.runtime_spec["duration_ms"]) == (0.25, 100.0)
    with pytest.raises(ConfigurationError, match="runtime.dt_ms"):
        tonic.runtime(dt_ms=None)
    # unset values follow the emitter: another preset, or no published protocol
    assert tonic.set_emitter("izhikevich", "phasic_bursting").runtime_spec["dt_ms"] == 0.2
    for cfg in (tonic.set_emitter("izhikevich", "cortical_eig"),
                tonic.set_emitter("izhikevich", "tonic_spiking", drive="none"),
                tonic.set_emitter("iaf_psc_exp", "nest_default")):
        assert (cfg.runtime_spec["dt_ms"], cfg.runtime_spec["duration_ms"]) == (0.1, 1000.0)


def test_published_values_that_do_not_fit_a_given_value_are_named():
    with pytest.raises(ConfigurationError) as err:
        _cell().set_emitter("izhikevich", "tonic_spiking").runtime(dt_ms=0.3)
    assert err.value.field == "runtime.duration_ms" and err.value.value == 100.0
    assert "published value of izhikevich/tonic_spiking" in str(err.value)
    with pytest.raises(ConfigurationError, match="runtime.duration_ms"):
        _cell().runtime(dt_ms=0.3).set_emitter("izhikevich", "tonic_spiking")


def test_resolved_runtime_is_what_a_stored_configuration_carries():
    """``to_dict`` (the run config, the provenance) holds numbers; rebuilt, the configuration is equal,
    hashes the same and runs the same."""
    cfg = _cell().set_emitter("izhikevich", "spike_latency")
    d = cfg.to_dict()
    assert (d["runtime"]["dt_ms"], d["runtime"]["duration_ms"]) == (0.2, 100.0)
    back = jaxfne.Configuration.from_dict(d)
    assert back == cfg and back.sha256 == cfg.sha256 and back.to_dict() == d
    assert jaxfne.Configuration.from_yaml(cfg.to_yaml()).sha256 == cfg.sha256


@pytest.mark.parametrize("preset, drive", [("cortical_eig", "preset"), ("RS", "none")])
def test_runs_without_a_published_protocol_keep_t_over_dt_steps(preset, drive):
    cfg = _cell().runtime(dt_ms=0.5, duration_ms=5.0).set_emitter("izhikevich", preset, drive=drive)
    model = jaxfne.construct(cfg)
    assert model.static.closed_end is False
    assert np.asarray(jaxfne.simulate(model, seed=0).spikes).shape == (10, 1)


def test_hydra_tonic_spiking_runs_the_published_protocol():
    """``python -m jaxfne emitter=izhikevich/tonic_spiking``: 0.25 ms, 100 ms, like set_emitter."""
    cfg = _composed("emitter=izhikevich/tonic_spiking")
    assert (cfg.runtime_spec["dt_ms"], cfg.runtime_spec["duration_ms"]) == (0.25, 100.0)
    assert cfg.emitter_spec["preset"] == "tonic_spiking" and cfg.emitter_spec["drive"] == "preset"
    py = jaxfne.configuration().set_emitter("izhikevich", "tonic_spiking")
    assert cfg.runtime_spec == py.runtime_spec


def test_hydra_runtime_overrides_win():
    rt = _composed("emitter=izhikevich/tonic_spiking", "runtime.dt_ms=0.1").runtime_spec
    assert (rt["dt_ms"], rt["duration_ms"]) == (0.1, 100.0)
    rt = _composed("emitter=izhikevich/tonic_spiking", "runtime.duration_ms=60").runtime_spec
    assert (rt["dt_ms"], rt["duration_ms"]) == (0.25, 60.0)
    rt = _composed("emitter=izhikevich/tonic_spiking", "runtime=short").runtime_spec
    assert (rt["dt_ms"], rt["duration_ms"]) == (0.1, 200.0)


def test_hydra_runs_without_a_published_protocol_keep_the_defaults():
    for ovs in ([], ["emitter=izhikevich/rs_fs"], ["emitter=iaf_psc_exp/nest_default"], ["network=pd14"]):
        rt = _composed(*ovs).runtime_spec
        assert (rt["dt_ms"], rt["duration_ms"]) == (0.1, 1000.0), ovs
    for run in expand_study("default", CONF):
        assert (run.config["runtime"]["dt_ms"], run.config["runtime"]["duration_ms"]) == (0.1, 1000.0)


# =====================================================================================
# 3. rs_fs: one source
# =====================================================================================


def test_rs_fs_group_file_only_names_the_python_preset():
    text = (CONF / "emitter" / "izhikevich" / "rs_fs.yaml").read_text()
    data = yaml.safe_load(text)
    assert text.startswith("# @package _global_")
    assert data == {"emitter": {"setup": "izhikevich/rs_fs"}}
    assert jaxfne.presets.SETUPS["izhikevich/rs_fs"] is jaxfne.presets.rs_fs


def test_hydra_rs_fs_equals_the_python_preset():
    """Hydra's ``emitter=izhikevich/rs_fs`` and the Python preset on the same base give one resolved
    configuration: the same dict, the same hash."""
    hydra = _composed("emitter=izhikevich/rs_fs")
    base = (jaxfne.configuration()
            .runtime(seed=0, network_seed=0, dtype="float32")
            .column("V1", layers=["L2/3", "L4", "L5"], n=200, radius_um=200.0, position_um=(0.0, 0.0))
            .cell_types({"E": 0.8, "I": 0.2})
            .connectivity()
            .probes(["SPK", "Vm", "I_syn", "MUA-proxy", "source-proxy", "LFP-proxy", "CSD-proxy",
                     "EEG-proxy", "MEG-proxy", "EMM-proxy"]))
    py = jaxfne.presets.rs_fs(base)
    assert py.to_dict() == hydra.to_dict() and py.sha256 == hydra.sha256
    # and the same through the study that sweeps it
    for run in expand_study("tiny", CONF):
        if run.axes["preset"] == "izhikevich/rs_fs":
            cfg = jaxfne.Configuration.from_dict(run.config)
            rest = {k: v for k, v in run.config.items() if k not in ("emitter", "stimuli")}
            assert jaxfne.presets.SETUPS["izhikevich/rs_fs"](jaxfne.Configuration.from_dict(rest)) == cfg


def test_rs_fs_python_preset_contents():
    cfg = jaxfne.presets.rs_fs()
    em = cfg.emitter_spec
    assert (em["family"], em["preset"], em["per_type"], em["drive"]) == ("izhikevich", "RS", {"I": "FS"}, "none")
    background, volley = cfg.stimuli
    assert (background["kind"], background["target"], background["rate_hz"], background["n_inputs"]) == (
        "poisson", {}, 8.0, 100)
    assert volley["target"] == {"layer": "L4"} and volley["synapse_depth_um"] == "L4"
    assert (volley["start_ms"], volley["stop_ms"], volley["rate_hz"]) == (500.0, 505.0, 200.0)
    # it adds to what is there and leaves the runtime alone (no published protocol: 0.1 ms, 1000 ms)
    more = jaxfne.configuration().stimulus("step", amplitude=1.0)
    assert [s["kind"] for s in jaxfne.presets.rs_fs(more).stimuli] == ["step", "poisson", "poisson"]
    assert (cfg.runtime_spec["dt_ms"], cfg.runtime_spec["duration_ms"]) == (0.1, 1000.0)


def test_null_runtime_keys_of_a_composed_dict_are_unset():
    column = {"name": "V1", "layers": ["L2/3"], "n": 1}
    d = configuration_dict({"column": column, "runtime": {"seed": 1, "dt_ms": None, "duration_ms": 40.0},
                            "emitter": {"family": "izhikevich", "preset": "tonic_spiking"}})
    assert d["runtime"] == {"seed": 1, "duration_ms": 40.0}
    rt = jaxfne.Configuration.from_dict(d).runtime_spec
    assert (rt["seed"], rt["dt_ms"], rt["duration_ms"]) == (1, 0.25, 40.0)
    with pytest.raises(ConfigurationError, match="runtime.seed"):  # only the step and duration may be null
        to_configuration({"column": column, "runtime": {"seed": None}})


def test_setup_keys_compose_and_bad_names_are_named():
    column = {"name": "V1", "layers": ["L2/3", "L4"], "n": 20}
    d = configuration_dict({"column": column, "emitter": {"setup": "izhikevich/rs_fs", "capacitance_pF": 50.0},
                            "stimuli": [{"kind": "step", "amplitude": 1.0}]})
    assert d["emitter"]["preset"] == "RS" and d["emitter"]["capacitance_pF"] == 50.0
    assert [s["kind"] for s in d["stimuli"]] == ["poisson", "poisson", "step"]
    with pytest.raises(ConfigurationError) as err:
        configuration_dict({"column": column, "emitter": {"setup": "izhikevich/nope"}})
    assert err.value.field == "emitter.setup" and "izhikevich/rs_fs" in str(err.value)
