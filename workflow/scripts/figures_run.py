"""Snakemake job: raster, laminar LFP/CSD image and EEG/MEG traces of one run."""

from jaxfne.pipeline.stages import figures_stage, main_script

window = snakemake.params.t_window_ms
main_script(snakemake, figures_stage, snakemake.input.config, snakemake.input.sim, snakemake.output.raster,
            snakemake.output.laminar, snakemake.output.eeg_meg, seed_index=int(snakemake.params.seed_index),
            t_window_ms=None if window is None else [float(t) for t in window])
