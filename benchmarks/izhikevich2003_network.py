"""Side-by-side speed of the Izhikevich 2003 network (1000 neurons, ``net.m`` numerics).

Runs the same network for ``--duration-ms`` of biological time (10 s by default) in

- the numpy float64 port of ``net.m`` (``tests/reference/izhikevich2003_net.py``),
- NEST ``izhikevich`` with the published scheme, ``--threads`` threads,
- Brian2, runtime (Cython) and ``cpp_standalone`` (build time reported separately),
- jaxfne: one network (compile time separate), then ``--seeds`` networks as one seed batch
  (``simulate(seed=[...])``: with the CPU's event kernel it runs the networks one after the other
  within each chunk, see ``jaxfne.simulate.one_network_at_a_time``) and as many separate calls (time
  per network),

and prints wall seconds per biological second, the E/I rates and the ratios
jaxfne/NEST and jaxfne/Brian2. It also measures jaxfne's compile time in fresh processes
sharing a persistent compilation cache (first process: cold cache; second: warm).

A simulator that is not installed is reported as "not installed" and skipped. Brian2 2.9
does not import with numpy >= 2.4; it is then run by the Python of a separate environment
(``--brian2-python``, the ``BRIAN2_PYTHON`` variable, or ``<tmp>/bench-venv/bin/python``
when that exists), see ``benchmarks/README.md``.

Usage::

    python benchmarks/izhikevich2003_network.py            # 10 s, 64 seeds
    python benchmarks/izhikevich2003_network.py --quick    # 1 s, 4 seeds, smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "tests" / "reference"
sys.path.insert(0, str(REFERENCE_DIR))

from brian2_env import find_brian2_python  # noqa: E402  (benchmarks/, the script's own folder)
from izhikevich2003_net import make_network, population_rates, run_network  # noqa: E402


@dataclass
class Row:
    """One line of the result table (times in wall seconds)."""

    tool: str
    per_bio_s: float | None = None
    setup_s: float | None = None
    rate_e: float | None = None
    rate_i: float | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)


def _fmt(x: float | None, width: int, decimals: int) -> str:
    return f"{'-':>{width}}" if x is None else f"{x:{width}.{decimals}f}"


def median_row(bench, repeats: int, *args) -> Row:
    """Run ``bench(*args)`` ``repeats`` times; the row with the median wall time per bio s."""
    rows = [bench(*args) for _ in range(max(1, repeats))]
    timed = [r for r in rows if r.per_bio_s is not None]
    if not timed:
        return rows[0]
    timed.sort(key=lambda r: r.per_bio_s)
    row = timed[len(timed) // 2]
    if len(timed) > 1:
        row.note = (row.note + "; " if row.note else "") + f"median of {len(timed)}"
    return row


def bench_numpy(duration_ms: int, seed: int) -> Row:
    """The numpy port: network drawing is the set-up, the loop the simulation."""
    t0 = time.perf_counter()
    network, rng = make_network(800, 200, seed)
    t1 = time.perf_counter()
    _, neurons = run_network(network, rng, duration_ms)
    t2 = time.perf_counter()
    rate_e, rate_i = population_rates(neurons, 800, 200, duration_ms)
    return Row("numpy float64 (net.m port)", (t2 - t1) / (duration_ms / 1e3), t1 - t0, rate_e, rate_i)


def bench_nest(duration_ms: int, seed: int, threads: int) -> Row:
    """NEST ``izhikevich``, published numerics, after a short warm-up run."""
    from nest_izhikevich2003 import nest_available, run_nest

    tool = f"NEST izhikevich ({threads} threads)"
    if not nest_available():
        return Row(tool, note="not installed")
    run_nest(duration_ms=100, seed=seed, threads=threads)  # first-call costs out of the timing
    _, _, (rate_e, rate_i), timings = run_nest(duration_ms=duration_ms, seed=seed, threads=threads)
    import nest

    return Row(
        tool,
        timings["simulate"] / (duration_ms / 1e3),
        timings["build"],
        rate_e,
        rate_i,
        note=f"nest {nest.__version__}",
    )


def bench_brian2(duration_ms: int, seed: int, device: str, threads: int, python: str | None) -> Row:
    """Brian2 in a subprocess (its own interpreter), result read back as JSON."""
    tool = f"Brian2 {device}" + (f" ({threads} threads)" if device == "cpp_standalone" else "")
    if python is None:
        return Row(tool, note="not installed")
    script = REFERENCE_DIR / "brian2_izhikevich2003.py"
    cmd = [python, str(script), "--duration-ms", str(duration_ms), "--seed", str(seed)]
    cmd += ["--device", device, "--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return Row(tool, note="failed: " + proc.stderr.strip().splitlines()[-1][:80])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    timings = result["timings"]
    note = f"brian2 {result['brian2']}, numpy {result['numpy']}"
    if device == "runtime":
        note += "; warm Cython cache, code generation included"
    return Row(
        tool,
        timings["simulate"] / (duration_ms / 1e3),
        timings["build"],
        *result["rates_hz"],
        note=note,
    )


def _jaxfne_model(jaxfne, duration_ms: int, dtype: str, seed: int = 0, record_vm: bool = False):
    """The network; by default it records spikes only (``probes(["SPK"])``), as NEST's spike recorder."""
    cfg = (
        jaxfne.configuration()
        .runtime(seed=seed, network_seed=seed, dtype=dtype, dt_ms=1.0, duration_ms=float(duration_ms))
        .column("net", layers=["L2/3"], n=1000)
        .cell_types({"E": 800, "I": 200})
        .connectivity()
        .set_emitter("izhikevich", "cortical_eig")
        .probes(["SPK", "Vm"] if record_vm else ["SPK"])
    )
    return jaxfne.construct(cfg)


