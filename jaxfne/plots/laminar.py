"""Depth x time images of the laminar field: LFP, CSD, and both side by side."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..config.validate import check_number
from ._data import (
    depths,
    layer_bounds,
    prepare,
    sample_ms,
    select,
    time_dim,
    times,
)
from ._figure import draw_layers, finish, label, missing, new_axes, units_of

__all__ = ["plot_csd", "plot_laminar", "plot_lfp"]

#: Colour bar note of the CSD's sign (jaxfne's CSD is -sigma d2phi/dz2: sources positive).
CSD_SIGN = "sink (-) / source (+)"


def _edges(centres: np.ndarray, default_width: float) -> np.ndarray:
    """Cell edges around sorted centres (half-way between neighbours; the end cells mirrored)."""
    if centres.size == 1:
        return centres[0] + np.array([-0.5, 0.5]) * default_width
    mids = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[2 * centres[0] - mids[0]], mids, [2 * centres[-1] - mids[-1]]])


def _image(ax, fig, ds, name: str, seed, window, *, cmap: str, clip_percentile: float, sign: str) -> None:
    da = select(ds[name], seed, window)
    tdim = time_dim(da)
    dim = next(d for d in da.dims if d != tdim)
    z, is_depth = depths(ds[name], dim)
    order = np.argsort(z)
    img = np.asarray(da.transpose(dim, tdim).values, dtype=float)[order]
    z = z[order]
    t, dt = times(da), sample_ms(da, ds)
    t_edges = np.concatenate([[t[0] - dt], t])
    z_edges = _edges(z, 100.0)
    finite = np.abs(img[np.isfinite(img)])
    lim = float(np.percentile(finite, clip_percentile)) if finite.size else 0.0
    lim = lim if lim > 0 else (float(finite.max()) if finite.size and finite.max() > 0 else 1.0)
    steps = np.diff(z_edges)
    if np.allclose(steps, steps[0], rtol=1e-6) and np.allclose(np.diff(t), dt, rtol=1e-6):
        im = ax.imshow(img, aspect="auto", cmap=cmap, vmin=-lim, vmax=lim, interpolation="nearest", origin="upper",
                       extent=(t_edges[0], t_edges[-1], z_edges[-1], z_edges[0]))
    else:
        im = ax.pcolormesh(t_edges, z_edges, img, cmap=cmap, vmin=-lim, vmax=lim, shading="flat", rasterized=True)
    ax.set_ylim(z_edges[-1], z_edges[0])
    ax.set_xlim(t_edges[0], t_edges[-1])
    cb = fig.colorbar(im, ax=ax, pad=0.02)
    units = units_of(ds[name])
    cb.set_label(label(name, units) + (f"\n{sign}" if sign else ""))
    if is_depth:
        draw_layers(ax, layer_bounds(ds), side="left", colour="0.2")
        ax.set_ylabel("depth below the pia (µm)")
    else:
        ax.set_ylabel(f"{dim} (index)")
    ax.set_xlabel("time (ms)")
    ax.set_title(f"{name}, colour limits ±{lim:.3g} {units}".rstrip(), fontsize=9)


def _field(data, name: str, seed_index, t_window_ms, ax, title, cmap, clip_percentile, sign):
    ds, seed, window = prepare(data, seed_index, t_window_ms)
    clip = check_number("clip_percentile", clip_percentile, lo=0, lo_open=True)
    fig, (a,), created = new_axes(ax, 1, figsize=(7, 4.5))
    if name in ds:
        _image(a, a.figure, ds, name, seed, window, cmap=cmap, clip_percentile=min(clip, 100.0), sign=sign)
    else:
        missing(a, name)
    return finish(fig, [a], created, title, "laminar " + name)


_COMMON = """
    Parameters
    ----------
    data : jaxfne.Signals or xarray.Dataset
        A recording with {probe}, batched over ``seed`` or not.
    seed_index : int
        Position of the seed to draw along ``seed``.
    t_window_ms : (float, float), optional
        Samples at times ``start <= t <= stop`` (ms); default the whole recording.
    ax : matplotlib Axes, optional
        Axes to draw into (its figure gets the colour bar); default a new Figure.
    title : str
        Figure title.
    cmap : str
        Diverging colour map; positive values red with the default.
    clip_percentile : float
        The colour limits are ±(this percentile of the absolute values), symmetric about 0.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.
