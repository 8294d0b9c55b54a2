"""The unit of every readout metric (:data:`jaxfne.readouts.METRICS`), for axis labels.

The readout registry describes each metric in words; the figures need the unit alone. The table is
checked against the registry by the tests, so a new metric without a unit fails them.
"""

from __future__ import annotations

__all__ = ["METRIC_UNITS", "metric_unit"]

#: Metric key (an aggregate store's ``metric_kind``) -> UDUNITS unit of its value (``"1"``: dimensionless).
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


def metric_unit(kind: str) -> str:
    """The unit of a readout metric key (``""`` for a key the table does not know).

    Parameters
    ----------
    kind : str
        A key of :data:`jaxfne.readouts.METRICS` (the aggregate store's ``metric_kind``).

    Returns
    -------
    str
        The UDUNITS unit string.

    Examples
    --------
    >>> metric_unit("mean_V_m")
    'mV'
    """
    return METRIC_UNITS.get(str(kind), "")
