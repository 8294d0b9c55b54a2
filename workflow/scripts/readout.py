"""Snakemake job: compute the readouts of one run from its simulation store."""

from jaxfne.pipeline.stages import main_script, readout_stage

main_script(snakemake, readout_stage, snakemake.input.config, snakemake.input.sim, snakemake.output.store,
            rule=snakemake.rule)
