"""Provenance of a store: what was run, with which software, on what, from which inputs.

Every store carries flat attrs (strings, numbers, booleans; nested values as JSON strings whose name ends
in ``_json``) so that they survive zarr, netCDF and any JSON reader:

============================  ===================================================================
``prov_config_json``          the resolved :class:`jaxfne.Configuration` as canonical JSON
``prov_config_sha256``        its sha256 (``Configuration.sha256``)
``prov_seeds_json``           the seed(s) simulated (a JSON list)
``prov_run_id``               the workflow's run id (readable axes + 12 hex characters of a hash)
``prov_stage``                the stage (``construct``, ``simulate``, ``readout``, ``aggregate``)
``prov_rule``                 the Snakemake rule, or ``python -m jaxfne`` / a function name
``prov_jaxfne_version``       ``jaxfne.__version__``
``prov_git_commit``           commit of the source tree jaxfne was imported from ("unknown" if none)
``prov_git_dirty``            whether tracked files differ from that commit
``prov_versions_json``        versions of jax, jaxlib, numpy, scipy, pandas, xarray, zarr, numcodecs,
                              snakemake, hydra-core, omegaconf
``prov_python``               Python version
``prov_host``                 host name
``prov_device``               JAX default device, e.g. ``cpu:0 (cpu)``
``prov_dtype``                floating-point type of the state
``prov_wall_time_s``          wall time of the stage, s
``prov_created_utc``          ISO 8601 time the store was made
``prov_inputs_json``          ``{path: sha256}`` of the input files and stores (:func:`hash_path`;
                              a store is checked against its chunk manifest first)
============================  ===================================================================

Besides these, the CF/NUG global attrs ``Conventions``, ``title``, ``source`` and ``history``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import socket
import subprocess
import sys
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from .manifest import MANIFEST, manifest_tree_hash, verify_store

__all__ = ["collect", "flat_attrs", "hash_path", "package_versions", "git_state", "config_from_attrs"]

PACKAGES = ("jax", "jaxlib", "numpy", "scipy", "pandas", "xarray", "zarr", "numcodecs",
            "snakemake", "hydra-core", "omegaconf")


def package_versions(packages: Iterable[str] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` (``"not installed"`` for a missing one)."""
    out = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@lru_cache(maxsize=4)
def git_state(path: str | None = None) -> tuple[str, bool]:
    """``(commit, dirty)`` of the git work tree holding ``path`` (default: the jaxfne sources).

    ``commit`` is ``"unknown"`` outside a work tree or before the first commit; ``dirty`` says whether
    tracked files differ from the commit (untracked files do not count).
    """
    where = Path(path) if path else Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "--verify", "-q", "HEAD"],
            capture_output=True, text=True, timeout=10,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown", False
    if status.returncode != 0:
        return "unknown", False
    return (commit or "unknown"), bool(status.stdout.strip())


