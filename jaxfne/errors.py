"""Exceptions raised at jaxfne's boundary.

Every configuration error is a :class:`ConfigurationError` (a ``ValueError``) whose message names the
field, the offending value and what is allowed, raised before any work starts. A simulation whose state
stops being finite raises :class:`SimulationError` naming the step, the time and the population.
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "GradientError", "SimulationError"]


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
    """The state or a recorded signal became non-finite (NaN or inf) during a simulation.

    ``signal`` names what did: the membrane potential or synaptic current of ``population`` (checked
    in the scan, every step), or a recorded signal such as ``"LFP"`` (``population`` is then None).
    """

    def __init__(self, step: int, time_ms: float, population: str | None, seed: object = None,
                 signal: str = "membrane potential or synaptic current"):
        self.step = step
        self.time_ms = time_ms
        self.population = population
        self.seed = seed
        self.signal = signal
        where = f" (seed {seed})" if seed is not None else ""
        what = f"the {signal} of population {population!r}" if population is not None else f"the recorded {signal}"
        super().__init__(
            f"{what} became non-finite at step {step} (t = {time_ms:g} ms){where}; reduce dt_ms, weaken the "
            f"drive or the weights, or use runtime(dtype='float64')"
        )


class GradientError(FloatingPointError):
    """A gradient that cannot be taken or came out non-finite, with why and what option changes it.

    ``step`` is the fit step (None outside a fit), ``parameters`` the paths whose gradient is not finite.
    """

    def __init__(self, why: str, remedy: str, step: int | None = None, parameters: tuple = ()):
        self.why = why
        self.remedy = remedy
        self.step = step
        self.parameters = tuple(parameters)
        at = f" at fit step {step}" if step is not None else ""
        which = f" (parameters {', '.join(self.parameters)})" if self.parameters else ""
        super().__init__(f"{why}{at}{which}; {remedy}")
