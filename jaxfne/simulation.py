"""``Simulation``: run parameters as a value."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigurationError

__all__ = ["Simulation", "simulation"]


@dataclass(frozen=True)
class Simulation:
    """Simulation run parameters.

    Attributes
    ----------
    duration_ms : float
        Total duration, ms.
    dt_ms : float
        Step, ms.
    seed : int or tuple of int, optional
        Seed of the dynamics noise; a tuple runs as one vmapped batch.
    """

    duration_ms: float = 1000.0
    dt_ms: float = 0.1
    seed: int | tuple | None = None

    def __post_init__(self):
        from .config.validate import check_int, check_number

        check_number("simulation.duration_ms", self.duration_ms, lo=0, lo_open=True)
        check_number("simulation.dt_ms", self.dt_ms, lo=0, lo_open=True)
        if self.dt_ms > self.duration_ms:
            raise ConfigurationError("simulation.dt_ms", self.dt_ms, f"a step no longer than duration_ms={self.duration_ms:g}")
        if isinstance(self.seed, (list, tuple)):
            object.__setattr__(self, "seed", tuple(check_int("simulation.seed", s, lo=0, hi=2**32 - 1) for s in self.seed))
        elif self.seed is not None:
            check_int("simulation.seed", self.seed, lo=0, hi=2**32 - 1)


def simulation(**kwargs) -> Simulation:
    """Create a :class:`Simulation` (``duration_ms``, ``dt_ms``, ``seed``).

    Example
    -------
    >>> import jaxfne as jtfne
    >>> jtfne.simulation(duration_ms=1000.0, dt_ms=0.1, seed=7).seed
    7
    """
    allowed = ("duration_ms", "dt_ms", "seed")
    for k in kwargs:
        if k not in allowed:
            raise ConfigurationError(f"simulation.{k}", kwargs[k], "one of " + ", ".join(allowed))
    return Simulation(**kwargs)
