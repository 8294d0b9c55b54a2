"""Objectives: targets on readout metrics, a differentiable loss, and gradient-based fitting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from .errors import ConfigurationError
from .readouts import ReadoutSpec, compute_readout, readout_spec

__all__ = ["Objective", "objective", "loss", "fit"]


@dataclass(frozen=True)
class Objective:
    """A target value for one readout metric; its loss is ``weight * (value - target)^2``."""

    name: str
    spec: ReadoutSpec
    target: float
    weight: float = 1.0

    @property
    def metric(self) -> str:
        return self.spec.metric

    def loss(self, model, signals):
        """Weighted squared error (mean over seeds for a batch); a JAX scalar, differentiable."""
        value = compute_readout(model, signals, [self.spec]).results[self.spec.name]
        return self.weight * jnp.mean((value - self.target) ** 2)

    def to_dict(self) -> dict:
        return {"name": self.name, "target": self.target, "weight": self.weight, **self.spec.to_dict()}


def objective(name: str, metric: str, target: float, **kwargs: Any) -> Objective:
    """Optimisation objective on a readout metric.

    Parameters
    ----------
    name : str
    metric : str
        A readout metric (see :func:`jaxfne.readout_spec`); unknown names list the known ones.
    target : float
    weight : float, optional
        Weight in a multi-objective loss (default 1).
    **kwargs
        Selection of the readout (``column``, ``layer``, ``cell_type``, time window).

    Example
    -------
    >>> import jaxfne as jtfne
    >>> jtfne.objective(name="spike_rate", metric="spike_rate_hz", target=10.0).target
    10.0
    """
    from .config.validate import check_number

    weight = check_number("objective.weight", kwargs.pop("weight", 1.0), lo=0)
    target = check_number("objective.target", target)
    spec = readout_spec(name, metric, **kwargs)
    return Objective(name=name, spec=spec, target=target, weight=weight)


def loss(model, signals, objectives: Sequence[Objective]):
    """Sum of the objectives' losses."""
    if not objectives:
        raise ConfigurationError("objectives", objectives, "at least one Objective")
    return sum(o.loss(model, signals) for o in objectives)


def fit(model, objectives: Sequence[Objective], fit_params: Sequence[str], *, duration_ms: float, dt_ms: float,
        seed: int = 0, steps: int = 50, learning_rate: float = 0.05):
    """Fit scalar parameter leaves (e.g. ``"weight_scale"``) by gradient descent on the objectives.

    Uses Adam from :mod:`optax` on the parameters named in ``fit_params`` (top-level keys of
    ``model.params``); gradients come through the surrogate spike function, so the model must use
    dense propagation (see :func:`jaxfne.simulate`).

    Returns
    -------
    model : Model
        A copy with the fitted parameters.
    history : list of float
        Loss per step.
    """
    import optax

    for k in fit_params:
        if k not in model.params:
            raise ConfigurationError("fit_params", k, "keys of Model.params: " + ", ".join(model.params))
    f = model.simulate_fn(duration_ms, dt_ms)

    def total(theta):
        p = dict(model.params)
        p.update(theta)
        return loss(model, f(p, seed), objectives)

    theta = {k: model.params[k] for k in fit_params}
    opt = optax.adam(learning_rate)
    state = opt.init(theta)
    value_and_grad = jax.jit(jax.value_and_grad(total))
    history = []
    for _ in range(steps):
        value, g = value_and_grad(theta)
        updates, state = opt.update(g, state, theta)
        theta = optax.apply_updates(theta, updates)
        history.append(float(value))
    return model.with_params(**theta), history
