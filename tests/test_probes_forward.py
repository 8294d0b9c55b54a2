"""Forward models against the reference libraries (lfpykit, elephant) and closed forms.

Tolerances follow the project references (field-signals section 7): transfer matrices
rtol 1e-10 in float64 including the r_limit clamps; four-sphere EEG to the truncation
of LFPykit's own series; MEG to rounding.
"""

import warnings

import jax
import numpy as np
import pytest

from jaxfne.probes import csd as csd_mod
from jaxfne.probes import dipole as dip
from jaxfne.probes import volume_conductor as vc

lfpykit = pytest.importorskip("lfpykit")
from lfpykit import eegmegcalc  # noqa: E402

UV_PER_MV = 1e3
NAUM_PER_NAM = 1e6
FT_PER_H = 4.0 * np.pi * 1e5        # fT per nA/µm (µ0 = 4π·1e-7 T m/A)


def _cell(start, end, d):
    start, end = np.asarray(start, float), np.asarray(end, float)
    return lfpykit.CellGeometry(x=np.stack([start[:, 0], end[:, 0]], 1),
                                y=np.stack([start[:, 1], end[:, 1]], 1),
                                z=np.stack([start[:, 2], end[:, 2]], 1),
                                d=np.asarray(d, float))


@pytest.fixture
def segments():
    """Random segments plus adversarial ones: axial (contact on the segment's axis),
    a contact inside a segment's radius, and segments of every Holt case."""
    rng = np.random.default_rng(7)
    start = rng.uniform(-300, 300, size=(40, 3))
    end = start + rng.normal(scale=60.0, size=(40, 3))
    extra_s = [[0, 0, -50.0], [0, 0, 100.0], [0, 0, 20.0], [3.0, 0, -40.0], [0.5, 0.2, -10.0]]
    extra_e = [[0, 0, -150.0], [0, 0, 150.0], [0, 0, -20.0], [3.0, 0, 40.0], [0.5, 0.2, 10.0]]
    start = np.vstack([start, extra_s])
    end = np.vstack([end, extra_e])
    d = np.r_[rng.uniform(0.5, 4.0, 40), [2.0, 2.0, 2.0, 8.0, 1.0]]
    contacts = np.vstack([rng.uniform(-400, 400, size=(12, 3)),
                          [[0, 0, 0.0], [0, 0, -300.0], [0.0, 0.0, 125.0], [1.0, 0.0, 0.0]]])
    return contacts, start, end, d


def test_line_source_matches_lfpykit(segments):
    contacts, start, end, d = segments
    ref = lfpykit.LineSourcePotential(_cell(start, end, d), x=contacts[:, 0].copy(),
                                      y=contacts[:, 1].copy(), z=contacts[:, 2].copy(),
                                      sigma=0.3).get_transformation_matrix() * UV_PER_MV
    ours = vc.line_source_matrix(contacts, start, end, sigma=0.3, radius_um=d / 2)
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=0)
    # the clamp is active for the on-axis contacts of the axial segments
    r2 = np.sum(np.cross(contacts[:, None] - end[None], end - start) ** 2, -1) / \
        np.sum((end - start) ** 2, -1)
    assert np.any(r2 < (d / 2) ** 2)


def test_point_source_matches_lfpykit_and_published_value(segments):
    contacts, start, end, d = segments
    mid = 0.5 * (start + end)
    ref = lfpykit.PointSourcePotential(_cell(start, end, d), x=contacts[:, 0].copy(),
                                       y=contacts[:, 1].copy(), z=contacts[:, 2].copy(),
                                       sigma=0.3).get_transformation_matrix() * UV_PER_MV
    ours = vc.point_source_matrix(contacts, mid, sigma=0.3, r_limit_um=d / 2)
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=0)
    # clamp: a contact at a source midpoint sees 1/(4 pi sigma r_limit)
    m = vc.point_source_matrix(mid[:1], mid[:1], r_limit_um=d[:1] / 2)
    np.testing.assert_allclose(m[0, 0], 1e3 / (4 * np.pi * 0.3 * d[0] / 2), rtol=1e-14)
    # 1 nA at 100 µm in 0.3 S/m gives 2.6526 µV (field-signals section 2)
    v = vc.point_source_matrix([[0, 0, 100.0]], [[0, 0, 0.0]])[0, 0]
    assert v == pytest.approx(2.6526, abs=5e-5)


