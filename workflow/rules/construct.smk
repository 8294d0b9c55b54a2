# The model's static structure: cell table, connectivity summary and laminar geometry.


rule construct:
    input:
        config=f"{RESULTS}/runs/{{run}}/config.yaml",
    output:
        store=directory(f"{RESULTS}/runs/{{run}}/construct.zarr"),
    log:
        f"{RESULTS}/logs/construct/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/construct/{{run}}.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    conda:
        "../envs/jaxfne.yaml"
    script:
        "../scripts/construct.py"
