"""Export to Neo, checked with Elephant: rates, CV, Fano factor and standard CSD of the exported Block
against jaxfne's own readouts and signals; times, units and annotations; seeds; the store round trip."""

from __future__ import annotations

import json

import elephant.statistics as es
import neo
import numpy as np
import pytest
import quantities as pq
import xarray as xr
from elephant.current_source_density import estimate_csd

import jaxfne
from jaxfne.errors import ConfigurationError
from jaxfne.io import add_spike_events, spike_events, write_store
from jaxfne.io.neo import SIGNAL_UNITS, signal_units, signals_to_neo, to_neo
from tests.reference.nest_pd14 import population_cv_isi

# elephant's isi passes quantities' deprecated ``copy`` argument on every call
pytestmark = pytest.mark.filterwarnings("ignore:The 'copy' argument in Quantity is deprecated")

MODES = ["SPK", "Vm", "I_syn", "MUA-proxy", "source-proxy", "LFP-proxy", "CSD-proxy", "EEG-proxy", "MEG-proxy",
         "EMM-proxy"]
DT, T_MS, EVERY, SIGMA, TR = 0.1, 1000.0, 4, 0.33, 250.0
SEEDS = [1, 2, 3]
RECORD = list(range(0, 400, 9))

#: The unit each signal must have, as a quantity (compared after simplification to SI).
EXPECTED_UNITS = {"V_m": pq.mV, "I_syn": pq.pA, "source": pq.A / pq.m**3, "LFP": pq.uV, "CSD": pq.A / pq.m**3,
                  "MUA": pq.dimensionless, "dipole": pq.nA * pq.m, "EEG": pq.uV, "MEG": 1e-15 * pq.T,
                  "EMM": 1 / pq.s, "BOLD": pq.dimensionless}


@pytest.fixture(scope="module")
def run():
    """Two columns of Izhikevich's 2003 network, 1 s, three seeds in one batch, float64."""
    cfg = (jaxfne.configuration().runtime(seed=1, duration_ms=T_MS, dt_ms=DT, dtype="float64")
           .column("V1", layers=["L2/3", "L4", "L5"], n=250)
           .column("V2", layers=["L2/3", "L4", "L5"], n=150, position_um=(600.0, 0.0))
           .cell_types({"E": 0.8, "I": 0.2}).connectivity().set_emitter("izhikevich", "cortical_eig")
           .probes(MODES, record_every=EVERY, record_neurons=RECORD, sigma_S_per_m=SIGMA, bold_tr_ms=TR))
    model = jaxfne.construct(cfg)
    sig = jaxfne.simulate(model, seed=SEEDS)
    return model, sig, signals_to_neo(sig)


def _signal(seg, name):
    (a,) = [a for a in seg.analogsignals if a.name == name]
    return a


def _hz(q) -> float:
    return float(q.rescale(pq.Hz).magnitude)


def test_block_holds_one_segment_per_seed_and_the_provenance(run):
    _, sig, block = run
    m = sig.meta
    assert [s.annotations["seed"] for s in block.segments] == SEEDS
    assert [s.annotations["seed_index"] for s in block.segments] == [0, 1, 2]
    a = block.annotations
    assert (a["dt_ms"], a["n_steps"], a["record_every"]) == (DT, 10000, EVERY)
    assert (a["family"], a["scheme"], a["propagation"]) == ("izhikevich", m.scheme, m.propagation)
    assert m.family == "izhikevich" and a["scheme"] and a["propagation"]
    assert json.loads(a["config_json"]) == m.config
    assert json.loads(a["config_json"])["probes"]["options"]["sigma_S_per_m"] == SIGMA
    assert a["seeds"] == SEEDS
    names = {x.name for x in block.segments[0].analogsignals}
    assert names == set(EXPECTED_UNITS)
    block.check_relationships()


