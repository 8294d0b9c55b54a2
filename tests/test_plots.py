"""jaxfne.plots: every figure drawn from a real recording (in memory, batched and not, and read back from
a store), checked as a PNG and against numbers computed another way (numpy, scipy, the synapse table)."""

from __future__ import annotations

import json
import subprocess
import sys

import matplotlib.image as mpimg
import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure
from scipy.signal import welch

import jaxfne
import jaxfne.plots as jp
from jaxfne.errors import ConfigurationError
from jaxfne.io import open_store, write_store
from jaxfne.io.store import add_spike_events
from jaxfne.metrics import METRIC_UNITS, METRICS

PROBES = ["SPK", "Vm", "I_syn", "MUA-proxy", "source-proxy", "LFP-proxy", "CSD-proxy", "EEG-proxy", "MEG-proxy",
          "EMM-proxy"]
#: Four scalp electrodes: above the column, a pair mirrored across the plane of the column's tilt (y = 0),
#: whose potentials coincide by symmetry, and one on the tilt side, which coincides with none.
_Z = float(np.sqrt(89990.0**2 - 15000.0**2))  # on a sphere just inside the scalp's (90 000 µm)
ELECTRODES = [[0.0, 0.0, 89990.0], [0.0, 15000.0, _Z], [0.0, -15000.0, _Z], [15000.0, 0.0, _Z]]


@pytest.fixture(scope="module")
def model():
    cfg = (jaxfne.configuration().runtime(seed=1, duration_ms=100.0, dt_ms=0.1)
           .column("V1", layers=["L2/3", "L4", "L5"], n=100).cell_types({"E": 0.8, "I": 0.2})
           .connectivity().set_emitter("izhikevich", "cortical_eig")
           .probes(PROBES, eeg_electrodes_um=ELECTRODES))
    return jaxfne.construct(cfg)


@pytest.fixture(scope="module")
def batch(model):
    return jaxfne.simulate(model, seed=[1, 2])


@pytest.fixture(scope="module")
def single(model):
    return jaxfne.simulate(model, seed=1)


@pytest.fixture(scope="module")
def stored(batch, tmp_path_factory):
    path = write_store(add_spike_events(batch.to_xarray()), tmp_path_factory.mktemp("plots") / "sim.zarr")
    return open_store(path)


@pytest.fixture(scope="module")
def aggregate(tmp_path_factory):
    """An aggregate store (value[seed, preset, layout, metric]) with metric keys of the registry."""
    rng = np.random.default_rng(3)
    value = rng.normal([6.0, 7.0, -65.0], [0.3, 0.5, 1.0], (3, 2, 2, 3))
    ds = xr.Dataset(
        {"value": (("seed", "preset", "layout", "metric"), value)},
        coords={"seed": [0, 1, 2], "preset": np.array(["izhikevich/cortical_eig", "izhikevich/rs_fs"], dtype=object),
                "layout": np.array(["three_layer", "five_layer"], dtype=object),
                "metric": np.array(["rate_E", "max_rate", "mean_V_m"], dtype=object),
                "metric_kind": ("metric", np.array(["spike_rate_hz", "max_spike_rate_hz", "mean_V_m"], dtype=object))})
    return open_store(write_store(ds, tmp_path_factory.mktemp("agg") / "readouts.zarr"))


def _fit_dataset() -> xr.Dataset:
    return xr.Dataset({"loss": ("step", [4.0, 1.0, 0.5, 0.25]),
                       "param_0": ("step", [1.0, 1.5, 1.7, 1.8], {"path": "params.gain"}),
                       "param_1": (("step", "p1_dim0"), np.arange(8.0).reshape(4, 2), {"path": "params.weight_scale"})},
                      coords={"step": [0, 1, 2, 3]})


# function name -> (call on a recording or the model, number of Axes it draws on)
def _calls(model):
    return {
        "plot_raster": (lambda d, **k: jp.plot_raster(d, **k), 2),
        "plot_traces": (lambda d, **k: jp.plot_traces(d, **k), 2),
        "plot_lfp": (lambda d, **k: jp.plot_lfp(d, **k), 1),
        "plot_csd": (lambda d, **k: jp.plot_csd(d, **k), 1),
        "plot_laminar": (lambda d, **k: jp.plot_laminar(d, **k), 2),
        "plot_dipole": (lambda d, **k: jp.plot_dipole(d, **k), 1),
        "plot_sensors": (lambda d, **k: jp.plot_sensors(d, **k), 2),
        "plot_eeg_meg": (lambda d, **k: jp.plot_eeg_meg(d, **k), 2),
        "plot_psd": (lambda d, **k: jp.plot_psd(d, "LFP", **k), 1),
        "plot_spectrogram": (lambda d, **k: jp.plot_spectrogram(d, "EEG", "EEG001", **k), 1),
        "plot_geometry": (lambda d, **k: jp.plot_geometry(d, **k), 2),
        "plot_connectivity": (lambda d, **k: jp.plot_connectivity(model, **{x: v for x, v in k.items() if x == "ax"}),
                              1),
    }


