"""The ``jaxfne`` command (and ``python -m jaxfne``): its help, its one-line errors, its multirun, and the
documented command that writes the workflow's report under results/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from workflow_helpers import REPO, env, run_snakemake

from jaxfne.io.store import open_store
from jaxfne.pipeline.compose import compose_overrides
from jaxfne.pipeline.hydra_to_config import to_configuration

CONF = REPO / "conf"
COMMANDS = {"python -m jaxfne": [sys.executable, "-m", "jaxfne"],
            "jaxfne": [str(Path(sys.executable).parent / "jaxfne")]}  # the console script of this environment


def _run(args: list[str], cwd: Path, command: str = "python -m jaxfne", extra_env: dict | None = None,
         timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMANDS[command], *args], cwd=cwd, capture_output=True, text=True,
                          env={**env(), **(extra_env or {})}, timeout=timeout, check=False)


def _group_lines() -> list[str]:
    """``group: option, option`` for every folder of conf/ that holds options, as Hydra lists them."""
    lines = []
    for folder in sorted(p for p in CONF.rglob("*") if p.is_dir()):
        options = sorted(p.stem for p in folder.glob("*.yaml"))
        if options:
            lines.append(f"{folder.relative_to(CONF).as_posix()}: {', '.join(options)}")
    return lines


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_says_what_the_command_does_where_outputs_go_and_lists_the_groups(tmp_path, command):
    proc = _run(["--help"], tmp_path, command)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.startswith("jaxfne: simulate one configuration composed from the groups below")
    assert "<out_dir>/<run_id>/config.yaml" in text and "<out_dir>/<run_id>/sim.zarr" in text
    assert "out_dir defaults to results/interactive" in text
    assert "results/multirun/<date>_<time>/multirun.yaml" in text
    groups = _group_lines()
    assert "runtime: default, short" in groups and any(g.startswith("emitter/izhikevich: ") for g in groups)
    for line in groups:
        assert line in text.splitlines(), line
    assert "Examples:" in text and "jaxfne -m runtime.seed=1,2,3 runtime=short" in text
    assert "--cfg job" in text and "--hydra-help" in text
    assert "powered by Hydra" not in text  # not Hydra's generic help
    assert list(tmp_path.iterdir()) == []


def test_hydra_help_and_cfg_job_still_work(tmp_path):
    hydra_help = _run(["--hydra-help"], tmp_path)
    assert hydra_help.returncode == 0 and "== Flags ==" in hydra_help.stdout and "--multirun" in hydra_help.stdout
    job = _run(["--cfg", "job", "runtime=short", "column.n=30"], tmp_path)
    assert job.returncode == 0, job.stderr
    printed = yaml.safe_load(job.stdout)
    assert printed == compose_overrides(CONF, [["runtime=short", "column.n=30"]])[0]
    assert printed["column"]["n"] == 30 and printed["runtime"]["duration_ms"] == 200.0
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("args", "says"), [
    (["runtime.dt_ms=-1"], ["runtime.dt_ms=-1.0 is not allowed: a number > 0"]),
    (["column.n=0"], ["column.n=0"]),
    (["runtime=nonexistent"], ["Could not find 'runtime/nonexistent'",
                               "Available options in 'runtime': default, short."]),
    (["emitter=izhikevich/nonexistent"], ["Could not find 'emitter/izhikevich/nonexistent'"]),
    (["runtime.nonexistent=1"], ["Could not override 'runtime.nonexistent'", "Key 'nonexistent' is not in struct"]),
    (["runtime.seed=[1"], ["override='runtime.seed=[1' is not allowed: Hydra override syntax"]),
    (["-m", "runtime.dt_ms=-1,-2"], ["runtime.dt_ms=-1.0 is not allowed"]),
], ids=["ConfigurationError", "ConfigurationError-column", "unknown-option", "unknown-nested-option",
        "unknown-key", "syntax", "multirun-ConfigurationError"])
def test_a_configuration_error_is_one_line_on_stderr_and_exit_status_2(tmp_path, args, says):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    out = tmp_path / "out"
    proc = _run([*args, f"out_dir={out}"], cwd)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("jaxfne: error: "), proc.stderr
    for part in says:
        assert part in lines[0]
    assert "Traceback" not in proc.stderr and "HYDRA_FULL_ERROR" not in proc.stderr
    assert proc.stdout == ""
    assert not out.exists()
    # a multirun stops before its first job writes anything but Hydra's record of the sweep
    assert [p.name for p in cwd.rglob("*") if p.is_file()] in ([], ["multirun.yaml"])


def test_hydra_full_error_set_by_the_user_keeps_hydras_traceback(tmp_path):
    proc = _run(["runtime=nonexistent"], tmp_path, extra_env={"HYDRA_FULL_ERROR": "1"})
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "MissingConfigException" in proc.stderr


def test_multirun_of_two_seeds_writes_two_stores_under_the_results_dir(tmp_path):
    cwd = tmp_path / "work"
    cwd.mkdir()
    out = tmp_path / "results" / "interactive"
    common = ["runtime=short", "runtime.duration_ms=50", "column.n=20"]
    proc = _run(["-m", *common, "runtime.seed=1,2", f"out_dir={out}"], cwd, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folders = sorted(out.iterdir())
    assert [f.name.split("__")[:4] for f in folders] == [["short", "50", "20", "1"], ["short", "50", "20", "2"]]
    printed = proc.stdout.strip().splitlines()
    assert printed == [str(f / "sim.zarr") for f in folders]
    spikes = []
    for seed, folder in zip((1, 2), folders):
        assert (folder / "config.yaml").is_file()
        ds = open_store(folder / "sim.zarr")  # verifies the manifest
        assert json.loads(ds.attrs["prov_seeds_json"]) == [seed]
        single = to_configuration(compose_overrides(CONF, [[*common, f"runtime.seed={seed}"]])[0])
        assert ds.attrs["prov_config_sha256"] == single.sha256
        assert ds["spikes"].shape == (1, 500, 20)
        spikes.append(ds["spikes"].values)
    assert spikes[0].sum() > 0 and spikes[1].sum() > 0 and not np.array_equal(spikes[0], spikes[1])
    # Hydra's only file: its record of the sweep, under results/multirun/ of the working directory
    (record,) = [p for p in cwd.rglob("*") if p.is_file()]
    assert record.name == "multirun.yaml" and record.parent.parent == cwd / "results" / "multirun"
    sweep = yaml.safe_load(record.read_text())
    assert "runtime.seed=1,2" in sweep["hydra"]["overrides"]["task"]


@pytest.mark.slow
def test_the_documented_report_command_writes_the_report_under_results(tmp_path):
    """``snakemake --report`` writes ./report.html unless given a path (its default cannot be set by a
    workflow); the README's ``snakemake --report results/report.html`` puts it under results/."""
    work = tmp_path / "wf"
    run_snakemake(work, jax_cache=tmp_path / "jax_cache")
    run_snakemake(work, "--report", "results/report.html", jax_cache=tmp_path / "jax_cache")
    report = work / "results" / "report.html"
    assert report.is_file() and report.stat().st_size > 100_000
    text = report.read_text(errors="replace")
    assert "raster.png" in text and "summary.png" in text
    assert not (work / "report.html").exists()
