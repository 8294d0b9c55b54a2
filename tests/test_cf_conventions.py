"""CF conventions of Signals Datasets and simulation stores, and ``load_signals``.

Units are checked with cf_units (UDUNITS-2), which we did not write; the ragged spike list is
checked against the Signals' own spike times (NEST's senders/times) and the raster.
"""

from __future__ import annotations

import json
import shutil

import cf_units
import numpy as np
import pytest
import xarray as xr

import jaxfne
from jaxfne.io.errors import StoreError
from jaxfne.io.load import load_signals
from jaxfne.io.provenance import flat_attrs
from jaxfne.io.store import (
    add_spike_events,
    open_store,
    ragged_spike_events,
    spike_events,
    write_store,
)
from jaxfne.signals import UNITS

MODES = ["SPK", "Vm", "I_syn", "MUA-proxy", "source-proxy", "LFP-proxy", "CSD-proxy", "EEG-proxy", "MEG-proxy",
         "EMM-proxy"]


def _cfg(duration_ms=100.0, **probe_options):
    return (jaxfne.configuration().runtime(seed=1, duration_ms=duration_ms, dt_ms=0.1)
            .column("V1", layers=["L2/3", "L4", "L5"], n=100).cell_types({"E": 0.8, "I": 0.2})
            .connectivity().set_emitter("izhikevich", "cortical_eig")
            .probes(MODES, **probe_options))


@pytest.fixture(scope="module")
def model():
    return jaxfne.construct(_cfg())


@pytest.fixture(scope="module")
def batch(model):
    return jaxfne.simulate(model, seed=[1, 2])


@pytest.fixture(scope="module")
def single(model):
    return jaxfne.simulate(model, seed=1)


def _store(sig, path):
    """What the simulate stage writes: the Dataset, its ragged spike list, flat attrs."""
    ds = add_spike_events(sig.to_xarray())
    ds.attrs = flat_attrs(ds.attrs)
    return write_store(ds, path)


def _check_attrs(ds: xr.Dataset) -> None:
    for name, var in ds.variables.items():
        assert str(var.attrs.get("long_name", "")).strip(), f"{name} has no long_name"
        if str(name).endswith("_um") or name in ("time", "time_rec", "tr", "contact", "contact_csd"):
            assert "units" in var.attrs, f"{name} is dimensional and has no units"
        if "units" in var.attrs:
            cf_units.Unit(var.attrs["units"])  # raises ValueError for a string UDUNITS-2 does not parse


def test_every_units_string_parses_and_means_what_it_says():
    for unit in UNITS.values():
        cf_units.Unit(unit)
    assert UNITS["MUA"] == "1" and UNITS["EMM"] == "s-1"
    # the strings converted by UDUNITS-2: 1 uV = 1e-6 V, 1 nA m = 1e-9 A m, 1 fT = 1e-15 T,
    # 1 pA/pF = 1 V/s = 1 mV/ms (Izhikevich's current), 1 s-1 = 1 Hz
    assert cf_units.Unit("uV").convert(1.0, cf_units.Unit("V")) == pytest.approx(1e-6)
    assert cf_units.Unit("nA m").convert(1.0, cf_units.Unit("A m")) == pytest.approx(1e-9)
    assert cf_units.Unit("fT").convert(1.0, cf_units.Unit("T")) == pytest.approx(1e-15)
    assert cf_units.Unit("A/m^3").convert(1.0, cf_units.Unit("uA/mm^3")) == pytest.approx(1e-3)
    assert cf_units.Unit("pA/pF").convert(1.0, cf_units.Unit("mV/ms")) == pytest.approx(1.0)
    assert cf_units.Unit("s-1").convert(4.0, cf_units.Unit("Hz")) == pytest.approx(4.0)
    assert cf_units.Unit(UNITS["MUA"]).is_dimensionless()
    for old in ("spikes/bin", "ATP/s"):  # what UNITS said before: not UDUNITS-2
        with pytest.raises(ValueError):
            cf_units.Unit(old)