SIGNAL_FUNCTIONS = ["plot_raster", "plot_traces", "plot_lfp", "plot_csd", "plot_laminar", "plot_dipole",
                    "plot_sensors", "plot_eeg_meg", "plot_psd", "plot_spectrogram", "plot_geometry", "plot_connectivity"]


def _assert_not_blank(path, min_colours: int = 40) -> None:
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 150 and img.shape[1] > 150
    rgb = np.round(img[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    assert float(img[..., :3].std()) > 0.04, f"{path.name} is nearly uniform"
    assert len(np.unique(rgb, axis=0)) > min_colours, f"{path.name} has too few colours"


def test_every_public_function_is_exported_and_documented():
    assert set(SIGNAL_FUNCTIONS) | {"plot_readout_summary", "plot_fit_history", "save"} <= set(jp.__all__)
    for name in jp.__all__:
        obj = getattr(jp, name)
        if callable(obj):
            doc = obj.__doc__ or ""
            assert "Returns" in doc and ">>>" in doc, f"{name} lacks a numpydoc Returns section or an example"


def test_importing_plots_does_not_import_pyplot():
    code = "import sys, jaxfne.plots; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(("name", "source"), [(n, s) for n in SIGNAL_FUNCTIONS for s in ("signals", "single", "store")
                                               if n != "plot_connectivity" or s == "signals"])  # the model's, once
def test_every_figure_renders_to_a_non_blank_png(name, source, model, batch, single, stored, tmp_path):
    data = {"signals": batch, "single": single.to_xarray(), "store": stored}[source]
    draw, _ = _calls(model)[name]
    kw = {"seed_index": 1} if source != "single" and name != "plot_connectivity" else {}
    fig = draw(data, **kw)
    assert isinstance(fig, Figure)
    path = jp.save(fig, tmp_path / f"{name}.png", dpi=60)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # the temporary file was renamed
    _assert_not_blank(path)


@pytest.mark.parametrize("name", SIGNAL_FUNCTIONS)
def test_given_axes_are_drawn_into(name, model, stored):
    draw, n = _calls(model)[name]
    fig = Figure(figsize=(8, 6))
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    out = draw(stored, ax=axes[0] if n == 1 else list(axes))
    assert out is axes[0].figure
    assert all(a.has_data() for a in axes)
    with pytest.raises(ConfigurationError, match="ax="):
        draw(stored, ax=list(axes) + [fig.add_subplot(3, 3, 9)])


def test_summary_and_fit_history_render_and_draw_into_given_axes(aggregate, tmp_path):
    fig = jp.plot_readout_summary(aggregate)
    _assert_not_blank(jp.save(fig, tmp_path / "summary.png", dpi=60))
    fit = jp.plot_fit_history(_fit_dataset(), title="fit of run")
    _assert_not_blank(jp.save(fit, tmp_path / "fit.png", dpi=60), min_colours=20)
    assert [a.get_ylabel() for a in fit.axes] == ["loss", "params.gain", "params.weight_scale"]
    assert fit.axes[0].get_yscale() == "log"
    host = Figure()
    axes = host.subplots(1, 3)
    assert jp.plot_readout_summary(aggregate, ax=axes) is host
    assert all(a.has_data() for a in axes)
    host = Figure()
    axes = host.subplots(3, 1)
    assert jp.plot_fit_history(_fit_dataset(), ax=axes) is host
    assert len(axes[2].lines) == 2  # a vector parameter: one line per element


