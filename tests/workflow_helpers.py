"""Helpers of the workflow tests: run the real Snakemake CLI on the project's Snakefile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import xarray as xr

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"


def snakemake_cmd(workdir: Path, *args: str, study: str = "tiny", jax_cache: Path | None = None,
                  cores: int = 2) -> list[str]:
    """The command line of ``snakemake`` on the project's Snakefile in ``workdir``."""
    config = [f"study={study}"]
    if jax_cache is not None:
        config.append(f"jax_cache={jax_cache}")
    return [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "-d", str(workdir), "--cores", str(cores),
            "--config", *config, *args]


def env() -> dict[str, str]:
    """The test process's environment without a JAX cache setting (the workflow chooses its own)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    e["PYTHONUNBUFFERED"] = "1"
    return e


def run_snakemake(workdir: Path, *args: str, study: str = "tiny", jax_cache: Path | None = None,
                  timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``snakemake`` to completion; raise with its output when ``check`` and it fails."""
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(snakemake_cmd(workdir, *args, study=study, jax_cache=jax_cache), cwd=workdir,
                          capture_output=True, text=True, timeout=timeout, env=env())
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n"
                             f"{proc.stderr[-8000:]}")
    return proc


def stores(root: Path) -> list[Path]:
    """Every zarr store under ``root`` (sorted, relative paths comparable between two roots)."""
    return sorted(p for p in root.rglob("*.zarr") if p.is_dir() and not p.name.startswith("."))


def assert_same_arrays(a: xr.Dataset, b: xr.Dataset, where: str = "") -> None:
    """Every data variable and coordinate of ``a`` and ``b`` is bitwise equal (NaN == NaN)."""
    assert set(a.variables) == set(b.variables), where
    for name in a.variables:
        x, y = np.asarray(a[name].values), np.asarray(b[name].values)
        assert x.shape == y.shape, f"{where}:{name}"
        if x.dtype.kind in "fiub":
            np.testing.assert_array_equal(x, y, err_msg=f"{where}:{name}")
        else:
            assert [str(v) for v in x.ravel().tolist()] == [str(v) for v in y.ravel().tolist()], f"{where}:{name}"
