"""The Izhikevich 2003 network (``net.m``) in Brian2, with the published numerics.

Brian2's example port (``examples/frompapers/Izhikevich_2003.py``) integrates with a single
1 ms Euler step. Here the update of ``net.m`` is written out instead: v and u are plain
(non-differential) variables and one ``run_regularly`` operation per 1 ms step, in the
``groups`` slot, does what Brian2's state updater would do::

    I = sigma * randn() + I_syn                      # thalamic noise + this step's spikes
    v += 0.5 * (0.04 v**2 + 5 v + 140 - u + I)       # two 0.5 ms half-steps of v
    v += 0.5 * (0.04 v**2 + 5 v + 140 - u + I)
    u += a * (b v - u)                               # one 1 ms step of u, new v
    I_syn = 0

Brian2's schedule then runs ``thresholds`` (v >= 30), ``synapses`` (``I_syn_post += w`` with
zero delay, so the input is used in the next step's update) and ``resets`` (v <- c,
u <- u + d) in the same step. That is ``net.m``'s order shifted by half a step: ``net.m``
detects, resets and adds ``S[:, fired]`` at the start of step k + 1, Brian2 does the same at
the end of step k, and nothing happens in between. A spike at Brian2 time ``t`` is therefore
``net.m``'s (0-based) step ``t/ms + 1``.

The network instance comes from :func:`izhikevich2003_net.make_network` with the same seed;
only the noise stream differs from the numpy port.

Brian2 2.9 does not import with numpy >= 2.4; the module is then run in a separate
environment as a script (``python brian2_izhikevich2003.py --device cpp_standalone ...``),
which prints its result as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

try:
    from .izhikevich2003_net import make_network, population_rates
except ImportError:  # run as a script or imported as a top-level module
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from izhikevich2003_net import make_network, population_rates

NEURON_EQUATIONS = """
v : 1
u : 1
I_syn : 1
a : 1 (constant)
b : 1 (constant)
c : 1 (constant)
d : 1 (constant)
sigma : 1 (constant)
"""

HALF_STEP_UPDATE = """
I = sigma * randn() + I_syn
v += 0.5 * (0.04 * v**2 + 5 * v + 140 - u + I)
v += 0.5 * (0.04 * v**2 + 5 * v + 140 - u + I)
u += a * (b * v - u)
I_syn = 0
"""


def run_brian2(
    n_exc: int = 800,
    n_inh: int = 200,
    duration_ms: int = 1000,
    seed: int = 0,
    device: str = "runtime",
    threads: int = 2,
    directory: str | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[float, float], dict[str, float]]:
    """Simulate the ``net.m`` network in Brian2.

    Parameters
    ----------
    n_exc, n_inh : int
        Numbers of excitatory and inhibitory neurons.
    duration_ms : int
        Simulated time (ms), dt = 1 ms.
    seed : int
        Seed of the network draws (numpy) and of Brian2's random numbers (the noise).
    device : {"runtime", "cpp_standalone"}
        ``runtime`` generates Cython code (cached on disk after the first run);
        ``cpp_standalone`` writes, compiles and runs a C++ project.
    threads : int
        OpenMP threads of the ``cpp_standalone`` device (ignored by ``runtime``).
    directory : str, optional
        Project directory of ``cpp_standalone`` (a temporary one by default).

    Returns
    -------
    spike_steps, spike_neurons : numpy.ndarray of int64, shape (spike,)
        ``net.m`` step index of every spike and its 0-based neuron, sorted by step.
    rates_hz_exc_inh : tuple of float
        Mean rates (Hz) of the two populations over ``duration_ms``.
    timings : dict
        Wall seconds. ``runtime``: ``"build"`` (objects and synapses), ``"simulate"``
        (``Network.run``, code generation with a warm Cython cache included).
        ``cpp_standalone``: ``"build"`` (objects, code generation and compilation),
        ``"simulate"`` (the simulation loop as timed by the binary), ``"process"`` (the
        binary's whole run: loading arrays, simulating, writing results).
    """
    if device not in ("runtime", "cpp_standalone"):
        raise ValueError(f"device={device!r}: allowed are 'runtime' and 'cpp_standalone'")
    import brian2 as b2

    network, _ = make_network(n_exc, n_inh, seed)
    n = n_exc + n_inh
    b2.start_scope()
    b2.device.reinit()
    b2.device.activate()
    if device == "cpp_standalone":
        tmp = None
        if directory is None:
            tmp = tempfile.mkdtemp(prefix="brian2_izh2003_")
            directory = tmp
        b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = int(threads)
    else:
        b2.set_device("runtime")
        b2.prefs.codegen.target = "cython"
    b2.defaultclock.dt = 1 * b2.ms
    b2.seed(seed)

    t0 = time.perf_counter()
    group = b2.NeuronGroup(
        n, NEURON_EQUATIONS, threshold="v >= 30", reset="v = c\nu += d", method=None
    )
    group.a = network.a
    group.b = network.b
    group.c = network.c
    group.d = network.d
    group.sigma = network.noise_std
    group.v = -65.0
    group.u = network.b * -65.0
    group.I_syn = 0.0
    group.run_regularly(HALF_STEP_UPDATE, dt=1 * b2.ms, when="groups")
    # S[post, pre] -> one synapse per (pre, post) pair, autapses included as in net.m.
    post, pre = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    synapses = b2.Synapses(group, group, "w : 1 (constant)", on_pre="I_syn_post += w")
    synapses.connect(i=pre.ravel(), j=post.ravel())
    synapses.w = network.S.ravel()
    monitor = b2.SpikeMonitor(group)
    net = b2.Network(group, synapses, monitor)

    timings: dict[str, float] = {}
    if device == "cpp_standalone":
        net.run(duration_ms * b2.ms)
        b2.device.build(directory=directory, compile=True, run=False, with_output=False)
        t1 = time.perf_counter()
        b2.device.run(directory=directory, with_output=False)
        t2 = time.perf_counter()
        timings = {
            "build": t1 - t0,
            "simulate": float(b2.device._last_run_time),
            "process": t2 - t1,
        }
    else:
        t1 = time.perf_counter()
        net.run(duration_ms * b2.ms)
        t2 = time.perf_counter()
        timings = {"build": t1 - t0, "simulate": t2 - t1}

    times = np.rint(np.asarray(monitor.t / b2.ms)).astype(np.int64) + 1
    senders = np.asarray(monitor.i[:], dtype=np.int64)
    keep = times < duration_ms
    times, senders = times[keep], senders[keep]
    order = np.lexsort((senders, times))
    times, senders = times[order], senders[order]
    if device == "cpp_standalone":
        b2.device.reinit()
        b2.device.activate()
        b2.set_device("runtime")
    return times, senders, population_rates(senders, n_exc, n_inh, duration_ms), timings


def main(argv: list[str] | None = None) -> None:
    """Command line: run once and print ``{"rates_hz": [E, I], "timings": {...}}`` as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-exc", type=int, default=800)
    parser.add_argument("--n-inh", type=int, default=200)
    parser.add_argument("--duration-ms", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["runtime", "cpp_standalone"], default="runtime")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--spikes", help="optional .npz path for spike_steps/spike_neurons")
    args = parser.parse_args(argv)
    steps, neurons, rates, timings = run_brian2(
        args.n_exc, args.n_inh, args.duration_ms, args.seed, args.device, args.threads
    )
    if args.spikes:
        np.savez(args.spikes, spike_steps=steps, spike_neurons=neurons)
    import brian2

    print(
        json.dumps(
            {
                "rates_hz": list(rates),
                "timings": timings,
                "n_spikes": int(steps.size),
                "brian2": brian2.__version__,
                "numpy": np.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
