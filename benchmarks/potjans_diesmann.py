"""Side-by-side speed of the Potjans & Diesmann (2014) microcircuit: jaxfne and NEST 3 on one machine.

Rows (each ``runner(scale, k_scale, t_ms, seed)`` returns build/compile/simulation seconds, peak memory
and the eight population rates over [500 ms, t_ms)):

- ``jaxfne``: ``jaxfne.presets.potjans_diesmann_2014(scale, k_scale)`` (Poisson background), spikes
  only (kept as events, as NEST's spike recorder), the default kernel of the backend (``event`` on
  the CPU, ``batched`` on a GPU); build = ``construct``; compile = the first call's extra time over
  the second, identical, call, whose wall time is the simulation time.
- ``nest``: the reference PyNEST build (``tests/reference/nest_pd14.run_reference``: NEST draws its
  own network as the reference code does), ``--threads`` threads, ``OMP_WAIT_POLICY=PASSIVE``; build =
  ``ResetKernel`` to ``Prepare``/``Cleanup``; simulation = ``nest.Simulate``.
- ``brian2``: Brian2 ``cpp_standalone`` (``--threads`` OpenMP threads) replaying the network jaxfne
  built (exported by ``tests.reference.pd14_export``, nothing redrawn but the background noise) with
  ``benchmarks/brian2_pd14.py``, in an interpreter of its own (``benchmarks/brian2_env.py``: Brian2
  2.9 does not import with numpy >= 2.4; ``--brian2-python``, ``BRIAN2_PYTHON`` or the bench venv of
  benchmarks/README.md), OpenMP's default wait policy; build = the export, code generation, C++
  compile and synapse creation; simulation = Brian2's own timer of the run loop. Left out when no
  such interpreter is found.

It prints wall seconds per biological second (simulation only), the build and compile times, peak
resident memory, the rates, and jaxfne's ratio to NEST. Each tool runs in a fresh process of its own
(``--child``) so that memory and threads do not mix.

Usage::

    python benchmarks/potjans_diesmann.py                     # 10 %, 2 s, jaxfne and NEST
    python benchmarks/potjans_diesmann.py --scale 1 --k-scale 1 --t-ms 600 --only jaxfne
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from brian2_env import find_brian2_python  # benchmarks/, the script's own folder

ROOT = Path(__file__).resolve().parents[1]
T_SKIP_MS = 500.0
FULL_RATES = [0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829]


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def run_jaxfne(scale: float, k_scale: float, t_ms: float, seed: int, threads: int) -> dict:
    import jax

    import jaxfne
    from tests.reference.nest_pd14 import population_rates

    t0 = time.perf_counter()
    m = jaxfne.construct(jaxfne.presets.potjans_diesmann_2014(scale=scale, k_scale=k_scale).runtime(duration_ms=t_ms))
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    jaxfne.simulate(m, seed=seed)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    sig = jaxfne.simulate(m, seed=seed)
    sim = time.perf_counter() - t0
    times, neurons = sig.spike_times()
    rates = population_rates(neurons, times, np.bincount(m.table.pop_index).tolist(), T_SKIP_MS, t_ms)
    return {"tool": f"jaxfne ({m.propagation}, {jax.default_backend()})", "build_s": build,
            "compile_s": max(0.0, first - sim), "sim_s": sim, "peak_gb": _peak_gb(), "rates_hz": rates.tolist(),
            "n": m.n, "n_synapses": m.synapses.count}


def run_nest(scale: float, k_scale: float, t_ms: float, seed: int, threads: int) -> dict:
    from tests.reference.nest_pd14 import population_rates, run_reference

    out = run_reference(scale, k_scale, drive="poisson", t_sim_ms=t_ms, threads=threads, seed=seed + 55)
    rates = population_rates(out["senders"], out["times_ms"], out["n_per_pop"], T_SKIP_MS, t_ms)
    import nest

    return {"tool": f"NEST {nest.__version__} ({threads} threads)", "build_s": out["build_s"], "compile_s": 0.0,
            "sim_s": out["sim_s"], "peak_gb": _peak_gb(), "rates_hz": rates.tolist(), "n": int(sum(out["n_per_pop"]))}


def run_brian2(scale: float, k_scale: float, t_ms: float, seed: int, threads: int, brian2_python: str) -> dict:
    import tempfile

    import jaxfne
    from tests.reference.nest_pd14 import population_rates
    from tests.reference.pd14_export import export_network, poisson_drive

    t0 = time.perf_counter()
    cfg = jaxfne.presets.potjans_diesmann_2014(scale=scale, k_scale=k_scale)
    m = jaxfne.construct(cfg)
    net = {**export_network(m, 0.1), **poisson_drive(cfg)}
    neuron = net.pop("neuron")
    net.update({f"neuron_{k}": v for k, v in neuron.items()})
    with tempfile.TemporaryDirectory(prefix="pd14_brian2_") as tmp:
        np.savez(Path(tmp) / "net.npz", **net)
        export_s = time.perf_counter() - t0
        cmd = [brian2_python, str(ROOT / "benchmarks" / "brian2_pd14.py"), str(Path(tmp) / "net.npz"),
               str(Path(tmp) / "out.npz"), "--t-ms", str(t_ms), "--threads", str(threads), "--seed", str(seed)]
        # OpenMP's default wait policy: Brian2's threads meet at several barriers per step, and with
        # PASSIVE (NEST's setting here) each one sleeps in the kernel: 10.7 s per biological s instead of 1.1
        env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(env, PYTHONPATH=""), check=False)
        line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if proc.returncode or not line:
            raise RuntimeError(f"Brian2 run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
        out = json.loads(line[0][7:])
        with np.load(Path(tmp) / "out.npz") as spikes:
            rates = population_rates(spikes["senders"], spikes["times_ms"], net["n_per_pop"], T_SKIP_MS, t_ms)
    return {**out, "build_s": out["build_s"] + export_s, "compile_s": 0.0, "rates_hz": rates.tolist(),
            "n": int(sum(net["n_per_pop"]))}


RUNNERS = {"jaxfne": run_jaxfne, "nest": run_nest, "brian2": run_brian2}


def _child(args) -> None:
    sys.path.insert(0, str(ROOT))
    extra = {"brian2_python": args.brian2_python} if args.child == "brian2" else {}
    out = RUNNERS[args.child](args.scale, args.k_scale, args.t_ms, args.seed, args.threads, **extra)
    print("RESULT " + json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--k-scale", type=float, default=0.1)
    ap.add_argument("--t-ms", type=float, default=2000.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", choices=list(RUNNERS), action="append")
    ap.add_argument("--json", help="also write the rows to this file")
    ap.add_argument("--brian2-python", help="an interpreter with Brian2 (default: BRIAN2_PYTHON or the bench "
                    "venv of benchmarks/README.md); the Brian2 row is left out when none is found")
    ap.add_argument("--child", choices=list(RUNNERS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args)
        return
    rows = []
    brian2_python = find_brian2_python(args.brian2_python)
    names = args.only or [r for r in RUNNERS if r != "brian2" or brian2_python]
    if "brian2" in names and not brian2_python:
        ap.error("no interpreter with Brian2 (--brian2-python, BRIAN2_PYTHON or the bench venv of benchmarks/README.md)")
    for name in names:
        env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", PYTHONPATH=str(ROOT))
        cmd = [sys.executable, __file__, "--child", name, "--scale", str(args.scale), "--k-scale", str(args.k_scale),
               "--t-ms", str(args.t_ms), "--seed", str(args.seed), "--threads", str(args.threads)]
        if name == "brian2":
            cmd += ["--brian2-python", brian2_python]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if proc.returncode or not line:
            print(f"{name}: failed or not installed\n{proc.stderr[-2000:]}")
            continue
        rows.append(json.loads(line[0][7:]))
    bio_s = args.t_ms / 1000.0
    print(f"Potjans-Diesmann scale={args.scale} k_scale={args.k_scale}, {args.t_ms:g} ms, rates over "
          f"[{T_SKIP_MS:g}, {args.t_ms:g}) ms")
    print(f"{'tool':40s} {'s/bio-s':>8s} {'build s':>8s} {'compile s':>9s} {'peak GB':>8s}  rates (Hz)")
    nest_rtf = next((r["sim_s"] / bio_s for r in rows if r["tool"].startswith("NEST")), None)
    brian2_rtf = next((r["sim_s"] / bio_s for r in rows if r["tool"].startswith("Brian2")), None)
    for r in rows:
        rtf = r["sim_s"] / bio_s
        ratio = f"  x{rtf / nest_rtf:.2f} NEST" if nest_rtf and not r["tool"].startswith("NEST") else ""
        if brian2_rtf and r["tool"].startswith("jaxfne"):
            ratio += f"  x{rtf / brian2_rtf:.2f} Brian2"
        print(f"{r['tool']:40s} {rtf:8.2f} {r['build_s']:8.1f} {r['compile_s']:9.1f} {r['peak_gb']:8.1f}  "
              + " ".join(f"{x:5.2f}" for x in r["rates_hz"]) + ratio)
    print(f"{'full-scale reference rates':40s} {'':8s} {'':8s} {'':9s} {'':8s}  " + " ".join(f"{x:5.2f}" for x in FULL_RATES))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
