"""The declarative, immutable, chainable model configuration."""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigurationError
from . import schema as S
from .validate import (check_bool, check_int, check_keys, check_mapping, check_number, check_option, check_point,
                       check_steps, check_str)

__all__ = ["Configuration", "configuration"]

_SECTIONS = ("runtime", "columns", "cell_types", "connectivity", "emitter", "stimuli", "probes")

#: Runtime keys that stay unset (``None``) until given: an emitter preset's published protocol fills
#: them, else :data:`jaxfne.config.schema.RUNTIME_DEFAULTS`.
_PUBLISHED_KEYS = ("duration_ms", "dt_ms")


def _jsonable(value: Any) -> Any:
    """Deep-copy ``value`` into plain JSON types (inf kept as float)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _jsonable(value.tolist())
    return value


class Configuration:
    """Declarative jaxfne model configuration.

    Every method validates its arguments at once and returns a **new** configuration, so calls chain
    and an existing object never changes. The whole configuration is a plain dict
    (:meth:`to_dict` / :meth:`from_dict`, :meth:`to_yaml` / :meth:`from_yaml`) with a stable content
    hash (:attr:`sha256`); that is how Hydra composes it and how zarr stores carry it.

    ``runtime.dt_ms`` and ``runtime.duration_ms`` are unset until :meth:`runtime` gives them. While
    unset they follow the emitter: an Izhikevich 2004 feature or 2003 class that runs its own
    protocol (``set_emitter("izhikevich", "tonic_spiking")``, ``drive="preset"``) brings its published
    step and duration (0.25 ms and 100 ms for tonic spiking), anything else 0.1 ms and 1000 ms.
    Each key is resolved on its own, so ``runtime(dt_ms=0.1)`` keeps the published duration.
    :attr:`runtime_spec`, :meth:`to_dict` and :attr:`sha256` show the resolved values: a
    configuration rebuilt by :meth:`from_dict` has them set, and runs the same.

    Example
    -------
    >>> import jaxfne as jtfne
    >>> cfg = (jtfne.Configuration()
    ...        .runtime(seed=7, dtype="float32", duration_ms=1000.0, dt_ms=0.1)
    ...        .column("V1", layers=["L2/3", "L4", "L5"], n=100)
    ...        .cell_types({"E": 0.8, "I": 0.2})
    ...        .connectivity()
    ...        .set_emitter("izhikevich", "cortical_eig")
    ...        .probes(["MUA-proxy", "source-proxy", "LFP-proxy"]))
    >>> cfg.sha256[:12] == jtfne.Configuration.from_dict(cfg.to_dict()).sha256[:12]
    True
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None):
        """An empty configuration, or ``data`` (a :meth:`to_dict` dict) validated by :meth:`from_dict`."""
        if data is not None:
            object.__setattr__(self, "_data", Configuration.from_dict(data)._data)
            return
        object.__setattr__(self, "_data", self._defaults())

    @staticmethod
    def _defaults() -> dict:
        return {
            "runtime": {**S.RUNTIME_DEFAULTS, **dict.fromkeys(_PUBLISHED_KEYS)},
            "columns": [],
            "cell_types": {"fractions": {"E": 0.8, "I": 0.2}, "per_layer": {}},
            "connectivity": {},
            "emitter": {"family": "izhikevich", "preset": "RS", "per_type": {}, "scheme": None,
                        "drive": "preset", "capacitance_pF": 100.0, "params": {}},
            "stimuli": [],
            "probes": {"modes": ["SPK", "Vm", "I_syn"], "options": {}},
        }

    @classmethod
    def _trusted(cls, data: dict) -> Configuration:
        """A configuration of already validated data (the methods' own results)."""
        cfg = object.__new__(cls)
        object.__setattr__(cfg, "_data", data)
        return cfg

    # -- immutability -------------------------------------------------------------------------
    def __setattr__(self, name, value):  # noqa: D105
        raise AttributeError("Configuration is immutable: its methods return a new object")

    def __delattr__(self, name):  # noqa: D105
        raise AttributeError("Configuration is immutable: its methods return a new object")

    def _with(self, section: str, value: Any) -> Configuration:
        data = copy.deepcopy(self._data)
        data[section] = _jsonable(value)
        return Configuration._trusted(data)

    # -- sections -------------------------------------------------------------------------------
    def runtime(self, **kwargs: Any) -> Configuration:
        """Set runtime metadata.

        Parameters
        ----------
        seed : int
            Seed of the noise of the dynamics (the default seed of :func:`jaxfne.simulate`; default 0).
            Same configuration + seeds + platform -> same arrays.
        network_seed : int
            Seed of the network instance drawn by :func:`jaxfne.construct`: positions, per-neuron
            parameters and synapses (default 0).
        dtype : {"float32", "float64"}
            Floating-point type of the state (default ``"float32"``).
        duration_ms : float
            Biological duration, ms. Until given: the emitter preset's published duration when it
            runs its own protocol, else 1000.
        dt_ms : float
            Integration step, ms; must not exceed ``duration_ms``. Until given: the emitter preset's
            published step when it runs its own protocol, else 0.1.

        Notes
        -----
        A preset's published protocol runs ``duration_ms / dt_ms + 1`` steps (Izhikevich's loop
        ``t = 0:tau:T``), whether the step and duration are the published ones or given here;
        every other run has ``duration_ms / dt_ms`` steps.
        """
        check_keys("runtime", kwargs, tuple(S.RUNTIME_DEFAULTS))
        rt = dict(self._data["runtime"])
        rt.update(kwargs)
        rt["seed"] = check_int("runtime.seed", rt["seed"], lo=0, hi=2**32 - 1)
        rt["network_seed"] = check_int("runtime.network_seed", rt["network_seed"], lo=0, hi=2**32 - 1)
        check_option("runtime.dtype", rt["dtype"], S.DTYPES)
        for key in _PUBLISHED_KEYS:
            if key in kwargs or rt[key] is not None:  # None only while never given
                rt[key] = check_number(f"runtime.{key}", rt[key], lo=0, lo_open=True)
        out = self._with("runtime", rt)
        out._check_runtime_steps()
        return out

    def column(
        self,
        name: str,
        layers: Sequence[str],
        n: int,
        *,
        depths_um: Mapping[str, Sequence[float]] | None = None,
        layer_fractions: Mapping[str, float] | None = None,
        radius_um: float = 200.0,
        position_um: Sequence[float] = (0.0, 0.0),
        population_sizes: Mapping[str, int] | None = None,
    ) -> Configuration:
        """Declare one cortical column.

        Parameters
        ----------
        name : str
            Unique column name.
        layers : list of str
            Layer labels, top to bottom. Known labels (L1, L2/3, L4, L5, L6, L2, L3, L6a, L6b) have
            default depth ranges (:mod:`jaxfne.presets.layers`); others need ``depths_um``.
        n : int
            Number of neurons in the column (>= 1).
        depths_um : dict, optional
            ``{layer: (top, bottom)}`` depth below the pia, µm; overrides the defaults.
        layer_fractions : dict, optional
            Share of ``n`` per layer (sums to 1). Default: relative layer sizes of
            :data:`jaxfne.presets.layers.LAYER_NEURON_FRACTIONS`.
        radius_um : float
            Radius of the column's disc, µm (default 200, about a rodent barrel).
        position_um : (x, y)
            Lateral position of the column axis, µm.
        population_sizes : dict, optional
            Exact neuron counts per population, ``{"L2/3E": 20683, "L2/3I": 5834, ...}`` (layer label +
            ``E``/``I``; missing ones are empty), summing to ``n``; then neither ``layer_fractions`` nor
            :meth:`cell_types` split this column.
        """
        name = check_str("column.name", name)
        if ":" in name:  # populations are named COLUMN:LAYERTYPE
            raise ConfigurationError("column.name", name, "a name without ':' (it separates column and population)")
        depths_um = check_mapping("column.depths_um", depths_um)
        if any(c["name"] == name for c in self._data["columns"]):
            raise ConfigurationError("column.name", name, "a name not used by another column")
        if isinstance(layers, str) or not isinstance(layers, Sequence) or len(layers) == 0:
            raise ConfigurationError("column.layers", layers, "a non-empty list of layer labels")
        for i, lab in enumerate(layers):
            check_str(f"column.layers[{i}]", lab)
        if len(set(layers)) != len(layers):
            raise ConfigurationError("column.layers", list(layers), "distinct layer labels")
        n = check_int("column.n", n, lo=1)
        radius_um = check_number("column.radius_um", radius_um, lo=0, lo_open=True)
        if not isinstance(position_um, Sequence) or len(position_um) != 2:
            raise ConfigurationError("column.position_um", position_um, "a pair (x, y) in µm")
        pos = [check_number(f"column.position_um[{i}]", v) for i, v in enumerate(position_um)]
        from ..presets.layers import layer_depths

        try:
            check_keys("column.depths_um", depths_um, tuple(layers))
            depths = layer_depths(list(layers), depths_um)
        except ConfigurationError:
            raise
        except ValueError as exc:
            raise ConfigurationError("column.depths_um", depths_um, str(exc)) from None
        for lab, (top, bottom) in depths.items():
            top = check_number(f"column.depths_um.{lab}[0]", top, lo=0)
            bottom = check_number(f"column.depths_um.{lab}[1]", bottom, lo=0)
            if bottom <= top:
                raise ConfigurationError(
                    f"column.depths_um.{lab}", [top, bottom], "(top, bottom) with bottom deeper than top"
                )
        if layer_fractions is not None:
            layer_fractions = check_mapping("column.layer_fractions", layer_fractions)
            check_keys("column.layer_fractions", layer_fractions, tuple(layers))
            fr = [check_number(f"column.layer_fractions.{k}", v, lo=0) for k, v in layer_fractions.items()]
            if not math.isclose(sum(fr), 1.0, abs_tol=1e-9):
                raise ConfigurationError("column.layer_fractions", dict(layer_fractions), "fractions summing to 1")
        sizes = None
        if population_sizes is not None:
            sizes = _check_population_sizes(check_mapping("column.population_sizes", population_sizes), layers, n)
            if layer_fractions is not None:
                raise ConfigurationError("column.layer_fractions", dict(layer_fractions),
                                         "null when population_sizes fixes every population's size")
        col = {
            "name": name,
            "layers": list(layers),
            "n": n,
            "depths_um": {k: [float(v[0]), float(v[1])] for k, v in depths.items()},
            "layer_fractions": None if layer_fractions is None else dict(layer_fractions),
            "radius_um": radius_um,
            "position_um": pos,
        }
        if sizes is None:
            self._check_counts_fit(self._data["cell_types"]["fractions"], col)
        else:  # only then a key: configurations without it keep their hash
            col["population_sizes"] = sizes
        return self._with("columns", self._data["columns"] + [col])

    def cell_types(
        self, cell_type_map: Mapping[str, float], *, per_layer: Mapping[str, Mapping[str, float]] | None = None
    ) -> Configuration:
        """Define the excitatory/inhibitory make-up of every column.

        Parameters
        ----------
        cell_type_map : dict
            ``{"E": 0.8, "I": 0.2}`` (fractions summing to 1) or ``{"E": 80, "I": 20}`` (integer counts
            summing to each column's ``n``). Keys: ``"E"`` and/or ``"I"``.
        per_layer : dict, optional
            ``{layer: {"E": ..., "I": ...}}`` fractions overriding the map in one layer.
        """
        fr = self._check_type_map("cell_types", cell_type_map)
        for col in self._data["columns"]:
            if not col.get("population_sizes"):
                self._check_counts_fit(fr, col)
        pl = {}
        for lab, m in check_mapping("cell_types.per_layer", per_layer).items():
            f = self._check_type_map(f"cell_types.per_layer.{lab}", m)
            if _is_counts(f):
                raise ConfigurationError(f"cell_types.per_layer.{lab}", m, "fractions summing to 1")
            pl[lab] = f
        return self._with("cell_types", {"fractions": fr, "per_layer": pl})

    @staticmethod
    def _check_type_map(field: str, m: Mapping[str, float]) -> dict:
        if not isinstance(m, Mapping) or not m:
            raise ConfigurationError(field, m, 'a non-empty mapping such as {"E": 0.8, "I": 0.2}')
        check_keys(field, m, ("E", "I"))
        vals = {k: check_number(f"{field}.{k}", v, lo=0) for k, v in m.items()}
        if sum(vals.values()) <= 0:
            raise ConfigurationError(field, dict(m), "at least one positive entry")
        if all(float(v).is_integer() for v in m.values()) and sum(vals.values()) > 1:
            return {k: int(v) for k, v in vals.items()}
        if not math.isclose(sum(vals.values()), 1.0, abs_tol=1e-9):
            raise ConfigurationError(field, dict(m), "fractions summing to 1, or integer counts summing to n")
        return vals

    @staticmethod
    def _check_counts_fit(fr: Mapping[str, float], col: Mapping[str, Any]) -> None:
        if _is_counts(fr) and sum(fr.values()) != col["n"]:
            raise ConfigurationError(
                "cell_types", dict(fr), f"counts summing to n={col['n']} of column {col['name']!r}"
            )

    def connectivity(self, **kwargs: Any) -> Configuration:
        """Declare synaptic connectivity; see :data:`jaxfne.config.schema.CONNECTIVITY_DEFAULTS`.

        With no arguments: ``rule="auto"`` picks fixed in-degrees when ``indegree`` is given, else the
        emitter preset's published connectivity when it has one (``cortical_eig``: Izhikevich 2003 all-to-all, weights 0.5 U(0,1) excitatory and
        -U(0,1) inhibitory, instantaneous synapses, one-step delay), else a sparse random network
        (Brunel 2000 epsilon = 0.1, exponential current synapses with AMPA/GABA_A decay times,
        Potjans-Diesmann delays 1.5/0.75 ms with relative SD 0.5). Keys: ``rule``, ``recurrent``,
        ``p``, ``indegree``, ``weights``, ``weight_scale``, ``weight_distribution``, ``weight_rel_sd``,
        ``synapse``, ``tau_syn_ms``, ``delay_ms``, ``delay_rel_sd``, ``delay_distribution``,
        ``autapses``, ``inter_column``, ``plasticity`` (pair-based STDP, off by default) and
        ``propagation`` (``"event"``: one spike at a time, for the CPU; ``"batched"``: a step's spikes
        gathered and scattered together, for GPUs; ``"dense"``; or ``"auto"``: dense up to 128 neurons or
        with STDP, else batched on a GPU backend and event otherwise).
        """
        check_keys("connectivity", kwargs, tuple(S.CONNECTIVITY_DEFAULTS))
        c = dict(self._data["connectivity"])
        c.update(kwargs)
        _check_connectivity(c)
        return self._with("connectivity", c)

    def set_emitter(
        self,
        family: str,
        preset: str,
        *,
        per_type: Mapping[str, str] | None = None,
        scheme: str | None = None,
        drive: str = "preset",
        params: Mapping[str, float] | None = None,
        per_population: Mapping[str, Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> Configuration:
        """Set the neuron model family and its literature preset.

        Parameters
        ----------
        family : {"izhikevich", "iaf_psc_exp"}
            A family of :data:`jaxfne.neurons.FAMILIES`.
        preset : str
            ``izhikevich``: a 2004 feature (``"tonic_spiking"``, ...), a 2003 class (``"RS"``,
            ``"FS"``, ...) or ``"cortical_eig"`` (the heterogeneous 2003 network).
            ``iaf_psc_exp``: ``"nest_default"`` or ``"potjans_diesmann_2014"``.
        per_type : dict, optional
            Another preset for one cell type, e.g. ``{"I": "FS"}``.
        scheme : str, optional
            Numerical scheme of the family (``izhikevich``: ``sequential_euler``,
            ``split_half_step``, ``euler``; ``iaf_psc_exp``: ``exact``); default the preset's
            published one (recorded with the run).
        drive : {"preset", "none"}
            ``"preset"`` applies the preset's published stimulus protocol (or, for ``cortical_eig``,
            the thalamic Gaussian input) on top of any :meth:`stimulus`.
        params : dict, optional
            Overrides of single parameters for every cell, in the family's names and units
            (``izhikevich``: ``a``, ``b``, ``c``, ``d``, ``v_peak``, ...; ``iaf_psc_exp``: ``C_m`` pF,
            ``tau_m`` ms, ``t_ref`` ms, ``E_L``, ``V_reset``, ``V_th`` mV, ``I_e`` pA,
            ``tau_syn_ex``, ``tau_syn_in`` ms, ``V_m0`` mV).
        per_population : dict, optional
            Parameters of one population, ``{"L2/3E": {"I_e": 501.0, "V_m0": {"mean": -68.28, "sd": 5.36}}}``
            (keys ``LAYERTYPE`` or ``COLUMN:LAYERTYPE``, checked against the populations at
            :func:`~jaxfne.construct`): a number sets the parameter, ``{"mean", "sd"}`` draws it per
            neuron from a normal distribution with the network seed (after ``params``).
        **options
            Family options. ``izhikevich``: ``capacitance_pF`` (default 100): its equations are per
            unit capacitance (currents in mV/ms = pA/pF); currents are reported in pA as
            ``capacitance_pF`` x model current (Izhikevich 2007 RS cell).
        """
        from ..neurons import FAMILIES

        check_option("emitter.family", family, tuple(FAMILIES))
        fam = FAMILIES[family]
        names = fam.preset_names()
        check_option("emitter.preset", preset, names)
        pt = check_mapping("emitter.per_type", per_type)
        check_keys("emitter.per_type", pt, ("E", "I"))
        for k, v in pt.items():
            check_option(f"emitter.per_type.{k}", v, fam.per_type_preset_names())
        if scheme is not None:
            check_option("emitter.scheme", scheme, fam.schemes)
        check_option("emitter.drive", drive, ("preset", "none"))
        check_keys("emitter", options, tuple(fam.options))
        opts = {k: options.get(k, v) for k, v in fam.options.items()}
        for k, v in opts.items():
            opts[k] = check_number(f"emitter.{k}", v, lo=0, lo_open=True)
        prm = check_mapping("emitter.params", params)
        check_keys("emitter.params", prm, fam.parameter_names)
        bounds = {p.name: p for p in fam.parameters}
        prm = {k: check_number(f"emitter.params.{k}", v, lo=bounds[k].lo, hi=bounds[k].hi,
                               lo_open=bounds[k].lo_open) for k, v in prm.items()}
        pp = _check_per_population(check_mapping("emitter.per_population", per_population), bounds)
        em = {"family": family, "preset": preset, "per_type": pt, "scheme": scheme, "drive": drive, **opts,
              "params": prm}
        if pp:  # only then a key: configurations without it keep their hash
            em["per_population"] = pp
        fam.check_emitter(preset, pt, em)
        out = self._with("emitter", em)
        out._check_runtime_steps()
        return out

    def stimulus(self, kind: str, target: Mapping[str, str] | str = "all", **params: Any) -> Configuration:
        """Add a stimulus (currents in the emitter's units, times in ms).

        Parameters
        ----------
        kind : {"step", "pulse", "ramp", "series", "poisson", "gaussian", "spike_sources"}
            See :data:`jaxfne.config.schema.STIMULUS_DEFAULTS` for each kind's parameters.
            ``"spike_sources"`` is a population of ``n_sources`` independent Poisson spike sources
            of ``rate_hz`` within ``[start_ms, stop_ms)``, each sending its one spike train to all
            of its targets (shared, hence correlated input: NEST's ``poisson_generator`` feeding
            ``parrot_neuron`` s, the thalamus of Potjans & Diesmann 2014). Its ``projections`` map
            target population names (``"L4E"``, ``"V1:L4E"``) to a rule with its number and an
            excitatory weight and delay, as ``connectivity(projections=...)`` entries; a source
            spiking k times in a step delivers k events.
        target : "all" or dict
            Selection by ``column``, ``layer`` and/or ``cell_type``, e.g. ``{"layer": "L4"}``
            (``"all"`` for ``"spike_sources"``, whose projections name their targets).

        Example
        -------
        >>> import jaxfne
        >>> cfg = (jaxfne.presets.potjans_diesmann_2014(scale=0.05, k_scale=0.1)
        ...        .stimulus("spike_sources", n_sources=90, rate_hz=120.0, start_ms=100.0, stop_ms=110.0,
        ...                  projections={"L4E": {"rule": "fixed_indegree", "K": 10, "weight": 87.8,
        ...                                       "delay_ms": 1.5, "delay_sd_ms": 0.75}}))
        >>> cfg.stimuli[-1]["kind"]
        'spike_sources'
        """
        check_option("stimulus.kind", kind, S.STIMULUS_KINDS)
        defaults = S.STIMULUS_DEFAULTS[kind]
        check_keys(f"stimulus[{kind}]", params, tuple(defaults))
        p = dict(defaults)
        p.update(params)
        _check_stimulus(kind, p)
        tgt = _check_target(target)
        if kind == "spike_sources" and tgt:
            raise ConfigurationError("stimulus[spike_sources].target", target,
                                     '"all": the projections name the target populations')
        return self._with("stimuli", self._data["stimuli"] + [{"kind": kind, "target": tgt, **p}])

    def probes(self, modes: Sequence[str], **kwargs: Any) -> Configuration:
        """Declare what to record.

        Parameters
        ----------
        modes : list of str
            Any of ``SPK``, ``Vm``, ``I_syn``, ``MUA-proxy``, ``source-proxy``, ``LFP-proxy``,
            ``CSD-proxy``, ``EEG-proxy``, ``MEG-proxy``, ``EMM-proxy``. ``SPK``, ``Vm`` and ``I_syn``
            record spikes, V_m and synaptic current; a list that names none of the three records spikes
            and V_m (``record_neurons`` and ``record_every`` bound the memory of V_m and I_syn;
            ``record_neurons=[]`` keeps spikes only, as a spike recorder does). The field signals are
            recorded only when listed.
        name : str, optional
            Probe name (default ``"multimodal_probe"``).
        **kwargs
            Options of :data:`jaxfne.config.schema.PROBE_OPTIONS` (contacts, bins, head model, ...).

        Notes
        -----
        Head placement: the LFP frame's origin sits at ``column_position_um`` (default 78 000 µm on
        ``+z``); a column at ``(x, y)`` sits at ``x e1 + y e2`` from it on the plane tangent to the head
        sphere, with ``(e1, e2)`` the continuous tangent frame of
        :func:`jaxfne.probes.dipole.tangent_frame` (the head's ``x, y`` at ``+z``), and every column's
        axis is tilted by ``column_tilt_deg`` towards ``e1``, the LFP frame's ``+x``.

        ``meg_model``: ``"sarvas"`` (spherical conductor) and ``"infinite"`` (Biot-Savart, primary
        current only) give the same ``MEG`` signal, to rounding: it is the field of radial
        magnetometers, and in a spherically symmetric conductor the volume currents produce no radial
        field (Sarvas 1987). The models differ only in the tangential components of the full matrices
        (:func:`jaxfne.probes.dipole.meg_sarvas_matrix`, :func:`~jaxfne.probes.dipole.meg_infinite_matrix`).
        """
        if isinstance(modes, str) or not isinstance(modes, Sequence) or not modes:
            raise ConfigurationError("probes.modes", modes, "a non-empty list of " + ", ".join(S.PROBE_MODES))
        for i, m in enumerate(modes):
            check_option(f"probes.modes[{i}]", m, S.PROBE_MODES)
        check_keys("probes", kwargs, tuple(S.PROBE_OPTIONS))
        opts = dict(kwargs)
        _check_probe_options(opts)
        return self._with("probes", {"modes": list(dict.fromkeys(modes)), "options": opts})

    # -- runtime resolution -------------------------------------------------------------------------
    def _resolved_runtime(self) -> dict:
        """The runtime with unset ``duration_ms`` / ``dt_ms`` filled (see the class docstring)."""
        rt = dict(self._data["runtime"])
        unset = [k for k in _PUBLISHED_KEYS if rt[k] is None]
        if unset:
            published = self._published_run()
            for k in unset:
                rt[k] = float(getattr(published, k)) if published is not None else S.RUNTIME_DEFAULTS[k]
        return rt

    def _published_run(self):
        """The emitter preset's :class:`~jaxfne.neurons.base.PresetRun`, or ``None``."""
        from ..neurons import FAMILIES

        em = self._data["emitter"]
        return FAMILIES[em["family"]].preset_run(em["preset"], em["per_type"], em["drive"])

    def _check_runtime_steps(self) -> None:
        """The resolved duration is a whole number (>= 1) of resolved steps; the error says which
        value came from the emitter preset."""
        rt, given = self._resolved_runtime(), self._data["runtime"]
        try:
            check_steps(rt["duration_ms"], rt["dt_ms"], "runtime.")
        except ConfigurationError as exc:
            from_preset = [k for k in _PUBLISHED_KEYS if given[k] is None]
            if not from_preset:
                raise
            em = self._data["emitter"]
            note = (f" ({' and '.join(from_preset)} unset: the published value of "
                    f"{em['family']}/{em['preset']}; set it with runtime())")
            raise ConfigurationError(exc.field, exc.value, exc.allowed + note) from None

    # -- views ------------------------------------------------------------------------------------
    @property
    def runtime_spec(self) -> dict:
        """The runtime, resolved (unset ``duration_ms`` / ``dt_ms`` as the emitter preset publishes
        them, else 1000 ms / 0.1 ms)."""
        return self._resolved_runtime()

    @property
    def columns(self) -> list[dict]:
        """The columns declared so far, in order, one dict each (``name``, ``layers``, ``n``, ``depths_um``,
        ``layer_fractions``, ``radius_um``, ``position_um`` and, when given, ``population_sizes``); a copy."""
        return copy.deepcopy(self._data["columns"])

    @property
    def cell_type_spec(self) -> dict:
        """The cell-type make-up as :meth:`cell_types` set it, ``fractions`` (``{"E": ..., "I": ...}``,
        fractions or counts) and ``per_layer`` overrides; a copy."""
        return copy.deepcopy(self._data["cell_types"])

    @property
    def connectivity_spec(self) -> dict:
        """The connectivity keys given so far (unset keys take their documented default)."""
        c = copy.deepcopy(S.CONNECTIVITY_DEFAULTS)
        c.update(copy.deepcopy(self._data["connectivity"]))
        return c

    @property
    def emitter_spec(self) -> dict:
        """The emitter as :meth:`set_emitter` set it (``family``, ``preset``, scheme, drive, parameter
        overrides and options); a copy."""
        return copy.deepcopy(self._data["emitter"])

    @property
    def stimuli(self) -> list[dict]:
        """The stimuli added so far, in order, one dict each (``kind``, ``target`` and the kind's
        parameters, defaults filled in); a copy."""
        return copy.deepcopy(self._data["stimuli"])

    @property
    def probe_spec(self) -> dict:
        """Probe modes and every option, defaults filled in."""
        opts = copy.deepcopy(S.PROBE_OPTIONS)
        opts.update(copy.deepcopy(self._data["probes"]["options"]))
        return {"modes": list(self._data["probes"]["modes"]), "options": opts}

    # -- serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A plain, JSON-safe dict of the whole configuration (the runtime resolved, as it runs)."""
        data = copy.deepcopy(self._data)
        data["runtime"] = self._resolved_runtime()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Configuration:
        """Rebuild (and re-validate) a configuration from :meth:`to_dict` output."""
        if not isinstance(data, Mapping):
            raise ConfigurationError("configuration", data, "a mapping with sections " + ", ".join(_SECTIONS))
        check_keys("configuration", data, _SECTIONS + ("jaxfne_version",))
        cfg = cls._trusted(cls._defaults())
        columns = data.get("columns", [])
        if isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence):
            raise ConfigurationError("columns", columns, "a list of column mappings")
        for i, col in enumerate(columns):
            cfg = _apply(cfg.column, f"columns[{i}]", col, ("name", "layers", "n"))
        if "cell_types" in data:
            ct = dict(check_mapping("cell_types", data["cell_types"], none_ok=False))
            ct["cell_type_map"] = ct.pop("fractions", None)
            ct["per_layer"] = ct.get("per_layer") or None
            cfg = _apply(cfg.cell_types, "cell_types", ct, ("cell_type_map",), {"cell_type_map": "fractions"})
        if "connectivity" in data:
            cfg = _apply(cfg.connectivity, "connectivity", data["connectivity"], ())
        if "emitter" in data:
            cfg = _apply(cfg.set_emitter, "emitter", data["emitter"], ("family", "preset"))
        if "runtime" in data:  # after the emitter, whose preset fills what the runtime leaves unset
            cfg = _apply(cfg.runtime, "runtime", data["runtime"], ())
        stimuli = data.get("stimuli", [])
        if isinstance(stimuli, (str, bytes)) or not isinstance(stimuli, Sequence):
            raise ConfigurationError("stimuli", stimuli, "a list of stimulus mappings")
        for i, st in enumerate(stimuli):
            st = dict(check_mapping(f"stimuli[{i}]", st, none_ok=False))
            if "kind" not in st:
                raise ConfigurationError(f"stimuli[{i}].kind", None, "a stimulus kind: " + ", ".join(S.STIMULUS_KINDS))
            cfg = cfg.stimulus(st.pop("kind"), st.pop("target", "all"), **st)
        if "probes" in data:
            pr = dict(check_mapping("probes", data["probes"], none_ok=False))
            check_keys("probes", pr, ("modes", "options"))
            if "modes" not in pr:
                raise ConfigurationError("probes.modes", None, "a list of probe modes")
            cfg = cfg.probes(pr["modes"], **check_mapping("probes.options", pr.get("options")))
        return cfg

    def to_yaml(self) -> str:
        """The configuration as YAML text (:meth:`to_dict`, keys sorted); :meth:`from_yaml` reads it back."""
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=True)

    @classmethod
    def from_yaml(cls, text: str) -> Configuration:
        """Rebuild (and re-validate) a configuration from :meth:`to_yaml` text."""
        import yaml

        return cls.from_dict(yaml.safe_load(text))

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): the text that :attr:`sha256` hashes."""
        data = {**self._data, "runtime": self._resolved_runtime()}
        return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=True)

    @property
    def sha256(self) -> str:
        """Content hash of the configuration (stable across processes and key order)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Configuration) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        cols = ", ".join(f"{c['name']}(n={c['n']})" for c in self._data["columns"]) or "no columns"
        em = self._data["emitter"]
        return f"Configuration({cols}; {em['family']}/{em['preset']}; probes={self._data['probes']['modes']})"


