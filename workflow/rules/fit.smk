# A study with a `fit` mapping: every run's configuration fitted by gradient descent to the study's
# targets, in a job of its own (jaxfne.pipeline.fit_stage).


rule fit:
    input:
        config=f"{RESULTS}/runs/{{run}}/config.yaml",
    output:
        store=directory(f"{RESULTS}/runs/{{run}}/fit.zarr"),
        figure=report(
            f"{RESULTS}/figures/{{run}}/fit.png",
            caption="../report/fit.rst",
            category="Runs",
            subcategory="{run}",
        ),
    params:
        # the rerun trigger: a changed fit specification fits again
        spec=FIT,
    log:
        f"{RESULTS}/logs/fit/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/fit/{{run}}.tsv"
    threads: 1
    resources:
        mem_mb=run_mem_mb,
        runtime=120,
        gpu=GPUS_PER_RUN,
    conda:
        "../envs/jaxfne.yaml"
    script:
        "../scripts/fit.py"
