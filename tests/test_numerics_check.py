"""The scan's numerics check: the first non-finite V_m or I_syn is named by step and population,
however many neurons blow up later, in a single run, a batch of seeds and the pure function."""

from __future__ import annotations

import numpy as np
import pytest

import jaxfne
from jaxfne.engine.numerics import first_on_host, first_step
from jaxfne.errors import SimulationError


def _two_blow_ups(first_layer: str, later_layer: str, duration_ms: float = 30.0):
    """RS cells reset to c = 1e30 after their first spike (V_m overflows float32 in the next step);
    ``first_layer`` is driven from 5 ms, ``later_layer`` from 15 ms."""
    return (jaxfne.configuration().runtime(dtype="float32", duration_ms=duration_ms, dt_ms=0.5)
            .column("C", layers=["L2/3", "L5"], n=10).cell_types({"E": 1.0}).connectivity(recurrent=False)
            .set_emitter("izhikevich", "RS", drive="none", params={"c": 1e30})
            .stimulus("step", amplitude=100.0, start_ms=5.0, target={"layer": first_layer})
            .stimulus("step", amplitude=100.0, start_ms=15.0, target={"layer": later_layer}))


@pytest.mark.parametrize(("first", "later"), [("L5", "L2/3"), ("L2/3", "L5")])
def test_the_earliest_blow_up_is_named_not_the_lowest_neuron(first, later):
    """L2/3's neurons come first in the table: when L5 blows up earlier, L5 is named."""
    model = jaxfne.construct(_two_blow_ups(first, later))
    with pytest.raises(SimulationError) as exc:
        jaxfne.simulate(model)
    err = exc.value
    assert err.population == f"C:{first}E"
    assert 10 <= err.step < 30  # after the 5 ms onset, before the later layer's (15 ms = step 30)


def test_a_batch_names_the_seed_and_the_pure_function_the_same_step():
    model = jaxfne.construct(_two_blow_ups("L5", "L2/3"))
    with pytest.raises(SimulationError) as one:
        jaxfne.simulate(model, seed=0)
    with pytest.raises(SimulationError) as batch:
        jaxfne.simulate(model, seed=[4, 0])
    assert batch.value.seed == 4 and batch.value.step == one.value.step
    sig = model.simulate_fn(30.0, 0.5)(model.params, 0)
    assert int(sig.bad_step) == one.value.step


def test_a_finite_run_reports_no_bad_step():
    cfg = (jaxfne.configuration().runtime(dtype="float32", duration_ms=20.0, dt_ms=0.5)
           .column("C", layers=["L4"], n=10).cell_types({"E": 1.0}).connectivity(recurrent=False)
           .set_emitter("izhikevich", "RS", drive="none")
           .stimulus("step", amplitude=10.0, start_ms=5.0))
    model = jaxfne.construct(cfg)
    assert int(model.simulate_fn(20.0, 0.5)(model.params, 0).bad_step) == -1


def test_first_on_host_takes_the_earliest_step_then_the_lowest_neuron():
    bad = np.array([-1, 9, 7, -1, 7, 3, 3], np.int32)
    assert first_on_host(bad) == (3, 5)
    assert int(first_step(bad)) == 3
    assert first_on_host(np.full(4, -1, np.int32)) is None and int(first_step(np.full(4, -1, np.int32))) == -1
