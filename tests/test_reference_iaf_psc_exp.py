"""The numpy ``iaf_psc_exp`` reference: analytic checks, and spike-for-spike agreement with NEST.

The unmarked tests check :mod:`tests.reference.iaf_psc_exp_numpy` against closed-form
results of the continuous model sampled on the grid (DC firing rate, subthreshold
relaxation, PSP shape). The ``crosscheck`` tests replay the same input into NEST 3's
``iaf_psc_exp`` (:mod:`tests.reference.nest_iaf_psc_exp`) and require identical spike steps
and V_m within 1e-9 mV (measured with NEST 3.10: bit-identical V_m, I_syn_ex and I_syn_in).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

try:
    from tests.reference import iaf_psc_exp_numpy as ref
    from tests.reference import nest_iaf_psc_exp as nest_ref
except ImportError:
    from reference import iaf_psc_exp_numpy as ref
    from reference import nest_iaf_psc_exp as nest_ref

#: Potjans & Diesmann (2014) microcircuit neuron parameters.
PD14 = {
    "C_m": 250.0,
    "tau_m": 10.0,
    "t_ref": 2.0,
    "E_L": -65.0,
    "V_reset": -65.0,
    "V_th": -50.0,
    "tau_syn_ex": 0.5,
    "tau_syn_in": 0.5,
}
#: tau_syn == tau_m: the singular P21.
SINGULAR = {"tau_syn_ex": 10.0, "tau_syn_in": 10.0}

PARAM_SETS = {"nest_defaults": dict(ref.DEFAULTS), "pd14": PD14}


# --------------------------------------------------------------------------- numpy reference


@pytest.mark.parametrize("tau_syn", [0.5, 2.0, 9.999, 10.0, 25.0])
def test_p21_is_the_exact_propagator(tau_syn):
    """P21 equals the integral (1/C) int_0^h exp(-(h-s)/tau_m) exp(-s/tau_syn) ds."""
    h, tau_m, C = 0.1, 10.0, 250.0
    if tau_syn == tau_m:
        exact = h / C * math.exp(-h / tau_m)
    else:
        exact = tau_syn * tau_m / (C * (tau_m - tau_syn)) * (math.exp(-h / tau_m) - math.exp(-h / tau_syn))
    assert ref.propagator_p21(tau_syn, tau_m, C, h) == pytest.approx(exact, rel=1e-11)
    assert ref.propagator_p21(tau_syn, tau_m, C, h, expm1=math.expm1) == pytest.approx(exact, rel=1e-11)


def test_nest_expm1_matches_library_to_a_few_ulp():
    for x in np.linspace(-1.0, 1.0, 2001):
        assert abs(ref.nest_expm1(float(x)) - math.expm1(float(x))) <= 5 * math.ulp(math.expm1(float(x)))


@pytest.mark.parametrize(
    "tau_syn,nest_value",
    [(2.0, 0.0003882040924845405), (0.5, 0.00036067174878144463), (10.0, 0.0003960199334996673)],
)
def test_p21_bits_as_recorded_from_nest_3_10(tau_syn, nest_value):
    """P21 (h = 0.1 ms, tau_m = 10 ms, C_m = 250 pF) read from NEST 3.10 as the V_m step after a 1 pA jump."""
    assert ref.propagator_p21(tau_syn, 10.0, 250.0, 0.1) == nest_value


def test_refractory_counts():
    assert ref.refractory_counts(2.0, 0.1) == 20
    assert ref.refractory_counts(2.0, 0.025) == 80
    assert ref.refractory_counts(0.0, 0.1) == 0
    assert ref.refractory_counts(0.25, 0.1) == 3  # NEST rounds t_ref up to whole steps


@pytest.mark.parametrize("name", PARAM_SETS)
@pytest.mark.parametrize("I_e", [380.0, 450.0, 700.0])
@pytest.mark.parametrize("dt", [0.1, 0.05])
def test_dc_rate_on_grid(name, I_e, dt):
    """Constant I_e: every ISI is R + ceil(T_free / h) steps, within one step of the analytic ISI."""
    params = dict(PARAM_SETS[name], I_e=I_e)
    h = ref.grid_step_ms(dt)
    t_free = ref.free_time_to_threshold_ms(params, I_e)
    assert 1e-6 < (t_free / h) % 1.0 < 1.0 - 1e-6, "T_free/h too close to an integer for a clean test"
    n = int(round(2000.0 / dt))
    out = ref.simulate(params, n, dt)
    spikes = out["spike_steps"]
    assert spikes.size > 20
    isi = np.diff(spikes)
    expected = ref.isi_steps_on_grid(params, I_e, dt)
    assert np.all(isi == expected)
    assert spikes[0] == expected - ref.refractory_counts(params["t_ref"], dt) - 1  # first, from V_reset = E_L
    assert 1000.0 / (isi[0] * h) == pytest.approx(ref.dc_rate_on_grid_hz(params, I_e, dt), rel=1e-14)
    isi_analytic = 1000.0 / ref.dc_rate_hz(params, I_e)
    assert 0.0 <= isi[0] * h - isi_analytic < h
    R = ref.refractory_counts(params["t_ref"], dt)
    clamp = out["V_m"][spikes[0] : spikes[0] + R + 1]
    assert np.all(clamp == params["V_reset"])  # reset, then R clamped steps
    assert out["V_m"][spikes[0] + R + 1] > params["V_reset"]


def test_dc_rate_formula_special_case():
    """With V_reset = E_L, dc_rate_hz is 1/(t_ref + tau_m ln(x / (x - (V_th - E_L)))), x = I tau/C."""
    p = ref.DEFAULTS
    x = 500.0 * p["tau_m"] / p["C_m"]
    isi = p["t_ref"] + p["tau_m"] * math.log(x / (x - (p["V_th"] - p["E_L"])))
    assert ref.dc_rate_hz(p, 500.0) == pytest.approx(1000.0 / isi, rel=1e-14)
    assert ref.dc_rate_hz(p, 300.0) == 0.0
    assert ref.dc_rate_on_grid_hz(p, 300.0, 0.1) == 0.0


@pytest.mark.parametrize("V0", [None, -60.0, -80.0])
def test_subthreshold_relaxation_to_E_L_plus_I_tau_over_C(V0):
    """Below threshold, V_m(t) = V_inf + (V0 - V_inf) exp(-t/tau_m), V_inf = E_L + I_e tau_m / C_m."""
    p = dict(ref.DEFAULTS, I_e=300.0)
    dt, n = 0.1, 4000
    out = ref.simulate(p, n, dt, V0=V0)
    v_start = p["E_L"] if V0 is None else V0
    v_inf = p["E_L"] + p["I_e"] * p["tau_m"] / p["C_m"]
    t = (np.arange(n) + 1) * dt
    analytic = v_inf + (v_start - v_inf) * np.exp(-t / p["tau_m"])
    np.testing.assert_allclose(out["V_m"], analytic, rtol=0, atol=1e-11)
    assert out["V_m"][-1] == pytest.approx(v_inf, abs=1e-12)
    assert out["spike_steps"].size == 0


@pytest.mark.parametrize(
    "params", [dict(ref.DEFAULTS), PD14, dict(ref.DEFAULTS, **SINGULAR)], ids=["defaults", "pd14", "tau_syn=tau_m"]
)
@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["ex", "in"])
def test_single_psp_matches_exact_solution(params, sign):
    """One spike of w pA arriving in step k0: V_m - E_L is the exact PSP at t - t_{k0+1}, peak included."""
    dt, n, k0, w = 0.1, 1500, 20, sign * 150.0
    arrivals = np.zeros(n)
    arrivals[k0] = w
    if sign > 0:
        out = ref.simulate(params, n, dt, w_ex_pA=arrivals)
    else:
        out = ref.simulate(params, n, dt, w_in_pA=arrivals)
    s = (np.arange(n) - k0) * dt  # time since the current jump at the end of step k0
    exact = ref.psp_exact_mV(s, w, params, excitatory=sign > 0)
    syn = out["I_syn_ex"] if sign > 0 else out["I_syn_in"]
    tau_s = params["tau_syn_ex"] if sign > 0 else params["tau_syn_in"]
    np.testing.assert_allclose(syn[k0:], w * np.exp(-s[k0:] / tau_s), rtol=1e-12, atol=0)
    np.testing.assert_allclose(out["V_m"] - params["E_L"], exact, rtol=0, atol=1e-12)
    assert np.all(out["V_m"][: k0 + 1] == params["E_L"])

    j = int(np.argmax(sign * out["V_m"]))
    t_peak = ref.psp_peak_time_ms(params, excitatory=sign > 0)
    assert abs(s[j] - t_peak) <= dt / 2 + 1e-12  # the grid peak is the sample nearest the true peak
    peak = float(ref.psp_exact_mV(t_peak, w, params, excitatory=sign > 0))
    assert out["V_m"][j] - params["E_L"] == pytest.approx(float(exact[j]), abs=1e-12)
    assert abs(out["V_m"][j] - params["E_L"]) <= abs(peak) + 1e-12
    assert out["V_m"][j] - params["E_L"] == pytest.approx(peak, rel=1e-3)


def test_input_validation():
    with pytest.raises(ValueError):
        ref.simulate(None, 10, 0.1, w_ex_pA=-np.ones(10))
    with pytest.raises(ValueError):
        ref.simulate(None, 10, 0.1, i_ext_pA=np.ones(9))
    with pytest.raises(ValueError):
        ref.simulate({"tau": 3.0}, 10, 0.1)


def test_nest_input_to_steps_mapping():
    """The documented NEST timing, as per-step arrays (no NEST needed)."""
    n, dt = 40, 0.1
    st = nest_ref.nest_input_to_steps(
        n,
        dt,
        spike_times_ms_ex=[0.3, 0.3, 1.0],
        weights_ex=[1.0, 2.0, 4.0],
        spike_times_ms_in=[0.5],
        weights_in=-8.0,
    )
    assert np.flatnonzero(st["w_ex_pA"]).tolist() == [3, 10] and st["w_ex_pA"][3] == 3.0
    assert np.flatnonzero(st["w_in_pA"]).tolist() == [5] and st["w_in_pA"][5] == -8.0
    st = nest_ref.nest_input_to_steps(n, dt, spike_times_ms_ex=[0.3], weights_ex=1.0, delay_ms=1.0)
    assert np.flatnonzero(st["w_ex_pA"]).tolist() == [12]  # round((t + d) / h) - 1
    st = nest_ref.nest_input_to_steps(n, dt, dc_pA=5.0, delay_ms=0.3)
    assert np.flatnonzero(st["i_ext_pA"]).tolist() == list(range(4, n))  # k >= D + 1
    st = nest_ref.nest_input_to_steps(n, dt, step_current=([0.5, 1.5], [7.0, -3.0]), delay_ms=0.2)
    assert np.flatnonzero(st["i_ext_pA"]).tolist() == list(range(7, n))  # from t + d on
    assert st["i_ext_pA"][16] == 7.0 and st["i_ext_pA"][17] == -3.0

    rng = np.random.default_rng(3)
    w_ex = np.where(rng.random(n) < 0.3, rng.uniform(1, 50, n), 0.0)
    w_in = np.where(rng.random(n) < 0.3, -rng.uniform(1, 50, n), 0.0)
    w_ex[:2] = w_in[:2] = 0.0
    spec = nest_ref.steps_to_nest_input(w_ex, w_in, dt, delay_ms=0.2)
    back = nest_ref.nest_input_to_steps(n, dt, delay_ms=0.2, **spec)
    np.testing.assert_array_equal(back["w_ex_pA"], w_ex)
    np.testing.assert_array_equal(back["w_in_pA"], w_in)


# --------------------------------------------------------------------------- NEST crosscheck


def _poisson_times(rng, rate_hz: float, n_steps: int, dt: float) -> np.ndarray:
    """Grid spike times (ms) of a Poisson process of ``rate_hz``, repeats allowed, in steps 1 .. n-1."""
    count = rng.poisson(rate_hz * n_steps * dt / 1000.0)
    return np.sort(rng.integers(1, n_steps, size=count)) * dt


def _both(params, n_steps, dt, *, V0=None, threads=1, **spec):
    """(NEST result, numpy result) for the same input spec."""
    nest_out = nest_ref.run_nest(params, n_steps, dt, V0=V0, threads=threads, **spec)
    st = nest_ref.nest_input_to_steps(n_steps, dt, **spec)
    plist = params if isinstance(params, list) else [params]
    np_out = [
        ref.simulate(p, n_steps, dt, st["i_ext_pA"], st["w_ex_pA"], st["w_in_pA"], V0=V0) for p in plist
    ]
    return nest_out, np_out if isinstance(params, list) else np_out[0]


def _assert_same(nest_out, np_out, row=None):
    pick = (lambda key: nest_out[key]) if row is None else (lambda key: nest_out[key][row])
    np.testing.assert_array_equal(pick("spike_steps"), np_out["spike_steps"])
    np.testing.assert_allclose(pick("V_m"), np_out["V_m"], rtol=0, atol=1e-9)
    for key in ("I_syn_ex", "I_syn_in"):
        np.testing.assert_allclose(pick(key), np_out[key], rtol=0, atol=1e-9)


@pytest.mark.crosscheck
@pytest.mark.parametrize("name", PARAM_SETS)
@pytest.mark.parametrize("I_e", [376.0, 450.0, 1000.0])
def test_crosscheck_dc_via_I_e(name, I_e):
    pytest.importorskip("nest")
    params = dict(PARAM_SETS[name], I_e=I_e)
    nest_out, np_out = _both(params, 10000, 0.1)
    assert np_out["spike_steps"].size > 5
    _assert_same(nest_out, np_out)


@pytest.mark.crosscheck
@pytest.mark.parametrize("delay_ms", [0.1, 1.0])
def test_crosscheck_dc_generator(delay_ms):
    pytest.importorskip("nest")
    nest_out, np_out = _both(None, 5000, 0.1, dc_pA=420.0, V0=-58.0, delay_ms=delay_ms)
    assert np_out["spike_steps"].size > 5
    _assert_same(nest_out, np_out)


@pytest.mark.crosscheck
@pytest.mark.parametrize("name", PARAM_SETS)
@pytest.mark.parametrize("delay_ms", [0.1, 0.5])
def test_crosscheck_step_current_generator(name, delay_ms):
    pytest.importorskip("nest")
    step_current = ([0.1, 50.0, 120.0, 200.0, 260.0, 400.0], [380.0, 520.0, 0.0, 450.0, -100.0, 800.0])
    nest_out, np_out = _both(PARAM_SETS[name], 5000, 0.1, step_current=step_current, delay_ms=delay_ms)
    assert np_out["spike_steps"].size > 10
    _assert_same(nest_out, np_out)


#: (ex rate Hz, in rate Hz, ex weight pA) giving 10-30 Hz output for each parameter set
POISSON_DRIVE = {"nest_defaults": (4500.0, 750.0, 87.8), "pd14": (15000.0, 2000.0, 87.8)}


@pytest.mark.crosscheck
@pytest.mark.parametrize("name", PARAM_SETS)
@pytest.mark.parametrize("dt,delay_ms", [(0.1, 0.1), (0.1, 1.5), (0.05, 1.0)])
def test_crosscheck_poisson_input(name, dt, delay_ms):
    """Random excitatory and inhibitory spikes on the grid (inhibitory weight -4 w)."""
    pytest.importorskip("nest")
    rate_ex, rate_in, w = POISSON_DRIVE[name]
    n = int(round(2000.0 / dt))
    rng = np.random.default_rng(2014)
    spec = {
        "spike_times_ms_ex": _poisson_times(rng, rate_ex, n, dt),
        "weights_ex": w,
        "spike_times_ms_in": _poisson_times(rng, rate_in, n, dt),
        "weights_in": -4.0 * w,
        "delay_ms": delay_ms,
    }
    nest_out, np_out = _both(PARAM_SETS[name], n, dt, **spec)
    rate = np_out["spike_steps"].size / (n * dt / 1000.0)
    assert 10.0 <= rate <= 30.0
    _assert_same(nest_out, np_out)


@pytest.mark.crosscheck
def test_crosscheck_several_neurons_two_threads():
    """Three parameter sets (one with tau_syn == tau_m) in one NEST run, random weights, 2 threads."""
    pytest.importorskip("nest")
    dt, n = 0.1, 10000
    rng = np.random.default_rng(7)
    t_ex = _poisson_times(rng, 9000.0, n, dt)
    t_in = _poisson_times(rng, 1500.0, n, dt)
    params = [dict(ref.DEFAULTS, I_e=100.0), dict(PD14, I_e=350.0), dict(ref.DEFAULTS, **SINGULAR)]
    nest_out, np_outs = _both(
        params,
        n,
        dt,
        V0=-62.0,
        threads=2,
        spike_times_ms_ex=t_ex,
        weights_ex=rng.uniform(20.0, 60.0, t_ex.size),
        spike_times_ms_in=t_in,
        weights_in=rng.uniform(-200.0, -50.0, t_in.size),
    )
    for row, np_out in enumerate(np_outs):
        assert np_out["spike_steps"].size > 5
        _assert_same(nest_out, np_out, row=row)
