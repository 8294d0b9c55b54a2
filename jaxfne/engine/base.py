"""Interface of a neuron family: how its state starts and advances by one step."""

from __future__ import annotations

import abc

__all__ = ["NeuronFamily"]


class NeuronFamily(abc.ABC):
    """Abstract neuron family. Implementations are final classes, one file each (engine/<family>.py).

    ``params`` is a dict of per-neuron arrays (array leaves: sweepable and differentiable); the scheme
    name is static.
    """

    #: parameter names of the family, all shape [neuron]
    parameter_names: tuple[str, ...] = ()

    @abc.abstractmethod
    def init_state(self, params: dict, dtype) -> dict:
        """State at t = 0."""

    @abc.abstractmethod
    def step(self, params: dict, state: dict, current, dt: float, scheme: str) -> tuple[dict, object, object]:
        """Advance one step with input ``current`` held constant.

        Returns ``(state, v_sample, spike)``: ``v_sample`` is the membrane potential at the end of the
        step before reset (clipped to the peak on spike steps), ``spike`` is 0/1 with a surrogate
        gradient; the returned state is already reset.
        """
