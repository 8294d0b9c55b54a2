"""Gradients through event-driven propagation: their cost, and what they buy in a parameter recovery.

``speed``: on the Potjans & Diesmann (2014) column at ``--scale``/``--k-scale``, the wall time of one
forward pass (``simulate_fn`` + a rate readout, jitted) and of one forward + backward pass
(``jax.value_and_grad`` with respect to the eight-by-eight projection gains), with the one-sided
surrogate (beta 0.2/mV) and rematerialised chunks of ``--checkpoint-ms``; prints both and the ratio.

``csd``: a layer-4 afferent's weight recovered from the laminar CSD profile (below). At a volley of
20 Hz per input a 5 % change of its weight moves the 16-seed mean profile by less than the seed
noise of that mean (RMSE 2.8 against 6.3 A/m^3); at 100 Hz (the default) by 31 against 7.6.

``memory``: the peak resident memory of one forward + backward pass of 200 and 800 ms, every step's
residuals kept or rematerialised in chunks of ``--checkpoint-ms`` and of 10 ms (a fresh process
each), beside the forward pass's.

``recovery``: the same column with four projection gains perturbed by +-20 %, fitted to the eight
population rates of the unperturbed column (targets from seeds 100-103, the fit's own seeds are
others): ``jaxfne.fitting.fit`` (Adam) against scipy's Nelder-Mead on the same loss and seeds. It
prints the loss, the rates' and gains' largest relative errors and the number of simulations (a
gradient step counted as its forward-equivalents, the measured ratio of ``speed``) each needed.

Usage::

    python benchmarks/gradients.py speed                 # 5 % neurons, 10 % in-degrees, 200 ms
    python benchmarks/gradients.py recovery --steps 60
    python benchmarks/gradients.py memory
    python benchmarks/gradients.py recovery --scale 0.1 --k-scale 0.1 --t-ms 600 --steps 100 --schedule cosine
    python benchmarks/gradients.py csd --steps 30 --seeds 8 --target-seeds 16 --max-evals 60
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

PERTURBED = {"gain/L4E->L2/3E": 1.2, "gain/L2/3I->L2/3E": 0.8, "gain/L4I->L4E": 1.2, "gain/L5E->L5I": 0.8}
SURROGATE = {"kind": "one_sided", "beta": 0.2}


def _column(scale: float, k_scale: float):
    import jaxfne

    return jaxfne.construct(jaxfne.presets.potjans_diesmann_2014(scale=scale, k_scale=k_scale).probes(["SPK"]))


def _rate_objectives(model, t_ms: float, skip_ms: float, seeds):
    import jaxfne

    truth = jaxfne.simulate(model, duration_ms=t_ms, dt_ms=0.1, seed=list(seeds))
    objs = []
    for pop in (p.split(":", 1)[1] for p in model.table.populations):
        sel = {"layer": pop[:-1], "cell_type": pop[-1], "t_start_ms": skip_ms}
        rate = float(np.mean(model.compute_readout(truth, [jaxfne.readout_spec(pop, "spike_rate_hz", **sel)]).results[pop]))
        objs.append(jaxfne.objective(pop, "spike_rate_hz", rate, **sel))
    return objs


def speed(args) -> dict:
    import jax
    import jax.numpy as jnp

    import jaxfne

    m = _column(args.scale, args.k_scale)
    spec = jaxfne.readout_spec("r", "spike_rate_hz")
    f = m.simulate_fn(args.t_ms, 0.1, surrogate=SURROGATE, checkpoint_ms=args.checkpoint_ms)

    def rate(gain, seed):
        return m.compute_readout(f({**m.params, "gain": gain}, seed), [spec]).results["r"]

    fwd, both = jax.jit(rate), jax.jit(jax.value_and_grad(rate))
    g0 = jnp.asarray(m.params["gain"])
    jax.block_until_ready(fwd(g0, 0))
    jax.block_until_ready(both(g0, 0))
    reps = args.reps
    t0 = time.perf_counter()
    for s in range(reps):
        jax.block_until_ready(fwd(g0, s + 1))
    t_fwd = (time.perf_counter() - t0) / reps
    t0 = time.perf_counter()
    for s in range(reps):
        jax.block_until_ready(both(g0, s + 1))
    t_both = (time.perf_counter() - t0) / reps
    return {"what": "speed", "n": m.n, "synapses": m.synapses.count, "t_ms": args.t_ms, "backend": jax.default_backend(),
            "checkpoint_ms": args.checkpoint_ms, "forward_s": t_fwd, "forward_backward_s": t_both,
            "ratio": t_both / t_fwd}


def recovery(args) -> dict:

    from jaxfne.fitting import fit, resolve

    m = _column(args.scale, args.k_scale)
    objs = _rate_objectives(m, args.t_ms, args.skip_ms, range(100, 100 + args.target_seeds))
    paths = list(PERTURBED)
    start = m
    for path, factor in PERTURBED.items():
        p = resolve(m, path)
        start = start.with_params(gain=p.put(start.params, p.get(start.params) * factor)["gain"])
    seeds = list(range(args.seeds))

    def rates_of(model):
        """The eight rates on four seeds neither the targets nor the fits used."""
        import jaxfne

        run = jaxfne.simulate(model, duration_ms=args.t_ms, dt_ms=0.1, seed=list(range(200, 204)))
        return np.array([float(np.mean(model.compute_readout(run, [o.spec]).results[o.name])) for o in objs])

    targets = np.array([o.target for o in objs])
    t0 = time.perf_counter()
    import optax

    opt = optax.adam(args.learning_rate if args.schedule == "constant" else
                     optax.cosine_decay_schedule(args.learning_rate * 2, args.steps, alpha=0.05))
    res = fit(start, objs, paths, duration_ms=args.t_ms, dt_ms=0.1, seeds=seeds, steps=args.steps,
              optimizer=opt, surrogate=SURROGATE, checkpoint_ms=args.checkpoint_ms,
              bounds={p: "positive" for p in paths}, fresh_seeds=args.fresh_seeds)
    t_grad = time.perf_counter() - t0
    gains = np.array([float(res.values[p]) for p in paths])
    grad_rates = rates_of(res.model)
    best = min(res.losses)
    print(json.dumps({"gradient_gains": gains.tolist(), "loss_best": best, "wall_s": t_grad,
                      "rate_max_rel_err": float(np.max(np.abs(grad_rates - targets) / targets))}), flush=True)

    # Nelder-Mead on the same loss and seeds (the forward pass only, jitted once)
    put = [resolve(m, p) for p in paths]
    x0 = np.array([float(p.get(start.params)) for p in put])
    nm, calls, t_nm = _nelder_mead(start, objs, seeds, args.t_ms, put, x0,
                                   {"maxfev": args.max_evals, "xatol": 1e-3, "fatol": 1e-4})
    reach = next((i + 1 for i, v in enumerate(calls) if v <= best), None)
    nm_model = start
    for path, v in zip(put, nm.x):
        nm_model = nm_model.with_params(gain=path.put(nm_model.params, v)["gain"])
    return {"what": "recovery", "n": m.n, "t_ms": args.t_ms, "seeds": seeds, "target_seeds": args.target_seeds,
            "steps": args.steps, "fresh_seeds": args.fresh_seeds, "schedule": args.schedule, "scale": args.scale,
            "k_scale": args.k_scale,
            # the unperturbed column measured as the fits are: the noise floor of the rates' errors
            "true_model_rate_max_rel_err": float(np.max(np.abs(rates_of(m) - targets) / targets)),
            "gradient": {"loss_first": res.losses[0], "loss_best": best, "loss_last": res.losses[-1],
                         "gains": gains.tolist(), "gain_max_rel_err": float(np.max(np.abs(gains - 1.0))),
                         "rate_max_rel_err": float(np.max(np.abs(grad_rates - targets) / targets)),
                         "wall_s": t_grad, "simulations": args.steps * len(seeds)},
            "nelder_mead": {"loss_best": float(min(calls)), "evaluations": len(calls),
                            "simulations": len(calls) * len(seeds), "evaluations_to_gradient_best": reach,
                            "gains": nm.x.tolist(), "gain_max_rel_err": float(np.max(np.abs(nm.x - 1.0))),
                            "rate_max_rel_err": float(np.max(np.abs(rates_of(nm_model) - targets) / targets)),
                            "wall_s": t_nm}}


def csd(args) -> dict:
    """A layer-4 afferent (Poisson volley, 100-150 ms) on the same column: its weight, started 30 % high,
    recovered from the time-averaged laminar CSD in 100-160 ms of a target run: ``--target-seeds``
    seeds from 100 on (the noise of an experiment's trial average), or with ``--common-seeds`` the fit's
    own seeds (common random numbers: the true weight is the loss's minimum, and what is left is the
    optimiser's and the surrogate gradient's error). Then scipy's Nelder-Mead on the same loss and
    seeds (forward passes only), counted until it reaches the gradient fit's best loss."""
    import optax

    import jaxfne
    from jaxfne import Signals
    from jaxfne.fitting import fit, resolve, trace_objective

    cfg = (jaxfne.presets.potjans_diesmann_2014(scale=args.scale, k_scale=args.k_scale)
           .stimulus("poisson", target={"layer": "L4"}, rate_hz=args.volley_hz, n_inputs=100, weight=87.8,
                     start_ms=100.0, stop_ms=150.0, synapse_depth_um="L4")
           .probes(["SPK", "CSD-proxy"], record_neurons=[]))
    m = jaxfne.construct(cfg)
    drive = int(np.asarray(m.params["poisson_weight"]).size - 1)  # the afferent: the configuration's last drive
    path = f"poisson_weight/{drive}"
    seeds = list(range(args.seeds))
    target_seeds = seeds if args.common_seeds else list(range(100, 100 + args.target_seeds))
    truth = jaxfne.simulate(m, duration_ms=args.t_ms, dt_ms=0.1, seed=target_seeds)
    window = (100.0, 160.0)
    sel = (truth.time_ms > window[0]) & (truth.time_ms <= window[1])
    target = np.asarray(truth.CSD)[:, sel].mean(axis=(0, 1))
    weights = np.asarray(m.params["poisson_weight"]).copy()
    weights[drive] *= 1.3
    start = m.with_params(poisson_weight=weights)
    opt = optax.adam(optax.cosine_decay_schedule(args.learning_rate * 2, args.steps))
    obj = trace_objective("csd_profile", "CSD", target, t_start_ms=window[0], t_stop_ms=window[1], profile=True)
    t0 = time.perf_counter()
    res = fit(start, [obj], [path], duration_ms=args.t_ms, dt_ms=0.1, seeds=seeds, steps=args.steps,
              optimizer=opt, surrogate=SURROGATE, checkpoint_ms=args.checkpoint_ms, bounds={path: (20.0, 200.0)})
    w = float(res.values[path])
    t_fit = time.perf_counter() - t0
    best_step = int(np.argmin(res.losses))
    w_best = float(np.ravel(res.history[best_step]["values"][path])[0])

    def seed_mean_loss(model):
        """The fit's loss (the RMSE of the mean profile of its own seeds): the seed noise sets its floor."""
        run = jaxfne.simulate(model, duration_ms=args.t_ms, dt_ms=0.1, seed=seeds)
        profiles = [obj.statistic(model, Signals.from_xarray(run.to_xarray().isel(seed=i)))
                    for i in range(len(seeds))]
        return float(obj.compare(np.mean(np.asarray(profiles), axis=0)))

    out = {"what": "csd", "n": m.n, "t_ms": args.t_ms, "volley_hz": args.volley_hz, "steps": args.steps,
           "seeds": seeds, "target_seeds": target_seeds, "true_weight_pA": 87.8, "start_weight_pA": 87.8 * 1.3,
           "gradient": {"fitted_weight_pA": w, "rel_err": w / 87.8 - 1, "best_step": best_step,
                        "best_weight_pA": w_best, "best_rel_err": w_best / 87.8 - 1, "loss_first": res.losses[0],
                        "loss_best": min(res.losses), "loss_last": res.losses[-1],
                        "loss_at_fitted": seed_mean_loss(res.model), "loss_at_true_weight": seed_mean_loss(m),
                        "simulations": args.steps * len(seeds), "wall_s": t_fit,
                        "weights_pA": [float(np.ravel(h["values"][path])[0]) for h in res.history]}}
    print(json.dumps(out["gradient"]), flush=True)  # before the gradient-free run, which may take long

    # Nelder-Mead on the same loss and seeds. It stops on its tolerances (a weight known to 0.5 pA,
    # 0.6 %) or after --max-evals: on a chaotic column the loss of nearby weights differs by more
    # than any tolerance on the loss itself
    nm, calls, t_nm = _nelder_mead(start, [obj], seeds, args.t_ms, [resolve(m, path)], np.array([87.8 * 1.3]),
                                   {"maxfev": args.max_evals, "xatol": 0.5, "fatol": np.inf})
    reach = next((i + 1 for i, v in enumerate(calls) if v <= out["gradient"]["loss_best"]), None)
    out["nelder_mead"] = {"weight_pA": float(nm.x[0]), "rel_err": float(nm.x[0]) / 87.8 - 1,
                          "loss_best": float(min(calls)), "evaluations": len(calls),
                          "simulations": len(calls) * len(seeds), "evaluations_to_gradient_best": reach,
                          "weights_pA": [float(v) for v in np.ravel(nm.final_simplex[0])], "wall_s": t_nm}
    return out


def _nelder_mead(model, objectives, seeds, t_ms: float, paths, x0, options: dict):
    """scipy's Nelder-Mead from ``x0`` on the parameters ``paths`` of ``model``, scored by the loss
    ``fit`` differentiates (:func:`jaxfne.fitting.fit.seed_mean_loss`, forward passes only, the
    seeds vmapped, jitted once): ``(result, loss of every evaluation, wall time)``."""
    import jax
    import jax.numpy as jnp
    from scipy.optimize import minimize

    from jaxfne.fitting.fit import seed_mean_loss

    loss = seed_mean_loss(model, model.simulate_fn(t_ms, 0.1), objectives, seeds)

    def loss_at(x):
        p = model.params
        for path, v in zip(paths, x):
            p = path.put(p, v)
        return loss(p)

    loss_jit = jax.jit(loss_at)
    calls: list[float] = []

    def counted(x):
        calls.append(float(loss_jit(jnp.asarray(x, jnp.float32))))
        return calls[-1]

    t0 = time.perf_counter()
    nm = minimize(counted, x0, method="Nelder-Mead", options=options)
    return nm, calls, time.perf_counter() - t0


def _peak_rss_of_one_gradient(scale: float, k_scale: float, t_ms: float, checkpoint_ms, backward: bool) -> dict:
    """In a fresh process: one jitted pass (forward, or value_and_grad in the gains) and the process's
    peak resident memory."""
    import resource

    import jax
    import jax.numpy as jnp

    import jaxfne

    m = _column(scale, k_scale)
    spec = jaxfne.readout_spec("r", "spike_rate_hz")
    f = m.simulate_fn(t_ms, 0.1, surrogate=SURROGATE, checkpoint_ms=checkpoint_ms)

    def rate(gain):
        return m.compute_readout(f({**m.params, "gain": gain}, 1), [spec]).results["r"]

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    g = jnp.asarray(m.params["gain"])
    t0 = time.perf_counter()
    jax.block_until_ready(jax.jit(jax.value_and_grad(rate) if backward else rate)(g))
    return {"t_ms": t_ms, "checkpoint_ms": checkpoint_ms, "backward": backward,
            "peak_rss_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_before_pass_MiB": before / 1024, "wall_s_incl_compile": time.perf_counter() - t0}


def memory(args) -> dict:
    """Peak memory of one forward + backward pass against the duration, with and without
    rematerialised chunks (each in its own process; the forward pass alone for comparison)."""
    import multiprocessing as mp

    cases = [(200.0, None, False), (200.0, None, True), (200.0, args.checkpoint_ms, True), (200.0, 10.0, True),
             (800.0, None, False), (800.0, None, True), (800.0, args.checkpoint_ms, True), (800.0, 10.0, True)]
    ctx = mp.get_context("spawn")
    rows = []
    for t_ms, ck, backward in cases:
        with ctx.Pool(1) as pool:
            rows.append(pool.apply(_peak_rss_of_one_gradient, (args.scale, args.k_scale, t_ms, ck, backward)))
        print(json.dumps(rows[-1]), flush=True)
    return {"what": "memory", "scale": args.scale, "k_scale": args.k_scale, "cases": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["speed", "recovery", "csd", "memory"])
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--k-scale", type=float, default=0.1)
    ap.add_argument("--t-ms", type=float, default=None)
    ap.add_argument("--skip-ms", type=float, default=100.0)
    ap.add_argument("--checkpoint-ms", type=float, default=50.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--learning-rate", type=float, default=0.03)
    ap.add_argument("--max-evals", type=int, default=400)
    ap.add_argument("--schedule", choices=["constant", "cosine"], default="constant",
                    help="recovery: Adam at --learning-rate, or cosine-decayed from twice it")
    ap.add_argument("--target-seeds", type=int, default=4, help="seeds of the target runs (from 100)")
    ap.add_argument("--fresh-seeds", action="store_true",
                    help="recovery: new noise seeds at every step (fit(fresh_seeds=True)) instead of the same --seeds")
    ap.add_argument("--volley-hz", type=float, default=100.0,
                    help="csd: rate of each of the afferent's 100 inputs per neuron during the volley")
    ap.add_argument("--common-seeds", action="store_true", help="csd: the target from the fit's own seeds")
    args = ap.parse_args()
    if args.t_ms is None:
        args.t_ms = {"recovery": 300.0, "csd": 170.0}.get(args.what, 200.0)
    out = {"speed": speed, "recovery": recovery, "csd": csd, "memory": memory}[args.what](args)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
