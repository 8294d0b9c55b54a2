"""The constructed model: a pytree of parameters (array leaves), structure (arrays) and static parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .config import Configuration
from .engine.static import RecordSpec
from .errors import ConfigurationError
from .network import Synapses
from .populations import NeuronTable

__all__ = ["Model", "ModelStatic"]


@dataclass(frozen=True)
class ModelStatic:
    """Hashable facts of a constructed model, independent of the step (see :class:`~jaxfne.engine.static.Static`)."""

    n: int
    dtype: str
    family: str
    scheme: str
    synapse: str
    propagation: str  # "event" | "batched" | "dense" | "none"
    full_rows: bool
    uniform_delay: bool
    gains: bool
    plastic: bool
    n_wave: int
    n_gauss: int
    n_poisson: int
    record: RecordSpec
    strict_threshold: bool = False  # a spike needs v > threshold (the family's preset says; else >=)
    closed_end: bool = False  # a preset's published protocol: the loop t = 0:dt:T, T/dt + 1 steps
    source_kind: str = "event"  # the table kernel of the spike-source populations
    drive_rows: tuple = ()  # row of I_p of every Poisson drive and source population (engine.drive_rows)


@dataclass(eq=False)
class _Host:
    """What a model carries that is neither a parameter nor a structure array (identity-compared)."""

    cfg: Configuration
    table: NeuronTable
    synapses: Synapses
    static: ModelStatic
    waveforms: tuple
    geometry: Any
    basis_spec: Any
    probes: Any
    resolved: dict
    per_dt: dict = None  # dt_ms -> (Static, structure with delays in steps); (dt_ms, "grad") -> structure
                        # for reverse mode; filled by engine.prepare
    sources: tuple = ()  # SourcePopulation of every spike-source stimulus (jaxfne.sources)

    def __post_init__(self):
        if self.per_dt is None:
            self.per_dt = {}


@jax.tree_util.register_pytree_node_class
class Model:
    """A constructed jaxfne model, ready to simulate. Create it with :func:`jaxfne.construct`.

    A pytree: its leaves are :attr:`params` (what sweeps, ``vmap`` and ``grad`` touch) and
    :attr:`structure` (connectivity, masks and probe matrices, fixed at construct); everything else
    is static.

    Attributes
    ----------
    cfg : Configuration
        The source configuration.
    geometry : LaminarSourceGeometry
        Laminar geometry of every column (one object, the one the engine's matrices come from): depth
        bins, contacts, conductivity and each column's name, centre and radius. With several columns
        ``column_names`` lists them all, ``radius_um`` is a tuple when their radii differ, and
        ``bin_volume_m3`` and ``lfp_matrix()`` run over the ``location`` dimension (column by column).
    basis_spec : BasisSpec
        Where each neuron's synaptic currents and their return currents sit in depth.
    params : dict
        Parameter pytree; every leaf is an array, so new values, ``jax.vmap`` over parameter sets and
        ``jax.grad`` reuse the compiled simulation. Keys: ``neuron`` (the family's per-neuron
        parameters), ``weights``, ``weight_scale``, ``gain`` ([pre population, post population]
        per-projection gains), ``tau_syn_ms`` (E, I), ``stim_gain``, ``gauss_mean``, ``gauss_std``,
        ``poisson_rate_hz``, ``poisson_n_inputs``, ``poisson_weight``, ``capacitance_pF``, with
        spike-source populations ``source_rate_hz`` (one per population) and ``source_weights``
        (a tuple of each population's flat synapse weights) and, with plasticity, ``stdp``.
    structure : dict
        Structure arrays (targets, delays in steps are added per step size, masks, probe matrices).
    static : ModelStatic
        Hashable facts: family, scheme, propagation kernel, record spec, ...
    table : NeuronTable
        Column, layer, cell type and position of every neuron.
    synapses : Synapses
        The drawn connectivity.
    """

    def __init__(self, params: dict, structure: dict, host: _Host):
        self.params = params
        self.structure = structure
        self._host = host

    # -- pytree ---------------------------------------------------------------------------------
    def tree_flatten(self):
        """JAX pytree protocol: the leaves ``(params, structure)`` and the static rest as auxiliary data."""
        return (self.params, self.structure), self._host

    @classmethod
    def tree_unflatten(cls, host, children):
        """JAX pytree protocol: the model of ``children`` ``(params, structure)`` and the static ``host``."""
        params, structure = children
        return cls(params, structure, host)

    # -- static parts -----------------------------------------------------------------------------
    cfg = property(lambda self: self._host.cfg, doc="The source :class:`~jaxfne.Configuration`.")
    table = property(lambda self: self._host.table,
                     doc="The neuron table (column, layer, cell type, population and position of every neuron).")
    synapses = property(lambda self: self._host.synapses,
                        doc="The drawn connectivity (pre, post, weight and delay in ms of every synapse).")
    static = property(lambda self: self._host.static,
                      doc="Hashable facts (:class:`~jaxfne.model.ModelStatic`) such as family, scheme, propagation kernel, record spec.")
    geometry = property(lambda self: self._host.geometry,
                        doc="The laminar geometry of every column (:class:`~jaxfne.LaminarSourceGeometry`).")
    basis_spec = property(lambda self: self._host.basis_spec,
                          doc="Where each neuron's synaptic and return currents sit in depth (:class:`~jaxfne.BasisSpec`).")
    resolved = property(lambda self: self._host.resolved,
                        doc="What construct resolved (connectivity, family, scheme, propagation kernel, number of "
                            "synapses, populations).")

    @property
    def configuration(self):
        """The :class:`~jaxfne.Configuration` this model was constructed from."""
        return self._host.cfg

    @property
    def waveforms(self) -> tuple:
        """Deterministic stimulus waveforms, then the on-windows of the Gaussian and Poisson drives and
        of the spike-source populations."""
        return self._host.waveforms

    @property
    def sources(self) -> tuple:
        """The spike-source populations (:class:`~jaxfne.sources.SourcePopulation`: rate, window and
        drawn synapses of each ``stimulus("spike_sources", ...)``), in configuration order."""
        return self._host.sources

    @property
    def probes(self):
        """The probe setup with geometry, basis and forward matrices (:class:`~jaxfne.probes.setup.ProbeSetup`)."""
        return self._host.probes

    @property
    def n(self) -> int:
        """Number of neurons."""
        return self.table.n

    @property
    def family(self) -> str:
        """The neuron family (``"izhikevich"`` or ``"iaf_psc_exp"``)."""
        return self.static.family

    @property
    def scheme(self) -> str:
        """The family's integration scheme (``"sequential_euler"``, ``"split_half_step"``, ``"euler"`` or
        ``"exact"``)."""
        return self.static.scheme

    @property
    def dtype(self) -> str:
        """Floating-point type of the simulation (``"float32"`` or ``"float64"``)."""
        return self.static.dtype

    @property
    def propagation(self) -> str:
        """The spike propagation kernel, ``"event"``, ``"batched"``, ``"dense"`` or ``"none"`` (no synapses)."""
        return self.static.propagation

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
        p = dict(self.params)
        for k, v in updates.items():
            p[k] = jax.tree_util.tree_map(lambda a, b: jnp.asarray(b, a.dtype), self.params[k], v)
        return Model(p, self.structure, self._host)

    # -- running ---------------------------------------------------------------------------------
    def simulate(self, sim_or_duration: Any = None, dt_ms: float | None = None, seed: Any = None, **kwargs):
        """Run the simulation; accepts a :class:`Simulation` or ``duration_ms, dt_ms, seed``."""
        from .simulate import simulate
        from .simulation import Simulation

        if isinstance(sim_or_duration, Simulation):
            s = sim_or_duration
            return simulate(self, s.duration_ms, s.dt_ms, s.seed, **kwargs)
        return simulate(self, sim_or_duration, dt_ms, seed, **kwargs)

    def simulate_fn(self, duration_ms: float, dt_ms: float, *, surrogate=None, checkpoint_ms=None):
        """A pure function ``f(params, seed) -> Signals`` (one shot, no host work) for ``jit``/``grad``/``vmap``.

        ``surrogate`` (the spike function's pseudo-derivative) and ``checkpoint_ms`` (rematerialised
        chunks that bound the memory of reverse mode): see :func:`jaxfne.simulate.pure_simulate_fn`.
        """
        from .simulate import pure_simulate_fn

        return pure_simulate_fn(self, duration_ms, dt_ms, surrogate=surrogate, checkpoint_ms=checkpoint_ms)

    def compute_readout(self, signals, readout_specs):
        """Compute metrics from signals (see :func:`jaxfne.readout_spec`)."""
        from .readouts import compute_readout

        return compute_readout(self, signals, readout_specs)

    def __repr__(self) -> str:
        return (f"Model(n={self.n}, synapses={self.synapses.count}, populations={len(self.table.populations)}, "
                f"family={self.family!r}, scheme={self.scheme!r}, propagation={self.propagation!r}, "
                f"dtype={self.dtype!r})")
