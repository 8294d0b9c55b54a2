"""Atomic zarr stores, the spike encodings, provenance attrs and the figure functions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from jaxfne.io.provenance import collect, config_from_attrs, flat_attrs, git_state, hash_path
from jaxfne.io.store import StoreError, add_spike_events, open_store, spike_events, write_store


def _signals_like(n_seeds=2, n_t=500, n_neurons=30, seed=0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    t = 0.1 * np.arange(1, n_t + 1)
    spikes = rng.random((n_seeds, n_t, n_neurons)) < 0.01
    return xr.Dataset(
        {
            "spikes": (("seed", "time", "neuron"), spikes, {"units": "1"}),
            "V_m": (("seed", "time", "neuron"), rng.normal(-65, 5, (n_seeds, n_t, n_neurons)).astype(np.float32),
                    {"units": "mV"}),
            "LFP": (("seed", "time", "contact"), rng.normal(0, 1, (n_seeds, n_t, 8)), {"units": "uV"}),
        },
        coords={
            "seed": np.arange(n_seeds),
            "time": ("time", t, {"units": "ms"}),
            "neuron": np.arange(n_neurons),
            "layer": ("neuron", np.array(["L2/3"] * 10 + ["L4"] * 10 + ["L5"] * 10)),
            "cell_type": ("neuron", np.array(["E", "I"] * (n_neurons // 2))),
            "depth_um": ("neuron", np.linspace(100, 1100, n_neurons)),
            "contact_depth_um": ("contact", 50.0 + 100.0 * np.arange(8)),
        },
        attrs={"dt_ms": 0.1},
    )


def test_round_trip_encodings_and_ragged_events(tmp_path):
    ds = add_spike_events(_signals_like())
    path = write_store(ds, tmp_path / "sim.zarr")
    back = open_store(path)
    for name in ("spikes", "V_m", "LFP", "spike_count", "spike_step", "spike_time"):
        np.testing.assert_array_equal(back[name].values, ds[name].values)
    assert back["spikes"].dtype == bool and back["V_m"].dtype == np.float32
    assert list(back["layer"].values[:11]) == ["L2/3"] * 10 + ["L4"]
    assert back["V_m"].attrs["units"] == "mV" and back["time"].attrs["units"] == "ms"
    # CF contiguous ragged array: counts per (seed, neuron) equal the raster's, events are the raster's
    raster = ds["spikes"].values
    np.testing.assert_array_equal(back["spike_count"].values, raster.sum(axis=1))
    assert back["spike_count"].attrs["sample_dimension"] == "event"
    assert back.sizes["event"] == int(raster.sum())
    for s in range(2):
        for n in (0, 7, 29):
            expected = ds["time"].values[np.nonzero(raster[s, :, n])[0]]
            np.testing.assert_array_equal(spike_events(back, n, seed_index=s), expected)
    # the raster is Blosc-zstd with bit shuffling, chunked along time one seed at a time
    meta = json.loads((path / "spikes" / "zarr.json").read_text())
    blosc = [c for c in meta["codecs"] if c["name"] == "blosc"]
    assert blosc and blosc[0]["configuration"]["shuffle"] == "bitshuffle"
    assert blosc[0]["configuration"]["cname"] == "zstd"
    assert meta["chunk_grid"]["configuration"]["chunk_shape"][0] == 1
    assert (path / "zarr.json").is_file() and "consolidated_metadata" in json.loads((path / "zarr.json").read_text())


def test_no_overwrite_and_stale_temporaries_removed(tmp_path):
    ds = _signals_like(n_t=20)
    stale = tmp_path / ".sim.zarr.tmp-0123"
    (stale / "V_m").mkdir(parents=True)
    write_store(ds, tmp_path / "sim.zarr")
    assert not stale.exists()
    with pytest.raises(StoreError, match="does not exist yet"):
        write_store(ds, tmp_path / "sim.zarr")
    with pytest.raises(StoreError, match="existing zarr store"):
        open_store(tmp_path / "missing.zarr")


_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np, xarray as xr
    from jaxfne.io.store import write_store
    rng = np.random.default_rng(0)
    v = rng.normal(size=(4000, 12000)).astype(np.float32)  # 192 MB, takes seconds to compress
    write_store(xr.Dataset({"V_m": (("time", "neuron"), v)}), sys.argv[1])
    """
)


def test_killed_writer_leaves_no_store(tmp_path):
    """SIGKILL during the write: nothing at the final path, the next write succeeds."""
    final = tmp_path / "big.zarr"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(final)], cwd=Path(__file__).resolve().parents[1])
    deadline = time.time() + 120
    tmp = []
    while time.time() < deadline and not tmp:
        tmp = [p for p in tmp_path.glob(".big.zarr.tmp-*") if (p / "V_m").exists()]
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    assert tmp, "the writer never started writing its temporary store"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not final.exists()
    assert tmp[0].exists()  # the dot-prefixed temporary is all that is left
    with pytest.raises(StoreError):
        open_store(final)
    write_store(xr.Dataset({"x": ("t", np.arange(3.0))}), final)
    assert not tmp[0].exists()
    np.testing.assert_array_equal(open_store(final)["x"].values, [0.0, 1.0, 2.0])


