"""Bounds as transforms: the optimiser works on an unconstrained value ``u``, the model sees ``x(u)``.

``(lo, None)``: ``x = lo + softplus(u)`` (positive above ``lo``); ``(None, hi)``: ``x = hi - softplus(u)``;
``(lo, hi)``: ``x = lo + (hi - lo) sigmoid(u)``; ``(None, None)``: ``x = u``. The initial value must lie
strictly inside its bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigurationError

__all__ = ["Bounds", "bounds"]


@dataclass(frozen=True)
class Bounds:
    """Bounds of one fitted parameter as a transform of an unconstrained value ``u`` (made by :func:`bounds`).

    ``(lo, hi)``: ``lo + (hi - lo) sigmoid(u)``; ``lo`` only: ``lo + softplus(u)``; ``hi`` only:
    ``hi - softplus(u)``; neither: ``u`` itself. The optimiser steps ``u``, so every step stays inside.
    """

    lo: float | None = None
    hi: float | None = None

    def forward(self, u):
        """The parameter value of the unconstrained ``u`` (inside the bounds)."""
        if self.lo is not None and self.hi is not None:
            return self.lo + (self.hi - self.lo) * jax.nn.sigmoid(u)
        if self.lo is not None:
            return self.lo + jax.nn.softplus(u)
        if self.hi is not None:
            return self.hi - jax.nn.softplus(u)
        return u

    def inverse(self, x):
        """The unconstrained value of the parameter value ``x`` (strictly inside the bounds)."""
        x = jnp.asarray(x)
        if self.lo is not None and self.hi is not None:
            z = (x - self.lo) / (self.hi - self.lo)
            return jnp.log(z) - jnp.log1p(-z)
        if self.lo is not None:
            return _inverse_softplus(x - self.lo)
        if self.hi is not None:
            return _inverse_softplus(self.hi - x)
        return x

    def to_list(self) -> list:
        """``[lo, hi]``, ``None`` for an open side (as a fit store records them)."""
        return [self.lo, self.hi]


def _inverse_softplus(y):
    return y + jnp.log(-jnp.expm1(-y))


def bounds(path: str, value, spec) -> Bounds:
    """Checked :class:`Bounds` for ``path`` from ``spec`` (``None``, ``(lo, hi)`` with ``None`` for no
    bound, or ``"positive"``), with the initial ``value`` strictly inside."""
    from ..config.validate import check_number

    field = f"bounds[{path!r}]"
    if spec is None:
        return Bounds()
    if spec == "positive":
        spec = (0.0, None)
    if not isinstance(spec, (tuple, list)) or len(spec) != 2:
        raise ConfigurationError(field, spec, "None, 'positive' or (lo, hi) with None for an open side")
    lo = None if spec[0] is None else check_number(f"{field}[0]", spec[0])
    hi = None if spec[1] is None else check_number(f"{field}[1]", spec[1])
    if lo is not None and hi is not None and not lo < hi:
        raise ConfigurationError(field, list(spec), "lo < hi")
    v = np.asarray(value, float)
    if (lo is not None and np.any(v <= lo)) or (hi is not None and np.any(v >= hi)):
        raise ConfigurationError(field, list(spec), f"bounds strictly around the initial value {v.tolist()}")
    return Bounds(lo, hi)
