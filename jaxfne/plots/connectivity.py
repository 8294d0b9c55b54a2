"""The connectivity of a constructed model as a presynaptic x postsynaptic population matrix."""

from __future__ import annotations

import numpy as np

from ..config.validate import check_option
from ..errors import ConfigurationError
from ._figure import finish, label, new_axes

__all__ = ["plot_connectivity"]

CONNECTIVITY_QUANTITIES = ("count", "mean_weight")


def _weight_unit(model) -> str:
    """The unit of the model's synaptic weights: its neuron family's input current unit."""
    from ..signals import signal_unit

    return signal_unit("weights", model.family)


def connectivity_matrix(model, quantity: str = "count") -> tuple[np.ndarray, list[str]]:
    """``[pre population, post population]`` synapse counts or mean weights, and the population names.

    Parameters
    ----------
    model : jaxfne.Model
        A constructed model; read through :meth:`jaxfne.Model.connectivity_summary` (the drawn synapse
        table grouped by population pair) and ``model.table.populations`` (the order).
    quantity : str
        ``"count"`` (synapses, multapses counted one by one) or ``"mean_weight"`` (the mean drawn
        weight, before the ``weight_scale`` and ``gain`` parameter leaves; NaN without synapses).

    Returns
    -------
    numpy.ndarray, list of str
        The matrix (float) and the population names of its rows and columns.

    Examples
    --------
    >>> import jaxfne
    >>> cfg = (jaxfne.configuration().column("V1", layers=["L4"], n=20).cell_types({"E": 0.8, "I": 0.2})
    ...        .connectivity().set_emitter("izhikevich", "cortical_eig"))
    >>> counts, pops = connectivity_matrix(jaxfne.construct(cfg))
    >>> pops, int(counts.sum()) > 0
    (['V1:L4E', 'V1:L4I'], True)
    """
    check_option("quantity", quantity, CONNECTIVITY_QUANTITIES)
    pops = [str(p) for p in model.table.populations]
    index = {p: k for k, p in enumerate(pops)}
    out = np.zeros((len(pops), len(pops))) if quantity == "count" else np.full((len(pops), len(pops)), np.nan)
    summary = model.connectivity_summary()
    column = "n_synapses" if quantity == "count" else "mean_weight"
    for pre, post, v in zip(summary["pre"], summary["post"], summary[column]):
        out[index[str(pre)], index[str(post)]] = float(v)
    return out, pops


def plot_connectivity(model, *, quantity: str = "count", ax=None, title: str = "", annotate: bool | None = None,
                      cmap: str | None = None):
    """The synapse count (or mean weight) of every presynaptic x postsynaptic population pair.

    Parameters
    ----------
    model : jaxfne.Model
        A constructed model (:func:`jaxfne.construct`).
    quantity : str
        ``"count"`` or ``"mean_weight"`` (in the neuron family's current unit: pA for
        ``iaf_psc_exp``, pA/pF for ``izhikevich``; inhibitory weights negative), see
        :func:`connectivity_matrix`.
    ax : matplotlib Axes, optional
        Axes to draw into (its figure gets the colour bar); default a new Figure.
    title : str
        Figure title.
    annotate : bool, optional
        Write each cell's value; default when there are at most 12 populations.
    cmap : str, optional
        Colour map; default ``viridis`` for counts and the diverging ``RdBu_r`` (symmetric about 0)
        for weights.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on; rows are presynaptic, columns postsynaptic populations.

    Examples
    --------
    >>> import jaxfne, jaxfne.plots as jp
    >>> cfg = (jaxfne.configuration().column("V1", layers=["L2/3", "L4"], n=40).cell_types({"E": 0.8, "I": 0.2})
    ...        .connectivity().set_emitter("izhikevich", "cortical_eig"))
    >>> fig = jp.plot_connectivity(jaxfne.construct(cfg), quantity="mean_weight")
    >>> fig.axes[1].get_ylabel()
    'mean weight (pA/pF)'
    """
    from ..model import Model

    if not isinstance(model, Model):
        raise ConfigurationError("model", type(model).__name__, "a jaxfne.Model (jaxfne.construct(cfg))")
    matrix, pops = connectivity_matrix(model, quantity)
    fig, (a,), created = new_axes(ax, 1, figsize=(1.2 + 0.55 * len(pops) + 1.5, 1.0 + 0.55 * len(pops) + 0.8))
    one_column = len({p.split(":", 1)[0] for p in pops}) == 1
    names = [p.split(":", 1)[-1] for p in pops] if one_column else pops
    if quantity == "count":
        im = a.imshow(matrix, cmap=cmap or "viridis", vmin=0, interpolation="nearest")
        bar = "synapses (count)"
    else:
        finite = np.abs(matrix[np.isfinite(matrix)])
        lim = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        im = a.imshow(np.ma.masked_invalid(matrix), cmap=cmap or "RdBu_r", vmin=-lim, vmax=lim,
                      interpolation="nearest")
        bar = label("mean weight", _weight_unit(model))
    a.figure.colorbar(im, ax=a, pad=0.02, shrink=0.9).set_label(bar)
    a.set_xticks(range(len(pops)), names, rotation=45, ha="right", fontsize=8)
    a.set_yticks(range(len(pops)), names, fontsize=8)
    a.set_xlabel("postsynaptic population")
    a.set_ylabel("presynaptic population")
    if annotate if annotate is not None else len(pops) <= 12:
        peak = np.nanmax(np.abs(matrix)) if np.isfinite(matrix).any() else 0.0
        for (i, j), v in np.ndenumerate(matrix):
            text = "-" if not np.isfinite(v) else f"{v:.0f}" if quantity == "count" else f"{v:.3g}"
            dark = peak > 0 and (v < 0.6 * peak if quantity == "count" else abs(v) > 0.6 * peak)
            a.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black")
    default = f"{'synapses' if quantity == 'count' else 'mean weight'} per population pair"
    return finish(fig, [a], created, title, f"{default} ({model.n} neurons)")
