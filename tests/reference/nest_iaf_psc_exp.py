"""NEST 3 ``iaf_psc_exp`` driven by replayed input, in the layout of :mod:`iaf_psc_exp_numpy`.

Timing (resolution h, connection delay d = D h, default d = h; verified with NEST 3.10):

* Recording. A spike detected by the threshold test at the end of step k (the update from
  t_k = k h to t_{k+1}) has NEST spike time (k+1) h; a multimeter with ``interval = h``
  records the end-of-step-k state, after the reset, with time stamp (k+1) h. So
  ``k = round(t / h) - 1`` for both.
* ``spike_generator``. A spike at time t = T h (on the grid, t > 0) with weight w reaches the
  ring-buffer slot read in step ``k = T + D - 1 = round((t + d) / h) - 1``: w is added to
  I_syn after that step's decay (``I_syn_*[k]`` shows it) and moves V_m from step k + 1 on.
  The earliest reachable step is k = D (t = h). Weights with w >= 0 go to I_syn_ex, w < 0 to
  I_syn_in, whichever generator sent them. Spikes of the same step add up.
* ``dc_generator`` / ``step_current_generator``. In its step s the generator evaluates its
  amplitude at the stamp S = s + 1 (time S h): a dc_generator gives ``amplitude`` if
  ``start <= S h < stop``, a step_current_generator the value of the last
  ``amplitude_times`` entry <= S h (0 before the first; times must be > 0). That current acts
  on V_m during step ``k = S + D`` (the neuron stores it as i_0 at the end of step k - 1).
  Hence ``i_ext[k] = amp((k - D) h)`` for k >= D + 1 and 0 for k <= D; with d = h a current
  switched on at time t acts from step t/h + 1, i.e. from t + h on, and no generator can
  reach steps 0 .. D.
* ``I_e`` (parameter) acts from step 0.

Multimeter data of the last min-delay slice is only handed over by the following
``Simulate`` call, so :func:`run_nest` simulates one extra min delay and discards it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

try:
    from .iaf_psc_exp_numpy import full_params, grid_step_ms
    from .nest_session import import_nest as _import_nest, nest_available as nest_available
except ImportError:  # imported as a top-level module
    from iaf_psc_exp_numpy import full_params, grid_step_ms
    from nest_session import import_nest as _import_nest, nest_available as nest_available


def _delay_steps(delay_ms: float | None, h: float) -> int:
    """Connection delay in steps (default one step); raises if off the grid or < 1 step."""
    if delay_ms is None:
        return 1
    D = int(round(delay_ms / h))
    if D < 1 or abs(D * h - delay_ms) > 1e-9:
        raise ValueError(f"delay_ms = {delay_ms} must be a positive multiple of the resolution {h} ms")
    return D


def _grid_steps(times_ms, h: float, what: str) -> np.ndarray:
    """Times (ms) as integer step numbers round(t / h); raises if off the grid or <= 0."""
    t = np.atleast_1d(np.asarray(times_ms, dtype=np.float64))
    steps = np.round(t / h).astype(np.int64)
    if np.any(np.abs(steps * h - t) > 1e-9) or np.any(steps < 1):
        raise ValueError(f"{what} must be positive multiples of the resolution {h} ms")
    return steps


def _spike_list(times_ms, weights, h: float, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(grid steps, weights in pA) of one replayed spike train, weights broadcast to the times."""
    if times_ms is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    steps = _grid_steps(times_ms, h, f"spike_times_ms_{what}")
    if weights is None:
        raise ValueError(f"weights_{what} is required with spike_times_ms_{what}")
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), steps.shape).copy()
    return steps, w