def _jaxfne_rates(sig, duration_ms: int) -> tuple[float, float]:
    """Mean E/I rates (Hz) from the run's spike events (no raster is made)."""
    ev = sig.spike_events
    n_runs = ev.shape[0] if ev.seeds is not None else 1
    counts = np.bincount(ev.neurons, minlength=1000)[None, :] / n_runs
    seconds = duration_ms / 1e3
    return (
        float(counts[:, :800].sum() / (800 * seconds)),
        float(counts[:, 800:].sum() / (200 * seconds)),
    )


def _timed_simulate(jaxfne, model, duration_ms: int, seed) -> tuple[float, object]:
    import jax

    t0 = time.perf_counter()
    sig = jaxfne.simulate(model, duration_ms=float(duration_ms), dt_ms=1.0, seed=seed)
    jax.block_until_ready(sig.V_m)  # the spikes are host events already; V_m (if any) may be on device
    return time.perf_counter() - t0, sig


def bench_jaxfne(duration_ms: int, seed: int, n_seeds: int, dtype: str) -> list[Row]:
    """jaxfne: one network, a seed batch of ``n_seeds`` (one ``simulate`` call), and ``n_seeds`` separate calls."""
    try:
        import jaxfne

        jaxfne.construct  # noqa: B018
    except (ImportError, AttributeError) as exc:
        return [Row(f"jaxfne {dtype}", note=f"not installed ({type(exc).__name__})")]
    import jax

    bio_s = duration_ms / 1e3

    def timed_row(label: str, model, seeds, note: str) -> Row:
        """A compiling call, then a warm one: per-network wall time, set-up = compile."""
        first, _ = _timed_simulate(jaxfne, model, duration_ms, seeds)
        warm, sig = _timed_simulate(jaxfne, model, duration_ms, seeds)
        per = len(seeds) if isinstance(seeds, list) else 1
        return Row(label, warm / per / bio_s, first - warm, *_jaxfne_rates(sig, duration_ms), note=note)

    t0 = time.perf_counter()
    model = _jaxfne_model(jaxfne, duration_ms, dtype, seed)
    construct_s = time.perf_counter() - t0
    rows = [timed_row(f"jaxfne {dtype}, 1 network", model, seed,
                      f"spikes only; set-up = compile; construct {construct_s:.2f} s; jax {jax.__version__}")]
    rows.append(timed_row(f"jaxfne {dtype}, 1 network + V_m", _jaxfne_model(jaxfne, duration_ms, dtype, seed, record_vm=True),
                          seed, "spikes and V_m of all 1000 neurons every step"))
    seeds = list(range(seed, seed + n_seeds))
    rows.append(timed_row(f"jaxfne {dtype}, {n_seeds} seeds, one call", model, seeds, "per network; set-up = compile"))
    t0 = time.perf_counter()
    counts = []
    for s in seeds:
        _, sig_s = _timed_simulate(jaxfne, model, duration_ms, s)
        counts.append(_jaxfne_rates(sig_s, duration_ms))
    sequential = time.perf_counter() - t0
    rate_e, rate_i = np.mean(counts, axis=0)
    rows.append(
        Row(
            f"jaxfne {dtype}, {n_seeds} seeds sequential",
            sequential / n_seeds / bio_s,
            None,
            float(rate_e),
            float(rate_i),
            note="per network",
        )
    )
    return rows


