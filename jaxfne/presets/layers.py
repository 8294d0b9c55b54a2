"""Default laminar geometry of a cortical column: layer depth ranges and neuron shares.

Depths are µm below the pia (positive downwards), each layer a half-open range
``(top, bottom)`` with ``top < bottom``.

The five standard layers follow the column of Hagen et al. (2016): the ``layerBoundaries``
of the Potjans-Diesmann microcircuit example of hybridLFPy (INM-6/hybridLFPy,
``examples/example_microcircuit_params.py``, class ``multicompartment_params``), which are,
in µm below the pia, L1 0-81.6, L2/3 81.6-587.1, L4 587.1-922.2, L5 922.2-1170.0,
L6 1170.0-1491.7 (stored there as negative z).

The finer labels split those layers so that they tile them exactly. The split point is set by
the relative thickness of the sub-layers in the Allen Institute reference layer depths
(AllenInstitute/neuron_morphology, ``neuron_morphology/features/layer/reference_layer_depths.py``):
L2 versus L3 from ``DEFAULT_HUMAN_MTG_REFERENCE_LAYER_DEPTHS`` (L2 247.21-407.20 µm,
L3 407.20-1363.92 µm; the mouse table has no L2/L3 split) and L6a versus L6b from
``DEFAULT_MOUSE_REFERENCE_LAYER_DEPTHS`` (L6a 717.18-909.88 µm, L6b 909.88-957.06 µm).
This gives L2 81.6-154.0, L3 154.0-587.1, L6a 1170.0-1428.4, L6b 1428.4-1491.7 µm.

Neuron shares (:data:`LAYER_NEURON_FRACTIONS`) are the layer totals of the Potjans & Diesmann
(2014) microcircuit (E + I: L2/3 26,517; L4 27,394; L5 5,915; L6 17,343; the numbers in
``full_scale_num_neurons`` of the same hybridLFPy file). That model has no L1 neurons, so L1
gets 0. Sub-layers share their parent layer's neurons in proportion to their thickness
(uniform density within the parent layer, an assumption of this module).

References
----------
Hagen E, Dahmen D, Stavrinou ML, Lindén H, Tetzlaff T, van Albada SJ, Grün S, Diesmann M,
Einevoll GT (2016) Hybrid scheme for modeling local field potentials from point-neuron
networks. Cereb Cortex 26:4461-4496. doi:10.1093/cercor/bhw237
Potjans TC, Diesmann M (2014) The cell-type specific cortical microcircuit: relating structure
and activity in a full-scale spiking network model. Cereb Cortex 24:785-806.
doi:10.1093/cercor/bhs358
Allen Institute for Brain Science, neuron_morphology (reference layer depths of mouse visual
cortex and human middle temporal gyrus), https://github.com/AllenInstitute/neuron_morphology

Examples
--------
>>> from jaxfne.presets.layers import layer_depths, split_neurons
>>> layer_depths(["L2/3", "L4"])
{'L2/3': (81.6, 587.1), 'L4': (587.1, 922.2)}
>>> split_neurons(["L2/3", "L4", "L5", "L6"], 100)
{'L2/3': 34, 'L4': 36, 'L5': 8, 'L6': 22}
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

__all__ = [
    "DEFAULT_LAYER_DEPTHS_UM",
    "LAYER_NEURON_FRACTIONS",
    "LayerError",
    "layer_depths",
    "split_neurons",
]


class LayerError(ValueError):
    """An unknown layer label, a malformed depth range or an impossible neuron split."""


# hybridLFPy examples/example_microcircuit_params.py, layerBoundaries (z, µm; pia at 0).
_HYBRIDLFPY_LAYER_BOUNDARIES_Z = ((0.0, -81.6), (-81.6, -587.1), (-587.1, -922.2),
                                  (-922.2, -1170.0), (-1170.0, -1491.7))
_COARSE = ("L1", "L2/3", "L4", "L5", "L6")

# AllenInstitute/neuron_morphology reference_layer_depths.py (µm below pia).
_HUMAN_MTG_L2 = (247.2137476577, 407.2001623338)
_HUMAN_MTG_L3 = (407.2001623338, 1363.9197375716)
_MOUSE_L6A = (717.1835081307, 909.8772394508)
_MOUSE_L6B = (909.8772394508, 957.0592130899)


def _share(first: tuple[float, float], second: tuple[float, float]) -> float:
    """Thickness of ``first`` relative to ``first + second``."""
    a = first[1] - first[0]
    return a / (a + (second[1] - second[0]))


def _build_depths() -> dict[str, tuple[float, float]]:
    coarse = {name: (0.0 - top, 0.0 - bottom) for name, (top, bottom)
              in zip(_COARSE, _HYBRIDLFPY_LAYER_BOUNDARIES_Z)}
    top23, bottom23 = coarse["L2/3"]
    split23 = top23 + (bottom23 - top23) * _share(_HUMAN_MTG_L2, _HUMAN_MTG_L3)
    top6, bottom6 = coarse["L6"]
    split6 = top6 + (bottom6 - top6) * _share(_MOUSE_L6A, _MOUSE_L6B)
    fine = {"L2": (top23, split23), "L3": (split23, bottom23),
            "L6a": (top6, split6), "L6b": (split6, bottom6)}
    return {**coarse, **fine}


DEFAULT_LAYER_DEPTHS_UM: dict[str, tuple[float, float]] = _build_depths()
"""(top, bottom) depth below the pia in µm for L1, L2/3, L4, L5, L6, L2, L3, L6a, L6b."""

# Potjans & Diesmann 2014 population sizes, E + I per layer.
_PD14_LAYER_TOTALS = {"L1": 0, "L2/3": 20683 + 5834, "L4": 21915 + 5479,
                      "L5": 4850 + 1065, "L6": 14395 + 2948}


def _build_fractions() -> dict[str, float]:
    total = sum(_PD14_LAYER_TOTALS.values())
    fractions = {name: count / total for name, count in _PD14_LAYER_TOTALS.items()}
    for parent, children in (("L2/3", ("L2", "L3")), ("L6", ("L6a", "L6b"))):
        top, bottom = DEFAULT_LAYER_DEPTHS_UM[parent]
        for child in children:
            c_top, c_bottom = DEFAULT_LAYER_DEPTHS_UM[child]
            fractions[child] = fractions[parent] * (c_bottom - c_top) / (bottom - top)
    return fractions


LAYER_NEURON_FRACTIONS: dict[str, float] = _build_fractions()
"""Share of a column's neurons per layer (coarse layers sum to 1; L1 is 0)."""