def test_spike_trains_are_the_recorded_spikes_at_the_end_of_their_step(run, tmp_path):
    _, sig, block = run
    m = sig.meta
    n = len(m.neuron["column"])
    ds = add_spike_events(sig.to_xarray())
    raster = np.asarray(sig.spikes)
    for i, seg in enumerate(block.segments):
        assert len(seg.spiketrains) == n
        steps, _ = sig.spike_events.of_seed(i)
        for j, st in enumerate(seg.spiketrains):
            assert st.units == pq.ms and float(st.t_start) == 0.0 and float(st.t_stop) == T_MS
            want = (np.flatnonzero(raster[i, :, j]) + 1) * DT
            np.testing.assert_array_equal(st.magnitude, want)
            np.testing.assert_array_equal(st.magnitude, sig.spike_times(j, seed_index=i))
            np.testing.assert_allclose(st.magnitude, spike_events(ds, j, seed_index=i), rtol=0, atol=1e-12)
            ann = st.annotations
            assert ann["neuron_id"] == j and type(ann["neuron_id"]) is int
            for key in ("column", "layer", "cell_type", "population"):
                assert ann[key] == str(m.neuron[key][j]) and type(ann[key]) is str
            assert ann["depth_um"] == float(m.neuron["depth_um"][j]) and type(ann["depth_um"]) is float
        assert sum(len(st) for st in seg.spiketrains) == steps.size > 5 * n


def test_groups_hold_each_population_across_segments(run):
    _, sig, block = run
    m = sig.meta
    pops = np.asarray(m.neuron["population"]).astype(str)
    assert [g.name for g in block.groups] == list(m.populations)
    viewed = 0
    for g in block.groups:
        size = int(np.sum(pops == g.name))
        assert len(g.spiketrains) == size * len(SEEDS)
        assert {st.annotations["population"] for st in g.spiketrains} == {g.name}
        for view in g.channelviews:
            assert view.obj.name in ("V_m", "I_syn")
            np.testing.assert_array_equal(view.index, np.flatnonzero(pops[RECORD] == g.name))
        recorded = bool(np.any(pops[RECORD] == g.name))
        assert len(g.channelviews) == (2 * len(SEEDS) if recorded else 0)
        viewed += recorded
    assert viewed >= len(m.populations) - 2


def test_mean_firing_rate_equals_jaxfne_rates(run):
    """Elephant's rate of every train equals the raster's count over the run; the population means of
    elephant's rates equal jaxfne's ``spike_rate_hz`` / ``max_spike_rate_hz`` readouts, windowed or not."""
    model, sig, block = run
    m = sig.meta
    selections = [{}, {"cell_type": "E"}, {"cell_type": "I", "layer": "L4"}, {"column": "V2"}]
    specs = [jaxfne.readout_spec(f"rate{k}", "spike_rate_hz", **s) for k, s in enumerate(selections)]
    specs += [jaxfne.readout_spec("max", "max_spike_rate_hz"),
              jaxfne.readout_spec("late", "spike_rate_hz", t_start_ms=200.0, t_stop_ms=900.0)]
    res = model.compute_readout(sig, specs).results
    counts = np.asarray(sig.spikes).sum(axis=1)  # [seed, neuron]
    lo, hi = 200.0 * pq.ms, 900.0 * pq.ms
    for i, seg in enumerate(block.segments):
        rates = np.array([_hz(es.mean_firing_rate(st)) for st in seg.spiketrains])
        np.testing.assert_allclose(rates, counts[i] / (T_MS * 1e-3), rtol=1e-9, atol=0)
        for k, s in enumerate(selections):
            keep = np.ones(rates.size, bool)
            for key, v in s.items():
                keep &= np.asarray(m.neuron[key]).astype(str) == v
            assert keep.sum() >= 10
            np.testing.assert_allclose(rates[keep].mean(), float(res[f"rate{k}"][i]), rtol=1e-9)
        np.testing.assert_allclose(rates.max(), float(res["max"][i]), rtol=1e-9)
    assert 1.0 < float(np.min(res["rate0"])) < 50.0
    # jaxfne's window keeps the steps ending in (200, 900] ms: slice off a spike at exactly 200 ms;
    # elephant refuses an empty train once t_start/t_stop are given (its rate is 0 then)
    sliced = [st.time_slice(lo + DT / 2 * pq.ms, hi) for st in block.segments[0].spiketrains]
    late = [_hz(es.mean_firing_rate(st, t_start=lo, t_stop=hi)) if len(st) else 0.0 for st in sliced]
    assert sum(len(st) > 0 for st in sliced) > 0.5 * len(sliced)
    np.testing.assert_allclose(np.mean(late), float(res["late"][0]), rtol=1e-9)