def test_hash_path_file_and_tree(tmp_path):
    (tmp_path / "d" / "s").mkdir(parents=True)
    (tmp_path / "d" / "a.txt").write_text("a")
    (tmp_path / "d" / "s" / "b.txt").write_text("b")
    import hashlib

    assert hash_path(tmp_path / "d" / "a.txt") == hashlib.sha256(b"a").hexdigest()
    h1 = hash_path(tmp_path / "d")
    assert h1 == hash_path(tmp_path / "d")
    (tmp_path / "d" / "s" / "b.txt").write_text("c")
    assert hash_path(tmp_path / "d") != h1
    with pytest.raises(FileNotFoundError):
        hash_path(tmp_path / "nope")


def test_provenance_attrs_are_flat_and_complete(tmp_path):
    import jaxfne

    cfg = jaxfne.Configuration().column("V1", ["L2/3", "L4", "L5"], 20)
    inp = tmp_path / "config.yaml"
    inp.write_text("x: 1\n")
    attrs = collect(stage="simulate", config=cfg.to_dict(), config_sha256=cfg.sha256, seeds=[3, 4],
                    run_id="r__0123456789ab", rule="simulate", inputs=[inp], wall_time_s=1.5)
    assert all(isinstance(v, (str, int, float, bool)) for v in attrs.values())
    versions = json.loads(attrs["prov_versions_json"])
    for pkg in ("jax", "jaxlib", "numpy", "xarray", "zarr", "snakemake", "hydra-core"):
        assert versions[pkg] != "not installed", pkg
    import numpy as _np

    assert versions["numpy"] == _np.__version__
    assert attrs["prov_config_sha256"] == cfg.sha256
    assert json.loads(attrs["prov_inputs_json"]) == {str(inp): hash_path(inp)}
    assert attrs["prov_jaxfne_version"] == jaxfne.__version__
    assert attrs["prov_dtype"] == "float32" and attrs["prov_wall_time_s"] == 1.5
    assert "cpu" in attrs["prov_device"].lower()
    commit, dirty = git_state()
    assert attrs["prov_git_commit"] == commit and attrs["prov_git_dirty"] == dirty
    back_cfg, seeds = config_from_attrs(attrs)
    assert seeds == [3, 4] and jaxfne.Configuration.from_dict(back_cfg).sha256 == cfg.sha256
    # the attrs survive a store round trip unchanged
    path = write_store(xr.Dataset({"x": ("t", np.zeros(2))}, attrs=attrs), tmp_path / "p.zarr")
    assert open_store(path).attrs == attrs


def test_flat_attrs_json_encodes_nested_values():
    out = flat_attrs({"a": {"b": np.float32(1.5)}, "n": np.int64(3), "none": None, "l": [1, 2]})
    assert out == {"a_json": '{"b":1.5}', "n": 3, "none": "none", "l_json": "[1,2]"}


def test_git_state_outside_a_work_tree(tmp_path):
    assert git_state(str(tmp_path)) == ("unknown", False)


def test_plots_write_readable_pngs(tmp_path):
    from jaxfne import plots

    ds = _signals_like()
    ds["CSD"] = ds["LFP"].rename(contact="contact_csd").isel(contact_csd=slice(1, -1))
    ds["EEG"] = (("seed", "time", "eeg_channel"), np.random.default_rng(1).normal(size=(2, 500, 3)), {"units": "uV"})
    for name, fig in {"raster": plots.plot_raster(ds), "laminar": plots.plot_laminar(ds),
                      "eeg": plots.plot_eeg_meg(ds, t_window_ms=(10.0, 40.0))}.items():
        p = plots.save(fig, tmp_path / f"{name}.png")
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000
    # a hand-made Dataset read back from a store (string coordinates as StringDType) draws the same
    back = open_store(write_store(add_spike_events(ds), tmp_path / "sim.zarr"))
    p = plots.save(plots.plot_raster(back.drop_vars("spikes"), seed_index=1), tmp_path / "raster_events.png")
    assert p.stat().st_size > 5000
    agg = xr.Dataset(
        {"value": (("seed", "preset", "layout", "metric"), np.random.default_rng(2).random((3, 2, 2, 4)))},
        coords={"seed": [0, 1, 2], "preset": ["izhikevich/a", "izhikevich/b"], "layout": ["x", "y"],
                "metric": ["rate", "peak", "vm", "lfp"],
                "metric_kind": ("metric", ["spike_rate_hz", "max_spike_rate_hz", "mean_V_m", "mean_LFP"])},
    )
    fig = plots.plot_readout_summary(open_store(write_store(agg, tmp_path / "agg.zarr")))
    assert [(a.get_xlabel(), a.get_ylabel()) for a in fig.axes[:4]] == [
        ("preset", "rate (Hz)"), ("preset", "peak (Hz)"), ("preset", "vm (mV)"), ("preset", "lfp (µV)")]
    p = plots.save(fig, tmp_path / "summary.png")
    assert p.stat().st_size > 5000
    assert os.path.getsize(p) > 0
