# Every readout of the run (dims seed x metric), computed from the simulation store.


rule readout:
    input:
        config=f"{RESULTS}/runs/{{run}}/config.yaml",
        sim=f"{RESULTS}/runs/{{run}}/sim.zarr",
    output:
        store=directory(f"{RESULTS}/runs/{{run}}/readout.zarr"),
    log:
        f"{RESULTS}/logs/readout/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/readout/{{run}}.tsv"
    threads: 1
    resources:
        mem_mb=run_mem_mb,
        runtime=10,
    conda:
        "../envs/jaxfne.yaml"
    script:
        "../scripts/readout.py"
