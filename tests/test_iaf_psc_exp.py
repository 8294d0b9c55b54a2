"""NEST's ``iaf_psc_exp`` in jaxfne against an independent numpy port of NEST's exact integration
(``tests/reference/iaf_psc_exp_numpy.py``), the analytic DC rate, and NEST itself (``crosscheck``).

float64: spike steps identical and V_m within 1e-9 mV for DC, step, series and Poisson-driven input,
and in a recurrent network whose arrivals are rebuilt from jaxfne's own spikes and synapses.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxfne

try:
    from tests.reference import iaf_psc_exp_numpy as ref
    from tests.reference import nest_iaf_psc_exp as nest_ref
except ImportError:
    from reference import iaf_psc_exp_numpy as ref
    from reference import nest_iaf_psc_exp as nest_ref

from jaxfne.presets.iaf_psc_exp import get_preset

DT = 0.1
PRESETS = ("nest_default", "potjans_diesmann_2014")


def _single(preset, duration_ms, *, params=None, stimuli=(), dtype="float64", probes=("SPK", "Vm", "I_syn")):
    cfg = (jaxfne.configuration()
           .runtime(seed=0, dtype=dtype, dt_ms=DT, duration_ms=duration_ms)
           .column("cell", layers=["L2/3"], n=1).cell_types({"E": 1}).connectivity(recurrent=False)
           .set_emitter("iaf_psc_exp", preset, params=params or {}))
    for kind, kw in stimuli:
        cfg = cfg.stimulus(kind, **kw)
    cfg = cfg.probes(list(probes))
    sig = jaxfne.simulate(jaxfne.construct(cfg), seed=3)
    return sig


def _ref_params(preset, **over):
    p = get_preset(preset).parameters()
    v0 = p.pop("V_m0")
    p.update(over)
    return p, v0


def _assert_same(sig, run, col=0):
    got = np.flatnonzero(np.asarray(sig.spikes)[:, col])
    np.testing.assert_array_equal(got, run["spike_steps"])
    np.testing.assert_allclose(np.asarray(sig.V_m)[:, col], run["V_m"], rtol=0, atol=1e-9)


@pytest.mark.parametrize("preset", PRESETS)
def test_dc_through_I_e_matches_reference(preset):
    i_e = 420.0 if preset == "nest_default" else 390.0
    sig = _single(preset, 300.0, params={"I_e": i_e})
    p, v0 = _ref_params(preset, I_e=i_e)
    run = ref.simulate(p, 3000, DT, V0=v0)
    assert run["spike_steps"].size > 5
    _assert_same(sig, run)


@pytest.mark.parametrize("preset", PRESETS)
def test_step_and_series_currents_match_reference(preset):
    """Stimuli are piecewise constant per step, on at t_k = k dt when start <= t_k < stop."""
    values = [0.0, 300.0, 520.0, 100.0, 450.0]
    stimuli = [("step", {"amplitude": 200.0, "start_ms": 20.0, "stop_ms": 150.0}),
               ("series", {"values": values, "dt_ms": 40.0, "start_ms": 50.0})]
    sig = _single(preset, 300.0, stimuli=stimuli)
    t = np.arange(3000) * DT
    i_ext = np.where((t >= 20.0) & (t < 150.0), 200.0, 0.0)
    k = np.floor((t - 50.0) / 40.0 + 1e-9).astype(int)
    i_ext += np.where((k >= 0) & (k < len(values)), np.asarray(values)[np.clip(k, 0, len(values) - 1)], 0.0)
    p, v0 = _ref_params(preset)
    run = ref.simulate(p, 3000, DT, i_ext_pA=i_ext, V0=v0)
    assert run["spike_steps"].size > 3
    _assert_same(sig, run)


def _poisson_run(preset):
    weight = 40.0 if preset == "nest_default" else 87.8
    sig = _single(preset, 500.0, stimuli=[("poisson", {"rate_hz": 8.0, "n_inputs": 1200, "weight": weight})])
    p, v0 = _ref_params(preset)
    # I_syn is recorded after this step's arrivals: I[k] = P11 I[k-1] + w_k, so the arrivals are exact
    # up to rounding, and the weights are whole multiples of `weight`
    i_syn = np.asarray(sig.I_syn)[:, 0]
    p11 = np.exp(-DT / p["tau_syn_ex"])
    arr = i_syn - p11 * np.concatenate([[0.0], i_syn[:-1]])
    arr = np.round(arr / weight) * weight
    return sig, p, v0, arr


@pytest.mark.parametrize("preset", PRESETS)
def test_poisson_driven_matches_reference(preset):
    sig, p, v0, arr = _poisson_run(preset)
    run = ref.simulate(p, arr.size, DT, w_ex_pA=arr, V0=v0)
    assert 3 <= run["spike_steps"].size
    _assert_same(sig, run)
    np.testing.assert_allclose(np.asarray(sig.I_syn)[:, 0], run["I_syn_ex"], rtol=0, atol=1e-9)


def test_recurrent_network_matches_reference_neuron_by_neuron():
    """Arrivals rebuilt from jaxfne's spikes and its synapses (weight, delay in steps) drive the port."""
    cfg = (jaxfne.configuration()
           .runtime(seed=1, network_seed=4, dtype="float64", dt_ms=DT, duration_ms=400.0)
           .column("net", layers=["L2/3"], n=60).cell_types({"E": 48, "I": 12})
           .connectivity(rule="fixed_indegree", indegree={"E": 10, "I": 3}, weights={"E": 60.0, "I": -240.0},
                         propagation="event")
           .set_emitter("iaf_psc_exp", "potjans_diesmann_2014")
           .stimulus("poisson", rate_hz=8.0, n_inputs=1000, weight=87.8)
           .probes(["SPK", "Vm", "I_syn"]))
    model = jaxfne.construct(cfg)
    sig = jaxfne.simulate(model)
    spikes = np.asarray(sig.spikes)
    n_steps = spikes.shape[0]
    syn = model.synapses
    d = syn.delay_steps(DT)
    ex = np.zeros((n_steps, model.n))
    inh = np.zeros((n_steps, model.n))
    for k, j in zip(*np.nonzero(spikes)):
        rows = syn.pre == j
        t = k + d[rows]
        ok = t < n_steps
        w = syn.weight[rows][ok]
        np.add.at(ex, (t[ok][w > 0], syn.post[rows][ok][w > 0]), w[w > 0])
        np.add.at(inh, (t[ok][w < 0], syn.post[rows][ok][w < 0]), w[w < 0])
    p, v0 = _ref_params("potjans_diesmann_2014")
    i_syn = np.asarray(sig.I_syn)
    p11 = np.exp(-DT / p["tau_syn_ex"])
    total_rate = 0
    for i in range(model.n):
        # the Poisson drive's arrivals: I_syn minus the recurrent part, one neuron at a time
        run_rec = ref.simulate(p, n_steps, DT, w_ex_pA=ex[:, i], w_in_pA=inh[:, i], V0=v0)
        drive = i_syn[:, i] - run_rec["I_syn_ex"] - run_rec["I_syn_in"]
        arr = drive - p11 * np.concatenate([[0.0], drive[:-1]])
        arr = np.round(arr / 87.8) * 87.8
        run = ref.simulate(p, n_steps, DT, w_ex_pA=ex[:, i] + arr, w_in_pA=inh[:, i], V0=v0)
        _assert_same(sig, run, col=i)
        total_rate += run["spike_steps"].size
    assert total_rate > 60  # the network is active


