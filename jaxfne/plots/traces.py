"""Membrane potential and synaptic current traces of recorded neurons."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..config.validate import check_int
from ..errors import ConfigurationError
from ._data import coord, labels, prepare, select, time_dim, times
from ._figure import finish, label, missing, new_axes, units_of

__all__ = ["plot_traces"]

TRACE_SIGNALS = ("V_m", "I_syn")
_NAMES = {"V_m": "V_m", "I_syn": "I_syn"}


def _recorded(ds, var: str) -> tuple[str, np.ndarray, np.ndarray]:
    """The recorded-neuron dimension of ``var``, each entry's neuron index and population."""
    dim = next(d for d in ds[var].dims if d not in ("seed", time_dim(ds[var])))
    pre = "neuron_rec_" if dim == "neuron_rec" else ""
    ids = np.asarray(ds[dim].values, dtype=np.int64) if dim in ds.coords else np.arange(ds.sizes[dim])
    pops = coord(ds, pre + "population", dim)
    return dim, ids, labels(pops) if pops is not None else np.full(ids.size, "", dtype=object)


def _choose(ids: np.ndarray, pops: np.ndarray, neurons, population, max_traces: int) -> np.ndarray:
    """Positions along the recorded-neuron dimension of the neurons to draw."""
    if neurons is not None:
        wanted = np.atleast_1d(np.asarray(neurons))
        if wanted.dtype.kind not in "iu" or wanted.ndim != 1 or not wanted.size:
            raise ConfigurationError("neurons", neurons, "a neuron index or a non-empty sequence of them")
        absent = [int(n) for n in wanted if n not in ids]
        if absent:
            shown = ", ".join(map(str, ids[:12].tolist())) + (", ..." if ids.size > 12 else "")
            raise ConfigurationError("neurons", absent, f"recorded neurons ({shown}; see probes record_neurons)")
        return np.array([int(np.flatnonzero(ids == n)[0]) for n in wanted])
    if population is not None:
        short = np.array([p.split(":", 1)[-1] for p in pops.tolist()], dtype=object)
        sel = np.flatnonzero((pops == population) | (short == population))
        if not sel.size:
            known = ", ".join(dict.fromkeys(pops.tolist()))
            raise ConfigurationError("population", population, f"a population of the recorded neurons: {known}")
        return sel[:max_traces]
    first = [int(np.flatnonzero(pops == p)[0]) for p in dict.fromkeys(pops.tolist())]  # one per population
    return np.array(first[:max_traces] if len(first) > 1 else list(range(min(max_traces, ids.size))))


def plot_traces(data, *, neurons: int | Sequence[int] | None = None, population: str | None = None,
                signals: str | Sequence[str] = TRACE_SIGNALS, seed_index: int = 0,
                t_window_ms: Sequence[float] | None = None, ax=None, title: str = "", max_traces: int = 8):
    """V_m (mV) and/or I_syn (pA) traces of recorded neurons, one panel per signal.

    Parameters
    ----------
    data : jaxfne.Signals or xarray.Dataset
        A recording with ``Vm`` and/or ``I_syn`` (the neurons of ``record_neurons``, sampled every
        ``record_every`` steps), batched over ``seed`` or not.
    neurons : int or sequence of int, optional
        Neuron indices (the neuron table's, as ``record_neurons`` names them) to draw.
    population : str, optional
        Draw the first ``max_traces`` recorded neurons of this population (``"V1:L4E"`` or ``"L4E"``).
        Default (neither given): the first recorded neuron of every population.
    signals : str or sequence of str
        ``"V_m"``, ``"I_syn"`` or both (one panel each, in that order).
    seed_index : int
        Position of the seed to draw along ``seed``.
    t_window_ms : (float, float), optional
        Samples at times ``start <= t <= stop`` (ms); default the whole recording.
    ax : matplotlib Axes or sequence of them, optional
        One Axes per signal; default a new Figure.
    title : str
        Figure title.
    max_traces : int
        Most neurons drawn.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Notes
    -----
    I_syn is positive when inward (depolarising), the NEST/Brian2 convention.

    Examples
    --------
    >>> import jaxfne, jaxfne.plots as jp
    >>> cfg = (jaxfne.configuration().runtime(duration_ms=50.0).column("V1", layers=["L2/3", "L4"], n=40)
    ...        .cell_types({"E": 0.8, "I": 0.2}).connectivity().set_emitter("izhikevich", "cortical_eig")
    ...        .probes(["SPK", "Vm", "I_syn"]))
    >>> fig = jp.plot_traces(jaxfne.simulate(jaxfne.construct(cfg), seed=1), population="L4E", max_traces=3)
    >>> [a.get_ylabel() for a in fig.axes]
    ['V_m (mV)', 'I_syn (pA)']
    """
    ds, seed, window = prepare(data, seed_index, t_window_ms)
    wanted = [signals] if isinstance(signals, str) else list(signals) if isinstance(signals, Sequence) else None
    if not wanted or any(s not in TRACE_SIGNALS for s in wanted) or len(set(wanted)) != len(wanted):
        raise ConfigurationError("signals", signals, "'V_m', 'I_syn' or a sequence of both")
    max_traces = check_int("max_traces", max_traces, lo=1)
    if neurons is not None and population is not None:
        raise ConfigurationError("population", population, "None when neurons is given (choose one)")
    fig, axes, created = new_axes(ax, len(wanted), figsize=(8, 2.4 * len(wanted) + 0.6), sharex=True)
    colours = None
    for a, var in zip(axes, wanted):
        if var not in ds:
            missing(a, var)
            continue
        dim, ids, pops = _recorded(ds, var)
        pick = _choose(ids, pops, neurons, population, max_traces)
        da = select(ds[var], seed, window)
        t = times(da)
        values = np.asarray(da.transpose(time_dim(da), dim).values, dtype=float)
        palette = colours or [f"C{k % 10}" for k in range(pick.size)]
        colours = palette
        for k, pos in enumerate(pick):
            who = f"neuron {int(ids[pos])}" + (f" ({pops[pos]})" if pops[pos] else "")
            a.plot(t, values[:, pos], lw=0.8, color=palette[k], label=who)
        a.set_ylabel(label(_NAMES[var], units_of(ds[var])))
        if a is next(b for b, v in zip(axes, wanted) if v in ds):  # one legend: the colours are shared
            a.legend(loc="upper right", fontsize=7, ncol=min(2, pick.size), frameon=False)
    axes[-1].set_xlabel("time (ms)")
    return finish(fig, axes, created, title, "recorded neurons")
