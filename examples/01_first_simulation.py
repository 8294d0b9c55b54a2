"""A first simulation: configure a column, construct it, simulate two seeds, read it out.

The steps every jaxfne run goes through:

1. describe the model as a :class:`jaxfne.Configuration` (an immutable value; every method
   validates its arguments and returns a new configuration);
2. :func:`jaxfne.construct` it once (positions, connectivity, forward matrices);
3. :func:`jaxfne.simulate` it, here for two noise seeds in one call;
4. reduce the recording to numbers with readouts (:func:`jaxfne.readout_spec`);
5. turn the recording into an :class:`xarray.Dataset` with named dimensions, coordinates and units.

Run it with ``python examples/01_first_simulation.py``. ``JAXFNE_EXAMPLE_SCALE=small`` runs a tiny
column for a few tens of milliseconds (what the tests do); unset, a 1000-neuron column for one second.
This example writes no files.
"""

from __future__ import annotations

import os

import numpy as np

import jaxfne as jtfne
from jaxfne.errors import ConfigurationError

SCALE = os.environ.get("JAXFNE_EXAMPLE_SCALE", "")
if SCALE not in ("", "small"):
    raise ConfigurationError("JAXFNE_EXAMPLE_SCALE", SCALE, "'small' (tiny sizes, as the tests run) or unset")
SMALL = SCALE == "small"

N_NEURONS = 80 if SMALL else 1000
DURATION_MS = 60.0 if SMALL else 1000.0
T_START_MS = 20.0 if SMALL else 200.0  # readouts ignore the start-up transient before this time


def main() -> None:
    """Configure, construct, simulate, read out and convert one column."""
    # -- 1. configure -----------------------------------------------------------------------------
    # A column of three layers with 80 % excitatory cells, the heterogeneous Izhikevich (2003)
    # network ("cortical_eig": its published weights, thalamic noise and half-step numerics), and
    # three probes: spikes, membrane potential and synaptic current of every neuron.
    cfg = (jtfne.configuration()
           .runtime(seed=1, duration_ms=DURATION_MS, dt_ms=0.1)
           .column("V1", layers=["L2/3", "L4", "L5"], n=N_NEURONS)
           .cell_types({"E": 0.8, "I": 0.2})
           .connectivity()  # the preset's own wiring (cortical_eig: all-to-all, published weights)
           .set_emitter("izhikevich", "cortical_eig")
           .probes(["SPK", "Vm", "I_syn"]))
    # The configuration is plain data with a content hash: it is what stores and the workflow carry.
    print(f"configuration {cfg.sha256[:12]}: {cfg.runtime_spec}")

    # A bad value is refused at once, naming the field, the value and what is allowed.
    try:
        cfg.runtime(dt_ms=-0.1)
    except ConfigurationError as exc:
        print(f"refused: {exc}")

    # -- 2. construct -----------------------------------------------------------------------------
    model = jtfne.construct(cfg)
    print(model)
    table = model.neuron_table()  # one row per neuron: column, layer, cell type, position
    print(table.groupby("population").size().rename("neurons").to_string())

    # -- 3. simulate ------------------------------------------------------------------------------
    # A list of seeds runs in one call; every array then has a leading seed axis.
    signals = jtfne.simulate(model, seed=[1, 2])
    print(signals)
    print("units:", signals.units)
    # Step k covers [k dt, (k + 1) dt] and is sampled at its end: time_ms[k] = (k + 1) dt.
    print(f"time_ms: {signals.time_ms[0]:g} ... {signals.time_ms[-1]:g} ms, dt {signals.dt_ms:g} ms")
    times, neurons = signals.spike_times(seed_index=0)  # the spikes of the first seed as events
    print(f"seed 1: {times.size} spikes from {np.unique(neurons).size} neurons, "
          f"first at {times.min() if times.size else float('nan'):g} ms")

    # -- 4. readouts ------------------------------------------------------------------------------
    specs = [jtfne.readout_spec("rate_E", "spike_rate_hz", cell_type="E", t_start_ms=T_START_MS),
             jtfne.readout_spec("rate_I", "spike_rate_hz", cell_type="I", t_start_ms=T_START_MS),
             jtfne.readout_spec("rate_L4", "spike_rate_hz", layer="L4", t_start_ms=T_START_MS),
             jtfne.readout_spec("V_m", "mean_V_m", t_start_ms=T_START_MS)]
    readouts = model.compute_readout(signals, specs).to_dict()["results"]
    for name, per_seed in readouts.items():  # a batch gives one value per seed
        print(f"{name:8s} " + "  ".join(f"{v:8.3f}" for v in per_seed))

    # -- 5. xarray --------------------------------------------------------------------------------
    ds = signals.to_xarray()
    print(dict(ds.sizes))
    print("V_m:", ds["V_m"].dims, ds["V_m"].attrs["units"])
    # Neuron coordinates select populations by name; time is a coordinate in ms.
    l4_excitatory = (ds["layer"] == "L4") & (ds["cell_type"] == "E")
    window = ds["time"] > T_START_MS
    counts = ds["spikes"].sel(time=window).where(l4_excitatory, drop=True).sum(("time", "neuron"))
    print("L4 E spikes per seed:", counts.values.astype(int).tolist())
    # Reading the Dataset back gives the same Signals, without a model.
    back = jtfne.Signals.from_xarray(ds)
    assert np.array_equal(np.asarray(back.spikes), np.asarray(signals.spikes))
    print("round trip through xarray: identical spikes")


if __name__ == "__main__":
    main()
