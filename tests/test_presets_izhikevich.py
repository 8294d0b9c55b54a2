"""Izhikevich literature presets against an independent port of Izhikevich's MATLAB.

Three layers of checks:

1. The reference (``tests/reference/izhikevich_numpy.py``, a literal port of ``izhi2003.m`` /
   ``figure1.m``) reproduces each named behaviour of Izhikevich (2004) Fig. 1 and
   Izhikevich (2003) Fig. 2, and its spike steps are pinned in ``GOLDEN_SPIKE_STEPS``.
2. The data module (:mod:`jaxfne.presets.izhikevich`) matches the reference: parameters,
   initial state, grid, the host-evaluated stimulus on every grid point, and a generic
   sequential-Euler loop driven only by the preset's fields.
3. The engine (``jaxfne.simulate``) reproduces the reference spike steps exactly and V_m to
   1e-9 mV in float64; in float32 it keeps every spike count and first spike.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from jaxfne.presets import izhikevich as iz

try:
    from tests.golden import spike_checksums as golden
    from tests.reference import izhikevich_numpy as ref
except ImportError:  # tests/ itself on sys.path (pytest rootdir insertion)
    from golden import spike_checksums as golden
    from reference import izhikevich_numpy as ref

# Regenerate with:  python -m tests.reference.izhikevich_numpy
GOLDEN_SPIKE_STEPS = {
    'RS': (73, 97, 218, 351, 484),
    'IB': (75, 85, 100, 233, 351, 470, 588),
    'CH': (76, 83, 91, 100, 110, 122, 138, 328, 338, 349, 363, 550, 560, 571, 585),
    'FS': (76, 96, 126, 161, 196, 233, 270, 309, 346, 383, 421, 457, 493, 528, 565),
    'TC': (158, 214, 332, 481),
    'TC_burst': (204, 224, 247, 276, 319),
    'RZ': (251, 270),
    'LTS': (112, 126, 143, 166, 201, 254, 312, 372, 431, 489, 547, 607, 665, 723, 783, 843, 902, 962),
    'tonic_spiking': (52, 68, 126, 237, 347),
    'phasic_spiking': (175,),
    'tonic_bursting': (100, 106, 113, 120, 128, 136, 145, 155, 167, 182, 320, 329, 339, 351, 366, 395, 531, 540, 550, 562, 577, 605, 742, 751, 761, 773, 788, 818),
    'phasic_bursting': (195, 214, 235, 259, 288, 336),
    'mixed_mode': (80, 91, 109, 268, 397, 526),
    'spike_frequency_adaptation': (41, 49, 60, 79, 170, 286),
    'class_1_excitable': (338, 500, 623, 724, 814, 895, 968, 1037, 1102, 1162),
    'class_2_excitable': (423, 506, 581, 649, 712, 771, 827, 882, 935, 986, 1035, 1084, 1128, 1172),
    'spike_latency': (133,),
    'subthreshold_oscillations': (106,),
    'resonator': (1352,),
    'integrator': (80,),
    'rebound_spike': (340,),
    'rebound_burst': (340, 355, 371, 389, 409, 432, 461),
    'threshold_variability': (373,),
    'bistability': (181, 344, 506, 669, 832),
    'depolarizing_after_potential': (113,),
    'accommodation': (623,),
    'inhibition_induced_spiking': (189, 332, 472),
    'inhibition_induced_bursting': (173, 177, 181, 186, 191, 197, 206, 383, 388, 393, 399, 408),
}

FEATURES = (
    "tonic_spiking", "phasic_spiking", "tonic_bursting", "phasic_bursting", "mixed_mode",
    "spike_frequency_adaptation", "class_1_excitable", "class_2_excitable", "spike_latency",
    "subthreshold_oscillations", "resonator", "integrator", "rebound_spike", "rebound_burst",
    "threshold_variability", "bistability", "depolarizing_after_potential", "accommodation",
    "inhibition_induced_spiking", "inhibition_induced_bursting",
)
CLASSES = ("RS", "IB", "CH", "FS", "LTS", "TC", "TC_burst", "RZ")
ALL = FEATURES + CLASSES


def _run(name):
    run = ref.simulate(name)
    times = run.t[list(run.spike_steps)]
    return run, times, np.diff(times)


def _bursts(times, gap_ms):
    """Split spike times (ms) into bursts wherever an interval exceeds ``gap_ms``."""
    if len(times) == 0:
        return []
    cuts = np.flatnonzero(np.diff(times) > gap_ms) + 1
    return np.split(times, cuts)


# =====================================================================================
# 1. The reference reproduces the published behaviours
# =====================================================================================


@pytest.mark.parametrize("name", ALL)
def test_reference_golden_spike_steps(name):
    assert ref.simulate(name).spike_steps == GOLDEN_SPIKE_STEPS[name]


def test_reference_covers_every_panel():
    assert set(ref.PROTOCOLS) == set(ALL)
    assert ref.FEATURE_NAMES_2004 == FEATURES


def test_tonic_spiking_fires_regularly():
    _, t, isi = _run("tonic_spiking")
    assert t.min() > 10.0 and len(t) >= 4
    assert abs(isi[-1] - isi[-2]) <= 0.5      # steady state: equal intervals within 2 steps
    assert t.max() > 80.0                      # still firing near the end of the 100 ms step


def test_phasic_spiking_fires_once_after_onset():
    _, t, _ = _run("phasic_spiking")
    assert len(t) == 1 and 20.0 < t[0] < 50.0


def test_tonic_bursting_has_bimodal_intervals():
    _, t, isi = _run("tonic_bursting")
    bursts = _bursts(t, gap_ms=15.0)
    assert len(bursts) >= 3 and all(len(b) >= 5 for b in bursts)
    intra = np.concatenate([np.diff(b) for b in bursts])
    inter = np.array([b2[0] - b1[-1] for b1, b2 in zip(bursts, bursts[1:])])
    assert inter.min() > 3 * intra.max()


def test_phasic_bursting_fires_one_burst():
    _, t, isi = _run("phasic_bursting")
    assert len(t) >= 3 and t[0] > 20.0
    assert len(_bursts(t, gap_ms=15.0)) == 1
    assert t.max() < 100.0                     # silent for the second half of the step


def test_mixed_mode_burst_then_tonic():
    _, t, isi = _run("mixed_mode")
    assert isi[0] < 5.0 and isi[1] < 5.0       # initial burst
    assert np.all(isi[2:] > 25.0)              # then tonic spikes
    assert abs(isi[-1] - isi[-2]) <= 0.5


def test_spike_frequency_adaptation_intervals_increase():
    _, t, isi = _run("spike_frequency_adaptation")
    assert len(t) >= 5 and np.all(np.diff(isi) > 0)


def test_class_1_rate_rises_from_low_values():
    _, t, isi = _run("class_1_excitable")
    assert t[0] > 30.0 and np.all(np.diff(isi) < 0)    # rate grows with the ramp
    assert 1000.0 / isi[0] < 30.0                        # starts slow (Hz)
    assert isi[0] > 2.5 * isi[-1]


def test_class_2_fires_at_non_zero_onset_rate():
    _, t1, isi1 = _run("class_1_excitable")
    _, t2, isi2 = _run("class_2_excitable")
    assert t2[0] > 30.0 and np.all(np.diff(isi2) <= 0)
    assert 1000.0 / isi2[0] > 40.0                       # onset rate far from zero (Hz)
    assert isi2[0] < isi1[0] / 1.5


def test_spike_latency_one_delayed_spike():
    _, t, _ = _run("spike_latency")
    assert len(t) == 1 and t[0] > 13.0 + 5.0             # > 5 ms after the pulse ended


def test_subthreshold_oscillations_decay():
    run, t, _ = _run("subthreshold_oscillations")
    assert len(t) <= 1
    mask = run.t > 40.0
    v, tt = run.VV[mask], run.t[mask]
    d = np.diff(v)
    peaks = np.flatnonzero((d[:-1] > 0) & (d[1:] <= 0)) + 1
    troughs = np.flatnonzero((d[:-1] < 0) & (d[1:] >= 0)) + 1
    assert len(peaks) >= 2 and len(troughs) >= 2
    extrema = np.concatenate([peaks, troughs])
    values = v[np.sort(extrema)]                         # alternating peaks and troughs in time
    swings = np.abs(np.diff(values))
    assert np.all(np.diff(swings) < 0)                   # damped


def test_resonator_fires_only_for_the_resonant_doublet():
    _, t, _ = _run("resonator")
    assert len(t) >= 1
    assert np.all(t > 0.7 * 400 + 40)                    # after the second pulse of the late pair
    assert not np.any(t < 0.7 * 400)                     # nothing for the early pair


def test_integrator_fires_for_the_close_pair_only():
    _, t, _ = _run("integrator")
    assert len(t) == 1 and 100 / 11 + 5 < t[0] < 30.0


@pytest.mark.parametrize("name, min_spikes", [("rebound_spike", 1), ("rebound_burst", 3)])
def test_rebound_after_negative_pulse(name, min_spikes):
    _, t, isi = _run(name)
    assert len(t) >= min_spikes and np.all(t > 25.0)
    if name == "rebound_spike":
        assert len(t) == 1
    else:
        assert np.all(isi[:3] < 5.0)


def test_threshold_variability_same_pulse_fires_only_after_inhibition():
    _, t, _ = _run("threshold_variability")
    assert len(t) == 1 and t[0] > 80.0


def test_bistability_switched_on_and_off_by_pulses():
    _, t, _ = _run("bistability")
    assert len(t) >= 3
    assert t.min() > 300 / 8 and t.max() < 216.0 + 5.0


def test_dap_depolarised_after_potential():
    run, t, _ = _run("depolarizing_after_potential")
    assert len(t) == 1 and 9.0 < t[0] < 12.0
    after = run.VV[(run.t > t[0] + 1.0) & (run.t < t[0] + 6.0)]
    assert after.max() > -60.0 + 5.0                     # rises well above the reset value
    assert run.VV[-1] < -60.0                            # and relaxes afterwards


def test_accommodation_slow_ramp_silent_fast_ramp_fires():
    run, t, _ = _run("accommodation")
    assert len(t) == 1 and 300.0 < t[0] < 312.5
    # fires at a lower current than the slow ramp reached without firing
    assert run.I[run.spike_steps[0]] < 0.5 * run.I[run.t < 200].max()


@pytest.mark.parametrize("name, min_bursts", [("inhibition_induced_spiking", 0),
                                              ("inhibition_induced_bursting", 2)])
def test_inhibition_induced_firing(name, min_bursts):
    _, t, _ = _run(name)
    assert len(t) >= 3 and np.all((t >= 50.0) & (t <= 250.0))
    if min_bursts:
        bursts = _bursts(t, gap_ms=15.0)
        assert len(bursts) >= min_bursts and all(len(b) >= 4 for b in bursts)


def test_2003_classes_behaviours():
    _, t, isi = _run("RS")
    assert t[0] > 15.0 and isi[0] < isi[1] and len(t) >= 4            # adapting
    _, t, isi = _run("IB")
    assert isi[0] < 3.0 and np.all(isi[2:] > 25.0)                     # burst, then tonic
    _, t, _ = _run("CH")
    assert len(_bursts(t, gap_ms=15.0)) >= 3
    _, t, isi = _run("FS")
    assert len(t) >= 12 and np.ptp(isi[3:]) <= 3.0                      # fast, little adaptation
    _, t, isi = _run("LTS")
    assert len(t) >= 12 and isi[0] < 0.5 * isi[-1]                     # fast, adapting
    _, t, _ = _run("TC")
    assert t[0] > 30.0 and len(t) >= 3
    _, t, isi = _run("TC_burst")
    assert t[0] > 45.0 and len(t) >= 4 and isi[0] < 6.0                # rebound burst
    _, t, _ = _run("RZ")
    assert np.all(t > 60.0)                                            # only after the pulse


@pytest.mark.parametrize("name", [n for n in ALL if ref.PROTOCOLS[n].tau not in (0.25, 0.5)])
def test_engine_grid_takes_matlab_stimulus_decisions(name):
    """t_k = k*tau and MATLAB's symmetric 0:tau:T give the same stimulus on every step."""
    assert np.array_equal(ref.stimulus(name, "engine"), ref.stimulus(name, "matlab"))


