# All seeds of one configuration, simulated as one vmapped batch in one job.


rule simulate:
    input:
        config=f"{RESULTS}/runs/{{run}}/config.yaml",
        construct=f"{RESULTS}/runs/{{run}}/construct.zarr",
    output:
        store=directory(f"{RESULTS}/runs/{{run}}/sim.zarr"),
    log:
        f"{RESULTS}/logs/simulate/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/simulate/{{run}}.tsv"
    threads: 1
    resources:
        mem_mb=run_mem_mb,
        runtime=30,
        gpu=GPUS_PER_RUN,
    conda:
        "../envs/jaxfne.yaml"
    script:
        "../scripts/simulate.py"
