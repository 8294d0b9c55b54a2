"""Snakemake job: store the model of one run (cell table, connectivity summary, geometry)."""

from jaxfne.pipeline.stages import construct_stage, main_script

main_script(snakemake, construct_stage, snakemake.input.config, snakemake.output.store, rule=snakemake.rule)
