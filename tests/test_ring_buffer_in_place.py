"""The event kernel updates its ring buffer of future arrivals in place: no step copies it.

A copy of the ``[2, D, N + 1]`` buffer per step costs as much as the network's whole synaptic work
at low rates (10 % microcircuit: 3.3 MB per 0.1 ms step), and XLA inserts one silently whenever the
compiled step leaves two versions of the buffer alive at once. XLA's own dump of the optimised
program (``--xla_dump_to``, read in a fresh process: the flag is read when the backend starts)
shows every copy and the computation it runs in; copies in the program's entry run once per chunk
(the initial carry), copies inside the loop bodies run every step.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import jaxfne

    which, seeds = sys.argv[1], json.loads(sys.argv[2])
    cfg = jaxfne.configuration().runtime(seed=1, network_seed=1, duration_ms=20.0)
    if which == "scattered":  # sparse rows, heterogeneous delays: rows scattered one spike at a time
        cfg = (cfg.runtime(dt_ms=0.1).column("V1", layers=["L2/3", "L4"], n=300).cell_types({"E": 0.8, "I": 0.2})
               .connectivity(propagation="event").set_emitter("izhikevich", "RS", per_type={"I": "FS"}, drive="none")
               .stimulus("poisson", rate_hz=8.0, n_inputs=120, weight=1.5))
    else:  # every row targets all neurons, uniform delay: rows added as contiguous slices
        cfg = (cfg.runtime(dt_ms=1.0).column("net", layers=["L2/3"], n=300).cell_types({"E": 240, "I": 60})
               .connectivity(propagation="event").set_emitter("izhikevich", "cortical_eig"))
    m = jaxfne.construct(cfg.probes(["SPK"]))
    if isinstance(seeds, list):  # simulate runs event batches network by network: vmap the pure function
        import jax.numpy as jnp
        import numpy as np
        rt = m.cfg.runtime_spec
        f = m.simulate_fn(duration_ms=rt["duration_ms"], dt_ms=rt["dt_ms"])
        def run(params, s):
            return jax.vmap(f, in_axes=(None, 0))(params, s)
        spikes = int(np.asarray(jax.jit(run)(m.params, jnp.asarray(seeds, jnp.uint32)).spikes).sum())
    else:
        spikes = int(jaxfne.simulate(m, seed=seeds).spike_events.neurons.size)
    print(json.dumps({"n": m.n, "propagation": m.propagation, "spikes": spikes}))
    """
)


def _copies_per_step(hlo: str) -> list[tuple[str, str, int]]:
    """``(computation, shape, elements)`` of every copy outside the entry computation and outside
    fusions (a copy inside a fusion is an element-wise move within one kernel, not a pass)."""
    found, comp = [], None
    for line in hlo.splitlines():
        head = re.match(r"(ENTRY )?(%\S+) \(", line)
        if head:
            comp = "ENTRY" if head.group(1) else head.group(2)
            continue
        m = re.match(r"\s+%\S+ = (\w+)\[([0-9,]*)\]\S* copy\(", line)
        if m and comp not in (None, "ENTRY") and not re.match(r"%(fused_|wrapped_)", comp):
            dims = [int(d) for d in m.group(2).split(",") if d]
            size = 1
            for d in dims:
                size *= d
            found.append((comp, f"{m.group(1)}[{m.group(2)}]", size))
    return found


@pytest.mark.parametrize("which", ["scattered", "row_slices"])
@pytest.mark.parametrize("seeds", [0, [0, 1]], ids=["one", "vmapped"])
def test_no_step_copies_the_ring_buffer(tmp_path: Path, which, seeds):
    dump = tmp_path / "hlo"
    env = {**os.environ, "XLA_FLAGS": f"--xla_dump_to={dump} --xla_dump_hlo_pass_re=NONE "
                                      "--xla_dump_hlo_module_re=jit_run", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", _SCRIPT, which, json.dumps(seeds)], env=env, capture_output=True,
                         text=True, timeout=600, check=True)
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["propagation"] == "event" and info["spikes"] > 0, info  # a network that spikes
    programs = sorted(dump.glob("*jit_run.cpu_after_optimizations.txt"))
    assert programs, sorted(p.name for p in dump.iterdir())[:20]
    # the smallest ring buffer is [2 channels, 2 slots, N]; the neuron state of a seed batch is [B, N]
    ring = 2 * 2 * info["n"]
    big = [c for p in programs for c in _copies_per_step(p.read_text()) if c[2] >= ring]
    assert not big, big


