# Figures: per run (one seed) raster, laminar LFP/CSD image and EEG/MEG traces; readouts across the sweep.


rule figures_run:
    input:
        config=f"{RESULTS}/runs/{{run}}/config.yaml",
        sim=f"{RESULTS}/runs/{{run}}/sim.zarr",
    output:
        raster=report(
            f"{RESULTS}/figures/{{run}}/raster.png",
            caption="../report/raster.rst",
            category="Runs",
            subcategory="{run}",
        ),
        laminar=report(
            f"{RESULTS}/figures/{{run}}/laminar.png",
            caption="../report/laminar.rst",
            category="Runs",
            subcategory="{run}",
        ),
        eeg_meg=report(
            f"{RESULTS}/figures/{{run}}/eeg_meg.png",
            caption="../report/eeg_meg.rst",
            category="Runs",
            subcategory="{run}",
        ),
    params:
        seed_index=FIGURES.get("seed_index", 0),
        t_window_ms=FIGURES.get("t_window_ms"),
    log:
        f"{RESULTS}/logs/figures/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/{{run}}.tsv"
    threads: 1
    resources:
        mem_mb=run_mem_mb,
        runtime=10,
    conda:
        "../envs/jaxfne.yaml"
    script:
        "../scripts/figures_run.py"


rule figures_summary:
    input:
        store=f"{RESULTS}/aggregate/readouts.zarr",
    output:
        png=report(
            f"{RESULTS}/figures/summary.png",
            caption="../report/summary.rst",
            category="Study",
        ),
    log:
        f"{RESULTS}/logs/figures/summary.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/summary.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/jaxfne.yaml"
    script:
        "../scripts/figures_summary.py"