def _population_selections(m):
    """``readout_spec`` selections of each population (column, layer, cell type), in population order."""
    table = zip(*(np.asarray(m.neuron[k]).astype(str) for k in ("population", "column", "layer", "cell_type")))
    first = {}
    for pop, col, lay, ct in table:
        first.setdefault(pop, {"column": col, "layer": lay, "cell_type": ct})
    return [first[p] for p in m.populations]


def test_cv_of_isi_equals_the_reference_rule(run):
    """Elephant's CV (``cv(isi(train))``, population SD) averaged over each population's neurons with
    more than two spikes equals jaxfne's ``cv_isi`` readout of the population and the PD14 reference
    rule applied to jaxfne's spike events."""
    model, sig, block = run
    specs = [jaxfne.readout_spec(f"cv{k}", "cv_isi", **s) for k, s in enumerate(_population_selections(sig.meta))]
    readout = model.compute_readout(sig, specs).results
    m = sig.meta
    pops = np.asarray(m.neuron["population"]).astype(str)
    sizes = np.array([np.sum(pops == p) for p in m.populations])
    np.testing.assert_array_equal(pops, np.repeat(np.asarray(m.populations).astype(str), sizes))  # contiguous
    entered = 0
    for i, seg in enumerate(block.segments):
        steps, ids = sig.spike_events.of_seed(i)
        want = population_cv_isi(ids, (steps + 1) * DT, sizes, 0.0, T_MS + DT / 2, min_spikes=2)
        got = []
        for p in m.populations:
            cvs = [float(es.cv(es.isi(st))) for st in seg.spiketrains
                   if st.annotations["population"] == p and len(st) > 2]
            entered += len(cvs)
            got.append(np.mean(cvs) if cvs else np.nan)
        np.testing.assert_allclose(got, want, rtol=1e-9)
        np.testing.assert_allclose(got, [float(readout[f"cv{k}"][i]) for k in range(len(got))], rtol=1e-9)
    assert entered > 0.5 * len(pops) * len(SEEDS)


def test_fano_factor_equals_the_count_statistics_of_the_raster(run):
    """Elephant's Fano factor across a population's trains (one seed) equals jaxfne's ``fano_factor``
    readout; across a population (one seed) and across seeds (one neuron) it is var/mean of the
    raster's spike counts, whose mean is jaxfne's rate readout times the run."""
    model, sig, block = run
    m = sig.meta
    counts = np.asarray(sig.spikes).sum(axis=1).astype(float)  # [seed, neuron]
    pops = np.asarray(m.neuron["population"]).astype(str)
    specs = [jaxfne.readout_spec(f"ff{k}", "fano_factor", **s) for k, s in enumerate(_population_selections(m))]
    readout = model.compute_readout(sig, specs).results
    for i, seg in enumerate(block.segments):
        for k, p in enumerate(m.populations):
            trains = [st for st in seg.spiketrains if st.annotations["population"] == p]
            c = counts[i, pops == p]
            np.testing.assert_allclose(es.fanofactor(trains), c.var() / c.mean(), rtol=1e-9)
            np.testing.assert_allclose(es.fanofactor(trains), float(readout[f"ff{k}"][i]), rtol=1e-9)
    rate = model.compute_readout(sig, [jaxfne.readout_spec("r", "spike_rate_hz")]).results["r"]
    np.testing.assert_allclose(counts.mean(axis=1), np.asarray(rate) * T_MS * 1e-3, rtol=1e-12)
    active = np.flatnonzero(counts.sum(axis=0) > 0)
    assert active.size > 100
    across = [es.fanofactor([seg.spiketrains[j] for seg in block.segments]) for j in active]
    c = counts[:, active]
    np.testing.assert_allclose(across, c.var(axis=0) / c.mean(axis=0), rtol=1e-9)


