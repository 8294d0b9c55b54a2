"""``jaxfne [overrides]`` (or ``python -m jaxfne``): run one Hydra-composed configuration and store it
like the workflow.

Examples
--------
::

    jaxfne emitter=izhikevich/tonic_spiking runtime.seed=3
    jaxfne column=five_layer runtime.duration_ms=500 out_dir=/tmp/runs
    jaxfne -m runtime.seed=1,2 runtime=short   # one run per seed (Hydra multirun)
    jaxfne --cfg job                           # print the composed configuration and exit (Hydra)
    jaxfne --help                              # what the command does, its groups, where outputs go

The configuration is composed from the groups of :func:`jaxfne.pipeline.conf.conf_dir` (the checkout's
``conf/``, the workflow's, or the copy installed with the package), validated, and simulated;
``<out_dir>/<run_id>/config.yaml`` and ``<out_dir>/<run_id>/sim.zarr`` are written exactly as the
workflow's simulate job writes them. Hydra itself writes nothing in a single run (no ``outputs/``
folder, no ``.hydra/``, no log file); a multirun writes its ``multirun.yaml`` under
``results/multirun/``.

A configuration that cannot be composed (an unknown group option or key, bad override syntax) or that
jaxfne refuses (:class:`jaxfne.errors.ConfigurationError`) prints one line, ``jaxfne: error:
<message>``, on stderr and exits with status 2. With ``HYDRA_FULL_ERROR=1`` in the environment, Hydra's
errors propagate with their full traceback instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from .pipeline.conf import conf_dir

__all__ = ["main", "one_line", "run_composed"]


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
    from .pipeline.hydra_to_config import (
        readout_arguments,
        readout_specs,
        to_configuration,
    )
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


def one_line(message: str) -> str:
    """A multi-line error message (Hydra's) as one line.

    Parameters
    ----------
    message : str
        The message; Hydra's list its options on indented lines and end with the config search path.

    Returns
    -------
    str
        Its lines joined in order, indented lines as a comma-separated list after the line they follow,
        the ``Config search path:`` block left out.

    Examples
    --------
    >>> one_line("In 'config': Could not find 'runtime/x'\\n\\nAvailable options in 'runtime':\\n\\tdefault\\n\\tshort")
    "In 'config': Could not find 'runtime/x'. Available options in 'runtime': default, short."
    """
    parts: list[str] = []
    for line in message.split("Config search path:")[0].splitlines():
        item = line.strip()
        if not item:
            continue
        if line[:1].isspace() and parts:
            parts[-1] += (" " if parts[-1].endswith(":") else ", ") + item
        else:
            parts.append(item)
    if len(parts) < 2:
        return "".join(parts)
    return " ".join(p if p.endswith((".", ":", ";", "!", "?")) else p + "." for p in parts)


def _fail(message: str) -> NoReturn:
    print(f"jaxfne: error: {one_line(message)}", file=sys.stderr)
    raise SystemExit(2)


def _app(cfg) -> None:
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    from .errors import ConfigurationError

    composed = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    overrides = list(HydraConfig.get().overrides.task)
    try:
        store = run_composed(composed, overrides, composed.get("out_dir") or "results/interactive")
    except ConfigurationError as exc:
        # here, not in main: Hydra would first print "Error executing job with overrides" for it
        _fail(str(exc))
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
            _fail(str(exc))


def _hydra_message(exc: BaseException) -> str:
    cause = exc.__cause__
    return f"{exc}\n{str(cause).splitlines()[0]}" if cause is not None and str(cause) else str(exc)


def main() -> None:
    """Entry point of ``python -m jaxfne`` and of the ``jaxfne`` console script.

    Raises
    ------
    SystemExit
        Status 2, after one line ``jaxfne: error: <message>`` on stderr, for an override outside
        jaxfne's groups and keys, a configuration Hydra cannot compose (unknown group option or key,
        bad syntax, missing value) and a :class:`jaxfne.errors.ConfigurationError`; status 0 after
        ``--help``.
    """
    import hydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    conf = conf_dir()
    check_command_line(sys.argv[1:], conf)
    run = hydra.main(config_path=str(conf), config_name="config", version_base="1.3")(_app)
    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        run()  # the user asked for Hydra's full tracebacks
        return
    # Hydra re-raises its errors under HYDRA_FULL_ERROR=1 (otherwise it prints a traceback and exits 1)
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        run()
    except (HydraException, OmegaConfBaseException) as exc:
        _fail(_hydra_message(exc))
    finally:
        os.environ.pop("HYDRA_FULL_ERROR", None)


if __name__ == "__main__":
    sys.exit(main())
