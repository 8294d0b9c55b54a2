"""Power spectra: Welch PSDs of a field signal's channels and the spectrogram of one channel."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..config.validate import check_number, check_option
from ..errors import ConfigurationError
from ._data import (
    channel_labels,
    depths,
    labels,
    prepare,
    sample_ms,
    select,
    time_dim,
    times,
)
from ._figure import finish, label, missing, new_axes, psd_unit, units_of

__all__ = ["plot_psd", "plot_spectrogram"]

SPECTRAL_SIGNALS = ("LFP", "CSD", "EEG", "MEG", "dipole")


def _channels(ds, name: str, seed, window) -> tuple[np.ndarray, list[str], float, float]:
    """``[time, channel]`` values, channel labels, sampling interval (ms) and start (ms) of a signal."""
    da = select(ds[name], seed, window)
    tdim = time_dim(da)
    t, dt = times(da), sample_ms(da, ds)
    if name == "dipole":
        da = da.transpose(tdim, "column", "xyz")
        cols = labels(da["column"].values) if "column" in da.coords else [str(k) for k in range(da.sizes["column"])]
        axes = labels(da["xyz"].values) if "xyz" in da.coords else ["x", "y", "z"]
        names = [f"{c} {x}" for c in cols for x in axes]
        return np.asarray(da.values, float).reshape(t.size, -1), names, dt, float(t[0] - dt)
    dim = next(d for d in da.dims if d != tdim)
    values = np.asarray(da.transpose(tdim, dim).values, dtype=float)
    if name in ("EEG", "MEG"):
        names = channel_labels(ds[name], dim, name)
    else:
        z, is_depth = depths(ds[name], dim)
        names = [f"{v:.0f} µm" if is_depth else f"{dim} {k}" for k, v in enumerate(z)]
    return values, names, dt, float(t[0] - dt)


def _pick(names: list[str], channels, field: str) -> list[int]:
    if channels is None:
        return list(range(len(names)))
    wanted = [channels] if isinstance(channels, (str, int, np.integer)) else list(channels)
    out = []
    for c in wanted:
        if isinstance(c, str) and c in names:
            out.append(names.index(c))
        elif isinstance(c, (int, np.integer)) and not isinstance(c, bool) and -len(names) <= c < len(names):
            out.append(int(c) % len(names))
        else:
            raise ConfigurationError(field, c, f"a channel position 0..{len(names) - 1} or a label: "
                                     + ", ".join(names[:16]) + (", ..." if len(names) > 16 else ""))
    if not out:
        raise ConfigurationError(field, channels, "None (every channel) or a non-empty selection")
    return out


def _nperseg(n: int, nperseg) -> int:
    if nperseg is None:
        return int(min(n, max(8, 2 ** int(np.floor(np.log2(max(n // 4, 1)))))))
    if isinstance(nperseg, bool) or not isinstance(nperseg, (int, np.integer)) or not 2 <= nperseg:
        raise ConfigurationError("nperseg", nperseg, "None or an integer >= 2 (samples per segment)")
    return int(min(n, nperseg))


def plot_psd(data, signal: str = "LFP", *, channels=None, seed_index: int = 0,
             t_window_ms: Sequence[float] | None = None, ax=None, title: str = "", nperseg: int | None = None,
             fmax_hz: float | None = None):
    """Welch power spectral density (:func:`scipy.signal.welch`) of a signal's channels, log-log.

    Parameters
    ----------
    data : jaxfne.Signals or xarray.Dataset
        A recording, batched over ``seed`` or not.
    signal : str
        ``"LFP"`` (one line per contact, labelled by depth), ``"CSD"``, ``"EEG"``, ``"MEG"`` (one
        per sensor) or ``"dipole"`` (one per column and component).
    channels : int, str or sequence of them, optional
        Channel positions or labels (``"EEG002"``, ``"381 µm"``, ``"V1 z"``); default all.
    seed_index : int
        Position of the seed to draw along ``seed``.
    t_window_ms : (float, float), optional
        Samples at times ``start <= t <= stop`` (ms); default the whole recording.
    ax : matplotlib Axes, optional
        Axes to draw into; default a new Figure.
    title : str
        Figure title.
    nperseg : int, optional
        Samples per Welch segment (Hann window, half overlap, mean removed per segment); default the
        largest power of two at most a quarter of the samples.
    fmax_hz : float, optional
        Highest frequency drawn; default the Nyquist frequency.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on; the y axis is in the signal's units squared per Hz (``µV²/Hz``).

    Notes
    -----
    The one-sided density (``scaling="density"``): integrating it over frequency gives the variance
    of the channel. Frequencies are in Hz from the sampling interval in ms; the 0 Hz bin and zero
    powers are left out of the log-log axes.

    Examples
    --------
    >>> import jaxfne, jaxfne.plots as jp
    >>> cfg = (jaxfne.configuration().runtime(duration_ms=100.0).column("V1", layers=["L2/3", "L4"], n=40)
    ...        .cell_types({"E": 0.8, "I": 0.2}).connectivity().set_emitter("izhikevich", "cortical_eig")
    ...        .probes(["SPK", "LFP-proxy"]))
    >>> fig = jp.plot_psd(jaxfne.simulate(jaxfne.construct(cfg), seed=1), "LFP", fmax_hz=1000.0)
    >>> fig.axes[0].get_ylabel(), fig.axes[0].get_xscale()
    ('PSD (µV²/Hz)', 'log')
    """
    from scipy.signal import welch

    ds, seed, window = prepare(data, seed_index, t_window_ms)
    check_option("signal", signal, SPECTRAL_SIGNALS)
    if fmax_hz is not None:
        check_number("fmax_hz", fmax_hz, lo=0, lo_open=True)
    if signal in ds:
        values, names, dt, _ = _channels(ds, signal, seed, window)
        pick = _pick(names, channels, "channels")
        seg = _nperseg(values.shape[0], nperseg)
    fig, (a,), created = new_axes(ax, 1, figsize=(6.5, 4.5))
    default = f"{signal} power spectral density (Welch)"
    if signal not in ds:
        missing(a, signal)
        return finish(fig, [a], created, title, default)
    fs = 1e3 / dt
    f, p = welch(values[:, pick], fs=fs, nperseg=seg, axis=0)
    keep = (f > 0) & (f <= (fmax_hz if fmax_hz is not None else np.inf))
    drawn = 0
    for k, ch in enumerate(pick):
        good = keep & (p[:, k] > 0)
        if good.any():
            a.plot(f[good], p[good, k], lw=0.9, color=f"C{k % 10}" if len(pick) <= 10 else None, label=names[ch])
            drawn += 1
    if drawn:
        a.set_xscale("log")
        a.set_yscale("log")
        a.legend(fontsize=7, loc="lower left", ncol=1 + len(pick) // 8, frameon=False)
    else:
        a.text(0.5, 0.5, f"{signal} has no power in the window", ha="center", va="center",
               transform=a.transAxes, color="0.4")
    a.set_xlabel("frequency (Hz)")
    a.set_ylabel(label("PSD", psd_unit(units_of(ds[signal]))))
    a.set_title(f"{seg} samples per segment ({fs / seg:.3g} Hz resolution)", fontsize=8)
    return finish(fig, [a], created, title, default)


def plot_spectrogram(data, signal: str = "LFP", channel: int | str = 0, *, seed_index: int = 0,
                     t_window_ms: Sequence[float] | None = None, ax=None, title: str = "",
                     nperseg: int | None = None, fmax_hz: float | None = None, cmap: str = "viridis"):
    """Spectrogram (:func:`scipy.signal.spectrogram`) of one channel: power density over time and
    frequency, on a log colour scale.

    Parameters
    ----------
    data : jaxfne.Signals or xarray.Dataset
        A recording, batched over ``seed`` or not.
    signal : str
        ``"LFP"``, ``"CSD"``, ``"EEG"``, ``"MEG"`` or ``"dipole"``.
    channel : int or str
        Channel position or label (``"EEG002"``, ``"381 µm"``, ``"V1 z"``), as in :func:`plot_psd`.
    seed_index : int
        Position of the seed to draw along ``seed``.
    t_window_ms : (float, float), optional
        Samples at times ``start <= t <= stop`` (ms); default the whole recording.
    ax : matplotlib Axes, optional
        Axes to draw into (its figure gets the colour bar); default a new Figure.
    title : str
        Figure title.
    nperseg : int, optional
        Samples per segment (Tukey window, 3/4 overlap); default the largest power of two at most a
        sixteenth of the samples (at least 8).
    fmax_hz : float, optional
        Highest frequency drawn; default the Nyquist frequency.
    cmap : str
        Colour map.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on; the colour bar is in the signal's units squared per Hz.

    Examples
    --------
    >>> import jaxfne, jaxfne.plots as jp
    >>> cfg = (jaxfne.configuration().runtime(duration_ms=100.0).column("V1", layers=["L2/3", "L4"], n=40)
    ...        .cell_types({"E": 0.8, "I": 0.2}).connectivity().set_emitter("izhikevich", "cortical_eig")
    ...        .probes(["SPK", "EEG-proxy"]))
    >>> fig = jp.plot_spectrogram(jaxfne.simulate(jaxfne.construct(cfg), seed=1), "EEG", "EEG001")
    >>> fig.axes[1].get_ylabel()
    'PSD (µV²/Hz)'
    """
    from matplotlib.colors import LogNorm
    from scipy.signal import spectrogram

    ds, seed, window = prepare(data, seed_index, t_window_ms)
    check_option("signal", signal, SPECTRAL_SIGNALS)
    if fmax_hz is not None:
        check_number("fmax_hz", fmax_hz, lo=0, lo_open=True)
    if signal in ds:
        values, names, dt, t0 = _channels(ds, signal, seed, window)
        if not isinstance(channel, (str, int, np.integer)) or isinstance(channel, bool):
            raise ConfigurationError("channel", channel, "one channel position or label")
        ch = _pick(names, [channel], "channel")
        seg = _nperseg(values.shape[0] // 4, None) if nperseg is None else _nperseg(values.shape[0], nperseg)
    fig, (a,), created = new_axes(ax, 1, figsize=(7, 4))
    if signal not in ds:
        missing(a, signal)
        return finish(fig, [a], created, title, f"{signal} spectrogram")
    fs = 1e3 / dt
    f, tt, sxx = spectrogram(values[:, ch[0]], fs=fs, nperseg=seg, noverlap=(3 * seg) // 4)
    keep = f <= (fmax_hz if fmax_hz is not None else np.inf)
    f, sxx = f[keep], sxx[keep]
    t_ms = t0 + 1e3 * tt
    positive = sxx[sxx > 0]
    units = psd_unit(units_of(ds[signal]))
    if positive.size:
        norm = LogNorm(vmin=max(positive.min(), positive.max() * 1e-8), vmax=positive.max())
        im = a.pcolormesh(t_ms, f, np.maximum(sxx, norm.vmin), shading="nearest", cmap=cmap, norm=norm,
                          rasterized=True)
        fig_cb = a.figure.colorbar(im, ax=a, pad=0.02)
        fig_cb.set_label(label("PSD", units))
    else:
        a.text(0.5, 0.5, f"{signal} has no power in the window", ha="center", va="center",
               transform=a.transAxes, color="0.4")
    a.set_xlabel("time (ms)")
    a.set_ylabel("frequency (Hz)")
    a.set_title(f"{signal} {names[ch[0]]} ({seg} samples per segment)", fontsize=9)
    return finish(fig, [a], created, title, f"{signal} spectrogram")
