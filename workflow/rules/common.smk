# Configuration, the study's runs and the target lists. Runs are composed here, at DAG-build time,
# with Hydra's compose API (memoized under .snakemake/hydra-runs/); job processes never touch Hydra.
import os
from pathlib import Path

from snakemake.utils import validate

from jaxfne.pipeline.compose import expand_study, fit_spec, load_study, study_path

validate(config, "../schemas/config.schema.yaml", set_default=True)

CONF_DIR = Path(config["conf_dir"] or Path(workflow.basedir) / "conf").resolve()
RUNS = {
    run.run_id: run
    for run in expand_study(
        config["study"],
        CONF_DIR,
        schema=Path(workflow.basedir) / "workflow" / "schemas" / "study.schema.yaml",
        cache_dir=Path(".snakemake") / "hydra-runs",
    )
}
for _run in RUNS.values():
    validate(_run.to_dict(), "../schemas/run.schema.yaml")
STUDY = next(iter(RUNS.values())).study
STUDY_FILE = load_study(study_path(CONF_DIR, config["study"]))
FIT = fit_spec(STUDY_FILE, study_path(CONF_DIR, config["study"]))
FIGURES = STUDY_FILE.get("figures", {})
GPUS_PER_RUN = int((STUDY_FILE.get("resources") or {}).get("gpu", 0))
RESULTS = Path(config["results"]) / STUDY
JAX_CACHE = Path(config["jax_cache"] or Path(config["results"]) / ".jax_cache").resolve()


wildcard_constraints:
    run=r"[A-Za-z0-9._+-]+__[0-9a-f]{12}",


def run_mem_mb(wildcards, attempt):
    """Memory for one simulate job: the recorded arrays of all seeds and the synapse table of
    population-pair projections (32 B per synapse while it is built), doubled per retry."""
    run = RUNS[wildcards.run]
    rt = run.config["runtime"]
    opts = run.config.get("probes", {}).get("options", {})
    steps = int(rt["duration_ms"] / rt["dt_ms"]) // int(opts.get("record_every") or 1)
    neurons = sum(c["n"] for c in run.config["columns"])
    sampled = neurons if opts.get("record_neurons") is None else len(opts["record_neurons"])
    recorded = 4 * steps * (neurons / 4 + 2 * sampled) * len(run.seeds) / 2**20
    projections = (run.config.get("connectivity") or {}).get("projections") or {}
    table = 32 * sum(float(p.get("N_syn") or 0) for p in projections.values()) / 2**20
    return int((1500 + 4 * recorded + table) * attempt)


def per_run(pattern):
    """``pattern`` formatted for every run of the study."""
    return [pattern.format(run=r) for r in RUNS]


def all_targets():
    """The study's final outputs: the sweep store and tables, and every figure."""
    return [
        RESULTS / "aggregate" / "readouts.zarr",
        RESULTS / "aggregate" / "readouts.csv",
        RESULTS / "aggregate" / "runs.csv",
        RESULTS / "figures" / "summary.png",
        *per_run(f"{RESULTS}/figures/{{run}}/raster.png"),
        *per_run(f"{RESULTS}/figures/{{run}}/laminar.png"),
        *per_run(f"{RESULTS}/figures/{{run}}/eeg_meg.png"),
        *(per_run(f"{RESULTS}/runs/{{run}}/fit.zarr") if FIT else []),
        *(per_run(f"{RESULTS}/figures/{{run}}/fit.png") if FIT else []),
    ]
