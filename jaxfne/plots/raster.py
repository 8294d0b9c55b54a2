"""The spike raster by depth, over the population rate histograms."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..config.validate import check_int, check_number
from ._data import (
    layer_bounds,
    neuron_table,
    prepare,
    spike_list,
)
from ._figure import (
    TYPE_COLOURS,
    draw_layers,
    finish,
    missing,
    new_axes,
    population_colours,
)

__all__ = ["plot_raster"]


def plot_raster(data, *, seed_index: int = 0, t_window_ms: Sequence[float] | None = None, ax=None,
                title: str = "", rate_bin_ms: float = 5.0, max_populations: int = 12):
    """Spike raster (neurons by depth below the pia) over the population rate histograms.

    One tick per spike at the neuron's depth, E cells red and I cells blue, the layer boundaries
    (dashed) and names; beneath, each population's rate in Hz per neuron in ``rate_bin_ms`` bins (one
    histogram per population up to ``max_populations``, else the whole network's).

    Parameters
    ----------
    data : jaxfne.Signals or xarray.Dataset
        A recording with ``SPK`` (the raster ``spikes``, or a store's ragged list
        ``spike_count``/``spike_time``), batched over ``seed`` or not.
    seed_index : int
        Position of the seed to draw along ``seed``.
    t_window_ms : (float, float), optional
        Samples at times ``start <= t <= stop`` (ms); default the whole recording.
    ax : sequence of 2 matplotlib Axes, optional
        Raster and rate Axes to draw into; default a new Figure.
    title : str
        Figure title (default "spike raster").
    rate_bin_ms : float
        Width of the rate bins, ms, rounded to a whole number of steps. Bins start at the beginning
        of the window's first step, and each spike (sampled at the end of its step) falls in the bin
        that holds its step.
    max_populations : int
        Most populations drawn one by one.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Examples
    --------
    >>> import jaxfne, jaxfne.plots as jp
    >>> cfg = (jaxfne.configuration().runtime(duration_ms=50.0).column("V1", layers=["L2/3", "L4"], n=40)
    ...        .cell_types({"E": 0.8, "I": 0.2}).connectivity().set_emitter("izhikevich", "cortical_eig")
    ...        .probes(["SPK"]))
    >>> fig = jp.plot_raster(jaxfne.simulate(jaxfne.construct(cfg), seed=1), rate_bin_ms=2.0)
    >>> [a.get_ylabel() for a in fig.axes]
    ['depth below the pia (µm)', 'rate (Hz per neuron, 2 ms bins)']
    """
    ds, seed, window = prepare(data, seed_index, t_window_ms)
    rate_bin_ms = check_number("rate_bin_ms", rate_bin_ms, lo=0, lo_open=True)
    max_populations = check_int("max_populations", max_populations, lo=1)
    fig, (ax_s, ax_r), created = new_axes(ax, 2, figsize=(8, 5.5), sharex=True, height_ratios=[3, 1])
    spikes = spike_list(ds, seed, window)
    if spikes is None:
        missing(ax_s, "spikes")
        missing(ax_r, "rate")
        return finish(fig, [ax_s, ax_r], created, title, "spike raster")
    table = neuron_table(ds)
    depth, types, pops = table["depth_um"], table["cell_type"], table["population"]
    for ct in dict.fromkeys(types.tolist()):
        sel = types[spikes.neurons] == ct
        ax_s.scatter(spikes.times_ms[sel], depth[spikes.neurons[sel]], s=14, marker="|", lw=0.9,
                     color=TYPE_COLOURS.get(ct, "k"), label=f"{ct} ({int(np.sum(types == ct))} cells)",
                     rasterized=True)
    layers = layer_bounds(ds)
    tops = [b[0] for b in layers.values()] + [float(depth.min())]
    bottoms = [b[1] for b in layers.values()] + [float(depth.max())]
    ax_s.set_ylim(max(bottoms) + 20.0, min(tops) - 20.0)
    ax_s.set_xlim(spikes.start_ms, spikes.stop_ms)
    draw_layers(ax_s, layers, side="right", colour="0.7", lw=0.5)
    ax_s.set_ylabel("depth below the pia (µm)")
    if spikes.times_ms.size:
        ax_s.legend(loc="upper right", fontsize=8, markerscale=1.5, frameon=True)
    else:
        ax_s.text(0.5, 0.5, "no spikes in the window", ha="center", va="center", transform=ax_s.transAxes,
                  color="0.4")

    per_bin = max(1, round(rate_bin_ms / spikes.dt_ms))
    width = per_bin * spikes.dt_ms
    n_bins = max(1, int(np.ceil((spikes.stop_ms - spikes.start_ms) / width - 1e-9)))
    edges = spikes.start_ms + width * np.arange(n_bins + 1)
    edges[-1] = spikes.stop_ms  # a last, partial bin is normalised by its own width
    seconds = np.diff(edges) * 1e-3
    mid_step = spikes.times_ms - 0.5 * spikes.dt_ms  # inside the spike's step, never on a bin edge
    names = list(dict.fromkeys(pops.tolist()))
    if 1 < len(names) <= max_populations:
        pop_types = [str(types[pops == p][0]) for p in names]
        colours = population_colours(names, pop_types)
        for pop in names:
            members = pops == pop
            counts, _ = np.histogram(mid_step[members[spikes.neurons]], edges)
            ax_r.stairs(counts / (members.sum() * seconds), edges, color=colours[pop], lw=1.0,
                        label=pop.split(":", 1)[-1] if len({p.split(":", 1)[0] for p in names}) == 1 else pop)
        ax_r.legend(loc="upper right", fontsize=6, ncol=min(4, len(names)), frameon=False)
    else:
        counts, _ = np.histogram(mid_step, edges)
        ax_r.stairs(counts / (depth.size * seconds), edges, color="k", lw=1.0, fill=True, alpha=0.6)
    ax_r.set_ylabel(f"rate (Hz per neuron, {width:g} ms bins)", fontsize=8)
    ax_r.set_xlabel("time (ms)")
    ax_r.set_ylim(bottom=0)
    return finish(fig, [ax_s, ax_r], created, title, "spike raster")