"""


def plot_lfp(data, *, seed_index: int = 0, t_window_ms: Sequence[float] | None = None, ax=None,
             title: str = "", cmap: str = "RdBu_r", clip_percentile: float = 99.0):
    """The LFP (µV) as a depth x time image at the laminar contacts, with the layer boundaries.
    {common}
    Examples
    --------
    >>> import jaxfne, jaxfne.plots as jp
    >>> cfg = (jaxfne.configuration().runtime(duration_ms=50.0).column("V1", layers=["L2/3", "L4"], n=40)
    ...        .cell_types({{"E": 0.8, "I": 0.2}}).connectivity().set_emitter("izhikevich", "cortical_eig")
    ...        .probes(["SPK", "LFP-proxy"]))
    >>> fig = jp.plot_lfp(jaxfne.simulate(jaxfne.construct(cfg), seed=1))
    >>> fig.axes[1].get_ylabel()
    'LFP (µV)'
    """
    return _field(data, "LFP", seed_index, t_window_ms, ax, title, cmap, clip_percentile, "")


def plot_csd(data, *, seed_index: int = 0, t_window_ms: Sequence[float] | None = None, ax=None,
             title: str = "", cmap: str = "RdBu_r", clip_percentile: float = 99.0):
    """The CSD (A/m³) as a depth x time image at the inner contacts, with the layer boundaries.

    jaxfne's CSD is ``-sigma d2phi/dz2``: current sources are positive (red with the default colour
    map), sinks negative (blue); the colour bar says so ("sink (-) / source (+)").
    {common}
    Examples
    --------
    >>> import jaxfne, jaxfne.plots as jp
    >>> cfg = (jaxfne.configuration().runtime(duration_ms=50.0).column("V1", layers=["L2/3", "L4"], n=40)
    ...        .cell_types({{"E": 0.8, "I": 0.2}}).connectivity().set_emitter("izhikevich", "cortical_eig")
    ...        .probes(["SPK", "CSD-proxy"]))
    >>> fig = jp.plot_csd(jaxfne.simulate(jaxfne.construct(cfg), seed=1))
    >>> fig.axes[1].get_ylabel()
    'CSD (A/m³)\\nsink (-) / source (+)'
    """
    return _field(data, "CSD", seed_index, t_window_ms, ax, title, cmap, clip_percentile, CSD_SIGN)


def plot_laminar(data, *, seed_index: int = 0, t_window_ms: Sequence[float] | None = None, ax=None,
                 title: str = "", cmap: str = "RdBu_r", clip_percentile: float = 99.0):
    """LFP (left) and CSD (right) as depth x time images: :func:`plot_lfp` and :func:`plot_csd`
    side by side.
    {common}
    Examples
    --------
    >>> import jaxfne, jaxfne.plots as jp
    >>> cfg = (jaxfne.configuration().runtime(duration_ms=50.0).column("V1", layers=["L2/3", "L4"], n=40)
    ...        .cell_types({{"E": 0.8, "I": 0.2}}).connectivity().set_emitter("izhikevich", "cortical_eig")
    ...        .probes(["SPK", "LFP-proxy", "CSD-proxy"]))
    >>> fig = jp.plot_laminar(jaxfne.simulate(jaxfne.construct(cfg), seed=1))
    >>> len(fig.axes)  # two images, two colour bars
    4
    """
    ds, seed, window = prepare(data, seed_index, t_window_ms)
    clip = min(check_number("clip_percentile", clip_percentile, lo=0, lo_open=True), 100.0)
    fig, axes, created = new_axes(ax, 2, figsize=(12, 4.5), ncols=2)
    for a, name, sign in zip(axes, ("LFP", "CSD"), ("", CSD_SIGN)):
        if name in ds:
            _image(a, a.figure, ds, name, seed, window, cmap=cmap, clip_percentile=clip, sign=sign)
        else:
            missing(a, name)
    return finish(fig, axes, created, title, "laminar field")


for _f, _probe in ((plot_lfp, "``LFP-proxy``"), (plot_csd, "``CSD-proxy``"),
                   (plot_laminar, "``LFP-proxy`` and/or ``CSD-proxy``")):
    _f.__doc__ = _f.__doc__.format(common=_COMMON.format(probe=_probe))
