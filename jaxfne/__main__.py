"""``python -m jaxfne [overrides]``: run one Hydra-composed configuration and store it like the workflow.

Examples
--------
::

    python -m jaxfne emitter=izhikevich/tonic_spiking runtime.seed=3
    python -m jaxfne column=five_layer runtime.duration_ms=500 out_dir=/tmp/runs
    python -m jaxfne --cfg job            # print the composed configuration and exit (Hydra)

The configuration is composed from ``conf/config.yaml`` (the same groups the workflow uses), validated,
and simulated; ``<out_dir>/<run_id>/config.yaml`` and ``<out_dir>/<run_id>/sim.zarr`` are written exactly
as the workflow's simulate job writes them. Hydra itself writes nothing (no
``outputs/`` folder, no ``.hydra/``, no log file).
"""

from __future__ import annotations

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
        same arrays) is verified (:func:`jaxfne.io.verify_store`), kept and returned.

    Notes
    -----
    The run holds the store's lock (:func:`jaxfne.io.lock.store_lock`) from the existence check to
    the rename, so of two concurrent runs of one configuration one simulates and writes, and the
    other waits, then reports the store as written and returns it.
    """
    from .io.lock import store_lock
    from .io.manifest import verify_store
    from .pipeline.compose import Run, readable_id, run_sha256, write_run_config
    from .pipeline.hydra_to_config import readout_arguments, readout_specs, to_configuration
    from .pipeline.stages import simulate_stage

    cfg = to_configuration(composed)
    readouts = readout_arguments(composed)
    readout_specs(readouts)
    d = cfg.to_dict()
    seeds = [int(d["runtime"]["seed"])]
    sha = run_sha256(d, seeds, readouts)
    shown = [o for o in overrides if not o.split("=", 1)[0].lstrip("+~").startswith(("out_dir", "hydra"))]
    name = readable_id([o.split("=", 1)[-1] for o in shown])
    run = Run(run_id=f"{name}__{sha[:12]}", study="interactive", axes={}, overrides=list(overrides), seeds=seeds,
              config=d, config_sha256=cfg.sha256, readouts=readouts, sha256=sha)
    folder = Path(out_dir) / run.run_id
    store = folder / "sim.zarr"
    # one writer per run folder: a second run of the same configuration waits here, then finds the store
    with store_lock(store, on_wait=lambda msg: print(msg, file=sys.stderr)) as held:
        if store.is_dir():
            verify_store(store)
            how = "written by another run while this one waited" if held.waited else "same configuration and seed"
            print(f"{store} exists ({how}); nothing to do", file=sys.stderr)
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


def command_line_overrides(argv: list[str]) -> list[str]:
    """The positional overrides of a command line (``key=value``, ``+key=value``, ``~key``), not
    Hydra's flags (``--cfg job``, ``-m``) or their values."""
    return [a for a in argv if not a.startswith("-") and ("=" in a or a.startswith("~"))]


def check_command_line(argv: list[str], conf: Path) -> None:
    """Refuse, before Hydra sees them, overrides that reach outside jaxfne's groups and keys
    (``hydra.callbacks``, ``hydra.searchpath``, ``hydra.run.dir``, ...): one line on stderr, exit 2."""
    from .errors import ConfigurationError
    from .pipeline.compose import allowed_keys, check_override

    allowed = allowed_keys(conf)
    for override in command_line_overrides(argv):
        try:
            check_override(override, allowed)
        except ConfigurationError as exc:
            print(f"jaxfne: error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None


def main() -> None:
    """Entry point of ``python -m jaxfne`` and of the ``jaxfne`` console script."""
    import hydra

    check_command_line(sys.argv[1:], conf_dir())
    hydra.main(config_path=str(conf_dir()), config_name="config", version_base="1.3")(_app)()


if __name__ == "__main__":
    sys.exit(main())