def test_every_coordinate_and_variable_has_long_name_and_units(batch, single, tmp_path):
    for sig in (batch, single):
        _check_attrs(sig.to_xarray())
    back = open_store(_store(batch, tmp_path / "sim.zarr"))
    _check_attrs(back)
    assert {"spike_count", "spike_step", "spike_time", "spike_neuron", "spike_seed"} <= set(back.data_vars)
    units = {k: back[k].attrs.get("units") for k in ("time", "contact", "LFP", "CSD", "MUA", "EEG", "MEG", "EMM",
                                                     "dipole", "source", "spike_time", "depth_um")}
    assert units == {"time": "ms", "contact": "um", "LFP": "uV", "CSD": "A/m^3", "MUA": "1", "EEG": "uV",
                     "MEG": "fT", "EMM": "s-1", "dipole": "nA m", "source": "A/m^3", "spike_time": "ms",
                     "depth_um": "um"}


def test_index_coordinates_select_by_depth_and_label(batch, model):
    ds = batch.to_xarray()
    depths = np.asarray(model.geometry.contact_depths_um, float)
    assert depths.size > 3 and np.unique(depths).size == depths.size
    np.testing.assert_array_equal(ds.indexes["contact"].values, depths)
    np.testing.assert_array_equal(ds["contact_depth_um"].values, depths)
    np.testing.assert_array_equal(ds.indexes["contact_csd"].values, depths[1:-1])
    np.testing.assert_array_equal(ds["contact_csd_depth_um"].values, depths[1:-1])
    np.testing.assert_array_equal(ds.LFP.sel(contact=depths[3]).values, ds.LFP.values[..., 3])
    np.testing.assert_array_equal(ds.MUA.sel(contact=depths[-1]).values, ds.MUA.values[..., -1])
    np.testing.assert_array_equal(ds.CSD.sel(contact_csd=depths[2]).values, ds.CSD.values[..., 1])
    assert ds.LFP.sel(contact=depths[3]).dims == ("seed", "time")
    n_bins = len(batch.meta.geometry["bin_centers_um"])
    np.testing.assert_array_equal(ds.indexes["location"].values, np.arange(n_bins))
    assert ds["location"].dtype.kind == "i"
    np.testing.assert_array_equal(ds["location_depth_um"].values, batch.meta.geometry["bin_centers_um"])
    assert [str(c) for c in ds.indexes["eeg_channel"]] == ["EEG001", "EEG002", "EEG003"]
    assert [str(c) for c in ds.indexes["meg_channel"]] == ["MEG001", "MEG002", "MEG003"]
    np.testing.assert_array_equal(ds.EEG.sel(eeg_channel="EEG002").values, ds.EEG.values[..., 1])
    np.testing.assert_array_equal(ds["meg_channel_position_um"].sel(meg_channel="MEG003").values,
                                  batch.meta.probe["meg_sensors_um"][2])
    assert [str(c) for c in ds.indexes["xyz"]] == ["x", "y", "z"]


def test_index_coordinates_survive_a_store(batch, tmp_path):
    back = open_store(_store(batch, tmp_path / "sim.zarr"))
    ds = batch.to_xarray()
    d = float(ds["contact"].values[4])
    np.testing.assert_array_equal(back.LFP.sel(contact=d).values, ds.LFP.sel(contact=d).values)
    np.testing.assert_array_equal(back.EEG.sel(eeg_channel="EEG003").values, ds.EEG.values[..., 2])


def _nest_order(times, senders):
    order = np.lexsort((senders, times))  # NEST's spike recorder: by time, then sender
    return times[order], senders[order]


def test_ragged_list_is_nest_senders_and_times(batch, single):
    for sig in (batch, single):
        ds = add_spike_events(sig.to_xarray())
        raster = np.asarray(sig.spikes)
        assert ds.sizes["event"] == int(raster.sum()) > 20
        assert ds["spike_neuron"].dtype == np.int32 and ds["spike_step"].dtype == np.int32
        seeds = range(2) if sig.meta.batched else [None]
        assert ("spike_seed" in ds) == sig.meta.batched
        for s in seeds:
            mask = (ds["spike_seed"].values == s) if s is not None else np.ones(ds.sizes["event"], bool)
            times, senders = _nest_order(ds["spike_time"].values[mask], ds["spike_neuron"].values[mask])
            want_t, want_n = sig.spike_times(seed_index=s)
            assert want_t.size > 5
            np.testing.assert_array_equal(times, want_t)
            np.testing.assert_array_equal(senders, want_n)
            n = int(np.bincount(want_n).argmax())
            np.testing.assert_array_equal(spike_events(ds, n, seed_index=s), sig.spike_times(n, seed_index=s))
        # spike_time is the time coordinate at spike_step
        np.testing.assert_array_equal(ds["spike_time"].values, ds["time"].values[ds["spike_step"].values])


