"""Field geometry: one geometry for every column, a continuous head frame, and the MEG models.

* ``model.geometry`` (and the ``geometry_json`` the stores keep) describes every column: names,
  centres, radii, bin volumes and the LFP matrix are the ones the engine applies;
* the tangent frame of the head is a continuous function of ``column_position_um`` (parallel
  transport from ``+z``), with the default placement unchanged;
* a lateral column offset ``+x`` in the LFP frame is an offset along the tilt direction in the head;
* for the radial magnetometers reported, Sarvas and the infinite medium coincide exactly (volume
  currents add no radial field in a spherical conductor); tangential components differ.
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest

import jaxfne
from jaxfne.config import schema
from jaxfne.errors import ConfigurationError
from jaxfne.probes import dipole as dip
from jaxfne.probes.fields import _head_frame
from jaxfne.probes.geometry import GeometryConfigError, LaminarSourceGeometry

FIELD_MODES = ["SPK", "source-proxy", "LFP-proxy", "CSD-proxy", "EEG-proxy", "MEG-proxy"]


def _two_columns(**probe_options):
    """A (r = 200 µm, on the axis) and B (r = 400 µm, 500 µm along +x, one more layer)."""
    return (jaxfne.configuration().runtime(dtype="float64", duration_ms=5.0, dt_ms=0.1)
            .column("A", layers=["L2/3", "L4"], n=20)
            .column("B", layers=["L2/3", "L4", "L5"], n=20, radius_um=400.0, position_um=(500.0, 0.0))
            .cell_types({"E": 0.8, "I": 0.2}).connectivity().set_emitter("izhikevich", "RS")
            .probes(FIELD_MODES, bin_width_um=100.0, **probe_options))


@pytest.fixture(scope="module")
def two():
    return jaxfne.construct(_two_columns())


# ----------------------------------------------------------------- one geometry, every column


def test_model_geometry_describes_every_column(two):
    g, mats = two.geometry, two.probes.matrices
    assert g.column_names == ("A", "B") == two.probes.columns
    assert g.centers_xy_um == ((0.0, 0.0), (500.0, 0.0))
    assert g.radius_um == (200.0, 400.0)
    np.testing.assert_array_equal(g.radii_um, [200.0, 400.0])
    # the layers of both columns: B adds L5 below A's deepest layer
    assert [name for name, _, _ in g.layers] == ["L2/3", "L4", "L5"]
    assert g.depth_range_um[1] == max(b for _, _, b in g.layers)
    n_b = g.n_bins
    assert g.lfp_matrix().shape == (g.n_contacts, 2 * n_b) == mats["lfp"].shape
    np.testing.assert_array_equal(g.lfp_matrix(), mats["lfp"])
    np.testing.assert_array_equal(g.bin_volume_m3.reshape(2, n_b), mats["bin_volume_m3"])


def test_bin_volumes_per_column_by_hand(two):
    g = two.geometry
    dz_m = np.diff(np.asarray(g.bin_edges_um)) * 1e-6
    want = np.concatenate([np.pi * 200e-6 ** 2 * dz_m, np.pi * 400e-6 ** 2 * dz_m])
    np.testing.assert_allclose(g.bin_volume_m3, want, rtol=1e-14)
    np.testing.assert_allclose(g.source_density_per_pA, 1e-12 / want, rtol=1e-14)
    vol = g.bin_volume_m3.reshape(2, -1)
    np.testing.assert_allclose(vol[1] / vol[0], 4.0, rtol=1e-14)


def test_lfp_of_column_b_against_lfpykit(two):
    """Column B's block: its own centre and radius, against lfpykit line sources on a square grid."""
    lfpykit = pytest.importorskip("lfpykit")
    g = two.geometry
    n_b = g.n_bins
    h = 20.0
    gx, gy = np.meshgrid(np.arange(-400.0, 400.1, h), np.arange(-400.0, 400.1, h))
    inside = gx ** 2 + gy ** 2 <= 400.0 ** 2
    x, y = 500.0 + gx[inside], gy[inside]
    edges = np.asarray(g.bin_edges_um)
    bins = [0, n_b // 2, n_b - 1]
    xs, ys = np.tile(x, len(bins)), np.tile(y, len(bins))
    z_lo = np.repeat(-edges[1:][bins], x.size)
    z_hi = np.repeat(-edges[:-1][bins], x.size)
    cell = lfpykit.CellGeometry(x=np.stack([xs, xs], 1), y=np.stack([ys, ys], 1),
                                z=np.stack([z_lo, z_hi], 1), d=np.full(xs.size, 1.0))
    c = g.contacts
    m = lfpykit.LineSourcePotential(cell, x=c[:, 0].copy(), y=c[:, 1].copy(), z=c[:, 2].copy(),
                                    sigma=0.3).get_transformation_matrix()
    ref = (m.reshape(c.shape[0], len(bins), x.size).mean(-1)) * 1e3  # µV per nA
    ours = g.lfp_matrix()[:, n_b + np.asarray(bins)]
    np.testing.assert_allclose(ours, ref, rtol=3e-3)
    # a radius of 200 µm (column A's, what the single-column geometry used to say) is far off
    wrong = LaminarSourceGeometry.from_layers({"all": g.depth_range_um}, radius_um=200.0,
                                              contacts=c, center_xy_um=(500.0, 0.0),
                                              basis_spec=two.basis_spec).lfp_matrix()
    assert np.abs(wrong[:, bins] / ref - 1).max() > 0.05


def test_geometry_json_of_a_multi_column_run(two):
    sig = jaxfne.simulate(two, seed=1)
    stored = json.loads(sig.to_xarray().attrs["geometry_json"])
    assert stored["column_names"] == ["A", "B"]
    assert stored["radius_um"] == [200.0, 400.0]
    assert stored["centers_xy_um"] == [[0.0, 0.0], [500.0, 0.0]]
    assert sig.to_xarray().sizes["location"] == 2 * two.geometry.n_bins
    back = LaminarSourceGeometry.from_dict(json.loads(json.dumps(two.geometry.to_dict())))
    assert back == two.geometry
    np.testing.assert_array_equal(back.lfp_matrix(), two.probes.matrices["lfp"])


def test_single_column_geometry_keeps_its_form():
    cfg = (jaxfne.configuration().column("V1", layers=["L2/3", "L4"], n=10, radius_um=300.0)
           .cell_types({"E": 0.8, "I": 0.2}).probes(["SPK", "source-proxy", "LFP-proxy"]))
    g = jaxfne.construct(cfg).geometry
    d = g.to_dict()
    assert d["radius_um"] == 300.0 and isinstance(d["radius_um"], float)
    assert g.bin_volume_m3.shape == (g.n_bins,)
    np.testing.assert_allclose(g.bin_volume_m3, np.pi * 300e-6 ** 2 * np.diff(g.bin_edges) * 1e-6,
                               rtol=1e-14)


def test_radius_per_column_is_validated_and_equal_radii_collapse():
    base = LaminarSourceGeometry.from_layers({"L1": (0.0, 200.0)}, bin_width_um=100.0)
    two = {"column_names": ("A", "B"), "centers_xy_um": ((0.0, 0.0), (1.0, 0.0))}
    assert dataclasses.replace(base, radius_um=(250.0, 250.0), **two).radius_um == 250.0
    with pytest.raises(GeometryConfigError, match="one radius per column"):
        dataclasses.replace(base, radius_um=(250.0, 300.0, 100.0), **two)
    with pytest.raises(GeometryConfigError, match="positive"):
        dataclasses.replace(base, radius_um=(250.0, -1.0), **two)


# ----------------------------------------------------------------- a continuous tangent frame


def _direction(x, y=0.2):
    return np.array([x, y, np.sqrt(1.0 - x * x - y * y)])


def test_tilt_direction_is_continuous_where_the_helper_used_to_switch():
    """Old code switched its helper vector at |r_hat_x| = 0.9: the tilt direction jumped by ~90°."""
    axes = []
    for x in (0.9 - 1e-7, 0.9 + 1e-7):
        _, axis, _, _ = _head_frame({"column_position_um": list(78000.0 * _direction(x)),
                                     "column_tilt_deg": 45.0})
        axes.append(axis)
    assert np.linalg.norm(axes[1] - axes[0]) < 1e-6
    # and along a whole path through the old threshold
    xs = np.linspace(0.85, 0.95, 201)
    frames = np.array([np.concatenate(dip.tangent_frame(_direction(x))) for x in xs])
    assert np.abs(np.diff(frames, axis=0)).max() < 5 * (xs[1] - xs[0])


def test_tangent_frame_is_the_parallel_transport_of_x_and_y():
    """Independent: the minimal rotation taking z to r_hat, by scipy's rotation vectors."""
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(3)
    dirs = rng.normal(size=(50, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    for r in dirs:
        k = np.cross([0.0, 0.0, 1.0], r)
        rot = Rotation.from_rotvec(k / np.linalg.norm(k) * np.arccos(np.clip(r[2], -1, 1)))
        t1, t2 = dip.tangent_frame(r * 12345.0)
        np.testing.assert_allclose(t1, rot.apply([1.0, 0.0, 0.0]), atol=1e-9)
        np.testing.assert_allclose(t2, rot.apply([0.0, 1.0, 0.0]), atol=1e-9)
        np.testing.assert_allclose(np.cross(t1, t2), r, atol=1e-12)


def test_default_head_frame_keeps_its_axis_and_sensors():
    """The default column's axis and sensors are what they were; its LFP +x is now the head's +x."""
    pos, axis, e1, e2 = _head_frame({"column_position_um": None, "column_tilt_deg": 45.0})
    np.testing.assert_array_equal(pos, [0.0, 0.0, 78000.0])
    np.testing.assert_array_equal(axis, [np.sin(np.pi / 4), 0.0, np.cos(np.pi / 4)])
    np.testing.assert_array_equal(e1, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(e2, [0.0, 1.0, 0.0])
    explicit = _head_frame({"column_position_um": [0.0, 0.0, 78000.0], "column_tilt_deg": 45.0})
    np.testing.assert_array_equal(explicit[1], axis)
    # default sensor caps: the rings above +z start on +y, as they always did
    cap = dip.cap_positions([0.0, 0.0, 1.0], 105000.0, polar_deg=(0.0, 10.0), n_azimuth=2)
    s, c = 105000.0 * np.sin(np.deg2rad(10.0)), 105000.0 * np.cos(np.deg2rad(10.0))
    np.testing.assert_allclose(cap, [[0, 0, 105000.0], [0, s, c], [0, -s, c]], atol=1e-9)


def test_explicit_tilt_agrees_with_polar_angles_on_the_zero_meridian():
    pos, want = dip.column_position_and_axis(78000.0, 37.0, 0.0, 30.0)
    _, axis, _, _ = _head_frame({"column_position_um": list(pos), "column_tilt_deg": 30.0})
    np.testing.assert_allclose(axis, want, atol=1e-14)


def test_cap_positions_are_continuous_in_direction():
    caps = [dip.cap_positions(_direction(x), 100000.0) for x in (0.9 - 1e-7, 0.9 + 1e-7)]
    assert np.abs(caps[1] - caps[0]).max() < 0.1  # µm, for a 100 mm radius


# ----------------------------------------------------------------- lateral offsets, LFP -> head


def test_untilted_head_frame_is_the_lfp_frame_translated():
    """Tilt 0 at +z: the column axis is z in both frames, so (x, y) in the LFP frame is (x, y) in the head."""
    cfg = (jaxfne.configuration()
           .column("A", layers=["L2/3"], n=5)
           .column("B", layers=["L2/3"], n=5, position_um=(500.0, 0.0))
           .column("C", layers=["L2/3"], n=5, position_um=(300.0, 200.0))
           .cell_types({"E": 1.0}).probes(["SPK", "source-proxy"], column_tilt_deg=0.0))
    got = jaxfne.construct(cfg).probes.matrices["column_positions_um"]
    np.testing.assert_allclose(got, [[0, 0, 78000.0], [500.0, 0, 78000.0], [300.0, 200.0, 78000.0]],
                               atol=1e-9)


def test_x_offset_is_along_the_tilt_direction_in_the_head():
    for pos in (None, [30000.0, 20000.0, 68000.0], [-50000.0, 10000.0, 59000.0]):
        cfg = _two_columns(column_position_um=pos, column_tilt_deg=30.0)
        m = jaxfne.construct(cfg).probes.matrices
        col, axis = m["column_positions_um"], m["column_axis"]
        r_hat = col[0] / np.linalg.norm(col[0])
        tilt_dir = axis - (axis @ r_hat) * r_hat
        tilt_dir /= np.linalg.norm(tilt_dir)
        offset = col[1] - col[0]
        np.testing.assert_allclose(np.linalg.norm(offset), 500.0, rtol=1e-12)
        np.testing.assert_allclose(offset / 500.0, tilt_dir, atol=1e-12)


def test_eeg_of_offset_column_against_lfpykit():
    """Column B (+500 µm in x, radial axis) seen through lfpykit's four spheres at (500, 0, 78000)."""
    pytest.importorskip("lfpykit")
    from lfpykit import eegmegcalc

    m = jaxfne.construct(_two_columns(column_tilt_deg=0.0)).probes.matrices
    el = m["eeg_electrodes_um"]
    tight = eegmegcalc.FourSphereVolumeConductor(el * (1 - 1e-13), iter_factor=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # lfpykit's theta = 0 division
        ref = tight.get_transformation_matrix(np.array([500.0, 0.0, 78000.0])) * 1e3 * 1e6  # µV per nA·m
        # the rotated placement (0, 500, 78000), which the head frame used to give
        rotated = tight.get_transformation_matrix(np.array([0.0, 500.0, 78000.0])) * 1e3 * 1e6
    scale = np.abs(ref).max()
    assert np.abs(m["eeg"][1] - ref).max() < 1e-6 * scale
    assert np.abs(m["eeg"][1] - rotated).max() > 1e-3 * scale


# ----------------------------------------------------------------- MEG: Sarvas vs infinite medium


def _radial_by_hand(pos, sensors, p):
    """B . r_hat in fT for p in nA·m: mu0 / (4 pi) (r_p x p) . r_hat / |r - r_p|^3, SI throughout."""
    r = sensors * 1e-6
    rp = pos * 1e-6
    r_hat = r / np.linalg.norm(r, axis=1, keepdims=True)
    dist = np.linalg.norm(r - rp, axis=1)
    return 1e-7 * (r_hat @ np.cross(rp, p * 1e-9)) / dist ** 3 * 1e15


def test_radial_meg_is_the_same_for_sarvas_and_infinite():
    pos, axis = dip.column_position_and_axis(78000.0, 30.0, 40.0, 60.0)
    sensors = np.vstack([dip.cap_positions(pos, 105000.0), [[20000.0, -30000.0, 95000.0]]])
    sarvas = dip.meg_sarvas_matrix(pos, sensors)
    inf = dip.meg_infinite_matrix(pos, sensors)
    rad_s, rad_i = dip.radial_meg_matrix(sarvas, sensors), dip.radial_meg_matrix(inf, sensors)
    np.testing.assert_allclose(rad_s, rad_i, rtol=1e-12, atol=1e-12 * np.abs(rad_i).max())
    by_hand = _radial_by_hand(pos, sensors, axis)
    np.testing.assert_allclose(rad_s @ axis, by_hand, rtol=1e-10, atol=1e-12 * np.abs(by_hand).max())
    assert np.abs(by_hand).max() > 10.0  # fT for 1 nA·m at 60° tilt
    # a tangential component of the sensor field is where the two differ
    r_hat = sensors / np.linalg.norm(sensors, axis=1, keepdims=True)
    t1 = np.array([dip.tangent_frame(r)[0] for r in r_hat])
    tan_s = np.einsum("sk,skj,j->s", t1, sarvas, axis)
    tan_i = np.einsum("sk,skj,j->s", t1, inf, axis)
    assert np.abs(tan_s - tan_i).max() > 0.1 * np.abs(tan_i).max()


def test_engine_meg_is_identical_for_both_models_and_the_option_says_so():
    mats = {k: jaxfne.construct(_two_columns(meg_model=k)).probes.matrices["meg"] for k in ("sarvas", "infinite")}
    np.testing.assert_allclose(mats["sarvas"], mats["infinite"], rtol=1e-12,
                               atol=1e-12 * np.abs(mats["infinite"]).max())
    assert np.abs(mats["sarvas"]).max() > 1.0  # fT per nA·m: not trivially zero
    with pytest.raises(ConfigurationError, match="radial") as err:
        jaxfne.configuration().probes(["SPK"], meg_model="full")
    assert "'sarvas'" in str(err.value) and "'infinite'" in str(err.value)
    assert "radial" in schema.PROBE_OPTION_HELP["meg_model"]
