"""What the figure functions read: argument checks, one seed and a time window, depths, labels, spikes.

Every figure function starts with :func:`prepare`, so a bad argument is a
:class:`~jaxfne.errors.ConfigurationError` before anything is drawn. The readers accept the Dataset of
:meth:`jaxfne.Signals.to_xarray` and of a simulation store (:func:`jaxfne.io.open_store`), batched over
``seed`` or not, and fall back gracefully on hand-made Datasets that lack the engine's attrs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..errors import ConfigurationError

#: The coordinate that holds the depth below the pia (µm) of each dimension's entries.
DEPTH_COORDS = {"contact": "contact_depth_um", "contact_csd": "contact_csd_depth_um",
                "location": "location_depth_um", "neuron": "depth_um", "neuron_rec": "neuron_rec_depth_um"}

TIME_DIMS = ("time", "time_rec")


def as_dataset(data) -> xr.Dataset:
    """``data`` as a Signals Dataset: a :class:`xarray.Dataset` as it is, a :class:`~jaxfne.Signals`
    through :meth:`~jaxfne.Signals.to_xarray`."""
    from ..signals import Signals

    if isinstance(data, xr.Dataset):
        return data
    if isinstance(data, Signals):
        return data.to_xarray()
    raise ConfigurationError("data", type(data).__name__,
                             "a jaxfne.Signals or an xarray.Dataset (Signals.to_xarray(), jaxfne.io.open_store)")


def check_seed(ds: xr.Dataset, seed_index) -> int | None:
    """The position of the seed to draw (None when ``ds`` is not batched over ``seed``)."""
    if isinstance(seed_index, bool) or not isinstance(seed_index, (int, np.integer)):
        raise ConfigurationError("seed_index", seed_index, "an integer position along the seed axis")
    n = ds.sizes.get("seed")
    if n is None:
        if seed_index != 0:
            raise ConfigurationError("seed_index", seed_index, "0 (the data are not batched over seed)")
        return None
    if not -n <= seed_index < n:
        seeds = [int(s) for s in np.asarray(ds["seed"].values).tolist()] if "seed" in ds.coords else list(range(n))
        raise ConfigurationError("seed_index", seed_index, f"a position in 0..{n - 1} (seeds {seeds})")
    return int(seed_index) % n


def check_window(t_window_ms) -> tuple[float, float] | None:
    """``t_window_ms`` as ``(start, stop)`` in ms, start < stop (None: the whole recording)."""
    if t_window_ms is None:
        return None
    ok = isinstance(t_window_ms, Sequence | np.ndarray) and not isinstance(t_window_ms, str) and len(t_window_ms) == 2
    try:
        lo, hi = (float(t) for t in t_window_ms) if ok else (math.nan, math.nan)
    except (TypeError, ValueError):
        lo, hi = math.nan, math.nan
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ConfigurationError("t_window_ms", t_window_ms, "None or (start, stop) in ms with start < stop")
    return lo, hi


def prepare(data, seed_index, t_window_ms) -> tuple[xr.Dataset, int | None, tuple[float, float] | None]:
    """Check the common arguments before any drawing: the Dataset, the seed position, the window."""
    ds = as_dataset(data)
    seed, window = check_seed(ds, seed_index), check_window(t_window_ms)
    if window is not None and "time" in ds.coords and ds.sizes.get("time"):
        t = np.asarray(ds["time"].values, dtype=float)
        if not ((t >= window[0]) & (t <= window[1])).any():
            raise ConfigurationError("t_window_ms", list(window), f"a window overlapping the recording "
                                     f"({t[0]:g}-{t[-1]:g} ms)")
    return ds, seed, window


def time_dim(da: xr.DataArray) -> str | None:
    return next((d for d in da.dims if d in TIME_DIMS), None)


def select(da: xr.DataArray, seed: int | None, window: tuple[float, float] | None) -> xr.DataArray:
    """One seed of ``da`` and the samples at times ``start <= t <= stop`` (ms)."""
    if seed is not None and "seed" in da.dims:
        da = da.isel(seed=seed)
    tdim = time_dim(da)
    if window is not None and tdim is not None:
        t = np.asarray(da[tdim].values, dtype=float)
        keep = (t >= window[0]) & (t <= window[1])
        if not keep.any():
            span = f"{t[0]:g}-{t[-1]:g} ms" if t.size else "no samples"
            raise ConfigurationError("t_window_ms", list(window), f"a window overlapping the recording ({span})")
        da = da.isel({tdim: np.flatnonzero(keep)})
    return da


def sample_ms(da: xr.DataArray, ds: xr.Dataset | None = None) -> float:
    """The sampling interval (ms) of ``da`` along its time dimension."""
    tdim = time_dim(da)
    t = np.asarray(da[tdim].values, dtype=float) if tdim in da.coords else np.zeros(0)
    if t.size > 1:
        return float(np.median(np.diff(t)))
    attrs = ds.attrs if ds is not None else da.attrs
    every = int(attrs.get("record_every", 1)) if tdim == "time_rec" else 1
    return float(attrs.get("dt_ms", 1.0)) * every


def times(da: xr.DataArray) -> np.ndarray:
    return np.asarray(da[time_dim(da)].values, dtype=float)


def json_attr(ds: xr.Dataset, key: str) -> dict:
    """A JSON attribute of ``ds`` as a dict ({} when absent or not a JSON object)."""
    try:
        value = json.loads(ds.attrs.get(key, "{}"))
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def labels(values) -> np.ndarray:
    """Plain ``str`` labels of any string array (numpy StringDType, object or fixed width)."""
    return np.array([str(v) for v in np.asarray(values).tolist()], dtype=object)


def is_string(da: xr.DataArray) -> bool:
    return np.asarray(da.values).dtype.kind in "UOST"


def coord(ds, name: str, dim: str):
    """The values of coordinate ``name`` along ``dim`` (None when ``ds`` has no such coordinate)."""
    if name in ds.coords and ds[name].dims == (dim,):
        return ds[name].values
    return None


def depths(da, dim: str) -> tuple[np.ndarray, bool]:
    """Depths below the pia (µm) of the entries of ``dim``, and whether they are depths at all.

    Read from the engine's depth coordinate (``contact_depth_um``, ``contact_csd_depth_um``,
    ``location_depth_um``, ...), else from the dimension's own coordinate when it is a length (float,
    or with ``units`` um); otherwise the entry positions, and False.
    """
    named = coord(da, DEPTH_COORDS.get(dim, f"{dim}_depth_um"), dim)
    if named is not None:
        return np.asarray(named, dtype=float), True
    if dim in da.coords and not is_string(da[dim]):
        own = da[dim]
        if own.dtype.kind == "f" or str(own.attrs.get("units", "")) in ("um", "µm"):
            return np.asarray(own.values, dtype=float), True
    return np.arange(da.sizes[dim], dtype=float), False


def channel_labels(da, dim: str, prefix: str) -> list[str]:
    """Sensor labels: the dimension's coordinate when it holds strings, else ``EEG001``-style labels."""
    from ..signals_xr import channel_labels as numbered

    if dim in da.coords and is_string(da[dim]):
        return [str(v) for v in labels(da[dim].values)]
    return [str(v) for v in numbered(prefix, da.sizes[dim])]


