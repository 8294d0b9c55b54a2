# A run's products, from its simulation store opened once in one job: every readout (dims seed x
# metric) and the figures of one seed (raster, laminar LFP/CSD image, EEG/MEG traces).


rule readout:
    input:
        config=f"{RESULTS}/runs/{{run}}/config.yaml",
        sim=f"{RESULTS}/runs/{{run}}/sim.zarr",
    output:
        store=directory(f"{RESULTS}/runs/{{run}}/readout.zarr"),
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
        f"{RESULTS}/logs/readout/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/readout/{{run}}.tsv"
    threads: 1
    resources:
        mem_mb=run_mem_mb,
        runtime=10,
    conda:
        "../envs/jaxfne.yaml"
    script:
        "../scripts/readout.py"
