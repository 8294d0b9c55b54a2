"""Checksums of spike rasters (and V_m) that the engine must keep bit for bit across refactors.

Cases: every Izhikevich 2004 protocol and 2003 class (float64 and float32), the Izhikevich 2003
network for three seeds (float32, 1 s; each seed a new instance and new noise, as the
checksums were recorded when one seed drew both), and every run of the default study (its three seeds as
one vmapped batch). Regenerate (only when a change of behaviour is intended and explained):

    python -m tests.golden.spike_checksums --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FILE = HERE / "spike_checksums.json"
ROOT = HERE.parent.parent


def digest(a) -> str:
    a = np.ascontiguousarray(np.asarray(a))
    return hashlib.sha256(str(a.dtype).encode() + str(a.shape).encode() + a.tobytes()).hexdigest()[:16]


def protocol_cases():
    from jaxfne.presets import izhikevich as iz

    return [(f"protocol/{name}/{dtype}", name, dtype) for name in iz.PRESET_NAMES for dtype in ("float64", "float32")]


def engine_protocol_run(name: str, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Spikes and V_m of one Izhikevich preset under its published protocol (T/tau + 1 steps).

    The runtime leaves ``dt_ms`` and ``duration_ms`` unset, so the preset's published tau and T apply,
    and a published protocol runs the loop ``t = 0:tau:T``. (Before the published runtime became the
    default, this helper asked for ``dt_ms=tau, duration_ms=T + tau``: the same T/tau + 1 steps.)
    """
    import jax

    import jaxfne

    with jax.enable_x64(dtype == "float64"):
        cfg = (jaxfne.configuration()
               .runtime(seed=0, dtype=dtype)
               .column("cell", layers=["L2/3"], n=1)
               .cell_types({"E": 1})
               .connectivity(recurrent=False)
               .set_emitter("izhikevich", name))
        sig = jaxfne.simulate(jaxfne.construct(cfg), seed=0)
        return np.asarray(sig.spikes), np.asarray(sig.V_m)


def run_protocol(name: str, dtype: str) -> dict:
    spikes, v_m = engine_protocol_run(name, dtype)
    return {"spikes": digest(spikes), "V_m": digest(v_m)}


def run_network(seed: int) -> dict:
    import jaxfne

    cfg = (jaxfne.configuration()
           .runtime(seed=seed, network_seed=seed, dtype="float32", dt_ms=1.0, duration_ms=1000.0)
           .column("net", layers=["L2/3"], n=1000)
           .cell_types({"E": 800, "I": 200})
           .connectivity()
           .set_emitter("izhikevich", "cortical_eig")
           .probes(["SPK"]))
    sig = jaxfne.simulate(jaxfne.construct(cfg), duration_ms=1000.0, dt_ms=1.0, seed=seed)
    return {"spikes": digest(sig.spikes)}


def study_runs():
    from jaxfne.pipeline.compose import expand_study

    return expand_study("default", ROOT / "conf")


def run_study(run) -> dict:
    from jaxfne.pipeline.stages import simulate_run

    ds, _ = simulate_run(run)
    out = {"spikes": digest(ds["spikes"].values)}
    if "LFP" in ds:
        out["LFP_shape"] = list(ds["LFP"].shape)
    return out


def compute() -> dict:
    res = {}
    for key, name, dtype in protocol_cases():
        res[key] = run_protocol(name, dtype)
    for seed in (0, 1, 2):
        res[f"network2003/seed{seed}"] = run_network(seed)
    for run in study_runs():
        res[f"study/default/{run.run_id.rsplit('__', 1)[0]}"] = run_study(run)
    return res


if __name__ == "__main__":
    import os

    # the test session's XLA flags (tests/conftest.py): no FMA contraction, so float64 matches numpy
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_max_isa=AVX").strip()
    got = compute()
    if "--write" in sys.argv:
        FILE.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(got)} checksums to {FILE}")
    else:
        want = json.loads(FILE.read_text())
        bad = [k for k in want if want[k] != got.get(k)]
        print(f"{len(want) - len(bad)} of {len(want)} equal; differ: {bad}")