def test_store_carries_feature_type_and_instance_roles(batch, single, tmp_path):
    for sig, name in ((batch, "b.zarr"), (single, "s.zarr")):
        back = open_store(_store(sig, tmp_path / name))
        assert back.attrs["featureType"] == "timeSeries"
        assert back["neuron"].attrs["cf_role"] == "timeseries_id"
        count = back["spike_count"]
        assert count.attrs["sample_dimension"] == "event" and "event" in back.dims
        assert count.dims == (("seed", "neuron") if sig.meta.batched else ("neuron",))
        assert int(count.sum()) == back.sizes["event"]
        # instance k (C order over the counts) owns the events sum(count[:k]) ... sum(count[:k+1]) - 1
        inst = np.repeat(np.arange(count.size), count.values.ravel())
        np.testing.assert_array_equal(back["spike_neuron"].values, inst % back.sizes["neuron"])
        if sig.meta.batched:
            np.testing.assert_array_equal(back["spike_seed"].values, inst // back.sizes["neuron"])


def test_no_spikes_is_a_zero_length_event_list_with_zero_counts(tmp_path):
    ds = xr.Dataset({"spikes": (("seed", "time", "neuron"), np.zeros((2, 40, 5), bool))},
                    coords={"time": 0.1 * np.arange(1, 41), "seed": [3, 4]})
    out = add_spike_events(ds)
    assert out.sizes["event"] == 0 and int(out["spike_count"].sum()) == 0
    back = open_store(write_store(out, tmp_path / "none.zarr"))
    assert back.sizes["event"] == 0 and back["spike_time"].attrs["units"] == "ms"
    ev = ragged_spike_events(back)
    assert ev.shape == (2, 40, 5) and ev.steps.size == 0 and not ev.raster().any()


def test_run_shorter_than_a_tr_has_no_bold(batch, single):
    for sig in (batch, single):
        assert np.asarray(sig.BOLD).shape[-1] == 0  # 100 ms, TR 2 s
        ds = sig.to_xarray()
        assert "BOLD" not in ds and "tr" not in ds.dims and "tr" not in ds.coords
        assert all(0 not in v.shape for v in ds.variables.values())
        empty = json.loads(ds.attrs["empty_signals_json"])
        assert empty == {"BOLD": {"shape": list(np.shape(sig.BOLD)), "dtype": str(np.asarray(sig.BOLD).dtype)}}
        back = jaxfne.Signals.from_xarray(ds)
        assert "BOLD" in back.recorded and back.BOLD.shape == np.shape(sig.BOLD)
        assert back.BOLD.dtype == np.asarray(sig.BOLD).dtype


def test_bold_and_tr_when_a_tr_was_sampled():
    sig = jaxfne.simulate(jaxfne.construct(_cfg(bold_tr_ms=50.0)), seed=1)
    ds = sig.to_xarray()
    assert ds["BOLD"].dims == ("tr",) and ds.sizes["tr"] == 2
    np.testing.assert_array_equal(ds["tr"].values, [50.0, 100.0])
    assert ds["tr"].attrs["units"] == "ms" and ds["BOLD"].attrs["units"] == "1"
    assert json.loads(ds.attrs["empty_signals_json"]) == {}
    np.testing.assert_array_equal(jaxfne.Signals.from_xarray(ds).BOLD, np.asarray(sig.BOLD))


def test_v_m_without_a_sample_is_not_a_variable():
    cfg = (jaxfne.configuration().runtime(seed=1, duration_ms=1.0, dt_ms=0.1)
           .column("V1", layers=["L2/3"], n=20).cell_types({"E": 0.8, "I": 0.2})
           .connectivity().set_emitter("izhikevich", "cortical_eig").probes(["SPK", "Vm"], record_every=20))
    sig = jaxfne.simulate(jaxfne.construct(cfg), seed=1)
    ds = sig.to_xarray()
    assert "V_m" not in ds and "time_rec" not in ds.dims and "spikes" in ds
    back = jaxfne.Signals.from_xarray(ds)
    assert back.V_m.shape == np.shape(sig.V_m) == (0, 20)


def _assert_same_meta(a, b):
    for f in ("dt_ms", "n_steps", "seeds", "batched", "record_every", "scheme", "family", "propagation", "dtype",
              "populations", "columns", "geometry", "probe", "config"):
        assert getattr(a, f) == getattr(b, f), f
    assert (a.record_idx is None) == (b.record_idx is None)
    assert set(a.neuron) == set(b.neuron)
    for k in a.neuron:
        np.testing.assert_array_equal(np.asarray(a.neuron[k]), np.asarray(b.neuron[k]), err_msg=k)


@pytest.mark.parametrize("which", ["batch", "single"])
def test_load_signals_equals_the_signals(which, request, tmp_path):
    sig = request.getfixturevalue(which)
    path = _store(sig, tmp_path / "sim.zarr")
    back = load_signals(path)
    assert set(back.recorded) == set(sig.recorded)
    ev, want = back.spike_events, sig.spike_events
    np.testing.assert_array_equal(ev.steps, want.steps)
    np.testing.assert_array_equal(ev.neurons, want.neurons)
    assert (ev.seeds is None) == (want.seeds is None) and tuple(ev.shape) == tuple(want.shape)
    if want.seeds is not None:
        np.testing.assert_array_equal(ev.seeds, want.seeds)
    for k in sig.recorded:
        np.testing.assert_array_equal(getattr(back, k), np.asarray(getattr(sig, k)), err_msg=k)
    _assert_same_meta(back.meta, sig.meta)
    xr.testing.assert_identical(back.to_xarray(), sig.to_xarray())


def test_load_signals_reads_the_events_not_the_raster(batch, tmp_path):
    """With the raster's chunks gone (zarr would read fill values, all False), the spikes still come
    back: load_signals took them from the event list."""
    path = _store(batch, tmp_path / "sim.zarr")
    shutil.rmtree(path / "spikes" / "c")
    assert not open_store(path, verify=False)["spikes"].values.any()
    back = load_signals(path, verify=False)
    np.testing.assert_array_equal(back.spikes, np.asarray(batch.spikes))
    assert np.asarray(batch.spikes).sum() > 20
    with pytest.raises(StoreError, match="spikes"):  # the manifest check names the missing chunks
        load_signals(path)


def test_events_of_a_store_without_spike_neuron_come_from_the_counts(batch):
    ds = add_spike_events(batch.to_xarray())
    full = ragged_spike_events(ds)
    old = ragged_spike_events(ds.drop_vars(["spike_neuron", "spike_seed"]))
    for a, b in ((full.steps, old.steps), (full.neurons, old.neurons), (full.seeds, old.seeds)):
        np.testing.assert_array_equal(a, b)
    bad = ds.copy()
    bad["spike_neuron"] = bad["spike_neuron"][::-1]
    with pytest.raises(StoreError, match="spike_neuron"):
        ragged_spike_events(bad)


def test_load_signals_names_a_path_that_is_not_a_simulation_store(tmp_path):
    with pytest.raises(StoreError, match="missing.zarr"):
        load_signals(tmp_path / "missing.zarr")
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(StoreError, match="empty.zarr"):
        load_signals(tmp_path / "empty.zarr")
    with pytest.raises(StoreError, match="empty.zarr"):
        load_signals(tmp_path / "empty.zarr", verify=False)
    other = write_store(xr.Dataset({"value": ("metric", np.zeros(2))}, attrs={"prov_stage": "readout"}),
                        tmp_path / "readouts.zarr")
    with pytest.raises(StoreError, match=r"readouts\.zarr.*simulation store.*'readout'"):
        load_signals(other)


def test_plastic_weights_carry_the_family_current_unit():
    cfg = (jaxfne.configuration().runtime(seed=1, duration_ms=20.0, dt_ms=0.1)
           .column("V1", layers=["L2/3"], n=20).cell_types({"E": 0.8, "I": 0.2})
           .connectivity(p=0.5, plasticity={"A_plus": 0.01}).set_emitter("iaf_psc_exp", "nest_default")
           .probes(["SPK"]))
    ds = jaxfne.simulate(jaxfne.construct(cfg), seed=1).to_xarray()
    assert ds["weights"].dims == ("pre", "post") and ds["weights"].attrs["units"] == "pA"
    cf_units.Unit(ds["weights"].attrs["units"])
