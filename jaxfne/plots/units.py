"""The unit of every readout metric (:data:`jaxfne.metrics.METRICS`), for axis labels.

The readout registry describes each metric in words and gives its unit in
:data:`jaxfne.metrics.METRIC_UNITS`, which the tests check covers every metric.
"""

from __future__ import annotations

from ..metrics import METRIC_UNITS

__all__ = ["metric_unit"]


def metric_unit(kind: str) -> str:
    """The unit of a readout metric key (``""`` for a key the table does not know).

    Parameters
    ----------
    kind : str
        A key of :data:`jaxfne.metrics.METRICS` (the aggregate store's ``metric_kind``).

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