def test_summary_axes_name_the_swept_axis_and_the_metric_with_its_unit(aggregate):
    fig = jp.plot_readout_summary(aggregate)
    panels = [a for a in fig.axes if a.has_data()]
    assert [a.get_xlabel() for a in panels] == ["preset"] * 3
    assert [a.get_ylabel() for a in panels] == ["rate_E (Hz)", "max_rate (Hz)", "mean_V_m (mV)"]
    assert [a.get_title() for a in panels] == ["rate_E: spike_rate_hz (Hz)", "max_rate: max_spike_rate_hz (Hz)",
                                               "mean_V_m (mV)"]
    assert [t.get_text() for t in panels[0].get_xticklabels()] == ["cortical_eig", "rs_fs"]
    assert not any(a.patches for a in panels)  # points, no bars
    # every sweep point's mean over seeds is drawn, at the value numpy gives
    value = aggregate["value"].values  # [seed, preset, layout, metric]
    for m, a in enumerate(panels):
        drawn = sorted((float(c.lines[0].get_ydata()[0]), float(np.ptp(c.lines[2][0].get_segments()[0][:, 1])) / 2)
                       for c in a.containers)
        expected = sorted(zip(value[:, :, :, m].mean(axis=0).ravel(), value[:, :, :, m].std(axis=0, ddof=1).ravel()))
        np.testing.assert_allclose(drawn, expected)  # mean and sample SD over the seeds
        # and each seed as a dot
        dots = np.sort(np.concatenate([c.get_offsets()[:, 1] for c in a.collections if len(c.get_offsets()) == 3]))
        np.testing.assert_allclose(dots, np.sort(value[:, :, :, m].ravel()))


def test_metric_unit_table_covers_the_readout_registry():
    assert set(METRIC_UNITS) == set(METRICS)
    words = {"Hz": ("Hz", "per second"), "1": ("dimensionless",)}  # how the registry's descriptions say it
    for key, unit in METRIC_UNITS.items():
        assert any(w in METRICS[key] for w in words.get(unit, (unit,))), key


def test_csd_colour_bar_names_the_sign_and_the_image_is_the_csd(batch):
    fig = jp.plot_csd(batch, seed_index=1)
    image_ax, bar_ax = fig.axes
    label = bar_ax.get_ylabel()
    assert "sink" in label and "source" in label and "A/m³" in label
    csd = np.asarray(batch.CSD)[1]  # [time, contact_csd]
    (im,) = image_ax.get_images()
    np.testing.assert_array_equal(np.asarray(im.get_array()), csd.T)
    lim = np.percentile(np.abs(csd), 99.0)
    np.testing.assert_allclose(im.get_clim(), (-lim, lim))
    # the image spans the inner contacts' depths (half a spacing around them) and the steps' time edges
    depth = np.asarray(batch.meta.geometry["contact_depths_um"])[1:-1]
    np.testing.assert_allclose(image_ax.get_ylim(), (depth[-1] + 50.0, depth[0] - 50.0))
    np.testing.assert_allclose(image_ax.get_xlim(), (0.0, 100.0), atol=1e-9)


def test_laminar_draws_the_layer_boundaries_of_the_geometry(stored):
    fig = jp.plot_laminar(stored)
    lfp_ax = fig.axes[0]
    layers = stored.attrs["geometry_json"]
    bounds = sorted({z for tb in json.loads(layers)["layers"].values() for z in tb})
    drawn = sorted({float(line.get_ydata()[0]) for line in lfp_ax.lines})
    np.testing.assert_allclose(drawn, bounds)
    assert {t.get_text() for t in lfp_ax.texts} == {"L2/3", "L4", "L5"}


def test_coinciding_sensors_are_drawn_once_and_named_together(batch):
    fig = jp.plot_sensors(batch, modality="EEG")
    (a,) = fig.axes
    assert [t.get_text() for t in a.get_legend().get_texts()] == ["EEG001", "EEG002 = EEG003", "EEG004"]
    assert len(a.lines) == 3
    eeg = np.asarray(batch.EEG)[0]
    assert np.abs(eeg[:, 1]).max() > 0 and np.abs(eeg[:, 1] - eeg[:, 3]).max() > 1e-3 * np.abs(eeg).max()
    # the MEG sensors above the column are antisymmetric (b and -b), which is no coincidence
    fig = jp.plot_eeg_meg(batch)
    assert [t.get_text() for t in fig.axes[1].get_legend().get_texts()] == ["MEG001", "MEG002", "MEG003"]
    # the column's axis is tilted by 45° towards x: its dipole's x and z parts are one trace
    (a,) = jp.plot_dipole(batch).axes
    assert [t.get_text() for t in a.get_legend().get_texts()] == ["x = z", "y"]
    assert jp.coinciding_channels(np.array([[0.0, 1.0, 1.0 + 1e-12], [2.0, -1.0, -1.0]])) == [[0], [1, 2]]
    assert jp.coinciding_channels(np.array([[1.0, 1.0 + 1e-6]])) == [[0], [1]]


