# One Dataset over the whole sweep (seed x axes x metric), a long CSV, the run table and the figure
# of the readouts across the sweep, in one job.


rule aggregate:
    input:
        configs=per_run(f"{RESULTS}/runs/{{run}}/config.yaml"),
        stores=per_run(f"{RESULTS}/runs/{{run}}/readout.zarr"),
    output:
        store=directory(f"{RESULTS}/aggregate/readouts.zarr"),
        csv=f"{RESULTS}/aggregate/readouts.csv",
        runs=f"{RESULTS}/aggregate/runs.csv",
        summary=report(
            f"{RESULTS}/figures/summary.png",
            caption="../report/summary.rst",
            category="Study",
        ),
    params:
        # the study's definition, recorded with its hash in the aggregate store
        study=STUDY_FILE,
    log:
        f"{RESULTS}/logs/aggregate.log",
    benchmark:
        f"{RESULTS}/benchmarks/aggregate.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/jaxfne.yaml"
    script:
        "../scripts/aggregate.py"