def _apply(method, field: str, spec: Any, required: tuple, renamed: Mapping[str, str] | None = None) -> Configuration:
    """Call a chaining method with a section's mapping, naming missing and unknown keys by ``field``."""
    import inspect

    spec = dict(check_mapping(field, spec, none_ok=False))
    params = inspect.signature(method).parameters.values()
    names = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params)
    shown = {v: k for k, v in (renamed or {}).items()}
    if not takes_any:
        for key in spec:
            if key not in names:
                allowed = ", ".join((renamed or {}).get(n, n) for n in names)
                raise ConfigurationError(f"{field}.{shown.get(key, key)}", spec[key], f"a known key; known keys: {allowed}")
    for key in required:
        if spec.get(key) is None:
            raise ConfigurationError(f"{field}.{(renamed or {}).get(key, key)}", None, "a value (required)")
    return method(**spec)


def _check_per_population(pp: Mapping[str, Any], bounds: Mapping[str, Any]) -> dict:
    """``{population: {parameter: number | {"mean", "sd"}}}`` with the family's names and bounds."""
    out = {}
    for pop, spec in pp.items():
        field = f"emitter.per_population.{pop}"
        check_str(field, pop)
        spec = check_mapping(field, spec, none_ok=False)
        check_keys(field, spec, tuple(bounds))
        entry = {}
        for name, v in spec.items():
            b, f = bounds[name], f"{field}.{name}"
            if isinstance(v, Mapping):
                check_keys(f, v, ("mean", "sd"))
                if "mean" not in v:
                    raise ConfigurationError(f"{f}.mean", None, "a value (required with sd)")
                entry[name] = {"mean": check_number(f"{f}.mean", v["mean"], lo=b.lo, hi=b.hi, lo_open=b.lo_open),
                               "sd": check_number(f"{f}.sd", v.get("sd", 0.0), lo=0)}
            else:
                entry[name] = check_number(f, v, lo=b.lo, hi=b.hi, lo_open=b.lo_open)
        out[pop] = entry
    return out


