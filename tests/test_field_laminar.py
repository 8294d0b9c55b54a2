"""A laminar sanity case from the literature: a thalamic volley into L4 makes the early L4 current sink.

Thalamocortical afferents end mainly in L4 (and on L5 pyramids' dendrites passing through it); the
current source density of the evoked response shows an early sink in L4 with return sources at the
targets' somata (Mitzdorf 1985, Physiol Rev 65:37; Einevoll et al. 2007, J Neurophysiol 97:2174).
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxfne

L4 = (587.1, 922.2)  # default L4 depths (hybridLFPy's Potjans-Diesmann layout)


def _volley(cfg, start_ms: float, stop_ms: float):
    """RS/FS neurons with a Poisson background at their synapses and a volley from ``start_ms`` to
    ``stop_ms`` at the depth of L4 onto the L4 neurons and the L5 pyramids."""
    cfg = (cfg.set_emitter("izhikevich", "RS", per_type={"I": "FS"}, drive="none")
           .stimulus("poisson", rate_hz=5.0, n_inputs=100, weight=0.6))
    for target in ({"layer": "L4"}, {"layer": "L5", "cell_type": "E"}):
        cfg = cfg.stimulus("poisson", rate_hz=200.0, n_inputs=50, weight=2.0, start_ms=start_ms, stop_ms=stop_ms,
                           synapse_depth_um="L4", target=target)
    return cfg


@pytest.fixture(scope="module")
def evoked():
    cfg = (jaxfne.configuration().runtime(seed=2, dtype="float32", duration_ms=150.0, dt_ms=0.1)
           .column("V1", layers=["L1", "L2/3", "L4", "L5", "L6"], n=400)
           .cell_types({"E": 0.8, "I": 0.2}).connectivity())
    cfg = _volley(cfg, 100.0, 105.0).probes(["SPK", "source-proxy", "LFP-proxy", "CSD-proxy"])
    ds = jaxfne.simulate(jaxfne.construct(cfg), seed=1).to_xarray()

    def ev(name):
        da = ds[name]
        return da.sel(time=slice(100, 105)).mean("time") - da.sel(time=slice(50, 100)).mean("time")

    first = ds.location_column.values == ds.location_column.values[0]
    return ds, ev("CSD"), ev("source").isel(location=np.flatnonzero(first))


def test_estimated_csd_has_its_early_sink_in_l4(evoked):
    ds, csd, _ = evoked
    depth = ds.contact_csd_depth_um.values
    i = int(np.argmin(csd.values))
    assert csd.values[i] < 0
    assert L4[0] <= depth[i] <= L4[1], (depth[i], np.round(csd.values))


def test_ground_truth_source_density_agrees(evoked):
    ds, _, src = evoked
    depth = src.location_depth_um.values
    i = int(np.argmin(src.values))
    assert L4[0] <= depth[i] <= L4[1], (depth[i], np.round(src.values))
    # the return current of the L5 targets: a net source in L5 during the volley
    l5 = (depth > 922.2) & (depth < 1170.0)
    assert src.values[l5].sum() > 0


def test_population_shares_sum_to_the_whole_with_drives_at_several_depths():
    """attribution=True: the populations' shares of the source density and the LFP add up to them,
    with a background drive at the excitatory synapses and two afferents sharing one L4 basis."""
    cfg = (jaxfne.configuration()
           .runtime(seed=0, network_seed=2, dtype="float64", dt_ms=0.1, duration_ms=60.0)
           .column("V1", layers=["L2/3", "L4", "L5"], n=90).cell_types({"E": 0.8, "I": 0.2})
           .connectivity(p=0.1, weights={"E": 0.6, "I": -2.4}))
    cfg = _volley(cfg, 20.0, 30.0).probes(["SPK", "source-proxy", "LFP-proxy"], attribution=True)
    sig = jaxfne.simulate(jaxfne.construct(cfg), seed=1)
    for whole, share in (("source", "source_pop"), ("LFP", "LFP_pop")):
        total, parts = np.asarray(getattr(sig, whole)), np.asarray(getattr(sig, share))
        assert np.max(np.abs(total)) > 0
        np.testing.assert_allclose(parts.sum(axis=1), total, rtol=0, atol=1e-9 * np.max(np.abs(total)))
