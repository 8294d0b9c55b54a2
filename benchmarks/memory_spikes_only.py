"""Peak memory of a spikes-only run against simulated time (4,000 Izhikevich neurons, dt 0.1 ms).

Each duration runs in a fresh process and reports its peak resident set size; memory should follow
the chunk and the number of spikes, not the duration. Run:

    python benchmarks/memory_spikes_only.py [--n 4000] [--durations 1000,4000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import numpy as np
import jaxfne
n, dur = int(sys.argv[1]), float(sys.argv[2])
cfg = (jaxfne.configuration().runtime(duration_ms=dur, dt_ms=0.1).column("V1", layers=["L2/3", "L4", "L5"], n=n)
       .cell_types({"E": 0.8, "I": 0.2}).connectivity(p=0.02)
       .set_emitter("izhikevich", "RS", per_type={"I": "FS"}, drive="none")
       .stimulus("poisson", rate_hz=8.0, n_inputs=100, weight=0.6)
       .probes(["SPK"], record_neurons=[]))
model = jaxfne.construct(cfg)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
sig = jaxfne.simulate(model)
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
ev = getattr(sig, "spike_events", None)  # (a jaxfne without events: count the raster)
count = int(ev.steps.size) if ev is not None else int(np.asarray(sig.spikes).sum())
print(json.dumps({"n": n, "duration_ms": dur, "peak_rss_mib": peak, "before_simulate_mib": base / 1024,
                  "spikes": count, "wall_s": wall}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--durations", default="1000,4000", help="ms, comma-separated")
    args = ap.parse_args()
    print(f"{'duration (ms)':>14} {'spikes':>9} {'peak RSS (MiB)':>15} {'RSS before simulate':>20} {'wall (s)':>9}")
    for dur in [float(d) for d in args.durations.split(",")]:
        out = subprocess.run([sys.executable, "-c", CHILD, str(args.n), str(dur)], capture_output=True, text=True,
                             check=True).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        print(f"{dur:>14g} {r['spikes']:>9d} {r['peak_rss_mib']:>15.0f} {r['before_simulate_mib']:>20.0f} {r['wall_s']:>9.2f}")


if __name__ == "__main__":
    main()