def test_cylinder_matches_closed_form_on_axis():
    edges = np.arange(0.0, 1501.0, 50.0)
    depths = np.arange(25.0, 1500.0, 100.0)            # bin centres
    contacts = np.stack([0 * depths, 0 * depths, -depths], 1)
    ref = vc.cylinder_axis_potential(depths, edges, 564.0)
    m = vc.laminar_cylinder_matrix(contacts, edges, 564.0)
    err = np.abs(m / ref - 1)
    own = (edges[None, :-1] <= depths[:, None]) & (edges[None, 1:] > depths[:, None])
    assert err[own].max() < 1.2e-3                       # measured 1.14e-3
    assert err[~own].max() < 2.6e-4                      # measured 2.47e-4
    # convergence of the radial midpoint rule
    errs = [np.abs(vc.laminar_cylinder_matrix(contacts, edges, 564.0, n_rings=n, n_angles=8)
                   / ref - 1)[~own].max() for n in (8, 16, 32)]
    assert errs[0] > 3.0 * errs[1] > 9.0 * errs[2]


def test_cylinder_closed_form_matches_lfpykit_rings():
    """The closed form itself against lfpykit line sources on rings (fine quadrature)."""
    edges = np.array([300.0, 400.0])
    contacts = np.array([[0, 0, -150.0], [0, 0, -350.0], [0, 0, -900.0]])
    n_r, n_a = 400, 4
    rho = (np.arange(n_r) + 0.5) * 250.0 / n_r
    w = (2 * np.arange(n_r) + 1) / n_r ** 2 / n_a
    th = 2 * np.pi * np.arange(n_a) / n_a
    x = (rho[:, None] * np.cos(th)).ravel()
    y = (rho[:, None] * np.sin(th)).ravel()
    start = np.stack([x, y, np.full(x.size, -400.0)], 1)
    end = np.stack([x, y, np.full(x.size, -300.0)], 1)
    cell = _cell(start, end, np.full(x.size, 0.1))
    m = lfpykit.LineSourcePotential(cell, x=contacts[:, 0].copy(), y=contacts[:, 1].copy(),
                                    z=contacts[:, 2].copy()).get_transformation_matrix()
    ring = (m * np.repeat(w, n_a)).sum(1) * UV_PER_MV
    ref = vc.cylinder_axis_potential([150.0, 350.0, 900.0], edges, 250.0)[:, 0]
    np.testing.assert_allclose(ring, ref, rtol=1e-5)


def test_dipole_matrix_matches_current_dipole_moment():
    centers = np.arange(25.0, 1500.0, 50.0)
    origin = 700.0
    z = origin - centers
    start = np.stack([0 * z, 0 * z, z - 10.0], 1)
    end = np.stack([0 * z, 0 * z, z + 10.0], 1)
    ref = lfpykit.CurrentDipoleMoment(_cell(start, end, np.ones(z.size))).get_transformation_matrix()
    ours = dip.laminar_dipole_matrix(centers, origin_depth_um=origin)
    np.testing.assert_allclose(ours * NAUM_PER_NAM, ref, rtol=1e-12, atol=1e-12)
    # a conserved profile gives the same P for any origin
    rng = np.random.default_rng(0)
    s = rng.normal(size=centers.size)
    s -= s.mean()
    p0 = dip.laminar_dipole_matrix(centers) @ s
    p1 = dip.laminar_dipole_matrix(centers, origin_depth_um=0.0) @ s
    np.testing.assert_allclose(p0, p1, rtol=1e-9, atol=1e-15)


def _cap(pos, r, **kw):
    return dip.cap_positions(pos, r * (1 - 1e-13), **kw)


