"""Assemble a :class:`Model`: choose the propagation kernel, lay out parameters and structure arrays."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .config import schema as S
from .errors import ConfigurationError
from .model import Model
from .network import Synapses
from .neurons import NeuronTable

__all__ = ["assemble", "choose_propagation"]

#: Networks up to this size use dense propagation (differentiable) under ``propagation="auto"``.
DENSE_MAX_N = 128


def choose_propagation(conn: dict, syn: Synapses, n: int) -> str:
    if syn.count == 0:
        return "none"
    plastic = conn["plasticity"] is not None
    prop = conn["propagation"]
    if prop == "event" and plastic:
        raise ConfigurationError("connectivity.propagation", "event",
                                 "'dense' or 'auto' when plasticity is on (STDP runs on the dense kernel)")
    if prop == "auto":
        prop = "dense" if (plastic or n <= DENSE_MAX_N) else "event"
    return prop


def _full_rows(syn: Synapses) -> bool:
    n = syn.n
    if syn.count != n * n:
        return False
    return bool(np.array_equal(syn.post, np.tile(np.arange(n), n)))


def assemble(*, cfg, table: NeuronTable, synapses: Synapses, conn: dict, neuron: dict, scheme: str, dtype: str,
             waves, wmask, gauss, poisson) -> Model:
    from .probes.setup import build_probes

    n = table.n
    dt_ = jnp.dtype(dtype)
    prop = choose_propagation(conn, synapses, n)
    plastic = conn["plasticity"] is not None
    em = cfg.emitter_spec

    params = {
        "neuron": {k: jnp.asarray(v, dt_) for k, v in neuron.items()},
        "weight_scale": jnp.asarray(conn["weight_scale"], dt_),
        "tau_syn_ms": jnp.asarray([synapses.tau_ms["E"], synapses.tau_ms["I"]], dt_),
        "stim_gain": jnp.ones(len(waves), dt_),
        "gauss_mean": jnp.asarray([g[0] for g in gauss], dt_).reshape(-1),
        "gauss_std": jnp.asarray([g[1] for g in gauss], dt_).reshape(-1),
        "poisson_rate_hz": jnp.asarray([p[0] for p in poisson], dt_).reshape(-1),
        "poisson_n_inputs": jnp.asarray([p[1] for p in poisson], dt_).reshape(-1),
        "poisson_weight": jnp.asarray([p[2] for p in poisson], dt_).reshape(-1),
        "capacitance_pF": jnp.asarray(em["capacitance_pF"], dt_),
    }
    struct = {
        "is_exc": jnp.asarray(table.is_exc),
        "pop_index": jnp.asarray(table.pop_index),
        "emm_rows": jnp.asarray(np.stack([np.ones(n), table.is_exc * synapses.out_degree(),
                                          ~table.is_exc * synapses.out_degree()]), dt_),
        "wave_mask": jnp.asarray(np.array(wmask, float).reshape(len(waves), n), dt_),
        "gauss_mask": jnp.asarray(np.array([g[2] for g in gauss], float).reshape(len(gauss), n), dt_),
        "poisson_mask": jnp.asarray(np.array([p[3] for p in poisson], float).reshape(len(poisson), n), dt_),
    }
    if prop == "event":
        targets, w_rows, _ = synapses.to_rows(1.0)
        params["weights"] = jnp.asarray(w_rows, dt_)
        struct["targets"] = jnp.asarray(targets)
    elif prop == "dense":
        w, _ = synapses.to_dense(1.0)
        params["weights"] = jnp.asarray(w, dt_)
        if plastic:
            stdp = dict(S.STDP_DEFAULTS)
            stdp.update(conn["plasticity"])
            if stdp["w_max"] is None:
                stdp["w_max"] = 2.0 * float(conn["weights"].get("E", S.CONNECTIVITY_DEFAULTS["weights"]["E"]))
            params["stdp"] = {k: jnp.asarray(v, dt_) for k, v in stdp.items() if k != "rule"}
            conn_mask = np.zeros((n, n), bool)
            conn_mask[synapses.pre, synapses.post] = True
            struct["plastic_mask"] = jnp.asarray(conn_mask & table.is_exc[:, None])
    else:
        params["weights"] = jnp.zeros((n, 1), dt_)

    probes = build_probes(cfg, table, dtype)
    struct.update(probes.struct)
    opts = cfg.probe_spec["options"]
    if opts["record_neurons"] is not None:
        rec = np.asarray(opts["record_neurons"], np.int32)
        if rec.size and rec.max() >= n:
            raise ConfigurationError("probes.record_neurons", int(rec.max()), f"neuron indices below n={n}")
        struct["record_idx"] = jnp.asarray(rec, jnp.int32)
    modes = cfg.probe_spec["modes"]
    # spikes and V_m are always recorded: they are Signals' non-optional attributes
    static = {
        "n": n, "dtype": dtype, "family": em["family"], "scheme": scheme, "propagation": prop,
        "full_rows": prop == "event" and _full_rows(synapses),
        "uniform": synapses.is_uniform_delay(), "synapse": synapses.synapse, "plastic": plastic,
        "n_wave": len(waves), "n_gauss": len(gauss), "n_poisson": len(poisson),
        "rec_vm": True, "rec_isyn": "I_syn" in modes, **probes.static,
    }
    resolved = {"connectivity": conn, "scheme": scheme, "propagation": prop,
                "n_synapses": synapses.count, "populations": list(table.populations)}
    # waveform table columns: stimulus currents, then the on-windows of the Gaussian and Poisson drives
    from .engine.stimulus import Waveform, on_interval

    always = Waveform((on_interval(float("-inf"), float("inf"), 1.0),))
    windows = [g[3] or always for g in gauss] + [q[4] or always for q in poisson]
    return Model(cfg=cfg, table=table, synapses=synapses, params=params, struct=struct, static=static,
                 waveforms=list(waves) + windows, geometry=probes.geometry, basis_spec=probes.basis_spec, probes=probes,
                 resolved=resolved)
