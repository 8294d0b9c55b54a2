"""The compilation key of a run: what is static (hashable) about its shape and branches.

One dataclass per component, composed into :class:`Static`; built once per model and step by
:func:`jaxfne.engine.scan.prepare`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..propagation.base import PropagationStatic
from .surrogate import Surrogate

__all__ = ["DriveStatic", "RecordSpec", "Static"]


@dataclass(frozen=True)
class DriveStatic:
    """How many deterministic waveforms and random drives feed the step."""

    n_wave: int
    n_gauss: int
    n_poisson: int
    poisson_kmax: int = 0  # >0: inverse-CDF Poisson sampling over counts 0..kmax-1
    poisson_disjoint: bool = False  # every neuron gets at most one Poisson drive: one count per neuron
    poisson_always_on: bool = False  # every Poisson drive's window covers t >= 0 (start <= 0, no stop)
    source_sizes: tuple = ()  # sources of each spike-source population
    source_kmax: int = 0  # >0: inverse-CDF Poisson sampling of the sources' counts over 0..kmax-1
    drive_rows: tuple = ()  # row of I_p of each Poisson drive, then each source population (engine.drive_rows)

    @property
    def one_count_per_neuron(self) -> bool:
        """The Poisson counts are drawn as one per neuron and step (``pc[T, N]``), not one per drive."""
        return self.poisson_disjoint and self.poisson_kmax > 0

    @property
    def n_sources(self) -> int:
        """Number of spike-source populations (their currents follow the Poisson drives' in ``I_p``)."""
        return len(self.source_sizes)

    @property
    def rows(self) -> tuple:
        """The row of every drive (one row per drive when none was assigned)."""
        return self.drive_rows or tuple(range(self.n_poisson + self.n_sources))

    @property
    def n_rows(self) -> int:
        """Rows of the drives' current ``I_p``."""
        return max(self.rows) + 1 if self.rows else 0

    @property
    def poisson_rows_identity(self) -> bool:
        """Every Poisson drive has a row of its own, in order (the drives' arrivals are the rows')."""
        return self.rows[:self.n_poisson] == tuple(range(self.n_poisson)) and self.n_rows == self.n_poisson


@dataclass(frozen=True)
class RecordSpec:
    """What leaves the scan, and how often (applied inside the scan).

    ``spikes``, ``V_m``, ``I_syn``: the neuron-level signals; ``V_m`` and ``I_syn`` of the neurons in
    ``struct["record_idx"]`` (all when ``subset`` is false), sampled every ``every``-th step.
    ``n_bins``: laminar source profile bins (0 = none); ``n_mua``: MUA contacts (0 = none);
    ``emm``: metabolic event counts.
    """

    spikes: bool = True
    V_m: bool = True
    I_syn: bool = False
    every: int = 1
    subset: bool = False
    n_bins: int = 0
    attribution: bool = False
    n_pops: int = 1
    n_mua: int = 0
    emm: bool = False

    @property
    def decimated(self) -> bool:
        """V_m / I_syn leave the scan every ``every`` steps (a nested scan)."""
        return self.every > 1 and (self.V_m or self.I_syn)


@dataclass(frozen=True)
class Static:
    """Everything shape- or branch-determining of one run (part of the compilation key)."""

    n: int
    dt: float
    dtype: str
    family: str
    scheme: str
    synapse: str
    prop: PropagationStatic
    drive: DriveStatic
    record: RecordSpec
    plastic: bool = False
    float_spikes: bool = False  # emit 0/1 floats that carry the surrogate gradient (for grad)
    surrogate: Surrogate = Surrogate()  # the spike function's pseudo-derivative
    strict_threshold: bool = False  # spike at x > 0 instead of x >= 0 (the family's preset decides)
    sources: tuple = ()  # PropagationStatic of each spike-source population's table (n_pre = its sources)
