"""The Potjans & Diesmann (2014) microcircuit in NEST 3: the reference build, and a replay of an exported network.

Two entry points:

* :func:`run_reference` builds the microcircuit as the reference PyNEST implementation does
  (INM-6/microcircuit-PD14-model, ``PyNEST/src/microcircuit/network.py``, ``network_params.py``,
  ``helpers.py``): populations of ``iaf_psc_exp`` created in order, "optimized" initial V_m drawn
  by NEST (``nest.random.normal`` per population), ``fixed_total_number`` connectivity (multapses
  and autapses allowed) drawn by NEST for every (target, source) pair, target-major as in
  ``__connect_neuronal_populations``, with ``nest.math.redraw`` normal weights (sign kept) and
  delays (redrawn below h/2, so that the shortest delay is one step h), one spike recorder per
  population, and background input from one ``poisson_generator`` per population (rate
  ``bg_rate * round(K_ext * K_scaling)``, weight ``PSC_ext``, delay 1.5 ms, all-to-all) or the DC
  of the same mean (``I_e``). In-degree scaling (``K_scaling != 1``) is compensated with the
  reference's formulas (``adjust_weights_and_input_to_synapse_scaling``): weights x
  1/sqrt(K_scaling), and a DC restoring the mean recurrent input lost (from the full-scale rates
  ``full_mean_rates``) and, with Poisson drive, the lost external mean. The formulas are
  reimplemented here (:func:`reference_parameters`), not imported. The thalamic input and the
  transient DC stimulus of the reference are off by default there and not provided here.
* :func:`run_exported` replays a given network exactly: N ``iaf_psc_exp`` neurons with shared
  parameters and per-neuron V_m(0) and I_e, the given synapse list (pre, post, weight, delay)
  connected as it is (``one_to_one`` on arrays of node ids, which PyNEST hands to the kernel's
  ``connect_arrays``; nothing is redrawn), and optional per-population Poisson background as in
  the reference. This runs a jaxfne-built network in NEST.

Conventions (verified with NEST 3.10): neuron i (0-based, populations contiguous in order) is NEST
node ``i + 1`` (neurons are created first after ``ResetKernel``). A spike detected by the threshold
test in the update of step k (t_k = k h to t_{k+1}) has time stamp (k + 1) h; every spike with a
stamp up to and including ``t_sim_ms`` is returned (the spike recorder needs no extra flush slice).
With ``iaf_psc_exp`` the sign of a weight selects the synapse: w >= 0 adds to I_syn_ex, w < 0 to
I_syn_in. NEST rounds delays to the grid silently; :func:`run_exported` refuses off-grid delays.
``build_s`` is the wall time from ``ResetKernel`` to after ``nest.Prepare(); nest.Cleanup()`` (as
the reference's ``connect``, so the presynaptic connection infrastructure is built in it);
``sim_s`` is the wall time of ``nest.Simulate`` alone.

Verified (NEST 3.10, 2 threads): :func:`run_reference` gives spike for spike the spikes of the
reference code itself (same seed and threads; 5 %/K 5 % Poisson and 2 %/K 25 % DC). The network it
drew (``export=True``), replayed by :func:`run_exported`, gives identical spikes with DC drive; with
Poisson drive only the same statistics, because the reference's connection draws advance NEST's
random streams before the generators draw from them. On a shared machine, NEST's OpenMP threads
busy-wait at every min-delay barrier: with another process on one of 2 cores ``Simulate`` ran up to
100x slower; ``OMP_WAIT_POLICY=PASSIVE`` (set before importing NEST) avoids that.

References
----------
Potjans TC, Diesmann M (2014) The cell-type specific cortical microcircuit: relating structure and
activity in a full-scale spiking network model. Cereb Cortex 24:785-806. doi:10.1093/cercor/bhs358
Reference code: INM-6/microcircuit-PD14-model, ``PyNEST/src/microcircuit/network.py`` (build order,
random draws, devices), ``network_params.py`` (numbers), ``helpers.py`` (synapse numbers,
PSP -> PSC, DC compensation, in-degree scaling, ``single_neuron_isi_cvs``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import numpy as np

try:
    from .nest_session import import_nest as _import_nest
    from .nest_session import nest_available
except ImportError:  # imported as a top-level module (benchmark scripts, subprocesses)
    from nest_session import import_nest as _import_nest
    from nest_session import nest_available

__all__ = [
    "CONN_PROBS", "FULL_MEAN_RATES_HZ", "FULL_NUM_NEURONS", "K_EXT", "NEURON_PARAMS", "POPULATIONS",
    "nest_available", "population_cv_isi", "population_rates", "reference_parameters", "run_exported",
    "run_reference",
]


def _frozen(a) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a


# ---- the reference's numbers (network_params.py) -------------------------------------------------
# Transcribed here a second time, on purpose, apart from jaxfne.presets.potjans_diesmann: the tests
# compare the factory's numbers with these, so a slip in either transcription fails a test.

POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
FULL_NUM_NEURONS = _frozen([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
#: Rates (spikes/s) of one full-scale reference run; used for the K-scaling DC compensation.
FULL_MEAN_RATES_HZ = _frozen([0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829])
#: Connection probabilities, rows target, columns source.
CONN_PROBS = _frozen([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
])
K_EXT = _frozen([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
PSP_EXC_MV = 0.15
G = -4.0
WEIGHT_REL_SD = 0.1
DELAY_EXC_MS = 1.5
DELAY_INH_MS = 0.75
DELAY_REL_SD = 0.5
BG_RATE_HZ = 8.0
DELAY_POISSON_MS = 1.5
V0_MEAN_MV = _frozen([-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43])
V0_SD_MV = _frozen([5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48])
RESOLUTION_MS = 0.1
#: ``iaf_psc_exp`` parameters of every neuron (C_m and tau_m are NEST's defaults in the reference).
NEURON_PARAMS = {
    "C_m": 250.0, "tau_m": 10.0, "t_ref": 2.0, "E_L": -65.0, "V_th": -50.0, "V_reset": -65.0,
    "tau_syn_ex": 0.5, "tau_syn_in": 0.5,
}
_NEURON_KEYS = tuple(NEURON_PARAMS)
DRIVES = ("poisson", "dc")
_CHUNK = 2**20  # synapses per nest.Connect call in run_exported (measured faster than 2**22)


def _set_quiet(nest) -> None:
    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:
        nest.set_verbosity("M_ERROR")


def _setup_kernel(nest, dt_ms: float, threads: int, seed: int) -> None:
    nest.ResetKernel()
    _set_quiet(nest)
    nest.local_num_threads = int(threads)
    nest.resolution = float(dt_ms)
    nest.rng_seed = int(seed)


# ---- the reference's derived parameters (helpers.py, Network.__derive_parameters) -----------------

def _psc_over_psp(C_m: float, tau_m: float, tau_syn: float) -> float:
    """pA of PSC per mV of PSP peak (reference ``postsynaptic_potential_to_current``)."""
    sub = 1.0 / (tau_syn - tau_m)
    pre = tau_m * tau_syn / C_m * sub
    frac = (tau_m / tau_syn) ** sub
    return 1.0 / (pre * (frac**tau_m - frac**tau_syn))


def _num_synapses_from_conn_probs(conn_probs, popsize1, popsize2) -> np.ndarray:
    """Unrounded synapse numbers (reference ``num_synapses_from_conn_probs``)."""
    prod = np.outer(popsize1, popsize2).astype(np.float64)
    return np.log(1.0 - conn_probs) / np.log((prod - 1.0) / prod)


def reference_parameters(scale: float, k_scale: float, drive: str = "poisson") -> dict:
    """The numbers the reference derives for ``N_scaling = scale``, ``K_scaling = k_scale``.

    Parameters
    ----------
    scale : float
        ``N_scaling``: neuron numbers ``round(full * scale)``.
    k_scale : float
        ``K_scaling``: in-degrees (recurrent and external) x k_scale, compensated as in the reference.
    drive : {"poisson", "dc"}
        ``bg_input_type``.

    Returns
    -------
    dict
        ``n_per_pop`` (int [8]); ``num_synapses`` (int [target, source], the ``fixed_total_number``
        N); ``weight_mean_pA`` ([target, source]); ``delay_mean_ms`` ([target, source]);
        ``ext_indegree`` (int [8], ``round(K_ext * k_scale)``); ``weight_ext_pA`` (float);
        ``poisson_rate_hz`` ([8], ``bg_rate * ext_indegree``; zeros with DC drive); ``dc_pA`` ([8],
        the ``I_e`` of each population); ``V0_mean_mV``, ``V0_sd_mV`` ([8]); ``weight_rel_sd``,
        ``delay_rel_sd``, ``delay_poisson_ms``, ``dt_ms`` (float); ``neuron`` (the
        ``iaf_psc_exp`` parameters).
    """
    if drive not in DRIVES:
        raise ValueError(f"drive must be one of {DRIVES}, not {drive!r}")
    if not (0.0 < scale <= 1.0 and 0.0 < k_scale <= 1.0):
        raise ValueError(f"scale and k_scale must lie in (0, 1], not {scale}, {k_scale}")
    n_full = np.asarray(FULL_NUM_NEURONS)
    tau_syn = NEURON_PARAMS["tau_syn_ex"]
    full_num_synapses = _num_synapses_from_conn_probs(CONN_PROBS, n_full, n_full)
    n_per_pop = np.round(n_full * scale).astype(int)
    num_synapses = np.round(full_num_synapses * scale * k_scale).astype(np.int64)
    ext_indegree = np.round(K_EXT * k_scale).astype(int)

    psp = np.zeros((8, 8))
    psp[:, 0::2] = PSP_EXC_MV
    psp[:, 1::2] = PSP_EXC_MV * G
    psp[0, 2] = 2.0 * PSP_EXC_MV  # L4E -> L2/3E
    ratio = _psc_over_psp(NEURON_PARAMS["C_m"], NEURON_PARAMS["tau_m"], tau_syn)
    psc = psp * ratio
    psc_ext = PSP_EXC_MV * ratio
    if drive == "poisson":
        dc = np.zeros(8)
    else:  # dc_input_compensating_poisson
        dc = BG_RATE_HZ * K_EXT * psc_ext * tau_syn * 0.001
    if k_scale != 1:  # adjust_weights_and_input_to_synapse_scaling
        indegree = full_num_synapses / n_full[:, np.newaxis]
        input_rec = np.sum(psc * indegree * FULL_MEAN_RATES_HZ, axis=1)
        dc = dc + 0.001 * tau_syn * (1.0 - math.sqrt(k_scale)) * input_rec
        if drive == "poisson":
            dc = dc + 0.001 * tau_syn * (1.0 - math.sqrt(k_scale)) * (psc_ext * K_EXT * BG_RATE_HZ)
        psc = psc / math.sqrt(k_scale)
        psc_ext = psc_ext / math.sqrt(k_scale)
    delay = np.zeros((8, 8))
    delay[:, 0::2] = DELAY_EXC_MS
    delay[:, 1::2] = DELAY_INH_MS
    rate = BG_RATE_HZ * ext_indegree if drive == "poisson" else np.zeros(8)
    return {
        "n_per_pop": n_per_pop, "num_synapses": num_synapses, "weight_mean_pA": psc,
        "delay_mean_ms": delay, "ext_indegree": ext_indegree, "weight_ext_pA": float(psc_ext),
        "poisson_rate_hz": rate.astype(np.float64), "dc_pA": np.asarray(dc, dtype=np.float64),
        "V0_mean_mV": np.array(V0_MEAN_MV), "V0_sd_mV": np.array(V0_SD_MV),
        "weight_rel_sd": WEIGHT_REL_SD, "delay_rel_sd": DELAY_REL_SD,
        "delay_poisson_ms": DELAY_POISSON_MS, "dt_ms": RESOLUTION_MS, "neuron": dict(NEURON_PARAMS),
    }


# ---- simulation ---------------------------------------------------------------------------------

def _spikes(recorders, first_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Events of all recorders as (0-based sender, time ms), sorted by time, then sender."""
    senders, times = [], []
    for rec in recorders:
        ev = rec.get("events")
        senders.append(np.asarray(ev["senders"], dtype=np.int64) - first_id)
        times.append(np.asarray(ev["times"], dtype=np.float64))
    senders = np.concatenate(senders) if senders else np.zeros(0, dtype=np.int64)
    times = np.concatenate(times) if times else np.zeros(0)
    order = np.lexsort((senders, times))
    return senders[order], times[order]


