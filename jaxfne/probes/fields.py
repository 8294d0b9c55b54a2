"""Forward matrices of the field probes (built once) and the field signals derived from the scan.

The scan emits the laminar source profile ``s[column, bin]`` in pA (transmembrane current, source > 0)
and event counts; everything here is linear in them and time-local, so it runs chunk by chunk:

========  =================================================  ======================
signal    computed as                                        unit
========  =================================================  ======================
source    s 1e-12 / (pi R^2 dz 1e-18)                        A/m^3 (source > 0)
LFP       M_lfp @ s[nA]   (uniform cylinders, line sources)  uV
CSD       -sigma d2(LFP)/dz2, inner contacts                 A/m^3 (source > 0)
dipole    M_cdm @ s[nA], per column, head coordinates        nA m
EEG       sum_columns M_4sphere @ P                          uV
MEG       sum_columns r_hat . M_meg @ P  (radial sensors)    fT
EMM       Attwell & Laughlin (2001) ATP budget               ATP/s
BOLD      Balloon-Windkessel of the relative ATP rate, at TR  1 (fraction)
========  =================================================  ======================

``M_meg`` is Sarvas' spherical conductor or the infinite medium (``meg_model``). For the radial
magnetometers reported the two give the same MEG (to rounding): in a spherically symmetric conductor
the volume currents add no radial field (:mod:`jaxfne.probes.dipole`, "MEG models").
"""

from __future__ import annotations

import contextlib

import functools

import jax
import jax.numpy as jnp
import numpy as np

from . import dipole as _dip
from .csd import standard_csd
from .metabolic import ATP_PER_SPIKE, ATP_REST_PER_NEURON_S, atp_rate, balloon_init, balloon_run

__all__ = ["field_matrices", "init_field_state", "derive_fields", "finalize_fields", "ATP_REFERENCE_RATE_HZ"]

#: The firing rate at which Attwell & Laughlin (2001) drew up their budget; the BOLD input is the
#: ATP rate relative to the budget of the same neurons at this rate.
ATP_REFERENCE_RATE_HZ = 4.0
#: Step of the haemodynamic integration, s.
BOLD_DT_S = 0.01


def _head_frame(opts: dict):
    """Where the LFP frame sits in the head: position, pia-ward axis and the images of its ``x`` and ``y``.

    Parameters
    ----------
    opts : dict
        Probe options; uses ``column_position_um`` (µm, ``None``: 78 000 µm on ``+z``) and
        ``column_tilt_deg``.

    Returns
    -------
    pos : numpy.ndarray, shape (3,)
        Head position of the LFP frame's origin (µm).
    axis : numpy.ndarray, shape (3,)
        Unit column axis (pia-ward): ``cos(tilt) r_hat + sin(tilt) e1``.
    e1, e2 : numpy.ndarray, shape (3,)
        Head directions of the LFP frame's ``+x`` and ``+y``: the continuous tangent frame
        :func:`~jaxfne.probes.dipole.tangent_frame` at ``pos`` (``e1 x e2 = r_hat``).

    Notes
    -----
    A column at ``(x, y)`` in the LFP frame sits at ``pos + x e1 + y e2`` in the head, on the plane
    tangent to the head sphere at ``pos``, and every column's axis is tilted towards ``e1``: the LFP
    frame's ``+x`` is the tilt direction. At the default position (``+z``) ``e1, e2`` are the head's
    ``x, y``; ``e1`` is continuous in ``column_position_um`` everywhere except opposite the default
    position, at ``-z``.
    """
    given = opts["column_position_um"]
    pos = np.array([0.0, 0.0, 78000.0]) if given is None else np.asarray(given, float)
    r_hat = pos / np.linalg.norm(pos)
    e1, e2 = _dip.tangent_frame(pos)
    tl = np.deg2rad(opts["column_tilt_deg"])
    return pos, np.cos(tl) * r_hat + np.sin(tl) * e1, e1, e2