def _check_population_sizes(sizes: Mapping[str, Any], layers: Sequence[str], n: int) -> dict:
    """``{layer + "E"/"I": count}`` over the column's layers, counts >= 0 summing to ``n``."""
    known = tuple(f"{lab}{t}" for lab in layers for t in "EI")
    check_keys("column.population_sizes", sizes, known)
    out = {k: check_int(f"column.population_sizes.{k}", sizes[k], lo=0) for k in known if k in sizes}
    if sum(out.values()) != n:
        raise ConfigurationError("column.population_sizes", dict(sizes), f"counts summing to n={n}")
    return out


def _is_counts(fr: Mapping[str, float]) -> bool:
    return all(isinstance(v, int) for v in fr.values()) and sum(fr.values()) > 1


def _check_pair_map(field: str, m: Any, *, lo: float | None, hi: float | None) -> None:
    if isinstance(m, (int, float)) and not isinstance(m, bool):
        check_number(field, m, lo=lo, hi=hi)
        return
    if not isinstance(m, Mapping):
        raise ConfigurationError(field, m, 'a number or a mapping such as {"E->E": 0.1}')
    for k, v in m.items():
        if not isinstance(k, str) or k.count("->") != 1:
            raise ConfigurationError(f"{field}.{k}", v, 'keys "PRE->POST" (cell types or populations such as "L4E->L2/3E")')
        check_number(f"{field}.{k}", v, lo=lo, hi=hi)


