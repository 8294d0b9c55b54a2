"""The current dipole moment of every column over time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..config.validate import check_number
from ..errors import ConfigurationError
from ._data import labels, prepare, select, times
from ._figure import finish, label, missing, new_axes, units_of
from .sensors import coinciding_channels

__all__ = ["plot_dipole"]

_STYLES = ("-", "--", ":", "-.")


def plot_dipole(data, *, seed_index: int = 0, t_window_ms: Sequence[float] | None = None, ax=None,
                title: str = "", components: Sequence[str] = ("x", "y", "z"), rtol: float = 1e-9):
    """The current dipole moment (nA·m) per column and axis over time.

    One line per column and component in head coordinates (the column axis is tilted in the head
    model, so a column's moment has x and z parts): colour by component, line style by column.
    Components whose traces coincide (within ``rtol``; x and z under the default 45° tilt) are drawn
    once and named together in the legend ("x = z").

    Parameters
    ----------
    data : jaxfne.Signals or xarray.Dataset
        A recording with a field probe (the dipole is reported with every field probe), batched over
        ``seed`` or not.
    seed_index : int
        Position of the seed to draw along ``seed``.
    t_window_ms : (float, float), optional
        Samples at times ``start <= t <= stop`` (ms); default the whole recording.
    ax : matplotlib Axes, optional
        Axes to draw into; default a new Figure.
    title : str
        Figure title.
    components : sequence of str
        Which of ``"x"``, ``"y"``, ``"z"`` to draw.
    rtol : float
        Relative tolerance under which traces coincide (:func:`jaxfne.plots.coinciding_channels`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Examples
    --------
    >>> import jaxfne, jaxfne.plots as jp
    >>> cfg = (jaxfne.configuration().runtime(duration_ms=50.0).column("V1", layers=["L2/3", "L4"], n=40)
    ...        .cell_types({"E": 0.8, "I": 0.2}).connectivity().set_emitter("izhikevich", "cortical_eig")
    ...        .probes(["SPK", "EEG-proxy"]))
    >>> fig = jp.plot_dipole(jaxfne.simulate(jaxfne.construct(cfg), seed=1), components=("x", "z"))
    >>> fig.axes[0].get_ylabel()
    'dipole moment (nA·m)'
    """
    ds, seed, window = prepare(data, seed_index, t_window_ms)
    comps = [components] if isinstance(components, str) else list(components)
    if not comps or any(c not in ("x", "y", "z") for c in comps) or len(set(comps)) != len(comps):
        raise ConfigurationError("components", components, "a non-empty sequence of 'x', 'y', 'z'")
    rtol = check_number("rtol", rtol, lo=0, lo_open=True)
    fig, (a,), created = new_axes(ax, 1, figsize=(8, 3.5))
    if "dipole" not in ds:
        missing(a, "dipole")
        return finish(fig, [a], created, title, "current dipole moment")
    da = select(ds["dipole"], seed, window).transpose("time", "column", "xyz")
    t = times(da)
    values = np.asarray(da.values, dtype=float)  # [time, column, xyz]
    columns = labels(da["column"].values) if "column" in da.coords else [f"column {k}" for k in range(da.sizes["column"])]
    axis_names = labels(da["xyz"].values).tolist() if "xyz" in da.coords else ["x", "y", "z"]
    traces = [(ci, axis_names.index(c)) for ci in range(len(columns)) for c in comps]
    names = [f"{columns[ci]} {axis_names[k]}" if len(columns) > 1 else axis_names[k] for ci, k in traces]
    stacked = np.stack([values[:, ci, k] for ci, k in traces], axis=1)
    for group in coinciding_channels(stacked, rtol):  # equal traces (a 45° tilt: x = z) drawn once, named together
        ci, k = traces[group[0]]
        a.plot(t, stacked[:, group[0]], lw=0.9, color=f"C{k}", ls=_STYLES[ci % len(_STYLES)],
               label=" = ".join(names[g] for g in group))
    a.axhline(0.0, color="0.6", lw=0.5, zorder=0)
    a.set_ylabel(label("dipole moment", units_of(ds["dipole"])))
    a.set_xlabel("time (ms)")
    a.legend(loc="best", fontsize=7, ncol=len(comps), frameon=False)
    return finish(fig, [a], created, title, "current dipole moment")