def _on_grid(values_ms: np.ndarray, h: float, what: str) -> np.ndarray:
    """``values_ms`` snapped to multiples of h (>= 1 step); raises if off the grid."""
    steps = np.rint(values_ms / h)
    if values_ms.size and (np.any(steps < 1) or np.max(np.abs(steps * h - values_ms)) > 1e-6 * h):
        raise ValueError(f"{what} must be positive multiples of dt_ms = {h} ms")
    return steps * h


def _per_neuron(a, n: int, what: str) -> np.ndarray:
    a = np.ascontiguousarray(np.broadcast_to(np.asarray(a, dtype=np.float64), (n,)))
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what} must be finite")
    return a


def run_exported(
    *,
    n_per_pop: Sequence[int],
    pre: np.ndarray,
    post: np.ndarray,
    weight_pA: np.ndarray,
    delay_ms: np.ndarray,
    V_m0: np.ndarray,
    I_e: np.ndarray,
    neuron: Mapping[str, float],
    poisson_rate_hz: np.ndarray | None,
    poisson_weight_pA: float | np.ndarray | None,
    dt_ms: float,
    t_sim_ms: float,
    threads: int = 2,
    seed: int = 1,
    poisson_delay_ms: float = DELAY_POISSON_MS,
    sources: Mapping | None = None,
) -> dict:
    """Simulate a given ``iaf_psc_exp`` network (e.g. exported from jaxfne) in NEST.

    Parameters
    ----------
    n_per_pop : sequence of int
        Population sizes; neurons are global indices 0..N-1, populations contiguous in this order.
    pre, post : array_like of int, shape (n_syn,)
        Source and target neuron index of every synapse (repeats allowed: multapses, autapses).
    weight_pA : array_like of float, shape (n_syn,)
        Synaptic weights (pA); the sign selects I_syn_ex (>= 0) or I_syn_in (< 0).
    delay_ms : array_like of float, shape (n_syn,)
        Delays (ms), positive multiples of ``dt_ms`` (checked, then used as they are).
    V_m0, I_e : array_like of float, shape (N,)
        Initial membrane potential (mV) and constant current (pA) of every neuron.
    neuron : mapping
        ``iaf_psc_exp`` parameters shared by all neurons: ``C_m``, ``tau_m``, ``t_ref``, ``E_L``,
        ``V_th``, ``V_reset``, ``tau_syn_ex``, ``tau_syn_in`` (all required).
    poisson_rate_hz : array_like of float, shape (n_pop,), or None
        Rate of one ``poisson_generator`` per population (e.g. ``K_ext * 8 Hz``), connected
        all-to-all to its population: each neuron receives an independent Poisson train. None: no
        background generators.
    poisson_weight_pA : float or array_like (n_pop,), or None
        Weight of the generator connections (scalar or per population); required with rates.
    dt_ms : float
        Resolution h (ms).
    t_sim_ms : float
        Simulated time (ms), one ``nest.Simulate`` call.
    threads : int
        ``nest.local_num_threads``.
    seed : int
        ``nest.rng_seed`` (only the Poisson generators draw random numbers).
    poisson_delay_ms : float
        Delay of the generator connections (ms), 1.5 as in the reference.
    sources : mapping, optional
        Spike sources replayed by one ``spike_generator`` each: ``n`` (number of sources),
        ``steps`` and ``source`` (a spike of source ``source[i]`` stamped ``(steps[i] + 1) h``,
        repeated entries = multiplicity), and their synapses ``pre`` (source index), ``post``
        (neuron index), ``weight_pA``, ``delay_ms`` (multiples of h).

    Returns
    -------
    dict
        ``senders`` (int64, 0-based neuron index) and ``times_ms`` (float64) of all spikes,
        sorted by time, then sender; ``build_s`` (wall s, ``ResetKernel`` to after
        ``Prepare``/``Cleanup``); ``sim_s`` (wall s of ``nest.Simulate``); ``build_cpu_s``,
        ``sim_cpu_s`` (the same as process CPU time, all threads: wall >> CPU / threads means
        the cores were shared); ``n_per_pop`` (int array); ``n_synapses`` (int, connections made
        among neurons).
    """
    nest = _import_nest()
    h = float(dt_ms)
    sizes = np.asarray(n_per_pop, dtype=np.int64)
    if sizes.ndim != 1 or sizes.size == 0 or np.any(sizes < 1):
        raise ValueError("n_per_pop must be a non-empty sequence of positive sizes")
    n = int(sizes.sum())
    bounds = np.concatenate([[0], np.cumsum(sizes)])

    pre = np.asarray(pre)
    post = np.asarray(post)
    if pre.ndim != 1 or pre.shape != post.shape:
        raise ValueError(f"pre and post must be 1-D of equal length, not {pre.shape} and {post.shape}")
    if not (np.issubdtype(pre.dtype, np.integer) and np.issubdtype(post.dtype, np.integer)):
        raise TypeError("pre and post must be integer arrays")
    m = pre.size
    if m and (min(pre.min(), post.min()) < 0 or max(pre.max(), post.max()) >= n):
        raise ValueError(f"neuron indices must lie in 0..{n - 1}")
    weight = np.ascontiguousarray(weight_pA, dtype=np.float64)
    delay = np.ascontiguousarray(delay_ms, dtype=np.float64)
    if weight.shape != (m,) or delay.shape != (m,):
        raise ValueError(f"weight_pA and delay_ms must have shape ({m},), not {weight.shape}, {delay.shape}")
    delay = _on_grid(delay, h, "delay_ms")
    V_m0 = _per_neuron(V_m0, n, "V_m0")
    I_e = _per_neuron(I_e, n, "I_e")
    missing = [k for k in _NEURON_KEYS if k not in neuron]
    extra = [k for k in neuron if k not in _NEURON_KEYS]
    if missing or extra:
        raise ValueError(f"neuron needs exactly the keys {_NEURON_KEYS} (missing {missing}, unknown {extra})")
    params = {k: float(neuron[k]) for k in _NEURON_KEYS}
    if poisson_rate_hz is not None:
        rates = np.asarray(poisson_rate_hz, dtype=np.float64)
        if rates.shape != sizes.shape or np.any(rates < 0):
            raise ValueError(f"poisson_rate_hz must hold {sizes.size} rates >= 0")
        if poisson_weight_pA is None:
            raise ValueError("poisson_weight_pA is required with poisson_rate_hz")
        w_bg = np.broadcast_to(np.asarray(poisson_weight_pA, dtype=np.float64), sizes.shape)
        d_bg = float(_on_grid(np.array([float(poisson_delay_ms)]), h, "poisson_delay_ms")[0])

    t0, c0 = time.perf_counter(), time.process_time()
    _setup_kernel(nest, h, threads, seed)
    neurons = nest.Create("iaf_psc_exp", n, params=params)
    neurons.set(V_m=V_m0, I_e=I_e)  # after E_L: NEST keeps V_m relative to E_L
    first = int(neurons[0].global_id)
    for s in range(0, m, _CHUNK):
        e = min(s + _CHUNK, m)
        # arrays of node ids with one_to_one go to the kernel's connect_arrays (no NodeCollection)
        nest.Connect(
            pre[s:e].astype(np.int64) + first,
            post[s:e].astype(np.int64) + first,
            conn_spec="one_to_one",
            syn_spec={"synapse_model": "static_synapse", "weight": weight[s:e], "delay": delay[s:e]},
        )
    if poisson_rate_hz is not None:
        generators = nest.Create("poisson_generator", sizes.size)
        generators.set(rate=rates)
        for i in range(sizes.size):
            nest.Connect(
                generators[i], neurons[int(bounds[i]):int(bounds[i + 1])], conn_spec={"rule": "all_to_all"},
                syn_spec={"synapse_model": "static_synapse", "weight": float(w_bg[i]), "delay": d_bg},
            )
    if sources is not None:
        _replay_sources(nest, sources, neurons, h)
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    nest.Prepare()
    nest.Cleanup()
    t1, c1 = time.perf_counter(), time.process_time()
    nest.Simulate(float(t_sim_ms))
    t2, c2 = time.perf_counter(), time.process_time()

    senders, times = _spikes([recorder], first)
    return {"senders": senders, "times_ms": times, "build_s": t1 - t0, "sim_s": t2 - t1,
            "build_cpu_s": c1 - c0, "sim_cpu_s": c2 - c1, "n_per_pop": sizes, "n_synapses": int(m)}


