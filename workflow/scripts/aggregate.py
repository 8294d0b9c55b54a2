"""Snakemake job: one Dataset and CSV over the whole sweep, plus the run table."""

from jaxfne.pipeline.stages import aggregate_stage, main_script

main_script(snakemake, aggregate_stage, list(snakemake.input.configs), list(snakemake.input.stores),
            snakemake.output.store, snakemake.output.csv, snakemake.output.runs, rule=snakemake.rule)
