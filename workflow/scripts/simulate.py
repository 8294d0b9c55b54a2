"""Snakemake job: write one run's config.yaml, construct its model once and simulate every seed."""

from jaxfne.pipeline.stages import main_script, run_stage

main_script(snakemake, run_stage, snakemake.params.run, snakemake.output.config, snakemake.output.construct,
            snakemake.output.store, rule=snakemake.rule)
