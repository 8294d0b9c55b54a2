"""Gradient-based fitting of a model's parameters to objectives on its readouts."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigurationError, GradientError
from .paths import resolve
from .result import FitResult
from .transforms import bounds as make_bounds

__all__ = ["fit", "seed_mean_loss"]


def fit(model, objectives: Sequence, fit_params: Sequence[str], *, duration_ms: float, dt_ms: float,
        seeds: Sequence[int] | None = None, seed: int = 0, steps: int = 50, optimizer=None,
        learning_rate: float = 0.05, bounds: Mapping[str, object] | None = None, surrogate=None,
        checkpoint_ms: float | None = None, callback: Callable | None = None, fresh_seeds: bool = False) -> FitResult:
    """Fit parameters (named by path) by gradient descent on the objectives.

    Parameters
    ----------
    model : Model
    objectives : sequence of Objective or TraceObjective
        Their losses are summed (readout targets: weighted squared error; traces: weighted RMSE).
    fit_params : sequence of str
        Parameter paths (:mod:`jaxfne.fitting.paths`): ``"weight_scale"``, ``"gain/L4E->L2/3E"``,
        ``"neuron/I_e/L4E"``, ``"poisson_rate_hz/0"``, ...
    duration_ms, dt_ms : float
        The simulation of each loss evaluation.
    seeds : sequence of int, optional
        Noise seeds simulated together (vmapped) at every step. Each objective compares the mean over
        the seeds of its statistic (a readout's value, a trace, a profile) with its target: the
        column's expected response, with the noise averaged before the error is taken (a mean of
        per-seed errors would also reward a smaller variance). Default ``[seed]``.
    steps : int
        Optimiser steps.
    optimizer : optax.GradientTransformation, optional
        Default ``optax.adam(learning_rate)``.
    bounds : mapping, optional
        ``{path: (lo, hi)}`` (``None`` for an open side) or ``{path: "positive"}``: the optimiser works on
        an unconstrained value through a transform (:mod:`jaxfne.fitting.transforms`).
    surrogate : Surrogate, str or dict, optional
        The spike function's pseudo-derivative (:mod:`jaxfne.engine.surrogate`); recorded in the result.
    checkpoint_ms : float, optional
        Rematerialised chunks bounding the gradient's memory (:func:`jaxfne.simulate.pure_simulate_fn`).
    callback : callable, optional
        ``callback(step, loss, values)`` after every step.
    fresh_seeds : bool
        Draw new noise at every step: step ``i`` runs the seeds ``s + i * stride`` (``stride`` = the
        largest seed + 1), so no two steps share a realisation and the fit follows the expected loss
        (stochastic approximation; pair it with a decaying learning rate) instead of the optimum for
        the given seeds' realisation, which a chaotic network can reach with other parameters. Each
        step's seeds are in its history entry (``"seeds"``). Default: the same seeds at every step.

    Returns
    -------
    FitResult
        The fitted model, the values and the loss history; unpacks as ``model, history``.

    Raises
    ------
    ConfigurationError
        An unknown path, a bound that excludes the initial value, an objective that is not
        differentiable.
    GradientError
        A loss or gradient that is not finite, naming the step and the parameters, and what to change.
    """
    import optax

    from ..config.validate import check_bool, check_int
    from ..engine.surrogate import surrogate as make_surrogate
    from ..objectives import NOT_DIFFERENTIABLE

    if not objectives:
        raise ConfigurationError("objectives", objectives, "at least one objective")
    for o in objectives:
        if getattr(o, "metric", None) in NOT_DIFFERENTIABLE:
            raise ConfigurationError(f"objective[{o.name!r}].metric", o.metric,
                                     "a differentiable metric (burst counting runs on the host; fit "
                                     "spike_rate_hz or a trace objective instead)")
    if isinstance(fit_params, str) or not fit_params:
        raise ConfigurationError("fit_params", fit_params, "a non-empty list of parameter paths")
    steps = check_int("steps", steps, lo=1)
    seed_list = [check_int(f"seeds[{i}]", s, lo=0, hi=2**32 - 1) for i, s in enumerate(seeds)] if seeds is not None \
        else [check_int("seed", seed, lo=0, hi=2**32 - 1)]
    if not seed_list:
        raise ConfigurationError("seeds", seeds, "a non-empty list of integers")
    check_bool("fresh_seeds", fresh_seeds)
    stride = max(seed_list) + 1 if fresh_seeds else 0
    if max(seed_list) + (steps - 1) * stride > 2**32 - 1:
        raise ConfigurationError("seeds", seeds, f"seeds whose {steps} fresh draws (seed + step x {stride}) stay "
                                 "below 2**32 (fewer steps or smaller seeds)")
    sur = make_surrogate(surrogate)
    paths = [resolve(model, p) for p in fit_params]
    if len({p.path for p in paths}) != len(paths):
        raise ConfigurationError("fit_params", list(fit_params), "each path once")
    unknown = set(bounds or {}) - {p.path for p in paths}
    if unknown:
        raise ConfigurationError("bounds", sorted(unknown), "paths listed in fit_params")
    initial = {p.path: p.initial(model.params) for p in paths}
    transforms = {p.path: make_bounds(p.path, initial[p.path], (bounds or {}).get(p.path)) for p in paths}
    u0 = {k: transforms[k].inverse(v) for k, v in initial.items()}

    f = model.simulate_fn(duration_ms, dt_ms, surrogate=sur, checkpoint_ms=checkpoint_ms)
    def values_of(u):
        return {k: transforms[k].forward(v) for k, v in u.items()}

    def params_of(u):
        p = model.params
        for path, v in zip(paths, values_of(u).values()):
            p = path.put(p, v)
        return p

    loss_of_seeds = seeds_mean_loss(model, f, objectives)
    value_and_grad = jax.jit(jax.value_and_grad(lambda u, s: loss_of_seeds(params_of(u), s)))
    base = np.asarray(seed_list, np.uint32)
    opt = optimizer if optimizer is not None else optax.adam(learning_rate)
    state = opt.init(u0)
    u = u0
    history = []
    start = time.perf_counter()
    for i in range(steps):
        step_seeds = base + np.uint32(i * stride)
        value, g = value_and_grad(u, jnp.asarray(step_seeds))
        bad = [k for k, v in g.items() if not np.all(np.isfinite(np.asarray(v)))]
        # finite, but beyond what the optimiser's state holds in the parameters' dtype: Adam's second
        # moment would overflow to inf and every update become 0, so the fit would silently stand still
        huge = [k for k, v in g.items() if k not in bad and _overflows(np.asarray(v))]
        if not np.isfinite(float(value)) or bad or huge:
            raise GradientError(
                "the loss or its gradient is not finite" if bad else
                f"the gradient ({max(float(np.max(np.abs(np.asarray(g[k], float)))) for k in huge):.3g}) overflows the "
                f"optimiser's {np.asarray(g[huge[0]]).dtype} state" if huge else "the loss is not finite",
                "the adjoint of a recurrent spiking network grows with the duration and the surrogate's "
                "steepness: use surrogate='one_sided' (gradients through the spikes that occurred), a "
                "smaller beta, a shorter duration_ms, or runtime(dtype='float64')", step=i, parameters=bad or huge)
        vals = values_of(u)
        history.append({"step": i, "loss": float(value), "values": {k: np.asarray(v).tolist() for k, v in vals.items()},
                        "grad_norm": float(np.sqrt(sum(float(np.sum(np.asarray(v, float) ** 2)) for v in g.values())))})
        if fresh_seeds:
            history[-1]["seeds"] = step_seeds.tolist()
        if callback is not None:
            callback(i, float(value), vals)
        updates, state = opt.update(g, state, u)
        u = optax.apply_updates(u, updates)
    final = values_of(u)
    fitted = _with(model, params_of(u))
    return FitResult(model=fitted, values={k: np.asarray(v) for k, v in final.items()}, initial=
                     {k: np.asarray(v) for k, v in initial.items()}, history=history, paths=tuple(fit_params),
                     bounds={k: b.to_list() for k, b in transforms.items()}, surrogate=sur.to_dict(),
                     seeds=tuple(seed_list), objectives=tuple(o.to_dict() for o in objectives),
                     duration_ms=float(duration_ms), dt_ms=float(dt_ms), wall_time_s=time.perf_counter() - start)


def seed_mean_loss(model, f: Callable, objectives: Sequence, seeds: Sequence[int]) -> Callable:
    """``loss(params)``: the objectives on the seed means of their statistics (readout values,
    traces, profiles), the seeds simulated together (``jax.vmap``) by ``f(params, seed)``
    (:meth:`Model.simulate_fn`), once per seed for all the objectives (XLA does not merge repeated
    scans: a simulation per objective would cost as many runs)."""
    seed_arr = jnp.asarray(list(seeds), jnp.uint32)
    of_seeds = seeds_mean_loss(model, f, objectives)
    return lambda params: of_seeds(params, seed_arr)


def seeds_mean_loss(model, f: Callable, objectives: Sequence) -> Callable:
    """``loss(params, seeds)``: :func:`seed_mean_loss` with the seeds (uint32 [S]) an argument, so
    that new seeds of the same number reuse the compiled loss."""

    def loss(params, seed_arr):
        def statistics(s):
            sig = f(params, s)
            return [o.statistic(model, sig) for o in objectives]

        stats = jax.vmap(statistics)(seed_arr)
        return sum(o.compare(jnp.mean(st, axis=0)) for o, st in zip(objectives, stats))

    return loss


def _overflows(g: np.ndarray) -> bool:
    """Whether the square of ``g`` (an optimiser's second moment) overflows ``g``'s dtype."""
    if g.dtype.kind != "f" or not g.size:
        return False
    return bool(np.max(np.abs(g.astype(float))) ** 2 > np.finfo(g.dtype).max)


def _with(model, params: dict):
    """``model`` with every top-level leaf that ``params`` changed."""
    changed = {k: v for k, v in params.items() if v is not model.params[k]}
    return model.with_params(**changed) if changed else model
