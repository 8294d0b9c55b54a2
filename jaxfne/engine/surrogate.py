"""Heaviside spike functions with a surrogate gradient.

Forward: exactly 0 or 1, x = distance of the membrane potential to the threshold (mV): ``x >= 0``, or
``x > 0`` for a strict threshold (the family says which: NEST's ``iaf_psc_exp`` fires at
``V_m >= V_th``, Izhikevich's figure code at ``v > 30``; see
:meth:`jaxfne.neurons.base.NeuronFamily.strict_threshold`). Backward: a pseudo-derivative
``sigma'(x)`` in place of the Dirac delta, so ``jax.grad`` through spikes is finite. The reset after
a spike is detached (``stop_gradient``) in every family (Zenke & Vogels 2021, Neural Comput 33:899).
Three pseudo-derivatives, each with its maximum ``beta`` at threshold:

``fast_sigmoid``
    ``beta / (1 + beta |x|)^2``, the derivative of a fast sigmoid (SuperSpike; Zenke & Ganguli 2018,
    Neural Comput 30:1514). Every neuron, however far from threshold, passes a (small) gradient.
``triangle``
    ``beta * max(0, 1 - beta |x|)`` (Bellec et al. 2018, NeurIPS; "piecewise linear"), zero beyond
    ``1 / beta`` mV from threshold.
``one_sided``
    ``beta / (1 + beta x)^2`` where the spike fires (``x >= 0``, or ``x > 0`` for a strict threshold),
    zero elsewhere: gradients pass only through the spikes that occurred (the principle of
    event-based exact gradients, Wunderlich & Pehle 2021, Sci Rep 11:12829). Reverse mode then costs
    what the forward pass costs on the event-driven kernels (their transposed delivery visits only
    the rows of spiking neurons, see :mod:`jaxfne.propagation.transpose`), and the adjoint of a large
    recurrent network grows much more slowly than with a two-sided surrogate, whose every
    subthreshold neuron feeds it back.

``beta`` (per mV) is the steepness: larger is closer to the true derivative and noisier, smaller is
smoother and more biased. The default is ``fast_sigmoid`` with ``beta = 1 / mV``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp

__all__ = ["SPIKES_ONLY", "SURROGATES", "Surrogate", "spike_fn", "spike_function", "surrogate"]

#: pseudo-derivative name -> (x, beta) -> sigma'(x)
SURROGATES = {
    "fast_sigmoid": lambda x, beta: beta / (1.0 + beta * jnp.abs(x)) ** 2,
    "triangle": lambda x, beta: beta * jnp.maximum(0.0, 1.0 - beta * jnp.abs(x)),
    "one_sided": lambda x, beta: jnp.where(x >= 0, beta / (1.0 + beta * jnp.maximum(x, 0.0)) ** 2, 0.0),
}

#: The pseudo-derivatives that vanish wherever no spike occurred.
SPIKES_ONLY = ("one_sided",)


@dataclass(frozen=True)
class Surrogate:
    """A pseudo-derivative of the spike function: ``kind`` (see :data:`SURROGATES`) and ``beta`` (1/mV)."""

    kind: str = "fast_sigmoid"
    beta: float = 1.0

    @property
    def spikes_only(self) -> bool:
        """The pseudo-derivative is zero wherever no spike occurred."""
        return self.kind in SPIKES_ONLY

    def to_dict(self) -> dict:
        """``{"kind": ..., "beta": ...}``, as a fit records it and :func:`surrogate` takes it back."""
        return {"kind": self.kind, "beta": self.beta}


def surrogate(kind="fast_sigmoid", beta: float = 1.0) -> Surrogate:
    """A checked :class:`Surrogate` (``ConfigurationError`` for an unknown kind or a non-positive beta).

    ``kind`` may also be a :class:`Surrogate`, a dict ``{"kind": ..., "beta": ...}`` or ``None`` (the
    default).

    Example
    -------
    >>> from jaxfne.fitting import surrogate
    >>> surrogate("triangle", beta=0.5).to_dict()
    {'kind': 'triangle', 'beta': 0.5}
    """
    from ..config.validate import check_number
    from ..errors import ConfigurationError

    if kind is None:
        return Surrogate()
    if isinstance(kind, Surrogate):
        kind, beta = kind.kind, kind.beta
    elif isinstance(kind, dict):
        unknown = set(kind) - {"kind", "beta"}
        if unknown:
            raise ConfigurationError("surrogate", kind, "a dict with keys kind and beta")
        kind, beta = kind.get("kind", "fast_sigmoid"), kind.get("beta", 1.0)
    if not isinstance(kind, str) or kind not in SURROGATES:
        raise ConfigurationError("surrogate.kind", kind, "one of " + ", ".join(SURROGATES))
    return Surrogate(kind, check_number("surrogate.beta", beta, lo=0, lo_open=True))


@functools.lru_cache(maxsize=16)
def spike_function(sur: Surrogate = Surrogate(), strict: bool = False):
    """The spike function whose derivative is ``sur``'s pseudo-derivative.

    Parameters
    ----------
    sur : Surrogate
        The pseudo-derivative (default ``fast_sigmoid``, beta = 1 / mV).
    strict : bool
        ``False``: ``x -> (x >= 0)`` (a spike at threshold, NEST's ``V_m >= V_th``); ``True``:
        ``x -> (x > 0)`` (Izhikevich's ``if v > 30``). A pseudo-derivative that vanishes wherever no
        spike occurred (:data:`SPIKES_ONLY`) is zero at ``x == 0`` too when ``strict``, so the
        transposed delivery that visits only spiking rows stays exact.

    Returns
    -------
    callable
        ``x -> 0/1`` in ``x``'s dtype, with a custom JVP.
    """
    derivative = SURROGATES[sur.kind]
    beta = float(sur.beta)
    mask_to_spikes = strict and sur.spikes_only

    @jax.custom_jvp
    def spike(x):
        return ((x > 0) if strict else (x >= 0)).astype(x.dtype)

    @spike.defjvp
    def _jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        s, d = spike(x), derivative(x, beta)
        if mask_to_spikes:
            d = jnp.where(s > 0, d, 0.0)
        return s, dx * d.astype(x.dtype)

    return spike


#: The default spike function (``x >= 0``; ``fast_sigmoid``, beta = 1 / mV).
spike_fn = spike_function(Surrogate())
