"""Current dipole moment of a laminar column, and its EEG and MEG in head models.

All builders are host-side NumPy (float64) and return transfer matrices:

* ``P = M_cdm @ (s * 1e-3)``: dipole (nA·m) from the laminar source profile ``s``
  (pA per depth bin; ``s * 1e-3`` in nA);
* ``EEG = M_eeg @ P``: scalp potential (µV) in the corrected four-sphere model;
* ``B = M_meg @ P``: magnetic field (fT), ``M_meg`` of shape (S, 3, 3) so that
  ``B[s] = M_meg[s] @ P``.

Sign conventions
----------------
``P = sum_b I_b r_b`` with ``I_b`` the transmembrane current (outward = source > 0).
``P`` points along the intracellular (primary) current, from sinks to sources; the
potential is positive on the side ``P`` points to. In the column frame ``z`` points
towards the pia, so apical excitatory input (a sink above the soma, the return source
at the soma) gives ``P_z < 0``, as hnn-core's "distal drive gives a negative dipole".

MEG models
----------
For a spherically symmetric conductor the volume currents produce no radial
magnetic field, so the radial component of the Sarvas field equals the radial
component of the primary current's Biot-Savart field *exactly*:
``r_hat . M_sarvas = r_hat . M_infinite`` (Sarvas 1987; Hämäläinen et al. 1993,
Sec. III.C). jaxfne reports radial magnetometers (:func:`radial_meg_matrix`), so its
``MEG`` signal is the same for ``meg_model="sarvas"`` and ``"infinite"`` (to rounding,
~1e-15 relative); the two differ only in the tangential components of the full
(S, 3, 3) matrices.

Units: 1 nA·m = 1e6 nA·µm (LFPykit's unit); µ0 H with H = 1 nA/µm is
4π·1e-10 T, so B[fT] = 4π·1e5 · H[nA/µm] (LFPykit's ``calculate_B`` returns µ0·H in
mT for these inputs, not nA/µm as its docstring says).

References
----------
Næss S, Chintaluri C, Ness TV, Dale AM, Einevoll GT, Wójcik DK (2017) Corrected
four-sphere head model for EEG signals. Front Hum Neurosci 11:490.
Sarvas J (1987) Basic mathematical and electromagnetic concepts of the biomagnetic
inverse problem. Phys Med Biol 32:11-22.
Hämäläinen M, Hari R, Ilmoniemi RJ, Knuutila J, Lounasmaa OV (1993)
Magnetoencephalography. Rev Mod Phys 65:413-497 (Eq. 34).
Hagen E et al. (2018) Front Neuroinform 12:92 (LFPykit ``eegmegcalc``).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DEFAULT_HEAD_RADII_UM",
    "DEFAULT_HEAD_SIGMAS",
    "DipoleError",
    "cap_positions",
    "column_position_and_axis",
    "four_sphere_eeg_matrix",
    "laminar_dipole_matrix",
    "meg_infinite_matrix",
    "meg_sarvas_matrix",
    "radial_meg_matrix",
    "tangent_frame",
]

#: Brain, CSF, skull and scalp outer radii (µm) and conductivities (S/m)
#: (Næss et al. 2017; LFPykit's defaults).
DEFAULT_HEAD_RADII_UM = (79000.0, 80000.0, 85000.0, 90000.0)
DEFAULT_HEAD_SIGMAS = (0.3, 1.5, 0.015, 0.3)

_NAM_TO_NAUM = 1e6                       # nA·m -> nA·µm
_H_TO_FT = 4.0 * np.pi * 1e5             # nA/µm -> fT via µ0
_MV_TO_UV = 1e3


class DipoleError(ValueError):
    """Invalid geometry for a dipole, EEG or MEG builder."""


def _vec3(name, value) -> np.ndarray:
    v = np.asarray(value, dtype=np.float64)
    if v.shape != (3,) or not np.all(np.isfinite(v)):
        raise DipoleError(f"{name} must be a finite 3-vector in µm; got {value!r}")
    return v


def _xyz(name, value) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 1 and arr.size == 3:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 3 or not np.all(np.isfinite(arr)):
        raise DipoleError(f"{name} must be a finite array of shape (n, 3) in µm; "
                          f"got shape {np.shape(value)}")
    return arr


def _unit(name, value) -> np.ndarray:
    v = _vec3(name, value)
    n = np.linalg.norm(v)
    if n == 0.0:
        raise DipoleError(f"{name} must be a non-zero direction; got {value!r}")
    return v / n


def laminar_dipole_matrix(bin_centers_depth_um, axis=(0.0, 0.0, 1.0),
                          origin_depth_um: float | None = None) -> np.ndarray:
    """Current dipole moment of a laminar source profile.

    Equations
    ---------
    ``P = axis * sum_b I_b (origin_depth - depth_b)``: each bin's current sits on the
    column axis at height ``z_b = origin_depth - depth_b`` (µm, positive towards the
    pia).

    Parameters
    ----------
    bin_centers_depth_um : array_like, shape (B,)
        Depth of each bin centre (µm below the pia).
    axis : array_like, shape (3,)
        Direction, in the output frame, of the column axis pointing to the pia
        (normalised here). ``(0, 0, 1)`` keeps the column frame; pass the axis from
        :func:`column_position_and_axis` to get head coordinates.
    origin_depth_um : float, optional
        Depth of the reference point (default: the mean bin centre, the column
        centre). ``P`` does not depend on it when ``sum_b I_b = 0``; a central origin
        limits float32 cancellation when the profile is only nearly conserved.

    Returns
    -------
    numpy.ndarray, shape (3, B), float64
        nA·m of dipole per nA of bin current.

    Notes
    -----
    Equals LFPykit's ``CurrentDipoleMoment`` (nA·µm per nA, segment midpoints) for
    segments centred on the axis, divided by 1e6.
    """
    depth = np.asarray(bin_centers_depth_um, dtype=np.float64)
    if depth.ndim != 1 or depth.size == 0 or not np.all(np.isfinite(depth)):
        raise DipoleError("bin_centers_depth_um must be a non-empty finite 1-D array "
                          f"(µm); got {bin_centers_depth_um!r}")
    u = _unit("axis", axis)
    origin = float(depth.mean()) if origin_depth_um is None else float(origin_depth_um)
    return u[:, None] * ((origin - depth) / _NAM_TO_NAUM)[None, :]


def column_position_and_axis(radial_distance_um: float = 78000.0, polar_deg: float = 0.0,
                             azimuth_deg: float = 0.0, tilt_deg: float = 0.0):
    """Position and pia-ward axis of a column in head coordinates.

    The head centre is the origin. The column centre sits at ``radial_distance_um``
    in the direction of spherical angles (``polar_deg``, ``azimuth_deg``); by default
    78 000 µm on the +z axis, 1 mm below the 79 000 µm brain surface. Its axis is the
    outward radial direction tilted by ``tilt_deg`` towards increasing polar angle
    (0: radial, gyral crown; 90: tangential, sulcal wall).

    Returns
    -------
    position_um : numpy.ndarray, shape (3,)
    axis : numpy.ndarray, shape (3,)
        Unit vector; pass it to :func:`laminar_dipole_matrix`.

    Notes
    -----
    The engine places a column given by a position (``probes.column_position_um``) with
    :func:`tangent_frame` instead, tilting it towards ``t1``; the two tilt directions agree
    at ``+z`` and on the meridian ``azimuth_deg = 0``.
    """
    if not (np.isfinite(radial_distance_um) and radial_distance_um > 0):
        raise DipoleError("radial_distance_um must be a positive distance in µm; got "
                          f"{radial_distance_um!r}")
    th, ph, tl = np.deg2rad([polar_deg, azimuth_deg, tilt_deg])
    e_r = np.array([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)])
    e_th = np.array([np.cos(th) * np.cos(ph), np.cos(th) * np.sin(ph), -np.sin(th)])
    return radial_distance_um * e_r, np.cos(tl) * e_r + np.sin(tl) * e_th


def tangent_frame(direction):
    """A continuous right-handed tangent frame of the head sphere at ``direction``.

    Equations
    ---------
    With ``r_hat = (a, b, c)`` the unit ``direction``, the frame is the head's ``x``
    and ``y`` axes carried from ``+z`` to ``r_hat`` along the great circle (parallel
    transport; the minimal rotation ``R`` taking ``z`` to ``r_hat``)::

        t1 = R x = (1 - a^2 / (1 + c), -a b / (1 + c), -a)
        t2 = R y = (-a b / (1 + c), 1 - b^2 / (1 + c), -b)

    (evaluated as ``1 / (1 + c) = (1 - c) / (a^2 + b^2)``, stable near ``-z``), so that ``t1 x t2 = r_hat``, and ``(t1, t2, r_hat)`` is to the head what the
    column frame's ``(x, y, z)`` is to the column.

    Parameters
    ----------
    direction : array_like, shape (3,)
        Any non-zero vector (normalised here); the head centre is the origin.

    Returns
    -------
    t1, t2 : numpy.ndarray, shape (3,)
        Orthonormal vectors tangent to the sphere at ``direction``.

    Notes
    -----
    The frame is smooth everywhere except at ``-z``, the point opposite jaxfne's
    default column (no tangent frame of a sphere is continuous everywhere: the
    hairy-ball theorem). There it is the rotation by 180° about ``x``:
    ``t1 = x, t2 = -y``. At ``+z`` it is exactly ``(x, y)``; on the meridian
    ``y = 0, x > 0`` ``t1`` is the unit vector of increasing polar angle, as in
    :func:`column_position_and_axis`.

    Examples
    --------
    >>> t1, t2 = tangent_frame([0.0, 0.0, 78000.0])
    >>> t1.tolist(), t2.tolist()
    ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    """
    a, b, c = _unit("direction", direction)
    rho = float(np.hypot(a, b))
    if rho == 0.0:
        return np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0 if c > 0 else -1.0, 0.0])
    # 1 / (1 + c) = (1 - c) / rho^2: no cancellation near -z
    u, v, w = a / rho, b / rho, 1.0 - c
    t1 = np.array([1.0 - w * u * u, -w * u * v, -a])
    t2 = np.array([-w * u * v, 1.0 - w * v * v, -b])
    return t1, t2


def cap_positions(direction, radius_um: float, polar_deg=(0.0, 10.0, 20.0, 30.0, 45.0),
                  n_azimuth: int = 4) -> np.ndarray:
    """Sensor or electrode positions on a spherical cap around ``direction``.

    One position on the ``direction`` ray, then ``n_azimuth`` equally spaced positions
    on each ring at the non-zero angles ``polar_deg`` from it, all at ``radius_um``
    from the head centre. ``cap_positions(pos, 90000.0)`` gives 17 scalp electrodes
    centred above a column at ``pos``; ``cap_positions(pos, 105000.0)`` MEG
    magnetometers at 105 mm (typical sensor radius 100-110 mm).

    Azimuth 0 of every ring lies along ``t2`` and azimuth 90° along ``-t1``, with
    ``(t1, t2)`` the tangent frame of :func:`tangent_frame`; the positions are
    therefore a continuous function of ``direction`` (everywhere but ``-z``). Above
    ``+z`` the ring starts on ``+y``.

    Returns
    -------
    numpy.ndarray, shape (1 + n_rings * n_azimuth, 3)
        Positions (µm).
    """
    e3 = _unit("direction", direction)
    if not (np.isfinite(radius_um) and radius_um > 0):
        raise DipoleError(f"radius_um must be a positive radius in µm; got {radius_um!r}")
    if int(n_azimuth) != n_azimuth or n_azimuth < 1:
        raise DipoleError(f"n_azimuth must be an integer >= 1; got {n_azimuth!r}")
    t1, t2 = tangent_frame(e3)
    e1, e2 = t2, -t1  # ring azimuth 0 along t2: on +z that is +y, as jaxfne always had
    out = [e3]
    for p in np.deg2rad([a for a in polar_deg if a != 0.0]):
        for a in 2.0 * np.pi * np.arange(int(n_azimuth)) / int(n_azimuth):
            out.append(np.cos(p) * e3 + np.sin(p) * (np.cos(a) * e1 + np.sin(a) * e2))
    return radius_um * np.asarray(out)


# --------------------------------------------------------------------------- EEG


def _legendre_sums(x: np.ndarray, coef_rad: np.ndarray, coef_tan: np.ndarray):
    """sum_n coef_rad[n-1] P_n(x) and sum_n coef_tan[n-1] P_n^1(x) (no Condon-Shortley)."""
    s = np.sqrt(np.clip(1.0 - x * x, 0.0, None))
    p_prev, p = np.ones_like(x), x.copy()               # P_0, P_1
    q_prev, q = np.zeros_like(x), s.copy()              # P_0^1, P_1^1
    rad = coef_rad[0] * p
    tan = coef_tan[0] * q
    for n in range(1, coef_rad.shape[0]):
        # (n + 1 - m) P_{n+1}^m = (2n + 1) x P_n^m - (n + m) P_{n-1}^m
        p_prev, p = p, ((2 * n + 1) * x * p - n * p_prev) / (n + 1)
        q_prev, q = q, ((2 * n + 1) * x * q - (n + 1) * q_prev) / n
        rad = rad + coef_rad[n] * p
        tan = tan + coef_tan[n] * q
    return rad, tan


def _four_sphere_coefficients(n, rz, r, radii, sigmas):
    """Series coefficients of the corrected four-sphere model, shape (len(n), E)."""
    r1, r2, r3, r4 = radii
    s1, s2, s3, s4 = sigmas
    r12, r23, r34 = r1 / r2, r2 / r3, r3 / r4
    s12, s23, s34 = s1 / s2, s2 / s3, s3 / s4
    np1n, nn1 = (n + 1.0) / n, n / (n + 1.0)
    p34, p23, p12 = r34 ** (2 * n + 1), r23 ** (2 * n + 1), r12 ** (2 * n + 1)
    # Næss et al. (2017) define v_n, y_n, z_n; with equal conductivities and large n,
    # v_n and y_n diverge, so the recursion is written with w = 1/v_n and x = 1/y_n.
    rc = (p34 - 1.0) / (np1n * p34 + 1.0)
    w = (s34 + rc) / (nn1 * s34 - rc)
    rc = (nn1 * p23 * w - 1.0) / (p23 * w + 1.0)
    x = (s23 + rc) / (nn1 * s23 - rc)
    zz = (p12 * x - np1n) / (p12 * x + 1.0)
    # coefficients with the factor (rz / r_k)^(n+1) taken out (no overflow for large n):
    # brain  c1 (r/r1)^n + (rz/r)^(n+1)             csf   A (x (r..)^n + (rz/r)^(n+1))
    # skull  Bq (w (r..)^n + (rz/r)^(n+1))           scalp c4 ((r..)^n + n/(n+1) (rz/r)^(n+1))
    c1 = (np1n * s12 + zz) / (s12 - zz)
    A = (c1 + 1.0) / (p12 * x + 1.0)
    Bq = (x + 1.0) * A / (p23 * w + 1.0)
    c4 = np1n * (w + 1.0) * Bq / (np1n * p34 + 1.0)
    shell = np.searchsorted(np.asarray(radii), r, side="left")  # r <= r_k -> shell k
    out = np.empty((n.size, r.size))
    n_ = n[:, None]
    shells = ((r1, c1, None, None), (r2, A, x, None), (r3, Bq, w, None), (r4, c4, None, nn1))
    for k, (rk, c, a_out, a_in) in enumerate(shells):
        sel = shell == k
        if not np.any(sel):
            continue
        r_ = r[None, sel]
        inner = (rz / r_) ** (n_ + 1.0)                 # (rz / r)^(n+1)
        outer = (rz / rk) * (rz * r_ / rk ** 2) ** n_   # (rz / r_k) (rz r / r_k^2)^n
        if k == 0:                                       # brain: infinite medium + image
            out[:, sel] = c[:, None] * outer + inner
        elif a_out is not None:
            out[:, sel] = c[:, None] * (a_out[:, None] * outer + inner)
        else:
            out[:, sel] = c[:, None] * (outer + a_in[:, None] * inner)
    return out


def four_sphere_eeg_matrix(dipole_position_um, electrodes_um,
                           radii_um=DEFAULT_HEAD_RADII_UM, sigmas=DEFAULT_HEAD_SIGMAS,
                           rtol: float = 1e-14, n_max: int = 1 << 16) -> np.ndarray:
    """EEG transfer matrix of the corrected four-sphere head model (Næss et al. 2017).

    Equations
    ---------
    Brain, CSF, skull and scalp are concentric shells with conductivities
    ``sigmas`` and outer radii ``radii_um``; air outside. With the dipole at
    ``r_z`` (``|r_z| < r_1``) and ``theta`` the angle between ``r_z`` and the
    electrode position ``r``, the radial part of ``p`` gives
    ``phi = (p . e_z) / (4 pi sigma_1 r_z^2) sum_n n T_n(r) P_n(cos theta)`` and the
    tangential part ``phi = (p . e_uv) / (4 pi sigma_1 r_z^2) sum_n T_n(r) P_n^1(cos theta)``
    with ``e_uv`` the unit vector of ``r``'s component orthogonal to ``r_z`` and
    ``T_n`` the shell-dependent radial functions of Næss et al. (2017), Eqs. (11)-(14)
    and their coefficient recursions. Implemented here in NumPy with the factors
    ``(r_z / r_k)^(n+1)`` taken out of the coefficients, so that no power overflows.

    Parameters
    ----------
    dipole_position_um : array_like, shape (3,)
        Dipole position (µm), head centre at the origin; ``0 < |r_z| < r_1``.
    electrodes_um : array_like, shape (E, 3)
        Electrode positions (µm), each with ``|r_z| < |r| <= r_4``.
    radii_um : 4 floats
        Increasing outer radii (µm).
    sigmas : 4 floats
        Conductivities (S/m), > 0.
    rtol : float
        Stop the series at the first power of two ``N`` where the last coefficient
        is below ``rtol`` times the sum of magnitudes, for every electrode.
    n_max : int
        Largest number of terms; :class:`DipoleError` if not converged by then
        (dipoles within ~1 µm of the brain surface).

    Returns
    -------
    numpy.ndarray, shape (E, 3), float64
        µV per nA·m of dipole (``EEG = M @ P``).

    Notes
    -----
    Agrees with ``lfpykit.eegmegcalc.FourSphereVolumeConductor`` (mV per nA·µm) times
    1e9 to the truncation error of LFPykit's series; see the test-suite.
    """
    rz_vec = _vec3("dipole_position_um", dipole_position_um)
    el = _xyz("electrodes_um", electrodes_um)
    radii = tuple(float(v) for v in radii_um)
    sig = tuple(float(v) for v in sigmas)
    if len(radii) != 4 or not (0 < radii[0] < radii[1] < radii[2] < radii[3]):
        raise DipoleError(f"radii_um must be 4 increasing positive radii (µm); got {radii_um!r}")
    if len(sig) != 4 or not all(np.isfinite(s) and s > 0 for s in sig):
        raise DipoleError(f"sigmas must be 4 positive conductivities (S/m); got {sigmas!r}")
    rz = float(np.linalg.norm(rz_vec))
    if not 0.0 < rz < radii[0]:
        raise DipoleError(f"dipole_position_um must lie inside the brain, 0 < |r| < {radii[0]} "
                          f"µm; got |r| = {rz}")
    r = np.linalg.norm(el, axis=1)
    # electrodes placed on the scalp by trigonometry may overshoot r_4 by rounding
    r = np.where((r > radii[3]) & (r <= radii[3] * (1.0 + 1e-12)), radii[3], r)
    if np.any(r <= rz) or np.any(r > radii[3]):
        raise DipoleError(
            f"electrodes must satisfy |r_dipole| = {rz} < |r| <= {radii[3]} µm; got |r| in "
            f"[{r.min()}, {r.max()}]"
        )
    e_z = rz_vec / rz
    cos_t = np.clip(el @ e_z / r, -1.0, 1.0)
    r_uv = el - np.outer(el @ e_z, e_z)
    norm_uv = np.linalg.norm(r_uv, axis=1)
    e_uv = np.divide(r_uv, norm_uv[:, None], out=np.zeros_like(r_uv),
                     where=norm_uv[:, None] > 1e-12 * r[:, None])

    n_terms = 256
    while True:
        n = np.arange(1, n_terms + 1, dtype=np.float64)
        with np.errstate(under="ignore"):
            coef = _four_sphere_coefficients(n, rz, r, radii, sig)
        coef_rad = n[:, None] * coef
        if np.all(np.abs(coef_rad[-1]) <= rtol * np.abs(coef_rad).sum(axis=0)):
            break
        if n_terms >= n_max:
            raise DipoleError(
                f"four-sphere series not converged in n_max={n_max} terms; the dipole "
                f"(|r| = {rz} µm) is too close to the brain surface r_1 = {radii[0]} µm"
            )
        n_terms *= 2
    rad, tan = _legendre_sums(cos_t, coef_rad, coef)
    scale = _MV_TO_UV * _NAM_TO_NAUM / (4.0 * np.pi * sig[0] * rz ** 2)
    return scale * (rad[:, None] * e_z[None, :] + tan[:, None] * e_uv)


# --------------------------------------------------------------------------- MEG


def meg_infinite_matrix(dipole_position_um, sensors_um) -> np.ndarray:
    """MEG transfer matrix, infinite homogeneous conductor, primary current only.

    Equations
    ---------
    ``B = mu_0 p x R / (4 pi |R|^3)`` with ``R = r_sensor - r_dipole`` (Biot-Savart;
    the volume currents are ignored).

    Returns
    -------
    numpy.ndarray, shape (S, 3, 3), float64
        fT per nA·m: ``B[s] = M[s] @ p``.

    Notes
    -----
    LFPykit's ``InfiniteHomogeneousVolCondMEG`` (H in nA/µm per nA·µm) times
    4π·1e5 · 1e6. A 10 nA·m tangential dipole seen at 40 mm gives 625 fT.

    Its radial component about any centre ``O`` (the dipole at ``r_p`` from ``O``)
    is ``mu_0 (r_p x p) . r / (4 pi |R|^3)``, the same as that of
    :func:`meg_sarvas_matrix`: for radial magnetometers the two models coincide.
    """
    rp = _vec3("dipole_position_um", dipole_position_um)
    sensors = _xyz("sensors_um", sensors_um)
    R = sensors - rp
    dist = np.linalg.norm(R, axis=1)
    if np.any(dist == 0.0):
        raise DipoleError("sensors_um must differ from dipole_position_um")
    # (p x R)_i = eps_ijk p_j R_k  ->  M[s, i, j] = eps_ijk R_k
    cross = np.zeros((sensors.shape[0], 3, 3))
    cross[:, 0, 1], cross[:, 0, 2] = R[:, 2], -R[:, 1]
    cross[:, 1, 0], cross[:, 1, 2] = -R[:, 2], R[:, 0]
    cross[:, 2, 0], cross[:, 2, 1] = R[:, 1], -R[:, 0]
    return cross / (4.0 * np.pi * dist[:, None, None] ** 3) * (_H_TO_FT * _NAM_TO_NAUM)


def meg_sarvas_matrix(dipole_position_um, sensors_um) -> np.ndarray:
    """MEG transfer matrix of a spherically symmetric conductor (Sarvas 1987).

    Equations
    ---------
    ``B = mu_0 [F p x r_p - ((p x r_p) . r) grad F] / (4 pi F^2)`` with
    ``a = r - r_p``, ``F = a (r a + r^2 - r_p . r)`` and
    ``grad F = (a^2/r + a.r/a + 2a + 2r) r - (a + 2r + a.r/a) r_p``
    (Hämäläinen et al. 1993, Eq. 34). It includes the volume currents, does not
    depend on the conductivities, and a radial dipole is exactly silent.

    Parameters
    ----------
    dipole_position_um : array_like, shape (3,)
        Dipole position (µm); the sphere centre is the origin.
    sensors_um : array_like, shape (S, 3)
        Sensor positions (µm), all farther from the centre than the dipole.

    Returns
    -------
    numpy.ndarray, shape (S, 3, 3), float64
        fT per nA·m: ``B[s] = M[s] @ p``.

    Notes
    -----
    The volume currents of a spherically symmetric conductor produce no radial field,
    so ``r_hat . B`` equals the radial component of the primary current's Biot-Savart
    field, ``r_hat . (meg_infinite_matrix(...) @ p)``, exactly (Sarvas 1987, Eq. 25;
    Hämäläinen et al. 1993, Sec. III.C); only the tangential components differ (on
    the radial line above a tangential dipole by the factor ``r_p / (2 r)``).
    """
    rp = _vec3("dipole_position_um", dipole_position_um)
    r = _xyz("sensors_um", sensors_um)
    r_n = np.linalg.norm(r, axis=1)
    if np.any(r_n <= np.linalg.norm(rp)):
        raise DipoleError(
            f"sensors must be farther from the centre than the dipole (|r_p| = "
            f"{np.linalg.norm(rp)} µm); got sensor radii down to {r_n.min()} µm"
        )
    a = r - rp
    a_n = np.linalg.norm(a, axis=1)
    a_dot_r = (a * r).sum(axis=1)
    F = a_n * (r_n * a_n + r_n ** 2 - r @ rp)
    grad_F = ((a_n ** 2 / r_n + a_dot_r / a_n + 2 * a_n + 2 * r_n)[:, None] * r
              - (a_n + 2 * r_n + a_dot_r / a_n)[:, None] * rp[None, :])
    eye = np.eye(3)
    pxrp = np.cross(eye, rp)                            # row j: e_j x r_p
    # M[s, :, j] = (F e_j x r_p - ((e_j x r_p) . r) grad F) / (4 pi F^2)
    term1 = F[:, None, None] * pxrp.T[None, :, :]
    term2 = grad_F[:, :, None] * (r @ pxrp.T)[:, None, :]
    H = (term1 - term2) / (4.0 * np.pi * F[:, None, None] ** 2)
    return H * (_H_TO_FT * _NAM_TO_NAUM)


def radial_meg_matrix(meg_matrix, sensors_um) -> np.ndarray:
    """Radial (magnetometer-normal) component of an (S, 3, 3) MEG matrix.

    Returns ``M_r[s, j] = r_hat_s . M[s, :, j]`` (fT per nA·m), shape (S, 3), for
    magnetometers whose normal is the outward radial direction.

    Notes
    -----
    For radial magnetometers :func:`meg_sarvas_matrix` and :func:`meg_infinite_matrix`
    give the same result (volume currents add no radial field in a spherical
    conductor); the choice of MEG model matters only for tangential components.
    """
    m = np.asarray(meg_matrix, dtype=np.float64)
    sensors = _xyz("sensors_um", sensors_um)
    if m.shape != (sensors.shape[0], 3, 3):
        raise DipoleError(f"meg_matrix must have shape ({sensors.shape[0]}, 3, 3); "
                          f"got {m.shape}")
    r_hat = sensors / np.linalg.norm(sensors, axis=1, keepdims=True)
    return np.einsum("sk,skj->sj", r_hat, m)