@pytest.mark.parametrize("depth_um", [500.0, 1000.0, 2000.0, 10000.0])
def test_four_sphere_matches_lfpykit(depth_um):
    pos, _ = dip.column_position_and_axis(79000.0 - depth_um, 20.0, 30.0)
    rings = dict(polar_deg=(5.0, 15.0, 30.0), n_azimuth=3)
    scalp = _cap(pos, 90000.0)
    # inner caps without their centre: for an electrode on the dipole's ray LFPykit's
    # arccos turns a 1e-16 rounding of cos(theta) into theta ~ 1e-8 (a 2e-7 error)
    el = np.vstack([scalp] + [_cap(pos, r, **rings)[1:] for r in (87000.0, 82000.0, 79500.0)])
    ours = dip.four_sphere_eeg_matrix(pos, el)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # lfpykit's theta = 0 division
        tight = eegmegcalc.FourSphereVolumeConductor(el, iter_factor=1e-12)
        ref_tight = tight.get_transformation_matrix(pos) * UV_PER_MV * NAUM_PER_NAM
        default = eegmegcalc.FourSphereVolumeConductor(scalp)
        ref_default = default.get_transformation_matrix(pos) * UV_PER_MV * NAUM_PER_NAM
    scale = np.abs(ref_tight).max(axis=1, keepdims=True)
    # what remains is LFPykit's: arccos of azimuths near 0 costs it ~1e-8
    assert (np.abs(ours - ref_tight) / scale).max() < 1e-7
    # scalp electrodes against LFPykit's default series (its truncation, ~8e-7, dominates)
    n = scalp.shape[0]
    assert (np.abs(ours[:n] - ref_default) / scale[:n]).max() < 1e-6


