# One job per run: materialise the run's composed configuration, construct its model once (its cell
# table, connectivity summary and geometry stored as construct.zarr) and simulate all seeds as one
# vmapped batch. Later stages read only these files; none constructs the model again.


rule simulate:
    output:
        config=f"{RESULTS}/runs/{{run}}/config.yaml",
        construct=directory(f"{RESULTS}/runs/{{run}}/construct.zarr"),
        store=directory(f"{RESULTS}/runs/{{run}}/sim.zarr"),
    params:
        # the rerun trigger: a run whose resolved configuration changes is simulated again
        run=lambda wildcards: RUNS[wildcards.run].to_dict(),
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
