# Configuration, the study's runs and the target lists. Runs are composed here, at DAG-build time,
# with Hydra's compose API (memoized under .snakemake/hydra-runs/); job processes never touch Hydra.
import os
from pathlib import Path

from snakemake.utils import validate

from jaxfne.pipeline.compose import expand_study, load_study, study_path

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
FIGURES = load_study(study_path(CONF_DIR, config["study"])).get("figures", {})
RESULTS = Path(config["results"]) / STUDY
JAX_CACHE = Path(config["jax_cache"] or Path(config["results"]) / ".jax_cache").resolve()


wildcard_constraints:
    run=r"[A-Za-z0-9._+-]+__[0-9a-f]{12}",


def run_sha256(wildcards):
    """The rerun trigger of a run's config.yaml: the hash of its resolved configuration."""
    return RUNS[wildcards.run].sha256


def run_mem_mb(wildcards, attempt):
    """Memory for one simulate job: the recorded arrays of all seeds, doubled per retry."""
    run = RUNS[wildcards.run]
    rt = run.config["runtime"]
    steps = int(rt["duration_ms"] / rt["dt_ms"])
    neurons = sum(c["n"] for c in run.config["columns"])
    recorded = 4 * steps * neurons * 3 * len(run.seeds) / 2**20
    return int((1500 + 4 * recorded) * attempt)


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
    ]
