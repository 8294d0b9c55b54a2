"""Snakemake job: simulate every seed of one run as one vmapped batch and store the signals."""

from jaxfne.pipeline.stages import main_script, simulate_stage

main_script(snakemake, simulate_stage, snakemake.input.config, snakemake.output.store,
            inputs=[snakemake.input.construct], rule=snakemake.rule)
