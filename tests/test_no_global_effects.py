"""jaxfne changes no process-wide setting behind the user's back (each check in a fresh interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys

ENV = {k: v for k, v in os.environ.items() if k not in ("JAX_ENABLE_X64", "MPLBACKEND")}


def _run(code: str, **env) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**ENV, **env}, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip()


CFG = ('jaxfne.configuration().runtime(dtype="float64", duration_ms=5.0).column("c", layers=["L2/3"], n=4)'
       '.cell_types({"E": 4}).connectivity(recurrent=False).set_emitter("iaf_psc_exp", "nest_default")')


def test_float64_model_asks_for_64_bit_jax_instead_of_switching_it_on():
    out = _run(f"""
import jax, jaxfne
from jaxfne.errors import ConfigurationError
try:
    jaxfne.construct({CFG})
except ConfigurationError as exc:
    print(exc.field, "jax_enable_x64" in str(exc), jax.config.jax_enable_x64)
""")
    assert out == "runtime.dtype True False"


def test_float64_runs_inside_a_scoped_x64_context_and_leaves_it_off():
    out = _run(f"""
import jax, jaxfne
with jax.enable_x64(True):
    sig = jaxfne.simulate(jaxfne.construct({CFG}))
    dt = sig.V_m.dtype
print(dt, jax.config.jax_enable_x64)
""")
    assert out == "float64 False"


def test_importing_plots_keeps_the_backend():
    out = _run("import matplotlib; import jaxfne.plots; print(matplotlib.get_backend())", MPLBACKEND="pdf")
    assert out == "pdf"
