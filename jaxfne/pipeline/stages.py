"""The workflow's stages as functions: construct + simulate, readout and figures, aggregate.

Each stage reads the run's ``config.yaml`` (composed at DAG-build time and written by the simulate
job; jobs never touch Hydra) and its upstream stores, does one thing with jaxfne, and writes zarr
stores atomically (:func:`jaxfne.io.store.write_store`) with provenance attrs
(:mod:`jaxfne.io.provenance`). The Snakemake scripts in ``workflow/scripts/`` only call these
functions; a job runs the stages that read the same inputs together (:func:`products_stage`,
:func:`study_stage`), since a process's start-up and imports cost more than a small run's work.

A run's model is constructed once, in the simulate job, which stores its static description
(``construct.zarr``: cell table, connectivity summary, geometry) beside the signals. The simulation
store describes itself (:meth:`jaxfne.Signals.from_xarray`), so the readout and figure stages read
it without constructing anything. All seeds of a run are simulated in one call, as one vmapped
batch: every array of the simulation store has a leading ``seed`` dimension.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..io.provenance import collect, flat_attrs
from ..io.store import add_spike_events, open_store, write_store
from .compose import Run, read_run_config, write_run_config
from .hydra_to_config import readout_specs

__all__ = ["run_stage", "simulate_stage", "readout_stage", "products_stage", "aggregate_stage", "figures_stage",
           "summary_figure_stage", "study_stage", "simulate_run", "logged"]

log = logging.getLogger("jaxfne.pipeline")


@contextlib.contextmanager
def logged(path: str | os.PathLike | None) -> Iterator[None]:
    """Send this process's stdout, stderr and the ``jaxfne`` logger to ``path`` (appending)."""
    if not path:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", buffering=1) as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        root = logging.getLogger("jaxfne")
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield
        finally:
            root.removeHandler(handler)


def run_configuration(config: dict):
    """The :class:`Configuration` of a stored run, with 64-bit JAX switched on in this process when
    it asks for float64 (a stage's process is its own; the library never switches it on)."""
    from ..config.configuration import Configuration

    cfg = Configuration.from_dict(config)
    if cfg.runtime_spec["dtype"] == "float64":
        import jax

        jax.config.update("jax_enable_x64", True)
    return cfg


def _configuration(run: Run):
    return run_configuration(run.config)


def _prov(run: Run, stage: str, rule: str, inputs: Sequence[str | os.PathLike], wall: float) -> dict:
    return collect(stage=stage, config=run.config, config_sha256=run.config_sha256, seeds=run.seeds,
                   run_id=run.run_id, rule=rule, inputs=inputs, wall_time_s=wall,
                   title=f"jaxfne {stage} of run {run.run_id} (study {run.study})") | flat_attrs(
        {"run_axes_json": run.axes, "run_study": run.study, "run_sha256": run.sha256})


def _frame_to_dataset(df, dim: str) -> xr.Dataset:
    df = df.copy()
    for c in df.columns:
        if df[c].dtype.kind in "OUS" or str(df[c].dtype).startswith(("string", "category")):
            df[c] = df[c].astype(str).astype(object)
    if df.index.nlevels == 1:
        df.index = np.arange(len(df)) if df.index.name is None else df.index
        df.index.name = dim
    return xr.Dataset.from_dataframe(df)


def construct_dataset(model) -> xr.Dataset:
    """The static model as a Dataset: cell table (dim ``neuron``), connectivity summary, geometry."""
    cells = _frame_to_dataset(model.neuron_table(), "neuron")
    summary = model.connectivity_summary()
    if {"pre", "post"} <= set(summary.columns):
        summary = summary.set_index(["pre", "post"])
    conn = _frame_to_dataset(summary, "pair").rename({k: f"conn_{k}" for k in summary.columns})
    if "conn_n_synapses" in conn:  # pairs without synapses: 0 synapses, NaN mean weight and delay
        conn["conn_n_synapses"] = conn["conn_n_synapses"].fillna(0).astype(np.int64)
    ds = xr.merge([cells, conn], compat="no_conflicts", combine_attrs="drop")
    geom = model.geometry.to_dict()
    for key, value in geom.items():
        arr = np.asarray(value) if isinstance(value, (list, tuple)) else None
        if arr is not None and arr.dtype.kind in "if" and arr.ndim >= 1:
            dims = (f"geometry_{key}",) + tuple(
                {2: "xy", 3: "xyz"}.get(n, f"geometry_{key}_{i}") for i, n in enumerate(arr.shape[1:], 1))
            ds[f"geometry_{key}"] = (dims, arr)
    ds.attrs.update(flat_attrs({"geometry_json": geom}))
    return ds