# =====================================================================================
# 2. The data module matches the reference
# =====================================================================================


def test_registry_names():
    assert tuple(iz.FEATURES_2004) == FEATURES
    assert set(iz.CLASSES_2003) == set(CLASSES)
    assert set(iz.PRESET_NAMES) == set(ALL) and len(iz.PRESET_NAMES) == len(ALL)
    for name in ALL:
        assert iz.get_preset(name).name == name


def test_unknown_preset_lists_known_names():
    with pytest.raises(ValueError) as err:
        iz.get_preset("tonic_spikin")
    msg = str(err.value)
    assert "'tonic_spikin'" in msg and all(name in msg for name in ALL)


@pytest.mark.parametrize("name", ALL)
def test_parameters_match_matlab(name):
    p, q = iz.get_preset(name), ref.PROTOCOLS[name]
    assert (p.a, p.b, p.c, p.d, p.v0) == (q.a, q.b, q.c, q.d, q.V0)
    assert p.u_initial == (q.u0 if q.u0 is not None else q.b * q.V0)
    assert (p.dt_ms, p.duration_ms) == (q.tau, q.T)
    assert p.n_steps == ref.n_iterations(q.tau, q.T)
    assert (p.k2, p.k1, p.k0) == ((0.04, 5.0, 140.0) if q.v_form == "5v+140" else (0.04, 4.1, 108.0))
    expected_u = (0.0, 1.0) if q.u_form == "a(bV-u)" else (-65.0, 0.0)
    assert (p.u_v_offset, p.u_decay) == expected_u
    assert p.v_peak == 30.0 and p.scheme == "sequential_euler"


