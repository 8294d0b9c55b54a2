"""Interface of a propagation kernel: how delayed spikes become synaptic arrivals.

Two channels, excitatory (0) and inhibitory (1), chosen by the presynaptic cell type. A kernel owns
its state (a ring buffer of future arrivals or a spike history) and two calls per step:
``arrivals`` (read what arrives now) before the neurons update and ``propagate`` (schedule this
step's spikes) after. Effective weights are ``weights x weight_scale`` and, with per-projection
gains, ``x gain[pre population, post population]``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar

__all__ = ["Propagation", "PropagationStatic"]


@dataclass(frozen=True)
class PropagationStatic:
    """Shape- and branch-determining facts of the delivery (part of the compilation key)."""

    kind: str  # "event" | "batched" | "dense" | "none"
    n: int
    d_len: int  # ring-buffer / history length in steps
    uniform_delay: int  # steps; 0 = heterogeneous
    full_rows: bool  # every row targets all neurons in order
    gains: bool  # per-projection gains applied
    row_width: int = 1  # the largest out-degree: the window of the flat synapse table read per spike
    segment: int = 0  # entries of a row the event kernel scatters per loop iteration (0: row_width)
    capacity: int = 1  # spikes per gather-and-scatter batch of the "batched" kernel
    spiking_transpose: bool = False  # reverse mode needs the rows of spiking neurons only (one-sided surrogate)
    n_pre: int = 0  # rows of the table when they are not the n neurons (a spike-source population); 0 = n

    @property
    def pre_count(self) -> int:
        """Number of presynaptic rows (the length of the spike vector the kernel schedules)."""
        return self.n_pre or self.n

    @property
    def segment_width(self) -> int:
        """Entries of a row scattered per iteration of the event kernel's loop (at most ``row_width``)."""
        return min(self.segment or self.row_width, self.row_width)

    @property
    def row_slices(self) -> bool:
        """Event rows added as contiguous slices: every row targets all neurons and delays are uniform."""
        return self.kind == "event" and self.full_rows and self.uniform_delay > 0


class Propagation(abc.ABC):
    """A propagation kernel (interface; implementations are final, one file each)."""

    name: ClassVar[str]
    #: reverse-mode differentiable
    differentiable: ClassVar[bool]

    @abc.abstractmethod
    def init(self, ps: PropagationStatic, dtype) -> dict:
        """State at t = 0."""

    def max_batch(self, ps: PropagationStatic) -> int | None:
        """The most networks one vmapped call can run (``None``: the kernel sets no limit)."""
        return None

    @abc.abstractmethod
    def arrivals(self, ps: PropagationStatic, state: dict, k, weights, params: dict, struct: dict):
        """``(state, arrivals[2, N])`` of step ``k``."""

    @abc.abstractmethod
    def propagate(self, ps: PropagationStatic, state: dict, s, k, weights, params: dict, struct: dict) -> dict:
        """Schedule the spikes ``s`` (0/1 floats [N]) emitted at step ``k``."""
