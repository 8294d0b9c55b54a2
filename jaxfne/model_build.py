"""Assemble a :class:`Model`: choose the propagation kernel, lay out parameters and structure arrays."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .config import schema as S
from .engine.static import RecordSpec
from .engine.transfer import device_array, shared_device_array
from .errors import ConfigurationError
from .model import Model, ModelStatic, _Host
from .network import Synapses
from .neurons import family
from .populations import NeuronTable
from .propagation import TABLE_KERNELS

__all__ = ["assemble", "choose_propagation", "record_spec"]

#: Networks up to this size use dense propagation (differentiable) under ``propagation="auto"``.
DENSE_MAX_N = 128

def choose_propagation(conn: dict, syn: Synapses, n: int) -> str:
    if syn.count == 0:
        return "none"
    plastic = conn["plasticity"] is not None
    prop = conn["propagation"]
    if prop in TABLE_KERNELS and plastic:
        raise ConfigurationError("connectivity.propagation", prop,
                                 "'dense' or 'auto' when plasticity is on (STDP runs on the dense kernel)")
    if prop == "dense" and syn.has_multapse_delays():
        raise ConfigurationError("connectivity.propagation", "dense",
                                 "'event', 'batched' or 'auto': multapses with different delays (e.g. "
                                 "fixed_total_number) cannot be held by a dense weight and delay matrix")
    if prop == "auto":
        import jax

        dense = (plastic or n <= DENSE_MAX_N) and not syn.has_multapse_delays()
        prop = "dense" if dense else "batched" if jax.default_backend() == "gpu" else "event"
    return prop


def _full_rows(syn: Synapses) -> bool:
    n = syn.n
    if syn.count != n * n:
        return False
    return bool(np.array_equal(syn.post, np.tile(np.arange(n), n)))


def _row_start32(syn: Synapses) -> np.ndarray:
    """Row offsets as int32 (the event kernels' index type): a table beyond 2**31 entries is refused."""
    top = int(syn.row_start[-1]) + syn.row_width
    if top >= 2**31:
        raise ConfigurationError("connectivity", f"{syn.count} synapses",
                                 f"fewer than {2**31 - syn.row_width} synapses (int32 row offsets)")
    return syn.row_start.astype(np.int32)


def record_spec(cfg, probes_static: dict) -> RecordSpec:
    """The record spec of a configuration's probes (see :data:`jaxfne.config.schema.NEURON_MODES`)."""
    spec = cfg.probe_spec
    opts = spec["options"]
    neuron = S.recorded_neuron_signals(spec["modes"])
    rec = opts["record_neurons"]
    return RecordSpec(
        spikes="spikes" in neuron, V_m="V_m" in neuron, I_syn="I_syn" in neuron,
        every=int(opts["record_every"]), subset=rec is not None, n_bins=probes_static["n_bins"],
        attribution=probes_static["attribution"], n_pops=probes_static["n_pops"], n_mua=probes_static["n_mua"],
        emm=probes_static["rec_emm"])


def source_kernel(prop: str) -> str:
    """The table kernel of the spike-source populations: the network's when it has one, else the
    backend's (``batched`` on a GPU, ``event`` elsewhere)."""
    if prop in TABLE_KERNELS:
        return prop
    import jax

    return "batched" if jax.default_backend() == "gpu" else "event"


def _source_arrays(sources, dt_) -> tuple[dict, dict]:
    """``(params, struct)`` entries of the spike-source populations: rates and flat weights (leaves
    that sweeps and gradients reach), and each table's targets, row offsets and out-degrees."""
    params = {"source_rate_hz": device_array(np.ravel([sp.rate_hz for sp in sources]), dt_),
              "source_weights": tuple(device_array(sp.synapses.flat_weights(dt_)) for sp in sources)}
    tables = []
    for sp in sources:
        syn = sp.synapses
        tables.append({"targets": device_array(syn.flat_targets()), "row_start": device_array(_row_start32(syn)),
                       "is_exc": device_array(np.ones(syn.n, bool)), "pop_index": device_array(np.zeros(syn.n, np.int32)),
                       "out_degree": device_array(syn.out_degree(), dt_)})
    return params, {"sources": tuple(tables)}


def _drive_rows(cfg, poisson, sources, n: int) -> tuple[int, ...]:
    """The row of ``I_p`` of every Poisson drive and spike-source population (:mod:`jaxfne.engine.drive_rows`)."""
    from .engine.drive_rows import assign_rows, placement_key
    from .probes.setup import FIELD_MODES, drive_stimuli

    fields = any(m in FIELD_MODES for m in cfg.probe_spec["modes"])
    masks = [np.asarray(p[3], bool) for p in poisson]
    for sp in sources:
        hit = np.zeros(n, bool)
        hit[sp.synapses.post] = True
        masks.append(hit)
    keys = [placement_key(st, fields) for st in drive_stimuli(cfg)]
    return assign_rows(masks, keys)


def _row_structure(rows: tuple, poisson, n: int, dt_) -> dict:
    """The Poisson drives' row maps when rows are shared: ``poisson_rows`` [R, P] (one-hot) and, for
    drives with disjoint targets, ``poisson_row_mask`` [R, N] (each neuron's drive's row)."""
    n_p = len(poisson)
    n_rows = max(rows) + 1 if rows else 0
    if not n_p or (tuple(rows[:n_p]) == tuple(range(n_p)) and n_rows == n_p):
        return {}
    onehot = np.zeros((n_rows, n_p))
    onehot[list(rows[:n_p]), np.arange(n_p)] = 1.0
    masks = np.array([p[3] for p in poisson], float).reshape(n_p, n)
    return {"poisson_rows": device_array(onehot, dt_),
            "poisson_row_mask": device_array(np.minimum(onehot @ masks, 1.0), dt_)}


def assemble(*, cfg, table: NeuronTable, synapses: Synapses, conn: dict, neuron: dict, scheme: str, dtype: str,
             waves, wmask, gauss, poisson, gains: bool, sources: tuple = ()) -> Model:
    from .engine.stimulus import Waveform, on_interval
    from .probes.setup import build_probes

    n = table.n
    dt_ = jnp.dtype(dtype)
    prop = choose_propagation(conn, synapses, n)
    plastic = conn["plasticity"] is not None
    em = cfg.emitter_spec
    fam = family(em["family"])

    params = {
        "neuron": {k: device_array(v, dt_) for k, v in neuron.items()},
        "weight_scale": device_array(conn["weight_scale"], dt_),
        "tau_syn_ms": device_array([synapses.tau_ms["E"], synapses.tau_ms["I"]], dt_),
        "stim_gain": device_array(np.ones(len(waves), dt_)),
        "gauss_mean": device_array(np.ravel([g[0] for g in gauss]), dt_),
        "gauss_std": device_array(np.ravel([g[1] for g in gauss]), dt_),
        "poisson_rate_hz": device_array(np.ravel([p[0] for p in poisson]), dt_),
        "poisson_n_inputs": device_array(np.ravel([p[1] for p in poisson]), dt_),
        "poisson_weight": device_array(np.ravel([p[2] for p in poisson]), dt_),
    }
    for k in fam.options:
        params[k] = device_array(em[k], dt_)
    if gains:
        params["gain"] = device_array(np.ones((len(table.populations),) * 2, dt_))
    if sources:
        src_params, src_struct = _source_arrays(sources, dt_)
        params.update(src_params)
    struct = {
        "is_exc": device_array(table.is_exc),
        "pop_index": device_array(table.pop_index),
        "emm_rows": device_array(np.stack([np.ones(n), table.is_exc * synapses.out_degree(),
                                          ~table.is_exc * synapses.out_degree()]), dt_),
        "wave_mask": device_array(np.array(wmask, float).reshape(len(waves), n), dt_),
        "gauss_mask": device_array(np.array([g[2] for g in gauss], float).reshape(len(gauss), n), dt_),
        "poisson_mask": device_array(np.array([p[3] for p in poisson], float).reshape(len(poisson), n), dt_),
    }
    if prop in TABLE_KERNELS:
        params["weights"] = shared_device_array(synapses.flat_weights(dt_))
        struct["targets"] = shared_device_array(synapses.flat_targets())
        for view in (synapses.post, synapses.weight):  # they share the device arrays' memory now
            view.flags.writeable = False
        struct["row_start"] = device_array(_row_start32(synapses))
    elif prop == "dense":
        w, _ = synapses.to_dense(1.0)
        params["weights"] = device_array(w, dt_)
        if plastic:
            stdp = dict(S.STDP_DEFAULTS)
            stdp.update(conn["plasticity"])
            if stdp["w_max"] is None:
                stdp["w_max"] = 2.0 * float(conn["weights"].get("E", S.CONNECTIVITY_DEFAULTS["weights"]["E"]))
            params["stdp"] = {k: device_array(v, dt_) for k, v in stdp.items() if k != "rule"}
            conn_mask = np.zeros((n, n), bool)
            conn_mask[synapses.pre, synapses.post] = True
            struct["plastic_mask"] = device_array(conn_mask & table.is_exc[:, None])
    else:
        params["weights"] = device_array(np.zeros((n, 1), dt_))

    if sources:
        struct.update(src_struct)
    rows = _drive_rows(cfg, poisson, sources, n)
    struct.update(_row_structure(rows, poisson, n, dt_))
    probes = build_probes(cfg, table, dtype, drive_rows=rows)
    struct.update(probes.struct)
    opts = cfg.probe_spec["options"]
    if opts["record_neurons"] is not None:
        rec = np.asarray(opts["record_neurons"], np.int32)
        if rec.size and rec.max() >= n:
            raise ConfigurationError("probes.record_neurons", int(rec.max()), f"neuron indices below n={n}")
        struct["record_idx"] = device_array(rec, np.int32)
    static = ModelStatic(
        n=n, dtype=dtype, family=em["family"], scheme=scheme, synapse=synapses.synapse, propagation=prop,
        full_rows=prop == "event" and _full_rows(synapses), uniform_delay=synapses.is_uniform_delay(),
        gains=gains, plastic=plastic, n_wave=len(waves), n_gauss=len(gauss), n_poisson=len(poisson),
        record=record_spec(cfg, probes.static), strict_threshold=fam.strict_threshold(em["preset"]),
        closed_end=fam.preset_run(em["preset"], em["per_type"], em["drive"]) is not None,
        source_kind=source_kernel(prop), drive_rows=rows)
    resolved = {"connectivity": conn, "family": em["family"], "scheme": scheme, "propagation": prop,
                "n_synapses": synapses.count, "populations": list(table.populations)}
    if sources:
        resolved["source_synapses"] = [sp.synapses.count for sp in sources]
    # waveform table columns: stimulus currents, then the on-windows of the Gaussian and Poisson drives
    # and of the spike-source populations
    always = Waveform((on_interval(float("-inf"), float("inf"), 1.0),))
    windows = [g[3] or always for g in gauss] + [q[4] or always for q in poisson] + [sp.window for sp in sources]
    host = _Host(cfg=cfg, table=table, synapses=synapses, static=static, waveforms=tuple(waves) + tuple(windows),
                 geometry=probes.geometry, basis_spec=probes.basis_spec, probes=probes, resolved=resolved,
                 sources=tuple(sources))
    model = Model(params, struct, host)
    from .engine.prepare import prepare

    prepare(model, float(cfg.runtime_spec["dt_ms"]))  # delays in steps of the configured dt: built once, here
    return model
