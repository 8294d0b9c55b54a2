"""Synaptic current dynamics: exponential or instantaneous (delta) current synapses.

State: the excitatory and inhibitory currents ``I_e``, ``I_i`` [neuron] and one excitatory current per
Poisson drive ``I_p`` [drive, neuron] (so a drive's synapses can sit at a depth of their own in the
source profile), in the neuron family's current unit.

``exponential``
    ``I <- I exp(-dt / tau) + arrivals``: a spike of weight w makes the current jump by w.
``delta``
    ``I <- arrivals / dt``: the charge w x 1 ms delivered within the step of arrival.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp

__all__ = ["CurrentSynapses", "SYNAPSE_KINDS", "init_state"]

SYNAPSE_KINDS = ("exponential", "delta")


def init_state(n: int, n_drives: int, dtype) -> dict:
    """All currents zero."""
    return {"I_e": jnp.zeros(n, dtype), "I_i": jnp.zeros(n, dtype), "I_p": jnp.zeros((n_drives, n), dtype)}


@dataclass(frozen=True)
class CurrentSynapses:
    """The synapse dynamics of one step, bound to its time constants (traced arrays) and step."""

    kind: str
    tau_e: Any
    tau_i: Any
    dt: float

    def advance(self, state: dict, arrivals: dict) -> dict:
        """Decay the currents over one step and add this step's arrivals (``exc``, ``inh``, ``drive``)."""
        if self.kind == "exponential":
            dt = self.dt
            return {"I_e": state["I_e"] * jnp.exp(-dt / self.tau_e) + arrivals["exc"],
                    "I_i": state["I_i"] * jnp.exp(-dt / self.tau_i) + arrivals["inh"],
                    "I_p": state["I_p"] * jnp.exp(-dt / self.tau_e) + arrivals["drive"]}
        return {"I_e": arrivals["exc"] / self.dt, "I_i": arrivals["inh"] / self.dt, "I_p": arrivals["drive"] / self.dt}

    @staticmethod
    def total_current(state: dict):
        """``I_e + I_i + sum of the drives`` [neuron]."""
        return state["I_e"] + state["I_i"] + jnp.sum(state["I_p"], axis=0)

    @staticmethod
    def channels(state: dict):
        """``(excitatory incl. drives, inhibitory)`` [neuron]."""
        return state["I_e"] + jnp.sum(state["I_p"], axis=0), state["I_i"]

    @staticmethod
    def stacked(state: dict, drive_groups=None):
        """``[I_e; I_i; I_p per drive]`` as one vector [(2 + P) N] (the source profile's input).

        With ``drive_groups`` ([1 + G, P] of 0/1: which drives share the excitatory synapses' basis,
        row 0, and which share each of G other bases), ``[I_e + row 0's drives; I_i; each group's
        drives]`` [(2 + G) N]: drives placed alike are summed before the basis matrix-vector product,
        which then has 2 + G blocks of N columns instead of 2 + P."""
        if drive_groups is None:
            return jnp.concatenate([state["I_e"], state["I_i"], state["I_p"].reshape(-1)])
        grouped = drive_groups @ state["I_p"]  # [1 + G, N]
        return jnp.concatenate([state["I_e"] + grouped[0], state["I_i"], grouped[1:].reshape(-1)])