def _replay_sources(nest, sources: Mapping, neurons, h: float) -> None:
    """One ``spike_generator`` per source, repeated by a ``parrot_neuron`` (the reference's thalamic
    neurons), whose connections to the neurons are the given synapses (multapses allowed). The
    generator-to-parrot delay is one step, so a generator spike at ``k h`` leaves the parrot with
    the stamp ``(k + 1) h`` of jaxfne's step ``k``."""
    n_src = int(sources["n"])
    steps, which = np.asarray(sources["steps"], np.int64), np.asarray(sources["source"], np.int64)
    if steps.size and steps.min() < 1:
        raise ValueError("a replayed source spike in step 0 cannot pass a parrot neuron (one step of delay)")
    gens = nest.Create("spike_generator", n_src)
    parrots = nest.Create("parrot_neuron", n_src)
    for j in range(n_src):
        st, mult = np.unique(steps[which == j], return_counts=True)
        if st.size:
            gens[j].set(spike_times=(st * h).tolist(), spike_multiplicities=mult.astype(int).tolist())
    nest.Connect(gens, parrots, conn_spec="one_to_one", syn_spec={"delay": h})
    pre, post = np.asarray(sources["pre"], np.int64), np.asarray(sources["post"], np.int64)
    weight = np.ascontiguousarray(sources["weight_pA"], np.float64)
    delay = _on_grid(np.asarray(sources["delay_ms"], np.float64), h, "sources.delay_ms")
    nest.Connect(pre + int(parrots[0].global_id), post + int(neurons[0].global_id), conn_spec="one_to_one",
                 syn_spec={"synapse_model": "static_synapse", "weight": weight, "delay": delay})


