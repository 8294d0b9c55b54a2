"""What each section of a :class:`~jaxfne.Configuration` accepts, with documented defaults.

Kept apart from the chainable class so that the Hydra schema, the docs and the checks share one table.
"""

from __future__ import annotations

DTYPES = ("float32", "float64")

#: ``seed`` draws the noise of the dynamics (the default seed of ``simulate``); ``network_seed`` draws
#: the network instance at ``construct`` (positions, per-neuron parameters, synapses).
RUNTIME_DEFAULTS = {"seed": 0, "network_seed": 0, "dtype": "float32", "duration_ms": 1000.0, "dt_ms": 0.1}

#: Probe modes of the seed API. SPK/Vm/I_syn are neuron-level; the rest are field proxies.
PROBE_MODES = (
    "SPK",
    "Vm",
    "I_syn",
    "MUA-proxy",
    "source-proxy",
    "LFP-proxy",
    "CSD-proxy",
    "EEG-proxy",
    "MEG-proxy",
    "EMM-proxy",
)

#: The neuron-level probe modes; a probe list naming none of them records spikes and V_m (the
#: attributes every Signals has on the seed page), else exactly those named.
NEURON_MODES = ("SPK", "Vm", "I_syn")


def recorded_neuron_signals(modes) -> frozenset[str]:
    """The neuron signals a list of probe modes records: ``spikes`` and ``V_m`` when named (``SPK``,
    ``Vm``) or when no neuron mode is named, ``I_syn`` when named."""
    named = set(modes) & set(NEURON_MODES)
    on = {"spikes": "SPK" in named or not named, "V_m": "Vm" in named or not named, "I_syn": "I_syn" in named}
    return frozenset(k for k, v in on.items() if v)

#: Options of ``Configuration.probes(modes, **options)`` and their defaults.
PROBE_OPTIONS = {
    "name": "multimodal_probe",
    # recording selection (neuron-level signals)
    "record_neurons": None,  # None = all, or a list of neuron indices ([] = none: spikes only)
    "record_every": 1,  # keep every k-th step of V_m / I_syn
    # laminar geometry of the field probes
    "bin_width_um": 50.0,
    "contact_spacing_um": 100.0,
    "n_contacts": None,  # None = contacts through the whole column depth
    "first_contact_depth_um": None,  # None = the top of the column
    "contact_offset_um": [0.0, 0.0],  # lateral offset of the laminar probe from the column axis
    "sigma_S_per_m": 0.3,  # the tissue: the LFP's medium and the four-sphere model's brain shell (CSF 1.5, skull 0.015, scalp 0.3)
    "csd_vaknin": False,
    # MUA
    "mua_kind": "radius",
    "mua_radius_um": 100.0,
    "mua_length_um": 75.0,
    # head models
    "column_position_um": None,  # None = on the z axis, 78 000 um from the head centre
    # tilt of the column axis from the radial direction: 0 = gyral crown (MEG-silent), 90 = sulcal wall
    "column_tilt_deg": 45.0,
    "eeg_electrodes_um": None,  # None = 3 scalp electrodes above the column
    "meg_sensors_um": None,  # None = 3 magnetometers 100-110 mm from the centre
    # "sarvas" (spherical conductor, volume currents included) or "infinite" (Biot-Savart, primary current
    # only); the reported MEG is the radial component, for which the two are identical (volume currents in
    # a spherical conductor add no radial field), so this choice changes only the tangential components
    "meg_model": "sarvas",
    # metabolic proxy
    "bold_tr_ms": 2000.0,
    # per-population attribution of source / LFP / dipole
    "attribution": False,
}

PROBE_OPTION_CHOICES = {"mua_kind": ("radius", "exponential"), "meg_model": ("sarvas", "infinite")}

#: What a choice of :data:`PROBE_OPTION_CHOICES` means, appended to the error naming a bad value.
PROBE_OPTION_HELP = {
    "meg_model": ("'sarvas' (spherical conductor, Sarvas 1987) and 'infinite' (Biot-Savart, primary current "
                  "only) give the same MEG for the radial magnetometers jaxfne reports: in a spherical "
                  "conductor the volume currents add no radial field"),
}

CONNECTIVITY_RULES = ("auto", "izhikevich2003", "pairwise_bernoulli", "fixed_indegree")
SYNAPSE_KINDS = ("exponential", "delta")
WEIGHT_DISTRIBUTIONS = ("constant", "normal", "lognormal", "uniform")
DELAY_DISTRIBUTIONS = ("constant", "normal", "uniform")
PROPAGATION = ("auto", "event", "batched", "dense")

