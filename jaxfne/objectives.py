"""Objectives: targets on readout metrics, a differentiable loss, and gradient-based fitting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np

from .errors import ConfigurationError
from .metrics import ReadoutSpec, readout_spec
from .readouts import compute_readout

__all__ = ["Objective", "TraceObjective", "objective", "trace_objective", "loss", "fit"]


@dataclass(frozen=True)
class Objective:
    """A target value for one readout metric; its loss is ``weight * (value - target)^2``."""

    name: str
    spec: ReadoutSpec
    target: float
    weight: float = 1.0

    @property
    def metric(self) -> str:
        """The readout metric the objective targets."""
        return self.spec.metric

    def loss(self, model, signals):
        """Weighted squared error (mean over seeds for a batch); a JAX scalar, differentiable."""
        return self.compare(self.statistic(model, signals))

    def statistic(self, model, signals):
        """The readout's value (``[seed]`` for a batch)."""
        return compute_readout(model, signals, [self.spec]).results[self.spec.name]

    def compare(self, value):
        """Weighted squared error of ``value`` (mean over a leading seed axis)."""
        return self.weight * jnp.mean((value - self.target) ** 2)

    def to_dict(self) -> dict:
        """A JSON-safe dict: ``name``, ``target``, ``weight`` and the readout's metric and selection."""
        return {"name": self.name, "target": self.target, "weight": self.weight, **self.spec.to_dict()}


#: Readout metrics computed on the host: no gradient passes them.
NOT_DIFFERENTIABLE = ("burst_frequency_hz",)

#: Signals a waveform objective can compare (each has a leading time axis).
TRACE_SIGNALS = ("V_m", "I_syn", "source", "LFP", "CSD", "MUA", "dipole", "EEG", "MEG", "source_pop", "LFP_pop",
                 "dipole_pop")


@dataclass(frozen=True)
class TraceObjective:
    """A target time course of a recorded signal, or its time-averaged profile (``profile=True``: one
    value per contact, bin or channel); its loss is ``weight * RMSE(signal - target)`` over the window
    (the root-mean-square error over time and every channel, as hnn-core fits dipoles)."""

    name: str
    signal: str
    target: Any  # ndarray [time in window, ...]
    weight: float = 1.0
    t_start_ms: float | None = None
    t_stop_ms: float | None = None
    profile: bool = False
    metric = "rmse"

    def loss(self, model, signals):
        """Weighted RMSE of one run's signal over the window (or of its time average)."""
        return self.compare(self.statistic(model, signals))

    def compare(self, a):
        """Weighted RMSE of ``a`` (the window's time course, or its time average) against the target."""
        target = jnp.asarray(self.target, a.dtype)
        if target.shape != a.shape:
            what = "its time average" if self.profile else "the window"
            raise ConfigurationError(f"objective[{self.name!r}].target", f"shape {tuple(target.shape)}",
                                     f"the shape of {self.signal} over {what}, {tuple(a.shape)}")
        mse = jnp.mean((a - target) ** 2)
        safe = jnp.where(mse > 0, mse, 1.0)  # a finite gradient at a perfect fit
        return self.weight * jnp.where(mse > 0, jnp.sqrt(safe), 0.0)

    def statistic(self, model, signals):
        """One run's signal over the window (time first), or its time average with ``profile``."""
        a = getattr(signals, self.signal)
        if a is None:
            raise ConfigurationError(f"objective[{self.name!r}].signal", self.signal,
                                     "a recorded signal: add its probe to the configuration")
        times = signals.time_ms
        if self.signal in ("V_m", "I_syn"):
            every = signals.meta.record_every
            times = times[every - 1::every][: a.shape[-2 if a.ndim > 1 else 0]]
        lo = -np.inf if self.t_start_ms is None else self.t_start_ms
        hi = np.inf if self.t_stop_ms is None else self.t_stop_ms
        idx = np.flatnonzero((times > lo) & (times <= hi))
        if not idx.size:
            raise ConfigurationError(f"objective[{self.name!r}].t_start_ms/t_stop_ms", [lo, hi],
                                     "a window containing samples")
        a = jnp.asarray(a)[idx[0]:idx[-1] + 1]
        return jnp.mean(a, axis=0) if self.profile else a

    def to_dict(self) -> dict:
        """A JSON-safe dict of the objective: its name, signal, weight, window, ``profile`` and the target's
        shape (not its values)."""
        return {"name": self.name, "metric": "rmse", "signal": self.signal, "weight": self.weight,
                "t_start_ms": self.t_start_ms, "t_stop_ms": self.t_stop_ms, "profile": self.profile,
                "target_shape": list(np.shape(self.target))}


def trace_objective(name: str, signal: str, target, *, weight: float = 1.0, t_start_ms: float | None = None,
                    t_stop_ms: float | None = None, profile: bool = False) -> TraceObjective:
    """Optimisation objective on a signal's time course (RMSE), e.g. a dipole waveform or an LFP profile.

    Parameters
    ----------
    name : str
    signal : str
        One of :data:`TRACE_SIGNALS` (recorded by the model's probes).
    target : array
        The target over the window ``t_start_ms < t <= t_stop_ms``, shaped as the signal there (time
        first), or with ``profile=True`` its time average (e.g. a laminar CSD profile, [contact]).
    weight : float, optional
    profile : bool, optional
        Compare the time-averaged profile instead of the time course.
    """
    from .config.validate import check_number, check_option, check_str

    check_str("objective.name", name)
    check_option("objective.signal", signal, TRACE_SIGNALS)
    weight = check_number("objective.weight", weight, lo=0)
    lo = None if t_start_ms is None else check_number("objective.t_start_ms", t_start_ms)
    hi = None if t_stop_ms is None else check_number("objective.t_stop_ms", t_stop_ms)
    arr = np.asarray(target, float)
    if (arr.ndim == 0 and not profile) or not np.all(np.isfinite(arr)):
        raise ConfigurationError("objective.target", f"array of shape {arr.shape}",
                                 "a finite array (with a time axis unless profile=True)")
    return TraceObjective(name, signal, arr, weight, lo, hi, bool(profile))


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
    """Sum of the objectives' losses (readout and trace objectives alike)."""
    if not objectives:
        raise ConfigurationError("objectives", objectives, "at least one Objective")
    return sum(o.loss(model, signals) for o in objectives)


def fit(model, objectives, fit_params, **kwargs):
    """Fit parameters by gradient descent on the objectives: see :func:`jaxfne.fitting.fit`."""
    from .fitting import fit as _fit

    return _fit(model, objectives, fit_params, **kwargs)
