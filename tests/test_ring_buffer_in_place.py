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
    sig = jaxfne.simulate(m, seed=seeds)
    print(json.dumps({"n": m.n, "propagation": m.propagation, "spikes": int(sig.spike_events.neurons.size)}))
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


def test_a_batch_too_large_for_int32_offsets_is_refused_before_any_work():
    import jaxfne
    from jaxfne.engine.prepare import prepare
    from jaxfne.errors import ConfigurationError
    from jaxfne.propagation import KERNELS

    cfg = (jaxfne.configuration().runtime(seed=1, network_seed=1, dt_ms=0.1, duration_ms=1.0)
           .column("V1", layers=["L2/3", "L4"], n=300).cell_types({"E": 0.8, "I": 0.2})
           .connectivity(propagation="event").set_emitter("izhikevich", "RS", per_type={"I": "FS"}))
    m = jaxfne.construct(cfg)
    static, _ = prepare(m, 0.1, m.params)
    most = KERNELS["event"].max_batch(static.prop)
    assert most * 2 * static.prop.d_len * (m.n + 1) < 2**31 <= (most + 1) * 2 * static.prop.d_len * (m.n + 1)
    with pytest.raises(ConfigurationError, match=rf"seed=.*{most + 1} seeds.*at most {most} seeds"):
        jaxfne.simulate(m, seed=list(range(most + 1)))
