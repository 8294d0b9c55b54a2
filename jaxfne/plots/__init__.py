"""Figures of recordings, models, sweeps and fits (matplotlib). Never imported by the engine.

Every figure is a :class:`matplotlib.figure.Figure` made without pyplot, so importing this package
leaves the user's backend alone and needs no display; :func:`save` writes one (atomically).

Recordings — each function takes ``data`` (a :class:`jaxfne.Signals` or its Dataset, as
:meth:`~jaxfne.Signals.to_xarray` or a simulation store gives it; batched over ``seed`` or not),
``seed_index``, ``t_window_ms`` and ``ax`` (an Axes, or a sequence of them for a multi-panel figure;
default a new Figure), and returns the Figure it drew on:

- :func:`plot_raster`: spikes by depth (E red, I blue) over the population rate histograms;
- :func:`plot_traces`: V_m and I_syn of recorded neurons;
- :func:`plot_lfp`, :func:`plot_csd`, :func:`plot_laminar`: depth x time images with the layers;
- :func:`plot_dipole`: the current dipole moment per column and axis;
- :func:`plot_sensors`, :func:`plot_eeg_meg`: EEG and MEG traces (coinciding sensors named together);
- :func:`plot_psd`, :func:`plot_spectrogram`: Welch PSDs and spectrograms;
- :func:`plot_geometry`: neurons, layers and contacts, and the head model's sensors.

Models, sweeps and fits: :func:`plot_connectivity` (a model's population x population synapses),
:func:`plot_readout_summary` (the aggregate store), :func:`plot_fit_history` (a fit store).

Example
-------
>>> import jaxfne, jaxfne.plots as jp
>>> cfg = (jaxfne.configuration().runtime(duration_ms=50.0).column("V1", layers=["L2/3", "L4"], n=40)
...        .cell_types({"E": 0.8, "I": 0.2}).connectivity().set_emitter("izhikevich", "cortical_eig")
...        .probes(["SPK", "LFP-proxy", "CSD-proxy"]))
>>> sig = jaxfne.simulate(jaxfne.construct(cfg), seed=[1, 2])
>>> fig = jp.plot_laminar(sig, seed_index=1, t_window_ms=(10.0, 40.0))
>>> type(fig).__name__
'Figure'
"""

from __future__ import annotations

from ._figure import save as save
from .connectivity import connectivity_matrix as connectivity_matrix
from .connectivity import plot_connectivity as plot_connectivity
from .dipole import plot_dipole as plot_dipole
from .fit import plot_fit_history as plot_fit_history
from .geometry import plot_geometry as plot_geometry
from .laminar import plot_csd as plot_csd
from .laminar import plot_laminar as plot_laminar
from .laminar import plot_lfp as plot_lfp
from .raster import plot_raster as plot_raster
from .sensors import coinciding_channels as coinciding_channels
from .sensors import plot_eeg_meg as plot_eeg_meg
from .sensors import plot_sensors as plot_sensors
from .spectra import plot_psd as plot_psd
from .spectra import plot_spectrogram as plot_spectrogram
from .summary import plot_readout_summary as plot_readout_summary
from .traces import plot_traces as plot_traces
from .units import metric_unit as metric_unit

__all__ = [
    "coinciding_channels",
    "connectivity_matrix",
    "metric_unit",
    "plot_connectivity",
    "plot_csd",
    "plot_dipole",
    "plot_eeg_meg",
    "plot_fit_history",
    "plot_geometry",
    "plot_laminar",
    "plot_lfp",
    "plot_psd",
    "plot_raster",
    "plot_readout_summary",
    "plot_sensors",
    "plot_spectrogram",
    "plot_traces",
    "save",
]
