"""Build the probe structure of a model at construct time, and derive field signals from scan outputs.

Inside the scan: spikes, V_m, I_syn, the laminar source profile ``s[column, bin]`` (pA, source > 0),
MUA counts and metabolic event counts. After each time chunk, :meth:`ProbeSetup.derive` turns the
profile into source density, LFP, CSD, the current dipole, EEG, MEG and the metabolic proxy/BOLD.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np

from ..config import Configuration
from ..engine.transfer import device_array
from ..populations import NeuronTable

__all__ = ["ProbeSetup", "build_probes", "drive_groups", "drive_stimuli", "FIELD_MODES"]

FIELD_MODES = ("source-proxy", "LFP-proxy", "CSD-proxy", "EEG-proxy", "MEG-proxy")


@dataclass
class ProbeSetup:
    """Everything the probes need: geometry, basis, in-scan structure and forward matrices."""

    modes: tuple
    options: dict
    geometry: object = None
    basis_spec: object = None
    struct: dict = field(default_factory=dict)
    static: dict = field(default_factory=dict)
    matrices: dict = field(default_factory=dict)
    columns: tuple = ()
    populations: tuple = ()
    n_neurons: int = 0

    def wants(self, mode: str) -> bool:
        return mode in self.modes


def _geometry_and_basis(cfg: Configuration, table: NeuronTable, opts: dict):
    """The laminar geometry of every simulated column, and the basis spec of its depth bins.

    The columns appear in the neuron table's order, the order of the engine's source locations.
    """
    from ..errors import ConfigurationError
    from .basis import BasisSpec
    from .geometry import GeometryConfigError

    by_name = {c["name"]: c for c in cfg.columns}
    cols = [by_name[name] for name in dict.fromkeys(table.column.tolist())]
    depths = {}
    for col in cols:
        for lab, (top, bottom) in col["depths_um"].items():
            lo, hi = depths.get(lab, (top, bottom))
            depths[lab] = (min(lo, top), max(hi, bottom))
    spec = BasisSpec(bin_width_um=opts["bin_width_um"])
    bottom = max(b for _, b in depths.values())
    _check_probe_memory(cfg, table, opts, bottom, len(cols))
    fc = opts["first_contact_depth_um"]
    if fc is not None and fc >= bottom:
        raise ConfigurationError("probes.first_contact_depth_um", fc,
                                 f"a depth above the bottom of the column ({bottom:g} µm below the pia)")
    try:
        geom = _geometry(depths, cols, spec, opts)
    except GeometryConfigError as exc:
        raise ConfigurationError("probes", {k: opts[k] for k in ("bin_width_um", "contact_spacing_um", "n_contacts",
                                                                 "first_contact_depth_um")}, str(exc)) from None
    return geom, spec


def _check_probe_memory(cfg: Configuration, table: NeuronTable, opts: dict, bottom_um: float, n_columns: int) -> None:
    """Refuse, before any matrix is built, probes whose forward matrices would not fit in memory.

    The estimate counts the float64 matrices the probes build: the source basis [(2 + drives) N,
    bins], the LFP matrix [contacts, bins], the CSD operator [contacts, contacts] and the MUA weights
    [contacts, N]; the error names the option that drives the largest one.
    """
    from ..engine.prepare import physical_memory_bytes
    from ..errors import ConfigurationError

    modes = set(cfg.probe_spec["modes"])
    bins = n_columns * math.ceil(bottom_um / opts["bin_width_um"])
    contacts = opts["n_contacts"] or math.floor(bottom_um / opts["contact_spacing_um"]) + 1
    drives = len(drive_stimuli(cfg))
    field_modes = bool(modes & set(FIELD_MODES))
    terms = {
        "probes.bin_width_um": field_modes * (2 + drives) * table.n * bins,
        "probes.n_contacts": field_modes * contacts * (bins + contacts) + ("MUA-proxy" in modes) * contacts * table.n,
    }
    need = 8.0 * sum(terms.values())
    if need > physical_memory_bytes() / 2:
        field = max(terms, key=terms.get)
        value = opts["n_contacts"] if field == "probes.n_contacts" else opts["bin_width_um"]
        raise ConfigurationError(field, value, f"probes whose forward matrices fit in memory: {contacts} contacts, "
                                 f"{bins} depth bins and {table.n} neurons need about {need / 2**30:.3g} GiB")


def _geometry(depths, cols, spec, opts):
    """Bins and the probe from the first column (the probe sits on its axis), then every column's place and size."""
    from .geometry import LaminarSourceGeometry

    first = cols[0]
    geom = LaminarSourceGeometry.from_layers(
        depths, radius_um=first["radius_um"], bin_width_um=opts["bin_width_um"],
        contact_spacing_um=opts["contact_spacing_um"], n_contacts=opts["n_contacts"],
        first_contact_depth_um=opts["first_contact_depth_um"],
        contact_offset_um=tuple(opts["contact_offset_um"]), sigma=opts["sigma_S_per_m"],
        center_xy_um=tuple(first["position_um"]), column=first["name"], basis_spec=spec,
    )
    if len(cols) == 1:
        return geom
    return dataclasses.replace(geom, column_names=tuple(c["name"] for c in cols),
                               centers_xy_um=tuple(tuple(c["position_um"]) for c in cols),
                               radius_um=tuple(float(c["radius_um"]) for c in cols))


def drive_stimuli(cfg: Configuration) -> list[dict]:
    """The stimuli with a synaptic current of their own, in the order of ``I_p``: the Poisson drives,
    then the spike-source populations (each in configuration order)."""
    return ([st for st in cfg.stimuli if st["kind"] == "poisson"]
            + [st for st in cfg.stimuli if st["kind"] == "spike_sources"])