def simulate_run(run: Run, model=None) -> tuple[xr.Dataset, float]:
    """Simulate every seed of ``run`` as one batch; return the Dataset and the wall time (s).

    ``model``: the run's constructed model, when the caller has it (else it is constructed here).
    """
    import jaxfne

    t0 = time.perf_counter()
    model = jaxfne.construct(_configuration(run)) if model is None else model
    rt = model.configuration.runtime_spec
    sig = jaxfne.simulate(model, duration_ms=rt["duration_ms"], dt_ms=rt["dt_ms"], seed=list(run.seeds))
    ds = sig.to_xarray()
    return ds, time.perf_counter() - t0


def simulate_stage(config: str | os.PathLike, out: str | os.PathLike, *,
                   construct_out: str | os.PathLike | None = None, rule: str = "simulate") -> Path:
    """Construct a run's model once, store its static description, simulate it and store the signals.

    Parameters
    ----------
    config : path-like
        The run's ``config.yaml``.
    out : path-like
        The simulation store: the Signals' Dataset (dims ``seed``, ``time``, ``neuron`` and the probe
        dims; attrs named as in memory), the spikes also as a CF ragged event list
        (:func:`jaxfne.io.store.add_spike_events`), and provenance.
    construct_out : path-like, optional
        Where to store the model's cell table, connectivity summary and geometry (the construct
        store, made from the same model that is simulated).
    rule : str
        The rule (or command) recorded in the provenance.
    """
    import jaxfne

    run = read_run_config(config)
    t0 = time.perf_counter()
    model = jaxfne.construct(_configuration(run))
    built = time.perf_counter() - t0
    log.info("construct %s: %d neurons in %.2f s", run.run_id, model.n, built)
    inputs = [config]
    if construct_out is not None:
        con = construct_dataset(model)
        con.attrs.update(_prov(run, "construct", rule, [config], built))
        inputs.append(write_store(con, construct_out, exist_ok=True))
    log.info("simulate %s: seeds %s", run.run_id, run.seeds)
    ds, wall = simulate_run(run, model)
    log.info("simulated in %.2f s; writing %s", wall, out)
    ds = add_spike_events(ds)
    ds.attrs = flat_attrs(ds.attrs) | _prov(run, "simulate", rule, inputs, wall)
    return write_store(ds, out, exist_ok=True)


def run_stage(run: Run | dict, config_out: str | os.PathLike, construct_out: str | os.PathLike,
              out: str | os.PathLike, *, rule: str = "simulate") -> Path:
    """The simulate job of the workflow: write the run's ``config.yaml``, then :func:`simulate_stage`."""
    run = run if isinstance(run, Run) else Run(**run)
    write_run_config(run, config_out)
    return simulate_stage(config_out, out, construct_out=construct_out, rule=rule)


def readout_dataset(run: Run, sim: xr.Dataset) -> xr.Dataset:
    """Every readout of the run, dims ``(seed, metric)``, from a simulation Dataset (no model built:
    the store describes itself; readouts of host arrays compile nothing)."""
    from ..readouts import compute_readout
    from ..signals import Signals

    res = compute_readout(None, Signals.from_xarray(sim), readout_specs(run.readouts)).results
    names = [r["name"] for r in run.readouts]
    values = np.array([np.atleast_1d(np.asarray(res[n], dtype=np.float64)) for n in names]).T
    return xr.Dataset(
        {"value": (("seed", "metric"), values, {"long_name": "readout value (units per metric_kind)"})},
        coords={
            "seed": ("seed", np.asarray(run.seeds, dtype=np.int64)),
            "metric": ("metric", np.array(names, dtype=object)),
            "metric_kind": ("metric", np.array([r["metric"] for r in run.readouts], dtype=object)),
        },
    )


