"""The constructed model: parameter pytree (array leaves) plus static structure."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .config import Configuration
from .engine.runner import Static
from .errors import ConfigurationError
from .network import Synapses
from .neurons import NeuronTable

__all__ = ["Model"]


class Model:
    """A constructed jaxfne model, ready to simulate. Create it with :func:`jaxfne.construct`.

    Attributes
    ----------
    cfg : Configuration
        The source configuration.
    geometry : LaminarSourceGeometry
        Laminar geometry: depth bins, contacts, column radius, conductivity.
    basis_spec : BasisSpec
        Where each neuron's synaptic currents and their return currents sit in depth.
    params : dict
        Parameter pytree; every leaf is an array, so new values, ``jax.vmap`` over parameter sets and
        ``jax.grad`` reuse the compiled simulation. Keys: ``neuron`` (per-neuron a, b, c, d, ...),
        ``weights``, ``weight_scale``, ``tau_syn_ms`` (E, I), ``stim_gain``, ``gauss_mean``,
        ``gauss_std``, ``poisson_rate_hz``, ``poisson_n_inputs``, ``poisson_weight``,
        ``capacitance_pF`` and, with plasticity, ``stdp``.
    table : NeuronTable
        Column, layer, cell type and position of every neuron.
    synapses : Synapses
        The drawn connectivity.
    """

    def __init__(self, *, cfg: Configuration, table: NeuronTable, synapses: Synapses, params: dict,
                 struct: dict, static: dict, waveforms: list, geometry: Any, basis_spec: Any,
                 probes: Any, resolved: dict):
        self.cfg = cfg
        self.table = table
        self.synapses = synapses
        self.params = params
        self._struct = struct
        self._static = static
        self._waveforms = waveforms
        self.geometry = geometry
        self.basis_spec = basis_spec
        self._probes = probes
        self.resolved = resolved
        self._dt_cache: dict[float, tuple[Static, dict]] = {}

    # -- structure ----------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.table.n

    @property
    def scheme(self) -> str:
        return self._static["scheme"]

    @property
    def dtype(self) -> str:
        return self._static["dtype"]

    @property
    def propagation(self) -> str:
        return self._static["propagation"]

    def neuron_table(self):
        """:class:`pandas.DataFrame`: neuron -> column, layer, cell_type, population, x_um, y_um, depth_um."""
        return self.table.to_frame()

    def connectivity_summary(self):
        """:class:`pandas.DataFrame` per (pre, post) population: n_synapses, mean_weight, mean_delay_ms."""
        import pandas as pd

        syn = self.synapses
        pre_pop = self.table.population[syn.pre] if syn.count else np.array([], dtype=object)
        post_pop = self.table.population[syn.post] if syn.count else np.array([], dtype=object)
        df = pd.DataFrame({"pre": pre_pop, "post": post_pop, "weight": syn.weight, "delay_ms": syn.delay_ms})
        out = df.groupby(["pre", "post"], sort=False).agg(
            n_synapses=("weight", "size"), mean_weight=("weight", "mean"), mean_delay_ms=("delay_ms", "mean"))
        return out.reset_index()

    def with_params(self, **updates: Any) -> Model:
        """A model sharing this one's structure with some parameter leaves replaced (no rebuild)."""
        unknown = set(updates) - set(self.params)
        if unknown:
            raise ConfigurationError("params", sorted(unknown), "keys of Model.params: " + ", ".join(self.params))
        m = object.__new__(Model)
        m.__dict__.update(self.__dict__)
        p = dict(self.params)
        for k, v in updates.items():
            p[k] = jax.tree_util.tree_map(lambda a, b: jnp.asarray(b, a.dtype), self.params[k], v)
        m.params = p
        return m

    # -- running ---------------------------------------------------------------------------------
    def simulate(self, sim_or_duration: Any = None, dt_ms: float | None = None, seed: Any = None, **kwargs):
        """Run the simulation; accepts a :class:`Simulation` or ``duration_ms, dt_ms, seed``."""
        from .simulate import simulate
        from .simulation import Simulation

        if isinstance(sim_or_duration, Simulation):
            s = sim_or_duration
            return simulate(self, s.duration_ms, s.dt_ms, s.seed, **kwargs)
        return simulate(self, sim_or_duration, dt_ms, seed, **kwargs)

    def simulate_fn(self, duration_ms: float, dt_ms: float):
        """A pure function ``f(params, seed) -> Signals`` (one shot, no host work) for ``jit``/``grad``/``vmap``."""
        from .simulate import pure_simulate_fn

        return pure_simulate_fn(self, duration_ms, dt_ms)

    def compute_readout(self, signals, readout_specs):
        """Compute metrics from signals (see :func:`jaxfne.readout_spec`)."""
        from .readouts import compute_readout

        return compute_readout(self, signals, readout_specs)

    def __repr__(self) -> str:
        return (f"Model(n={self.n}, synapses={self.synapses.count}, populations={len(self.table.populations)}, "
                f"scheme={self.scheme!r}, propagation={self.propagation!r}, dtype={self.dtype!r})")


def static_for(model: Model, dt_ms: float) -> tuple[Static, dict]:
    """Compilation key and structure arrays for step ``dt_ms`` (delays depend on it); cached per dt."""
    if dt_ms in model._dt_cache:
        return model._dt_cache[dt_ms]
    s = model._static
    syn = model.synapses
    struct = dict(model._struct)
    steps = syn.delay_steps(dt_ms) if syn.count else np.ones(1, np.int32)
    uniform = int(steps[0]) if s["uniform"] else 0
    d_len = int(steps.max()) + 1
    if s["propagation"] == "event":
        _, _, delays = syn.to_rows(dt_ms)
        struct["delays"] = jnp.asarray(delays)
    elif s["propagation"] == "dense" and not uniform:
        _, delays = syn.to_dense(dt_ms)
        struct["delays"] = jnp.asarray(delays)
    static = Static(
        n=s["n"], dt=float(dt_ms), dtype=s["dtype"], family=s["family"], scheme=s["scheme"],
        propagation=s["propagation"], full_rows=s["full_rows"], uniform_delay=uniform, d_len=d_len,
        synapse=s["synapse"], plastic=s["plastic"], n_wave=s["n_wave"], n_gauss=s["n_gauss"],
        n_poisson=s["n_poisson"], rec_vm=s["rec_vm"], rec_isyn=s["rec_isyn"], n_bins=s["n_bins"],
        attribution=s["attribution"], n_pops=s["n_pops"], n_mua=s["n_mua"], rec_emm=s["rec_emm"],
    )
    model._dt_cache[dt_ms] = (static, struct)
    return static, struct
