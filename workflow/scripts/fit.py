"""Snakemake job: fit one run's configuration to the study's targets; store and draw the fit."""

from jaxfne.pipeline.fit_stage import fit_stage
from jaxfne.pipeline.stages import main_script

main_script(snakemake, fit_stage, snakemake.input.config, snakemake.output.store, snakemake.output.figure,
            spec=snakemake.params.spec, rule=snakemake.rule)