def readout_stage(config: str | os.PathLike, sim_store: str | os.PathLike, out: str | os.PathLike, *,
                  rule: str = "readout", sim: xr.Dataset | None = None) -> Path:
    """Compute every readout of the run from its simulation store and store them (dims seed x metric).

    ``sim``: the simulation store's Dataset when the caller has opened it already.
    """
    run = read_run_config(config)
    t0 = time.perf_counter()
    ds = readout_dataset(run, open_store(sim_store) if sim is None else sim)
    ds.attrs.update(_prov(run, "readout", rule, [config, sim_store], time.perf_counter() - t0))
    return write_store(ds, out, exist_ok=True)


def products_stage(config: str | os.PathLike, sim_store: str | os.PathLike, out: str | os.PathLike,
                   raster: str | os.PathLike, laminar: str | os.PathLike, eeg_meg: str | os.PathLike, *,
                   seed_index: int = 0, t_window_ms: Sequence[float] | None = None, rule: str = "readout") -> Path:
    """A run's products from its simulation store, opened (and verified) once in one process: the
    readout store (:func:`readout_stage`) and the figures (:func:`figures_stage`)."""
    sim = open_store(sim_store)
    store = readout_stage(config, sim_store, out, rule=rule, sim=sim)
    figures_stage(config, sim_store, raster, laminar, eeg_meg, seed_index=seed_index, t_window_ms=t_window_ms,
                  sim=sim)
    return store


def aggregate_dataset(configs: Sequence[str | os.PathLike], stores: Sequence[str | os.PathLike]) -> xr.Dataset:
    """One Dataset over the whole sweep: ``value(seed, <axis 1>, ..., metric)`` and ``run_id(<axes>)``.

    Axis coordinates keep the order in which values first appear among the runs (the study's order).
    Combinations without a run, or metrics a run lacks, are NaN.
    """
    runs = [read_run_config(c) for c in configs]
    if len(runs) != len(stores) or not runs:
        raise ValueError(f"configs/stores: {len(runs)} configs and {len(stores)} stores; one store per run")
    axes = list(runs[0].axes)
    coords: dict[str, list] = {a: list(dict.fromkeys(r.axes[a] for r in runs)) for a in axes}
    seeds = list(dict.fromkeys(s for r in runs for s in r.seeds))
    data = [open_store(s) for s in stores]
    metrics = list(dict.fromkeys(str(m) for d in data for m in d["metric"].values))
    kinds = {str(m): str(k) for d in data for m, k in zip(d["metric"].values, d["metric_kind"].values)}
    shape = [len(seeds)] + [len(coords[a]) for a in axes] + [len(metrics)]
    value = np.full(shape, np.nan)
    run_ids = np.full(shape[1:-1], "", dtype=object)
    for run, d in zip(runs, data):
        pos = tuple(coords[a].index(run.axes[a]) for a in axes)
        run_ids[pos] = run.run_id
        for i, s in enumerate(d["seed"].values):
            for j, m in enumerate(d["metric"].values):
                value[(seeds.index(int(s)), *pos, metrics.index(str(m)))] = float(d["value"].values[i, j])
    return xr.Dataset(
        {"value": (("seed", *axes, "metric"), value, {"long_name": "readout value (units per metric_kind)"}),
         "run_id": (tuple(axes), run_ids)},
        coords={"seed": np.asarray(seeds, dtype=np.int64), **{a: np.array(v, dtype=object) for a, v in coords.items()},
                "metric": np.array(metrics, dtype=object),
                "metric_kind": ("metric", np.array([kinds[m] for m in metrics], dtype=object))},
    )