#: Documented defaults of ``Configuration.connectivity()``; "auto" picks the emitter preset's own
#: connectivity when it has one (``cortical_eig`` -> Izhikevich 2003 all-to-all), else these values.
CONNECTIVITY_DEFAULTS = {
    "rule": "auto",
    "recurrent": True,
    # connection probability per pre->post cell type; keys "E->E" ... or population keys "L4E->L2/3E"
    # Brunel (2000) J Comput Neurosci 8:183, sparse balanced network: epsilon = 0.1.
    "p": {"E->E": 0.1, "E->I": 0.1, "I->E": 0.1, "I->I": 0.1},
    "indegree": None,  # for rule="fixed_indegree": {"E": K_E, "I": K_I} inputs per neuron from its column's E / I neurons
    # mean synaptic weight per presynaptic type, in the emitter's current units (Izhikevich: mV/ms,
    # i.e. pA per pF); inhibitory weights are negative.
    "weights": {"E": 0.6, "I": -2.4},
    "weight_scale": 1.0,
    "weight_distribution": "normal",
    "weight_rel_sd": 0.1,  # Potjans & Diesmann (2014): relative SD 0.1
    "synapse": "exponential",
    # AMPA and GABA_A decay times, Destexhe, Mainen & Sejnowski (1998), Methods in Neuronal Modeling.
    "tau_syn_ms": {"E": 5.0, "I": 10.0},
    # Potjans & Diesmann (2014): 1.5 ms (E) and 0.75 ms (I), relative SD 0.5, truncated at dt.
    "delay_ms": {"E": 1.5, "I": 0.75},
    "delay_rel_sd": 0.5,
    "delay_distribution": "normal",
    "autapses": False,
    "inter_column": None,  # {"p": 0.02, "weight_scale": 1.0, "delay_ms": 3.0}
    "plasticity": None,  # {"rule": "stdp", ...}, see STDP_DEFAULTS
    "propagation": "auto",
    # per population pair: {"PRE->POST": {rule, p | K | N_syn, weight, weight_rel_sd, delay_ms,
    # delay_sd_ms}}, see PROJECTION_DEFAULTS; when given, it alone defines the recurrent synapses
    # within each column, and each projection has a gain leaf params["gain"][pre, post]
    "projections": None,
}

PROJECTION_RULES = ("pairwise_bernoulli", "fixed_indegree", "fixed_total_number")

#: Defaults of one entry of ``connectivity(projections={...})``: weight in the family's current unit
#: (iaf_psc_exp: pA; the sign must match the presynaptic type), normal with relative SD and the sign
#: kept (redrawn), delay normal redrawn below half a step and rounded to at least one step (PD14).
PROJECTION_DEFAULTS = {
    "rule": "pairwise_bernoulli",
    "p": None,
    "K": None,
    "N_syn": None,
    "weight": None,
    "weight_rel_sd": 0.1,
    "delay_ms": 1.5,
    "delay_sd_ms": 0.0,
}

#: Pair-based additive STDP with all-to-all spike pairing via traces (Song, Miller & Abbott 2000,
#: Nat Neurosci 3:919; Morrison, Diesmann & Gerstner 2008, Biol Cybern 98:459), on excitatory synapses.
STDP_DEFAULTS = {
    "rule": "stdp",
    "tau_plus_ms": 20.0,
    "tau_minus_ms": 20.0,
    "A_plus": 0.01,  # fraction of w_max per pair
    "A_minus": 0.0105,  # Song et al. 2000: A_minus/A_plus = 1.05
    "w_min": 0.0,
    "w_max": None,  # None = 2 x the mean excitatory weight
}

INTER_COLUMN_DEFAULTS = {"p": 0.02, "weight_scale": 1.0, "delay_ms": 3.0, "types": ["E"]}

STIMULUS_KINDS = ("step", "pulse", "ramp", "series", "poisson", "gaussian", "spike_sources")

#: Each stimulus kind's parameters and defaults (currents in the emitter's units).
STIMULUS_DEFAULTS = {
    "step": {"amplitude": 10.0, "start_ms": 0.0, "stop_ms": float("inf")},
    "pulse": {"amplitude": 10.0, "start_ms": 10.0, "width_ms": 1.0, "times_ms": None},
    "ramp": {"slope_per_ms": 0.1, "start_ms": 0.0, "stop_ms": float("inf"), "offset": 0.0},
    "series": {"values": None, "dt_ms": None, "start_ms": 0.0},
    # Poisson spike trains from n_inputs external sources, each event a jump of `weight` in the
    # excitatory synaptic current (Potjans & Diesmann 2014 background: 8 Hz per external synapse).
    # synapse_depth_um: None = at each target's own excitatory synapses (BasisSpec), a layer label or
    # (top, bottom) in um below the pia = a layer-specific afferent (e.g. thalamic input ending in L4).
    "poisson": {"rate_hz": 8.0, "n_inputs": 100, "weight": 0.6, "start_ms": 0.0, "stop_ms": float("inf"),
                "synapse_depth_um": None},
    # A population of n_sources independent Poisson spike sources of rate_hz, each sending its one spike
    # train to all of its targets (NEST's poisson_generator -> parrot_neurons; Potjans & Diesmann 2014
    # thalamus): shared input, correlated across targets. projections: {"POST": {rule, p/K/N_syn,
    # weight >= 0, weight_rel_sd, delay_ms, delay_sd_ms}} per target population (PROJECTION_DEFAULTS);
    # the arrivals are an excitatory synaptic current of their own (synapse_depth_um as for poisson).
    "spike_sources": {"n_sources": 100, "rate_hz": 10.0, "start_ms": 0.0, "stop_ms": float("inf"),
                      "projections": None, "synapse_depth_um": None},
    # White Gaussian current, std given per 1 ms step (Izhikevich 2003 "thalamic input"); for other dt
    # the per-step std is std * sqrt(1 ms / dt) so the input's diffusion per ms does not change.
    "gaussian": {"mean": 0.0, "std": 1.0, "start_ms": 0.0, "stop_ms": float("inf")},
}

TARGET_KEYS = ("column", "layer", "cell_type")

