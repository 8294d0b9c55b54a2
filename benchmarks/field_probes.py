"""Cost of the field probes: the same column with spikes only and with every probe mode.

Prints wall time per simulated second for both (compile excluded, best of several runs) and the
ratio. Run: ``python benchmarks/field_probes.py [--n 400] [--duration-ms 2000]``.
"""

from __future__ import annotations

import argparse
import time

import jax

import jaxfne

ALL_MODES = ["SPK", "MUA-proxy", "source-proxy", "LFP-proxy", "CSD-proxy", "EEG-proxy", "MEG-proxy", "EMM-proxy"]


def column(n: int, modes: list[str]) -> jaxfne.Configuration:
    return (jaxfne.configuration().runtime(seed=1, dtype="float32", dt_ms=0.1)
            .column("V1", layers=["L1", "L2/3", "L4", "L5", "L6"], n=n)
            .cell_types({"E": 0.8, "I": 0.2}).connectivity()
            .set_emitter("izhikevich", "RS", per_type={"I": "FS"}, drive="none")
            .stimulus("poisson", rate_hz=8.0, n_inputs=100, weight=0.6)
            .probes(modes, n_contacts=16, contact_spacing_um=93.0))


def time_run(model, duration_ms: float, repeats: int) -> float:
    jaxfne.simulate(model, duration_ms=duration_ms, seed=0)  # compile
    best = float("inf")
    for r in range(repeats):
        t0 = time.perf_counter()
        sig = jaxfne.simulate(model, duration_ms=duration_ms, seed=r + 1)
        jax.block_until_ready(sig.spikes)
        best = min(best, time.perf_counter() - t0)
    return best / (duration_ms * 1e-3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--duration-ms", type=float, default=2000.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    spikes = jaxfne.construct(column(args.n, ["SPK"]))
    fields = jaxfne.construct(column(args.n, ALL_MODES))
    t_spk = time_run(spikes, args.duration_ms, args.repeats)
    t_all = time_run(fields, args.duration_ms, args.repeats)
    print(f"column of {args.n} neurons, dt 0.1 ms, {args.duration_ms:g} ms, device {jax.devices()[0].platform}")
    print(f"{'spikes only':<28}{t_spk:8.3f} s per simulated s")
    print(f"{'all probes (16 contacts, 3 EEG, 3 MEG)':<28}{t_all:8.3f} s per simulated s")
    print(f"overhead of the field probes: {100 * (t_all / t_spk - 1):+.1f} %")


if __name__ == "__main__":
    main()
