# Materialize each run's composed configuration beside its outputs. Later stages read only this file.


rule materialize_config:
    output:
        f"{RESULTS}/runs/{{run}}/config.yaml",
    params:
        sha256=run_sha256,
    log:
        f"{RESULTS}/logs/materialize_config/{{run}}.log",
    localrule: True
    run:
        from jaxfne.pipeline.compose import write_run_config

        write_run_config(RUNS[wildcards.run], output[0])
