"""GPU measurements of the Potjans & Diesmann (2014) microcircuit, in one command.

    pip install -e ".[gpu]" && python benchmarks/gpu_pd14.py --out "$OUT"

Writes ``gpu_pd14.json`` (and prints it):

- ``full``: the full-scale model (77,169 neurons, 3e8 synapses, Poisson background) with the kernel
  ``propagation="auto"`` picks on a GPU (``batched``): construction time (host), compile time, and
  the real-time factor RTF = wall / biological time of a second, identical call (simulation only,
  spikes kept on the device until the end), its eight population rates over [0.5 s, T);
- ``batch``: 64 seeds of the 10 % model (``scale = k_scale = 0.1``) in one vmapped call against
  ``--sequential`` single-seed calls, throughput in biological seconds per wall second;
- the device, the JAX version and the peak device memory where the backend reports it.

Published anchors for the full model (REFERENCES.md): GeNN 0.272 on an RTX 4090, NEST GPU 0.386,
NEST on two 128-core nodes 0.53.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

def _rates(m, sig, t0_ms: float, t1_ms: float) -> list[float]:
    """The eight population rates (Hz) of the first seed, as the CPU benchmark computes them."""
    from tests.reference.nest_pd14 import population_rates

    times, neurons = sig.spike_times(seed_index=0)
    return population_rates(neurons, times, np.bincount(m.table.pop_index).tolist(), t0_ms, t1_ms).round(3).tolist()


def _timed(f):
    t = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t


def full_scale(t_ms: float) -> dict:
    import jaxfne
    from jaxfne.presets import potjans_diesmann as PD

    m, build = _timed(lambda: jaxfne.construct(
        jaxfne.presets.potjans_diesmann_2014().runtime(duration_ms=t_ms)))
    _, first = _timed(lambda: jaxfne.simulate(m, seed=0))
    sig, sim = _timed(lambda: jaxfne.simulate(m, seed=1))
    return {"n": m.n, "n_synapses": m.synapses.count, "propagation": m.propagation, "construct_s": build,
            "compile_s": max(0.0, first - sim), "sim_s": sim, "t_ms": t_ms, "rtf": sim / (t_ms / 1000.0),
            "rates_hz": _rates(m, sig, 500.0, t_ms), "reference_rates_hz": PD.FULL_MEAN_RATES_HZ.tolist()}


def seed_batch(n_seeds: int, sequential: int, t_ms: float) -> dict:
    import jaxfne

    m = jaxfne.construct(jaxfne.presets.potjans_diesmann_2014(scale=0.1, k_scale=0.1).runtime(duration_ms=t_ms))
    seeds = list(range(n_seeds))
    jaxfne.simulate(m, seed=seeds)  # compile
    _, batch = _timed(lambda: jaxfne.simulate(m, seed=seeds))
    jaxfne.simulate(m, seed=0)  # compile
    _, seq = _timed(lambda: [jaxfne.simulate(m, seed=s) for s in range(sequential)])
    bio = t_ms / 1000.0
    return {"n_seeds": n_seeds, "t_ms": t_ms, "batch_s": batch, "sequential_runs": sequential, "sequential_s": seq,
            "throughput_batch_bio_s_per_s": n_seeds * bio / batch, "throughput_sequential_bio_s_per_s":
            sequential * bio / seq, "speedup": (n_seeds * bio / batch) / (sequential * bio / seq),
            "propagation": m.propagation}


def main() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.reference, run from anywhere
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--full-ms", type=float, default=1500.0)
    ap.add_argument("--batch-ms", type=float, default=1000.0)
    ap.add_argument("--seeds", type=int, default=64)
    ap.add_argument("--sequential", type=int, default=4)
    ap.add_argument("--skip-full", action="store_true")
    args = ap.parse_args()
    import jax

    out = {"jax": jax.__version__, "backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()],
           "date": time.strftime("%Y-%m-%d")}
    path = Path(args.out) / "gpu_pd14.json"
    path.parent.mkdir(parents=True, exist_ok=True)

    def dump():  # after each part, so a run cut short keeps what it measured; never a half-written file
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(out, indent=1))
        os.replace(tmp, path)
        print(json.dumps(out), flush=True)

    if not args.skip_full:
        out["full"] = full_scale(args.full_ms)
        dump()
    out["batch"] = seed_batch(args.seeds, args.sequential, args.batch_ms)
    try:
        out["peak_device_bytes"] = jax.devices()[0].memory_stats().get("peak_bytes_in_use")
    except Exception:  # not every backend reports memory
        out["peak_device_bytes"] = None
    dump()


if __name__ == "__main__":
    main()
