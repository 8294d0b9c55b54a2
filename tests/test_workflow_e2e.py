"""The tiny study end to end with the real Snakemake CLI; every store read back with xarray."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
import yaml

from jaxfne.io.provenance import hash_path
from jaxfne.io.store import open_store, spike_events
from workflow_helpers import REPO, assert_same_arrays, env, run_snakemake, snakemake_cmd, stores

STUDY = "tiny"


@pytest.fixture(scope="session")
def jax_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("jax_cache")


@pytest.fixture(scope="module")
def study_run(tmp_path_factory, jax_cache):
    """The tiny study, run once with ``snakemake --cores 2``."""
    wd = tmp_path_factory.mktemp("study")
    t0 = time.perf_counter()
    proc = run_snakemake(wd, jax_cache=jax_cache)
    return wd, proc, time.perf_counter() - t0


def _runs(wd: Path) -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted((wd / "results" / STUDY / "runs").glob("*/config.yaml"))]


def test_every_store_reads_back_with_dims_units_and_provenance(study_run):
    wd, _, _ = study_run
    runs = _runs(wd)
    assert len(runs) == 2
    for run in runs:
        d = wd / "results" / STUDY / "runs" / run["run_id"]
        cfg_hash = hash_path(d / "config.yaml")
        sim = open_store(d / "sim.zarr")
        n = run["config"]["columns"][0]["n"]
        steps = int(round(run["config"]["runtime"]["duration_ms"] / run["config"]["runtime"]["dt_ms"]))
        assert sim["spikes"].dims == ("seed", "time", "neuron") and sim["spikes"].dtype == bool
        assert sim["spikes"].shape == (2, steps, n)
        assert list(sim["seed"].values) == [0, 1]
        for coord in ("layer", "cell_type", "neuron_column", "population", "depth_um"):
            assert sim[coord].dims == ("neuron",)
        assert {str(v) for v in sim["layer"].values.tolist()} == {"L2/3", "L4", "L5"}
        for var, unit in {"V_m": "mV", "I_syn": "pA", "LFP": "uV", "CSD": "A/m^3", "EEG": "uV", "MEG": "fT"}.items():
            assert sim[var].attrs["units"] == unit, var
            assert np.isfinite(sim[var].values).all(), var
        assert sim["spikes"].values.sum() > 0
        # the event list is the raster
        raster = sim["spikes"].values
        np.testing.assert_array_equal(sim["spike_count"].values, raster.sum(axis=1))
        k = int(np.argmax(raster[1].sum(axis=0)))
        np.testing.assert_array_equal(spike_events(sim, k, seed_index=1),
                                      sim["time"].values[np.nonzero(raster[1, :, k])[0]])
        # provenance: the configuration, its hash, the inputs' hashes, the rule
        a = sim.attrs
        assert a["prov_config_sha256"] == run["config_sha256"] and a["prov_run_id"] == run["run_id"]
        assert json.loads(a["prov_config_json"]) == json.loads(json.dumps(run["config"]))
        assert json.loads(a["prov_seeds_json"]) == [0, 1] and a["prov_rule"] == "simulate"
        inputs = json.loads(a["prov_inputs_json"])
        assert inputs[f"results/{STUDY}/runs/{run['run_id']}/config.yaml"] == cfg_hash
        assert inputs[f"results/{STUDY}/runs/{run['run_id']}/construct.zarr"] == hash_path(d / "construct.zarr")
        assert a["prov_wall_time_s"] > 0 and a["prov_dtype"] == "float32"
        con = open_store(d / "construct.zarr")
        assert con.sizes["neuron"] == n and con.attrs["prov_stage"] == "construct"
        np.testing.assert_array_equal(con["depth_um"].values, sim["depth_um"].values)
        assert con["conn_n_synapses"].values.sum() > 0
        ro = open_store(d / "readout.zarr")
        assert ro["value"].dims == ("seed", "metric")
        assert list(ro["metric"].values) == [r["name"] for r in run["readouts"]]
        # rate_all from the store equals the spike count over the run
        rate = raster.sum(axis=(1, 2)) / (n * run["config"]["runtime"]["duration_ms"] * 1e-3)
        np.testing.assert_allclose(ro["value"].sel(metric="rate_all").values, rate, rtol=1e-6)
        assert json.loads(ro.attrs["prov_inputs_json"])[f"results/{STUDY}/runs/{run['run_id']}/sim.zarr"] == \
            hash_path(d / "sim.zarr")


def test_aggregate_dataset_and_csv_match_the_readouts(study_run):
    wd, _, _ = study_run
    agg_dir = wd / "results" / STUDY / "aggregate"
    agg = open_store(agg_dir / "readouts.zarr")
    assert agg["value"].dims == ("seed", "preset", "layout", "metric")
    assert list(agg["preset"].values) == ["izhikevich/cortical_eig", "izhikevich/rs_fs"]
    assert list(agg["layout"].values) == ["three_layer"]
    csv = pd.read_csv(agg_dir / "readouts.csv")
    assert len(csv) == agg["value"].size
    for run in _runs(wd):
        ro = open_store(wd / "results" / STUDY / "runs" / run["run_id"] / "readout.zarr")
        sel = agg["value"].sel(preset=run["axes"]["preset"], layout=run["axes"]["layout"])
        np.testing.assert_array_equal(sel.transpose("seed", "metric").values, ro["value"].values)
        rows = csv[(csv["run_id"] == run["run_id"]) & (csv["metric"] == "rate_E")].sort_values("seed")
        np.testing.assert_array_equal(rows["value"].values, ro["value"].sel(metric="rate_E").values)
    runs_csv = pd.read_csv(agg_dir / "runs.csv")
    assert sorted(runs_csv["run_id"]) == sorted(r["run_id"] for r in _runs(wd))
    # the aggregate alone says which study and overrides made it
    from jaxfne.pipeline.compose import load_study, study_path, study_sha256

    study = load_study(study_path(REPO / "conf", STUDY))
    assert json.loads(agg.attrs["study_json"]) == json.loads(json.dumps(study))
    assert agg.attrs["study_sha256"] == study_sha256(study) and len(agg.attrs["study_sha256"]) == 64
    configs = json.loads(agg.attrs["runs_config_json"])
    for run in _runs(wd):
        assert configs[run["run_id"]]["config"] == json.loads(json.dumps(run["config"]))
        assert configs[run["run_id"]]["overrides"] == run["overrides"]


def test_figures_are_pngs(study_run):
    wd, proc, _ = study_run
    assert f"Figures: results/{STUDY}/figures (summary.png" in proc.stdout + proc.stderr  # Snakemake says where
    figs = sorted((wd / "results" / STUDY / "figures").rglob("*.png"))
    assert len(figs) == 2 * 3 + 1
    for f in figs:
        assert f.read_bytes()[:4] == b"\x89PNG" and f.stat().st_size > 10_000, f


def test_logs_and_benchmarks_per_job(study_run):
    wd, _, _ = study_run
    bench = sorted((wd / "results" / STUDY / "benchmarks" / "simulate").glob("*.tsv"))
    assert len(bench) == 2
    table = pd.read_csv(bench[0], sep="\t")
    assert {"s", "max_rss", "cpu_time"} <= set(table.columns) and table["s"].iloc[0] > 0
    log = next((wd / "results" / STUDY / "logs" / "simulate").glob("*.log")).read_text()
    assert "simulated in" in log


def test_second_run_has_nothing_to_do(study_run, jax_cache):
    wd, _, _ = study_run
    proc = run_snakemake(wd, jax_cache=jax_cache)
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_rerun_from_store_reproduces_arrays(study_run):
    """``python -m jaxfne.io.rerun`` rebuilds the run from the store alone and finds identical arrays."""
    wd, _, _ = study_run
    sim = next(p for p in stores(wd / "results" / STUDY / "runs") if p.name == "sim.zarr")
    proc = subprocess.run([sys.executable, "-m", "jaxfne.io.rerun", str(sim)], capture_output=True, text=True,
                          cwd=REPO, env=env(), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["identical"] and report["mismatched"] == []
    assert report["max_abs_diff"]["V_m"] == 0.0 and report["max_abs_diff"]["LFP"] == 0.0
    assert report["max_abs_diff"]["spikes"] == 0.0


@pytest.mark.parametrize("kind", ["readout", "aggregate", "construct"])
def test_rerun_of_a_store_that_simulates_nothing_says_what_it_is(study_run, kind):
    """Not a false "identical: false" nor a traceback: the kind of store and the simulation it came from."""
    wd, _, _ = study_run
    name = {"readout": "readout.zarr", "aggregate": "readouts.zarr", "construct": "construct.zarr"}[kind]
    store = next(p for p in stores(wd / "results" / STUDY) if p.name == name)
    proc = subprocess.run([sys.executable, "-m", "jaxfne.io.rerun", str(store)], capture_output=True, text=True,
                          cwd=REPO, env=env(), timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert out["kind"] == kind and "not a simulation store" in out["error"]
    if kind == "readout":
        assert len(out["rerun_instead"]) == 1 and out["rerun_instead"][0].endswith("sim.zarr")


def test_same_study_twice_gives_identical_arrays(study_run, tmp_path, jax_cache):
    wd, _, _ = study_run
    other = tmp_path / "again"
    run_snakemake(other, jax_cache=jax_cache)
    a, b = stores(wd / "results"), stores(other / "results")
    assert [p.relative_to(wd) for p in a] == [p.relative_to(other) for p in b]
    assert len(a) == 2 * 3 + 1
    for pa, pb in zip(a, b):
        assert_same_arrays(open_store(pa), open_store(pb), where=str(pa.relative_to(wd)))


def test_report_html(study_run, jax_cache):
    wd, _, _ = study_run
    run_snakemake(wd, "--report", "report.html", jax_cache=jax_cache)
    html = (wd / "report.html").read_text(errors="replace")
    assert len(html) > 100_000 and "raster.png" in html and "summary.png" in html


def test_lint_is_clean(tmp_path):
    proc = run_snakemake(tmp_path, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Congratulations" in proc.stdout + proc.stderr


def test_compose_error_stops_before_any_job(tmp_path):
    study = tmp_path / "broken.yaml"
    study.write_text("seeds: [0]\naxes:\n  layout: column=three_layer,no_such_layout\n")
    proc = run_snakemake(tmp_path, study=str(study), check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert str(study) in out and "field 'column'" in out and "no_such_layout" in out
    assert not (tmp_path / "results").exists()


def test_killed_simulate_job_leaves_no_store_and_rerun_completes(tmp_path, jax_cache, study_run):
    """SIGKILL the second run's simulate job while it simulates: it leaves no sim.zarr (and Snakemake
    removes the construct.zarr it wrote first); the next snakemake finishes the study without
    rewriting the first run's stores."""
    wd = tmp_path / "killed"
    wd.mkdir()
    cmd = snakemake_cmd(wd, "--cores", "1", study=STUDY, jax_cache=jax_cache)
    proc = subprocess.Popen(cmd, cwd=wd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env())
    runs_dir = wd / "results" / STUDY / "runs"
    victim = None
    deadline = time.time() + 300
    try:
        while victim is None and time.time() < deadline and proc.poll() is None:
            done = list(runs_dir.glob("*/sim.zarr"))
            logs = list((wd / "results" / STUDY / "logs" / "simulate").glob("*.log"))
            simulating = [g for g in logs if "simulate " in g.read_text() and (runs_dir / g.stem / "sim.zarr") not in done]
            for child in psutil.Process(proc.pid).children(recursive=True) if done and simulating else ():
                try:
                    if any("simulate.py" in part for part in child.cmdline()):
                        victim, killed_run = child, simulating[0].stem
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            time.sleep(0.02)
        assert victim is not None, "no second simulate job seen"
        victim.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0, out
    assert not (runs_dir / killed_run / "sim.zarr").exists(), "a killed job left a store at its final path"
    assert not (runs_dir / killed_run / "construct.zarr").exists(), "a failed job's outputs are removed"
    # the rerun redoes only what is missing: stores finished before the kill are not rewritten
    before = {p: p.stat().st_mtime_ns for p in stores(wd / "results")}
    assert {p.name for p in before} >= {"construct.zarr", "sim.zarr"}
    proc2 = run_snakemake(wd, "--cores", "1", jax_cache=jax_cache)
    assert "rule simulate:" in proc2.stdout + proc2.stderr
    assert {p: p.stat().st_mtime_ns for p in before} == before
    ref = study_run[0]
    for pa in stores(wd / "results"):
        assert_same_arrays(open_store(pa), open_store(ref / pa.relative_to(wd)), where=pa.name)
    assert not list((wd / "results").rglob(".*.tmp-*"))
    shutil.rmtree(wd)
