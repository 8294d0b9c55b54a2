"""The study's figure: every readout across the sweep, mean and spread over seeds, with units."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ConfigurationError
from ._figure import finish, label, new_axes, pretty_unit
from .units import metric_unit

__all__ = ["plot_readout_summary"]


def _point_label(v) -> str:
    return "/".join(map(str, v)) if isinstance(v, tuple) else str(v)


def plot_readout_summary(agg: xr.Dataset, *, ax=None, title: str = ""):
    """One panel per readout: each sweep point's mean over seeds (a point, SD as error bar) and every
    seed (small dots), with the swept axis on x and the metric in its unit on y.

    The first swept axis is the x axis; a second one colours the points (dodged side by side);
    further axes are stacked into the second.

    Parameters
    ----------
    agg : xarray.Dataset
        The aggregate store's Dataset (:func:`jaxfne.pipeline.stages.aggregate_dataset`):
        ``value(seed, <axes>..., metric)`` with the coordinate ``metric_kind`` (each metric's key in
        :data:`jaxfne.metrics.METRICS`, whose unit `jaxfne.metrics.METRIC_UNITS` gives).
    ax : sequence of matplotlib Axes, optional
        One Axes per metric; default a new Figure (three panels a row).
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Notes
    -----
    The SD is the sample standard deviation over the seeds (``ddof=1``); with one seed there is no
    error bar. NaN values (a metric a run lacks) are left out.

    Examples
    --------
    >>> import numpy as np, xarray as xr, jaxfne.plots as jp
    >>> agg = xr.Dataset({"value": (("seed", "preset", "metric"), np.arange(12.0).reshape(3, 2, 2))},
    ...                  coords={"seed": [0, 1, 2], "preset": ["a", "b"], "metric": ["rate", "vm"],
    ...                          "metric_kind": ("metric", ["spike_rate_hz", "mean_V_m"])})
    >>> fig = jp.plot_readout_summary(agg)
    >>> [(a.get_xlabel(), a.get_ylabel()) for a in fig.axes]
    [('preset', 'rate (Hz)'), ('preset', 'vm (mV)')]
    """
    if not isinstance(agg, xr.Dataset) or "value" not in agg or "metric" not in agg["value"].dims:
        raise ConfigurationError("agg", type(agg).__name__,
                                 "the aggregate store's Dataset: value(seed, <axes>..., metric)")
    value = agg["value"]
    axes = [d for d in value.dims if d not in ("seed", "metric")]
    hue_name = "/".join(axes[1:]) if len(axes) > 1 else None
    if len(axes) > 2:
        value = value.stack(point=axes[1:])
        axes = [axes[0], "point"]
    metrics = [str(m) for m in value["metric"].values]
    kinds = ([str(k) for k in np.asarray(value["metric_kind"].values).tolist()] if "metric_kind" in value.coords
             else metrics)
    ncol = min(3, len(metrics))
    fig, panels, created = new_axes(ax, len(metrics), ncols=ncol,
                                    figsize=(4.2 * ncol, 3.4 * int(np.ceil(len(metrics) / ncol))))
    group = axes[0] if axes else None
    hue = axes[1] if len(axes) > 1 else None
    groups = [_point_label(g) for g in value[group].values] if group else [""]
    hues = [_point_label(h) for h in value[hue].values] if hue else [""]
    width = 0.7 / len(hues)
    rng = np.random.default_rng(0)  # the seed dots' horizontal jitter, the same in every figure
    n_seeds = value.sizes.get("seed", 1)
    for k, (m, a) in enumerate(zip(metrics, panels)):
        v = value.isel(metric=k)
        raw = metric_unit(kinds[k]) or metric_unit(m)
        unit = pretty_unit(raw) or ("dimensionless" if raw == "1" else "")
        for j, h in enumerate(hues):
            colour = f"C{j % 10}"
            for i in range(len(groups)):
                sel = {**({group: i} if group else {}), **({hue: j} if hue else {})}
                seeds = np.asarray(v.isel(sel).values, dtype=float).ravel()
                seeds = seeds[np.isfinite(seeds)]
                if not seeds.size:
                    continue
                x = i - 0.35 + width * (j + 0.5)
                a.scatter(x - 0.22 * width + rng.uniform(-0.08, 0.08, seeds.size) * width, seeds, s=10,
                          color=colour, alpha=0.6, lw=0, zorder=2)
                sd = float(seeds.std(ddof=1)) if seeds.size > 1 else None
                a.errorbar(x + 0.12 * width, seeds.mean(), yerr=sd, fmt="o", ms=6, color=colour, mec="k", mew=0.6, capsize=3,
                           lw=1.2, zorder=3, label=h if i == 0 and hue else None)
        a.set_xticks(range(len(groups)), [g.rsplit("/", 1)[-1] for g in groups], fontsize=8)
        a.set_xlim(-0.6, len(groups) - 0.4)
        a.set_xlabel(group if group else "run")
        a.set_ylabel(label(m, unit))
        kind = kinds[k]
        a.set_title(label(f"{m}: {kind}" if kind != m else m, unit), fontsize=9)
        a.grid(axis="y", color="0.9", lw=0.6)
        if k == 0 and hue:
            a.legend(fontsize=7, title=hue_name, title_fontsize=7, frameon=False, loc="best")
    return finish(fig, panels, created, title,
                  f"readouts across the sweep (points: mean ± SD over {n_seeds} seeds; dots: each seed)")
