"""Plots: every figure of :mod:`jaxfne.plots` on one recording, drawn into a figure of your own.

Each plot function takes a :class:`jaxfne.Signals` or a Dataset (a simulation store read back, batched
over seeds or not) and an optional ``ax=``: given Axes it draws there (so figures compose with your
own matplotlib layout), without it it makes a new :class:`matplotlib.figure.Figure`. jaxfne never
imports pyplot, so your backend is left alone; :func:`jaxfne.plots.save` writes a PNG atomically.

The column is the field-probe showcase (:func:`jaxfne.presets.rs_fs`: RS/FS Izhikevich cells with
Poisson background and a thalamic volley into L4 at 500-505 ms), two seeds in one call.

Run it with ``python examples/06_plots.py``; ``JAXFNE_EXAMPLE_SCALE=small`` runs a 60-neuron column
(the tests), unset a 1000-neuron one. The figures go to ``$JAXFNE_EXAMPLE_OUT/06_plots/``
(default ``results/examples/``).
"""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.figure import Figure

import jaxfne as jtfne
import jaxfne.plots as jp
from jaxfne.errors import ConfigurationError

SCALE = os.environ.get("JAXFNE_EXAMPLE_SCALE", "")
if SCALE not in ("", "small"):
    raise ConfigurationError("JAXFNE_EXAMPLE_SCALE", SCALE, "'small' (tiny sizes, as the tests run) or unset")
SMALL = SCALE == "small"
OUT = Path(os.environ.get("JAXFNE_EXAMPLE_OUT", "results/examples")) / "06_plots"

N_NEURONS = 60 if SMALL else 1000
DURATION_MS = 530.0 if SMALL else 700.0
WINDOW_MS = (450.0, 530.0)  # around the volley


def main() -> None:
    """Simulate the RS/FS column with every probe and draw every plot."""
    column = (jtfne.configuration()
              .runtime(seed=3, duration_ms=DURATION_MS, dt_ms=0.1)
              .column("V1", layers=["L2/3", "L4", "L5"], n=N_NEURONS)
              .cell_types({"E": 0.8, "I": 0.2})
              .connectivity())
    cfg = jtfne.presets.rs_fs(column).probes(
        ["SPK", "Vm", "I_syn", "source-proxy", "LFP-proxy", "CSD-proxy", "EEG-proxy", "MEG-proxy"],
        record_neurons=list(range(0, N_NEURONS, max(1, N_NEURONS // 20))))
    model = jtfne.construct(cfg)
    signals = jtfne.simulate(model, seed=[3, 4])                 # a batch: seed_index picks one

    # -- one call, one figure: each returns the Figure it drew ---------------------------------------
    figures = {
        "raster": jp.plot_raster(signals, seed_index=1),          # by depth, rates per population below
        "traces": jp.plot_traces(signals, t_window_ms=WINDOW_MS),  # V_m and I_syn of recorded neurons
        "laminar": jp.plot_laminar(signals),                      # LFP and CSD images, layer lines
        "dipole": jp.plot_dipole(signals),
        "sensors": jp.plot_sensors(signals, t_window_ms=WINDOW_MS),  # coinciding sensors named once
        "psd": jp.plot_psd(signals, "LFP"),
        "spectrogram": jp.plot_spectrogram(signals, "EEG", channel=0),
        "connectivity": jp.plot_connectivity(model),              # synapses per population pair
        "geometry": jp.plot_geometry(signals),                    # neurons, contacts, head sensors
    }

    # -- your own layout: pass the Axes ---------------------------------------------------------------
    fig = Figure(figsize=(11, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    jp.plot_csd(signals, t_window_ms=WINDOW_MS, ax=left)
    jp.plot_psd(signals, "EEG", ax=right)
    figures["composed"] = fig

    # -- the same plots from a store, without the model ------------------------------------------------
    ds = signals.to_xarray()
    figures["raster_from_dataset"] = jp.plot_raster(ds, t_window_ms=WINDOW_MS)

    for name, figure in figures.items():
        print("wrote", jp.save(figure, OUT / f"{name}.png"))


if __name__ == "__main__":
    main()