def test_raster_rates_are_spikes_per_neuron_and_second(batch):
    fig = jp.plot_raster(batch, seed_index=1, rate_bin_ms=5.0)
    raster_ax, rate_ax = fig.axes
    spikes = np.asarray(batch.spikes)[1]  # [time, neuron]
    pops = np.asarray(batch.meta.neuron["population"]).astype(str)
    assert sum(len(c.get_offsets()) for c in raster_ax.collections) == int(spikes.sum())
    stairs = rate_ax.patches
    assert [p.get_label() for p in stairs] == ["L2/3E", "L2/3I", "L4E", "L4I", "L5E", "L5I"]
    for patch, pop in zip(stairs, dict.fromkeys(pops.tolist())):
        counts = spikes[:, pops == pop].reshape(20, 50, -1).sum(axis=(1, 2))  # 20 bins of 50 steps
        expected = counts / ((pops == pop).sum() * 5e-3)
        values, edges, _ = patch.get_data()
        np.testing.assert_allclose(values, expected)
        np.testing.assert_allclose(edges, np.arange(21) * 5.0, atol=1e-9)


def test_raster_from_the_stores_ragged_spike_list_matches_the_raster(stored):
    from_raster = jp.plot_raster(stored, seed_index=1, t_window_ms=(20.0, 80.0))
    from_list = jp.plot_raster(stored.drop_vars("spikes"), seed_index=1, t_window_ms=(20.0, 80.0))

    def events(fig):
        return np.sort(np.concatenate([c.get_offsets() for c in fig.axes[0].collections]).view(complex).ravel())

    np.testing.assert_array_equal(events(from_raster), events(from_list))
    assert events(from_raster).size > 0
    for fig in (from_raster, from_list):
        assert fig.axes[0].get_xlim() == pytest.approx((19.9, 80.0))


def test_psd_is_welch_in_hz_and_units_squared_per_hz(batch):
    fig = jp.plot_psd(batch, "EEG", channels=["EEG004"], seed_index=0, nperseg=256)
    (a,) = fig.axes
    assert a.get_ylabel() == "PSD (µV²/Hz)" and a.get_xscale() == "log" and a.get_yscale() == "log"
    x = np.asarray(batch.EEG)[0][:, 3].astype(float)
    f, p = welch(x, fs=10000.0, nperseg=256)
    (line,) = a.lines
    keep = (f > 0) & (p > 0)
    np.testing.assert_allclose(line.get_xdata(), f[keep])
    np.testing.assert_allclose(line.get_ydata(), p[keep])
    # a 120 Hz sine sampled every 0.5 ms peaks at 120 Hz
    t = 0.5 * np.arange(1, 4001)
    sine = xr.Dataset({"LFP": (("time", "contact"), np.sin(2 * np.pi * 0.12 * t)[:, None], {"units": "uV"})},
                      coords={"time": t, "contact_depth_um": ("contact", [300.0])})
    (line,) = jp.plot_psd(sine, "LFP", nperseg=1000).axes[0].lines
    assert line.get_xdata()[np.argmax(line.get_ydata())] == pytest.approx(120.0)
    assert line.get_label() == "300 µm"


def test_spectrogram_colour_bar_has_the_power_unit(batch):
    fig = jp.plot_spectrogram(batch, "dipole", "V1 z")
    assert fig.axes[1].get_ylabel() == "PSD ((nA·m)²/Hz)"
    assert fig.axes[0].get_ylabel() == "frequency (Hz)"


def test_traces_draw_the_recorded_values_with_units(batch):
    fig = jp.plot_traces(batch, neurons=[3, 90], seed_index=1, t_window_ms=(10.0, 30.0))
    vm_ax, isyn_ax = fig.axes
    assert (vm_ax.get_ylabel(), isyn_ax.get_ylabel()) == ("V_m (mV)", "I_syn (pA)")
    assert [line.get_label() for line in vm_ax.lines] == ["neuron 3 (V1:L2/3E)", "neuron 90 (V1:L5E)"]
    t = batch.time_ms
    sel = (t >= 10.0) & (t <= 30.0)
    np.testing.assert_allclose(vm_ax.lines[1].get_ydata(), np.asarray(batch.V_m)[1][sel, 90])
    np.testing.assert_allclose(isyn_ax.lines[0].get_xdata(), t[sel])
    by_pop = jp.plot_traces(batch, population="L4I", signals="V_m", max_traces=3)
    assert [line.get_label().split(" (")[1] for line in by_pop.axes[0].lines] == ["V1:L4I)"] * 3