def _check_type_values(field: str, m: Any, **bounds: Any) -> None:
    if isinstance(m, (int, float)) and not isinstance(m, bool):
        check_number(field, m, **bounds)
        return
    if not isinstance(m, Mapping):
        raise ConfigurationError(field, m, 'a number or a mapping {"E": ..., "I": ...}')
    check_keys(field, m, ("E", "I"))
    for k, v in m.items():
        check_number(f"{field}.{k}", v, **bounds)
    for k in ("E", "I"):  # a partial map would leave one type to fail later
        if k not in m:
            raise ConfigurationError(field, dict(m), f'a number or a mapping with both "E" and "I" (missing {k!r})')


def _check_connectivity(c: Mapping[str, Any]) -> None:
    d = dict(S.CONNECTIVITY_DEFAULTS)
    d.update(c)
    check_option("connectivity.rule", d["rule"], S.CONNECTIVITY_RULES)
    check_bool("connectivity.recurrent", d["recurrent"])
    check_bool("connectivity.autapses", d["autapses"])
    _check_pair_map("connectivity.p", d["p"], lo=0.0, hi=1.0)
    if d["indegree"] is not None:
        if isinstance(d["indegree"], Mapping):
            check_keys("connectivity.indegree", d["indegree"], ("E", "I"))
            for k, v in d["indegree"].items():
                check_int(f"connectivity.indegree.{k}", v, lo=0)
        else:
            raise ConfigurationError("connectivity.indegree", d["indegree"], 'a mapping {"E": K_E, "I": K_I}')
        if d["rule"] not in ("fixed_indegree", "auto"):  # an in-degree the rule would ignore
            raise ConfigurationError("connectivity.indegree", d["indegree"],
                                     f'no in-degree with rule={d["rule"]!r} (it draws by p); rule="fixed_indegree" '
                                     'uses it (rule="auto" with an indegree means fixed_indegree)')
    elif d["rule"] == "fixed_indegree":
        raise ConfigurationError("connectivity.indegree", None, 'a mapping {"E": K_E, "I": K_I} with rule="fixed_indegree"')
    w = d["weights"]
    if not isinstance(w, Mapping):
        raise ConfigurationError("connectivity.weights", w, 'a mapping {"E": w_E > 0, "I": w_I < 0}')
    check_keys("connectivity.weights", w, ("E", "I"))
    if "E" in w:
        check_number("connectivity.weights.E", w["E"], lo=0)
    if "I" in w:
        check_number("connectivity.weights.I", w["I"], hi=0)
    check_number("connectivity.weight_scale", d["weight_scale"], lo=0)
    check_option("connectivity.weight_distribution", d["weight_distribution"], S.WEIGHT_DISTRIBUTIONS)
    check_number("connectivity.weight_rel_sd", d["weight_rel_sd"], lo=0)
    for key in ("weight_scale", "weight_rel_sd", "delay_rel_sd"):  # -0.0 passes ">= 0" but NumPy refuses it as a scale
        if key in c and c[key] == 0:
            c[key] = 0.0
    check_option("connectivity.synapse", d["synapse"], S.SYNAPSE_KINDS)
    _check_type_values("connectivity.tau_syn_ms", d["tau_syn_ms"], lo=0, lo_open=True)
    _check_type_values("connectivity.delay_ms", d["delay_ms"], lo=0)
    check_number("connectivity.delay_rel_sd", d["delay_rel_sd"], lo=0)
    check_option("connectivity.delay_distribution", d["delay_distribution"], S.DELAY_DISTRIBUTIONS)
    if d["inter_column"] is not None:
        ic = d["inter_column"]
        check_keys("connectivity.inter_column", ic, tuple(S.INTER_COLUMN_DEFAULTS))
        if "p" in ic:
            check_number("connectivity.inter_column.p", ic["p"], lo=0, hi=1)
        if "weight_scale" in ic:
            check_number("connectivity.inter_column.weight_scale", ic["weight_scale"], lo=0)
        if "delay_ms" in ic:
            check_number("connectivity.inter_column.delay_ms", ic["delay_ms"], lo=0)
        for i, t in enumerate(ic.get("types", ["E"])):
            check_option(f"connectivity.inter_column.types[{i}]", t, ("E", "I"))
    if d["plasticity"] is not None:
        pl = d["plasticity"]
        check_keys("connectivity.plasticity", pl, tuple(S.STDP_DEFAULTS))
        check_option("connectivity.plasticity.rule", pl.get("rule", "stdp"), ("stdp",))
        for k in ("tau_plus_ms", "tau_minus_ms"):
            if k in pl:
                check_number(f"connectivity.plasticity.{k}", pl[k], lo=0, lo_open=True)
        for k in ("A_plus", "A_minus", "w_min"):
            if k in pl:
                check_number(f"connectivity.plasticity.{k}", pl[k], lo=0)
        if pl.get("w_max") is not None:
            check_number("connectivity.plasticity.w_max", pl["w_max"], lo=pl.get("w_min", 0.0), lo_open=True)
    check_option("connectivity.propagation", d["propagation"], S.PROPAGATION)
    if d["projections"] is not None:
        _check_projections(d["projections"])