def layer_bounds(ds: xr.Dataset) -> dict[str, tuple[float, float]]:
    """Layer name -> (top, bottom) depth (µm): the geometry's layers, else the neurons' depth range."""
    geometry = json_attr(ds, "geometry_json")
    if isinstance(geometry.get("layers"), dict):
        return {str(k): (float(v[0]), float(v[1])) for k, v in geometry["layers"].items()}
    layer, depth = coord(ds, "layer", "neuron"), coord(ds, "depth_um", "neuron")
    if layer is None or depth is None:
        return {}
    layer, depth = labels(layer), np.asarray(depth, dtype=float)
    return {lab: (float(depth[layer == lab].min()), float(depth[layer == lab].max())) for lab in dict.fromkeys(layer)}


def neuron_table(ds: xr.Dataset, dim: str = "neuron") -> dict[str, np.ndarray]:
    """Depth (µm), x (µm), cell type, layer and population of every entry of ``dim``."""
    n = ds.sizes[dim]
    pre = "neuron_rec_" if dim == "neuron_rec" else ""

    def get(key, default):
        v = coord(ds, pre + key, dim)
        return default if v is None else (labels(v) if default.dtype == object else np.asarray(v, dtype=float))

    return {"depth_um": get("depth_um", np.arange(n, dtype=float)), "x_um": get("x_um", np.zeros(n)),
            "cell_type": get("cell_type", np.full(n, "E", dtype=object)),
            "layer": get("layer", np.full(n, "", dtype=object)),
            "population": get("population", np.full(n, "", dtype=object))}


@dataclass(frozen=True)
class SpikeList:
    """The spikes of one seed in a window: times (ms, end of the step) and neuron positions."""

    times_ms: np.ndarray
    neurons: np.ndarray
    start_ms: float  # beginning of the first step in the window
    stop_ms: float  # end of the last step in the window
    dt_ms: float


def spike_list(ds: xr.Dataset, seed: int | None, window: tuple[float, float] | None) -> SpikeList | None:
    """The spikes of one seed from the raster ``spikes``, else from the store's CF ragged list
    (``spike_count``/``spike_time``); None when neither is recorded."""
    if "spikes" in ds:
        sp = select(ds["spikes"], seed, window).transpose("time", "neuron")
        t = times(sp)
        dt = sample_ms(sp, ds)
        ti, ni = np.nonzero(np.asarray(sp.values, dtype=bool))
        return SpikeList(t[ti], ni, float(t[0] - dt) if t.size else 0.0, float(t[-1]) if t.size else 0.0, dt)
    if "spike_count" not in ds or "spike_time" not in ds:
        return None
    counts = np.asarray(ds["spike_count"].values, dtype=np.int64)
    if counts.ndim == 2:
        start = int(counts[:seed].sum()) if seed else 0
        counts = counts[seed or 0]
    else:
        start = 0
    t = np.asarray(ds["spike_time"].values, dtype=float)[start:start + int(counts.sum())]
    ids = np.repeat(np.arange(counts.size), counts)
    dt = float(ds.attrs.get("dt_ms", 0.1))
    rec = times(ds["time"]) if "time" in ds.coords else dt * np.arange(1, int(ds.attrs.get("n_steps", 1)) + 1)
    if window is not None:
        inside = rec[(rec >= window[0]) & (rec <= window[1])]
        if not inside.size:
            raise ConfigurationError("t_window_ms", list(window),
                                     f"a window overlapping the recording ({rec[0]:g}-{rec[-1]:g} ms)")
        keep = (t >= window[0]) & (t <= window[1])
        t, ids, rec = t[keep], ids[keep], inside
    return SpikeList(t, ids, float(rec[0] - dt), float(rec[-1]), dt)
