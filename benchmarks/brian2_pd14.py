"""Replay an exported ``iaf_psc_exp`` network in Brian2 ``cpp_standalone`` (the Brian2 row of
``benchmarks/potjans_diesmann.py``).

It runs under an interpreter that has Brian2 (``benchmarks/brian2_env.py``: Brian2 2.9 does not
import with numpy >= 2.4, so it lives in an environment of its own, set up as benchmarks/README.md
says) and imports nothing of jaxfne. The network is read from an ``.npz`` written by
``tests.reference.pd14_export`` (synapse list as jaxfne drew it, weights in pA, delays on the grid,
V_m(0), I_e, the shared neuron parameters, one Poisson background per population): nothing is
redrawn except the background noise.

The model is NEST's ``iaf_psc_exp`` written in Brian2's equations: a membrane with two exponential
current synapses, integrated with ``method="exact"``, threshold ``v >= V_th``, reset to ``V_reset``
and clamped for ``t_ref``; a synapse of weight w >= 0 adds w to ``I_ex``, w < 0 to ``I_in``, after
its own delay. The background is one ``PoissonInput`` per population (``N`` inputs of ``rate`` each,
weight ``PSC_ext``: Brian2 draws a binomial count per neuron and step), as in Brian2 ports of the
model (Shimoura et al. 2018, ReScience 4:2).

Timing: ``sim_s`` is Brian2's own measure of the run loop (``device._last_run_time``, wall time of
the compiled network's ``run``); ``build_s`` the rest of the wall time (code generation, C++ compile,
building the synapses in the binary, writing results). Result: ``OUT.npz`` with the spikes
(``senders``, 0-based, and ``times_ms``) and a JSON line ``RESULT {...}`` on stdout.

Usage::

    /tmp/bench-venv/bin/python benchmarks/brian2_pd14.py NET.npz OUT.npz --t-ms 2000 --threads 2
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time

import numpy as np


def build_and_run(net: dict, t_ms: float, threads: int, seed: int, build_dir: str) -> dict:
    import brian2 as b2
    from brian2 import Hz, ms, mV, pA, pF

    b2.set_device("cpp_standalone", directory=build_dir)
    b2.prefs.devices.cpp_standalone.openmp_threads = int(threads)
    b2.seed(seed)
    dt = float(net["dt_ms"])
    b2.defaultclock.dt = dt * ms
    p = {k: float(net[f"neuron_{k}"]) for k in ("C_m", "tau_m", "t_ref", "E_L", "V_th", "V_reset", "tau_syn_ex",
                                                 "tau_syn_in")}
    namespace = {"C_m": p["C_m"] * pF, "tau_m": p["tau_m"] * ms, "E_L": p["E_L"] * mV, "V_th": p["V_th"] * mV,
                 "V_reset": p["V_reset"] * mV, "tau_ex": p["tau_syn_ex"] * ms, "tau_in": p["tau_syn_in"] * ms}
    eqs = """
    dv/dt = (E_L - v) / tau_m + (I_ex + I_in + I_e) / C_m : volt (unless refractory)
    dI_ex/dt = -I_ex / tau_ex : amp
    dI_in/dt = -I_in / tau_in : amp
    I_e : amp (constant)
    """
    sizes = np.asarray(net["n_per_pop"], np.int64)
    n = int(sizes.sum())
    neurons = b2.NeuronGroup(n, eqs, threshold="v >= V_th", reset="v = V_reset", refractory=p["t_ref"] * ms,
                             method="exact", namespace=namespace)
    neurons.v = np.asarray(net["V_m0"], float) * mV
    neurons.I_e = np.asarray(net["I_e"], float) * pA
    w = np.asarray(net["weight_pA"], float)
    objects = [neurons]
    for name, sel in (("I_ex", w >= 0), ("I_in", w < 0)):
        syn = b2.Synapses(neurons, neurons, "w : amp (constant)", on_pre=f"{name}_post += w", name=f"syn_{name}")
        syn.connect(i=np.asarray(net["pre"])[sel].astype(np.int32), j=np.asarray(net["post"])[sel].astype(np.int32))
        syn.w = w[sel] * pA
        syn.delay = np.asarray(net["delay_ms"], float)[sel] * ms
        objects.append(syn)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    for i in range(sizes.size):
        objects.append(b2.PoissonInput(neurons[int(bounds[i]):int(bounds[i + 1])], "I_ex",
                                       N=int(net["poisson_n_inputs"][i]), rate=float(net["poisson_input_rate_hz"][i]) * Hz,
                                       weight=float(net["poisson_weight_pA"]) * pA))
    spikes = b2.SpikeMonitor(neurons)
    objects.append(spikes)
    network = b2.Network(objects)
    t0 = time.perf_counter()
    network.run(t_ms * ms, namespace={})
    wall = time.perf_counter() - t0
    sim = float(b2.device._last_run_time)
    senders = np.asarray(spikes.i[:], np.int64)
    times_ms = np.asarray(spikes.t[:] / ms, float)
    order = np.lexsort((senders, times_ms))
    assert float(b2.device._last_run_completed_fraction) == 1.0
    return {"tool": f"Brian2 {b2.__version__} cpp_standalone ({threads} threads)", "build_s": wall - sim,
            "sim_s": sim, "peak_gb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6,
            "senders": senders[order], "times_ms": times_ms[order], "n_synapses": int(w.size)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("net", help="the exported network (.npz)")
    ap.add_argument("out", help="spikes and timings (.npz)")
    ap.add_argument("--t-ms", type=float, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with np.load(args.net) as f:
        net = {k: f[k] for k in f.files}
    with tempfile.TemporaryDirectory(prefix="brian2_pd14_") as build_dir:
        out = build_and_run(net, args.t_ms, args.threads, args.seed, build_dir)
    np.savez(args.out, senders=out.pop("senders"), times_ms=out.pop("times_ms"))
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
