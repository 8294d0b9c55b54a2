"""The tiny study through a real one-node SLURM cluster on loopback (``pytest -m slurm``).

Installs Debian's slurm-wlm and munge when they are missing (root and apt-get needed), writes
``/etc/slurm/slurm.conf`` for one node on 127.0.0.1 (only when there is none; it is removed again;
``srun`` inside a batch job reads that path, not ``SLURM_CONF``), keeps the cluster's state and logs in
the test's temporary folder, starts munged, slurmctld and slurmd, runs the study with
``--workflow-profile workflow/profiles/slurm`` and stops the daemons it started, by process id. It
needs snakemake-executor-plugin-slurm (the ``slurm`` extra).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from jaxfne.io.store import open_store
from workflow_helpers import REPO, env, snakemake_cmd, stores

pytestmark = [pytest.mark.slurm]

PACKAGES = ["slurm-wlm", "munge", "slurm-client"]


def _require_tools() -> None:
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm is not installed (pip install 'jaxfne[slurm]')")
    if shutil.which("slurmctld") and shutil.which("munged") and shutil.which("sbatch"):
        return
    if os.geteuid() != 0:
        pytest.skip("slurm-wlm/munge are missing and installing them needs root")
    if shutil.which("apt-get") is None:
        pytest.skip("slurm-wlm/munge are missing and apt-get is not available")
    apt_env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=apt_env, timeout=900)
        if proc.returncode != 0:
            pytest.skip(f"{' '.join(cmd)} failed (no package mirror?): {proc.stderr[-500:]}")
    if not (shutil.which("slurmctld") and shutil.which("munged")):
        pytest.skip("slurm-wlm/munge installed but slurmctld/munged not found on PATH")


def _slurm_conf(state: Path) -> str:
    cpus = os.cpu_count() or 1
    mem = int(psutil.virtual_memory().total / 2**20 * 0.8)
    host = socket.gethostname().split(".")[0]
    for d in ("state", "spool", "log"):
        (state / d).mkdir(parents=True, exist_ok=True)
    return "\n".join([
        "ClusterName=jaxfnetest", f"SlurmctldHost={host}(127.0.0.1)", "AuthType=auth/munge", "SlurmUser=root",
        f"StateSaveLocation={state / 'state'}", f"SlurmdSpoolDir={state / 'spool'}",
        f"SlurmctldPidFile={state / 'slurmctld.pid'}", f"SlurmdPidFile={state / 'slurmd.pid'}",
        f"SlurmctldLogFile={state / 'log' / 'slurmctld.log'}", f"SlurmdLogFile={state / 'log' / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core_Memory", "AccountingStorageType=accounting_storage/none",
        "JobAcctGatherType=jobacct_gather/none", "MinJobAge=600", "ReturnToService=2",
        f"NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem} State=UNKNOWN",
        "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP", "",
    ])


def _start_munged(started: list[psutil.Process]) -> None:
    if any(p.info["name"] == "munged" for p in psutil.process_iter(["name"])):
        return  # someone else's munged serves us; it is not ours to stop
    run = Path("/run/munge")
    run.mkdir(parents=True, exist_ok=True)
    shutil.chown(run, "munge", "munge")
    subprocess.run(["runuser", "-u", "munge", "--", "/usr/sbin/munged"], check=True, timeout=30)
    pid = int((run / "munged.pid").read_text().strip())
    started.append(psutil.Process(pid))


def _wait_idle(senv: dict, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    state = ""
    while time.time() < deadline:
        proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=senv)
        state = proc.stdout.strip()
        if state.startswith("idle"):
            return
        time.sleep(1)
    raise AssertionError(f"the SLURM node did not become idle (state {state!r})")


def test_tiny_study_through_slurm(tmp_path):
    _require_tools()
    conf = Path("/etc/slurm/slurm.conf")
    if conf.exists():
        pytest.skip(f"{conf} exists: this machine already has a SLURM cluster, which the test leaves alone")
    state = tmp_path / "slurm"
    state.mkdir()
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(_slurm_conf(state))
    senv = env()
    started: list[psutil.Process] = []
    try:
        _start_munged(started)
        probe = subprocess.run("munge -n | unmunge", shell=True, capture_output=True, text=True)
        assert "Success" in probe.stdout, probe.stdout + probe.stderr
        ctld = subprocess.Popen(["slurmctld", "-D", "-i"], env=senv, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        started.append(psutil.Process(ctld.pid))
        time.sleep(2)
        slurmd = subprocess.Popen(["slurmd", "-D"], env=senv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(psutil.Process(slurmd.pid))
        _wait_idle(senv)

        wd = tmp_path / "study"
        wd.mkdir()
        cmd = snakemake_cmd(wd, "--workflow-profile", str(REPO / "workflow" / "profiles" / "slurm"),
                            study="tiny", jax_cache=wd / "jax_cache")
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=wd, capture_output=True, text=True, env=senv, timeout=900)
        wall = time.perf_counter() - t0
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-6000:]
        assert "SLURM" in out and "jobid" in out.lower(), out[-3000:]
        found = stores(wd / "results" / "tiny")
        assert len(found) == 2 * 3 + 1
        for s in found:
            ds = open_store(s)
            assert ds.attrs["prov_stage"] in ("construct", "simulate", "readout", "aggregate")
        agg = open_store(wd / "results" / "tiny" / "aggregate" / "readouts.zarr")
        assert agg["value"].dims == ("seed", "preset", "layout", "metric")
        assert len(list((wd / "results" / "tiny" / "figures").rglob("*.png"))) == 7
        print(f"tiny study through SLURM: {wall:.0f} s")
    finally:
        for p in reversed(started):
            try:
                children = p.children(recursive=True)
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
                for c in children:
                    if c.is_running():
                        c.send_signal(signal.SIGTERM)
            except psutil.NoSuchProcess:
                pass
            except psutil.TimeoutExpired:
                p.kill()
        conf.unlink()
