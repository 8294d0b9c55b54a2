"""The outcome of a fit: the fitted model, its values, the history, and a store of both with provenance."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

__all__ = ["FitResult"]


@dataclass(frozen=True)
class FitResult:
    """A fit's fitted ``model``, final and initial ``values`` per path, and per-step ``history``
    (``step``, ``loss``, ``values``, ``grad_norm``; the values at which the loss was evaluated).

    Unpacks as ``model, history_losses`` (``fitted, losses = fit(...)``).
    """

    model: object
    values: dict
    initial: dict
    history: list
    paths: tuple
    bounds: dict
    surrogate: dict
    seeds: tuple
    objectives: tuple
    duration_ms: float
    dt_ms: float
    wall_time_s: float

    @property
    def losses(self) -> list[float]:
        """The loss at each step (``history[i]["loss"]``)."""
        return [h["loss"] for h in self.history]

    def __iter__(self):
        return iter((self.model, self.losses))

    def to_xarray(self):
        """A Dataset: ``loss[step]``, ``grad_norm[step]`` and one variable per path, ``[step, ...]``
        (plus its final value as ``final_<i>``); what was fitted and how in the attributes."""
        import xarray as xr

        steps = np.array([h["step"] for h in self.history], np.int32)
        data = {"loss": (("step",), np.array(self.losses), {"long_name": "loss (sum of the objectives)", "units": "1"}),
                "grad_norm": (("step",), np.array([h["grad_norm"] for h in self.history]),
                              {"long_name": "norm of the gradient in the unconstrained parameters", "units": "1"})}
        for i, path in enumerate(self.paths):
            trace = np.array([h["values"][path] for h in self.history], float)
            dims = ("step",) + tuple(f"p{i}_dim{d}" for d in range(trace.ndim - 1))
            data[f"param_{i}"] = (dims, trace, {"long_name": f"value of {path} at each step", "path": path})
            data[f"final_{i}"] = (dims[1:], np.asarray(self.values[path], float), {"long_name": f"fitted {path}",
                                                                                    "path": path})
        if self.history and "seeds" in self.history[0]:  # a fit with fresh seeds at every step
            data["step_seeds"] = (("step", "seed"), np.array([h["seeds"] for h in self.history], np.int64),
                                  {"long_name": "noise seeds simulated at each step", "units": "1"})
        ds = xr.Dataset(data, coords={"step": ("step", steps, {"long_name": "optimiser step", "units": "1"})})
        ds.attrs.update({"fit_paths_json": json.dumps(list(self.paths)), "fit_bounds_json": json.dumps(self.bounds),
                         "fit_surrogate_json": json.dumps(self.surrogate), "fit_seeds_json": json.dumps(list(self.seeds)),
                         "fit_objectives_json": json.dumps(list(self.objectives)),
                         "fit_duration_ms": self.duration_ms, "fit_dt_ms": self.dt_ms})
        return ds

    def to_zarr(self, path: str | os.PathLike, *, run_id: str = "", rule: str = "") -> str:
        """Write :meth:`to_xarray` as a store (atomically) with the model's configuration and provenance."""
        from ..io.provenance import collect
        from ..io.store import write_store

        ds = self.to_xarray()
        cfg = self.model.configuration
        ds.attrs.update(collect(stage="fit", config=cfg.to_dict(), config_sha256=cfg.sha256, seeds=self.seeds,
                                run_id=run_id, rule=rule, wall_time_s=self.wall_time_s, title="jaxfne fit"))
        return str(write_store(ds, path))
