"""How the figure functions draw: Figures without pyplot, given Axes, units, layer lines, saving.

A figure is a :class:`matplotlib.figure.Figure` that belongs to no backend or window manager, so
importing :mod:`jaxfne.plots` leaves the user's backend alone and nothing needs a display.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import ConfigurationError
from ..io.atomic import atomic_file

#: Colour of each cell type (E red, I blue), and of the populations of each type.
TYPE_COLOURS = {"E": "tab:red", "I": "tab:blue"}
_TYPE_MAPS = {"E": "Reds", "I": "Blues"}


def new_axes(ax, n: int, *, figsize, sharex: bool = False, height_ratios=None, ncols: int = 1,
             field: str = "ax") -> tuple[Figure, list[Axes], bool]:
    """The Axes to draw on: ``n`` new ones in a new Figure (``ax=None``), or the ``n`` given ones.

    Returns the Figure (``ax.figure`` of the first given Axes), the Axes in order, and whether the
    Figure was made here.
    """
    if ax is None:
        nrows = int(np.ceil(n / ncols))
        fig = Figure(figsize=figsize, layout="constrained")
        grid = fig.subplots(nrows, ncols, sharex=sharex, squeeze=False,
                            gridspec_kw={"height_ratios": height_ratios} if height_ratios else None)
        axes = list(np.ravel(grid))
        for extra in axes[n:]:
            extra.set_axis_off()
        return fig, axes[:n], True
    given = [ax] if isinstance(ax, Axes) else list(np.ravel(np.asarray(ax, dtype=object))) \
        if isinstance(ax, Sequence | np.ndarray) and not isinstance(ax, str) else None
    if given is None or len(given) != n or not all(isinstance(a, Axes) for a in given):
        what = "a matplotlib Axes" if n == 1 else f"a sequence of {n} matplotlib Axes"
        raise ConfigurationError(field, ax, f"None (a new Figure) or {what}")
    return given[0].figure, given, False


def finish(fig: Figure, axes: Sequence[Axes], created: bool, title: str, default: str) -> Figure:
    """Title the figure (its own Figure: a suptitle; given Axes: the first one's title, if any)."""
    if created:
        fig.suptitle(title or default, fontsize=10)
    elif title:
        axes[0].set_title(title, fontsize=10)
    return fig


def missing(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, f"{what} not recorded", ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def pretty_unit(units) -> str:
    """A UDUNITS string for display: ``uV`` -> ``µV``, ``A/m^3`` -> ``A/m³``, ``nA m`` -> ``nA·m``;
    ``1`` (dimensionless) -> ``""``."""
    u = str(units or "").strip()
    if u in ("", "1"):
        return ""
    u = re.sub(r"(?<![A-Za-z])u(?=[A-Za-z])", "µ", u)
    u = u.replace("^2", "²").replace("^3", "³").replace("^-1", "⁻¹")
    return re.sub(r"(?<=[A-Za-zµ²³])\s+(?=[A-Za-zµ])", "·", u)


def units_of(da) -> str:
    return pretty_unit(da.attrs.get("units", ""))


def label(name: str, units: str) -> str:
    """``name (units)``, or ``name`` without units."""
    return f"{name} ({units})" if units else name


def psd_unit(units: str) -> str:
    """The unit of a power spectral density of a signal in ``units`` (display form): ``µV²/Hz``."""
    if not units:
        return "1/Hz"
    single = re.fullmatch(r"[A-Za-zµ]+", units) is not None
    return f"{units}²/Hz" if single else f"({units})²/Hz"


def population_colours(populations: Sequence[str], cell_types: Sequence[str]) -> dict[str, object]:
    """A colour per population: shades of red for E populations, of blue for I, grey otherwise."""
    from matplotlib import colormaps

    out: dict[str, object] = {}
    for ct in dict.fromkeys(cell_types):
        pops = [p for p, c in zip(populations, cell_types) if c == ct]
        cmap = colormaps[_TYPE_MAPS.get(ct, "Greys")]
        for k, pop in enumerate(pops):
            out[pop] = cmap(0.95 - 0.5 * k / max(1, len(pops) - 1)) if len(pops) > 1 else TYPE_COLOURS.get(ct, "0.3")
    return out


def draw_layers(ax: Axes, layers: dict[str, tuple[float, float]], *, side: str = "left", colour: str = "0.35",
                lw: float = 0.6, names: bool = True) -> None:
    """Layer boundaries (horizontal lines at every top and bottom depth) and names at mid-layer.

    ``side``: ``"left"`` writes the names inside the axes at the left edge, ``"right"`` just outside
    the right edge. The y limits are kept as they were.
    """
    if not layers:
        return
    ylim = ax.get_ylim()
    for z in sorted({z for bounds in layers.values() for z in bounds}):
        ax.axhline(z, color=colour, lw=lw, ls="--", zorder=2)
    if names:
        trans = ax.get_yaxis_transform()
        for name, (top, bottom) in layers.items():
            mid = 0.5 * (top + bottom)
            if min(ylim) <= mid <= max(ylim):
                if side == "right":
                    ax.text(1.005, mid, name, transform=trans, va="center", ha="left", fontsize=8)
                else:
                    ax.text(0.01, mid, name, transform=trans, va="center", ha="left", fontsize=8,
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7})
    ax.set_ylim(ylim)


def save(fig: Figure, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` (PNG unless the suffix names another format), atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, as a ``plot_*`` function returns it.
    path : path-like
        Output file; parent folders are created. The figure is written to a temporary file beside it
        and renamed, so a reader never sees half a file. A figure with a layout engine (every
        ``plot_*`` figure is constrained) is written at its own size; one without is cropped to its
        artists (``bbox_inches="tight"``, which draws the figure twice).
    dpi : int
        Resolution, dots per inch.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> import tempfile, pathlib
    >>> fig = Figure(); _ = fig.subplots().plot([0, 1])
    >>> save(fig, pathlib.Path(tempfile.mkdtemp()) / "line.png").name
    'line.png'
    """
    path = Path(path)
    fmt = path.suffix[1:].lower() or "png"
    with atomic_file(path, suffix=f".{fmt}") as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches=None if fig.get_layout_engine() is not None else "tight", format=fmt)
    return path