def _child_compile(duration_ms: int, dtype: str) -> None:
    """In a fresh process: construct, first (compiling) and second simulate; print JSON."""
    t0 = time.perf_counter()
    import jax

    import jaxfne

    t1 = time.perf_counter()
    model = _jaxfne_model(jaxfne, duration_ms, dtype)
    t2 = time.perf_counter()
    first, _ = _timed_simulate(jaxfne, model, duration_ms, 0)
    warm, _ = _timed_simulate(jaxfne, model, duration_ms, 0)
    print(
        json.dumps(
            {
                "import_s": t1 - t0,
                "construct_s": t2 - t1,
                "first_simulate_s": first,
                "warm_simulate_s": warm,
                "compile_s": first - warm,
                "cache_dir": jax.config.jax_compilation_cache_dir,
            }
        )
    )


def compile_cache_probe(duration_ms: int, dtype: str) -> list[dict] | str:
    """jaxfne compile time in two fresh processes sharing a persistent compilation cache."""
    try:
        import jaxfne  # noqa: F401
    except ImportError:
        return "not installed"
    results = []
    with tempfile.TemporaryDirectory(prefix="jaxfne_cc_") as cache:
        env = dict(os.environ)
        env["JAX_COMPILATION_CACHE_DIR"] = cache
        env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
        env["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
        cmd = [sys.executable, __file__, "--child-compile", "--duration-ms", str(duration_ms)]
        cmd += ["--dtype", dtype]
        for _ in range(2):
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                return "failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:100]
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            result["process_wall_s"] = wall
            results.append(result)
    return results


def print_table(rows: list[Row], duration_ms: int) -> None:
    """Print the result table and the jaxfne/NEST and jaxfne/Brian2 ratios."""
    print(f"\nIzhikevich 2003 network, 800 E + 200 I, dt 1 ms, {duration_ms / 1e3:g} s biological")
    header = f"{'tool':<38} {'wall s / bio s':>14} {'set-up s':>9} {'E Hz':>6} {'I Hz':>6}  note"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.tool:<38} {_fmt(r.per_bio_s, 14, 4)} {_fmt(r.setup_s, 9, 2)} "
            f"{_fmt(r.rate_e, 6, 2)} {_fmt(r.rate_i, 6, 2)}  {r.note}"
        )
    by_tool = {r.tool: r for r in rows if r.per_bio_s is not None}
    refs = [t for t in by_tool if t.startswith("NEST") or t.startswith("Brian2 cpp")]
    mine = [t for t in by_tool if t.startswith("jaxfne")]
    if refs and mine:
        print("\nratios of wall time per biological second (< 1: jaxfne faster)")
        for m in mine:
            parts = [f"/{ref.split(' (')[0]}: {by_tool[m].per_bio_s / by_tool[ref].per_bio_s:.2f}" for ref in refs]
            print(f"  {m:<38} " + "   ".join(parts))


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 s, 4 seeds: a smoke run")
    parser.add_argument("--duration-ms", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=None, help="batch size of the vmapped run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument(
        "--repeats", type=int, default=None, help="runs of each reference tool (median; 3, quick 1)"
    )
    parser.add_argument("--brian2-python", default=None, help="interpreter that imports brian2")
    parser.add_argument(
        "--only", default="numpy,nest,brian2,jaxfne,cache", help="comma-separated subset to run"
    )
    parser.add_argument("--child-compile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    duration_ms = args.duration_ms or (1000 if args.quick else 10_000)
    n_seeds = args.seeds or (4 if args.quick else 64)
    if args.child_compile:
        _child_compile(duration_ms, args.dtype)
        return
    only = set(args.only.split(","))

    repeats = args.repeats or (1 if args.quick else 3)
    load_before = os.getloadavg()[0]
    rows: list[Row] = []
    if "numpy" in only:
        rows.append(median_row(bench_numpy, repeats, duration_ms, args.seed))
    if "nest" in only:
        rows.append(median_row(bench_nest, repeats, duration_ms, args.seed, args.threads))
    if "brian2" in only:
        python = find_brian2_python(args.brian2_python)
        for device in ("runtime", "cpp_standalone"):
            rows.append(
                median_row(bench_brian2, repeats, duration_ms, args.seed, device, args.threads, python)
            )
    if "jaxfne" in only:
        rows.extend(bench_jaxfne(duration_ms, args.seed, n_seeds, args.dtype))
    print_table(rows, duration_ms)
    print(
        f"\n1-min load average before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores (threaded tools suffer most when it exceeds the core count)"
    )
    if "cache" in only:
        probe = compile_cache_probe(duration_ms, args.dtype)
        print("\njaxfne compile time in fresh processes with a persistent compilation cache")
        if isinstance(probe, str):
            print(f"  {probe}")
        else:
            for label, r in zip(("first process (cold cache)", "second process (warm cache)"), probe):
                print(
                    f"  {label:<28} compile {r['compile_s']:6.2f} s   first simulate "
                    f"{r['first_simulate_s']:6.2f} s   import {r['import_s']:5.2f} s   "
                    f"process {r['process_wall_s']:6.2f} s"
                )


if __name__ == "__main__":
    main()
