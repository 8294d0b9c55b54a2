"""Field probes: the laminar source density, LFP, CSD, MUA, current dipole, EEG and MEG of a column.

Point neurons make no field by themselves. jaxfne places each neuron's excitatory and inhibitory
synaptic currents at their dendritic depths and the equal, opposite return current at the soma (the
basis, :class:`jaxfne.BasisSpec`), so the laminar source profile conserves current at every step.
Every forward model is a matrix built once at construct from the column's geometry
(:class:`jaxfne.LaminarSourceGeometry`) and applied to that profile in the scan.

The column is the README's showcase (:func:`jaxfne.presets.rs_fs`): regular-spiking excitatory and
fast-spiking inhibitory Izhikevich cells with Poisson background, and a thalamic volley into L4 at
500-505 ms whose synapses sit at the depth of L4. This script prints every field signal's shape and
unit, where the probe's contacts and sensors are, and the laminar LFP and CSD profiles after the
volley: the early current sink (CSD < 0) in L4.

Run it with ``python examples/02_field_probes.py``; ``JAXFNE_EXAMPLE_SCALE=small`` runs a 60-neuron
column (the tests), unset a 1000-neuron one. This example writes no files.
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

N_NEURONS = 60 if SMALL else 1000
VOLLEY_MS = 500.0  # the thalamic volley of rs_fs: 500-505 ms
DURATION_MS = 530.0 if SMALL else 700.0

FIELD_PROBES = ["source-proxy", "LFP-proxy", "CSD-proxy", "MUA-proxy", "EEG-proxy", "MEG-proxy", "EMM-proxy"]


def main() -> None:
    """Simulate the RS/FS column with every field probe and print the laminar response."""
    # -- configure: columns first, then the setup (emitter and stimuli), then the probes ------------
    column = (jtfne.configuration()
              .runtime(seed=3, duration_ms=DURATION_MS, dt_ms=0.1)
              .column("V1", layers=["L2/3", "L4", "L5"], n=N_NEURONS)
              .cell_types({"E": 0.8, "I": 0.2})
              .connectivity())
    # SPK records the spikes (no V_m: it is not listed); a laminar probe with a contact every 100 um.
    cfg = jtfne.presets.rs_fs(column).probes(["SPK"] + FIELD_PROBES, contact_spacing_um=100.0)
    for stim in cfg.stimuli:
        print("stimulus:", {k: stim[k] for k in ("kind", "target", "rate_hz", "n_inputs", "weight")})

    model = jtfne.construct(cfg)
    geometry = model.geometry
    print(model)
    print(f"{geometry.n_bins} depth bins of {np.diff(geometry.bin_edges_um)[0]:.1f} um, "
          f"{geometry.n_contacts} contacts, sigma {geometry.sigma} S/m")
    for name, top, bottom in geometry.layers:
        print(f"  layer {name:5s} {top:7.1f} - {bottom:7.1f} um below the pia")

    # -- simulate ---------------------------------------------------------------------------------
    signals = jtfne.simulate(model)
    for name in signals.recorded:
        shape = tuple(np.shape(getattr(signals, name)))
        note = "  (no sample yet: BOLD is sampled every repetition time, bold_tr_ms)" if 0 in shape else ""
        print(f"{name:7s} shape {shape!s:18s} unit {signals.units[name]}{note}")

    # The sensors: EEG electrodes on the scalp and MEG magnetometers above it, in head coordinates.
    probe = signals.meta.probe
    for kind in ("eeg_electrodes_um", "meg_sensors_um"):
        radii_mm = np.linalg.norm(np.asarray(probe[kind]), axis=1) / 1000.0
        print(f"{kind}: {len(radii_mm)} sensors at {np.round(radii_mm, 1).tolist()} mm from the head's centre")

    # Current conservation: the source density integrates to zero over the column at every step.
    source = np.asarray(signals.source)                       # [time, location], A/m^3
    net = source @ np.asarray(geometry.bin_volume_m3)          # A per step
    print(f"largest net current over the column: {np.max(np.abs(net)):.2e} A "
          f"(largest bin current {np.max(np.abs(source * geometry.bin_volume_m3)):.2e} A)")

    # -- laminar profiles after the volley ---------------------------------------------------------
    ds = signals.to_xarray()
    before = ds.sel(time=slice(VOLLEY_MS - 20.0, VOLLEY_MS))
    after = ds.sel(time=slice(VOLLEY_MS + 1.0, VOLLEY_MS + 15.0))
    lfp = (after["LFP"].mean("time") - before["LFP"].mean("time"))            # uV per contact
    csd = (after["CSD"].mean("time") - before["CSD"].mean("time"))            # A/m^3 per inner contact
    layer_of_contact = geometry.layer_of(ds["contact"].values)
    print("\ndepth (um)  layer   LFP change (uV)   CSD change (A/m^3)")
    csd_at = dict(zip(ds["contact_csd"].values.tolist(), csd.values.tolist()))
    for depth, layer, v in zip(ds["contact"].values, layer_of_contact, lfp.values):
        c = csd_at.get(float(depth))
        print(f"{depth:9.1f}   {layer or '-':5s}  {v:14.4f}   " + (f"{c:17.4g}" if c is not None else " " * 17))
    sink = float(ds["contact_csd"].values[int(np.argmin(csd.values))])
    print(f"strongest sink after the volley at {sink:.1f} um ({geometry.layer_of(np.array([sink]))[0]})")

    # -- EEG, MEG and the metabolic proxy ------------------------------------------------------------
    for name in ("EEG", "MEG"):
        peak = np.max(np.abs(after[name].values))
        print(f"{name}: peak |{name}| after the volley {peak:.3g} {ds[name].attrs['units']}")
    print(f"EMM: mean ATP use {float(ds['EMM'].mean()):.3g} {ds['EMM'].attrs['units']}")


if __name__ == "__main__":
    main()