def nest_input_to_steps(
    n_steps: int,
    dt_ms: float,
    *,
    spike_times_ms_ex=None,
    weights_ex=None,
    spike_times_ms_in=None,
    weights_in=None,
    dc_pA: float = 0.0,
    step_current=None,
    delay_ms: float | None = None,
) -> dict[str, np.ndarray]:
    """Per-step inputs of :func:`iaf_psc_exp_numpy.simulate` equivalent to a NEST input spec.

    Parameters
    ----------
    n_steps : int
        Number of steps simulated.
    dt_ms : float
        Resolution h (ms).
    spike_times_ms_ex, spike_times_ms_in : array_like, optional
        Spike times (ms, on the grid, > 0) of the two ``spike_generator`` s; repeats allowed.
    weights_ex, weights_in : float or array_like
        Weight (pA) of each spike (scalar: all spikes). The sign decides the synapse.
    dc_pA : float
        Amplitude (pA) of a ``dc_generator`` with start 0 and no stop (0: none).
    step_current : (amplitude_times_ms, amplitude_values_pA), optional
        A ``step_current_generator``.
    delay_ms : float, optional
        Delay of every generator connection (ms), default h.

    Returns
    -------
    dict
        ``i_ext_pA``, ``w_ex_pA``, ``w_in_pA``: float arrays [n_steps] (see the module
        docstring for the mapping). Spikes reaching step n_steps or later are dropped.
    """
    h = grid_step_ms(dt_ms)
    D = _delay_steps(delay_ms, h)
    w_ex = np.zeros(n_steps)
    w_in = np.zeros(n_steps)
    trains = (("ex", spike_times_ms_ex, weights_ex), ("in", spike_times_ms_in, weights_in))
    for what, times, weights in trains:
        steps, w = _spike_list(times, weights, h, what)
        order = np.argsort(steps, kind="stable")  # delivery order within a step
        k = steps[order] + D - 1
        w = w[order]
        keep = k < n_steps
        k, w = k[keep], w[keep]
        np.add.at(w_ex, k[w >= 0.0], w[w >= 0.0])
        np.add.at(w_in, k[w < 0.0], w[w < 0.0])

    i_ext = np.zeros(n_steps)
    S = np.arange(n_steps) - D  # stamp whose generator amplitude acts in step k
    reachable = S >= 1
    if dc_pA:
        i_ext[reachable] += float(dc_pA)
    if step_current is not None:
        amp_times, amp_values = step_current
        amp_steps = _grid_steps(amp_times, h, "step_current amplitude_times")
        values = np.atleast_1d(np.asarray(amp_values, dtype=np.float64))
        if amp_steps.shape != values.shape or np.any(np.diff(amp_steps) <= 0):
            raise ValueError("step_current needs strictly increasing times and one value per time")
        idx = np.searchsorted(amp_steps, S, side="right") - 1  # last amplitude time <= S h
        active = reachable & (idx >= 0)
        i_ext[active] += values[idx[active]]
    return {"i_ext_pA": i_ext, "w_ex_pA": w_ex, "w_in_pA": w_in}


def steps_to_nest_input(
    w_ex_pA, w_in_pA, dt_ms: float, *, delay_ms: float | None = None
) -> dict[str, np.ndarray]:
    """Spike-generator spec replaying per-step weights (inverse of :func:`nest_input_to_steps`).

    Parameters
    ----------
    w_ex_pA, w_in_pA : array_like [n_steps]
        Summed weights (pA) arriving in each step, >= 0 and <= 0 respectively.
    dt_ms : float
        Resolution h (ms).
    delay_ms : float, optional
        Connection delay (ms), default h.

    Returns
    -------
    dict
        ``spike_times_ms_ex``, ``weights_ex``, ``spike_times_ms_in``, ``weights_in``: one spike
        per nonzero step k, at t = (k + 1 - D) h.

    Raises
    ------
    ValueError
        For a nonzero weight in steps 0 .. D-1, which no spike_generator can reach.
    """
    h = grid_step_ms(dt_ms)
    D = _delay_steps(delay_ms, h)
    out = {}
    for what, w in (("ex", w_ex_pA), ("in", w_in_pA)):
        w = np.asarray(w, dtype=np.float64)
        k = np.flatnonzero(w)
        if k.size and k[0] < D:
            raise ValueError(f"w_{what}_pA is nonzero in step {k[0]} < {D} (delay steps): NEST cannot deliver it")
        out[f"spike_times_ms_{what}"] = (k + 1 - D) * h
        out[f"weights_{what}"] = w[k]
    return out


def _set_quiet(nest) -> None:
    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:
        nest.set_verbosity("M_ERROR")


