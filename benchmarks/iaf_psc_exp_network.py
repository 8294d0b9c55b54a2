"""Side-by-side speed of a 10,000-neuron sparse network of ``iaf_psc_exp`` neurons.

The network (a Brunel-style random network with current-based exponential synapses):

- ``N_E`` = 8000 excitatory + ``N_I`` = 2000 inhibitory NEST 3 ``iaf_psc_exp`` neurons with
  NEST's default parameters (C_m 250 pF, tau_m 10 ms, tau_syn_ex = tau_syn_in = 2 ms,
  E_L = V_reset = -70 mV, V_th -55 mV, t_ref 2 ms, I_e 0), all starting at V_m = E_L;
- fixed in-degree: every neuron receives ``K_E`` = 800 connections from E and ``K_I`` = 200
  from I (NEST ``fixed_indegree``, multapses allowed, no autapses), weight ``J_PA`` (E) or
  ``-G * J_PA`` (I), all delays ``DELAY_MS``;
- background: a ``poisson_generator`` per neuron, i.e. an independent Poisson train of rate
  ``NU_EXT_HZ * K_EXT`` into every neuron, weight ``J_PA``, delay ``DELAY_MS``;
- resolution ``DT_MS`` = 0.1 ms, ``T_MS`` = 10 s of biological time, spikes of all neurons
  recorded (``spike_recorder``), NEST with 2 threads.

Every simulator is a function in :data:`RUNNERS`, called as ``runner(t_ms=..., seed=...)``;
it returns ``dict(build_s=..., sim_s=..., rates_hz=(E, I), cv=...)`` (optional keys
``tool`` and ``note``: the row's label and a remark). The script runs each selected one
``--repeats`` times, takes the run with the median simulation time and prints wall seconds
per biological second (simulation only), the build/compile time, the E/I rates, the mean CV
of the inter-spike intervals and the ratio of each row's simulation time to NEST's.

Rates and CVs come from :func:`rates_and_cv` (NEST-style sender/time arrays);
:func:`events_from_raster` turns a boolean [time, neuron] raster into such arrays.

Usage::

    python benchmarks/iaf_psc_exp_network.py                       # 10 s, median of 3
    python benchmarks/iaf_psc_exp_network.py --only nest --repeats 1 --t-ms 1000
"""

from __future__ import annotations

import argparse
import functools
import os
import time

import numpy as np

# --- the network -------------------------------------------------------------------------
N_E = 8000  # excitatory neurons (ids 0 .. N_E - 1)
N_I = 2000  # inhibitory neurons (ids N_E .. N_E + N_I - 1)
K_E = 800  # excitatory in-degree of every neuron
K_I = 200  # inhibitory in-degree of every neuron
DELAY_MS = 1.5  # all delays, recurrent and background
DT_MS = 0.1  # resolution
T_MS = 10_000.0  # biological time simulated
T_SKIP_MS = 500.0  # initial transient left out of rates and CVs
# J_PA, G, K_EXT and NU_EXT_HZ were tuned by running NEST (seed 1, 1 s and 3 s runs, then
# 10 s) for an asynchronous-irregular state at 5-10 Hz in both populations. With g = 5 every
# setting tried either oscillated strongly (population rate in 5 ms bins modulated by 40-110 %,
# e.g. J 20 pA, 1000 x 8 Hz: 3.8 Hz) or fired at 15-25 Hz, or fell silent (J 50, 1000 x 2.5 Hz);
# g = 8 (inhibition-dominated, G * K_I = 2 K_E) damps that to a weak ~100 Hz ripple (~28 %).
# The background alone would put the mean 25.6 mV above E_L (K_EXT * NU_EXT_HZ * J_PA *
# tau_syn / C_m * tau_m; threshold at 15 mV); recurrent inhibition brings it back to an
# estimated ~11 mV below threshold with fluctuations of ~7 mV, so neurons fire on
# fluctuations (ISI CV ~0.9-1), not on a regular mean drive. Also fine (3 s runs, E Hz / CV):
# J 60, g 8, 1000 x 6 Hz: 8.0 / 0.95; J 80, g 10, 1000 x 8 Hz: 8.7 / 1.1.
J_PA = 40.0  # excitatory weight (pA); inhibitory weight is -G * J_PA
G = 8.0  # relative strength of inhibition
K_EXT = 1000  # background inputs per neuron
NU_EXT_HZ = 8.0  # rate of each background input; one train of NU_EXT_HZ * K_EXT per neuron

