"""``python -m jaxfne [overrides]``: run one Hydra-composed configuration and store it like the workflow.

Examples
--------
::

    python -m jaxfne emitter=izhikevich/tonic_spiking runtime.seed=3
    python -m jaxfne column=five_layer runtime.duration_ms=500 out_dir=/tmp/runs
    python -m jaxfne --cfg job            # print the composed configuration and exit (Hydra)

The configuration is composed from ``conf/config.yaml`` (the same groups the workflow uses), validated,
and simulated; ``<out_dir>/<run_id>/config.yaml`` and ``<out_dir>/<run_id>/sim.zarr`` are written exactly
as the workflow's materialize and simulate stages write them. Hydra itself writes nothing (no
``outputs/`` folder, no ``.hydra/``, no log file).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

__all__ = ["main", "run_composed"]

def conf_dir() -> Path:
    """The Hydra config directory: ``conf/`` beside the package sources, else ``./conf``."""
    beside = Path(__file__).resolve().parents[1] / "conf"
    return beside if (beside / "config.yaml").is_file() else (Path.cwd() / "conf").resolve()


def run_composed(composed: dict[str, Any], overrides: list[str], out_dir: str | Path) -> Path:
    """Simulate a composed configuration and write ``<out_dir>/<run_id>/{config.yaml,sim.zarr}``.

    Parameters
    ----------
    composed : dict
        The composed Hydra config as plain containers.
    overrides : list of str
        The command-line overrides (they name the run).
    out_dir : path-like
        Parent folder of the run folder.

    Returns
    -------
    pathlib.Path
        The simulation store. An existing store of the same run id (same configuration, hence the
        same arrays) is kept and returned.
    """
    from .pipeline.compose import Run, write_run_config
    from .pipeline.hydra_to_config import readout_arguments, readout_specs, to_configuration
    from .pipeline.stages import simulate_stage

    cfg = to_configuration(composed)
    readouts = readout_arguments(composed)
    readout_specs(readouts)
    d = cfg.to_dict()
    seeds = [int(d["runtime"]["seed"])]
    sha = hashlib.sha256(json.dumps({"configuration": d, "seeds": seeds, "readouts": readouts},
                                    sort_keys=True, separators=(",", ":"), allow_nan=True).encode()).hexdigest()
    shown = [o for o in overrides if not o.split("=", 1)[0].lstrip("+~").startswith(("out_dir", "hydra"))]
    name = "__".join(re.sub(r"[^A-Za-z0-9.+-]+", "_", o.split("=", 1)[-1].rsplit("/", 1)[-1]).strip("_")
                     for o in shown) or "run"
    run = Run(run_id=f"{name}__{sha[:12]}", study="interactive", axes={}, overrides=list(overrides), seeds=seeds,
              config=d, config_sha256=cfg.sha256, readouts=readouts, sha256=sha)
    folder = Path(out_dir) / run.run_id
    store = folder / "sim.zarr"
    if store.is_dir():
        print(f"{store} exists (same configuration and seed); nothing to do", file=sys.stderr)
        return store
    config_path = write_run_config(run, folder / "config.yaml")
    return simulate_stage(config_path, store, rule="python -m jaxfne")


def _app(cfg) -> None:
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    composed = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    overrides = list(HydraConfig.get().overrides.task)
    store = run_composed(composed, overrides, composed.get("out_dir") or "results/interactive")
    print(store)


def main() -> None:
    """Entry point of ``python -m jaxfne`` and of the ``jaxfne`` console script."""
    import hydra

    hydra.main(config_path=str(conf_dir()), config_name="config", version_base="1.3")(_app)()


if __name__ == "__main__":
    sys.exit(main())
