"""Snakemake job: the readouts and the figures of one run, from its simulation store."""

from jaxfne.pipeline.stages import main_script, products_stage

window = snakemake.params.t_window_ms
main_script(snakemake, products_stage, snakemake.input.config, snakemake.input.sim, snakemake.output.store,
            snakemake.output.raster, snakemake.output.laminar, snakemake.output.eeg_meg,
            seed_index=int(snakemake.params.seed_index),
            t_window_ms=None if window is None else [float(t) for t in window], rule=snakemake.rule)
