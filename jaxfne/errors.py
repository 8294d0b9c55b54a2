"""Exceptions raised at jaxfne's boundary.

Every configuration error is a :class:`ConfigurationError` (a ``ValueError``) whose message names the
field, the offending value and what is allowed, raised before any work starts. A simulation whose state
stops being finite raises :class:`SimulationError` naming the step, the time and the population.
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "SimulationError", "SpikeBufferOverflow"]


class ConfigurationError(ValueError):
    """An invalid configuration value.

    Parameters
    ----------
    field : str
        Dotted path of the offending field, e.g. ``"runtime.dt_ms"``.
    value : object
        The value that was given.
    allowed : str
        What is allowed, in words.
    """

    def __init__(self, field: str, value: object, allowed: str):
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}={value!r} is not allowed: {allowed}")


class SimulationError(FloatingPointError):
    """The membrane state became non-finite (NaN or inf) during a simulation."""

    def __init__(self, step: int, time_ms: float, population: str, seed: object = None):
        self.step = step
        self.time_ms = time_ms
        self.population = population
        self.seed = seed
        where = f" (seed {seed})" if seed is not None else ""
        super().__init__(
            f"the membrane potential of population {population!r} became non-finite at step {step} "
            f"(t = {time_ms:g} ms){where}; reduce dt_ms, weaken the drive or the weights, or use "
            f"runtime(dtype='float64')"
        )


class SpikeBufferOverflow(RuntimeError):
    """More spikes arrived than a static per-step buffer could hold (never silently dropped)."""
