"""NWB export (jaxfne.io.nwb): files pynwb validates, read back with pynwb and compared with the Signals.

One batched recording (two seeds, every probe, a subset of neurons recorded every 2nd step) serves
every test; the simulation store is written the way the workflow's simulate stage writes it.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import numpy as np
import pynwb
import pytest

import jaxfne
from jaxfne.errors import ConfigurationError
from jaxfne.io import add_spike_events, collect, open_store, write_store
from jaxfne.io.nwb import EPOCH, read_nwb, signals_to_nwb, to_nwb
from jaxfne.io.provenance import flat_attrs

SEEDS = [1, 2]
RECORD = [0, 5, 50, 99]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    cfg = (jaxfne.configuration().runtime(seed=1, duration_ms=100.0, dt_ms=0.1)
           .column("V1", layers=["L2/3", "L4", "L5"], n=100).cell_types({"E": 0.8, "I": 0.2})
           .connectivity().set_emitter("izhikevich", "cortical_eig")
           .probes(["SPK", "Vm", "I_syn", "MUA-proxy", "source-proxy", "LFP-proxy", "CSD-proxy",
                    "EEG-proxy", "MEG-proxy", "EMM-proxy"], record_neurons=RECORD, record_every=2))
    sig = jaxfne.simulate(jaxfne.construct(cfg), seed=SEEDS)
    d = tmp_path_factory.mktemp("nwb")
    ds = add_spike_events(sig.to_xarray())
    ds.attrs = flat_attrs(ds.attrs) | collect(stage="simulate", config=cfg.to_dict(), config_sha256=cfg.sha256,
                                              seeds=SEEDS, rule="test_export_nwb")
    store = write_store(ds, d / "sim.zarr")
    path = signals_to_nwb(sig, d / "seed2.nwb", seed_index=1)
    return {"cfg": cfg, "sig": sig, "dir": d, "store": store, "path": path}


def _read(path):
    io = pynwb.NWBHDF5IO(str(path), mode="r")
    return io, io.read()


def test_file_validates_and_names_the_run(run):
    assert pynwb.validate(path=str(run["path"])) == []
    io, f = _read(run["path"])
    with io:
        assert f.identifier == f"{run['cfg'].sha256}-seed2"
        assert f.session_start_time == EPOCH and f.session_start_time.tzinfo is not None
        assert json.loads(f.notes) == run["sig"].meta.config
        meta = json.loads(f.data_collection)
        assert meta["engine"]["seed"] == 2 and meta["engine"]["dt_ms"] == 0.1
        assert meta["geometry"] == run["sig"].meta.geometry
        assert ["jaxfne", jaxfne.__version__] in [list(r) for r in f.was_generated_by[:]]
    assert not [p for p in os.listdir(run["dir"]) if ".tmp-" in p]


def test_units_hold_spike_times_and_the_neuron_table(run):
    sig = run["sig"]
    io, f = _read(run["path"])
    with io:
        u = f.units
        n = len(sig.meta.neuron["column"])
        assert len(u) == n and list(u.id[:]) == list(range(n))
        total = 0
        for i in range(n):
            want = sig.spike_times(i, seed_index=1) * 1e-3  # ms -> s, ends of the steps
            got = u.get_unit_spike_times(i)
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
            total += got.size
        assert total == int(np.asarray(sig.spikes)[1].sum()) > 10
        for key in ("cell_type", "layer", "population", "column"):
            assert [str(v) for v in u[key].data[:]] == [str(v) for v in sig.meta.neuron[key]]
        np.testing.assert_array_equal(u["depth_um"].data[:], sig.meta.neuron["depth_um"])
        assert u.resolution == pytest.approx(1e-4, rel=1e-12)


def test_lfp_is_an_electrical_series_over_the_contacts(run):
    sig = run["sig"]
    io, f = _read(run["path"])
    with io:
        es = f.processing["ecephys"]["LFP"]["LFP"]
        assert isinstance(es, pynwb.ecephys.ElectricalSeries) and es.unit == "volts"
        volts = np.asarray(sig.LFP)[1].astype(np.float64) * 1e-6
        np.testing.assert_allclose(es.data[:] * es.conversion, volts, rtol=1e-12, atol=0)
        assert np.abs(volts).max() > 0
        assert es.starting_time == pytest.approx(1e-4, rel=1e-12) and es.rate == pytest.approx(1e4, rel=1e-12)
        depths = np.asarray(sig.meta.geometry["contact_depths_um"])
        table = es.electrodes.table
        rows = np.asarray(es.electrodes.data[:])
        np.testing.assert_array_equal(rows, np.arange(depths.size))
        np.testing.assert_allclose(np.asarray(table["depth_um"].data[:])[rows], depths, rtol=0, atol=1e-9)
        np.testing.assert_allclose(np.asarray(table["z"].data[:])[rows], -depths, rtol=0, atol=1e-9)
        locations = [str(v) for v in table["location"].data[:]]
        assert locations[0] == "V1 L2/3" and locations[-1] == "V1 L5"
        assert table["group"][0].device.name == sig.meta.probe["name"]


@pytest.mark.parametrize("key, where, unit, factor", [
    ("CSD", "ecephys", "A/m^3", 1.0), ("dipole", "ecephys", "ampere meters", 1e-9),
    ("EEG", None, "volts", 1e-6), ("MEG", None, "tesla", 1e-15), ("V_m", None, "volts", 1e-3),
    ("I_syn", None, "amperes", 1e-12), ("EMM", "metabolic", "s-1", 1.0)])
def test_time_series_in_si_with_their_sampling(run, key, where, unit, factor):
    sig = run["sig"]
    io, f = _read(run["path"])
    with io:
        ts = f.acquisition[key] if where is None else f.processing[where][key]
        assert ts.unit == unit and ts.conversion == factor
        want = np.asarray(getattr(sig, key))[1].astype(np.float64) * factor
        np.testing.assert_allclose(ts.data[:] * ts.conversion, want, rtol=1e-12, atol=0)
        period_s = 1e-4 * (2 if key in ("V_m", "I_syn") else 1)  # record_every = 2
        assert ts.starting_time == pytest.approx(period_s, rel=1e-12)
        assert ts.rate == pytest.approx(1.0 / period_s, rel=1e-12)
        comments = json.loads(ts.comments)
        assert comments["signal"] == key and comments["jaxfne_units"] == jaxfne.signals.UNITS[key]
        if key in ("V_m", "I_syn"):
            assert comments["coords"]["neuron_rec"] == RECORD


def test_from_a_store_and_a_dataset(run):
    sig, store = run["sig"], run["store"]
    attrs = open_store(store).attrs
    path = to_nwb(store, run["dir"] / "store_seed1.nwb")
    assert pynwb.validate(path=str(path)) == []
    r = read_nwb(path)
    assert r["identifier"] == f"{attrs['prov_config_sha256']}-seed1"
    assert r["session_start_time"] == dt.datetime.fromisoformat(attrs["prov_created_utc"])
    assert r["metadata"]["provenance"]["prov_rule"] == "test_export_nwb"
    assert r["metadata"]["provenance"]["prov_seeds_json"] == SEEDS
    assert r["config"] == sig.meta.config
    for i, got in enumerate(r["units"]["spike_times_s"]):
        np.testing.assert_allclose(got, sig.spike_times(i, seed_index=0) * 1e-3, rtol=0, atol=1e-12)
    lfp = r["series"]["LFP"]
    np.testing.assert_allclose(lfp["data"] * lfp["conversion"], np.asarray(sig.LFP)[0].astype(np.float64) * 1e-6,
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(r["electrodes"]["depth_um"], sig.meta.geometry["contact_depths_um"], atol=1e-9)
    from_ds = read_nwb(to_nwb(sig.to_xarray(), run["dir"] / "ds_seed2.nwb", seed_index=1))
    assert from_ds["identifier"] == f"{run['cfg'].sha256}-seed2"
    np.testing.assert_array_equal(from_ds["series"]["EEG"]["data"], np.asarray(sig.EEG)[1])


def test_bad_inputs_are_named(run):
    sig, d = run["sig"], run["dir"]
    with pytest.raises(ConfigurationError) as e:
        signals_to_nwb(sig, run["path"])
    assert e.value.field == "path"
    over = signals_to_nwb(sig, d / "over.nwb")
    assert read_nwb(over)["identifier"] == f"{run['cfg'].sha256}-seed1"
    signals_to_nwb(sig, over, overwrite=True, identifier="replaced")
    assert read_nwb(over)["identifier"] == "replaced"
    for bad in (2, -1, True, 1.0, "0"):
        with pytest.raises(ConfigurationError) as e:
            signals_to_nwb(sig, d / "bad.nwb", seed_index=bad)
        assert e.value.field == "seed_index"
    for bad in (42, d / "no_such_store.zarr", [sig]):
        with pytest.raises(ConfigurationError) as e:
            to_nwb(bad, d / "bad.nwb")
        assert e.value.field == "source"
    with pytest.raises(ConfigurationError) as e:
        signals_to_nwb(sig, d)
    assert e.value.field == "path"
    with pytest.raises(ConfigurationError) as e:
        read_nwb(d / "missing.nwb")
    assert e.value.field == "path"
    assert not (d / "bad.nwb").exists() and not [p for p in os.listdir(d) if ".tmp-" in p]