def _initial_state(pops) -> dict:
    """V_m (the drawn initial values) and I_e of all neurons, in order."""
    v, i_e = [], []
    for pop in pops:
        status = pop.get(["V_m", "I_e"])
        v.append(np.atleast_1d(np.asarray(status["V_m"], dtype=np.float64)))
        i_e.append(np.atleast_1d(np.asarray(status["I_e"], dtype=np.float64)))
    return {"V_m0": np.concatenate(v), "I_e": np.concatenate(i_e)}


def _connectivity(nest, pops, first: int) -> dict:
    """All neuron -> neuron connections as (pre, post) 0-based indices, weight (pA), delay (ms)."""
    neurons = pops[0]
    for pop in pops[1:]:
        neurons = neurons + pop
    got = nest.GetConnections(source=neurons, target=neurons).get(["source", "target", "weight", "delay"])
    return {
        "pre": np.asarray(got["source"], dtype=np.int64) - first,
        "post": np.asarray(got["target"], dtype=np.int64) - first,
        "weight_pA": np.asarray(got["weight"], dtype=np.float64),
        "delay_ms": np.asarray(got["delay"], dtype=np.float64),
    }


def run_reference(
    scale: float,
    k_scale: float,
    *,
    drive: str = "poisson",
    t_sim_ms: float,
    threads: int = 2,
    seed: int = 55,
    export: bool = False,
) -> dict:
    """Build and simulate the microcircuit as the reference PyNEST code does.

    Parameters
    ----------
    scale, k_scale : float in (0, 1]
        ``N_scaling`` and ``K_scaling`` (see :func:`reference_parameters`).
    drive : {"poisson", "dc"}
        Background input: Poisson generators, or the compensating DC.
    t_sim_ms : float
        Simulated time (ms) in one ``nest.Simulate`` call (the reference's 500 ms pre-simulation
        plus 1000 ms is ``t_sim_ms = 1500``; discard the start-up transient in the analysis).
    threads : int
        ``nest.local_num_threads`` (the reference's default is 4; the random draws, hence the
        network, depend on the number of virtual processes).
    seed : int
        ``nest.rng_seed`` (the reference's default 55).
    export : bool
        Also return the network NEST drew, in :func:`run_exported`'s arguments: V_m and I_e
        read before, the connections (``GetConnections``) after ``Simulate``, outside the timings.

    Returns
    -------
    dict
        ``senders``, ``times_ms``, ``build_s``, ``sim_s``, ``build_cpu_s``, ``sim_cpu_s`` as
        :func:`run_exported`; ``n_per_pop``
        (int [8]); ``params`` (:func:`reference_parameters`); with ``export``, ``network``: a dict
        with ``pre``, ``post``, ``weight_pA``, ``delay_ms``, ``V_m0``, ``I_e``.
    """
    nest = _import_nest()
    p = reference_parameters(scale, k_scale, drive)
    sizes = p["n_per_pop"]
    if np.any(sizes < 1):
        raise ValueError(f"scale {scale} leaves a population without neurons: {sizes.tolist()}")

    t0, c0 = time.perf_counter(), time.process_time()
    _setup_kernel(nest, p["dt_ms"], threads, seed)
    # __create_neuronal_populations
    pops = []
    nrn = p["neuron"]
    for i in range(8):
        pop = nest.Create("iaf_psc_exp", int(sizes[i]))
        pop.set(
            C_m=nrn["C_m"], tau_m=nrn["tau_m"], tau_syn_ex=nrn["tau_syn_ex"], tau_syn_in=nrn["tau_syn_in"],
            E_L=nrn["E_L"], V_th=nrn["V_th"], V_reset=nrn["V_reset"], t_ref=nrn["t_ref"],
            I_e=float(p["dc_pA"][i]),
        )
        pop.set(V_m=nest.random.normal(float(p["V0_mean_mV"][i]), float(p["V0_sd_mV"][i])))
        pops.append(pop)
    first = int(pops[0][0].global_id)
    # __create_recording_devices (in memory instead of ASCII files)
    recorders = nest.Create("spike_recorder", n=8)
    # __create_poisson_bg_input
    if drive == "poisson":
        generators = nest.Create("poisson_generator", n=8)
        generators.rate = p["poisson_rate_hz"]
    # __connect_neuronal_populations
    res = nest.resolution
    for i, target in enumerate(pops):
        for j, source in enumerate(pops):
            d_mean = float(p["delay_mean_ms"][i, j])
            delay = nest.math.redraw(
                nest.random.normal(mean=d_mean, std=d_mean * p["delay_rel_sd"]),
                min=res - 0.5 * res,
                max=np.inf,
            )
            w_mean = float(p["weight_mean_pA"][i, j])
            w_min, w_max = (-np.inf, 0.0) if w_mean < 0 else (0.0, np.inf)
            syn = {
                "synapse_model": "static_synapse",
                "weight": nest.math.redraw(
                    nest.random.normal(mean=w_mean, std=abs(w_mean * p["weight_rel_sd"])), min=w_min, max=w_max
                ),
                "delay": delay,
            }
            conn = {"rule": "fixed_total_number", "N": int(p["num_synapses"][i, j])}
            nest.Connect(source, target, conn_spec=conn, syn_spec=syn)
    # __connect_recording_devices, __connect_poisson_bg_input
    for i, target in enumerate(pops):
        nest.Connect(target, recorders[i])
    if drive == "poisson":
        for i, target in enumerate(pops):
            nest.Connect(
                generators[i], target, conn_spec={"rule": "all_to_all"},
                syn_spec={"synapse_model": "static_synapse", "weight": p["weight_ext_pA"],
                          "delay": p["delay_poisson_ms"]},
            )
    nest.Prepare()
    nest.Cleanup()
    t1, c1 = time.perf_counter(), time.process_time()
    state = _initial_state(pops) if export else None
    t2, c2 = time.perf_counter(), time.process_time()
    nest.Simulate(float(t_sim_ms))
    t3, c3 = time.perf_counter(), time.process_time()

    senders, times = _spikes(recorders, first)
    out = {"senders": senders, "times_ms": times, "build_s": t1 - t0, "sim_s": t3 - t2,
           "build_cpu_s": c1 - c0, "sim_cpu_s": c3 - c2, "n_per_pop": np.array(sizes), "params": p}
    if export:
        # after Simulate: GetConnections before it makes the following Simulate many times slower
        out["network"] = {**_connectivity(nest, pops, first), **state}
    return out