@pytest.mark.parametrize("i_e", [380.0, 500.0, 900.0])
def test_dc_rate_equals_analytic_on_the_grid(i_e):
    """Rate = 1 / (t_ref + tau_m ln(a / (a - (V_th - E_L)))), a = I_e tau_m / C_m, to the grid."""
    sig = _single("nest_default", 2000.0, params={"I_e": i_e, "V_m0": -70.0}, probes=("SPK",))
    steps = np.flatnonzero(np.asarray(sig.spikes)[:, 0])
    isi = np.diff(steps)
    p = dict(ref.DEFAULTS)
    assert np.all(isi == isi[0])
    assert 1e3 / (isi[0] * DT) == pytest.approx(ref.dc_rate_on_grid_hz(p, i_e, DT), rel=1e-12)
    analytic_isi_ms = 1e3 / ref.dc_rate_hz(p, i_e)
    assert 0 <= isi[0] * DT - analytic_isi_ms < DT + 1e-9


def test_float32_keeps_dc_spike_times():
    sig = _single("nest_default", 300.0, params={"I_e": 420.0}, dtype="float32")
    p, v0 = _ref_params("nest_default", I_e=420.0)
    run = ref.simulate(p, 3000, DT, V0=v0)
    got = np.flatnonzero(np.asarray(sig.spikes)[:, 0])
    assert got.size == run["spike_steps"].size
    assert np.max(np.abs(got - run["spike_steps"])) <= 1


@pytest.mark.crosscheck
@pytest.mark.parametrize("preset", PRESETS)
def test_nest_replays_the_jaxfne_input_spike_for_spike(preset):
    """NEST 3 iaf_psc_exp fed the Poisson arrivals jaxfne drew (a spike generator) plus DC through I_e.

    The drive starts at 1 ms, so every arrival is one a spike generator with a one-step delay can make.
    """
    pytest.importorskip("nest")
    i_e, weight = 150.0, (40.0 if preset == "nest_default" else 87.8)
    sig = _single(preset, 500.0, params={"I_e": i_e},
                  stimuli=[("poisson", {"rate_hz": 8.0, "n_inputs": 1000, "weight": weight, "start_ms": 1.0})])
    p, v0 = _ref_params(preset, I_e=i_e)
    i_syn = np.asarray(sig.I_syn)[:, 0]
    p11 = np.exp(-DT / p["tau_syn_ex"])
    arr = np.round((i_syn - p11 * np.concatenate([[0.0], i_syn[:-1]])) / weight) * weight
    assert not arr[:10].any() and arr.sum() > 0
    run = nest_ref.run_nest(p, arr.size, DT, V0=v0, **nest_ref.steps_to_nest_input(arr, np.zeros_like(arr), DT))
    assert run["spike_steps"].size >= 3
    _assert_same(sig, run)
