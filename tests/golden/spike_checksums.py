"""Checksums of spike rasters (and V_m) that the engine must keep bit for bit across refactors.

Cases: every Izhikevich 2004 protocol and 2003 class (float64 and float32), the Izhikevich 2003
network for three seeds (float32, 1 s; each seed a new instance and new noise, as the
checksums were recorded when one seed drew both), and every run of the default study (its three seeds as
one vmapped batch), a Poisson-driven ``iaf_psc_exp`` network with a large Poisson mean per step and the
5 % microcircuit (both added 2026-12-04, recorded with the engine of that day). Regenerate (only when a change of behaviour is intended and explained):

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


def run_iaf_poisson(seed: int) -> dict:
    """NEST's ``iaf_psc_exp`` network of the speed benchmark, scaled to 2,000 neurons (fixed in-degrees
    160 + 40, J = 40 pA, g = 8, delay 1.5 ms), with its background of 1,000 x 8 Hz Poisson inputs per
    neuron: a Poisson mean of 0.8 per 0.1 ms step, where the inverse CDF's terms matter far more than
    at the microcircuit's 0.2 (a change of rounding in them changed this network's spikes but not the
    microcircuit's). 200 ms, spikes only."""
    import jaxfne

    def proj(k: int, w: float) -> dict:
        return {"rule": "fixed_indegree", "K": k, "weight": w, "weight_rel_sd": 0.0, "delay_ms": 1.5, "delay_sd_ms": 0.0}

    table = {f"{a}->{b}": proj(160 if a == "L2/3E" else 40, 40.0 if a == "L2/3E" else -320.0)
             for a in ("L2/3E", "L2/3I") for b in ("L2/3E", "L2/3I")}
    cfg = (jaxfne.configuration()
           .runtime(seed=seed, network_seed=seed, dtype="float32", dt_ms=0.1, duration_ms=200.0)
           .column("net", layers=["L2/3"], n=2000).cell_types({"E": 1600, "I": 400})
           .connectivity(projections=table, autapses=False, propagation="event")
           .set_emitter("iaf_psc_exp", "nest_default")
           .stimulus("poisson", rate_hz=8.0, n_inputs=1000, weight=40.0)
           .probes(["SPK"]))
    sig = jaxfne.simulate(jaxfne.construct(cfg), seed=seed)
    ev = sig.spike_events
    return {"spikes": digest(np.stack([ev.steps, ev.neurons]).astype(np.int64)), "n_spikes": int(ev.steps.size)}


def run_pd14(seed: int) -> dict:
    """The Potjans-Diesmann microcircuit at 5 % of its neurons and 10 % of its in-degrees (Poisson
    background), 200 ms, spikes only."""
    import jaxfne

    cfg = jaxfne.presets.potjans_diesmann_2014(scale=0.05, k_scale=0.1).runtime(duration_ms=200.0, seed=seed)
    ev = jaxfne.simulate(jaxfne.construct(cfg), seed=seed).spike_events
    return {"spikes": digest(np.stack([ev.steps, ev.neurons]).astype(np.int64)), "n_spikes": int(ev.steps.size)}


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
    res["iaf_poisson/seed1"] = run_iaf_poisson(1)
    res["pd14_5pct/seed3"] = run_pd14(3)
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