def test_four_sphere_published_example():
    """LFPykit's FourSphereVolumeConductor docstring example (mV for p in nA·µm).

    The docstring numbers come from LFPykit's default series truncation; with a tight
    truncation LFPykit gives 1.06247683e-08 and 2.39291024e-10, which we match."""
    el = np.array([[0.0, 0.0, 90000.0], [0.0, 85000.0, 0.0]])
    m = dip.four_sphere_eeg_matrix([0.0, 0.0, 78000.0], el)
    p = np.array([10.0, 10.0, 10.0]) / NAUM_PER_NAM            # 10 nA·µm per axis, in nA·m
    np.testing.assert_allclose(m @ p / UV_PER_MV, [1.06247669e-08, 2.39290752e-10], rtol=2e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tight = eegmegcalc.FourSphereVolumeConductor(el, iter_factor=1e-14)
        ref = tight.get_dipole_potential(p[:, None] * NAUM_PER_NAM, np.array([0.0, 0.0, 78000.0]))
    np.testing.assert_allclose(m @ p / UV_PER_MV, ref[:, 0], rtol=1e-10)


def test_meg_matches_lfpykit():
    pos, _ = dip.column_position_and_axis(78000.0, 35.0, -60.0)
    sensors = np.vstack([dip.cap_positions(pos, 105000.0), dip.cap_positions(pos, 100000.0),
                         [[0.0, 0.0, 110000.0], [-80000.0, 10000.0, 70000.0]]])
    sarvas = eegmegcalc.SphericallySymmetricVolCondMEG(sensors).get_transformation_matrix(pos)
    np.testing.assert_allclose(dip.meg_sarvas_matrix(pos, sensors),
                               sarvas * FT_PER_H * NAUM_PER_NAM, rtol=1e-10,
                               atol=1e-12 * np.abs(sarvas).max() * FT_PER_H * NAUM_PER_NAM)
    inf = eegmegcalc.InfiniteHomogeneousVolCondMEG(sensors).get_transformation_matrix(pos)
    np.testing.assert_allclose(dip.meg_infinite_matrix(pos, sensors),
                               inf * FT_PER_H * NAUM_PER_NAM, rtol=1e-10,
                               atol=1e-12 * np.abs(inf).max() * FT_PER_H * NAUM_PER_NAM)
    # the mT trap: lfpykit's calculate_B is µ0·H, i.e. mT for these units
    p = np.array([[0.0], [1e7], [0.0]])                           # 10 nA·m in nA·µm
    b_mt = eegmegcalc.InfiniteHomogeneousVolCondMEG(sensors[:1]).calculate_B(p, pos)[0, :, 0]
    np.testing.assert_allclose(dip.meg_infinite_matrix(pos, sensors[:1])[0] @ [0, 10.0, 0],
                               b_mt * 1e12, rtol=1e-10, atol=1e-9)


def test_sarvas_published_example():
    """LFPykit's SphericallySymmetricVolCondMEG docstring: H = 9.73094081e-09 nA/µm."""
    m = dip.meg_sarvas_matrix([0.0, 0.0, 90000.0], [[0.0, 0.0, 92000.0]])
    b = m[0] @ (np.array([0.0, 1.0, 0.0]) / NAUM_PER_NAM)         # 1 nA·µm
    np.testing.assert_allclose(b, [9.73094081e-09 * FT_PER_H, 0.0, 0.0], rtol=1e-8, atol=1e-15)


@pytest.mark.parametrize("vaknin", [False, True])
def test_standard_csd_matches_elephant(vaknin):
    neo = pytest.importorskip("neo")
    pq = pytest.importorskip("quantities")
    ecsd = pytest.importorskip("elephant.current_source_density")
    rng = np.random.default_rng(3)
    lfp = rng.normal(scale=50.0, size=(7, 12))                     # µV, [time, contact]
    h = 100.0
    sig = neo.AnalogSignal(lfp * pq.uV, sampling_rate=1 * pq.kHz)
    coords = (np.arange(12) * h)[:, None] * pq.um
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ecsd.estimate_csd(sig, coordinates=coords, method="StandardCSD",
                                process_estimate=False, vaknin_el=vaknin)
    ref_a_m3 = ref.rescale(pq.A / pq.m ** 2).magnitude / (h * 1e-6)   # areal / h
    with jax.enable_x64(True):
        ours = np.asarray(csd_mod.standard_csd(lfp, h, vaknin=vaknin))
    assert ours.shape == ref_a_m3.shape == (7, 12 if vaknin else 10)
    np.testing.assert_allclose(ours, ref_a_m3, rtol=1e-10, atol=1e-12 * np.abs(ref_a_m3).max())


def test_standard_csd_exact_for_planar_source():
    """In the planar limit (R -> inf) the LFP of a sheet is linear in |z|, and the
    standard CSD recovers the sheet's areal density / h at its contact."""
    h, sigma, k = 100.0, 0.3, 2.0                                   # k: A/m^2 of the sheet
    z = np.arange(10) * h
    phi_uV = -k / (2 * sigma) * np.abs(z - z[4]) * 1e-6 * 1e6      # V -> µV, µm -> m
    with jax.enable_x64(True):
        out = np.asarray(csd_mod.standard_csd(phi_uV, h, sigma=sigma))
    expect = np.zeros(8)
    expect[3] = k / (h * 1e-6)
    np.testing.assert_allclose(out, expect, atol=1e-9 * expect.max())


def test_one_tissue_conductivity_for_the_lfp_and_the_eeg_brain_shell():
    """probes(sigma_S_per_m=0.6) halves the LFP matrix and is the four-sphere model's brain conductivity."""
    import jaxfne
    from jaxfne.probes import dipole as dip

    def model(sigma):
        cfg = (jaxfne.configuration().column("V1", layers=["L2/3", "L4"], n=20).cell_types({"E": 0.8, "I": 0.2})
               .connectivity().set_emitter("izhikevich", "RS")
               .probes(["LFP-proxy", "EEG-proxy"], sigma_S_per_m=sigma))
        return jaxfne.construct(cfg).probes.matrices

    a, b = model(0.3), model(0.6)
    np.testing.assert_allclose(b["lfp"], a["lfp"] / 2, rtol=1e-12)
    pos, elec = b["column_positions_um"][0], b["eeg_electrodes_um"]
    want = dip.four_sphere_eeg_matrix(pos, elec, sigmas=(0.6, 1.5, 0.015, 0.3))
    np.testing.assert_allclose(b["eeg"][0], want, rtol=1e-12)
    assert not np.allclose(b["eeg"], a["eeg"], rtol=1e-3)


def test_four_sphere_with_another_brain_conductivity_matches_lfpykit():
    """The brain shell's conductivity (probes.sigma_S_per_m) against LFPykit's four-sphere model."""
    sigmas = (0.6, 1.5, 0.015, 0.3)
    el = np.array([[0.0, 0.0, 90000.0], [0.0, 85000.0, 0.0], [30000.0, 20000.0, 82000.0]])
    pos = np.array([0.0, 0.0, 78000.0])
    m = dip.four_sphere_eeg_matrix(pos, el, sigmas=sigmas)
    p = np.array([10.0, -4.0, 7.0]) / NAUM_PER_NAM
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tight = eegmegcalc.FourSphereVolumeConductor(el, sigmas=list(sigmas), iter_factor=1e-14)
        ref = tight.get_dipole_potential(p[:, None] * NAUM_PER_NAM, pos)
    np.testing.assert_allclose(m @ p / UV_PER_MV, ref[:, 0], rtol=1e-8)
