"""Rebuild the exact run from a store alone: load its configuration and seeds, simulate, compare.

Every simulation store carries the resolved configuration (``prov_config_json``) and the seeds
(``prov_seeds_json``). :func:`rerun_store` rebuilds the model from them, simulates the same seeds as
one batch, and compares every array of the fresh Dataset with the stored one. On the same platform,
dtype and jax version the arrays are identical (the default tolerance is zero).

Command line::

    python -m jaxfne.io.rerun results/default/runs/<run_id>/sim.zarr
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .provenance import config_from_attrs
from .store import add_spike_events, open_store

__all__ = ["NotASimulationStore", "RerunReport", "rerun_store", "main"]


@dataclass
class RerunReport:
    """Outcome of :func:`rerun_store`.

    Attributes
    ----------
    store : str
        The store that was checked.
    config_sha256 : str
        Hash of the configuration found in the store (checked against the rebuilt one).
    seeds : list of int
        Seeds re-simulated.
    max_abs_diff : dict
        Variable -> largest absolute difference (0.0 for equal booleans and integers).
    mismatched : list of str
        Variables whose difference exceeds the tolerance, or whose shape, dims or presence differ.
    """

    store: str
    config_sha256: str
    seeds: list[int]
    max_abs_diff: dict[str, float] = field(default_factory=dict)
    mismatched: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        """Whether every array matched within the tolerance."""
        return not self.mismatched


def rerun_store(path: str | os.PathLike, *, atol: float = 0.0) -> RerunReport:
    """Re-simulate the run recorded in a simulation store and compare every array.

    Parameters
    ----------
    path : path-like
        A ``sim.zarr`` store (workflow or ``python -m jaxfne``).
    atol : float
        Largest absolute difference accepted per array (default 0: bitwise equal values).

    Returns
    -------
    RerunReport

    Raises
    ------
    NotASimulationStore
        If the store was made by another stage (construct, readout, aggregate): it says which, and
        which simulation store(s) it was made from.
    ValueError
        If the store has no configuration, or the stored hash does not match the configuration.
    """
    import jaxfne
    from ..pipeline.stages import run_configuration

    stored = open_store(path)
    _check_kind(path, stored.attrs)
    config, seeds = config_from_attrs(stored.attrs)
    cfg = run_configuration(config)
    if cfg.sha256 != stored.attrs.get("prov_config_sha256"):
        raise ValueError(
            f"prov_config_sha256={stored.attrs.get('prov_config_sha256')!r} is not allowed: the sha256 "
            f"of the stored configuration ({cfg.sha256})"
        )
    rt = cfg.runtime_spec
    model = jaxfne.construct(cfg)
    fresh = add_spike_events(
        jaxfne.simulate(model, duration_ms=rt["duration_ms"], dt_ms=rt["dt_ms"], seed=list(seeds)).to_xarray()
    )
    report = RerunReport(store=str(path), config_sha256=cfg.sha256, seeds=list(seeds))
    for name in sorted(set(stored.data_vars) | set(fresh.data_vars)):
        if name not in stored or name not in fresh:
            report.mismatched.append(name)
            continue
        a, b = stored[name], fresh[name]
        if a.dims != b.dims or a.shape != b.shape:
            report.mismatched.append(name)
            continue
        x, y = np.asarray(a.values), np.asarray(b.values)
        if x.dtype.kind in "fc" or y.dtype.kind in "fc":
            x64, y64 = x.astype(np.float64), y.astype(np.float64)
            both_nan = np.isnan(x64) & np.isnan(y64)
            diff = np.where(both_nan, 0.0, np.abs(x64 - y64))
            d = float(np.nanmax(np.where(np.isnan(diff), np.inf, diff))) if diff.size else 0.0
        elif x.dtype.kind in "biu":
            d = float(np.max(np.abs(x.astype(np.int64) - y.astype(np.int64)))) if x.size else 0.0
        else:
            d = 0.0 if [str(v) for v in x.ravel().tolist()] == [str(v) for v in y.ravel().tolist()] else float("inf")
        report.max_abs_diff[name] = d
        if d > atol:
            report.mismatched.append(name)
    return report


class NotASimulationStore(ValueError):
    """A store of a stage that simulates nothing: what it is and what can be rerun instead."""

    def __init__(self, path, stage: str, sources: list[str]):
        self.stage, self.sources = stage, sources
        where = ("; it was made from " + ", ".join(sources)) if sources else ""
        super().__init__(f"{path} is a {stage} store, not a simulation store (sim.zarr); rerun checks "
                         f"simulation stores{where}")


def _check_kind(path, attrs) -> None:
    stage = attrs.get("prov_stage", "simulate")
    if stage == "simulate":
        return
    inputs = json.loads(attrs.get("prov_inputs_json", "{}"))
    sims = [p for p in inputs if Path(p).name == "sim.zarr"]
    raise NotASimulationStore(path, stage, sims)


def main(argv: list[str] | None = None) -> int:
    """``python -m jaxfne.io.rerun STORE [--atol X]``: exit 0 when the arrays are reproduced, 1 when they
    differ, 2 when the store is not one that can be rerun (with the reason on one line)."""
    ap = argparse.ArgumentParser(prog="python -m jaxfne.io.rerun", description=__doc__.split("\n\n")[0])
    ap.add_argument("store", type=Path)
    ap.add_argument("--atol", type=float, default=0.0)
    args = ap.parse_args(argv)
    try:
        report = rerun_store(args.store, atol=args.atol)
    except NotASimulationStore as exc:
        print(json.dumps({"store": str(args.store), "kind": exc.stage, "rerun_instead": exc.sources,
                          "error": str(exc)}))
        return 2
    print(json.dumps({"store": report.store, "identical": report.identical, "mismatched": report.mismatched,
                      "max_abs_diff": report.max_abs_diff}, indent=2))
    return 0 if report.identical else 1


if __name__ == "__main__":
    sys.exit(main())