NEST_MODEL = "iaf_psc_exp"


# --- analysis ----------------------------------------------------------------------------
def events_from_raster(raster, dt_ms: float = DT_MS) -> tuple[np.ndarray, np.ndarray]:
    """(senders, times_ms) of a boolean [time, neuron] raster, sorted by time then sender.

    A spike in step k (0-based) gets the time ``(k + 1) * dt_ms``, the end of the step, as
    NEST stamps it; senders are 0-based neuron indices.
    """
    steps, senders = np.nonzero(np.asarray(raster))
    return senders.astype(np.int64), (steps + 1).astype(np.float64) * float(dt_ms)


def rates_and_cv(
    senders,
    times_ms,
    n_e: int = N_E,
    n_i: int = N_I,
    t_ms: float = T_MS,
    t_skip_ms: float = T_SKIP_MS,
) -> tuple[float, float, float]:
    """Mean E and I rates (Hz) and the mean CV of the inter-spike intervals.

    ``senders`` are 0-based neuron indices (``0 .. n_e - 1`` excitatory, then ``n_i``
    inhibitory), ``times_ms`` the spike times. Only spikes in ``(t_skip_ms, t_ms]`` count; the
    rates are spikes per neuron per second of that window. The CV (std / mean of a neuron's
    ISIs) is averaged over the neurons with at least 3 spikes in the window (NaN if none).
    """
    senders = np.asarray(senders, dtype=np.int64)
    times = np.asarray(times_ms, dtype=np.float64)
    keep = (times > t_skip_ms) & (times <= t_ms)
    senders, times = senders[keep], times[keep]
    window_s = (t_ms - t_skip_ms) / 1e3
    counts = np.bincount(senders, minlength=n_e + n_i)
    rate_e = float(counts[:n_e].sum() / (n_e * window_s)) if n_e else float("nan")
    rate_i = float(counts[n_e:].sum() / (n_i * window_s)) if n_i else float("nan")

    order = np.lexsort((times, senders))  # by neuron, then time
    senders, times = senders[order], times[order]
    isi = np.diff(times)
    same = senders[1:] == senders[:-1]  # consecutive spikes of one neuron
    isi, owner = isi[same], senders[1:][same]
    n_isi = np.bincount(owner, minlength=n_e + n_i)
    s1 = np.bincount(owner, weights=isi, minlength=n_e + n_i)
    s2 = np.bincount(owner, weights=isi * isi, minlength=n_e + n_i)
    ok = n_isi >= 2  # at least 3 spikes
    if not ok.any():
        return rate_e, rate_i, float("nan")
    mean = s1[ok] / n_isi[ok]
    var = np.maximum(s2[ok] / n_isi[ok] - mean * mean, 0.0)
    return rate_e, rate_i, float(np.mean(np.sqrt(var) / mean))


# --- simulators --------------------------------------------------------------------------
def run_nest(threads: int = 2, t_ms: float = T_MS, seed: int = 1) -> dict:
    """The network in NEST; wall seconds of building and of simulating, rates and CV.

    ``build_s``: kernel set-up, nodes, connections and ``nest.Prepare()`` (where NEST sorts
    the connections and sets up its communication buffers); ``sim_s``: ``nest.Run(t_ms)``
    only. ``seed`` is NEST's ``rng_seed`` (connectivity and Poisson trains).
    """
    os.environ.setdefault("PYNEST_QUIET", "1")
    import nest

    t0 = time.perf_counter()
    nest.ResetKernel()
    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.WARNING
    nest.resolution = DT_MS
    nest.local_num_threads = int(threads)
    nest.rng_seed = int(seed)

    neurons = nest.Create(NEST_MODEL, N_E + N_I)  # NEST's default parameters
    exc, inh = neurons[:N_E], neurons[N_E:]
    background = nest.Create("poisson_generator", N_E + N_I, params={"rate": NU_EXT_HZ * K_EXT})
    recorder = nest.Create("spike_recorder")

    def fixed_indegree(k: int) -> dict:
        return {"rule": "fixed_indegree", "indegree": k, "allow_autapses": False,
                "allow_multapses": True}

    nest.Connect(exc, neurons, fixed_indegree(K_E),
                 {"synapse_model": "static_synapse", "weight": J_PA, "delay": DELAY_MS})
    nest.Connect(inh, neurons, fixed_indegree(K_I),
                 {"synapse_model": "static_synapse", "weight": -G * J_PA, "delay": DELAY_MS})
    nest.Connect(background, neurons, "one_to_one",
                 {"synapse_model": "static_synapse", "weight": J_PA, "delay": DELAY_MS})
    nest.Connect(neurons, recorder)
    nest.Prepare()
    t1 = time.perf_counter()
    nest.Run(float(t_ms))
    t2 = time.perf_counter()
    nest.Cleanup()

    events = recorder.get("events")
    senders = np.asarray(events["senders"], dtype=np.int64) - neurons[0].global_id
    rate_e, rate_i, cv = rates_and_cv(senders, events["times"], N_E, N_I, float(t_ms))
    return dict(
        build_s=t1 - t0,
        sim_s=t2 - t1,
        rates_hz=(rate_e, rate_i),
        cv=cv,
        tool=f"NEST {NEST_MODEL} ({threads} threads)",
        note=f"nest {nest.__version__}; {len(senders)} spikes",
    )


