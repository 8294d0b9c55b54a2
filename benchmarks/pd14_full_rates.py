"""The full Potjans & Diesmann (2014) microcircuit's population rates and CV of the ISIs, several seeds.

The issue's validation form: full scale, Poisson background, each seed simulated for ``--t-ms``
(default 10.5 s) and measured over ``[500 ms, t)``; every population's mean rate over the seeds is
compared with the reference's full-scale rates (``jaxfne.presets.potjans_diesmann.FULL_MEAN_RATES_HZ``,
REFERENCES section 2; goal within 10 %). One network (``network_seed`` 0), one noise seed per run,
simulated one after another in one process (one model's table in memory). ``--tool nest`` runs
the reference PyNEST build instead (``tests/reference/nest_pd14.run_reference``: NEST draws its
own network per seed, ``rng_seed`` 55 + seed) for the CV of the ISIs on the same configuration.
Prints the table and, with ``--json``, writes it.

Usage::

    python benchmarks/pd14_full_rates.py                       # 3 seeds x 10.5 s (about 25 min on 2 cores)
    python benchmarks/pd14_full_rates.py --seeds 1 --t-ms 1500
    python benchmarks/pd14_full_rates.py --tool nest --seeds 1 --threads 4   # about 35 min on 2 cores
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

T_SKIP_MS = 500.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--t-ms", type=float, default=10_500.0)
    ap.add_argument("--tool", choices=("jaxfne", "nest"), default="jaxfne")
    ap.add_argument("--threads", type=int, default=4,
                    help="NEST local_num_threads (--tool nest; NEST holds at most 2**27 connections per "
                         "virtual process, so the full model needs at least 3)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()

    from jaxfne.presets import potjans_diesmann as PD
    from tests.reference.nest_pd14 import population_cv_isi, population_rates

    runs = jaxfne_runs(args.t_ms) if args.tool == "jaxfne" else nest_runs(args.t_ms, args.threads)
    build = None
    rates, cvs, walls = [], [], []
    for seed in range(args.seeds):
        senders, t_ms, sizes, build_s, wall = runs(seed)
        build = build_s if build is None else build
        walls.append(wall)
        rates.append(population_rates(senders, t_ms, sizes, T_SKIP_MS, args.t_ms))
        cvs.append(population_cv_isi(senders, t_ms, sizes, T_SKIP_MS, args.t_ms))
        print(f"seed {seed}: {walls[-1]:.0f} s wall, rates " + " ".join(f"{r:.3f}" for r in rates[-1]), flush=True)
    rates, cvs = np.array(rates), np.array(cvs)
    ref = np.asarray(PD.FULL_MEAN_RATES_HZ)
    mean = rates.mean(0)
    print(f"\n{args.tool}, full scale, {args.seeds} seeds x {args.t_ms:.0f} ms, rates over [{T_SKIP_MS:.0f}, {args.t_ms:.0f}) ms; "
          f"construct {build:.1f} s")
    print(f"{'population':>10} {'rate Hz':>8} {'SD seeds':>8} {'reference':>9} {'deviation':>9} {'CV ISI':>7}")
    for i, name in enumerate(PD.POPULATIONS):
        print(f"{name:>10} {mean[i]:8.3f} {rates[:, i].std(ddof=1) if args.seeds > 1 else 0:8.3f} {ref[i]:9.3f} "
              f"{mean[i] / ref[i] - 1:+9.1%} {cvs[:, i].mean():7.2f}")
    print(f"largest deviation {np.max(np.abs(mean / ref - 1)):.1%} (goal: within 10 %)")
    if args.json:
        Path(args.json).write_text(json.dumps({"tool": args.tool, "seeds": args.seeds, "t_ms": args.t_ms, "rates_hz": rates.tolist(),
                                               "cv_isi": cvs.tolist(), "reference_hz": ref.tolist(),
                                               "construct_s": build, "sim_wall_s": walls}, indent=1))


def jaxfne_runs(t_ms: float):
    """One jaxfne network (built once), simulated per noise seed."""
    import jaxfne

    t0 = time.perf_counter()
    m = jaxfne.construct(jaxfne.presets.potjans_diesmann_2014().runtime(duration_ms=t_ms))
    build = time.perf_counter() - t0
    sizes = np.bincount(m.table.pop_index).tolist()

    def run(seed: int):
        t0 = time.perf_counter()
        sig = jaxfne.simulate(m, seed=seed)
        wall = time.perf_counter() - t0
        times, neurons = sig.spike_times()
        return neurons, times, sizes, build, wall

    return run


def nest_runs(t_ms: float, threads: int):
    """The reference PyNEST build, a network of its own per seed."""
    from tests.reference.nest_pd14 import run_reference

    def run(seed: int):
        out = run_reference(1.0, 1.0, drive="poisson", t_sim_ms=t_ms, threads=threads, seed=55 + seed)
        return out["senders"], out["times_ms"], out["n_per_pop"].tolist(), out["build_s"], out["sim_s"]

    return run


if __name__ == "__main__":
    main()
