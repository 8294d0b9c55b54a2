# jaxfne, the study in config["study"]: runs composed at DAG build; per run one simulate job (config.yaml,
# construct.zarr, sim.zarr) and one readout job (readout.zarr and the run's figures); one aggregate job
# (the sweep's store, tables and summary figure); with a `fit` in the study, one fit job per run.
#   snakemake --cores 8                       # the default study (conf/study/default.yaml)
#   snakemake --cores 2 --config study=tiny   # another study
#   snakemake --workflow-profile workflow/profiles/slurm --config study=tiny
import os
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


# Every job imports the jaxfne of this checkout and shares one persistent JAX compilation cache, so
# only the first job of a given shape compiles (local jobs and SLURM jobs inherit the environment).
os.environ.update(PYTHONPATH=os.pathsep.join(p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p))
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(JAX_CACHE))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
# A GPU job takes the device memory it needs, not 75 % of it up front, so several jobs can share a device.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")


include: "workflow/rules/simulate.smk"
include: "workflow/rules/readout.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/fit.smk"


rule all:
    input:
        all_targets(),
    default_target: True


onsuccess:
    print(
        f"jaxfne: study {STUDY} is complete. Figures: {RESULTS / 'figures'} (summary.png, and raster.png, "
        f"laminar.png, eeg_meg.png per run); readouts: {RESULTS / 'aggregate' / 'readouts.csv'}; "
        f"stores: {RESULTS / 'runs'}"
    )
