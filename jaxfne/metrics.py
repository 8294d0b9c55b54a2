"""Readout metrics by name: what each computes, its unit and the signal it reads, and the validated
specification of one readout (:func:`readout_spec`). The computation is :mod:`jaxfne.readouts`;
this module imports neither JAX nor the engine, so a study's readouts are checked where it is
composed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config.schema import recorded_neuron_signals
from .errors import ConfigurationError

__all__ = [
    "BURST_DEFAULTS",
    "CV_MIN_SPIKES",
    "METRICS",
    "METRIC_SIGNALS",
    "METRIC_UNITS",
    "SIGNAL_MODES",
    "ReadoutSpec",
    "check_recorded",
    "readout_spec",
]

#: Burst definition (burst_frequency_hz): a maximal run of at least ``min_spikes`` spikes whose
#: consecutive inter-spike intervals are all <= ``max_isi_ms``. Default 2 spikes and 10 ms, i.e. an
#: intra-burst frequency of at least 100 Hz, the criterion used for intrinsically bursting cortical
#: cells (Connors & Gutnick 1990, Trends Neurosci 13:99) and in Izhikevich (2007) Dynamical Systems in
#: Neuroscience, ch. 9.
BURST_DEFAULTS = {"max_isi_ms": 10.0, "min_spikes": 2}

#: Every readout metric by name, with what it computes and its unit (:func:`jaxfne.readout_spec` takes the name).
METRICS = {
    "spike_rate_hz": "mean firing rate of the selected neurons, Hz",
    "max_spike_rate_hz": "largest single-neuron firing rate among the selected neurons, Hz",
    "mean_V_m": "mean membrane potential of the selected recorded neurons over the window, mV",
    "mean_source": "mean |source density| over the selected bins and window, A/m^3 (the signed mean "
                   "vanishes by current conservation)",
    "mean_LFP": "mean |LFP| over the selected contacts and window, uV",
    "mean_CSD": "mean |CSD| over the selected contacts and window, A/m^3",
    "burst_frequency_hz": "bursts per second per selected neuron (see BURST_DEFAULTS)",
    "cv_isi": "mean coefficient of variation (std/mean, ddof 0) of the inter-spike intervals of the selected "
              "neurons with at least min_spikes spikes in the window (default 3), dimensionless; nan if none",
    "fano_factor": "Fano factor (variance/mean, ddof 0) of the selected neurons' spike counts in the window, "
                   "dimensionless (elephant.statistics.fanofactor of their spike trains)",
}

#: The UDUNITS unit of each metric's value (``"1"``: dimensionless); an aggregate store's
#: ``metric_kind`` is the metric key.
METRIC_UNITS = {
    "spike_rate_hz": "Hz",
    "max_spike_rate_hz": "Hz",
    "burst_frequency_hz": "Hz",
    "mean_V_m": "mV",
    "mean_source": "A/m^3",
    "mean_LFP": "uV",
    "mean_CSD": "A/m^3",
    "cv_isi": "1",
    "fano_factor": "1",
}

#: Spikes a neuron needs in the window to enter ``cv_isi`` (3 spikes, 2 intervals: the rule of the
#: Potjans-Diesmann reference's ``single_neuron_isi_cvs``).
CV_MIN_SPIKES = 3

_SELECT = ("column", "layer", "cell_type", "t_start_ms", "t_stop_ms")
_OPTIONS = {"burst_frequency_hz": tuple(BURST_DEFAULTS), "cv_isi": ("min_spikes",)}


@dataclass(frozen=True)
class ReadoutSpec:
    """One readout: a name, a metric key and its selection/options."""

    name: str
    metric: str
    options: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """A plain dict: ``name``, ``metric`` and the options; :func:`readout_spec` takes it back as keywords."""
        return {"name": self.name, "metric": self.metric, **self.options}


def readout_spec(name: str, metric: str, **kwargs: Any) -> ReadoutSpec:
    """Specify a readout metric.

    Parameters
    ----------
    name : str
        Name under which the result is reported.
    metric : str
        One of ``spike_rate_hz``, ``mean_V_m``, ``mean_source``, ``mean_LFP``, ``mean_CSD``,
        ``max_spike_rate_hz``, ``burst_frequency_hz``, ``cv_isi``, ``fano_factor`` (see :data:`METRICS`).
    column, layer, cell_type : str, optional
        Selection (``cell_type`` is ``"E"`` or ``"I"``).
    t_start_ms, t_stop_ms : float, optional
        Time window; samples at times ``t_start_ms < t <= t_stop_ms`` count.
    max_isi_ms, min_spikes
        Burst definition for ``burst_frequency_hz``; ``min_spikes`` is also the spikes a neuron needs
        in the window to enter ``cv_isi`` (default :data:`CV_MIN_SPIKES`).

    Example
    -------
    >>> import jaxfne as jtfne
    >>> jtfne.readout_spec("firing_rate", "spike_rate_hz").metric
    'spike_rate_hz'
    """
    from .config.validate import check_number, check_option, check_str

    check_str("readout_spec.name", name)
    check_option("readout_spec.metric", metric, tuple(METRICS))
    allowed = _SELECT + _OPTIONS.get(metric, ())
    for k in kwargs:
        if k not in allowed:
            raise ConfigurationError(f"readout_spec.{k}", kwargs[k], "one of " + ", ".join(allowed))
    opts = {k: v for k, v in kwargs.items() if v is not None}
    for k in ("t_start_ms", "t_stop_ms", "max_isi_ms"):
        if k in opts:
            opts[k] = check_number(f"readout_spec.{k}", opts[k], lo=0)
    if "cell_type" in opts:
        check_option("readout_spec.cell_type", opts["cell_type"], ("E", "I"))
    if "min_spikes" in opts:
        from .config.validate import check_int

        check_int("readout_spec.min_spikes", opts["min_spikes"], lo=2)
    if "t_start_ms" in opts and "t_stop_ms" in opts and opts["t_stop_ms"] <= opts["t_start_ms"]:
        raise ConfigurationError("readout_spec.t_stop_ms", opts["t_stop_ms"], f"a time after t_start_ms={opts['t_start_ms']:g}")
    return ReadoutSpec(name=name, metric=metric, options=opts)


#: The probe mode that records each signal a metric reads.
SIGNAL_MODES = {"spikes": "SPK", "V_m": "Vm", "source": "source-proxy", "LFP": "LFP-proxy", "CSD": "CSD-proxy"}
#: The signal each metric reads.
METRIC_SIGNALS = {"spike_rate_hz": "spikes", "max_spike_rate_hz": "spikes", "burst_frequency_hz": "spikes",
                  "cv_isi": "spikes", "fano_factor": "spikes", "mean_V_m": "V_m", "mean_source": "source", "mean_LFP": "LFP", "mean_CSD": "CSD"}


def check_recorded(readout_specs, modes, field: str = "readouts") -> None:
    """Refuse, before a run, readouts of a signal the probe modes ``modes`` do not record.

    Raises
    ------
    ConfigurationError
        Naming ``<field>[i].metric``, the metric and the probe mode to add.
    """
    recorded = set(recorded_neuron_signals(modes)) | {s for s, m in SIGNAL_MODES.items() if m in modes}
    for i, spec in enumerate(readout_specs):
        signal = METRIC_SIGNALS[spec.metric]
        mode = SIGNAL_MODES[signal]
        if signal not in recorded:
            raise ConfigurationError(f"{field}[{i}].metric", spec.metric,
                                     f"a metric of a recorded signal: {spec.metric} reads {signal}, which probe "
                                     f"mode {mode!r} records (the probes record: {', '.join(modes)})")
