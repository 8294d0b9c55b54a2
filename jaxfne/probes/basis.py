"""Spatial basis: where each point neuron's synaptic currents enter and leave the column.

A point neuron has no extent, so its synaptic currents produce no field by
themselves. The basis gives each neuron a minimal two-site geometry along the column
axis: the synaptic current enters at the synapse depths (spread uniformly over a depth
range relative to the soma) and the same current leaves at the soma (the return
current). With NEST/Brian2 signs (``I_exc >= 0`` inward, ``I_inh <= 0``), the
transmembrane current (outward > 0) per depth bin is

    s[b] = I_exc @ B_exc[:, b] + I_inh @ B_inh[:, b],
    B_x[n, b] = soma_profile[n, b] - syn_x_profile[n, b],

each profile summing to 1 over bins, so every row of ``B_x`` sums to 0 (no monopole).
An inward excitatory current is a sink ``-I_exc`` at its synapses and a source
``+I_exc`` at the soma.

Default placement (depth offsets relative to the soma, µm, negative = towards the pia)
------------------------------------------------------------------------------------
* excitatory cells (pyramidal): excitatory input on the apical dendrite,
  -300 to -50 µm; inhibitory input perisomatic/basal, +25 to +150 µm, below the soma
  so that it does not sit on the soma's own return current. This is the dipole
  configuration of the LFP proxies of Mazzoni et al. (2008, 2015): currents enter
  pyramidal cells through apical excitatory contacts and leave through basal
  inhibitory ones. In hybridLFPy's Brunel example (Hagen et al. 2016,
  ``examples/example_brunel.py``) half of the excitatory synapses onto pyramidal
  cells sit in the layer above the soma layer (apical) and all inhibitory synapses
  in the soma layer (``k_yXL``, ``synParams`` sections ``apic``/``dend``); Lindén
  et al. (2011) contrast apical, basal and homogeneous excitatory input, the apical
  case giving the far-reaching dipolar LFP.
* inhibitory cells (interneurons): compact, nearly closed-field dendrites
  (hybridLFPy uses randomly rotated basket-cell morphologies, whose net dipole
  averages out); excitatory input -40 to -10 µm, inhibitory +10 to +40 µm, a small
  dipole kept only so that E and I inputs do not coincide. With bins wider than these
  offsets, part (or all) of an interneuron's input shares its soma bin and produces
  no field, the closed-field limit.
* layer 4 excitatory cells (spiny stellates in the Binzegger et al. 2004 tables used
  by Hagen et al. 2016): compact, excitatory -75 to -25 µm, inhibitory +25 to +75 µm.

The offsets are modelling choices informed by these studies, not measured values.

References
----------
Mazzoni A, Panzeri S, Logothetis NK, Brunel N (2008) Encoding of naturalistic stimuli by
local field potential spectra in networks of excitatory and inhibitory neurons.
PLoS Comput Biol 4:e1000239.
Mazzoni A, Lindén H, Cuntz H, Lansner A, Panzeri S, Einevoll GT (2015) Computing the
local field potential (LFP) from integrate-and-fire network models. PLoS Comput Biol
11:e1004584.
Lindén H, Tetzlaff T, Potjans TC, Pettersen KH, Grün S, Diesmann M, Einevoll GT (2011)
Modeling the spatial reach of the LFP. Neuron 72:859-872.
Hagen E, Dahmen D, Stavrinou ML, Lindén H, Tetzlaff T, van Albada SJ, Grün S,
Diesmann M, Einevoll GT (2016) Hybrid scheme for modeling local field potentials from
point-neuron networks. Cereb Cortex 26:4461-4496.
Binzegger T, Douglas RJ, Martin KAC (2004) A quantitative map of the circuit of cat
primary visual cortex. J Neurosci 24:8441-8453.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["BasisError", "BasisSpec",
    "afferent_basis", "basis_matrices"]

_CELL_TYPES = ("E", "I")
_DEFAULT_RANGES = (
    ("*", "E", -300.0, -50.0, 25.0, 150.0),
    ("*", "I", -40.0, -10.0, 10.0, 40.0),
    ("L4", "E", -75.0, -25.0, 25.0, 75.0),
)


class BasisError(ValueError):
    """Invalid basis specification or basis input."""


def _check_range(where: str, lo: float, hi: float) -> None:
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise BasisError(f"{where} must be a finite (low, high) pair of soma-relative depths "
                         f"in µm with low <= high; got ({lo!r}, {hi!r})")


@dataclass(frozen=True)
class BasisSpec:
    """Where synaptic currents of each (layer, cell type) sit relative to the soma.

    Parameters
    ----------
    bin_width_um : float
        Target width of the laminar depth bins (µm). :meth:`bin_edges` divides the
        column depth into ``ceil(depth / bin_width_um)`` equal bins (so the actual
        width is at most this).
    ranges : tuple of (layer, cell_type, exc_lo, exc_hi, inh_lo, inh_hi)
        Soma-relative depth ranges (µm, negative = towards the pia) over which the
        excitatory and inhibitory synaptic currents of a neuron are spread uniformly.
        ``layer`` is a layer label or ``"*"`` (any layer); ``cell_type`` is ``"E"``
        or ``"I"``. An exact (layer, cell_type) entry wins over the ``"*"`` entry. A
        ``dict`` ``{"L4/E": {"exc": (lo, hi), "inh": (lo, hi)}, ...}`` is accepted
        too. Defaults, with their sources, are in the module docstring.
    soma_spread_um : float
        Half-width (µm) over which the soma return current is spread (0: the bin that
        contains the soma).

    Notes
    -----
    Excitatory and inhibitory ranges must not overlap (checked), and should not
    contain the soma (0): the part of an input that sits in the soma's bin cancels
    against its own return current and produces no field.

    Examples
    --------
    >>> spec = BasisSpec().with_range("L5", "E", exc=(-600.0, -300.0))
    >>> spec.lookup("L5", "E")
    ((-600.0, -300.0), (25.0, 150.0))
    """

    bin_width_um: float = 50.0
    ranges: tuple = field(default=_DEFAULT_RANGES)
    soma_spread_um: float = 0.0

    def __post_init__(self):
        if not (math.isfinite(self.bin_width_um) and self.bin_width_um > 0):
            raise BasisError(f"bin_width_um must be a positive width in µm; got "
                             f"{self.bin_width_um!r}")
        if not (math.isfinite(self.soma_spread_um) and self.soma_spread_um >= 0):
            raise BasisError(f"soma_spread_um must be >= 0 µm; got {self.soma_spread_um!r}")
        rows = self.ranges
        if isinstance(rows, dict):
            rows = tuple(self._row_from_mapping(k, v) for k, v in rows.items())
        norm = []
        for row in rows:
            if len(row) != 6:
                raise BasisError("each ranges entry must be (layer, cell_type, exc_lo, "
                                 f"exc_hi, inh_lo, inh_hi); got {row!r}")
            layer, ctype = str(row[0]), str(row[1])
            if ctype not in _CELL_TYPES:
                raise BasisError(f"cell_type must be one of {_CELL_TYPES}; got {ctype!r} "
                                 f"in {row!r}")
            el, eh, il, ih = (float(v) for v in row[2:])
            _check_range(f"excitatory range of {layer}/{ctype}", el, eh)
            _check_range(f"inhibitory range of {layer}/{ctype}", il, ih)
            if max(el, il) < min(eh, ih):
                raise BasisError(f"excitatory ({el}, {eh}) and inhibitory ({il}, {ih}) "
                                 f"ranges of {layer}/{ctype} overlap; they must be distinct")
            norm.append((layer, ctype, el, eh, il, ih))
        keys = [(r[0], r[1]) for r in norm]
        if len(set(keys)) != len(keys):
            raise BasisError(f"ranges has duplicate (layer, cell_type) entries: {keys}")
        for ct in _CELL_TYPES:
            if ("*", ct) not in keys:
                raise BasisError(f"ranges needs a default entry ('*', {ct!r}, ...)")
        object.__setattr__(self, "ranges", tuple(sorted(norm)))
        object.__setattr__(self, "bin_width_um", float(self.bin_width_um))
        object.__setattr__(self, "soma_spread_um", float(self.soma_spread_um))

    @staticmethod
    def _row_from_mapping(key, value):
        try:
            layer, ctype = str(key).rsplit("/", 1)
            (el, eh), (il, ih) = value["exc"], value["inh"]
        except (ValueError, KeyError, TypeError):
            raise BasisError("ranges dict entries must look like 'L4/E': {'exc': (lo, hi), "
                             f"'inh': (lo, hi)}}; got {key!r}: {value!r}") from None
        return (layer, ctype, el, eh, il, ih)

    def lookup(self, layer: str, cell_type: str):
        """``((exc_lo, exc_hi), (inh_lo, inh_hi))`` for a layer label and ``"E"``/``"I"``."""
        if cell_type not in _CELL_TYPES:
            raise BasisError(f"cell_type must be one of {_CELL_TYPES}; got {cell_type!r}")
        table = {(r[0], r[1]): r[2:] for r in self.ranges}
        row = table.get((str(layer), cell_type), table[("*", cell_type)])
        return (row[0], row[1]), (row[2], row[3])

    def with_range(self, layer: str, cell_type: str, exc=None, inh=None) -> "BasisSpec":
        """New spec with the (layer, cell_type) ranges replaced (unset ones inherited)."""
        (e0, i0) = self.lookup(layer, cell_type)
        e = tuple(exc) if exc is not None else e0
        i = tuple(inh) if inh is not None else i0
        rows = [r for r in self.ranges if (r[0], r[1]) != (str(layer), cell_type)]
        rows.append((str(layer), cell_type, *e, *i))
        return BasisSpec(self.bin_width_um, tuple(rows), self.soma_spread_um)

    def bin_edges(self, top_depth_um: float, bottom_depth_um: float) -> np.ndarray:
        """Equal depth bins from ``top`` to ``bottom`` (µm), width <= ``bin_width_um``."""
        top, bottom = float(top_depth_um), float(bottom_depth_um)
        if not (math.isfinite(top) and math.isfinite(bottom) and bottom > top):
            raise BasisError(f"need top_depth_um < bottom_depth_um; got {top!r}, {bottom!r}")
        n = max(1, math.ceil((bottom - top) / self.bin_width_um - 1e-9))
        return np.linspace(top, bottom, n + 1)

    def to_dict(self) -> dict:
        """Plain-JSON representation (round-trips through :meth:`from_dict`)."""
        return {
            "bin_width_um": self.bin_width_um,
            "soma_spread_um": self.soma_spread_um,
            "ranges": {f"{r[0]}/{r[1]}": {"exc": [r[2], r[3]], "inh": [r[4], r[5]]}
                       for r in self.ranges},
        }

    @classmethod
    def from_dict(cls, d: dict) -> "BasisSpec":
        """Inverse of :meth:`to_dict`."""
        unknown = set(d) - {"bin_width_um", "soma_spread_um", "ranges"}
        if unknown:
            raise BasisError(f"unknown BasisSpec keys {sorted(unknown)}; allowed: "
                             "bin_width_um, soma_spread_um, ranges")
        return cls(bin_width_um=d.get("bin_width_um", 50.0),
                   ranges=d.get("ranges", _DEFAULT_RANGES),
                   soma_spread_um=d.get("soma_spread_um", 0.0))


def _interval_profile(lo: np.ndarray, hi: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Fraction of a uniform density on [lo, hi] (per row) in each bin; out-of-column
    parts are assigned to the first/last bin. Points (lo == hi) go to their bin."""
    n_bins = edges.size - 1
    length = hi - lo
    a = np.clip(lo, edges[0], edges[-1])
    b = np.clip(hi, edges[0], edges[-1])
    overlap = np.clip(np.minimum(b[:, None], edges[None, 1:])
                      - np.maximum(a[:, None], edges[None, :-1]), 0.0, None)
    safe = np.where(length > 0, length, 1.0)
    prof = overlap / safe[:, None]
    prof[:, 0] += np.clip(edges[0] - lo, 0.0, length) / safe
    prof[:, -1] += np.clip(hi - edges[-1], 0.0, length) / safe
    point = length == 0
    if np.any(point):
        idx = np.clip(np.searchsorted(edges, lo[point], side="right") - 1, 0, n_bins - 1)
        prof[point] = 0.0
        prof[np.flatnonzero(point), idx] = 1.0
    return prof / prof.sum(axis=1, keepdims=True)