def jaxfne_configuration(t_ms: float = T_MS, seed: int = 1, dtype: str = "float32"):
    """The same network in jaxfne: one population pair table of fixed in-degree projections
    (multapses, no autapses, constant weights and delays) and an independent Poisson drive of
    ``K_EXT`` inputs at ``NU_EXT_HZ`` per neuron; spikes recorded only."""
    import jaxfne

    def proj(k: int, w: float) -> dict:
        return {"rule": "fixed_indegree", "K": k, "weight": w, "weight_rel_sd": 0.0,
                "delay_ms": DELAY_MS, "delay_sd_ms": 0.0}

    table = {f"{a}->{b}": proj(K_E if a == "L2/3E" else K_I, J_PA if a == "L2/3E" else -G * J_PA)
             for a in ("L2/3E", "L2/3I") for b in ("L2/3E", "L2/3I")}
    return (jaxfne.configuration()
            .runtime(seed=seed, network_seed=seed, dtype=dtype, dt_ms=DT_MS, duration_ms=float(t_ms))
            .column("net", layers=["L2/3"], n=N_E + N_I).cell_types({"E": N_E, "I": N_I})
            .connectivity(projections=table, autapses=False, propagation="event")
            .set_emitter("iaf_psc_exp", "nest_default")
            .stimulus("poisson", rate_hz=NU_EXT_HZ, n_inputs=K_EXT, weight=J_PA)
            .probes(["SPK"]))


#: jaxfne's time chunk in the benchmark: the compiling call runs one chunk, the timed call all of them
JAXFNE_CHUNK_MS = 1000.0


def run_jaxfne(t_ms: float = T_MS, seed: int = 1, dtype: str = "float32") -> dict:
    """The network in jaxfne; ``build_s`` = construct + compilation (one chunk run first, then the
    compiled chunk is reused), ``sim_s`` = the simulation of ``t_ms``, spikes kept as events."""
    import jax

    import jaxfne
    from jaxfne.engine.scan import chunk_fn

    jax.clear_caches()  # every repeat compiles afresh, as a new process would (no persistent cache)
    chunk_fn.cache_clear()
    t0 = time.perf_counter()
    model = jaxfne.construct(jaxfne_configuration(t_ms, seed, dtype))
    t1 = time.perf_counter()
    chunk = min(JAXFNE_CHUNK_MS, float(t_ms))
    jaxfne.simulate(model, duration_ms=chunk, chunk_ms=chunk, seed=seed)
    t2 = time.perf_counter()
    warm_chunk = time.perf_counter()
    jaxfne.simulate(model, duration_ms=chunk, chunk_ms=chunk, seed=seed + 1)
    warm_chunk = time.perf_counter() - warm_chunk
    t3 = time.perf_counter()
    sig = jaxfne.simulate(model, duration_ms=float(t_ms), chunk_ms=chunk, seed=seed)
    t4 = time.perf_counter()
    ev = sig.spike_events
    rate_e, rate_i, cv = rates_and_cv(ev.neurons, (ev.steps + 1) * DT_MS, N_E, N_I, float(t_ms))
    compile_s = (t2 - t1) - warm_chunk
    return dict(
        build_s=(t1 - t0) + compile_s,
        sim_s=t4 - t3,
        rates_hz=(rate_e, rate_i),
        cv=cv,
        tool=f"jaxfne {dtype} iaf_psc_exp",
        note=(f"construct {t1 - t0:.2f} s + compile {compile_s:.2f} s; {model.synapses.count} synapses, "
              f"{ev.steps.size} spikes; jax {jax.__version__}"),
    )


