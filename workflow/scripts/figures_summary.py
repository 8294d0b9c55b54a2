"""Snakemake job: readouts across the sweep, mean and every seed."""

from jaxfne.pipeline.stages import main_script, summary_figure_stage

main_script(snakemake, summary_figure_stage, snakemake.input.store, snakemake.output.png)