def test_elephant_standard_csd_of_the_exported_lfp_equals_jaxfne_csd(run):
    """``estimate_csd(lfp, method="StandardCSD")`` returns ``-sigma d2phi / h`` in A/m^2 (an areal
    density, source > 0 as jaxfne's): divided by the spacing it is jaxfne's CSD on the inner contacts."""
    _, sig, block = run
    depths = np.asarray(sig.meta.geometry["contact_depths_um"])
    h_m = float(np.diff(depths)[0]) * 1e-6
    for i, seg in enumerate(block.segments):
        lfp = _signal(seg, "LFP")
        coords = lfp.array_annotations["contact_depth_um"][:, None] * pq.um
        for c in ("coordinates", coords):  # the annotation the export sets, and coordinates made here
            est = estimate_csd(lfp, coordinates=c, method="StandardCSD", process_estimate=False,
                               vaknin_el=False, sigma=SIGMA * pq.S / pq.m)
            assert est.shape == (lfp.shape[0], depths.size - 2)
            assert est.t_start == lfp.t_start and est.sampling_rate == lfp.sampling_rate
            got = est.rescale(pq.A / pq.m**2).magnitude / h_m
            want = np.asarray(sig.CSD[i])
            scale = np.abs(want).max()
            assert scale > 1.0
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9 * scale)
        csd = _signal(seg, "CSD")
        np.testing.assert_array_equal(csd.array_annotations["contact_depth_um"], depths[1:-1])


def test_analog_signals_times_units_and_channels(run):
    _, sig, block = run
    ds = sig.to_xarray()
    for i, seg in enumerate(block.segments):
        for a in seg.analogsignals:
            k = a.name
            one, want = pq.Quantity(1.0, a.units).simplified, (1.0 * EXPECTED_UNITS[k]).simplified
            assert one.dimensionality == want.dimensionality, k
            np.testing.assert_allclose(one.magnitude, want.magnitude, rtol=1e-12, err_msg=k)
            period, tdim = {"V_m": (EVERY * DT, "time_rec"), "I_syn": (EVERY * DT, "time_rec"),
                            "BOLD": (TR, "tr")}.get(k, (DT, "time"))
            assert float(a.sampling_period.rescale(pq.ms)) == pytest.approx(period, rel=1e-12)
            assert float(a.t_start.rescale(pq.ms)) == pytest.approx(period, rel=1e-12)  # first sample
            tcoord = ds[tdim].values
            np.testing.assert_allclose(a.times.rescale(pq.ms).magnitude, tcoord, rtol=1e-12)
            data = np.asarray(getattr(sig, k))[i]
            assert data.shape[0] == (4 if k == "BOLD" else 2500 if tdim == "time_rec" else 10000), k
            np.testing.assert_array_equal(a.magnitude, data.reshape(data.shape[0], -1), err_msg=k)
        vm = _signal(seg, "V_m")
        assert vm.shape == (2500, len(RECORD))
        np.testing.assert_array_equal(vm.array_annotations["neuron_id"], ds["neuron_rec"].values)
        np.testing.assert_array_equal(vm.array_annotations["population"], ds["neuron_rec_population"].values)
        for k in ("LFP", "MUA"):
            np.testing.assert_array_equal(_signal(seg, k).array_annotations["contact_depth_um"],
                                          ds["contact_depth_um"].values)
        src = _signal(seg, "source")
        np.testing.assert_array_equal(src.array_annotations["column"], ds["location_column"].values)
        np.testing.assert_array_equal(src.array_annotations["depth_um"], ds["location_depth_um"].values)
        for k, dim in (("EEG", "eeg_channel"), ("MEG", "meg_channel")):
            pos = ds[f"{dim}_position_um"].values
            ann = _signal(seg, k).array_annotations
            np.testing.assert_array_equal(np.stack([ann["x_um"], ann["y_um"], ann["z_um"]], axis=1), pos)
        dip = _signal(seg, "dipole")
        assert dip.shape == (10000, 6)
        for ch, (col, ax) in enumerate(zip(dip.array_annotations["column"], dip.array_annotations["axis"])):
            c, x = ["V1", "V2"].index(col), "xyz".index(ax)
            np.testing.assert_array_equal(dip.magnitude[:, ch], np.asarray(sig.dipole)[i, :, c, x])
        assert list(dip.array_annotations["column"]) == ["V1"] * 3 + ["V2"] * 3