def _scattered_model(duration_ms: float = 1.0, delay_ms=None):
    import jaxfne

    conn = {"propagation": "event"} if delay_ms is None else {"propagation": "event", "delay_ms": delay_ms}
    cfg = (jaxfne.configuration().runtime(seed=1, network_seed=1, dt_ms=0.1, duration_ms=duration_ms)
           .column("V1", layers=["L2/3", "L4"], n=300).cell_types({"E": 0.8, "I": 0.2})
           .connectivity(**conn).set_emitter("izhikevich", "RS", per_type={"I": "FS"}, drive="none")
           .stimulus("poisson", rate_hz=8.0, n_inputs=120, weight=1.5))  # seed-dependent: batches differ
    return jaxfne.construct(cfg)


def test_a_vmapped_batch_too_large_for_int32_offsets_is_refused_before_any_work():
    """``jax.vmap`` of the event kernel indexes all networks' buffers with one int32: a larger batch is
    refused while tracing, before anything runs."""
    import jax
    import jax.numpy as jnp

    from jaxfne.engine.prepare import prepare
    from jaxfne.propagation import KERNELS

    m = _scattered_model()
    static, _ = prepare(m, 0.1, m.params)
    most = KERNELS["event"].max_batch(static.prop)
    assert most * 2 * static.prop.d_len * (m.n + 1) < 2**31 <= (most + 1) * 2 * static.prop.d_len * (m.n + 1)
    f = m.simulate_fn(duration_ms=1.0, dt_ms=0.1)
    with pytest.raises(ValueError, match=rf"at most {most} networks.*not {most + 1}"):
        jax.eval_shape(jax.vmap(f, in_axes=(None, 0)), m.params, jnp.arange(most + 1, dtype=jnp.uint32))


def test_simulate_runs_event_batches_network_by_network_and_refuses_what_cannot_fit():
    """``simulate`` runs a seed batch of the event kernel one network after the other (no int32 limit),
    the same as separate calls; a batch whose ring buffers would not fit in memory together is refused
    with the estimate before any work."""
    import jaxfne
    from jaxfne.engine.prepare import physical_memory_bytes, prepare
    from jaxfne.errors import ConfigurationError
    from jaxfne.simulate import one_network_at_a_time

    m = _scattered_model(duration_ms=20.0)
    static, _ = prepare(m, 0.1, m.params)
    assert one_network_at_a_time(static)
    batch = jaxfne.simulate(m, seed=[3, 4])
    assert batch.spike_events.steps.size > 20
    for i, s in enumerate([3, 4]):
        one = jaxfne.simulate(m, seed=s)
        np.testing.assert_array_equal(batch.spike_events.steps[batch.spike_events.seeds == i], one.spike_events.steps)
        np.testing.assert_array_equal(batch.spike_events.neurons[batch.spike_events.seeds == i], one.spike_events.neurons)

    long = _scattered_model(delay_ms=100.0)  # 1,001 slots of 301 columns: 2.4 MB of ring buffer per network
    static, _ = prepare(long, 0.1, long.params)
    per_seed = 2 * static.prop.d_len * (long.n + 1) * 4
    too_many = int(physical_memory_bytes() / 2 // per_seed) + 1
    with pytest.raises(ConfigurationError, match=rf"seed=.*{too_many} seeds.*at most {too_many - 1} seeds.*GiB"):
        jaxfne.simulate(long, seed=list(range(too_many)))