def aggregate_stage(configs: Sequence[str | os.PathLike], stores: Sequence[str | os.PathLike],
                    out: str | os.PathLike, csv: str | os.PathLike, runs_csv: str | os.PathLike, *,
                    study: dict | None = None, rule: str = "aggregate") -> Path:
    """Write the sweep Dataset, its long-format CSV and the run table (run id -> axes, hashes, overrides).

    The store carries what made it: the study's definition and its sha256 (``study``, as
    :func:`jaxfne.pipeline.compose.load_study` read it) and every run's configuration, hash and
    overrides, beside the provenance of each input.
    """
    import pandas as pd

    from .compose import study_sha256

    t0 = time.perf_counter()
    ds = aggregate_dataset(configs, stores)
    runs = [read_run_config(c) for c in configs]
    axes = [d for d in ds["value"].dims if d not in ("seed", "metric")]
    frame = ds["value"].to_dataframe().reset_index()
    if axes:
        frame = frame.merge(ds["run_id"].to_dataframe().reset_index(), on=axes, how="left")
    else:  # a study without axes: one run
        frame["run_id"] = str(ds["run_id"].values.item())
    frame = frame[frame["run_id"] != ""][["run_id", *axes, "seed", "metric", "metric_kind", "value"]]
    Path(csv).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(csv, index=False)
    pd.DataFrame([{"run_id": r.run_id, **r.axes, "seeds": " ".join(map(str, r.seeds)), "sha256": r.sha256,
                   "config_sha256": r.config_sha256, "overrides": " ".join(r.overrides)} for r in runs]).to_csv(
        runs_csv, index=False)
    ds.attrs.update(collect(stage="aggregate", seeds=ds["seed"].values.tolist(), run_id="", rule=rule,
                            inputs=[*configs, *stores], wall_time_s=time.perf_counter() - t0,
                            title=f"jaxfne readouts of study {runs[0].study}"))
    ds.attrs.update(flat_attrs({
        "run_study": runs[0].study, "runs_json": {r.run_id: r.axes for r in runs},
        "runs_config_json": {r.run_id: {"config_sha256": r.config_sha256, "sha256": r.sha256, "overrides": r.overrides,
                                        "seeds": r.seeds, "config": r.config} for r in runs},
        **({"study_json": study, "study_sha256": study_sha256(study)} if study is not None else {})}))
    return write_store(ds, out, exist_ok=True)


def figures_stage(config: str | os.PathLike, sim_store: str | os.PathLike, raster: str | os.PathLike,
                  laminar: str | os.PathLike, eeg_meg: str | os.PathLike, *, seed_index: int = 0,
                  t_window_ms: Sequence[float] | None = None, sim: xr.Dataset | None = None) -> None:
    """Draw a run's raster, laminar LFP/CSD image and EEG/MEG traces (one seed) as PNG files.

    ``sim``: the simulation store's Dataset when the caller has opened it already.
    """
    from .. import plots

    run = read_run_config(config)
    ds = open_store(sim_store) if sim is None else sim
    seed_index = min(seed_index, ds.sizes.get("seed", 1) - 1)  # past the run's seeds: its last one, as before
    title = f"{run.run_id} (seed {run.seeds[min(seed_index, len(run.seeds) - 1)]})"
    kw: dict[str, Any] = {"seed_index": seed_index, "t_window_ms": t_window_ms, "title": title}
    plots.save(plots.plot_raster(ds, **kw), raster)
    plots.save(plots.plot_laminar(ds, **kw), laminar)
    plots.save(plots.plot_eeg_meg(ds, **kw), eeg_meg)


def summary_figure_stage(aggregate_store: str | os.PathLike, out: str | os.PathLike) -> None:
    """Draw the readouts across the sweep (mean and every seed) as a PNG file."""
    from .. import plots

    plots.save(plots.plot_readout_summary(open_store(aggregate_store)), out)


def study_stage(configs: Sequence[str | os.PathLike], stores: Sequence[str | os.PathLike], out: str | os.PathLike,
                csv: str | os.PathLike, runs_csv: str | os.PathLike, summary: str | os.PathLike, *,
                study: dict | None = None, rule: str = "aggregate") -> Path:
    """The study's products in one process: :func:`aggregate_stage`, then :func:`summary_figure_stage`
    drawn from the aggregate store it wrote."""
    store = aggregate_stage(configs, stores, out, csv, runs_csv, study=study, rule=rule)
    summary_figure_stage(store, summary)
    return store


def main_script(snakemake: Any, func, *args: Any, **kwargs: Any) -> None:
    """Run ``func`` for a Snakemake ``script:`` job, with its output in the job's log file."""
    with logged(snakemake.log[0] if len(snakemake.log) else None):
        log.info("rule %s, jaxfne stage %s, python %s", snakemake.rule, func.__name__, sys.executable)
        try:
            func(*args, **kwargs)
        except BaseException:
            log.exception("stage %s failed", func.__name__)
            raise