def _check_projections(table: Any) -> None:
    """``{"PRE->POST": {...}}`` entries: a rule with its number, a signed weight, a delay (see PROJECTION_DEFAULTS)."""
    f = "connectivity.projections"
    if not isinstance(table, Mapping) or not table:
        raise ConfigurationError(f, table, 'a non-empty mapping {"PRE->POST": {"rule": ..., "weight": ...}}')
    for key, pj in table.items():
        g = f"{f}.{key}"
        if not isinstance(key, str) or key.count("->") != 1 or not all(key.split("->")):
            raise ConfigurationError(g, pj, 'keys "PRE->POST" naming populations, e.g. "L4E->L2/3E" or "V1:L4E->V1:L4I"')
        _check_projection(g, pj, key.split("->")[0][-1])


def _check_projection(g: str, pj: Any, pre_type: str) -> None:
    """One projection ``{rule, p/K/N_syn, weight, weight_rel_sd, delay_ms, delay_sd_ms}`` named ``g``
    whose weight must have the sign of ``pre_type`` (``"E"``: >= 0, ``"I"``: <= 0)."""
    need = {"pairwise_bernoulli": "p", "fixed_indegree": "K", "fixed_total_number": "N_syn"}
    if not isinstance(pj, Mapping):
        raise ConfigurationError(g, pj, "a mapping with rule, p/K/N_syn, weight, weight_rel_sd, delay_ms, delay_sd_ms")
    check_keys(g, pj, tuple(S.PROJECTION_DEFAULTS))
    rule = pj.get("rule", S.PROJECTION_DEFAULTS["rule"])
    check_option(f"{g}.rule", rule, S.PROJECTION_RULES)
    for other in set(need.values()) - {need[rule]}:
        if pj.get(other) is not None:
            raise ConfigurationError(f"{g}.{other}", pj[other], f"nothing with rule={rule!r} (it takes {need[rule]})")
    if pj.get(need[rule]) is None:
        raise ConfigurationError(f"{g}.{need[rule]}", None, f"a value with rule={rule!r}")
    if rule == "pairwise_bernoulli":
        check_number(f"{g}.p", pj["p"], lo=0, hi=1)
    else:
        check_int(f"{g}.{need[rule]}", pj[need[rule]], lo=0)
    if pj.get("weight") is None:
        raise ConfigurationError(f"{g}.weight", None, "a mean weight (family current unit; < 0 from inhibitory populations)")
    w = check_number(f"{g}.weight", pj["weight"])
    if (pre_type == "E" and w < 0) or (pre_type == "I" and w > 0):
        raise ConfigurationError(f"{g}.weight", w, f"a weight of the sign of the presynaptic type {pre_type!r}")
    for k in ("weight_rel_sd", "delay_ms", "delay_sd_ms"):
        if k in pj:
            check_number(f"{g}.{k}", pj[k], lo=0)


