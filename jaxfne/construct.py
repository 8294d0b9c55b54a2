"""``construct(cfg)``: the one place a configuration becomes arrays.

Builds, once: neuron positions in the laminar geometry, per-neuron parameters from the emitter preset,
the connectivity, the stimuli (deterministic waveforms and random drives with their target masks), and
the forward matrices of every requested probe. Everything random here is drawn from
``numpy.random.default_rng(runtime.seed)``: the network instance is fixed by the configuration, while
the seed given to :func:`jaxfne.simulate` drives the dynamics noise.
"""

from __future__ import annotations

import numpy as np

from .config import Configuration
from .config import schema as S
from .errors import ConfigurationError
from .model import Model
from .network import build_synapses, resolve_connectivity
from .neurons import NeuronTable, build_neuron_table
from .presets import cortical_eig
from .presets.izhikevich import get_preset

__all__ = ["construct"]

_ALWAYS = None  # a random drive that is on for the whole run

_NEURON_KEYS = ("a", "b", "c", "d", "k2", "k1", "k0", "u_v_offset", "u_decay", "v_peak", "v0", "u0")


def _preset_params(name: str, n: int) -> dict[str, np.ndarray]:
    p = get_preset(name)
    vals = {k: getattr(p, k) for k in _NEURON_KEYS if k != "u0"}
    vals["u0"] = p.b * p.v0 if p.u0 is None else p.u0
    return {k: np.full(n, float(v)) for k, v in vals.items()}


def _neuron_params(cfg: Configuration, table: NeuronTable, rng) -> tuple[dict, str]:
    em = cfg.emitter_spec
    n = table.n
    if em["preset"] == "cortical_eig":
        base = cortical_eig.neuron_parameters(table.is_exc, rng)
        prm = {k: np.full(n, v) for k, v in (("k2", 0.04), ("k1", 5.0), ("k0", 140.0), ("u_v_offset", 0.0),
                                              ("u_decay", 1.0), ("v_peak", cortical_eig.V_PEAK))}
        prm.update(base)
        scheme = cortical_eig.SCHEME
    else:
        prm = _preset_params(em["preset"], n)
        scheme = get_preset(em["preset"]).scheme
        for t, name in em["per_type"].items():
            mask = table.cell_type == t
            other = _preset_params(name, n)
            for k in prm:
                prm[k] = np.where(mask, other[k], prm[k])
    for k, v in em["params"].items():
        prm[k] = np.full(n, float(v))
        if k == "b" and "u0" not in em["params"]:
            prm["u0"] = prm["b"] * prm["v0"]
    return prm, em["scheme"] or scheme


def _target_mask(table: NeuronTable, target: dict, field: str) -> np.ndarray:
    try:
        mask = table.select(target.get("column"), target.get("layer"), target.get("cell_type"))
    except ConfigurationError as exc:
        raise ConfigurationError(f"{field}.target.{exc.field}", exc.value, exc.allowed) from None
    if not mask.any():
        raise ConfigurationError(f"{field}.target", target, "a selection that contains at least one neuron")
    return mask


def _stimuli(cfg: Configuration, table: NeuronTable):
    """Waveforms + masks, Gaussian drives, Poisson drives (preset protocol included)."""
    from .engine.stimulus import Waveform, waveform_from_spec

    em = cfg.emitter_spec
    waves, wmask, gauss, poisson = [], [], [], []
    if em["drive"] == "preset":
        if em["preset"] == "cortical_eig":
            for t, std in cortical_eig.THALAMIC_STD.items():
                m = table.cell_type == t
                if m.any():
                    gauss.append((0.0, std, m, _ALWAYS))
        else:
            types = {"E": em["per_type"].get("E", em["preset"]), "I": em["per_type"].get("I", em["preset"])}
            for t, name in types.items():
                m = table.cell_type == t
                segs = get_preset(name).stimulus
                if m.any() and segs:
                    waves.append(Waveform(tuple(segs)))
                    wmask.append(m)
    for i, st in enumerate(cfg.stimuli):
        m = _target_mask(table, st["target"], f"stimuli[{i}]")
        if st["kind"] == "gaussian":
            gauss.append((st["mean"], st["std"], m, _window(st)))
        elif st["kind"] == "poisson":
            poisson.append((st["rate_hz"], st["n_inputs"], st["weight"], m, _window(st)))
        else:
            waves.append(waveform_from_spec(st))
            wmask.append(m)
    return waves, wmask, gauss, poisson


def _window(st):
    """The on-window of a random drive as a 0/1 waveform (closed at the start, open at the stop)."""
    from .engine.stimulus import Waveform, on_interval

    return Waveform((on_interval(st["start_ms"], st["stop_ms"], 1.0),))


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
    if dtype == "float64":
        import jax

        jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(rt["seed"])
    table = build_neuron_table(cfg, rng)
    em = cfg.emitter_spec
    neuron, scheme = _neuron_params(cfg, table, rng)
    conn = resolve_connectivity(cfg.connectivity_spec, em["preset"])
    syn = build_synapses(table, conn, rng)
    waves, wmask, gauss, poisson = _stimuli(cfg, table)
    from .model_build import assemble

    return assemble(cfg=cfg, table=table, synapses=syn, conn=conn, neuron=neuron, scheme=scheme, dtype=dtype,
                    waves=waves, wmask=wmask, gauss=gauss, poisson=poisson)
