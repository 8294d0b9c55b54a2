"""A fit's history: the loss and every fitted parameter per optimiser step."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ConfigurationError
from ._figure import new_axes

__all__ = ["plot_fit_history"]


def plot_fit_history(fit: xr.Dataset, *, ax=None, title: str = ""):
    """A fit's loss per optimiser step (log scale when positive) over the trajectory of every fitted
    parameter; a vector parameter is one line per element.

    Parameters
    ----------
    fit : xarray.Dataset
        A fit store's Dataset (:meth:`jaxfne.fitting.FitResult.to_xarray`): ``loss[step]`` and
        ``param_<i>[step, ...]`` with the attribute ``path``.
    ax : sequence of matplotlib Axes, optional
        One Axes for the loss, then one per parameter; default a new Figure.
    title : str
        Title of the loss panel (default "fit").

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Examples
    --------
    >>> import numpy as np, xarray as xr, jaxfne.plots as jp
    >>> fit = xr.Dataset({"loss": ("step", [4.0, 1.0, 0.25]),
    ...                   "param_0": ("step", [1.0, 1.5, 1.75], {"path": "params.gain"})},
    ...                  coords={"step": [0, 1, 2]})
    >>> fig = jp.plot_fit_history(fit)
    >>> [a.get_ylabel() for a in fig.axes]
    ['loss', 'params.gain']
    """
    if not isinstance(fit, xr.Dataset) or "loss" not in fit or "step" not in fit.coords:
        raise ConfigurationError("fit", type(fit).__name__, "a fit store's Dataset: loss[step], param_<i>[step, ...]")
    names = sorted((k for k in fit.data_vars if str(k).startswith("param_") and str(k)[6:].isdigit()),
                   key=lambda k: int(str(k)[6:]))
    fig, axes, _ = new_axes(ax, 1 + len(names), figsize=(7, 2.2 * (1 + len(names))), sharex=True)
    step = np.asarray(fit["step"].values)
    loss = np.asarray(fit["loss"].values, float)
    first = axes[0]
    first.plot(step, loss, "k.-")
    if np.all(loss > 0):
        first.set_yscale("log")
    first.set_ylabel("loss")
    first.set_title(title or "fit")
    for a, name in zip(axes[1:], names):
        trace = np.asarray(fit[name].values, float).reshape(step.size, -1)
        a.plot(step, trace, ".-", lw=1)
        a.set_ylabel(str(fit[name].attrs.get("path", name)), fontsize=8)
    axes[-1].set_xlabel("optimiser step")
    return fig