def drive_groups(b_drive, b_exc):
    """``(groups[1 + G, P] or None, bases[G, N, cols*B])``: the drives whose basis is the excitatory
    synapses' (row 0; their currents are added to I_exc) and the G distinct other bases with the
    drives that share each. ``None`` without drives (the stacked currents are then [I_exc; I_inh])."""
    if not b_drive.shape[0]:
        return None, b_drive
    bases, rows = [], [np.zeros(b_drive.shape[0])]
    for d, b in enumerate(b_drive):
        if np.array_equal(b, b_exc):
            rows[0][d] = 1.0
            continue
        g = next((i for i, other in enumerate(bases) if np.array_equal(b, other)), None)
        if g is None:
            bases.append(b)
            rows.append(np.zeros(b_drive.shape[0]))
            g = len(bases) - 1
        rows[g + 1][d] = 1.0
    return np.stack(rows), np.asarray(bases).reshape(len(bases), *b_exc.shape)


def _drive_bases(cfg, table, b_exc, edges, spec, cols):
    """[P + Q, N, cols*B]: each Poisson drive's and spike-source population's basis (the targets' own,
    or its afferent depth range), in the order of their currents (:func:`drive_stimuli`)."""
    from ..errors import ConfigurationError
    from .basis import afferent_basis

    drives = drive_stimuli(cfg)
    n_b = edges.size - 1
    out = np.zeros((len(drives), table.n, len(cols) * n_b))
    for d, st in enumerate(drives):
        sd = st["synapse_depth_um"]
        if sd is None:
            out[d] = b_exc
            continue
        for ci, col in enumerate(cols):
            m = table.column == col
            if isinstance(sd, str):
                depths = next(c["depths_um"] for c in cfg.columns if c["name"] == col)
                if sd not in depths:
                    raise ConfigurationError(f"stimulus[{st['kind']}].synapse_depth_um", sd,
                                             f"a layer of column {col!r}: " + ", ".join(depths))
                rng = depths[sd]
            else:
                rng = sd
            out[d][np.ix_(m, np.arange(ci * n_b, (ci + 1) * n_b))] = afferent_basis(table.depth_um[m], rng, edges, spec)
    return out


def build_probes(cfg: Configuration, table: NeuronTable, dtype: str, drive_rows: tuple | None = None) -> ProbeSetup:
    """The probes' geometry, basis and forward matrices; ``drive_rows`` (the row of ``I_p`` of each
    drive, :mod:`jaxfne.engine.drive_rows`; default one row per drive) lays the drives' bases out
    as the scan's current rows."""
    spec = cfg.probe_spec
    modes, opts = tuple(spec["modes"]), spec["options"]
    setup = ProbeSetup(modes=modes, options=opts)
    dt_ = jnp.dtype(dtype)
    geom, basis_spec = _geometry_and_basis(cfg, table, opts)
    setup.geometry, setup.basis_spec = geom, basis_spec
    cols = geom.column_names  # the table's column order: one source of truth for every column
    setup.columns = cols
    setup.populations = table.populations
    setup.n_neurons = table.n
    need_source = any(m in modes for m in FIELD_MODES)
    n_bins = 0
    if need_source:
        from .basis import basis_matrices

        edges = np.asarray(geom.bin_edges_um)
        n_b = edges.size - 1
        b_exc = np.zeros((table.n, len(cols) * n_b))
        b_inh = np.zeros_like(b_exc)
        for ci, col in enumerate(cols):
            m = table.column == col
            be, bi = basis_matrices(table.depth_um[m], table.layer[m].astype(str), table.is_exc[m], edges, basis_spec)
            b_exc[np.ix_(m, np.arange(ci * n_b, (ci + 1) * n_b))] = be
            b_inh[np.ix_(m, np.arange(ci * n_b, (ci + 1) * n_b))] = bi
        b_drive = _drive_bases(cfg, table, b_exc, edges, basis_spec, cols)  # [P + Q, N, cols*B]
        if drive_rows is not None and b_drive.shape[0]:  # drives sharing a row share their placement
            first = [drive_rows.index(r) for r in range(max(drive_rows) + 1)]
            b_drive = b_drive[first]
        groups, b_groups = drive_groups(b_drive, b_exc)
        if groups is not None:
            setup.struct["drive_groups"] = device_array(groups, dt_)
        # stacked to match the scan's current vector [I_exc + drives at the synapses; I_inh; each
        # other drive basis's drives] (CurrentSynapses.stacked); stored transposed ([bins, K]): the
        # matvec is several times faster on CPU that way round
        setup.struct["basis_t"] = device_array(np.concatenate([b_exc, b_inh, b_groups.reshape(-1, b_exc.shape[1])]).T, dt_)
        n_bins = len(cols) * n_b
        if opts["attribution"]:
            onehot = np.eye(len(table.populations))[table.pop_index]
            setup.struct["pop_onehot_k"] = device_array(np.tile(onehot, (2 + b_groups.shape[0], 1)), dt_)
        from .fields import field_matrices

        setup.matrices.update(field_matrices(geom, modes, opts))
    n_mua = 0
    if "MUA-proxy" in modes:
        from .mua import mua_weights

        w = mua_weights(table.xyz_um, np.asarray(geom.contacts_um), kind=opts["mua_kind"],
                        radius_um=opts["mua_radius_um"], length_um=opts["mua_length_um"])
        setup.struct["mua_weights_t"] = device_array(w.T, dt_)  # [contact, neuron]
        n_mua = w.shape[1]
    setup.static = {"n_bins": n_bins, "attribution": bool(opts["attribution"]) and need_source,
                    "n_pops": len(table.populations), "n_mua": n_mua, "rec_emm": "EMM-proxy" in modes}
    return setup
