"""Invariants and published numbers of the probe forward models (no reference library)."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxfne.probes import dipole as dip
from jaxfne.probes import metabolic as mb
from jaxfne.probes import volume_conductor as vc
from jaxfne.probes.basis import BasisError, BasisSpec, basis_matrices
from jaxfne.probes.csd import standard_csd
from jaxfne.probes.geometry import LaminarSourceGeometry
from jaxfne.probes.mua import MUAError, mua_weights

EDGES = np.arange(0.0, 1501.0, 50.0)


def _neurons(n=200, seed=0):
    rng = np.random.default_rng(seed)
    depth = rng.uniform(0.0, 1500.0, n)
    layers = np.where(depth < 500, "L23", np.where(depth < 800, "L4", "L5"))
    return depth, layers, rng.random(n) < 0.8


# ----------------------------------------------------------------------------- basis


def test_drives_placed_alike_are_summed_before_the_basis_product():
    """Grouping drives by their basis (CurrentSynapses.stacked with drive_groups) gives the source
    profile of one basis block per drive: drives at the excitatory synapses join I_exc, drives with
    equal afferent bases share one block."""
    from jaxfne.probes.setup import drive_groups
    from jaxfne.synapses import CurrentSynapses

    rng = np.random.default_rng(3)
    n, bins = 40, 12
    b_exc, b_inh, other = (rng.random((n, bins)) for _ in range(3))
    b_drive = np.stack([b_exc, other, b_exc, other, rng.random((n, bins))])
    groups, bases = drive_groups(b_drive, b_exc)
    assert groups.tolist() == [[1, 0, 1, 0, 0], [0, 1, 0, 1, 0], [0, 0, 0, 0, 1]] and bases.shape == (2, n, bins)
    state = {"I_e": jnp.asarray(rng.normal(size=n)), "I_i": jnp.asarray(rng.normal(size=n)),
             "I_p": jnp.asarray(rng.normal(size=(5, n)))}
    full = np.concatenate([b_exc, b_inh, b_drive.reshape(-1, bins)]).T @ np.asarray(CurrentSynapses.stacked(state))
    grouped = np.concatenate([b_exc, b_inh, bases.reshape(-1, bins)]).T @ np.asarray(
        CurrentSynapses.stacked(state, jnp.asarray(groups)))
    np.testing.assert_allclose(grouped, full, rtol=1e-12)
    assert drive_groups(np.zeros((0, n, bins)), b_exc)[0] is None



def test_basis_rows_conserve_current_and_profiles_sum_to_one():
    depth, layers, exc = _neurons()
    depth[:3] = [5.0, 1495.0, 1500.0]                   # ranges leaving the column
    b_e, b_i = basis_matrices(depth, layers, exc, EDGES, BasisSpec())
    assert b_e.shape == b_i.shape == (200, EDGES.size - 1)
    assert np.abs(b_e.sum(1)).max() < 1e-15 and np.abs(b_i.sum(1)).max() < 1e-15
    # soma part: +1 total; synaptic part: -1 total
    assert np.allclose(np.clip(b_e, 0, None).sum(1) - np.clip(-b_e, 0, None).sum(1), 0, atol=1e-15)
    # away from the column's ends (where clipping merges them) excitatory and inhibitory
    # inputs sit in different bins: their profiles differ
    inner = (depth > 350.0) & (depth < 1300.0)
    assert np.all(np.abs(b_e - b_i).sum(1)[inner] >= 1.0 - 1e-12)


def test_basis_hand_computed_pyramidal_row():
    spec = BasisSpec()
    b_e, b_i = basis_matrices([612.0], ["L5"], np.array([True]), EDGES, spec)
    # apical: soma - 300 .. soma - 50 = 312 .. 562 µm: 250 µm spread uniformly
    expect = np.zeros(EDGES.size - 1)
    expect[12] += 1.0                                     # soma bin 600-650
    for k, (lo, hi) in enumerate(zip(EDGES[:-1], EDGES[1:])):
        expect[k] -= max(0.0, min(hi, 562.0) - max(lo, 312.0)) / 250.0
    np.testing.assert_allclose(b_e[0], expect, atol=1e-15)
    # inhibitory: 637 .. 762 µm, below the soma
    assert b_i[0][12] == pytest.approx(1.0 - 13.0 / 125.0)
    assert b_i[0][:12].min() == 0.0 and b_i[0][13:16].min() < 0


def test_basis_clips_to_column_conserving_current():
    spec = BasisSpec().with_range("L23", "E", exc=(-400.0, -100.0))
    b_e, _ = basis_matrices([150.0], ["L23"], np.array([True]), EDGES, spec)
    # range 0 (clip of -250) .. 50 µm: 250/300 of the current in bin 0, 50/300 ... also bin 0
    assert b_e[0, 0] == pytest.approx(-250.0 / 300.0 - 50.0 / 300.0)
    assert b_e[0, 3] == pytest.approx(1.0)
    assert abs(b_e[0].sum()) < 1e-15


def test_basis_spec_round_trip_and_validation():
    spec = BasisSpec(bin_width_um=25.0).with_range("L6", "I", exc=(-30.0, -5.0), inh=(5.0, 30.0))
    back = BasisSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert back == spec and hash(back) == hash(spec)
    assert back.lookup("L6", "I") == ((-30.0, -5.0), (5.0, 30.0))
    assert back.lookup("L2", "E") == BasisSpec().lookup("L2", "E")
    np.testing.assert_allclose(spec.bin_edges(0.0, 110.0), np.linspace(0, 110, 6))
    with pytest.raises(BasisError, match="overlap"):
        BasisSpec().with_range("L5", "E", exc=(-100.0, 50.0), inh=(0.0, 100.0))
    with pytest.raises(BasisError, match="cell_type"):
        BasisSpec(ranges=(("*", "X", -1.0, 0.0, 1.0, 2.0),))
    with pytest.raises(BasisError, match="bin_width_um"):
        BasisSpec(bin_width_um=-1.0)


# ------------------------------------------------------------------- volume conductor


def test_far_field_dipole_vs_monopole_decay():
    """A conserved profile falls as 1/r^2 far away, a lone bin current as 1/r."""
    direction = np.array([np.sin(0.6), 0.0, np.cos(0.6)])
    centre = np.array([0.0, 0.0, -750.0])
    r = np.array([2e4, 4e4, 8e4])
    contacts = centre + r[:, None] * direction
    m = vc.laminar_cylinder_matrix(contacts, EDGES, 200.0, n_rings=8, n_angles=8)
    b_e, _ = basis_matrices([900.0], ["L5"], np.array([True]), EDGES, BasisSpec())
    phi_dip = m @ b_e[0]
    phi_mono = m[:, 10]
    np.testing.assert_allclose(phi_dip[1:] / phi_dip[:-1], 0.25, rtol=2e-2)
    np.testing.assert_allclose(phi_mono[1:] / phi_mono[:-1], 0.5, rtol=2e-2)


def test_apical_excitation_sign_conventions():
    """Inward excitatory current on the apical dendrite: sink above, dipole points down,
    negative LFP at the apical contact, positive at the soma contact."""
    b_e, _ = basis_matrices([1000.0], ["L5"], np.array([True]), EDGES, BasisSpec())
    i_exc_pa = 100.0                                      # inward, NEST/Brian2 sign
    s_pa = i_exc_pa * b_e[0]
    centers = 0.5 * (EDGES[:-1] + EDGES[1:])
    p = dip.laminar_dipole_matrix(centers) @ (s_pa * 1e-3)
    assert p[2] < 0 and p[0] == p[1] == 0
    # soma bin centre 1025 µm, apical input 700-950 µm (bin centres average 825 µm):
    # P = 0.1 nA * (z_soma - z_syn) = 0.1 * (-1025 + 825) nA·µm
    assert p[2] == pytest.approx(0.1 * -200.0 * 1e-6, rel=1e-12)
    contacts = np.array([[0, 0, -800.0], [0, 0, -1025.0]])
    lfp = vc.laminar_cylinder_matrix(contacts, EDGES, 100.0) @ (s_pa * 1e-3)
    assert lfp[0] < 0 < lfp[1]


def test_cylinder_matrix_validation():
    with pytest.raises(vc.GeometryError, match="bin_edges_depth_um"):
        vc.laminar_cylinder_matrix([[0, 0, 0]], [0.0, 0.0], 100.0)
    with pytest.raises(vc.GeometryError, match="sigma"):
        vc.point_source_matrix([[0, 0, 0]], [[1, 0, 0]], sigma=-0.3)
    with pytest.raises(vc.GeometryError, match="non-zero length"):
        vc.line_source_matrix([[0, 0, 0]], [[1, 0, 0]], [[1, 0, 0]])


# ------------------------------------------------------------------------ EEG / MEG


def test_radial_dipole_silent_in_sarvas_and_ratio_above_tangential():
    pos, axis = dip.column_position_and_axis(78000.0, 40.0, 110.0)
    sensors = dip.cap_positions(pos, 105000.0)
    m = dip.meg_sarvas_matrix(pos, sensors)
    b_rad = m @ axis
    b_tan = m @ np.cross(axis, [0.0, 0.0, 1.0]) / np.linalg.norm(np.cross(axis, [0, 0, 1.0]))
    assert np.abs(b_rad).max() < 1e-12 * np.abs(b_tan).max()
    # on the radial line above a tangential dipole, |B_sph| / |B_inf| = r_p / (2 r)
    r_p, r = np.linalg.norm(pos), 105000.0
    m_inf = dip.meg_infinite_matrix(pos, sensors[:1])
    p = np.array([1.0, 0.0, 0.0]) - (np.array([1.0, 0.0, 0.0]) @ axis) * axis
    ratio = np.linalg.norm(m[0] @ p) / np.linalg.norm(m_inf[0] @ p)
    assert ratio == pytest.approx(r_p / (2 * r), rel=1e-10)


def test_biot_savart_625_ft():
    """10 nA·m tangential dipole seen at 40 mm: |B| = mu0 p / (4 pi R^2) = 625 fT."""
    m = dip.meg_infinite_matrix([0.0, 0.0, 0.0], [[0.0, 0.0, 40000.0]])
    b = m[0] @ np.array([10.0, 0.0, 0.0])
    assert np.linalg.norm(b) == pytest.approx(625.0, rel=1e-12)
    assert b[1] < 0                                         # p x R: x cross z = -y


def test_four_sphere_equal_sigmas_huge_radii_is_infinite_medium():
    radii, sigmas = (1e7, 2e7, 5e7, 1e8), (0.3, 0.3, 0.3, 0.3)
    rz = np.array([300.0, -400.0, 1000.0])
    rng = np.random.default_rng(0)
    d = rng.normal(size=(30, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    el = rz + d * rng.uniform(800.0, 3000.0, size=(30, 1))
    el = el[np.linalg.norm(el, axis=1) > 1.2 * np.linalg.norm(rz)]
    m = dip.four_sphere_eeg_matrix(rz, el, radii, sigmas)
    rel = el - rz
    inf = rel / (4 * np.pi * 0.3 * np.linalg.norm(rel, axis=1, keepdims=True) ** 3) * 1e9
    np.testing.assert_allclose(m, inf, rtol=1e-9)


def test_eeg_sign_and_column_frame():
    pos, axis = dip.column_position_and_axis()
    np.testing.assert_allclose(pos, [0, 0, 78000.0])
    np.testing.assert_allclose(axis, [0, 0, 1.0])
    el = dip.cap_positions(pos, 90000.0)
    assert el.shape == (17, 3)
    m = dip.four_sphere_eeg_matrix(pos, el)
    assert (m @ axis)[0] > 0                                 # outward dipole: positive above
    _, tilted = dip.column_position_and_axis(tilt_deg=90.0)
    assert abs(tilted @ pos) < 1e-9
    with pytest.raises(dip.DipoleError, match="inside the brain"):
        dip.four_sphere_eeg_matrix([0, 0, 80000.0], el)


# ------------------------------------------------------------------------------ CSD


def test_csd_jit_grad_and_validation():
    lfp = jnp.linspace(0.0, 1.0, 8) ** 2
    out = jax.jit(lambda x: standard_csd(x, 50.0))(lfp)
    assert out.shape == (6,)
    g = jax.grad(lambda x: standard_csd(x, 50.0, vaknin=True).sum())(lfp)
    assert np.all(np.isfinite(np.asarray(g)))
    with pytest.raises(ValueError, match="spacing_um"):
        standard_csd(lfp, 0.0)


# ------------------------------------------------------------------------------ MUA


def test_mua_matches_brute_force():
    rng = np.random.default_rng(1)
    xyz = rng.uniform(-300, 300, size=(300, 3))
    contacts = np.stack([np.zeros(5), np.zeros(5), -np.arange(5) * 100.0], 1)
    spikes = rng.integers(0, 3, size=(20, 300))
    w = mua_weights(xyz, contacts, kind="radius", radius_um=120.0)
    brute = np.zeros((20, 5))
    for c in range(5):
        for n in range(300):
            if np.sqrt(((xyz[n] - contacts[c]) ** 2).sum()) <= 120.0:
                brute[:, c] += spikes[:, n]
    np.testing.assert_array_equal(spikes @ w, brute)
    we = mua_weights(xyz, contacts, kind="exponential", length_um=75.0)
    n, c = 17, 3
    assert we[n, c] == pytest.approx(np.exp(-np.linalg.norm(xyz[n] - contacts[c]) / 75.0))
    with pytest.raises(MUAError, match="kind"):
        mua_weights(xyz, contacts, kind="gauss")


# ------------------------------------------------------------------------ metabolic


def test_atp_budget_at_4hz():
    """Attwell & Laughlin (2001) split at 4 Hz: APs 47 %, postsynaptic 34 % (abstract)."""
    ves = 4.0 * mb.BOUTONS_PER_NEURON * mb.RELEASE_PROBABILITY
    ap = 4.0 * mb.ATP_PER_SPIKE
    post = ves * mb.ATP_POSTSYNAPTIC_PER_VESICLE
    total = float(mb.atp_rate(4.0, 4.0 * mb.BOUTONS_PER_NEURON, 0.0, 1, 1000.0))
    assert total == pytest.approx(ap + ves * mb.ATP_PER_VESICLE_EXC + mb.ATP_REST_PER_NEURON_S,
                                  rel=1e-6)
    assert 100 * ap / total == pytest.approx(47.0, abs=2.0)
    assert 100 * post / total == pytest.approx(34.0, abs=2.0)
    assert mb.ATP_PER_VESICLE_INH < mb.ATP_PER_VESICLE_EXC
    g = jax.grad(lambda s: mb.atp_rate(s, 0.0, 0.0, 10, 0.1))(1.0)
    assert float(g) == pytest.approx(mb.ATP_PER_SPIKE * 1e4, rel=1e-6)


def test_balloon_steady_state_matches_analytic():
    with jax.enable_x64(True):
        state, _ = mb.balloon_run(mb.balloon_init(jnp.float64), jnp.full(6000, 0.7), 0.05)
        ss, y = mb.balloon_steady_state(0.7)
        np.testing.assert_allclose(np.asarray(state), np.asarray(ss), rtol=1e-7, atol=1e-9)
        assert float(mb.balloon_output(state)) == pytest.approx(float(y), rel=1e-6)
        _, y0 = mb.balloon_steady_state(0.0)
        assert abs(float(y0)) < 1e-15


def test_balloon_block_response_and_chunking():
    """1 s block of u = 1: peak ~3.4 s after onset at ~+2.5 %, undershoot ~-0.56 %."""
    with jax.enable_x64(True):
        dt = 0.01
        u = np.zeros(3000)
        u[:100] = 1.0
        x0 = mb.balloon_init(jnp.float64)
        _, y = mb.balloon_run(x0, u, dt)
        y = np.asarray(y)
        t = (np.arange(u.size) + 1) * dt
        assert t[y.argmax()] == pytest.approx(3.4, abs=0.05)
        assert 100 * y.max() == pytest.approx(2.52, abs=0.02)
        assert 100 * y.min() == pytest.approx(-0.56, abs=0.01)
        # chunk by chunk = one shot
        s1, ya = mb.balloon_run(x0, u[:1234], dt)
        _, yb = mb.balloon_run(s1, u[1234:], dt)
        np.testing.assert_array_equal(np.concatenate([ya, yb]), y)
        times, samples = mb.sample_at_tr(y, dt, 2.0)
        np.testing.assert_allclose(times[:2], [2.0, 4.0])
        assert samples[0] == y[199]
        g = jax.grad(lambda a: mb.balloon_run(x0, a * jnp.asarray(u[:400]), dt)[1].sum())(1.0)
        assert np.isfinite(float(g)) and float(g) > 0


# ------------------------------------------------------------------------- geometry


def test_geometry_defaults_and_round_trip():
    g = LaminarSourceGeometry.from_layers({"L23": (0.0, 500.0), "L4": (500.0, 800.0),
                                           "L5": (800.0, 1100.0)})
    assert g.n_bins == 22 and g.n_contacts == 12
    np.testing.assert_allclose(g.contact_depths_um, np.arange(12) * 100.0)
    assert g.contact_spacing_um == 100.0
    np.testing.assert_allclose(g.bin_volume_m3, np.pi * 564e-6 ** 2 * 50e-6)
    assert list(g.layer_of([10.0, 650.0, 1100.0, 1200.0])) == ["L23", "L4", "L5", ""]
    back = LaminarSourceGeometry.from_dict(json.loads(json.dumps(g.to_dict())))
    assert back == g
    m = g.lfp_matrix(n_rings=8, n_angles=8)
    assert m.shape == (12, 22) and np.all(m > 0)
    g2 = LaminarSourceGeometry.from_layers({"L1": (0.0, 100.0)}, contact_spacing_um=20.0,
                                           first_contact_depth_um=10.0, n_contacts=3,
                                           contact_offset_um=(30.0, 0.0))
    np.testing.assert_allclose(g2.contacts, [[30, 0, -10.0], [30, 0, -30.0], [30, 0, -50.0]])
