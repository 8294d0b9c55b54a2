"""Laminar geometry of the simulated column(s): depth bins, layers, probe contacts.

Coordinates: µm; ``x, y`` lateral; the column axis is ``z`` pointing to the pia, so a
depth ``d`` below the pia is ``z = -d``. Each column is a cylinder of its own radius
around its centre; its laminar source density lives on the depth bins shared by all
columns (each bin a cylinder slice of volume ``pi R_c^2 dz``). A source *location* is a
(column, bin) pair, ordered column by column: location ``c * B + b`` is bin ``b`` of
column ``c``, as in the engine's ``source`` signal and the LFP matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .basis import BasisSpec
from .volume_conductor import (CYLINDER_N_ANGLES, CYLINDER_N_RINGS,
                               laminar_cylinder_matrix)

__all__ = ["GeometryConfigError", "LaminarSourceGeometry"]


class GeometryConfigError(ValueError):
    """Invalid laminar geometry."""


def _radius(value, n_columns: int):
    """A shared radius as a float, distinct per-column radii as a tuple (µm)."""
    many = np.ndim(value) > 0
    radii = tuple(float(r) for r in np.ravel(value)) if many else (float(value),)
    if many and len(radii) != n_columns:
        raise GeometryConfigError(f"radius_um needs one radius per column ({n_columns}); got "
                                  f"{value!r}")
    if not radii or not all(math.isfinite(r) and r > 0 for r in radii):
        raise GeometryConfigError(f"radius_um must be a positive length in µm; got {value!r}")
    return radii[0] if len(set(radii)) == 1 else radii


@dataclass(frozen=True)
class LaminarSourceGeometry:
    """Depth bins, layers and recording contacts of one or more cortical columns.

    Use :meth:`from_layers` to build one from layer depths.

    Parameters
    ----------
    column_names : tuple of str
        One name per column.
    centers_xy_um : tuple of (x, y)
        Lateral centre of each column (µm).
    radius_um : float or tuple of float
        Column radius R (µm): one value shared by every column, or one per column (a
        tuple of equal radii is stored as the one shared value). 564 µm gives 1 mm^2
        (Potjans & Diesmann 2014 as used by Hagen et al. 2016).
    bin_edges_um : tuple of float
        Strictly increasing depth-bin edges (µm below the pia), shared by all columns.
    layers : tuple of (name, top_depth_um, bottom_depth_um)
        Layer boundaries, ordered from the pia down (with several columns: each label's
        depth range over all of them).
    contacts_um : tuple of (x, y, z)
        Recording contact positions (µm, ``z = -depth``).
    sigma : float
        Extracellular conductivity (S/m).

    Notes
    -----
    With one column every per-location quantity has shape (B,), as it always had. With
    ``K`` columns it has shape (K * B,), column by column (the ``location`` dimension of
    the engine's signals): :attr:`bin_volume_m3`, :attr:`source_density_per_pA` and the
    columns of :meth:`lfp_matrix`, which is the matrix the engine applies.
    :attr:`radii_um` is always one radius per column. ``model.geometry`` of a
    multi-column model is this one object for all its columns; it is what the stores
    serialise (``geometry_json``, via :meth:`to_dict`).

    Examples
    --------
    >>> g = LaminarSourceGeometry.from_layers({"L23": (0.0, 500.0), "L4": (500.0, 800.0)})
    >>> g.n_bins, g.n_contacts
    (16, 9)
    >>> import dataclasses
    >>> two = dataclasses.replace(g, column_names=("A", "B"),
    ...                           centers_xy_um=((0.0, 0.0), (500.0, 0.0)),
    ...                           radius_um=(564.0, 282.0))
    >>> two.lfp_matrix(n_rings=4, n_angles=4).shape, two.bin_volume_m3.shape
    ((9, 32), (32,))
    """

    column_names: tuple
    centers_xy_um: tuple
    radius_um: float | tuple
    bin_edges_um: tuple
    layers: tuple
    contacts_um: tuple
    sigma: float = 0.3

    def __post_init__(self):
        names = tuple(str(n) for n in self.column_names)
        centers = tuple((float(c[0]), float(c[1])) for c in self.centers_xy_um)
        if not names or len(names) != len(centers) or len(set(names)) != len(names):
            raise GeometryConfigError(
                f"column_names {names!r} must be unique and match centers_xy_um {centers!r}"
            )
        radius = _radius(self.radius_um, len(names))
        edges = tuple(float(e) for e in self.bin_edges_um)
        if len(edges) < 2 or not all(b > a for a, b in zip(edges, edges[1:])):
            raise GeometryConfigError(f"bin_edges_um must be strictly increasing with >= 2 "
                                      f"entries; got {self.bin_edges_um!r}")
        layers = tuple((str(n), float(t), float(b)) for n, t, b in self.layers)
        for (n0, t0, b0), (n1, t1, b1) in zip(layers, layers[1:]):
            if t1 < b0:
                raise GeometryConfigError(f"layers {n0!r} ({t0}, {b0}) and {n1!r} ({t1}, {b1}) "
                                          "overlap or are not ordered from the pia down")
        for n, t, b in layers:
            if not (b > t):
                raise GeometryConfigError(f"layer {n!r} needs top < bottom depth; got ({t}, {b})")
        contacts = tuple(tuple(float(v) for v in c) for c in self.contacts_um)
        if any(len(c) != 3 for c in contacts):
            raise GeometryConfigError("contacts_um entries must be (x, y, z) in µm")
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise GeometryConfigError(f"sigma must be a positive conductivity in S/m; got "
                                      f"{self.sigma!r}")
        for k, v in (("column_names", names), ("centers_xy_um", centers),
                     ("bin_edges_um", edges), ("layers", layers), ("contacts_um", contacts),
                     ("radius_um", radius), ("sigma", float(self.sigma))):
            object.__setattr__(self, k, v)

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_layers(cls, layer_depths: dict, radius_um: float = 564.0,
                    bin_width_um: float = 50.0, contacts=None, sigma: float = 0.3, *,
                    contact_spacing_um: float = 100.0, n_contacts: int | None = None,
                    first_contact_depth_um: float | None = None,
                    contact_offset_um=(0.0, 0.0), center_xy_um=(0.0, 0.0),
                    column: str = "column",
                    basis_spec: BasisSpec | None = None) -> "LaminarSourceGeometry":
        """Build a one-column geometry from ``{layer: (top_depth_um, bottom_depth_um)}``.

        Parameters
        ----------
        layer_depths : dict
            Layer depth ranges (µm below the pia).
        radius_um : float
            Column radius (µm).
        bin_width_um : float
            Target bin width (µm); the column from the top of the first layer to the
            bottom of the last is split into equal bins no wider than this
            (``basis_spec.bin_edges`` when a ``basis_spec`` is given).
        contacts : array_like (C, 3), optional
            Explicit contact positions (µm, ``z = -depth``); overrides the probe below.
        sigma : float
            Conductivity (S/m).
        contact_spacing_um : float
            Probe contact spacing (µm), default 100.
        n_contacts : int, optional
            Number of contacts; default: as many as fit from the first contact down to
            the bottom of the column.
        first_contact_depth_um : float, optional
            Depth of the first contact (µm); default: the top of the column.
        contact_offset_um : (dx, dy)
            Lateral offset of the probe from the column axis (µm).
        center_xy_um : (x, y)
            Lateral position of the column axis (µm).
        column : str
            Column name.
        basis_spec : BasisSpec, optional
            Supplies the bin-edge policy (its ``bin_width_um`` overrides ``bin_width_um``).
        """
        if not isinstance(layer_depths, dict) or not layer_depths:
            raise GeometryConfigError(f"layer_depths must be a non-empty dict "
                                      f"{{layer: (top, bottom)}}; got {layer_depths!r}")
        layers = sorted(((str(k), float(v[0]), float(v[1])) for k, v in layer_depths.items()),
                        key=lambda r: r[1])
        top, bottom = layers[0][1], max(r[2] for r in layers)
        spec = basis_spec if basis_spec is not None else BasisSpec(bin_width_um=bin_width_um)
        edges = spec.bin_edges(top, bottom)
        cx, cy = (float(v) for v in center_xy_um)
        if contacts is None:
            spacing = float(contact_spacing_um)
            if not (math.isfinite(spacing) and spacing > 0):
                raise GeometryConfigError(f"contact_spacing_um must be > 0 µm; got "
                                          f"{contact_spacing_um!r}")
            first = top if first_contact_depth_um is None else float(first_contact_depth_um)
            count = n_contacts
            if count is None:
                count = int(math.floor((bottom - first) / spacing + 1e-9)) + 1
            if int(count) != count or count < 1:
                raise GeometryConfigError(f"n_contacts must be an integer >= 1; got {n_contacts!r}")
            depth = first + spacing * np.arange(int(count))
            dx, dy = (float(v) for v in contact_offset_um)
            pos = np.stack([np.full(depth.size, cx + dx), np.full(depth.size, cy + dy), -depth], 1)
        else:
            pos = np.asarray(contacts, dtype=np.float64)
            if pos.ndim != 2 or pos.shape[1] != 3:
                raise GeometryConfigError(f"contacts must have shape (C, 3); got {pos.shape}")
        return cls(column_names=(str(column),), centers_xy_um=((cx, cy),),
                   radius_um=float(radius_um), bin_edges_um=tuple(edges),
                   layers=tuple(layers), contacts_um=tuple(map(tuple, pos)), sigma=sigma)

    # -------------------------------------------------------------- properties
    @property
    def n_columns(self) -> int:
        """Number of columns."""
        return len(self.column_names)

    @property
    def radii_um(self) -> np.ndarray:
        """Radius of each column (µm), shape (n_columns,)."""
        return np.broadcast_to(np.asarray(self.radius_um, dtype=np.float64), (self.n_columns,)).copy()

    @property
    def n_locations(self) -> int:
        """Source locations, ``n_columns * n_bins``."""
        return self.n_columns * self.n_bins

    @property
    def n_bins(self) -> int:
        """Depth bins per column."""
        return len(self.bin_edges_um) - 1

    @property
    def n_contacts(self) -> int:
        """Number of recording contacts."""
        return len(self.contacts_um)

    @property
    def bin_edges(self) -> np.ndarray:
        """Depth-bin edges (µm below the pia), shape (B + 1,)."""
        return np.asarray(self.bin_edges_um)

    @property
    def bin_centers_um(self) -> np.ndarray:
        """Depth of each bin centre (µm), shape (B,)."""
        e = self.bin_edges
        return 0.5 * (e[:-1] + e[1:])

    @property
    def bin_volume_m3(self) -> np.ndarray:
        """Volume of each location's cylinder slice, ``pi R_c^2 dz`` (m^3).

        Shape (B,) for one column, (n_columns * B,) column by column for several.
        """
        dz = np.diff(self.bin_edges)
        return np.concatenate([np.pi * (r * 1e-6) ** 2 * dz * 1e-6 for r in self.radii_um])

    @property
    def source_density_per_pA(self) -> np.ndarray:
        """Factor from location current (pA) to source density (A/m^3), shape as :attr:`bin_volume_m3`."""
        return 1e-12 / self.bin_volume_m3

    @property
    def contacts(self) -> np.ndarray:
        """Contact positions (µm), shape (C, 3)."""
        return np.asarray(self.contacts_um, dtype=np.float64).reshape(-1, 3)

    @property
    def contact_depths_um(self) -> np.ndarray:
        """Depth of each contact below the pia, µm (``-z``)."""
        return -self.contacts[:, 2]

    @property
    def contact_spacing_um(self) -> float | None:
        """Spacing of equally spaced collinear contacts (µm), else ``None``."""
        c = self.contacts
        if c.shape[0] < 2:
            return None
        d = np.diff(c, axis=0)
        step = np.linalg.norm(d, axis=1)
        if np.allclose(d, d[0], rtol=0, atol=1e-9 * max(1.0, step.max())):
            return float(step[0])
        return None

    @property
    def depth_range_um(self) -> tuple:
        """``(top, bottom)`` depth of the binned range below the pia, µm (the first and last bin edge)."""
        return self.bin_edges_um[0], self.bin_edges_um[-1]

    def layer_of(self, depth_um) -> np.ndarray:
        """Layer name for each depth (µm); ``""`` outside every layer."""
        d = np.atleast_1d(np.asarray(depth_um, dtype=np.float64))
        out = np.full(d.shape, "", dtype=object)
        for name, top, bottom in self.layers:
            out[(d >= top) & (d < bottom)] = name
        if self.layers:
            name, _, bottom = self.layers[-1]
            out[d == bottom] = name
        return out

    def lfp_matrix(self, n_rings: int = CYLINDER_N_RINGS,
                   n_angles: int = CYLINDER_N_ANGLES) -> np.ndarray:
        """LFP transfer matrix, µV per nA, shape (C, n_columns * B), columns in order.

        Column ``c``'s block is :func:`~jaxfne.probes.volume_conductor.laminar_cylinder_matrix`
        of its own centre and radius; with the default quadrature this is the engine's matrix.
        """
        return np.concatenate([
            laminar_cylinder_matrix(self.contacts, self.bin_edges, r, c,
                                    sigma=self.sigma, n_rings=n_rings, n_angles=n_angles)
            for c, r in zip(self.centers_xy_um, self.radii_um)], axis=1)

    # ----------------------------------------------------------- serialisation
    def to_dict(self) -> dict:
        """Plain-JSON representation (round-trips through :meth:`from_dict`).

        ``radius_um`` is a number when the columns share one radius, else a list with one
        per column.
        """
        return {
            "column_names": list(self.column_names),
            "centers_xy_um": [list(c) for c in self.centers_xy_um],
            "radius_um": self.radius_um if isinstance(self.radius_um, float) else list(self.radius_um),
            "bin_edges_um": list(self.bin_edges_um),
            "layers": [list(r) for r in self.layers],
            "contacts_um": [list(c) for c in self.contacts_um],
            "sigma": self.sigma,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "LaminarSourceGeometry":
        """Inverse of :meth:`to_dict`."""
        return cls(**d)