def field_matrices(geom, modes, opts) -> dict:
    """All forward matrices the requested modes need (numpy float64), from one geometry of every column.

    Parameters
    ----------
    geom : LaminarSourceGeometry
        Bins, contacts, conductivity and every column's name, centre and radius (``model.geometry``).
    modes : tuple of str
        Probe modes.
    opts : dict
        Probe options (head placement, electrodes, sensors, MEG model).

    Returns
    -------
    dict
        ``bin_volume_m3`` [column, bin], ``lfp`` [contact, column * bin] (with LFP or CSD),
        ``dipole`` [column, 3, bin], ``column_positions_um`` [column, 3], ``column_axis`` [3] and,
        as requested, ``eeg`` [column, electrode, 3] and ``meg`` [column, sensor, 3].
    """
    n_cols, n_b = geom.n_columns, geom.n_bins
    out = {"bin_volume_m3": geom.bin_volume_m3.reshape(n_cols, n_b), "n_bins": n_b, "n_columns": n_cols}
    if any(m in modes for m in ("LFP-proxy", "CSD-proxy")):
        out["lfp"] = geom.lfp_matrix()  # [C, cols*B]
        out["contact_spacing_um"] = float(opts["contact_spacing_um"])
    # the dipole is cheap and always reported with the field probes
    pos, axis, e1, e2 = _head_frame(opts)
    out["dipole"] = np.stack([_dip.laminar_dipole_matrix(geom.bin_centers_um, axis=axis)] * n_cols)  # [cols,3,B]
    col_pos = np.stack([pos + x * e1 + y * e2 for x, y in geom.centers_xy_um])
    out["column_positions_um"] = col_pos
    out["column_axis"] = axis
    if "EEG-proxy" in modes:
        elec = (np.asarray(opts["eeg_electrodes_um"], float) if opts["eeg_electrodes_um"] is not None
                else _dip.cap_positions(pos, _dip.DEFAULT_HEAD_RADII_UM[-1], polar_deg=(0.0, 10.0), n_azimuth=2))
        out["eeg_electrodes_um"] = elec
        with _named("probes.eeg_electrodes_um", elec):
            # one tissue conductivity: the column's medium is the head model's brain shell
            sigmas = (geom.sigma,) + tuple(_dip.DEFAULT_HEAD_SIGMAS[1:])
            out["eeg"] = np.stack([_dip.four_sphere_eeg_matrix(p, elec, sigmas=sigmas) for p in col_pos])  # [cols,E,3]
    if "MEG-proxy" in modes:
        sens = (np.asarray(opts["meg_sensors_um"], float) if opts["meg_sensors_um"] is not None
                else _dip.cap_positions(pos, 105000.0, polar_deg=(0.0, 10.0), n_azimuth=2))
        build = _dip.meg_sarvas_matrix if opts["meg_model"] == "sarvas" else _dip.meg_infinite_matrix
        out["meg_sensors_um"] = sens
        with _named("probes.meg_sensors_um", sens):
            out["meg"] = np.stack([_dip.radial_meg_matrix(build(p, sens), sens) for p in col_pos])  # [cols,S,3]
    return out


@contextlib.contextmanager
def _named(field: str, value):
    """A head-model error as a ConfigurationError naming the probe option that caused it."""
    from ..errors import ConfigurationError

    try:
        yield
    except _dip.DipoleError as exc:
        raise ConfigurationError(field, np.asarray(value).tolist(), str(exc)) from None


def init_field_state(probes, batch: int | None) -> dict:
    return {"emm": []}


def _source_terms(probes, s_pa, dt):
    """Field signals of a source profile ``s_pa[..., cols*B]`` (pA)."""
    m = probes.matrices
    cols, n_b = m["n_columns"], m["n_bins"]
    s_na = s_pa * 1e-3
    out = {}
    modes = probes.modes
    shaped = s_pa.reshape(s_pa.shape[:-1] + (cols, n_b))
    if "source-proxy" in modes:  # [..., location] with location = column x depth bin
        out["source"] = (shaped * 1e-12 / jnp.asarray(m["bin_volume_m3"], dt)).reshape(s_pa.shape)
    if "lfp" in m:
        lfp = s_na @ jnp.asarray(m["lfp"], dt).T
        if "LFP-proxy" in modes:
            out["LFP"] = lfp
        if "CSD-proxy" in modes:
            out["CSD"] = standard_csd(lfp, m["contact_spacing_um"], probes.options["sigma_S_per_m"],
                                      vaknin=probes.options["csd_vaknin"])
    p = jnp.einsum("cjb,...cb->...cj", jnp.asarray(m["dipole"], dt), shaped * 1e-3)  # [..., cols, 3] nA m
    out["dipole"] = p
    if "eeg" in m:
        out["EEG"] = jnp.einsum("cej,...cj->...e", jnp.asarray(m["eeg"], dt), p)
    if "meg" in m:
        out["MEG"] = jnp.einsum("csj,...cj->...s", jnp.asarray(m["meg"], dt), p)
    return out


