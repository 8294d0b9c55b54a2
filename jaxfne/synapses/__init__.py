"""Synapse components: current dynamics (exponential, delta) and plasticity (pair-based STDP)."""

from . import stdp as stdp
from .current import SYNAPSE_KINDS as SYNAPSE_KINDS, CurrentSynapses as CurrentSynapses, init_state as init_state

__all__ = ["CurrentSynapses", "SYNAPSE_KINDS", "init_state", "stdp"]