def _check_range(label: str, value: object) -> tuple[float, float]:
    try:
        top, bottom = (float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise LayerError(
            f"overrides[{label!r}]={value!r}: must be a (top, bottom) pair of depths in µm"
        ) from None
    if not (math.isfinite(top) and math.isfinite(bottom) and 0.0 <= top < bottom):
        raise LayerError(
            f"overrides[{label!r}]=({top!r}, {bottom!r}): need finite depths in µm below the "
            "pia with 0 <= top < bottom"
        )
    return top, bottom


def layer_depths(
    labels: Sequence[str], overrides: Mapping[str, Sequence[float]] | None = None
) -> dict[str, tuple[float, float]]:
    """Depth range of each layer label, from ``overrides`` or the defaults.

    Parameters
    ----------
    labels : sequence of str
        Layer labels of one column, e.g. ``["L2/3", "L4", "L5"]``; no duplicates.
    overrides : mapping str -> (top, bottom), optional
        Depths in µm below the pia that replace or extend :data:`DEFAULT_LAYER_DEPTHS_UM`;
        entries for labels not in ``labels`` are ignored.

    Returns
    -------
    dict
        ``{label: (top, bottom)}`` in the order of ``labels``, µm below the pia.

    Raises
    ------
    LayerError
        (a ValueError) for a label with neither a default nor an override (the message
        names it and lists the known labels), a duplicate label, a malformed override, or two
        layers whose ranges overlap.
    """
    overrides = dict(overrides or {})
    if isinstance(labels, str):
        raise LayerError(f"labels={labels!r}: must be a sequence of layer labels, not one string")
    labels = list(labels)
    seen: set[str] = set()
    out: dict[str, tuple[float, float]] = {}
    for label in labels:
        if label in seen:
            raise LayerError(f"labels={labels!r}: layer {label!r} is listed twice")
        seen.add(label)
        if label in overrides:
            out[label] = _check_range(label, overrides[label])
        elif label in DEFAULT_LAYER_DEPTHS_UM:
            out[label] = DEFAULT_LAYER_DEPTHS_UM[label]
        else:
            known = sorted(set(DEFAULT_LAYER_DEPTHS_UM) | set(overrides))
            raise LayerError(
                f"layer label {label!r} has no default depth and no override; known labels: "
                f"{', '.join(known)} (or pass overrides={{{label!r}: (top_um, bottom_um)}})"
            )
    ordered = sorted(out.items(), key=lambda item: item[1][0])
    for (name_a, (_, bottom_a)), (name_b, (top_b, _)) in zip(ordered, ordered[1:]):
        if top_b < bottom_a:
            raise LayerError(
                f"layers {name_a!r} {out[name_a]} and {name_b!r} {out[name_b]} overlap "
                "(depths in µm below the pia); a column's layers must not overlap"
            )
    return out


def split_neurons(
    labels: Sequence[str], n: int, fractions: Mapping[str, float] | None = None
) -> dict[str, int]:
    """Split ``n`` neurons across layers in proportion to their neuron shares.

    Parameters
    ----------
    labels : sequence of str
        Layer labels of one column.
    n : int
        Number of neurons in the column, >= 0.
    fractions : mapping str -> float, optional
        Relative neuron counts per label (non-negative); defaults to
        :data:`LAYER_NEURON_FRACTIONS`. Only their ratios among ``labels`` matter.

    Returns
    -------
    dict
        ``{label: count}`` in the order of ``labels``, summing to ``n``. Counts are the
        largest-remainder rounding of ``n * w / sum(w)`` (ties go to the earlier label). If
        every weight is 0 (e.g. a column of L1 only) the neurons are split evenly.

    Raises
    ------
    LayerError
        (a ValueError) for a negative or non-integer ``n``, a label without a share, or a
        negative share.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise LayerError(f"n={n!r}: must be a non-negative integer number of neurons")
    table = LAYER_NEURON_FRACTIONS if fractions is None else fractions
    labels = list(labels)
    if not labels:
        raise LayerError("labels=[]: a column needs at least one layer")
    weights = []
    for label in labels:
        if label not in table:
            raise LayerError(
                f"layer label {label!r} has no neuron share; known labels: "
                f"{', '.join(sorted(table))} (or pass fractions={{{label!r}: share}})"
            )
        w = float(table[label])
        if not (math.isfinite(w) and w >= 0.0):
            raise LayerError(f"fractions[{label!r}]={w!r}: must be a finite share >= 0")
        weights.append(w)
    total = sum(weights)
    if total == 0.0:
        weights = [1.0] * len(labels)
        total = float(len(labels))
    exact = [n * w / total for w in weights]
    counts = [math.floor(x) for x in exact]
    remainder = n - sum(counts)
    order = sorted(range(len(labels)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[:remainder]:
        counts[i] += 1
    return dict(zip(labels, counts))
