"""Fitting: recover a Poisson drive rate from population rates by gradient descent.

The README's ``fit_drive`` study as a script. A 200-neuron ``iaf_psc_exp`` column (NEST's default
parameters, a sparse E/I network, 1000 Poisson inputs per neuron) is driven at 9 Hz; its E and I
rates are the targets. The same column, started at 8 Hz, is fitted to them:

- :func:`jaxfne.objective` turns a readout metric and a target into a squared error;
- :func:`jaxfne.fitting.fit` names the parameter by its path (``poisson_rate_hz/0``: the rate of the
  first Poisson drive), keeps it positive through a transform, and takes Adam steps on the loss,
  each over a vmapped batch of noise seeds, with gradients through the spikes
  (:func:`jaxfne.fitting.surrogate` ``one_sided``: only the spikes that occurred pass gradient) and
  through the Poisson counts (a pathwise derivative in their mean);
- the :class:`jaxfne.fitting.FitResult` holds the fitted model, the values and the history, and
  writes them with the configuration and provenance as a zarr store.

Run it with ``python examples/04_fitting.py``; ``JAXFNE_EXAMPLE_SCALE=small`` takes three steps on a
40-neuron column (the tests), unset 40 steps on the study's column (about a minute on a laptop). The
fit store is written to ``$JAXFNE_EXAMPLE_OUT/04_fit.zarr`` (default ``results/examples/``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import jax.numpy as jnp
import numpy as np

import jaxfne as jtfne
from jaxfne.errors import ConfigurationError
from jaxfne.fitting import fit

SCALE = os.environ.get("JAXFNE_EXAMPLE_SCALE", "")
if SCALE not in ("", "small"):
    raise ConfigurationError("JAXFNE_EXAMPLE_SCALE", SCALE, "'small' (tiny sizes, as the tests run) or unset")
SMALL = SCALE == "small"
OUT = Path(os.environ.get("JAXFNE_EXAMPLE_OUT", "results/examples"))

N_NEURONS = 40 if SMALL else 200
DURATION_MS = 80.0 if SMALL else 300.0
T_START_MS = 20.0 if SMALL else 50.0      # the rates leave out the start-up transient
STEPS = 3 if SMALL else 40
LEARNING_RATE = 0.3 if SMALL else 0.05   # Adam moves the rate by about this much per step
FIT_SEEDS = [0] if SMALL else [0, 1]       # noise seeds simulated together at every step
TARGET_SEEDS = [0, 1] if SMALL else [0, 1, 2, 3]
TRUE_RATE_HZ, START_RATE_HZ = 9.0, 8.0


def main() -> None:
    """Measure the targets at 9 Hz, fit the drive from 8 Hz, store the fit."""
    cfg = (jtfne.configuration()
           .runtime(duration_ms=DURATION_MS, dt_ms=0.1)
           .column("V1", layers=["L2/3", "L4", "L5"], n=N_NEURONS)
           .cell_types({"E": 0.8, "I": 0.2})
           .connectivity()                                  # a sparse cortical E/I network
           .set_emitter("iaf_psc_exp", "nest_default", drive="none")
           .stimulus("poisson", rate_hz=START_RATE_HZ, n_inputs=1000, weight=20.0)   # pA per input
           .probes(["SPK"]))                                # spikes only
    model = jtfne.construct(cfg)
    print(model)
    print("drive rate leaf:", model.params["poisson_rate_hz"])

    # -- the targets: the same column at the true rate, the mean over a few noise seeds --------------
    rate = model.params["poisson_rate_hz"]
    truth = model.with_params(poisson_rate_hz=jnp.full_like(rate, TRUE_RATE_HZ))
    specs = [jtfne.readout_spec(f"rate_{c}", "spike_rate_hz", cell_type=c, t_start_ms=T_START_MS) for c in "EI"]
    measured = truth.compute_readout(jtfne.simulate(truth, seed=TARGET_SEEDS), specs).results
    targets = {name: float(np.mean(v)) for name, v in measured.items()}
    print(f"targets at {TRUE_RATE_HZ:g} Hz:", {k: round(v, 2) for k, v in targets.items()})

    # -- the objectives and the fit ---------------------------------------------------------------
    objectives = [jtfne.objective(f"rate_{c}", "spike_rate_hz", targets[f"rate_{c}"], cell_type=c,
                                  t_start_ms=T_START_MS) for c in "EI"]

    def report(step, loss, values):
        print(f"step {step:3d}  loss {loss:10.4f}  rate {float(values['poisson_rate_hz/0']):.3f} Hz")

    result = fit(model, objectives, ["poisson_rate_hz/0"], duration_ms=DURATION_MS, dt_ms=0.1,
                 seeds=FIT_SEEDS, steps=STEPS, learning_rate=LEARNING_RATE,
                 bounds={"poisson_rate_hz/0": "positive"},
                 surrogate={"kind": "one_sided", "beta": 0.2}, callback=report)
    fitted = float(result.values["poisson_rate_hz/0"])
    print(f"fitted drive {fitted:.3f} Hz (true {TRUE_RATE_HZ:g}, start {START_RATE_HZ:g}); "
          f"loss {result.losses[0]:.3g} -> {result.losses[-1]:.3g} in {result.wall_time_s:.1f} s")

    # The fitted model is a model like any other: simulate it on seeds the fit never saw.
    check = result.model.compute_readout(jtfne.simulate(result.model, seed=[10, 11]), specs).results
    print("fitted model on new seeds:", {k: np.round(v, 2).tolist() for k, v in check.items()})

    # -- store the fit: history, values, configuration and provenance --------------------------------
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "04_fit.zarr"
    if path.exists():  # a store is never overwritten in place: this script's earlier result goes first
        shutil.rmtree(path)
    written = result.to_zarr(path, rule="examples/04_fitting.py")
    ds = jtfne.io.open_store(written)
    print(f"wrote {written}: loss[{ds.sizes['step']}], stage {ds.attrs['prov_stage']}, "
          f"configuration {ds.attrs['prov_config_sha256'][:12]}")


if __name__ == "__main__":
    main()