def test_connectivity_matrix_counts_the_synapse_table(model):
    fig = jp.plot_connectivity(model)
    (im,) = fig.axes[0].get_images()
    pops = list(model.table.populations)
    syn = model.synapses
    index = {p: k for k, p in enumerate(pops)}
    expected = np.zeros((len(pops), len(pops)))
    np.add.at(expected, ([index[p] for p in model.table.population[syn.pre]],
                         [index[p] for p in model.table.population[syn.post]]), 1)
    np.testing.assert_array_equal(np.asarray(im.get_array()), expected)
    assert fig.axes[1].get_ylabel() == "synapses (count)"
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [p.split(":")[1] for p in pops]
    weights = jp.plot_connectivity(model, quantity="mean_weight")
    (im,) = weights.axes[0].get_images()
    pre = np.asarray(im.get_array())[[index["V1:L4I"]]]
    assert np.all(pre < 0)  # inhibitory rows are negative
    lo, hi = im.get_clim()
    assert lo == -hi and weights.axes[1].get_ylabel() == "mean weight (pA/pF)"


def test_geometry_places_neurons_contacts_and_sensors(batch):
    fig = jp.plot_geometry(batch)
    column_ax, head_ax = fig.axes
    offsets = np.concatenate([c.get_offsets() for c in column_ax.collections])
    assert len(offsets) == batch.meta.neuron["depth_um"].size
    np.testing.assert_allclose(np.sort(offsets[:, 1]), np.sort(batch.meta.neuron["depth_um"]))
    contacts = next(line for line in column_ax.lines if line.get_marker() == "s")
    np.testing.assert_allclose(contacts.get_ydata(), batch.meta.geometry["contact_depths_um"])
    labels = {t.get_text() for t in head_ax.texts}
    assert {"EEG001", "EEG004", "MEG003"} <= labels
    assert head_ax.get_xlabel() == "head y (mm)" and head_ax.get_ylabel() == "head z (mm)"


def test_bad_arguments_are_named_before_drawing(batch, single, model):
    cases = [
        (lambda: jp.plot_raster(batch, seed_index=2), "seed_index"),
        (lambda: jp.plot_raster(single, seed_index=1), "seed_index"),
        (lambda: jp.plot_lfp(batch, t_window_ms=(50.0, 10.0)), "t_window_ms"),
        (lambda: jp.plot_lfp(batch, t_window_ms=(500.0, 600.0)), "t_window_ms"),
        (lambda: jp.plot_psd(batch, "BOLD"), "signal"),
        (lambda: jp.plot_psd(batch, "EEG", channels=["EEG009"]), "channels"),
        (lambda: jp.plot_traces(batch, neurons=[1000]), "neurons"),
        (lambda: jp.plot_traces(batch, population="L6E"), "population"),
        (lambda: jp.plot_sensors(batch, modality="ECoG"), "modality"),
        (lambda: jp.plot_connectivity(model, quantity="delay"), "quantity"),
        (lambda: jp.plot_connectivity(batch), "model"),
        (lambda: jp.plot_raster([1, 2]), "data"),
        (lambda: jp.plot_raster(batch, rate_bin_ms=0.0), "rate_bin_ms"),
        (lambda: jp.plot_readout_summary(batch.to_xarray()), "agg"),
    ]
    for call, field in cases:
        with pytest.raises(ConfigurationError) as info:
            call()
        assert info.value.field == field


def test_missing_signals_are_panels_that_say_so():
    ds = xr.Dataset({"LFP": (("time", "contact"), np.ones((10, 3)), {"units": "uV"})},
                    coords={"time": 0.1 * np.arange(1, 11)})
    fig = jp.plot_laminar(ds)
    assert any("CSD not recorded" in t.get_text() for t in fig.axes[1].texts)
    assert fig.axes[0].get_ylabel() == "contact (index)"  # no depth coordinate: positions, said so
    fig = jp.plot_raster(ds)
    assert any("spikes not recorded" in t.get_text() for t in fig.axes[0].texts)
