# One Dataset over the whole sweep (seed x axes x metric), a long CSV and the run table.


rule aggregate:
    input:
        configs=per_run(f"{RESULTS}/runs/{{run}}/config.yaml"),
        stores=per_run(f"{RESULTS}/runs/{{run}}/readout.zarr"),
    output:
        store=directory(f"{RESULTS}/aggregate/readouts.zarr"),
        csv=f"{RESULTS}/aggregate/readouts.csv",
        runs=f"{RESULTS}/aggregate/runs.csv",
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