# ---- analysis -----------------------------------------------------------------------------------

def _window(senders, times_ms, n_per_pop, t_start_ms: float, t_stop_ms: float):
    senders = np.asarray(senders, dtype=np.int64)
    times = np.asarray(times_ms, dtype=np.float64)
    if senders.shape != times.shape:
        raise ValueError("senders and times_ms must have the same shape")
    if not t_stop_ms > t_start_ms:
        raise ValueError(f"need t_stop_ms > t_start_ms, not [{t_start_ms}, {t_stop_ms})")
    sizes = np.asarray(n_per_pop, dtype=np.int64)
    if senders.size and (senders.min() < 0 or senders.max() >= sizes.sum()):
        raise ValueError(f"senders must lie in 0..{int(sizes.sum()) - 1}")
    keep = (times >= t_start_ms) & (times < t_stop_ms)
    return senders[keep], times[keep], sizes, int(sizes.sum())


def population_rates(senders, times_ms, n_per_pop, t_start_ms: float, t_stop_ms: float) -> np.ndarray:
    """Mean firing rate (Hz) of each population over ``[t_start_ms, t_stop_ms)``.

    Parameters
    ----------
    senders : array_like of int
        0-based neuron index of every spike (populations contiguous in ``n_per_pop`` order).
    times_ms : array_like of float
        Spike times (ms).
    n_per_pop : sequence of int
        Population sizes.
    t_start_ms, t_stop_ms : float
        Window; a spike counts if ``t_start_ms <= t < t_stop_ms``.

    Returns
    -------
    numpy.ndarray, shape (n_pop,)
        Spikes in the window / (population size x window length), silent neurons included (as
        the reference's ``firing_rates``).
    """
    s, _, sizes, n = _window(senders, times_ms, n_per_pop, t_start_ms, t_stop_ms)
    per_neuron = np.bincount(s, minlength=n)[:n]
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    counts = np.add.reduceat(per_neuron, bounds[:-1]) if n else np.zeros(0)
    return counts / (sizes * (t_stop_ms - t_start_ms) * 1e-3)


