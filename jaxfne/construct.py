"""``construct(cfg)``: the one place a configuration becomes arrays.

Builds, once: neuron positions in the laminar geometry, per-neuron parameters from the emitter preset,
the connectivity, the stimuli (deterministic waveforms and random drives with their target masks), and
the forward matrices of every requested probe. Everything random here is drawn from
``numpy.random.default_rng(runtime.network_seed)``: the network instance (positions, parameters,
synapses) is fixed by the configuration, while the seed given to :func:`jaxfne.simulate` (default
``runtime.seed``) draws the noise of the dynamics. The neuron family is asked for everything that
depends on it (:mod:`jaxfne.neurons`).
"""

from __future__ import annotations

import numpy as np

from .config import Configuration
from .errors import ConfigurationError
from .model import Model
from .network import build_synapses, resolve_connectivity
from .neurons import family
from .populations import NeuronTable, build_neuron_table
from .sources import build_sources, check_source_memory

__all__ = ["construct"]

_ALWAYS = None  # a random drive that is on for the whole run


def _target_mask(table: NeuronTable, target: dict, field: str) -> np.ndarray:
    try:
        mask = table.select(target.get("column"), target.get("layer"), target.get("cell_type"))
    except ConfigurationError as exc:
        raise ConfigurationError(f"{field}.target.{exc.field}", exc.value, exc.allowed) from None
    if not mask.any():
        raise ConfigurationError(f"{field}.target", target, "a selection that contains at least one neuron")
    return mask


def _stimuli(cfg: Configuration, table: NeuronTable, fam):
    """Waveforms + masks, Gaussian drives, Poisson drives (the preset's own protocol first)."""
    from .engine.stimulus import drive_window, waveform_from_spec

    em = cfg.emitter_spec
    waves, wmask, gauss, poisson = [], [], [], []
    if em["drive"] == "preset":
        own = fam.preset_drive(em["preset"], em["per_type"])
        for t, (mean, std) in own.gauss.items():
            m = table.cell_type == t
            if m.any():
                gauss.append((mean, std, m, _ALWAYS))
        for t, wave in own.waves.items():
            m = table.cell_type == t
            if m.any():
                waves.append(wave)
                wmask.append(m)
    for i, st in enumerate(cfg.stimuli):
        if st["kind"] == "spike_sources":  # its projections name its targets (jaxfne.sources)
            continue
        m = _target_mask(table, st["target"], f"stimuli[{i}]")
        if st["kind"] == "gaussian":
            gauss.append((st["mean"], st["std"], m, drive_window(st)))
        elif st["kind"] == "poisson":
            poisson.append((st["rate_hz"], st["n_inputs"], st["weight"], m, drive_window(st)))
        else:
            waves.append(waveform_from_spec(st))
            wmask.append(m)
    return waves, wmask, gauss, poisson


def construct(cfg: Configuration) -> Model:
    """Build a :class:`Model` from a :class:`Configuration`.

    Example
    -------
    >>> import jaxfne as jtfne
    >>> cfg = (jtfne.configuration().column("V1", layers=["L2/3", "L4", "L5"], n=100)
    ...        .cell_types({"E": 0.8, "I": 0.2}).connectivity().set_emitter("izhikevich", "cortical_eig"))
    >>> model = jtfne.construct(cfg)
    >>> model.n
    100
    """
    if not isinstance(cfg, Configuration):
        raise ConfigurationError("cfg", type(cfg).__name__, "a jaxfne.Configuration")
    rt = cfg.runtime_spec
    dtype = rt["dtype"]
    _check_x64(dtype)
    _check_layer_names(cfg)
    rng = np.random.default_rng(rt["network_seed"])
    table = build_neuron_table(cfg, rng)
    em = cfg.emitter_spec
    fam = family(em["family"])
    given = cfg.to_dict()["connectivity"]
    fam.check_connectivity(given)
    spec = cfg.connectivity_spec
    if "weights" not in given and fam.default_weights is not None:
        spec["weights"] = dict(fam.default_weights)
    neuron = fam.apply_overrides(fam.neuron_parameters(em["preset"], em["per_type"], table.cell_type, rng),
                                 em["params"])
    if em.get("per_population"):
        neuron = fam.apply_per_population(neuron, em["per_population"], table.population, rng)
    scheme = em["scheme"] or fam.preset_scheme(em["preset"])
    conn = resolve_connectivity(spec, fam.preset_connectivity(em["preset"]), table, rt["dt_ms"])
    _check_synapse_memory(table, conn, dtype)
    check_source_memory(cfg, table)
    syn = build_synapses(table, conn, rng, dtype=dtype)
    sources = build_sources(cfg, table, rng, delay_floor_ms=conn["delay_floor_ms"], synapse=syn.synapse,
                            tau_ms=syn.tau_ms, dtype=dtype)
    waves, wmask, gauss, poisson = _stimuli(cfg, table, fam)
    from .model_build import assemble

    return assemble(cfg=cfg, table=table, synapses=syn, conn=conn, neuron=neuron, scheme=scheme, dtype=dtype,
                    waves=waves, wmask=wmask, gauss=gauss, poisson=poisson, gains=conn["projections"] is not None,
                    sources=sources)


def _check_layer_names(cfg: Configuration) -> None:
    """Layer labels given outside ``column`` (per-layer cell types, afferent depths) name real layers."""
    layers = {c["name"]: c["layers"] for c in cfg.columns}
    known = sorted({lab for labs in layers.values() for lab in labs})
    for lab in cfg.cell_type_spec["per_layer"]:
        if lab not in known:
            raise ConfigurationError(f"cell_types.per_layer.{lab}", cfg.cell_type_spec["per_layer"][lab],
                                     "a layer of a column: " + ", ".join(known))
    for i, st in enumerate(cfg.stimuli):
        sd = st.get("synapse_depth_um")
        if st["kind"] not in ("poisson", "spike_sources") or not isinstance(sd, str):
            continue
        cols = [st["target"]["column"]] if "column" in st["target"] else list(layers)
        for c in cols:
            if c in layers and sd not in layers[c]:
                raise ConfigurationError(f"stimuli[{i}].synapse_depth_um", sd,
                                         f"a layer of column {c!r}: " + ", ".join(layers[c]))


def _check_synapse_memory(table: NeuronTable, conn: dict, dtype: str) -> None:
    """Refuse, before drawing, a network whose synapse table would not fit in memory."""
    from .engine.prepare import physical_memory_bytes
    from .network import bytes_per_synapse, expected_synapses

    per_field = expected_synapses(table, conn)
    total = sum(per_field.values())
    need = total * bytes_per_synapse(conn, dtype)
    if per_field and need > physical_memory_bytes() / 2:
        field = max(per_field, key=per_field.get)
        given = {"column.n": table.n, "connectivity.p": conn["p"], "connectivity.indegree": conn["indegree"]}
        raise ConfigurationError(field, given.get(field, per_field[field]),
                                 f"a network whose synapses fit in memory: about {total:.3g} synapses need "
                                 f"{need / 2**30:.3g} GiB to build ({table.n} neurons)")


def _check_x64(dtype: str) -> None:
    """A float64 model needs 64-bit JAX, which only the user may switch on for the process."""
    import jax

    if dtype == "float64" and not jax.config.jax_enable_x64:
        raise ConfigurationError(
            "runtime.dtype", dtype,
            "'float32', or 'float64' with 64-bit JAX enabled first: jax.config.update('jax_enable_x64', True) "
            "at start-up, JAX_ENABLE_X64=1 in the environment, or construct and simulate inside "
            "`with jax.enable_x64(True):`")