def _derive(probes, dt_ms: float, outs: dict) -> dict:
    derived = {}
    if "source_pA" in outs:
        dt = outs["source_pA"].dtype
        derived.update(_source_terms(probes, outs["source_pA"], dt))
        if "source_pop_pA" in outs:
            pop = _source_terms(probes, outs["source_pop_pA"], dt)
            for k in ("source", "LFP", "dipole"):
                if k in pop:
                    derived[f"{k}_pop"] = pop[k]
    if "emm_counts" in outs:
        c = outs["emm_counts"]
        derived["EMM"] = atp_rate(c[..., 0], c[..., 1], c[..., 2], probes.n_neurons, dt_ms)
    return derived


def derive_fields(probes, outs: dict, state: dict, dt_ms: float, batched: bool):
    """Field signals of one chunk of scan outputs (time axis 0, or 1 when ``batched``).

    Consumes ``source_pA``/``source_pop_pA``/``emm_counts`` from ``outs``; the transform is compiled
    once per model and step (cached on ``probes``).
    """
    keys = tuple(k for k in ("source_pA", "source_pop_pA", "emm_counts") if k in outs)
    if not keys:
        return state, {}
    cache = probes.__dict__.setdefault("_derive_cache", {})
    fn = cache.get((dt_ms, keys))
    if fn is None:
        fn = cache[(dt_ms, keys)] = jax.jit(functools.partial(_derive, probes, dt_ms))
    derived = fn({k: outs.pop(k) for k in keys})
    if "EMM" in derived:
        state = {"emm": state["emm"] + [derived["EMM"]], "dt_ms": dt_ms}
    return state, derived


@functools.partial(jax.jit, static_argnames=("h_s", "every"))
def _bold_at_tr(ub, h_s: float, every: int):
    def run(x):
        return balloon_run(balloon_init(x.dtype), x, h_s)[1]

    flat = ub.reshape(-1, ub.shape[-1])
    bold = jax.vmap(run)(flat).reshape(ub.shape)
    return bold[..., every - 1::every]


def finalize_fields(probes, state: dict) -> dict:
    """BOLD at the repetition time, from the whole ATP series (empty when the run is shorter than TR).

    The input of the Balloon model is the ATP rate relative to the budget of the same neurons firing
    at Attwell & Laughlin's 4 Hz, minus 1, averaged over 10 ms steps.
    """
    if "EMM-proxy" not in probes.modes or not state["emm"]:
        return {}
    emm = jnp.concatenate(state["emm"], axis=-1)  # [..., T]
    dt_ms = state["dt_ms"]
    ref = probes.n_neurons * (ATP_REST_PER_NEURON_S + ATP_PER_SPIKE * ATP_REFERENCE_RATE_HZ)
    u = emm / ref - 1.0
    per_bin = max(1, int(round(BOLD_DT_S * 1e3 / dt_ms)))
    t_len = (u.shape[-1] // per_bin) * per_bin
    every = int(round(probes.options["bold_tr_ms"] / (per_bin * dt_ms)))
    if t_len // per_bin < every:
        return {"BOLD": jnp.zeros(u.shape[:-1] + (0,), u.dtype)}
    ub = u[..., :t_len].reshape(u.shape[:-1] + (t_len // per_bin, per_bin)).mean(-1)
    return {"BOLD": _bold_at_tr(ub, h_s=per_bin * dt_ms * 1e-3, every=every)}
