"""Signals -> Dataset -> Signals without the model: every array, the description and the readouts."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import jaxfne
from jaxfne.errors import ConfigurationError
from jaxfne.io.store import open_store, write_store

MODES = ["SPK", "Vm", "I_syn", "MUA-proxy", "source-proxy", "LFP-proxy", "CSD-proxy", "EEG-proxy", "MEG-proxy",
         "EMM-proxy"]
SPECS = [jaxfne.readout_spec("rate", "spike_rate_hz"),
         jaxfne.readout_spec("rate_L4", "spike_rate_hz", layer="L4", cell_type="E"),
         jaxfne.readout_spec("max_rate", "max_spike_rate_hz", t_start_ms=50.0),
         jaxfne.readout_spec("bursts", "burst_frequency_hz"),
         jaxfne.readout_spec("v", "mean_V_m", t_start_ms=20.0),
         jaxfne.readout_spec("src", "mean_source", layer="L4"),
         jaxfne.readout_spec("lfp", "mean_LFP"),
         jaxfne.readout_spec("csd", "mean_CSD")]


@pytest.fixture(scope="module")
def run():
    cfg = (jaxfne.configuration().runtime(seed=1, dtype="float32", duration_ms=120.0, dt_ms=0.1)
           .column("V1", layers=["L2/3", "L4", "L5"], n=90)
           .cell_types({"E": 0.8, "I": 0.2}).connectivity()
           .set_emitter("izhikevich", "RS", per_type={"I": "FS"}, drive="none")
           .stimulus("poisson", rate_hz=8.0, n_inputs=100, weight=0.6)
           .probes(MODES, record_neurons=[0, 5, 17, 60], record_every=2))
    model = jaxfne.construct(cfg)
    return model, jaxfne.simulate(model, duration_ms=120.0, dt_ms=0.1, seed=[3, 4])


def test_round_trip_is_identical(run):
    _, sig = run
    ds = sig.to_xarray()
    back = jaxfne.Signals.from_xarray(ds)
    assert set(back.recorded) == set(sig.recorded) and len(sig.recorded) >= 10
    for k in sig.recorded:
        np.testing.assert_array_equal(np.asarray(getattr(sig, k)), getattr(back, k), err_msg=k)
    assert back.meta.populations == sig.meta.populations and back.meta.columns == sig.meta.columns
    np.testing.assert_array_equal(back.meta.record_idx, [0, 5, 17, 60])
    assert back.meta.geometry == sig.meta.geometry and back.meta.config == sig.meta.config
    xr.testing.assert_identical(back.to_xarray(), ds)


def test_readouts_of_a_store_equal_those_of_the_run(run, tmp_path):
    """Read back from a real zarr store, the readouts are computed with numpy (no model, nothing to
    compile) and equal the JAX readouts of the run in memory."""
    model, sig = run
    store = write_store(sig.to_xarray(), tmp_path / "sim.zarr")
    back = jaxfne.Signals.from_xarray(open_store(store))
    mem = model.compute_readout(sig, SPECS).to_dict()["results"]
    res = jaxfne.readouts.compute_readout(None, back, SPECS)
    assert all(isinstance(v, np.ndarray | np.floating) for v in res.results.values())
    got = res.to_dict()["results"]
    assert np.asarray(got["rate"]).shape == (2,) and min(got["rate"]) > 0
    for k in mem:
        np.testing.assert_allclose(got[k], mem[k], rtol=2e-6, err_msg=k)


def test_a_dataset_without_the_description_is_named():
    ds = xr.Dataset({"spikes": (("time", "neuron"), np.zeros((3, 2), bool))})
    with pytest.raises(ConfigurationError) as err:
        jaxfne.Signals.from_xarray(ds)
    assert err.value.field == "dataset.attrs" and "dt_ms" in str(err.value)