@pytest.mark.parametrize("name", ALL)
def test_stimulus_matches_matlab_on_grid(name):
    p = iz.get_preset(name)
    t = ref.engine_grid(p.dt_ms, p.duration_ms)
    data, literal = iz.stimulus_current(p.stimulus, t), ref.stimulus(name)
    if name != "accommodation":
        np.testing.assert_array_equal(data, literal)
        return
    # MATLAB's t/25 cannot be written as value + slope*(t - t_start) bit for bit;
    # (1/25)*t is within one ulp of it, and every other point is exact.
    diff = data != literal
    assert np.all(t[diff] < 200.0)
    assert np.all(np.abs(data - literal)[diff] <= np.spacing(np.abs(literal[diff])))


def _simulate_from_data(p):
    """Generic sequential Euler (figure1.m order) driven only by the preset's fields."""
    t = np.arange(p.n_steps) * p.dt_ms
    current = iz.stimulus_current(p.stimulus, t)
    v, u, dt = p.v0, p.u_initial, p.dt_ms
    vv, spikes = np.empty(t.size), []
    for k in range(t.size):
        v = v + dt * (p.k2 * (v * v) + p.k1 * v + p.k0 - u + current[k])
        u = u + dt * p.a * (p.b * (v - p.u_v_offset) - p.u_decay * u)
        if v > p.v_peak:
            vv[k], v, u = p.v_peak, p.c, u + p.d
            spikes.append(k)
        else:
            vv[k] = v
    return tuple(spikes), vv


