"""The cortical microcircuit of Potjans & Diesmann (2014) as a configuration factory.

77,169 ``iaf_psc_exp`` neurons in eight populations (L2/3, L4, L5, L6; E and I) under 1 mm² of
cortex, about 3e8 synapses drawn with NEST's ``fixed_total_number`` (multapses and autapses allowed)
from the published connection probabilities, background input of 8 Hz per external synapse as
Poisson input or the equivalent DC, and the optimized initial membrane potentials that suppress
the start-up transient. Every number below is the reference implementation's.

References
----------
Potjans TC, Diesmann M (2014) The cell-type specific cortical microcircuit: relating structure and
activity in a full-scale spiking network model. Cereb Cortex 24:785-806. doi:10.1093/cercor/bhs358
Reference code: INM-6/microcircuit-PD14-model, ``PyNEST/src/microcircuit/network_params.py``,
``network.py`` and ``helpers.py`` (numbers of synapses, PSP -> PSC, DC compensation, scaling).
Hagen E, Dahmen D, Stavrinou ML, et al. (2016) Hybrid scheme for modeling local field potentials
from point-neuron networks. Cereb Cortex 26:4461-4496. doi:10.1093/cercor/bhw237 (layer depths of
the microcircuit's column: INM-6/hybridLFPy ``examples/Hagen_et_al_2016_cercor``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ConfigurationError

__all__ = [
    "CONN_PROBS", "CONN_PROBS_TH", "FULL_MEAN_RATES_HZ", "FULL_NUM_NEURONS", "K_EXT", "LAYER_DEPTHS_UM", "POPULATIONS",
    "dc_compensating_poisson", "full_num_synapses", "potjans_diesmann_2014", "psc_over_psp",
]

#: Population names in the reference's order (its "L23E" is written "L2/3E" here).
POPULATIONS = ("L2/3E", "L2/3I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
FULL_NUM_NEURONS = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
#: Spike rates of one full-scale reference run (``full_mean_rates``), spikes/s; used, as in the
#: reference, for the DC that compensates scaled in-degrees.
FULL_MEAN_RATES_HZ = np.array([0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829])
#: Connection probabilities, rows postsynaptic, columns presynaptic, in :data:`POPULATIONS` order.
CONN_PROBS = np.array([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
])
#: External (background) in-degree per population.
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
#: Connection probabilities from the thalamic population to each population (reference ``conn_probs_th``).
CONN_PROBS_TH = np.array([0.0, 0.0, 0.0983, 0.0619, 0.0, 0.0, 0.0512, 0.0196])
#: NEST's default delay (ms) of the reference's poisson_generator -> parrot_neuron connection, which
#: shifts the thalamic spikes after the generator's window by as much.
TH_GENERATOR_DELAY_MS = 1.0
#: "Optimized" initial membrane potentials (normal, per population), mV.
V0_MEAN_MV = np.array([-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43])
V0_SD_MV = np.array([5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48])
#: The reference's "original" initial potentials: N(-58, 10) mV in every population.
V0_ORIGINAL_MV = (-58.0, 10.0)
#: Layer depths below the pia, µm (Hagen et al. 2016); L1 holds no neurons.
LAYER_DEPTHS_UM = {"L1": (0.0, 81.6), "L2/3": (81.6, 587.1), "L4": (587.1, 922.2), "L5": (922.2, 1170.0),
                   "L6": (1170.0, 1491.7)}
#: 1 mm² of cortex: the radius of a disc of that area, µm.
RADIUS_UM = 1000.0 / math.sqrt(math.pi)

#: The reference's neuron (``iaf_psc_exp``) and network numbers; overridable by name (see the factory).
DEFAULTS: dict[str, Any] = {
    "C_m": 250.0, "tau_m": 10.0, "tau_syn": 0.5, "t_ref": 2.0, "E_L": -65.0, "V_th": -50.0, "V_reset": -65.0,
    "psp_exc_mV": 0.15, "g": -4.0, "weight_rel_sd": 0.1, "delay_exc_ms": 1.5, "delay_inh_ms": 0.75,
    "delay_rel_sd": 0.5, "bg_rate_hz": 8.0, "V0": "optimized", "column": "PD14",
    # thalamic input (reference stimulus_params.py)
    "th_start_ms": 700.0, "th_duration_ms": 10.0, "th_rate_hz": 120.0, "th_num_neurons": 902, "psp_th_mV": 0.15,
    "delay_th_ms": 1.5, "delay_th_rel_sd": 0.5,
}
DRIVES = ("poisson", "dc")


def psc_over_psp(C_m: float, tau_m: float, tau_syn: float) -> float:
    """pA of PSC per mV of PSP peak for ``iaf_psc_exp`` (reference ``postsynaptic_potential_to_current``)."""
    sub = 1.0 / (tau_syn - tau_m)
    pre = tau_m * tau_syn / C_m * sub
    frac = (tau_m / tau_syn) ** sub
    return 1.0 / (pre * (frac**tau_m - frac**tau_syn))


def full_num_synapses(num_neurons: np.ndarray = FULL_NUM_NEURONS) -> np.ndarray:
    """Synapse numbers ``[post, pre]`` before rounding (reference ``num_synapses_from_conn_probs``)."""
    prod = np.outer(num_neurons, num_neurons).astype(float)
    return np.log(1.0 - CONN_PROBS) / np.log((prod - 1.0) / prod)


def dc_compensating_poisson(bg_rate_hz: float, k_ext: np.ndarray, tau_syn: float, psc_ext: float) -> np.ndarray:
    """The DC (pA) with the mean of the Poisson background: ``rate K_ext PSC tau_syn``."""
    return bg_rate_hz * np.asarray(k_ext, float) * psc_ext * tau_syn * 0.001


def potjans_diesmann_2014(scale: float = 1.0, k_scale: float = 1.0, drive: str = "poisson",
                          thalamus: bool = False, **overrides: Any):
    """The Potjans & Diesmann (2014) microcircuit as a :class:`~jaxfne.Configuration`.

    Parameters
    ----------
    scale : float in (0, 1]
        Scales the neuron numbers (``N_scaling``; numbers rounded as in the reference) and, with
        them, the synapse numbers, keeping the in-degrees.
    k_scale : float in (0, 1]
        Scales the in-degrees, recurrent and external (``K_scaling``), with the reference's
        compensation: weights x 1/sqrt(k_scale) and a DC per population that restores the mean
        input lost (from the full-scale rates; and the lost Poisson mean with ``drive="poisson"``).
    drive : {"poisson", "dc"}
        Background: K_ext independent Poisson inputs of ``bg_rate_hz`` per neuron (the reference's
        Poisson generator per population), or the DC with their mean.
    thalamus : bool
        The reference's thalamic input: ``th_num_neurons`` (902) Poisson sources of ``th_rate_hz``
        (120 Hz) for ``th_duration_ms`` (10 ms) from ``th_start_ms`` (700 ms), each sending its one
        spike train to all its targets (a ``stimulus("spike_sources", ...)``; the reference's
        parrot neurons fed by one ``poisson_generator``, whose connection to them delays the
        spikes by NEST's default 1 ms: the sources spike in [701, 711) ms). Fixed total numbers
        of synapses onto L4E, L4I, L6E and L6I from ``conn_probs_th`` (9.83, 6.19, 5.12, 1.96 %),
        computed as in the reference for the *full-scale* populations and scaled by ``k_scale``
        only (so below ``scale=1`` every target gets ``1 / scale`` times the full-scale thalamic
        in-degree, as the reference does), PSP ``psp_th_mV`` (0.15 mV; PSC x 1/sqrt(k_scale), relative SD
        ``weight_rel_sd``), delays ``delay_th_ms`` (1.5 ms) with relative SD ``delay_th_rel_sd`` (0.5).
    **overrides
        Any of the reference's numbers by name: ``C_m``, ``tau_m``, ``tau_syn``, ``t_ref``, ``E_L``,
        ``V_th``, ``V_reset``, ``psp_exc_mV`` (mean PSP, 0.15 mV; doubled for L4E->L2/3E), ``g``
        (-4), ``weight_rel_sd``, ``delay_exc_ms``, ``delay_inh_ms``, ``delay_rel_sd``, ``bg_rate_hz``,
        ``V0`` (``"optimized"`` or ``"original"``), ``column`` (its name), the thalamic
        ``th_start_ms``, ``th_duration_ms``, ``th_rate_hz``, ``th_num_neurons``, ``psp_th_mV``,
        ``delay_th_ms``, ``delay_th_rel_sd``, and per-population mappings ``K_ext`` and
        ``num_neurons`` (full-scale values, e.g. ``K_ext={"L4E": 2000}``).

    Returns
    -------
    Configuration
        One column (layer depths of Hagen et al. 2016, 1 mm²), ``iaf_psc_exp`` with the reference's
        parameters per population (initial V_m drawn with the network seed), fixed-total-number
        projections, dt 0.1 ms, spikes recorded; chain further calls to change it.

    Example
    -------
    >>> import jaxfne
    >>> cfg = jaxfne.presets.potjans_diesmann_2014(scale=0.1, k_scale=0.1)
    >>> cfg.columns[0]["n"]
    7717
    """
    from ..config import configuration
    from ..config.validate import check_bool, check_number, check_option

    scale = check_number("scale", scale, lo=0, hi=1, lo_open=True)
    k_scale = check_number("k_scale", k_scale, lo=0, hi=1, lo_open=True)
    check_option("drive", drive, DRIVES)
    thalamus = check_bool("thalamus", thalamus)
    p = _resolve(overrides)
    n_full = p["num_neurons"]
    n = np.round(n_full * scale).astype(int)
    if np.any(n < 1):
        pop = POPULATIONS[int(np.argmin(n))]
        raise ConfigurationError("scale", scale, f"a scale that leaves every population a neuron ({pop} has "
                                 f"{int(n_full[POPULATIONS.index(pop)])} at full scale)")
    syn_full = full_num_synapses(n_full)
    n_syn = np.round(syn_full * scale * k_scale).astype(np.int64)
    k_ext = np.round(p["K_ext"] * k_scale).astype(int)
    ratio = psc_over_psp(p["C_m"], p["tau_m"], p["tau_syn"])
    psp = np.tile([p["psp_exc_mV"], p["psp_exc_mV"] * p["g"]], (8, 4))
    psp[0, 2] = 2.0 * p["psp_exc_mV"]  # L4E -> L2/3E doubled
    psc_full = psp * ratio  # [post, pre], pA
    psc_ext_full = p["psp_exc_mV"] * ratio
    dc = dc_compensating_poisson(p["bg_rate_hz"], p["K_ext"], p["tau_syn"], psc_ext_full) if drive == "dc" \
        else np.zeros(8)
    if k_scale != 1.0:  # reference adjust_weights_and_input_to_synapse_scaling
        indegree = syn_full / n_full[:, None]
        lost = 0.001 * p["tau_syn"] * (1.0 - math.sqrt(k_scale))
        dc = dc + lost * np.sum(psc_full * indegree * FULL_MEAN_RATES_HZ, axis=1)
        if drive == "poisson":
            dc = dc + lost * psc_ext_full * p["K_ext"] * p["bg_rate_hz"]
    psc = psc_full / math.sqrt(k_scale)
    psc_ext = psc_ext_full / math.sqrt(k_scale)
    delay_mean = np.tile([p["delay_exc_ms"], p["delay_inh_ms"]], (8, 4))

    projections = {}
    for i, post in enumerate(POPULATIONS):
        for j, pre in enumerate(POPULATIONS):
            if n_syn[i, j] > 0:
                projections[f"{pre}->{post}"] = {
                    "rule": "fixed_total_number", "N_syn": int(n_syn[i, j]), "weight": float(psc[i, j]),
                    "weight_rel_sd": p["weight_rel_sd"], "delay_ms": float(delay_mean[i, j]),
                    "delay_sd_ms": float(delay_mean[i, j] * p["delay_rel_sd"])}
    per_pop = {}
    for i, pop in enumerate(POPULATIONS):
        v0 = ({"mean": float(V0_MEAN_MV[i]), "sd": float(V0_SD_MV[i])} if p["V0"] == "optimized"
              else {"mean": V0_ORIGINAL_MV[0], "sd": V0_ORIGINAL_MV[1]})
        per_pop[pop] = {"V_m0": v0, "I_e": float(dc[i])}
    neuron = {k: p[k] for k in ("C_m", "tau_m", "t_ref", "E_L", "V_th", "V_reset")}
    neuron.update(tau_syn_ex=p["tau_syn"], tau_syn_in=p["tau_syn"])

    cfg = (configuration()
           .runtime(dt_ms=0.1)
           .column(p["column"], layers=list(LAYER_DEPTHS_UM), n=int(n.sum()),
                   depths_um={k: list(v) for k, v in LAYER_DEPTHS_UM.items()}, radius_um=RADIUS_UM,
                   population_sizes={pop: int(c) for pop, c in zip(POPULATIONS, n)})
           .connectivity(projections=projections, autapses=True, synapse="exponential", propagation="event")
           .set_emitter("iaf_psc_exp", "potjans_diesmann_2014", drive="none", params=neuron, per_population=per_pop)
           .probes(["SPK"]))
    if drive == "poisson":
        for pop, k, in zip(POPULATIONS, k_ext):
            cfg = cfg.stimulus("poisson", {"layer": pop[:-1], "cell_type": pop[-1]}, rate_hz=p["bg_rate_hz"],
                               n_inputs=int(k), weight=float(psc_ext))
    if thalamus:
        cfg = cfg.stimulus("spike_sources", **thalamic_input(p, n_full, k_scale, ratio))
    return cfg


def thalamic_input(p: dict, n_full: np.ndarray, k_scale: float, psc_over_psp_ratio: float) -> dict:
    """The ``spike_sources`` parameters of the reference's thalamic input (network.py
    ``__create_thalamic_stim_input``, ``__connect_thalamic_stim_input``): synapse numbers from the
    full-scale populations times ``k_scale``, weight ``PSP_th`` as PSC / sqrt(k_scale), delays
    normal around ``delay_th_ms``; the generator's window shifted by its 1 ms connection delay."""
    n_th = int(p["th_num_neurons"])
    syn = np.round(full_num_synapses_onto(CONN_PROBS_TH, n_th, n_full) * k_scale).astype(np.int64)
    weight = p["psp_th_mV"] * psc_over_psp_ratio / math.sqrt(k_scale)
    start = p["th_start_ms"] + TH_GENERATOR_DELAY_MS
    projections = {pop: {"rule": "fixed_total_number", "N_syn": int(k), "weight": float(weight),
                         "weight_rel_sd": p["weight_rel_sd"], "delay_ms": p["delay_th_ms"],
                         "delay_sd_ms": p["delay_th_ms"] * p["delay_th_rel_sd"]}
                   for pop, k in zip(POPULATIONS, syn) if k > 0}
    return {"n_sources": n_th, "rate_hz": p["th_rate_hz"], "start_ms": start, "stop_ms": start + p["th_duration_ms"],
            "projections": projections}


