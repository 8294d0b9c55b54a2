"""Snakemake job: one Dataset and CSV over the whole sweep, the run table and the summary figure."""

from jaxfne.pipeline.stages import main_script, study_stage

main_script(snakemake, study_stage, list(snakemake.input.configs), list(snakemake.input.stores),
            snakemake.output.store, snakemake.output.csv, snakemake.output.runs, snakemake.output.summary,
            study=snakemake.params.study, rule=snakemake.rule)
