"""What importing a part of jaxfne imports: the public names load on first use, and building a
configuration, the workflow's composition, ``jaxfne.io`` and the aggregate stage's modules never
import JAX.

Every check runs in a fresh interpreter (the test process has JAX loaded by conftest): a Snakemake DAG
build, which composes a study, and an aggregate job, which reads readout stores and draws the summary,
must not pay JAX's import (about 1.5 s on the 2-core machine) for nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(code: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=REPO, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_composing_a_study_imports_neither_jax_nor_xarray(tmp_path):
    """Composing validates every run's configuration against the neuron families' parameter tables;
    neither that nor reading the composition memo back imports JAX or xarray."""
    code = f"""
        import json, sys
        from jaxfne.pipeline.compose import expand_study
        runs = expand_study("default", {str(REPO / "conf")!r}, cache_dir={str(tmp_path)!r})
        print(json.dumps({{"runs": [r.run_id for r in runs], "jax": "jax" in sys.modules,
                          "xarray": "xarray" in sys.modules}}))
    """
    first = _run(code)
    again = _run(code)
    assert len(first["runs"]) == 4 and again["runs"] == first["runs"]
    assert first["jax"] is again["jax"] is False
    assert first["xarray"] is again["xarray"] is False


def test_building_a_configuration_imports_no_jax():
    out = _run("""
        import json, sys
        import jaxfne
        cfg = (jaxfne.configuration().column("V1", layers=["L2/3", "L4", "L5"], n=100)
               .cell_types({"E": 0.8, "I": 0.2}).connectivity().set_emitter("izhikevich", "cortical_eig"))
        pd = jaxfne.presets.potjans_diesmann_2014(scale=0.1, k_scale=0.1, thalamus=True)
        print(json.dumps({"jax": "jax" in sys.modules, "same": cfg.sha256 == type(cfg).from_dict(cfg.to_dict()).sha256,
                          "pd_n": sum(c["n"] for c in pd.to_dict()["columns"])}))
    """)
    assert out == {"jax": False, "same": True, "pd_n": 7717}


def test_the_stage_functions_io_and_plots_import_without_jax():
    out = _run("""
        import json, sys
        import jaxfne, jaxfne.io, jaxfne.metrics, jaxfne.pipeline.stages, jaxfne.plots
        from jaxfne.io.provenance import collect
        attrs = collect(stage="aggregate", config=None, seeds=[], run_id="study", rule="aggregate", inputs=[])
        print(json.dumps({"jax": "jax" in sys.modules, "device": attrs["prov_device"],
                          "spec": jaxfne.readout_spec("r", "spike_rate_hz").metric}))
    """)
    assert out == {"jax": False, "device": "none (the stage did not use JAX)", "spec": "spike_rate_hz"}


def test_public_names_resolve_on_first_use_and_stay_the_functions():
    out = _run("""
        import json, sys
        import jaxfne
        lazy = "jaxfne.construct" not in sys.modules and "jax" not in sys.modules
        import jaxfne.simulate as via_import          # binds the package attribute, which is the function
        from jaxfne.construct import construct        # imports the submodule named like the function
        import jaxfne.simulation
        names = {n: type(getattr(jaxfne, n)).__name__ for n in jaxfne.__all__}
        try:
            jaxfne.no_such_name
            missing = "resolved"
        except AttributeError as exc:
            missing = str(exc)
        subpackages = [callable(jaxfne.presets.potjans_diesmann_2014), callable(jaxfne.plots.save),
                       callable(jaxfne.io.open_store), callable(jaxfne.fitting.fit)]
        print(json.dumps({"lazy": lazy, "names": names, "missing": missing, "subpackages": subpackages,
                          "simulate": jaxfne.simulate is sys.modules["jaxfne.simulate"].simulate,
                          "via_import": via_import is jaxfne.simulate,
                          "construct": jaxfne.construct is construct,
                          "simulation": callable(jaxfne.simulation),
                          "dir": sorted(set(jaxfne.__all__) - set(dir(jaxfne)))}))
    """)
    assert out["lazy"]
    assert out["simulate"] and out["via_import"] and out["construct"] and out["simulation"]
    assert out["names"]["simulate"] == out["names"]["construct"] == out["names"]["simulation"] == "function"
    assert out["names"]["Configuration"] == out["names"]["Signals"] == "type"
    assert out["missing"] == "module 'jaxfne' has no attribute 'no_such_name'"
    assert out["dir"] == []
    assert out["subpackages"] == [True] * 4  # subpackages resolve on attribute access, as when imported eagerly
