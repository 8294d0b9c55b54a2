"""In-scan emitters: what each step hands to the scan's output (see :class:`RecordSpec`)."""

from __future__ import annotations

import jax.numpy as jnp

from ..synapses import CurrentSynapses
from . import drive, sources

__all__ = ["per_step", "sampled"]


def per_step(spec, static, struct: dict, s, syn_state: dict, scale_pA, xs: dict, poisson_on) -> dict:
    """Signals of every step: spikes, the laminar source profile (pA), MUA and metabolic counts."""
    out = {}
    if spec.spikes:
        out["spikes"] = s if static.float_spikes else s > 0.5
    if spec.n_bins:
        currents = CurrentSynapses.stacked(syn_state, struct.get("drive_groups")) * scale_pA  # [(2 + G) N] in pA
        if spec.attribution:
            out["source_pop_pA"] = jnp.einsum("k,kp,bk->pb", currents, struct["pop_onehot_k"], struct["basis_t"])
            out["source_pA"] = out["source_pop_pA"].sum(0)
        else:
            out["source_pA"] = struct["basis_t"] @ currents  # one matvec with [B_exc; B_inh; B_drive]^T
    if spec.n_mua:
        out["MUA"] = struct["mua_weights_t"] @ s
    if spec.emm:
        # [spikes, excitatory synaptic events, inhibitory synaptic events] in one matvec
        counts = struct["emm_rows"] @ s
        if static.drive.n_poisson:
            counts = counts + jnp.stack([0.0, jnp.sum(xs["pc"] * poisson_on[:, None] * struct["poisson_mask"]), 0.0])
        if static.drive.n_sources:
            counts = counts + jnp.stack([0.0, sources.events(xs["src"], drive.source_windows(static.drive, xs), struct), 0.0])
        out["emm_counts"] = counts
    return out


def sampled(spec, struct: dict, v_sample, syn_state: dict, scale_pA) -> dict:
    """V_m and I_syn of the recorded neurons (every ``spec.every``-th step)."""
    out = {}
    rec = struct.get("record_idx") if spec.subset else None
    if spec.V_m:
        out["V_m"] = v_sample if rec is None else v_sample[rec]
    if spec.I_syn:
        isyn = CurrentSynapses.total_current(syn_state) * scale_pA
        out["I_syn"] = isyn if rec is None else isyn[rec]
    return out
