"""Export: a recording to Neo (for Elephant), to NWB (for the NWB ecosystem) and back from a store.

- :meth:`jaxfne.Signals.to_neo` / :func:`jaxfne.io.to_neo` give a :class:`neo.Block`, one segment per
  seed: a SpikeTrain per neuron annotated with its column, layer, cell type, population and depth,
  AnalogSignals with ``quantities`` units whose ``t_start`` is the first sample (the end of step 0).
- :meth:`jaxfne.Signals.to_nwb` / :func:`jaxfne.io.to_nwb` write one seed as an NWB file: a Units
  table, the laminar LFP as an ElectricalSeries over an electrode table of the contact depths, the
  other signals as TimeSeries, the configuration and provenance in the file's metadata.
- :func:`jaxfne.io.load_signals` reads a simulation store back as Signals, without the model.

Elephant's rate, CV and Fano factor on the exported trains are printed beside jaxfne's readouts.

Run it with ``python examples/07_export.py``; ``JAXFNE_EXAMPLE_SCALE=small`` runs a 60-neuron column
(the tests), unset a 1000-neuron one for a second. Files go to ``$JAXFNE_EXAMPLE_OUT/07_export/``
(default ``results/examples/``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import elephant.statistics as es
import numpy as np
import quantities as pq

import jaxfne as jtfne
from jaxfne import io
from jaxfne.errors import ConfigurationError

SCALE = os.environ.get("JAXFNE_EXAMPLE_SCALE", "")
if SCALE not in ("", "small"):
    raise ConfigurationError("JAXFNE_EXAMPLE_SCALE", SCALE, "'small' (tiny sizes, as the tests run) or unset")
SMALL = SCALE == "small"
OUT = Path(os.environ.get("JAXFNE_EXAMPLE_OUT", "results/examples")) / "07_export"

N_NEURONS = 60 if SMALL else 1000
DURATION_MS = 200.0 if SMALL else 1000.0


def main() -> None:
    """Simulate two seeds, export them to Neo and NWB, and read a store back."""
    cfg = (jtfne.configuration()
           .runtime(duration_ms=DURATION_MS, dt_ms=0.1)
           .column("V1", layers=["L2/3", "L4", "L5"], n=N_NEURONS)
           .cell_types({"E": 0.8, "I": 0.2})
           .connectivity()
           .set_emitter("izhikevich", "cortical_eig")
           .probes(["SPK", "LFP-proxy", "CSD-proxy", "EEG-proxy"]))
    model = jtfne.construct(cfg)
    signals = jtfne.simulate(model, seed=[1, 2])

    # -- Neo: Elephant's statistics on the exported trains, beside jaxfne's readouts ------------------
    block = signals.to_neo()
    trains = [st for st in block.segments[0].spiketrains if st.annotations["cell_type"] == "E"]
    rates = [float(es.mean_firing_rate(st).rescale(pq.Hz)) for st in trains]
    cvs = [float(es.cv(es.isi(st))) for st in trains if len(st) >= 3]
    ours = model.compute_readout(signals, [
        jtfne.readout_spec("rate", "spike_rate_hz", cell_type="E"),
        jtfne.readout_spec("cv", "cv_isi", cell_type="E"),
        jtfne.readout_spec("fano", "fano_factor", cell_type="E")]).to_dict()["results"]
    print(f"{len(block.segments)} segments, {len(block.segments[0].spiketrains)} trains, analog signals "
          + ", ".join(f"{a.name} [{a.dimensionality}]" for a in block.segments[0].analogsignals))
    print(f"E rate: elephant {np.mean(rates):.4f} Hz, jaxfne {ours['rate'][0]:.4f} Hz")
    print(f"E CV of ISI: elephant {np.mean(cvs) if cvs else float('nan'):.4f}, jaxfne {ours['cv'][0]:.4f}")
    print(f"E Fano factor: elephant {float(es.fanofactor(trains)):.4f}, jaxfne {ours['fano'][0]:.4f}")

    # -- NWB: one seed per file, validated and read back --------------------------------------------
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    path = signals.to_nwb(OUT / "seed2.nwb", seed_index=1)
    back = io.read_nwb(path)
    print(f"wrote {path}: {len(back['units']['spike_times_s'])} units, series {sorted(back['series'])}")

    # -- a store, read back without the model ----------------------------------------------------------
    store = io.write_store(io.add_spike_events(signals.to_xarray()), OUT / "sim.zarr")
    loaded = io.load_signals(store)
    same = np.array_equal(np.asarray(loaded.spikes), np.asarray(signals.spikes))
    print(f"{store}: {loaded}; spikes equal to the simulation's: {same}")
    print("Neo from the store:", len(io.to_neo(store).segments), "segments;",
          "NWB from the store:", io.to_nwb(store, OUT / "from_store.nwb"))


if __name__ == "__main__":
    main()
