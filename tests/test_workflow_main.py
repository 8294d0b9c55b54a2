"""``python -m jaxfne``: one Hydra-composed run, stored as the workflow stores it, and nothing else."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

import jaxfne
from jaxfne.io.store import open_store
from jaxfne.pipeline.compose import compose_overrides, read_run_config
from jaxfne.pipeline.hydra_to_config import to_configuration
from workflow_helpers import REPO, env

OVERRIDES = ["emitter=izhikevich/tonic_spiking", "runtime.seed=3", "runtime.duration_ms=60", "column.n=12"]


def test_python_m_jaxfne_writes_the_store_and_no_stray_files(tmp_path):
    out = tmp_path / "runs"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    cmd = [sys.executable, "-m", "jaxfne", *OVERRIDES, f"out_dir={out}"]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env(), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list(cwd.iterdir()) == [], "Hydra left files in the working directory"
    (folder,) = list(out.iterdir())
    assert folder.name.startswith("tonic_spiking__3__60__12__")
    store = folder / "sim.zarr"
    assert proc.stdout.strip().endswith(str(store))
    ds = open_store(store)
    composed = compose_overrides(REPO / "conf", [OVERRIDES])[0]
    cfg = to_configuration(composed)
    assert ds.attrs["prov_config_sha256"] == cfg.sha256
    assert ds.attrs["prov_rule"] == "python -m jaxfne" and json.loads(ds.attrs["prov_seeds_json"]) == [3]
    assert cfg.emitter_spec["preset"] == "tonic_spiking"
    run = read_run_config(folder / "config.yaml")
    assert run.config == cfg.to_dict() and run.seeds == [3]
    # tonic_spiking's published step (0.25 ms, runtime.dt_ms not given) over the 60 ms asked for, in
    # the published loop t = 0:tau:T: 60 / 0.25 + 1 steps
    assert cfg.runtime_spec["dt_ms"] == 0.25
    assert ds["spikes"].shape == (1, 241, 12) and ds["spikes"].values.sum() > 0
    assert ds["V_m"].attrs["units"] == "mV" and np.isfinite(ds["V_m"].values).all()
    # the same command again finds the run already stored
    again = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env(), timeout=300)
    assert again.returncode == 0 and "nothing to do" in again.stdout + again.stderr
    assert jaxfne.Configuration.from_dict(json.loads(ds.attrs["prov_config_json"])) == cfg


def test_python_m_jaxfne_config_error_names_the_field(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "jaxfne", "runtime.dt_ms=-1", f"out_dir={tmp_path}"],
                          cwd=tmp_path, capture_output=True, text=True, env=env(), timeout=300)
    assert proc.returncode != 0
    assert "runtime.dt_ms" in proc.stderr
    assert not any(tmp_path.iterdir())


def test_python_m_jaxfne_runs_an_iaf_psc_exp_column(tmp_path):
    """The iaf_psc_exp group composes and runs; the store says which family and kernel made it."""
    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "jaxfne", "emitter=iaf_psc_exp/potjans_diesmann_2014", "runtime=short",
           "column.n=60", "runtime.network_seed=2", f"out_dir={out}"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=env(), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ds = open_store(next(out.iterdir()) / "sim.zarr")
    assert ds.attrs["family"] == "iaf_psc_exp" and ds.attrs["scheme"] == "exact"
    assert ds.attrs["propagation"] == "dense"  # 60 neurons: the differentiable kernel
    assert ds.attrs["prov_network_seed"] == 2
    assert ds["V_m"].attrs["units"] == "mV" and float(ds["V_m"].max()) < -50.0  # at most V_th, sampled after reset
    assert ds["source"].dims[-1] == "location"
