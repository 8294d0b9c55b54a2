"""Spike-source populations: Poisson spike trains shared among their targets.

A ``stimulus("spike_sources", ...)`` is a population of independent Poisson sources, each of whose
spikes reaches every one of its synapses (NEST's ``poisson_generator`` feeding ``parrot_neuron`` s,
PyNN's ``SpikeSourcePoisson``): unlike a ``poisson`` drive, whose inputs are private to each neuron,
two targets sharing a source receive the same spikes, so the input is correlated across targets
(the thalamus of Potjans & Diesmann 2014). The synapses are drawn here, once, as a table whose rows
are the sources and whose targets are the network's neurons, with the rules, weights and delays of
``connectivity(projections=...)``; the engine delivers the sources' spikes through the model's table
kernel into a current of their own (:mod:`jaxfne.engine.sources`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import schema as S
from .errors import ConfigurationError
from .network import Synapses, draw_projection
from .populations import NeuronTable

__all__ = ["SourcePopulation", "build_sources", "check_source_memory", "source_stimuli", "spike_counts"]

#: Bytes a source synapse takes while it is drawn (int32 pre and post, float64 weight and delay).
DRAW_BYTES_PER_SYNAPSE = 24


@dataclass(frozen=True)
class SourcePopulation:
    """One spike-source stimulus as constructed.

    Attributes
    ----------
    index : int
        Its position in ``cfg.stimuli``.
    rate_hz : float
        Rate of each source within the on-window.
    synapses : Synapses
        Rows = the ``n`` sources, ``post`` = neuron indices (``n_targets`` = the network's size).
    window : Waveform
        The 0/1 on-window (closed at the start, open at the stop).
    """

    index: int
    rate_hz: float
    synapses: Synapses
    window: object

    @property
    def n_sources(self) -> int:
        return self.synapses.n


def source_stimuli(cfg) -> list[tuple[int, dict]]:
    """``(index in cfg.stimuli, stimulus)`` of every spike-source stimulus, in configuration order."""
    return [(i, st) for i, st in enumerate(cfg.stimuli) if st["kind"] == "spike_sources"]


def _target_members(table: NeuronTable, field: str, key: str) -> list[np.ndarray]:
    """The neuron indices of every population ``key`` names (``"V1:L4E"``, or ``"L4E"`` in each column)."""
    full = table.population
    if ":" in key:
        hits = [key] if key in set(full.tolist()) else []
    else:
        hits = [p for p in table.populations if p.split(":", 1)[1] == key]
    if not hits:
        raise ConfigurationError(field, key, "a population of the model: " + ", ".join(table.populations))
    return [np.flatnonzero(full == p) for p in hits]


def _expected(pj: dict, n_src: int, n_dst: int) -> float:
    if pj["rule"] == "pairwise_bernoulli":
        return float(pj["p"]) * n_src * n_dst
    if pj["rule"] == "fixed_indegree":
        return float(pj["K"]) * n_dst
    return float(pj["N_syn"])


def check_source_memory(cfg, table: NeuronTable) -> None:
    """Refuse, before drawing, source synapses that would not fit in memory (the error names the
    projection with the most synapses)."""
    from .engine.prepare import physical_memory_bytes

    per_field: dict[str, tuple[float, dict]] = {}
    for i, st in source_stimuli(cfg):
        for key, given in st["projections"].items():
            field = f"stimuli[{i}].projections.{key}"
            pj = {**S.PROJECTION_DEFAULTS, **given}
            per_field[field] = (sum(_expected(pj, st["n_sources"], m.size) for m in _target_members(table, field, key)),
                                given)
    total = sum(v[0] for v in per_field.values())
    need = total * DRAW_BYTES_PER_SYNAPSE
    if per_field and need > physical_memory_bytes() / 2:
        field = max(per_field, key=lambda f: per_field[f][0])
        raise ConfigurationError(field, per_field[field][1],
                                 f"source synapses that fit in memory: about {total:.3g} synapses need "
                                 f"{need / 2**30:.3g} GiB to build")


def build_sources(cfg, table: NeuronTable, rng: np.random.Generator, *, delay_floor_ms: float, synapse: str,
                  tau_ms: dict, dtype: str) -> tuple[SourcePopulation, ...]:
    """Draw every spike-source stimulus's synapses from ``rng`` (after the network's own, so adding a
    source population does not change the recurrent synapses).

    Each projection is drawn from the sources onto each population it names (in every column for a
    short name) with :mod:`jaxfne.projections`' rules; weights normal with the relative SD and the
    sign kept, delays normal redrawn below ``delay_floor_ms`` (half a step: at least one step),
    as the network's projections. The table is ordered by source (a counting scatter).
    """
    from . import projections as rules
    from .engine.stimulus import drive_window

    out = []
    for i, st in source_stimuli(cfg):
        n_src = int(st["n_sources"])
        parts = []
        for key, pj in st["projections"].items():
            field = f"stimuli[{i}].projections.{key}"
            pj = {**S.PROJECTION_DEFAULTS, **pj}
            for dst in _target_members(table, field, key):
                a, b, w, d = draw_projection(rng, n_src, dst.size, pj, autapses=True, same_population=False,
                                             low_ms=delay_floor_ms, dtype=dtype)
                parts.append((a.astype(np.int32), dst[b].astype(np.int32), w, d))
        if sum(p[0].size for p in parts):
            pre, post, w, d, row_start = rules.merge_by_pre(n_src, [p for p in parts if p[0].size])
        else:
            pre, post, w, d = (np.empty(0, np.int32),) * 2 + (np.empty(0, dtype),) * 2
            row_start = np.zeros(n_src + 1, np.int64)
        syn = Synapses(n=n_src, pre=pre, post=post, weight=w, delay_ms=d, synapse=synapse, tau_ms=tau_ms,
                       n_targets=table.n, row_start=row_start)
        out.append(SourcePopulation(index=i, rate_hz=float(st["rate_hz"]), synapses=syn, window=drive_window(st)))
    return tuple(out)


def spike_counts(model, duration_ms: float | None = None, dt_ms: float | None = None, seed: int | None = None
                 ) -> tuple[np.ndarray, ...]:
    """The spike counts ``[step, source]`` of every spike-source population in a run of ``model``
    (``duration_ms``, ``dt_ms``, ``seed`` as :func:`jaxfne.simulate`; one seed): exactly the counts
    the engine draws and delivers, windows applied. A count ``c`` at step ``k`` is ``c`` spikes at
    ``(k + 1) dt`` in NEST's stamps (the end of the step, as the neurons' spikes).

    Example
    -------
    >>> import jaxfne
    >>> cfg = (jaxfne.presets.potjans_diesmann_2014(scale=0.02, k_scale=0.05)
    ...        .stimulus("spike_sources", n_sources=20, rate_hz=100.0, stop_ms=50.0,
    ...                  projections={"L4E": {"rule": "fixed_indegree", "K": 5, "weight": 87.8}}))
    >>> (counts,) = jaxfne.sources.spike_counts(jaxfne.construct(cfg), 100.0, 0.1, seed=0)
    >>> counts.shape, int(counts[500:].sum())
    ((1000, 20), 0)
    """
    import jax
    import jax.numpy as jnp

    from .config.validate import check_int
    from .engine import sources as engine_sources
    from .engine.prepare import prepare
    from .engine.stimulus import waveform_table
    from .simulate import run_steps

    rt = model.cfg.runtime_spec
    duration_ms = rt["duration_ms"] if duration_ms is None else duration_ms
    dt_ms = rt["dt_ms"] if dt_ms is None else dt_ms
    seed = check_int("seed", rt["seed"] if seed is None else seed, lo=0, hi=2**32 - 1)
    n_steps = run_steps(model, duration_ms, dt_ms)
    if not model.sources:
        return ()
    static, _ = prepare(model, float(dt_ms))
    counts = engine_sources.draws(static.drive, float(dt_ms), jnp.dtype(static.dtype), model.params,
                                  jax.random.PRNGKey(seed), jnp.arange(n_steps, dtype=jnp.int32))
    win = waveform_table(model.waveforms, 0, n_steps, float(dt_ms))[:, -len(model.sources):]
    return tuple((np.asarray(c, np.float64) * win[:, q:q + 1]).astype(np.int64) for q, c in enumerate(counts))
