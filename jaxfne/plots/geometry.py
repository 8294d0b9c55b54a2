"""Where everything sits: the column's neurons, layers and contacts, and the head model's sensors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._data import (
    channel_labels,
    coord,
    json_attr,
    layer_bounds,
    neuron_table,
    prepare,
    spike_list,
)
from ._figure import TYPE_COLOURS, draw_layers, finish, new_axes

__all__ = ["plot_geometry"]

_XYZ = ("x", "y", "z")


def _column_panel(a, ds, seed, window) -> None:
    table = neuron_table(ds)
    geometry = json_attr(ds, "geometry_json")
    spikes = spike_list(ds, seed, window)
    active = np.zeros(table["depth_um"].size, bool)
    if spikes is not None:
        active[np.unique(spikes.neurons)] = True
    for ct in dict.fromkeys(table["cell_type"].tolist()):
        sel = table["cell_type"] == ct
        colour = TYPE_COLOURS.get(ct, "0.3")
        for fired in (True, False) if spikes is not None else (None,):
            s = sel if fired is None else sel & (active == fired)
            if not s.any():
                continue
            what = "" if fired is None else " fired" if fired else " silent"
            a.scatter(table["x_um"][s], table["depth_um"][s], s=12, lw=0.8, edgecolors=colour,
                      facecolors=colour if fired in (None, True) else "none",
                      label=f"{ct}{what} ({int(s.sum())})", zorder=3)
    radius = geometry.get("radius_um")
    for k, centre in enumerate(geometry.get("centers_xy_um", [])):
        r = float(radius[k] if isinstance(radius, list) else radius) if radius is not None else None
        if r:
            for x in (centre[0] - r, centre[0] + r):
                a.axvline(x, color="0.6", lw=0.6, ls=":", zorder=1)
    contacts = np.asarray(geometry.get("contacts_um", []), dtype=float).reshape(-1, 3)
    if not contacts.size:
        depth = coord(ds, "contact_depth_um", "contact")
        if depth is not None:
            contacts = np.column_stack([np.zeros(len(depth)), np.zeros(len(depth)), -np.asarray(depth, float)])
    if contacts.size:
        a.plot(contacts[:, 0], -contacts[:, 2], "ks-", ms=4, lw=0.8, label=f"contacts ({len(contacts)})", zorder=4)
    depth = table["depth_um"]
    layers = layer_bounds(ds)
    z = np.concatenate([depth, -contacts[:, 2], [v for b in layers.values() for v in b]])
    a.set_ylim(float(z.max()) + 40.0, min(0.0, float(z.min())) - 60.0)
    a.axhline(0.0, color="0.3", lw=1.0)
    a.text(0.99, 0.0, "pia", transform=a.get_yaxis_transform(), ha="right", va="bottom", fontsize=8)
    draw_layers(a, layers, side="left", colour="0.5")
    a.set_xlabel("x (µm)")
    a.set_ylabel("depth below the pia (µm)")
    a.set_title("column, side view", fontsize=9)
    a.legend(loc="lower right", fontsize=7, frameon=True)


def _head_panel(a, ds) -> None:
    from matplotlib.patches import Circle

    from ..probes.dipole import DEFAULT_HEAD_RADII_UM

    probe = json_attr(ds, "probe_json")
    groups = {name: np.asarray(probe[key], dtype=float).reshape(-1, 3) / 1e3
              for name, key in (("EEG electrodes", "eeg_electrodes_um"), ("MEG sensors", "meg_sensors_um"),
                                ("columns", "column_positions_um")) if probe.get(key)}
    if not groups:
        a.text(0.5, 0.5, "no EEG/MEG sensors or head position recorded", ha="center", va="center",
               transform=a.transAxes, color="0.4")
        a.set_xticks([])
        a.set_yticks([])
        return
    points = np.concatenate(list(groups.values()))
    spread = np.ptp(points, axis=0) if len(points) > 1 else np.array([0.0, 1.0, 1.0])
    h, v = sorted(np.argsort(-spread, kind="stable")[:2])  # the plane the positions spread in most
    for r in DEFAULT_HEAD_RADII_UM:
        a.add_patch(Circle((0.0, 0.0), r / 1e3, fill=False, color="0.75", lw=0.7, zorder=1))
    styles = {"EEG electrodes": ("^", "tab:green"), "MEG sensors": ("s", "tab:purple"), "columns": ("*", "k")}
    for name, pos in groups.items():
        marker, colour = styles[name]
        a.scatter(pos[:, h], pos[:, v], marker=marker, s=60 if name == "columns" else 30, color=colour,
                  label=f"{name} ({len(pos)})", zorder=3)
        prefix, dim = {"EEG electrodes": ("EEG", "eeg_channel"), "MEG sensors": ("MEG", "meg_channel")}.get(
            name, (None, None))
        if prefix:
            names = (channel_labels(ds, dim, prefix) if ds.sizes.get(dim) == len(pos)
                     else [f"{prefix}{k + 1:03d}" for k in range(len(pos))])
            for text, p in zip(names, pos):
                a.annotate(text, (p[h], p[v]), textcoords="offset points", xytext=(4, 4), fontsize=6, color=colour)
    axis = np.asarray(probe.get("column_axis", []), dtype=float)
    if axis.shape == (3,) and "columns" in groups:
        for p in groups["columns"]:
            a.annotate("", (p[h] + 8.0 * axis[h], p[v] + 8.0 * axis[v]), (p[h], p[v]),
                       arrowprops={"arrowstyle": "->", "color": "k", "lw": 0.8})
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = 0.15 * max(hi[h] - lo[h], hi[v] - lo[v], 10.0)
    a.set_xlim(lo[h] - pad, hi[h] + pad)
    a.set_ylim(lo[v] - pad, hi[v] + pad)
    a.set_aspect("equal", adjustable="box")
    a.set_xlabel(f"head {_XYZ[h]} (mm)")
    a.set_ylabel(f"head {_XYZ[v]} (mm)")
    a.set_title("head model (four spheres: brain, CSF, skull, scalp)", fontsize=9)
    a.legend(loc="lower right", fontsize=7, frameon=True)


def plot_geometry(data, *, seed_index: int = 0, t_window_ms: Sequence[float] | None = None, ax=None,
                  title: str = ""):
    """The recording's geometry: the column from the side, and the head model's sensors.

    Left: every neuron at its x position and depth (E red, I blue; filled if it fired in the seed and
    window, open if it did not, when spikes are recorded), the layer boundaries, the column's lateral
    edges (dotted) and the laminar contacts. Right: the EEG electrodes, MEG sensors and column
    positions of the head model (``probe_json``), with the column axis (arrow) and the four head
    spheres, projected on the plane in which they spread most (mm).

    Parameters
    ----------
    data : jaxfne.Signals or xarray.Dataset
        A recording (its neuron table, ``geometry_json`` and ``probe_json``), batched over ``seed``
        or not.
    seed_index : int
        Position of the seed whose spikes mark neurons as fired.
    t_window_ms : (float, float), optional
        Window (ms) in which a spike marks its neuron as fired; default the whole recording.
    ax : sequence of 2 matplotlib Axes, optional
        Column and head Axes; default a new Figure.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Examples
    --------
    >>> import jaxfne, jaxfne.plots as jp
    >>> cfg = (jaxfne.configuration().runtime(duration_ms=20.0).column("V1", layers=["L2/3", "L4"], n=40)
    ...        .cell_types({"E": 0.8, "I": 0.2}).connectivity().set_emitter("izhikevich", "cortical_eig")
    ...        .probes(["SPK", "LFP-proxy", "EEG-proxy", "MEG-proxy"]))
    >>> fig = jp.plot_geometry(jaxfne.simulate(jaxfne.construct(cfg), seed=1))
    >>> [a.get_xlabel() for a in fig.axes]
    ['x (µm)', 'head y (mm)']
    """
    ds, seed, window = prepare(data, seed_index, t_window_ms)
    fig, axes, created = new_axes(ax, 2, figsize=(11, 5), ncols=2)
    _column_panel(axes[0], ds, seed, window)
    _head_panel(axes[1], ds)
    return finish(fig, axes, created, title, "recording geometry")
