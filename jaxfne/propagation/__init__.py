"""Propagation kernels: delivery of delayed spikes (``event`` rows on the CPU, ``batched`` for GPUs,
``dense``)."""

from __future__ import annotations

from .base import Propagation as Propagation, PropagationStatic as PropagationStatic
from .batched import Batched as Batched
from .dense import Dense as Dense
from .event_rows import EventRows as EventRows

#: kernel name -> instance ("none": a network without synapses)
KERNELS: dict[str, Propagation] = {k.name: k for k in (EventRows(), Batched(), Dense())}

#: The kernels that read the flat synapse table (targets, weights, delay steps in row order).
TABLE_KERNELS = ("event", "batched")

__all__ = ["Batched", "Dense", "EventRows", "KERNELS", "TABLE_KERNELS", "Propagation", "PropagationStatic"]