def basis_matrices(soma_depth_um, layer_labels, is_exc, bin_edges_um, spec: BasisSpec):
    """Per-neuron laminar basis of the excitatory and inhibitory synaptic currents.

    Parameters
    ----------
    soma_depth_um : array_like, shape (N,)
        Soma depths (µm below the pia).
    layer_labels : sequence of str, length N
        Layer of each neuron (matched against ``spec.ranges``).
    is_exc : array_like of bool, shape (N,)
        True for excitatory (cell type ``"E"``) neurons.
    bin_edges_um : array_like, shape (B + 1,)
        Strictly increasing depth-bin edges (µm below the pia).
    spec : BasisSpec
        Synapse placement.

    Returns
    -------
    B_exc, B_inh : numpy.ndarray, shape (N, B), float64
        ``soma_profile - synapse_profile``; each row sums to 0 (to rounding).
        Multiply by inward-positive synaptic currents to get the transmembrane
        (outward-positive) current per bin. Synapse ranges that leave the column
        are clipped to the first/last bin, conserving current.
    """
    if not isinstance(spec, BasisSpec):
        raise BasisError(f"spec must be a BasisSpec; got {type(spec).__name__}")
    depth = np.asarray(soma_depth_um, dtype=np.float64)
    if depth.ndim != 1 or not np.all(np.isfinite(depth)):
        raise BasisError(f"soma_depth_um must be a finite 1-D array (µm); got shape {depth.shape}")
    n = depth.size
    labels = [str(v) for v in layer_labels]
    exc = np.asarray(is_exc)
    if len(labels) != n or exc.shape != (n,) or exc.dtype != bool:
        raise BasisError(f"layer_labels (len {len(labels)}) and is_exc (shape {exc.shape}, "
                         f"dtype {exc.dtype}) must match soma_depth_um (N={n}); is_exc bool")
    edges = np.asarray(bin_edges_um, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
        raise BasisError(f"bin_edges_um must be strictly increasing with >= 2 entries; "
                         f"got {bin_edges_um!r}")
    rng = np.empty((n, 4))
    for i, (lab, e) in enumerate(zip(labels, exc)):
        (el, eh), (il, ih) = spec.lookup(lab, "E" if e else "I")
        rng[i] = (el, eh, il, ih)
    w = spec.soma_spread_um
    soma = _interval_profile(depth - w, depth + w, edges)
    syn_e = _interval_profile(depth + rng[:, 0], depth + rng[:, 1], edges)
    syn_i = _interval_profile(depth + rng[:, 2], depth + rng[:, 3], edges)
    b_exc = soma - syn_e
    b_inh = soma - syn_i
    return b_exc, b_inh


def afferent_basis(soma_depth_um, depth_range_um, bin_edges_um, spec: BasisSpec):
    """Basis of an afferent whose synapses sit at an absolute depth range, whatever the soma depth.

    A layer-specific input (e.g. thalamocortical fibres ending in L4, Hagen et al. 2016) puts its
    inward current uniformly over ``depth_range_um = (top, bottom)`` (µm below the pia) and the
    return current at each target's soma. Rows sum to 0.
    """
    depth = np.asarray(soma_depth_um, dtype=np.float64)
    edges = np.asarray(bin_edges_um, dtype=np.float64)
    top, bottom = (float(v) for v in depth_range_um)
    if not (math.isfinite(top) and math.isfinite(bottom) and bottom >= top):
        raise BasisError(f"depth_range_um must be (top, bottom) with bottom >= top; got {depth_range_um!r}")
    w = spec.soma_spread_um
    soma = _interval_profile(depth - w, depth + w, edges)
    syn = _interval_profile(np.full(depth.size, top), np.full(depth.size, bottom), edges)
    return soma - syn