def test_an_unbatched_recording_gives_one_segment(run):
    model, _, _ = run
    sig = jaxfne.simulate(model, duration_ms=20.0, seed=7)
    block = to_neo(sig)
    (seg,) = block.segments
    assert seg.annotations == {"seed": 7, "seed_index": 0}
    assert block.annotations["seeds"] == 7
    t, ids = sig.spike_times()
    assert sum(len(st) for st in seg.spiketrains) == t.size
    for j, st in enumerate(seg.spiketrains):
        assert float(st.t_stop) == 20.0
        np.testing.assert_array_equal(st.magnitude, t[ids == j])
    assert "BOLD" not in {a.name for a in seg.analogsignals}  # 20 ms hold no sample at TR
    vm = _signal(seg, "V_m")
    assert vm.shape == (20.0 / DT / EVERY, len(RECORD)) and float(vm.t_start) == pytest.approx(EVERY * DT)


def _contents(block) -> dict:
    """Everything a Block holds, as plain values to compare."""
    segs = []
    for seg in block.segments:
        segs.append({
            "ann": seg.annotations,
            "trains": [(st.magnitude.tobytes(), float(st.t_start), float(st.t_stop), st.annotations)
                       for st in seg.spiketrains],
            "signals": [(a.name, a.dtype.str, a.shape, a.magnitude.tobytes(), str(a.units), float(a.t_start),
                         float(a.sampling_period),
                         {k: v.tolist() for k, v in a.array_annotations.items()}) for a in seg.analogsignals],
        })
    groups = [(g.name, [st.annotations["neuron_id"] for st in g.spiketrains],
               [(v.obj.name, v.index.tolist()) for v in g.channelviews]) for g in block.groups]
    return {"ann": block.annotations, "segments": segs, "groups": groups}


def test_a_store_round_trip_gives_the_same_block(run, tmp_path):
    _, sig, block = run
    ds = sig.to_xarray()
    path = write_store(ds, tmp_path / "sim.zarr")
    want = _contents(block)
    from_ds, from_store = to_neo(ds), to_neo(path)
    assert _contents(from_ds) == want
    assert _contents(from_store) == want
    assert from_store.file_origin == str(path)
    assert _contents(to_neo(str(path))) == want


def test_provenance_attrs_of_a_dataset_travel_along(run):
    _, sig, _ = run
    ds = sig.to_xarray()
    ds.attrs.update({"prov_config_sha256": "abc123", "prov_jaxfne_version": "9.9"})
    block = to_neo(ds)
    assert block.annotations["prov_config_sha256"] == "abc123"
    assert block.annotations["prov_jaxfne_version"] == "9.9"


@pytest.mark.parametrize("bad", [3.0, None, [1, 2], {"dt_ms": 0.1}, np.zeros(3)])
def test_a_bad_source_is_refused_naming_it(bad):
    with pytest.raises(ConfigurationError) as e:
        to_neo(bad)
    assert e.value.field == "source"


def test_a_missing_store_or_a_foreign_dataset_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="source") as e:
        to_neo(tmp_path / "missing.zarr")
    assert e.value.field == "source" and e.value.value.endswith("missing.zarr")
    with pytest.raises(ConfigurationError) as e:
        to_neo(xr.Dataset(attrs={"title": "not a recording"}))
    assert e.value.field == "source" and "dt_ms" in str(e.value)
    with pytest.raises(ConfigurationError) as e:
        signals_to_neo(xr.Dataset())
    assert e.value.field == "sig"


def test_signal_units_are_chosen_by_name():
    assert set(SIGNAL_UNITS) == set(EXPECTED_UNITS)
    assert pq.Quantity(3.0, signal_units("MEG")).rescale(pq.T).magnitude == pytest.approx(3e-15)
    assert isinstance(neo.AnalogSignal(np.ones((2, 1)), units=signal_units("dipole"), sampling_period=pq.ms).units,
                      pq.Quantity)
    with pytest.raises(ConfigurationError) as e:
        signal_units("spikes")
    assert e.value.field == "name" and e.value.value == "spikes"
