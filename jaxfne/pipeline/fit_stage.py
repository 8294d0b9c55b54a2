"""A study's fit stage: every run's configuration fitted by gradient descent to the study's targets.

A study file may hold a ``fit`` mapping; each run of the study is then also fitted, in a job of its
own, and the fit's store (``runs/<run>/fit.zarr``: the loss and every parameter per step, the fitted
values, bounds, surrogate, seeds, objectives, provenance) and its figure (``figures/<run>/fit.png``)
are targets of the study::

    fit:
      params: [weight_scale, gain/L4E->L2/3E]      # parameter paths (jaxfne.fitting.paths)
      objectives:                                  # jaxfne.objective arguments: readout targets
        - {name: rate_E, metric: spike_rate_hz, cell_type: E, target: 4.0}
      bounds: {weight_scale: positive}             # "positive" or [lo, hi] (null for an open side)
      steps: 30                                    # optimiser steps (default 30)
      optimizer: adam                              # adam, adamw, sgd or rmsprop (default adam)
      learning_rate: 0.05
      seeds: [0, 1]                                # noise seeds averaged at every step (default [0])
      duration_ms: 200.0                           # each loss evaluation (default: the run's)
      dt_ms: 0.1                                   # default: the run's
      surrogate: {kind: one_sided, beta: 0.2}      # default fast_sigmoid, beta 1
      checkpoint_ms: 50.0                          # rematerialised chunks (default: none)

:func:`check_fit_spec` checks the mapping when the study is expanded (before any job); the paths are
resolved against the constructed model at the start of the fit job, before the first simulation.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from .compose import read_run_config

__all__ = ["FIT_DEFAULTS", "OPTIMIZERS", "check_fit_spec", "fit_stage"]

#: Defaults of a study's ``fit`` mapping (``params`` and ``objectives`` are required).
FIT_DEFAULTS: dict[str, Any] = {"bounds": {}, "steps": 30, "optimizer": "adam", "learning_rate": 0.05, "seeds": [0],
                                "duration_ms": None, "dt_ms": None, "surrogate": None, "checkpoint_ms": None}
#: Optimisers a study may name (optax's, called with the learning rate).
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")


def check_fit_spec(spec: Any) -> dict:
    """A study's ``fit`` mapping with defaults filled in, every value checked.

    Raises
    ------
    ConfigurationError
        Naming the key under ``fit`` (``fit.params``, ``fit.objectives[0].target``, ...).
    """
    from ..config.validate import check_int, check_number, check_option
    from ..engine.surrogate import surrogate as make_surrogate
    from ..objectives import objective

    if not isinstance(spec, Mapping):
        raise ConfigurationError("fit", spec, "a mapping with params and objectives")
    unknown = set(spec) - set(FIT_DEFAULTS) - {"params", "objectives"}
    if unknown:
        key = min(unknown)
        raise ConfigurationError(f"fit.{key}", spec[key], "one of params, objectives, " + ", ".join(FIT_DEFAULTS))
    out = {**FIT_DEFAULTS, **spec}
    params = out.get("params")
    if isinstance(params, str) or not isinstance(params, list) or not params or \
            not all(isinstance(p, str) and p for p in params):
        raise ConfigurationError("fit.params", params, "a non-empty list of parameter paths")
    objs = out.get("objectives")
    if not isinstance(objs, list) or not objs:
        raise ConfigurationError("fit.objectives", objs, "a non-empty list of {name, metric, target, ...}")
    for i, o in enumerate(objs):
        if not isinstance(o, Mapping) or not {"name", "metric", "target"} <= set(o):
            raise ConfigurationError(f"fit.objectives[{i}]", o, "a mapping with name, metric and target")
        try:
            objective(**o)
        except ConfigurationError as exc:
            raise ConfigurationError(f"fit.objectives[{i}].{exc.field.rsplit('.', 1)[-1]}", exc.value,
                                     exc.allowed) from None
        except TypeError:
            raise ConfigurationError(f"fit.objectives[{i}]", o, "jaxfne.objective arguments") from None
    if not isinstance(out["bounds"], Mapping):
        raise ConfigurationError("fit.bounds", out["bounds"], 'a mapping {path: "positive" | [lo, hi]}')
    extra = set(out["bounds"]) - set(params)
    if extra:
        raise ConfigurationError("fit.bounds", sorted(extra), "paths listed in fit.params")
    out["steps"] = check_int("fit.steps", out["steps"], lo=1, hi=100_000)
    check_option("fit.optimizer", out["optimizer"], OPTIMIZERS)
    out["learning_rate"] = check_number("fit.learning_rate", out["learning_rate"], lo=0, lo_open=True)
    seeds = out["seeds"]
    if not isinstance(seeds, list) or not seeds:
        raise ConfigurationError("fit.seeds", seeds, "a non-empty list of non-negative integers")
    out["seeds"] = [check_int(f"fit.seeds[{i}]", s, lo=0, hi=2**32 - 1) for i, s in enumerate(seeds)]
    for key in ("duration_ms", "dt_ms", "checkpoint_ms"):
        if out[key] is not None:
            out[key] = check_number(f"fit.{key}", out[key], lo=0, lo_open=True)
    try:
        make_surrogate(out["surrogate"])
    except ConfigurationError as exc:
        raise ConfigurationError(f"fit.{exc.field}", exc.value, exc.allowed) from None
    return out


def _bounds(spec: Mapping[str, Any]) -> dict:
    return {k: v if isinstance(v, str) else tuple(v) for k, v in spec["bounds"].items()}


def fit_stage(config: str | os.PathLike, out: str | os.PathLike, figure: str | os.PathLike, *,
              spec: Mapping[str, Any], rule: str = "fit") -> Path:
    """Fit a run's model to the study's objectives; store the result and draw its history.

    Parameters
    ----------
    config : path-like
        The run's ``config.yaml``.
    out : path-like
        The fit store (:meth:`jaxfne.fitting.FitResult.to_zarr`).
    figure : path-like
        The loss and every fitted parameter per step, as a PNG (:func:`jaxfne.plots.plot_fit_history`).
    spec : mapping
        The study's ``fit`` mapping (:func:`check_fit_spec`).
    rule : str
        Recorded in the provenance.
    """
    import optax

    import jaxfne

    from .. import plots
    from ..fitting import fit
    from ..io.store import open_store
    from .stages import log, run_configuration

    spec = check_fit_spec(spec)
    run = read_run_config(config)
    model = jaxfne.construct(run_configuration(run.config))
    rt = model.configuration.runtime_spec
    objectives = [jaxfne.objective(**o) for o in spec["objectives"]]
    t0 = time.perf_counter()
    log.info("fit %s: %s over %d steps, seeds %s", run.run_id, ", ".join(spec["params"]), spec["steps"], spec["seeds"])
    result = fit(model, objectives, spec["params"], duration_ms=spec["duration_ms"] or rt["duration_ms"],
                 dt_ms=spec["dt_ms"] or rt["dt_ms"], seeds=spec["seeds"], steps=spec["steps"],
                 optimizer=getattr(optax, spec["optimizer"])(spec["learning_rate"]), bounds=_bounds(spec),
                 surrogate=spec["surrogate"], checkpoint_ms=spec["checkpoint_ms"],
                 callback=lambda i, loss, _v: log.info("fit step %d: loss %.6g", i, loss))
    log.info("fitted in %.1f s: loss %.6g -> %.6g", time.perf_counter() - t0, result.losses[0], result.losses[-1])
    store = Path(result.to_zarr(out, run_id=run.run_id, rule=rule))
    plots.save(plots.plot_fit_history(open_store(store), title=f"fit of {run.run_id}"), figure)
    return store