# Name -> runner(t_ms=..., seed=...) returning dict(build_s, sim_s, rates_hz, cv[, tool, note]).
# Rows are printed in this order; the first one (NEST) is the reference of the ratios.
RUNNERS = {"nest": run_nest, "jaxfne": run_jaxfne}


# --- driver ------------------------------------------------------------------------------
def median_run(runner, repeats: int, **kwargs) -> dict:
    """``runner(**kwargs)`` ``repeats`` times; the run with the median ``sim_s``."""
    runs = sorted((runner(**kwargs) for _ in range(max(1, repeats))), key=lambda r: r["sim_s"])
    run = dict(runs[len(runs) // 2])
    if len(runs) > 1:
        sims = ", ".join(f"{r['sim_s']:.2f}" for r in runs)
        run["note"] = (run.get("note", "") + "; " if run.get("note") else "") + (
            f"median of {len(runs)} (sim s: {sims})"
        )
    return run


def _fmt(x: float | None, width: int, decimals: int) -> str:
    return f"{'-':>{width}}" if x is None or x != x else f"{x:{width}.{decimals}f}"


def report(rows: list[tuple[str, dict | None]], t_ms: float = T_MS) -> None:
    """Print the table: wall s per biological s (simulation only), build/compile s, E/I
    rates, mean CV, and each row's simulation time relative to NEST's."""
    bio_s = t_ms / 1e3
    print(
        f"\niaf_psc_exp network, {N_E} E + {N_I} I, K = {K_E} + {K_I}, J = {J_PA:g} pA, "
        f"g = {G:g}, background {K_EXT} x {NU_EXT_HZ:g} Hz, delay {DELAY_MS:g} ms, "
        f"dt {DT_MS:g} ms, {bio_s:g} s biological (rates and CV after {T_SKIP_MS:g} ms)"
    )
    header = (
        f"{'tool':<34} {'wall s / bio s':>14} {'build s':>8} {'E Hz':>6} {'I Hz':>6} "
        f"{'CV':>5} {'/NEST':>6}  note"
    )
    print(header)
    print("-" * len(header))
    nest_sim = next((r["sim_s"] for name, r in rows if name == "nest" and r), None)
    for name, r in rows:
        if r is None or "sim_s" not in r:
            note = (r or {}).get("note", "not installed")
            print(f"{(r or {}).get('tool', name):<34} {'-':>14} {'-':>8} {'-':>6} {'-':>6} "
                  f"{'-':>5} {'-':>6}  {note}")
            continue
        ratio = r["sim_s"] / nest_sim if nest_sim else None
        rate_e, rate_i = r["rates_hz"]
        print(
            f"{r.get('tool', name):<34} {_fmt(r['sim_s'] / bio_s, 14, 4)} "
            f"{_fmt(r['build_s'], 8, 2)} {_fmt(rate_e, 6, 2)} {_fmt(rate_i, 6, 2)} "
            f"{_fmt(r['cv'], 5, 2)} {_fmt(ratio, 6, 2)}  {r.get('note', '')}"
        )
    if nest_sim:
        print("\n/NEST: simulation wall time relative to NEST's (< 1: faster than NEST)")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--t-ms", type=float, default=T_MS, help="biological time (ms)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per tool (median; 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="NEST threads")
    parser.add_argument(
        "--only", default=",".join(RUNNERS), help="comma-separated subset of " + ", ".join(RUNNERS)
    )
    args = parser.parse_args(argv)
    only = [name for name in args.only.split(",") if name]
    unknown = [name for name in only if name not in RUNNERS]
    if unknown:
        parser.error(f"unknown tool(s) {', '.join(unknown)}; choose from {', '.join(RUNNERS)}")
    runners = dict(RUNNERS)
    runners["nest"] = functools.partial(run_nest, threads=args.threads)

    load_before = os.getloadavg()[0]
    rows: list[tuple[str, dict | None]] = []
    for name in RUNNERS:  # table order, NEST first
        if name not in only:
            continue
        try:
            rows.append((name, median_run(runners[name], args.repeats, t_ms=args.t_ms,
                                          seed=args.seed)))
        except ImportError as exc:
            rows.append((name, {"tool": name, "note": f"not installed ({exc.name or exc})"}))
    report(rows, args.t_ms)
    print(
        f"\n1-min load average before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores (threaded tools suffer most when it exceeds the core count)"
    )


if __name__ == "__main__":
    main()