def _check_target(target: Any) -> dict:
    if target == "all":
        return {}
    if not isinstance(target, Mapping):
        raise ConfigurationError("stimulus.target", target, '"all" or a mapping with column/layer/cell_type')
    check_keys("stimulus.target", target, S.TARGET_KEYS)
    for k, v in target.items():
        if k == "cell_type":
            check_option("stimulus.target.cell_type", v, ("E", "I"))
        else:
            check_str(f"stimulus.target.{k}", v)
    return dict(target)


def _check_stimulus(kind: str, p: dict) -> None:
    f = f"stimulus[{kind}]"
    for k in ("start_ms",):
        if k in p:
            p[k] = check_number(f"{f}.{k}", p[k], lo=0)
    if "stop_ms" in p:
        p["stop_ms"] = check_number(f"{f}.stop_ms", p["stop_ms"], lo=p.get("start_ms", 0.0), allow_inf=True)
    if kind in ("step", "pulse"):
        p["amplitude"] = check_number(f"{f}.amplitude", p["amplitude"])
    if kind == "pulse":
        p["width_ms"] = check_number(f"{f}.width_ms", p["width_ms"], lo=0, lo_open=True)
        if p["times_ms"] is not None:
            if not isinstance(p["times_ms"], Sequence) or not p["times_ms"]:
                raise ConfigurationError(f"{f}.times_ms", p["times_ms"], "a non-empty list of onset times in ms")
            p["times_ms"] = [check_number(f"{f}.times_ms[{i}]", t, lo=0) for i, t in enumerate(p["times_ms"])]
    if kind == "ramp":
        p["slope_per_ms"] = check_number(f"{f}.slope_per_ms", p["slope_per_ms"])
        p["offset"] = check_number(f"{f}.offset", p["offset"])
    if kind == "series":
        vals = p["values"]
        if not isinstance(vals, Sequence) or isinstance(vals, str) or len(vals) == 0:
            raise ConfigurationError(f"{f}.values", vals, "a non-empty list of currents")
        p["values"] = [check_number(f"{f}.values[{i}]", v) for i, v in enumerate(vals)]
        p["dt_ms"] = check_number(f"{f}.dt_ms", p["dt_ms"], lo=0, lo_open=True)
    if kind == "spike_sources":
        p["n_sources"] = check_int(f"{f}.n_sources", p["n_sources"], lo=1, hi=2**31 - 2)
        table = p["projections"]
        if not isinstance(table, Mapping) or not table:
            raise ConfigurationError(f"{f}.projections", table, 'a non-empty mapping {"POST": {"rule": ..., "weight": ...}} '
                                     'from target population names ("L4E" or "V1:L4E")')
        for key, pj in table.items():
            if not isinstance(key, str) or not key or "->" in key:
                raise ConfigurationError(f"{f}.projections.{key}", pj, 'a target population name, e.g. "L4E" or "V1:L4E"')
            _check_projection(f"{f}.projections.{key}", pj, "E")
        p["projections"] = {k: dict(v) for k, v in table.items()}
    if kind in ("poisson", "spike_sources"):
        p["rate_hz"] = check_number(f"{f}.rate_hz", p["rate_hz"], lo=0)
        if kind == "poisson":
            p["n_inputs"] = check_int(f"{f}.n_inputs", p["n_inputs"], lo=1)
            p["weight"] = check_number(f"{f}.weight", p["weight"])
        sd = p["synapse_depth_um"]
        if sd is not None and not isinstance(sd, str):
            if not isinstance(sd, Sequence) or len(sd) != 2:
                raise ConfigurationError(f"{f}.synapse_depth_um", sd, "None, a layer label or (top, bottom) in µm")
            top = check_number(f"{f}.synapse_depth_um[0]", sd[0], lo=0)
            bottom = check_number(f"{f}.synapse_depth_um[1]", sd[1], lo=top)
            p["synapse_depth_um"] = [top, bottom]
    if kind == "gaussian":
        p["mean"] = check_number(f"{f}.mean", p["mean"])
        p["std"] = check_number(f"{f}.std", p["std"], lo=0)