def population_cv_isi(
    senders, times_ms, n_per_pop, t_start_ms: float, t_stop_ms: float, min_spikes: int = 2
) -> np.ndarray:
    """Mean coefficient of variation of the inter-spike intervals of each population.

    Rule (the reference's ``helpers.single_neuron_isi_cvs`` with ``min_spikes = 2``): a neuron
    enters if it fired more than ``min_spikes`` spikes (i.e. at least ``min_spikes + 1``, so at
    least ``min_spikes`` ISIs) in ``[t_start_ms, t_stop_ms)``; its CV is ``std(ISI) / mean(ISI)``
    with the population standard deviation (ddof 0), from the ISIs between its spikes in the
    window; the population value is the unweighted mean over the neurons that enter.

    Parameters
    ----------
    senders, times_ms, n_per_pop, t_start_ms, t_stop_ms
        As in :func:`population_rates`.
    min_spikes : int
        A neuron needs more than this many spikes in the window.

    Returns
    -------
    numpy.ndarray, shape (n_pop,)
        Mean CV per population; ``nan`` where no neuron enters.
    """
    s, t, sizes, n = _window(senders, times_ms, n_per_pop, t_start_ms, t_stop_ms)
    order = np.lexsort((t, s))
    s, t = s[order], t[order]
    same = s[1:] == s[:-1]
    isi = np.diff(t)[same]
    owner = s[1:][same]
    k = np.bincount(owner, minlength=n).astype(np.float64)  # ISIs per neuron
    mean = np.bincount(owner, weights=isi, minlength=n) / np.maximum(k, 1)
    var = np.bincount(owner, weights=(isi - mean[owner]) ** 2, minlength=n) / np.maximum(k, 1)
    spikes = np.bincount(s, minlength=n)
    ok = spikes > min_spikes
    cv = np.sqrt(var) / np.where(mean > 0, mean, np.nan)
    pop = np.repeat(np.arange(sizes.size), sizes)
    out = np.full(sizes.size, np.nan)
    for i in range(sizes.size):
        sel = ok & (pop == i)
        if sel.any():
            out[i] = float(np.mean(cv[sel]))
    return out
