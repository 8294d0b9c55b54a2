"""Figures of simulation and sweep Datasets (matplotlib). Never imported by the engine.

The figures are :class:`matplotlib.figure.Figure` objects made without pyplot, so importing this
module leaves the user's backend alone and the figures need no display.

- :func:`plot_raster`: spikes by depth (E red, I blue) and the population rate;
- :func:`plot_laminar`: LFP and CSD as depth x time images;
- :func:`plot_eeg_meg`: EEG and MEG traces, one per sensor;
- :func:`plot_readout_summary`: every readout across the sweep, mean over seeds and each seed;
- :func:`plot_fit_history`: a fit's loss and parameters per optimiser step.

Each function takes an ``xarray.Dataset`` (a simulation store's, batched over ``seed`` or not, or the
aggregate store's) and returns a ``matplotlib.figure.Figure``; :func:`save` writes it as PNG.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

__all__ = ["plot_raster", "plot_laminar", "plot_eeg_meg", "plot_readout_summary", "plot_fit_history", "save"]

_TYPE_COLOURS = {"E": "tab:red", "I": "tab:blue"}


def save(fig, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Write ``fig`` as a PNG (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def _subplots(nrows: int, ncols: int, *, figsize, layout=None, **kw):
    """``pyplot.subplots`` without pyplot: a figure that belongs to no backend or window manager."""
    fig = Figure(figsize=figsize, layout=layout)
    return fig, fig.subplots(nrows, ncols, **kw)


def _one(da: xr.DataArray, seed_index: int, t_window_ms: Sequence[float] | None) -> xr.DataArray:
    if "seed" in da.dims:
        da = da.isel(seed=min(seed_index, da.sizes["seed"] - 1))
    if t_window_ms is not None and "time" in da.dims:
        da = da.sel(time=slice(float(t_window_ms[0]), float(t_window_ms[1])))
    return da


def _missing(ax, what: str) -> None:
    ax.text(0.5, 0.5, f"{what} not recorded", ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def _labels(values) -> np.ndarray:
    """Plain ``str`` labels of any string array (numpy StringDType, object or fixed width)."""
    return np.array([str(v) for v in np.asarray(values).tolist()], dtype=object)


def _units(da: xr.DataArray) -> str:
    return str(da.attrs.get("units", "")).strip()


def plot_raster(ds: xr.Dataset, *, seed_index: int = 0, t_window_ms: Sequence[float] | None = None,
                title: str = "", rate_bin_ms: float = 5.0):
    """Spike raster (neurons by depth below the pia) over the population rates (Hz per neuron,
    ``rate_bin_ms`` bins; one line per population up to 12 populations, else the network's)."""
    fig, (ax, axr) = _subplots(2, 1, figsize=(8, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    if "spikes" not in ds:
        _missing(ax, "spikes")
        _missing(axr, "rate")
        return fig
    sp = _one(ds["spikes"], seed_index, t_window_ms).transpose("time", "neuron")
    t = np.asarray(sp["time"].values, dtype=float)
    raster = np.asarray(sp.values, dtype=bool)
    depth = (np.asarray(sp["depth_um"].values, dtype=float) if "depth_um" in sp.coords
             else np.arange(raster.shape[1], dtype=float))
    types = _labels(sp["cell_type"].values) if "cell_type" in sp.coords else np.full(raster.shape[1], "E")
    ti, ni = np.nonzero(raster)
    for ct in np.unique(types):
        sel = types[ni] == ct
        ax.scatter(t[ti[sel]], depth[ni[sel]], s=14, marker="|", lw=0.9, color=_TYPE_COLOURS.get(ct, "k"),
                   label=f"{ct} ({int(np.sum(types == ct))} cells)", rasterized=True)
    if "layer" in sp.coords:
        layers = _labels(sp["layer"].values)
        for lab in dict.fromkeys(layers):
            d = depth[layers == lab]
            ax.axhline(d.max(), color="0.85", lw=0.5, zorder=0)
            ax.text(1.005, (d.min() + d.max()) / 2, lab, transform=ax.get_yaxis_transform(), va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_ylabel("depth (µm)")
    if len(ti):
        ax.legend(loc="upper right", fontsize=8, markerscale=6, frameon=True)
    dt = float(t[1] - t[0]) if len(t) > 1 else 1.0
    per_bin = max(1, int(round(rate_bin_ms / dt)))
    n_bins = len(t) // per_bin
    if n_bins:
        binned = raster[: n_bins * per_bin].reshape(n_bins, per_bin, -1).sum(axis=1)  # [bin, neuron]
        t_bins = t[: n_bins * per_bin : per_bin]
        pops = _labels(sp["population"].values) if "population" in sp.coords else None
        if pops is not None and 1 < len(set(pops.tolist())) <= 12:  # one line per population (Hz per neuron)
            for pop in dict.fromkeys(pops.tolist()):
                sel = pops == pop
                short = pop.split(":", 1)[-1]
                axr.plot(t_bins, binned[:, sel].sum(axis=1) / (sel.sum() * per_bin * dt * 1e-3), lw=0.7,
                         label=short)
            axr.legend(loc="upper right", fontsize=6, ncol=4, frameon=False)
        else:
            axr.plot(t_bins, binned.sum(axis=1) / (raster.shape[1] * per_bin * dt * 1e-3), color="k", lw=0.7)
    axr.set_ylabel(f"rate (Hz, {per_bin * dt:g} ms bins)", fontsize=8)
    axr.set_xlabel("time (ms)")
    fig.suptitle(title or "spike raster", fontsize=10)
    return fig


def _depth_axis(da: xr.DataArray, dim: str) -> np.ndarray:
    for name, c in da.coords.items():
        if c.dims == (dim,) and "depth" in str(name):
            return np.asarray(c.values, dtype=float)
    return np.asarray(da[dim].values, dtype=float) if dim in da.coords else np.arange(da.sizes[dim], dtype=float)


def _image(ax, fig, da: xr.DataArray, label: str, cmap: str) -> None:
    dim = next(d for d in da.dims if d != "time")
    img = np.asarray(da.transpose(dim, "time").values, dtype=float)
    t = np.asarray(da["time"].values, dtype=float)
    z = _depth_axis(da, dim)
    lim = float(np.nanpercentile(np.abs(img), 99)) if img.size else 1.0
    lim = lim if lim > 0 else 1.0
    dz = (z[1] - z[0]) / 2 if len(z) > 1 else 50.0
    im = ax.imshow(img, aspect="auto", cmap=cmap, vmin=-lim, vmax=lim, interpolation="nearest",
                   extent=(t[0], t[-1], z[-1] + dz, z[0] - dz))
    cb = fig.colorbar(im, ax=ax, pad=0.02)
    cb.set_label(f"{label} ({_units(da)})" if _units(da) else label)
    ax.set_xlabel("time (ms)")
    ax.set_title(label, fontsize=10)


def plot_laminar(ds: xr.Dataset, *, seed_index: int = 0, t_window_ms: Sequence[float] | None = None,
                 title: str = ""):
    """LFP (left) and CSD (right, sources positive and red) as depth x time images."""
    fig, axes = _subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    for ax, name, cmap in zip(axes, ("LFP", "CSD"), ("RdBu_r", "RdBu_r")):
        if name in ds:
            _image(ax, fig, _one(ds[name], seed_index, t_window_ms), name, cmap)
        else:
            _missing(ax, name)
    for ax in axes:
        ax.set_ylabel("depth (µm)")
    fig.suptitle(title or "laminar field", fontsize=10)
    return fig


def plot_eeg_meg(ds: xr.Dataset, *, seed_index: int = 0, t_window_ms: Sequence[float] | None = None,
                 title: str = ""):
    """EEG (µV) and MEG (fT) traces, one line per channel."""
    fig, axes = _subplots(2, 1, figsize=(8, 5), sharex=True)
    for ax, name in zip(axes, ("EEG", "MEG")):
        if name not in ds:
            _missing(ax, name)
            continue
        da = _one(ds[name], seed_index, t_window_ms)
        chan = next((d for d in da.dims if d != "time"), None)
        t = np.asarray(da["time"].values, dtype=float)
        if chan is None:
            ax.plot(t, np.asarray(da.values, dtype=float), lw=0.8)
        else:
            for i in range(da.sizes[chan]):
                ax.plot(t, np.asarray(da.isel({chan: i}).values, dtype=float), lw=0.8, label=f"{chan} {i}")
            ax.legend(fontsize=7, loc="upper right", ncol=min(3, da.sizes[chan]))
        ax.set_ylabel(f"{name} ({_units(da)})" if _units(da) else name)
    axes[-1].set_xlabel("time (ms)")
    fig.suptitle(title or "EEG / MEG", fontsize=10)
    return fig


def plot_readout_summary(agg: xr.Dataset, *, title: str = ""):
    """One panel per readout: mean over seeds (bars) and every seed (dots) for each sweep point.

    ``agg`` is the aggregate store's Dataset: ``value(seed, <axes>..., metric)``. The first swept axis
    groups the bars, the second (if any) colours them; further axes are stacked into the groups.
    """
    value = agg["value"]
    axes = [d for d in value.dims if d not in ("seed", "metric")]
    if len(axes) > 2:
        value = value.stack(point=axes[1:])
        axes = [axes[0], "point"]
    metrics = [str(m) for m in value["metric"].values]
    ncol = min(3, len(metrics))
    nrow = int(np.ceil(len(metrics) / ncol))
    fig, grid = _subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    group = axes[0] if axes else None
    hue = axes[1] if len(axes) > 1 else None
    groups = [str(g) for g in value[group].values] if group else [""]
    hues = [str(h) if not isinstance(h, tuple) else "/".join(map(str, h)) for h in value[hue].values] if hue else [""]
    width = 0.8 / len(hues)
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, m in enumerate(metrics):
        ax = grid[k // ncol][k % ncol]
        v = value.sel(metric=m)
        for j, h in enumerate(hues):
            for i in range(len(groups)):
                sel = {}
                if group:
                    sel[group] = i
                if hue:
                    sel[hue] = j
                seeds = np.asarray(v.isel(sel).values, dtype=float).ravel()
                seeds = seeds[np.isfinite(seeds)]
                if not seeds.size:
                    continue
                x = i - 0.4 + width * (j + 0.5)
                ax.bar(x, seeds.mean(), width * 0.9, color=colours[j % len(colours)], alpha=0.45,
                       label=h if i == 0 and hue else None)
                ax.scatter(np.full(seeds.size, x), seeds, s=10, color=colours[j % len(colours)], zorder=3)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels([g.rsplit("/", 1)[-1] for g in groups], fontsize=8)
        kind = str(v["metric_kind"].values) if "metric_kind" in v.coords else ""
        ax.set_title(f"{m} [{kind}]" if kind and kind != m else m, fontsize=9)
        if k == 0 and hue:
            ax.legend(fontsize=7, title=hue, title_fontsize=7)
    for k in range(len(metrics), nrow * ncol):
        grid[k // ncol][k % ncol].axis("off")
    n_seeds = value.sizes.get("seed", 1)
    fig.suptitle(title or f"readouts across the sweep (bars: mean of {n_seeds} seeds; dots: seeds)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_fit_history(fit: xr.Dataset, *, title: str = ""):
    """A fit's loss per optimiser step (log scale) and the trajectory of every fitted parameter (a
    fit store, :meth:`jaxfne.fitting.FitResult.to_xarray`); vector parameters as one line per element."""
    names = sorted((k for k in fit.data_vars if str(k).startswith("param_")), key=lambda k: int(str(k)[6:]))
    fig, axes = _subplots(1 + len(names), 1, figsize=(7, 2.2 * (1 + len(names))), sharex=True, squeeze=False)
    ax = axes[0, 0]
    step = np.asarray(fit["step"].values)
    loss = np.asarray(fit["loss"].values, float)
    ax.plot(step, loss, "k.-")
    if np.all(loss > 0):
        ax.set_yscale("log")
    ax.set_ylabel("loss")
    ax.set_title(title or "fit")
    for a, name in zip(axes[1:, 0], names):
        trace = np.asarray(fit[name].values, float).reshape(step.size, -1)
        a.plot(step, trace, ".-", lw=1)
        a.set_ylabel(str(fit[name].attrs.get("path", name)), fontsize=8)
    axes[-1, 0].set_xlabel("optimiser step")
    return fig
