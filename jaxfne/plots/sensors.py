"""EEG and MEG traces, one line per sensor, coinciding sensors drawn once and named together."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..config.validate import check_number
from ..errors import ConfigurationError
from ._data import channel_labels, prepare, select, times
from ._figure import finish, label, missing, new_axes, units_of

__all__ = ["coinciding_channels", "plot_eeg_meg", "plot_sensors"]

SENSOR_SIGNALS = ("EEG", "MEG")
_DIMS = {"EEG": "eeg_channel", "MEG": "meg_channel"}


def coinciding_channels(traces, rtol: float = 1e-9) -> list[list[int]]:
    """Group the channels whose traces coincide.

    Parameters
    ----------
    traces : array_like, shape (time, channel)
        One trace per channel.
    rtol : float
        Channels ``i`` and ``j`` coincide when ``max|x_i - x_j| <= rtol * max(max|x_i|, max|x_j|)``
        (two silent channels coincide).

    Returns
    -------
    list of list of int
        Groups of channel positions in first-appearance order; a channel that coincides with no other
        is a group of one.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0, 1.0], [0.5, 1.0, 0.5]])
    >>> coinciding_channels(x)
    [[0, 2], [1]]
    """
    x = np.asarray(traces, dtype=float)
    scale = np.max(np.abs(x), axis=0) if x.shape[0] else np.zeros(x.shape[1])
    groups: list[list[int]] = []
    for j in range(x.shape[1]):
        for g in groups:
            i = g[0]
            if np.max(np.abs(x[:, i] - x[:, j]), initial=0.0) <= rtol * max(scale[i], scale[j]):
                g.append(j)
                break
        else:
            groups.append([j])
    return groups


def _panel(a, ds, name: str, seed, window, rtol: float) -> None:
    dim = _DIMS[name]
    da = select(ds[name], seed, window)
    t = times(da)
    if dim not in da.dims:
        a.plot(t, np.asarray(da.values, dtype=float), lw=0.8, label=name)
    else:
        values = np.asarray(da.transpose("time", dim).values, dtype=float)
        names = channel_labels(ds[name], dim, name)
        for k, group in enumerate(coinciding_channels(values, rtol)):
            a.plot(t, values[:, group[0]], lw=0.8, color=f"C{k % 10}", label=" = ".join(names[i] for i in group))
    a.legend(fontsize=7, loc="upper right", ncol=min(3, max(1, len(a.lines))), frameon=False)
    a.set_ylabel(label(name, units_of(ds[name])))


def plot_sensors(data, *, modality: str | Sequence[str] = SENSOR_SIGNALS, seed_index: int = 0,
                 t_window_ms: Sequence[float] | None = None, ax=None, title: str = "", rtol: float = 1e-9):
    """EEG (µV) and/or MEG (fT) traces, one line per sensor, labelled with the sensor names.

    Sensors whose traces coincide (within ``rtol``, relative; e.g. two electrodes placed
    symmetrically about the column's axis) are drawn once, and the legend names them together
    ("EEG002 = EEG003") instead of hiding one line under the other.

    Parameters
    ----------
    data : jaxfne.Signals or xarray.Dataset
        A recording with ``EEG-proxy`` and/or ``MEG-proxy``, batched over ``seed`` or not. Sensor
        names come from the ``eeg_channel``/``meg_channel`` coordinate when it holds strings, else
        ``EEG001``, ``EEG002``, ... in order.
    modality : str or sequence of str
        ``"EEG"``, ``"MEG"`` or both (one panel each, in the order given).
    seed_index : int
        Position of the seed to draw along ``seed``.
    t_window_ms : (float, float), optional
        Samples at times ``start <= t <= stop`` (ms); default the whole recording.
    ax : matplotlib Axes or sequence of them, optional
        One Axes per modality; default a new Figure.
    title : str
        Figure title.
    rtol : float
        Relative tolerance of :func:`coinciding_channels`.

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
    >>> fig = jp.plot_sensors(jaxfne.simulate(jaxfne.construct(cfg), seed=1), modality="EEG")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]  # the default cap is symmetric
    ['EEG001', 'EEG002 = EEG003']
    """
    ds, seed, window = prepare(data, seed_index, t_window_ms)
    mods = [modality] if isinstance(modality, str) else list(modality) if isinstance(modality, Sequence) else None
    if not mods or any(m not in SENSOR_SIGNALS for m in mods) or len(set(mods)) != len(mods):
        raise ConfigurationError("modality", modality, "'EEG', 'MEG' or a sequence of both")
    rtol = check_number("rtol", rtol, lo=0, lo_open=True)
    fig, axes, created = new_axes(ax, len(mods), figsize=(8, 2.5 * len(mods) + 0.5), sharex=True)
    for a, name in zip(axes, mods):
        if name in ds:
            _panel(a, ds, name, seed, window, rtol)
        else:
            missing(a, name)
    axes[-1].set_xlabel("time (ms)")
    return finish(fig, axes, created, title, " / ".join(mods))


def plot_eeg_meg(data, *, seed_index: int = 0, t_window_ms: Sequence[float] | None = None, ax=None,
                 title: str = "", rtol: float = 1e-9):
    """EEG (µV, top) and MEG (fT, bottom) traces: :func:`plot_sensors` of both modalities.

    Parameters
    ----------
    data : jaxfne.Signals or xarray.Dataset
        A recording with ``EEG-proxy`` and/or ``MEG-proxy`` (a modality not recorded is a panel
        that says so), batched over ``seed`` or not.
    seed_index : int
        Position of the seed to draw along ``seed``.
    t_window_ms : (float, float), optional
        Samples at times ``start <= t <= stop`` (ms); default the whole recording.
    ax : sequence of 2 matplotlib Axes, optional
        EEG and MEG Axes; default a new Figure.
    title : str
        Figure title (default "EEG / MEG").
    rtol : float
        Relative tolerance under which sensors count as coinciding.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Examples
    --------
    >>> import jaxfne, jaxfne.plots as jp
    >>> cfg = (jaxfne.configuration().runtime(duration_ms=50.0).column("V1", layers=["L2/3", "L4"], n=40)
    ...        .cell_types({"E": 0.8, "I": 0.2}).connectivity().set_emitter("izhikevich", "cortical_eig")
    ...        .probes(["SPK", "EEG-proxy", "MEG-proxy"]))
    >>> fig = jp.plot_eeg_meg(jaxfne.simulate(jaxfne.construct(cfg), seed=1))
    >>> [a.get_ylabel() for a in fig.axes]
    ['EEG (µV)', 'MEG (fT)']
    """
    return plot_sensors(data, modality=SENSOR_SIGNALS, seed_index=seed_index, t_window_ms=t_window_ms, ax=ax,
                        title=title, rtol=rtol)