def full_num_synapses_onto(conn_probs: np.ndarray, n_pre: int, num_neurons: np.ndarray) -> np.ndarray:
    """Synapse numbers from ``n_pre`` sources onto each population, before rounding (reference
    ``num_synapses_from_conn_probs(conn_probs_th, num_th_neurons, full_num_neurons)``)."""
    prod = float(n_pre) * np.asarray(num_neurons, float)
    return np.log(1.0 - conn_probs) / np.log((prod - 1.0) / prod)


def _resolve(overrides: dict) -> dict:
    """The reference's numbers with ``overrides`` applied, each checked by name."""
    from ..config.validate import check_int, check_mapping, check_number, check_option, check_str

    p = dict(DEFAULTS)
    p["K_ext"] = K_EXT.astype(float).copy()
    p["num_neurons"] = FULL_NUM_NEURONS.copy()
    known = tuple(DEFAULTS) + ("K_ext", "num_neurons")
    for key, value in overrides.items():
        if key not in known:
            raise ConfigurationError(key, value, "a parameter of the microcircuit: " + ", ".join(known))
        if key in ("K_ext", "num_neurons"):
            value = check_mapping(key, value, none_ok=False)
            for pop, v in value.items():
                if pop not in POPULATIONS:
                    raise ConfigurationError(f"{key}.{pop}", v, "a population: " + ", ".join(POPULATIONS))
                p[key][POPULATIONS.index(pop)] = (check_int(f"{key}.{pop}", v, lo=1) if key == "num_neurons"
                                                  else check_number(f"{key}.{pop}", v, lo=0))
        elif key == "V0":
            p[key] = check_option(key, value, ("optimized", "original"))
        elif key == "column":
            p[key] = check_str(key, value)
        elif key == "th_num_neurons":
            p[key] = check_int(key, value, lo=1, hi=2**31 - 2)
        else:
            lo = {"g": None, "E_L": None, "V_th": None, "V_reset": None}.get(key, 0)
            p[key] = check_number(key, value, lo=lo) if lo is not None else check_number(key, value)
    return p
