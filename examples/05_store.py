"""Stores: write a simulation with its provenance, open and verify it, and rebuild the run from it.

Every stage of the workflow writes an xarray Dataset to a zarr store in the same way, and so can a
script:

- :meth:`jaxfne.Signals.to_xarray` gives the Dataset (named dims, neuron coordinates, units);
  :func:`jaxfne.io.add_spike_events` adds the spikes as a CF ragged event list;
- :func:`jaxfne.io.collect` makes the provenance attributes: the resolved configuration and its
  hash, the seeds, the versions of jaxfne and its dependencies, the git commit, device and dtype;
- :func:`jaxfne.io.write_store` writes to a temporary path, records a manifest of every file's size
  and sha256, and renames the store into place, so an interrupted write leaves nothing that looks
  complete;
- :func:`jaxfne.io.open_store` checks every file against the manifest before anything is read
  (:func:`jaxfne.io.verify_store`): a damaged chunk is an error that names the variable and the chunk;
- :func:`jaxfne.io.rerun_store` rebuilds the model from the store alone, simulates the same seeds
  again and compares every array (on the same platform they are identical).

Run it with ``python examples/05_store.py``; ``JAXFNE_EXAMPLE_SCALE=small`` runs a 60-neuron column
for 50 ms (the tests), unset a 500-neuron column for one second with its LFP. The store is written
to ``$JAXFNE_EXAMPLE_OUT/05_store/sim.zarr`` (default ``results/examples/``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import jaxfne as jtfne
from jaxfne import io
from jaxfne.errors import ConfigurationError
from jaxfne.io.provenance import flat_attrs

SCALE = os.environ.get("JAXFNE_EXAMPLE_SCALE", "")
if SCALE not in ("", "small"):
    raise ConfigurationError("JAXFNE_EXAMPLE_SCALE", SCALE, "'small' (tiny sizes, as the tests run) or unset")
SMALL = SCALE == "small"
OUT = Path(os.environ.get("JAXFNE_EXAMPLE_OUT", "results/examples"))

N_NEURONS = 60 if SMALL else 500
DURATION_MS = 50.0 if SMALL else 1000.0
SEEDS = [1, 2]


def main() -> None:
    """Simulate, store, open, verify, read back and rerun one configuration."""
    cfg = (jtfne.configuration()
           .runtime(duration_ms=DURATION_MS, dt_ms=0.1)
           .column("V1", layers=["L2/3", "L4", "L5"], n=N_NEURONS)
           .cell_types({"E": 0.8, "I": 0.2})
           .connectivity()
           .set_emitter("izhikevich", "cortical_eig")
           .probes(["SPK", "Vm", "LFP-proxy", "CSD-proxy"], record_neurons=list(range(10))))  # V_m of 10 neurons
    model = jtfne.construct(cfg)
    t0 = time.perf_counter()
    signals = jtfne.simulate(model, seed=SEEDS)
    wall = time.perf_counter() - t0

    # -- write: the Dataset, the ragged spike list, provenance; atomically, with a manifest ----------
    ds = io.add_spike_events(signals.to_xarray())
    ds.attrs = flat_attrs(ds.attrs) | io.collect(
        stage="simulate", config=cfg.to_dict(), config_sha256=cfg.sha256, seeds=SEEDS,
        rule="examples/05_store.py", wall_time_s=wall, title="jaxfne example 05")
    path = OUT / "05_store" / "sim.zarr"
    if path.exists():  # a store is never overwritten in place: this script's earlier result goes first
        shutil.rmtree(path)
    written = io.write_store(ds, path)
    print(f"store {written}")

    # -- open: every file is checked against the manifest first -----------------------------------
    stored = io.open_store(written)
    for key in ("prov_stage", "prov_config_sha256", "prov_seeds_json", "prov_jaxfne_version", "prov_git_commit",
                "prov_device", "prov_dtype"):
        print(f"  {key:22s} {stored.attrs.get(key)}")
    manifest = io.verify_store(written)
    print(f"  manifest: {len(manifest['files'])} files, {sum(f['size'] for f in manifest['files'].values())} bytes")

    # The store describes itself: the configuration it was run from, the seeds, the Signals.
    config, seeds = io.config_from_attrs(stored.attrs)
    assert jtfne.Configuration.from_dict(config).sha256 == cfg.sha256 and seeds == SEEDS
    back = jtfne.Signals.from_xarray(stored)
    assert np.array_equal(np.asarray(back.spikes), np.asarray(signals.spikes))
    print(f"  read back: {back}")
    # One neuron's spike times straight from the ragged event list, without the raster.
    busiest = int(np.argmax(stored["spike_count"].values[0]))  # the neuron with most spikes in seed 1
    times = np.round(io.spike_events(stored, busiest, seed_index=0), 3)
    print(f"  neuron {busiest} of seed {SEEDS[0]} spiked at {times.tolist()} ms")

    # -- a damaged copy is refused, naming the variable and the chunk ------------------------------
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(shutil.copytree(written, Path(tmp) / "damaged.zarr"))
        chunk = next(p for p in sorted((copy / "spikes").rglob("*")) if p.is_file() and p.name != "zarr.json")
        chunk.write_bytes(chunk.read_bytes()[:-1])           # one byte short
        try:
            io.open_store(copy)
        except io.StoreError as exc:
            print(f"damaged copy refused: {str(exc).splitlines()[0]}")

    # -- rerun: the run rebuilt from the store alone ------------------------------------------------
    report = io.rerun_store(written)
    print(f"rerun of seeds {report.seeds}: identical={report.identical}, "
          f"largest difference {max(report.max_abs_diff.values()):g}")


if __name__ == "__main__":
    main()
