"""The event kernel scatters rows in segments: the same arrivals as whole rows, for any segment width."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne
from jaxfne.engine.prepare import prepare
from jaxfne.propagation import KERNELS
from jaxfne.propagation.event_rows import SEGMENT_OVERHEAD, segment_width


def _brute_force(lengths, overhead):
    lengths = np.asarray(lengths)
    longest = int(lengths.max())
    best = None
    for w in sorted(set(range(32, longest, 32)) | {longest}):
        cost = int(np.sum(np.maximum(1, -(-lengths // w)) * (overhead + w)))
        if best is None or cost < best[0]:
            best = (cost, w)
    return best[1]


@pytest.mark.parametrize("seed", range(4))
def test_segment_width_minimises_the_work(seed):
    rng = np.random.default_rng(seed)
    lengths = np.concatenate([rng.integers(200, 800, 300), rng.integers(2500, 7000, 40), [0, 0]])
    w = segment_width(lengths)
    assert w == _brute_force(lengths, SEGMENT_OVERHEAD)
    assert w % 32 == 0 or w == lengths.max()


def test_segment_width_of_equal_rows_is_the_row():
    assert segment_width([100] * 50) == 100
    assert segment_width([7, 7, 3]) == 7  # short rows: one window
    assert segment_width([]) == 1


def test_mixed_rows_get_segments_shorter_than_the_longest():
    # the 10 % microcircuit's rows (243 to 720 entries): half the longest row
    m = jaxfne.construct(jaxfne.presets.potjans_diesmann_2014(scale=0.1, k_scale=0.1).runtime(duration_ms=1.0))
    static, _ = prepare(m, 0.1, m.params)
    assert static.prop.kind == "event"
    assert static.prop.segment_width < static.prop.row_width == int(np.max(np.diff(m.synapses.row_start)))


@pytest.mark.parametrize("segment", [1, 5, 32, 0])
def test_segments_schedule_what_whole_rows_do(segment):
    cfg = (jaxfne.configuration().runtime(seed=3, network_seed=3, dtype="float64", dt_ms=0.1, duration_ms=1.0)
           .column("V1", layers=["L2/3", "L4"], n=400).cell_types({"E": 0.8, "I": 0.2})
           .connectivity(p={"E->E": 0.3, "E->I": 0.1, "I->E": 0.2, "I->I": 0.05}, propagation="event")
           .set_emitter("izhikevich", "RS", per_type={"I": "FS"}, drive="none"))
    m = jaxfne.construct(cfg)
    static, struct = prepare(m, 0.1, m.params)
    lengths = np.diff(m.synapses.row_start)
    assert lengths.min() < lengths.max()  # rows of different lengths: padding to cut
    kernel = KERNELS["event"]
    whole = dataclasses.replace(static.prop, segment=static.prop.row_width)
    cut = dataclasses.replace(static.prop, segment=segment)
    rng = np.random.default_rng(segment)
    state = kernel.init(whole, jnp.float64)
    state = {"buf": state["buf"] + jnp.asarray(rng.normal(size=state["buf"].shape))}  # earlier arrivals
    s = jnp.asarray((rng.random(m.n) < 0.2).astype(np.float64))

    def schedule(ps):
        return jax.jit(lambda st, s, k: kernel.propagate(ps, st, s, k, m.params["weights"], m.params, struct))(
            state, s, jnp.int32(17))["buf"]

    want, got = schedule(whole), schedule(cut)
    assert float(jnp.abs(want - state["buf"]).max()) > 0  # the spikes did arrive somewhere
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