@pytest.mark.parametrize("name", ALL)
def test_data_driven_loop_reproduces_reference(name):
    spikes, vv = _simulate_from_data(iz.get_preset(name))
    run = ref.simulate(name)
    assert spikes == run.spike_steps
    np.testing.assert_allclose(vv, run.VV, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", ALL)
def test_citations_and_descriptions(name):
    p = iz.get_preset(name)
    year = "2004" if name in FEATURES else "2003"
    assert f"Izhikevich EM ({year})" in p.citation and "IEEE Trans Neural Netw" in p.citation
    assert p.panel.startswith(f"Izhikevich {year}, Fig.") and p.behaviour


def test_known_variants_recorded():
    notes = {n: iz.get_preset(n).variant_notes for n in FEATURES}
    assert "6.71" in notes["spike_latency"]
    assert "208" in notes["bistability"]
    assert "0.18" in notes["depolarizing_after_potential"]
    assert "170" in notes["inhibition_induced_spiking"]
    assert "-0.7" in notes["inhibition_induced_bursting"] and "d=0" in notes["inhibition_induced_bursting"]
    for name in ("class_1_excitable", "integrator"):
        assert "4.1v + 108" in notes[name]
    assert "a*b*(v + 65)" in notes["accommodation"]


def test_panels_are_a_to_t_in_order():
    panels = [iz.get_preset(n).panel[-1] for n in FEATURES]
    assert panels == [chr(ord("A") + i) for i in range(20)]


def test_presets_are_frozen():
    p = iz.get_preset("RS")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.a = 0.1  # type: ignore[misc]


@pytest.mark.parametrize("kwargs, word", [
    (dict(t_start=5.0, t_stop=1.0, value=1.0), "t_start"),
    (dict(t_start=-math.inf, t_stop=1.0, value=0.0, slope=0.5), "slope"),
    (dict(t_start=0.0, t_stop=1.0, value=math.nan), "value"),
])
def test_segment_validation(kwargs, word):
    with pytest.raises(ValueError, match=word):
        iz.Segment(**kwargs)


def test_segment_boundaries():
    s = iz.Segment(50.0, 250.0, 75.0, closed_start=True, closed_stop=True)
    np.testing.assert_array_equal(s.current([49.5, 50.0, 250.0, 250.5]), [0.0, 75.0, 75.0, 0.0])
    o = iz.Segment(10.0, 13.0, 7.04)
    np.testing.assert_array_equal(o.current([10.0, 10.2, 12.8, 13.0]), [0.0, 7.04, 7.04, 0.0])
    r = iz.Segment(30.0, math.inf, -0.5, slope=0.015)
    assert r.current(130.0) == -0.5 + 0.015 * 100.0


def test_preset_validation():
    with pytest.raises(ValueError, match="scheme"):
        dataclasses.replace(iz.get_preset("RS"), scheme="rk4")
    with pytest.raises(ValueError, match="dt_ms"):
        dataclasses.replace(iz.get_preset("RS"), dt_ms=0.0)


# =====================================================================================
# 3. The engine reproduces the reference
# =====================================================================================


def _engine_run(name, dtype):
    return golden.engine_protocol_run(name, dtype)


@pytest.mark.parametrize("name", ALL)
def test_engine_float64_matches_reference(name):
    spikes, v_m = _engine_run(name, "float64")
    run = ref.simulate(name)
    assert spikes.shape == (run.t.size, 1)
    assert tuple(np.flatnonzero(spikes[:, 0])) == run.spike_steps
    np.testing.assert_allclose(v_m[:, 0], run.VV, rtol=0, atol=1e-9)


def test_engine_float32_close_to_reference():
    """float32: every preset keeps its spike count and its first spike within one step, and
    at least 85 % of all reference spikes have a float32 spike within one step (a numpy
    float32 port of the same loop gives 168 of 182 = 92 %; FS, LTS and class 2 drift by up
    to 10 steps late in their runs)."""
    near = total = 0
    for name in ALL:
        spikes, _ = _engine_run(name, "float32")
        got = np.flatnonzero(spikes[:, 0])
        want = np.array(ref.simulate(name).spike_steps)
        assert got.size == want.size, name
        if want.size:
            assert abs(int(got[0]) - int(want[0])) <= 1, name
            near += int(sum(np.min(np.abs(got - k)) <= 1 for k in want))
            total += want.size
    assert near >= 0.85 * total