def run_nest(
    params: Mapping[str, float] | Sequence[Mapping[str, float]] | None,
    n_steps: int,
    dt_ms: float,
    *,
    spike_times_ms_ex=None,
    weights_ex=None,
    spike_times_ms_in=None,
    weights_in=None,
    dc_pA: float = 0.0,
    step_current=None,
    V0: float | None = None,
    threads: int = 1,
    delay_ms: float | None = None,
) -> dict:
    """Simulate ``iaf_psc_exp`` neuron(s) in NEST on replayed input.

    Parameters
    ----------
    params : mapping, sequence of mappings, or None
        NEST parameters of one neuron, or one mapping per neuron (all neurons receive the
        same input). Missing parameters take the NEST defaults.
    n_steps : int
        Steps to simulate (n_steps h ms).
    dt_ms : float
        Resolution h (ms).
    spike_times_ms_ex, weights_ex, spike_times_ms_in, weights_in, dc_pA, step_current, delay_ms
        Input spec, as in :func:`nest_input_to_steps`.
    V0 : float, optional
        Initial V_m (mV) of every neuron; default each neuron's E_L.
    threads : int
        ``nest.local_num_threads``.

    Returns
    -------
    dict
        For one mapping: ``spike_steps`` (int array), ``V_m`` (mV), ``I_syn_ex``,
        ``I_syn_in`` (pA) float arrays [n_steps], as :func:`iaf_psc_exp_numpy.simulate`.
        For a sequence: ``spike_steps`` a list of arrays, the others [n_neurons, n_steps].
    """
    nest = _import_nest()
    single = params is None or isinstance(params, Mapping)
    plist = [full_params(params)] if single else [full_params(p) for p in params]
    h = grid_step_ms(dt_ms)
    D = _delay_steps(delay_ms, h)

    nest.ResetKernel()
    _set_quiet(nest)
    nest.resolution = h
    nest.local_num_threads = int(threads)

    neurons = nest.Create("iaf_psc_exp", len(plist))
    # every parameter explicitly, so that NEST stores V_th - E_L etc. from the given values
    neurons.set([dict(p, V_m=p["E_L"] if V0 is None else float(V0)) for p in plist])
    syn = {"weight": 1.0, "delay": D * h}
    trains = (("ex", spike_times_ms_ex, weights_ex), ("in", spike_times_ms_in, weights_in))
    for what, times, weights in trains:
        steps, w = _spike_list(times, weights, h, what)
        if steps.size:
            order = np.argsort(steps, kind="stable")
            gen = nest.Create(
                "spike_generator", params={"spike_times": steps[order] * h, "spike_weights": w[order]}
            )
            nest.Connect(gen, neurons, syn_spec=syn)
    if dc_pA:
        nest.Connect(nest.Create("dc_generator", params={"amplitude": float(dc_pA)}), neurons, syn_spec=syn)
    if step_current is not None:
        amp_times, amp_values = step_current
        scg = nest.Create(
            "step_current_generator",
            params={
                "amplitude_times": _grid_steps(amp_times, h, "step_current amplitude_times") * h,
                "amplitude_values": np.atleast_1d(np.asarray(amp_values, dtype=np.float64)),
            },
        )
        nest.Connect(scg, neurons, syn_spec=syn)
    mm = nest.Create("multimeter", params={"interval": h, "record_from": ["V_m", "I_syn_ex", "I_syn_in"]})
    sr = nest.Create("spike_recorder")
    nest.Connect(mm, neurons)
    nest.Connect(neurons, sr)

    nest.Simulate(n_steps * h)
    nest.Simulate(max(float(nest.GetKernelStatus("min_delay")), h))  # flush the last slice

    return _collect(mm.events, sr.events, neurons.tolist(), n_steps, h, single)


def _collect(mm_ev: dict, sr_ev: dict, ids: list[int], n_steps: int, h: float, single: bool) -> dict:
    """Recorder events as per-neuron arrays indexed by step k = round(t / h) - 1 < n_steps."""
    col = {gid: j for j, gid in enumerate(ids)}
    out = {key: np.full((len(ids), n_steps), np.nan) for key in ("V_m", "I_syn_ex", "I_syn_in")}
    k = np.round(np.asarray(mm_ev["times"]) / h).astype(np.int64) - 1
    rows = np.array([col[int(s)] for s in mm_ev["senders"]], dtype=np.int64)
    keep = (k >= 0) & (k < n_steps)
    for key in out:
        out[key][rows[keep], k[keep]] = np.asarray(mm_ev[key])[keep]
    if np.isnan(out["V_m"]).any():
        raise RuntimeError("the multimeter did not record every step")
    ks = np.round(np.asarray(sr_ev["times"]) / h).astype(np.int64) - 1
    senders = np.asarray(sr_ev["senders"]).astype(np.int64)
    spikes = [np.sort(ks[(senders == gid) & (ks < n_steps)]) for gid in ids]
    if single:
        return {"spike_steps": spikes[0], **{key: v[0] for key, v in out.items()}}
    return {"spike_steps": spikes, **out}