def _check_probe_options(o: dict) -> None:
    f = "probes"
    if "name" in o:
        check_str(f"{f}.name", o["name"])
    if o.get("record_neurons") is not None:
        rn = o["record_neurons"]
        if not isinstance(rn, Sequence) or isinstance(rn, str):
            raise ConfigurationError(f"{f}.record_neurons", rn,
                                     "None (all neurons) or a list of neuron indices ([]: V_m and I_syn of none)")
        o["record_neurons"] = [check_int(f"{f}.record_neurons[{i}]", v, lo=0) for i, v in enumerate(rn)]
    if "record_every" in o:
        check_int(f"{f}.record_every", o["record_every"], lo=1)
    for k in ("bin_width_um", "contact_spacing_um", "sigma_S_per_m", "mua_radius_um", "mua_length_um", "bold_tr_ms"):
        if k in o:
            o[k] = check_number(f"{f}.{k}", o[k], lo=0, lo_open=True)
    if o.get("n_contacts") is not None:
        check_int(f"{f}.n_contacts", o["n_contacts"], lo=1)
    if o.get("first_contact_depth_um") is not None:
        o["first_contact_depth_um"] = check_number(f"{f}.first_contact_depth_um", o["first_contact_depth_um"], lo=0)
    if "contact_offset_um" in o:
        o["contact_offset_um"] = check_point(f"{f}.contact_offset_um", o["contact_offset_um"], 2)
    if "column_tilt_deg" in o:
        o["column_tilt_deg"] = check_number(f"{f}.column_tilt_deg", o["column_tilt_deg"], lo=0, hi=90)
    for k in ("csd_vaknin", "attribution"):
        if k in o:
            check_bool(f"{f}.{k}", o[k])
    for k, choices in S.PROBE_OPTION_CHOICES.items():
        if k in o and o[k] not in choices:
            allowed = "one of " + ", ".join(repr(a) for a in choices)
            help_ = S.PROBE_OPTION_HELP.get(k)
            raise ConfigurationError(f"{f}.{k}", o[k], allowed if help_ is None else f"{allowed}; {help_}")
    if o.get("column_position_um") is not None:
        o["column_position_um"] = check_point(f"{f}.column_position_um", o["column_position_um"])
        from ..probes.dipole import DEFAULT_HEAD_RADII_UM

        brain = DEFAULT_HEAD_RADII_UM[0]
        r = math.sqrt(sum(float(c) ** 2 for c in o["column_position_um"]))
        if not 0.0 < r < brain:  # its radial direction is the column's; the head model needs it in the brain
            raise ConfigurationError(f"{f}.column_position_um", o["column_position_um"],
                                     f"a position inside the head model's brain, 0 < |r| < {brain:g} µm (the "
                                     "column's radial direction; default 78 000 µm on +z)")
    for k in ("eeg_electrodes_um", "meg_sensors_um"):
        v = o.get(k)
        if v is None:
            continue
        if isinstance(v, (str, bytes)) or not isinstance(v, Sequence) or not v:
            raise ConfigurationError(f"{f}.{k}", v, "None or a non-empty list of (x, y, z) positions in µm")
        o[k] = [check_point(f"{f}.{k}[{i}]", r) for i, r in enumerate(v)]


def configuration() -> Configuration:
    """Create a new, empty :class:`Configuration` (same as ``Configuration()``)."""
    return Configuration()