def hash_path(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes, or of a directory tree (sorted relative paths and file bytes).

    A zarr store with a chunk manifest (one written by :func:`jaxfne.io.store.write_store`) is
    verified first (:func:`jaxfne.io.manifest.verify_store`), and its tree hash is computed from the
    verified digests: the same value, one pass over the bytes, and a damaged input store raises
    :class:`~jaxfne.io.errors.StoreError` instead of being recorded with a hash of its damage.
    """
    p = Path(path)
    h = hashlib.sha256()
    if p.is_file():
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(2**20), b""):
                h.update(block)
        return h.hexdigest()
    if not p.is_dir():
        raise FileNotFoundError(f"path={str(p)!r} is not allowed: an existing file or directory to hash")
    if (p / MANIFEST).is_file() and (p / "zarr.json").is_file():
        files = verify_store(p)["files"]
        return manifest_tree_hash(files, [(MANIFEST, hash_path(p / MANIFEST))])
    for f in sorted(q for q in p.rglob("*") if q.is_file()):
        h.update(f.relative_to(p).as_posix().encode())
        h.update(b"\0")
        h.update(hash_path(f).encode())
    return h.hexdigest()


def _device() -> str:
    """The first JAX device, for a stage that computed with JAX; a stage that never imported JAX (the
    aggregate of readouts) records that instead of importing it."""
    if "jax" not in sys.modules:
        return "none (the stage did not use JAX)"
    try:
        import jax

        d = jax.devices()[0]
        return f"{d} ({d.platform}, {getattr(d, 'device_kind', d.platform)})"
    except Exception as exc:  # no backend at all is still worth recording
        return f"unavailable ({type(exc).__name__})"


def _plain(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def flat_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Make attrs flat and JSON-safe: nested values become JSON strings, numpy scalars Python ones."""
    out: dict[str, Any] = {}
    for k, v in attrs.items():
        if hasattr(v, "tolist") and not isinstance(v, (str, bytes)):
            v = v.tolist()
        if v is None:
            out[k] = "none"
        elif isinstance(v, (str, bool, int, float)):
            out[k] = v
        else:
            key = k if k.endswith("_json") else f"{k}_json"
            out[key] = json.dumps(v, sort_keys=True, separators=(",", ":"), allow_nan=True, default=_plain)
    return out


def collect(
    *,
    stage: str,
    config: Mapping[str, Any] | None = None,
    config_sha256: str | None = None,
    seeds: Iterable[int] = (),
    run_id: str = "",
    rule: str = "",
    inputs: Iterable[str | os.PathLike] = (),
    wall_time_s: float | None = None,
    dtype: str | None = None,
    title: str = "",
) -> dict[str, Any]:
    """Provenance attrs for a store (flat, JSON-safe).

    Parameters
    ----------
    stage : str
        Stage that made the store.
    config : dict, optional
        The resolved configuration (``Configuration.to_dict()``).
    config_sha256 : str, optional
        Its hash; required when ``config`` is given.
    seeds : iterable of int
        Seed(s) of the noise simulated (the network instance's seed, ``runtime.network_seed`` of the
        configuration, is recorded as ``prov_network_seed``).
    run_id, rule : str
        Workflow run id and rule (or entry point) name.
    inputs : iterable of path-like
        Files and stores the stage read; each is hashed with :func:`hash_path`.
    wall_time_s : float, optional
        Wall time of the stage, s.
    dtype : str, optional
        Floating-point type (default: the configuration's ``runtime.dtype``).
    title : str
        CF ``title`` attribute.
    """
    from .. import __version__

    commit, dirty = git_state()
    if dtype is None and config is not None:
        dtype = config.get("runtime", {}).get("dtype")
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    attrs: dict[str, Any] = {
        "Conventions": "CF-1.11",
        "title": title or f"jaxfne {stage}",
        "source": f"jaxfne {__version__}",
        "history": f"{now} {stage} ({rule or 'jaxfne'})",
        "prov_stage": stage,
        "prov_rule": rule,
        "prov_run_id": run_id,
        "prov_seeds_json": [int(s) for s in seeds],
        "prov_jaxfne_version": __version__,
        "prov_git_commit": commit,
        "prov_git_dirty": dirty,
        "prov_versions_json": package_versions(),
        "prov_python": platform.python_version(),
        "prov_host": socket.gethostname(),
        "prov_device": _device(),
        "prov_dtype": dtype or "n/a",
        "prov_created_utc": now,
        "prov_inputs_json": {str(p): hash_path(p) for p in inputs},
    }
    if config is not None:
        # the seed of the network instance; prov_seeds_json are the seeds of the noise
        attrs["prov_network_seed"] = int(config.get("runtime", {}).get("network_seed", 0))
        if not config_sha256:
            raise ValueError("config_sha256=None is not allowed: the configuration's sha256 with its config")
        attrs["prov_config_json"] = json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=True)
        attrs["prov_config_sha256"] = config_sha256
    if wall_time_s is not None:
        attrs["prov_wall_time_s"] = float(wall_time_s)
    return flat_attrs(attrs)


def config_from_attrs(attrs: Mapping[str, Any]) -> tuple[dict, list[int]]:
    """The configuration dict and the seeds recorded in a store's attrs.

    Raises
    ------
    ValueError
        If the store carries no configuration (``prov_config_json``).
    """
    if "prov_config_json" not in attrs:
        raise ValueError(
            "attrs['prov_config_json'] is missing: a store written by a jaxfne stage that ran a configuration"
        )
    seeds = json.loads(attrs.get("prov_seeds_json", "[]"))
    return json.loads(attrs["prov_config_json"]), [int(s) for s in seeds]
