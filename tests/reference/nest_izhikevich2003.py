"""The Izhikevich 2003 network (``net.m``) in NEST, with the published numerics.

NEST's ``izhikevich`` model with ``consistent_integration=False`` advances, in each step of
h = 1 ms (``models/izhikevich.cpp``)::

    v += h/2 (0.04 v^2 + 5 v + 140 - u + I + I_syn)   # twice
    u += h a (b v - u)                                # with the new v
    if v >= V_th: v <- c; u <- u + d; emit a spike
    I <- current arriving in this step (used from the next step on)

where ``I_syn`` is the sum of the weights of the spikes arriving in this step. This is
``net.m``'s scheme: a spike detected at the end of step k is delivered, with the minimal
delay of 1 ms, in step k + 1, which is exactly when ``net.m`` detects it (at the start of the
next step), resets the neuron and adds ``S[:, fired]`` to the input. The reset happens at the
end of step k in NEST and at the start of step k + 1 in ``net.m``; nothing happens in between,
so the trajectories are the same. (``consistent_integration=True``, NEST's default, is a
plain forward Euler step of v and u from the old values, which fires faster.)

Thalamic input: one ``noise_generator`` per population, ``std`` = 5 (E) or 2 (I), ``dt`` =
1 ms, ``mean`` = 0. A noise_generator draws an independent amplitude for each target every
``dt`` and holds it for ``dt`` (``models/noise_generator.cpp``), so with ``dt`` equal to the
1 ms resolution every neuron receives a fresh ``std * N(0, 1)`` in every step, the same
distribution as ``net.m``'s ``I = [5*randn(Ne,1); 2*randn(Ni,1)]``. Current events travel
with a 1 ms delay and the neuron uses the current of a step from the following step on; this
shifts the i.i.d. noise sequence in time but does not change its statistics. No values are
pre-drawn, so no 1000 x T array of currents has to be built and sent.

The network instance (a, b, c, d and the weights S) is drawn by
:func:`izhikevich2003_net.make_network` with the same seed, so NEST, Brian2 and the numpy
port simulate the same network; only the noise streams differ.

References
----------
Izhikevich EM (2003) Simple model of spiking neurons. IEEE Trans Neural Netw 14:1569-1572.
NEST ``izhikevich`` model documentation: published numerics vs. ``consistent_integration``.
"""

from __future__ import annotations

import time

import numpy as np

try:
    from .izhikevich2003_net import make_network, population_rates
    from .nest_session import import_nest as _import_nest, nest_available as nest_available
except ImportError:  # imported as a top-level module (benchmark scripts, subprocesses)
    from izhikevich2003_net import make_network, population_rates
    from nest_session import import_nest as _import_nest, nest_available as nest_available


def _connect_replay(nest, neurons, thalamic: np.ndarray, duration_ms: int) -> None:
    """One step_current_generator per neuron playing ``thalamic[s]`` into step s."""
    n = len(neurons)
    if thalamic.shape != (duration_ms, n):
        raise ValueError(f"thalamic has shape {thalamic.shape}, expected {(duration_ms, n)}")
    if np.any(thalamic[:2] != 0.0):
        raise ValueError("thalamic[0] and thalamic[1] must be zero: NEST cannot deliver them")
    times = np.arange(1, duration_ms - 1, dtype=float)  # amplitude at t feeds step t + 1
    generators = nest.Create("step_current_generator", n)
    generators.set(
        [
            {"amplitude_times": times, "amplitude_values": thalamic[2:, j]}
            for j in range(n)
        ]
    )
    nest.Connect(generators, neurons, "one_to_one", {"delay": 1.0})


