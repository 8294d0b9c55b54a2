"""The neuron table: which column, layer and cell type each neuron belongs to, and where it sits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import Configuration

__all__ = ["NeuronTable", "build_neuron_table"]


@dataclass(frozen=True)
class NeuronTable:
    """Static description of every neuron, in simulation order (column, layer, E then I).

    Attributes
    ----------
    column, layer, cell_type, population : ndarray of str, [neuron]
        ``population`` is ``f"{column}:{layer}{cell_type}"``, e.g. ``"V1:L4E"``.
    is_exc : ndarray of bool, [neuron]
    pop_index : ndarray of int, [neuron]
        Index into :attr:`populations`.
    populations : tuple of str
    xyz_um : ndarray, [neuron, 3]
        Lateral position (x, y) and z = -depth (z points to the pia), µm.
    depth_um : ndarray, [neuron]
        Soma depth below the pia, µm.
    """

    column: np.ndarray
    layer: np.ndarray
    cell_type: np.ndarray
    population: np.ndarray
    is_exc: np.ndarray
    pop_index: np.ndarray
    populations: tuple[str, ...]
    xyz_um: np.ndarray
    depth_um: np.ndarray

    @property
    def n(self) -> int:
        return int(self.is_exc.shape[0])

    def select(self, column: str | None = None, layer: str | None = None, cell_type: str | None = None) -> np.ndarray:
        """Boolean mask of the neurons matching every given criterion (``None`` matches all)."""
        mask = np.ones(self.n, bool)
        for values, want, name in ((self.column, column, "column"), (self.layer, layer, "layer"),
                                   (self.cell_type, cell_type, "cell_type")):
            if want is not None:
                if want not in set(values.tolist()):
                    from .errors import ConfigurationError

                    raise ConfigurationError(name, want, "one of " + ", ".join(sorted(set(values.tolist()))))
                mask &= values == want
        return mask

    def to_frame(self):
        """The table as a :class:`pandas.DataFrame` indexed by neuron."""
        import pandas as pd

        df = pd.DataFrame({
            "column": self.column, "layer": self.layer, "cell_type": self.cell_type,
            "population": self.population, "x_um": self.xyz_um[:, 0], "y_um": self.xyz_um[:, 1],
            "depth_um": self.depth_um,
        })
        df.index.name = "neuron"
        return df


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (Hamilton's method)."""
    w = np.asarray(weights, float)
    if w.sum() <= 0:
        w = np.ones_like(w)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(int)
    rest = total - base.sum()
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:rest]] += 1
    return base


def _layer_sizes(col: dict) -> np.ndarray:
    from .presets.layers import LAYER_NEURON_FRACTIONS

    layers = col["layers"]
    if col.get("layer_fractions"):
        w = np.array([col["layer_fractions"].get(lab, 0.0) for lab in layers])
    else:
        w = np.array([LAYER_NEURON_FRACTIONS.get(lab, 1.0) for lab in layers], float)
        if w.sum() <= 0:
            w = np.ones(len(layers))
    return _largest_remainder(col["n"], w)


def _type_counts(col: dict, sizes: np.ndarray, cell_types: dict) -> list[tuple[int, int]]:
    """(n_E, n_I) per layer of one column."""
    if col.get("population_sizes"):
        ps = col["population_sizes"]
        return [(int(ps.get(f"{lab}E", 0)), int(ps.get(f"{lab}I", 0))) for lab in col["layers"]]
    fr = cell_types["fractions"]
    per_layer = cell_types.get("per_layer") or {}
    counts_given = all(isinstance(v, int) for v in fr.values()) and sum(fr.values()) > 1
    if counts_given:
        n_e_total = int(fr.get("E", 0))
        ne = _largest_remainder(n_e_total, sizes.astype(float))
        ne = np.minimum(ne, sizes)
        # give any remainder to layers that still have room
        deficit = n_e_total - ne.sum()
        for i in range(len(sizes)):
            take = min(deficit, sizes[i] - ne[i])
            ne[i] += take
            deficit -= take
        return [(int(e), int(s - e)) for e, s in zip(ne, sizes)]
    out = []
    for lab, s in zip(col["layers"], sizes):
        f = per_layer.get(lab, fr)
        e = int(_largest_remainder(int(s), np.array([f.get("E", 0.0), f.get("I", 0.0)]))[0])
        out.append((e, int(s) - e))
    return out


def build_neuron_table(cfg: Configuration, rng: np.random.Generator) -> NeuronTable:
    """Place every neuron: depth uniform within its layer, (x, y) uniform on the column's disc."""
    from .errors import ConfigurationError

    cols = cfg.columns
    if not cols:
        raise ConfigurationError("columns", [], "at least one column: call Configuration.column(name, layers, n)")
    rows: dict[str, list] = {k: [] for k in ("column", "layer", "cell_type")}
    depth, xy = [], []
    for col in cols:
        sizes = _layer_sizes(col)
        for lab, (ne, ni) in zip(col["layers"], _type_counts(col, sizes, cfg.cell_type_spec)):
            top, bottom = col["depths_um"][lab]
            for ct, k in (("E", ne), ("I", ni)):
                rows["column"] += [col["name"]] * k
                rows["layer"] += [lab] * k
                rows["cell_type"] += [ct] * k
                depth.append(rng.uniform(top, bottom, k))
                rad = col["radius_um"] * np.sqrt(rng.random(k))
                ang = 2 * np.pi * rng.random(k)
                xy.append(np.stack([col["position_um"][0] + rad * np.cos(ang),
                                    col["position_um"][1] + rad * np.sin(ang)], axis=1))
    column = np.array(rows["column"], dtype=object)
    layer = np.array(rows["layer"], dtype=object)
    cell_type = np.array(rows["cell_type"], dtype=object)
    population = np.array([f"{c}:{l}{t}" for c, l, t in zip(column, layer, cell_type)], dtype=object)
    pops = tuple(dict.fromkeys(population.tolist()))
    where = {p: i for i, p in enumerate(pops)}
    pop_index = np.array([where[p] for p in population], dtype=np.int32)
    depth_um = np.concatenate(depth) if depth else np.zeros(0)
    xy_arr = np.concatenate(xy) if xy else np.zeros((0, 2))
    xyz = np.concatenate([xy_arr, -depth_um[:, None]], axis=1)
    return NeuronTable(column=column, layer=layer, cell_type=cell_type, population=population,
                       is_exc=cell_type == "E", pop_index=pop_index, populations=pops,
                       xyz_um=xyz, depth_um=depth_um)