def run_nest(
    n_exc: int = 800,
    n_inh: int = 200,
    duration_ms: int = 1000,
    seed: int = 0,
    threads: int = 2,
    consistent_integration: bool = False,
    thalamic: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[float, float], dict[str, float]]:
    """Simulate the ``net.m`` network in NEST.

    Parameters
    ----------
    n_exc, n_inh : int
        Numbers of excitatory and inhibitory neurons.
    duration_ms : int
        Simulated time (ms); resolution 1 ms.
    seed : int
        Seed of the network draws (numpy) and, plus one, NEST's ``rng_seed`` (the noise).
    threads : int
        ``local_num_threads`` of the NEST kernel.
    consistent_integration : bool
        False (default) for the published half-step scheme, True for NEST's forward Euler.
    thalamic : numpy.ndarray, shape (time, neuron), optional
        Replay this per-step input (``net.m``'s ``I`` before the synaptic sums) instead of
        drawing noise: one ``step_current_generator`` per neuron. A generator's amplitude
        set at time t ms reaches the neuron's integration of step t + 1 (1 ms delay, then the
        neuron's one-step current latency), and NEST only accepts t > 0, so rows 0 and 1
        must be zero.

    Returns
    -------
    spike_steps : numpy.ndarray of int64, shape (spike,)
        Spike times in ms (= ``net.m`` step index at which the crossing is detected), sorted.
    spike_neurons : numpy.ndarray of int64, shape (spike,)
        0-based neuron index of each spike (``0..n_exc-1`` excitatory).
    rates_hz_exc_inh : tuple of float
        Mean rates (Hz) of the two populations over ``duration_ms``.
    timings : dict
        Wall seconds: ``"build"`` (kernel set-up, nodes, the all-to-all connections) and
        ``"simulate"`` (``nest.Simulate``).
    """
    nest = _import_nest()
    network, _ = make_network(n_exc, n_inh, seed)
    n = n_exc + n_inh

    t0 = time.perf_counter()
    nest.ResetKernel()
    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.WARNING
    nest.SetKernelStatus(
        {"resolution": 1.0, "local_num_threads": int(threads), "rng_seed": int(seed) + 1}
    )
    neurons = nest.Create("izhikevich", n)
    neurons.set(
        a=network.a.tolist(),
        b=network.b.tolist(),
        c=network.c.tolist(),
        d=network.d.tolist(),
        V_m=[-65.0] * n,
        U_m=(network.b * -65.0).tolist(),
        I_e=[0.0] * n,
        V_th=[30.0] * n,
        consistent_integration=[bool(consistent_integration)] * n,
    )
    # Weights as a (post, pre) matrix: NEST's all_to_all takes weight[target, source].
    nest.Connect(
        neurons,
        neurons,
        {"rule": "all_to_all", "allow_autapses": True},
        {"synapse_model": "static_synapse", "weight": network.S, "delay": 1.0},
    )
    if thalamic is None:
        for population, std in ((neurons[:n_exc], 5.0), (neurons[n_exc:], 2.0)):
            if len(population) == 0:
                continue
            noise = nest.Create("noise_generator", params={"mean": 0.0, "std": std, "dt": 1.0})
            nest.Connect(noise, population, "all_to_all", {"delay": 1.0})
    else:
        _connect_replay(nest, neurons, np.asarray(thalamic, dtype=float), int(duration_ms))
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    t1 = time.perf_counter()
    nest.Simulate(float(duration_ms))
    t2 = time.perf_counter()

    events = recorder.get("events")
    times = np.rint(np.asarray(events["times"], dtype=float)).astype(np.int64)
    senders = np.asarray(events["senders"], dtype=np.int64) - neurons[0].global_id
    # net.m records a crossing at the start of the next step; one in the last step falls
    # outside [0, duration_ms) and is not counted.
    keep = times < duration_ms
    times, senders = times[keep], senders[keep]
    order = np.lexsort((senders, times))
    times, senders = times[order], senders[order]
    rates = population_rates(senders, n_exc, n_inh, duration_ms)
    return times, senders, rates, {"build": t1 - t0, "simulate": t2 - t1}
