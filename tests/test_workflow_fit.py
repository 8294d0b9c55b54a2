"""A study with a ``fit`` mapping, end to end with the real Snakemake CLI: every run is fitted in a
job of its own; the fit store reads back with xarray and provenance; bad fit specifications stop the
study before any job, naming the key and the study file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from workflow_helpers import REPO, run_snakemake

from jaxfne.io.store import open_store
from jaxfne.pipeline.compose import StudyError, expand_study

FIT = {
    "params": ["poisson_rate_hz/0"],
    "objectives": [{"name": "rate_E", "metric": "spike_rate_hz", "cell_type": "E", "target": 30.0}],
    "bounds": {"poisson_rate_hz/0": "positive"},
    "steps": 4, "learning_rate": 0.2, "seeds": [0, 1], "surrogate": {"kind": "one_sided", "beta": 0.2},
}
STUDY = {"seeds": [0], "overrides": ["emitter=iaf_psc_exp/nest_default", "runtime.duration_ms=100.0", "column.n=40"],
         "fit": FIT}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    wd = tmp_path_factory.mktemp("fit_study")
    study = wd / "fitdemo.yaml"
    study.write_text(yaml.safe_dump(STUDY, sort_keys=False))
    proc = run_snakemake(wd, study=str(study), jax_cache=wd / "jax_cache")
    return wd, proc


def test_each_run_is_fitted_and_the_store_reads_back(fitted):
    wd, proc = fitted
    runs = sorted((wd / "results" / "fitdemo" / "runs").glob("*/fit.zarr"))
    assert len(runs) == 1 and "rule fit:" in proc.stdout + proc.stderr
    ds = open_store(runs[0])
    assert ds["loss"].dims == ("step",) and ds.sizes["step"] == 4
    assert ds["param_0"].attrs["path"] == "poisson_rate_hz/0"
    rate = ds["param_0"].values
    # a target above the column's rate: the drive rate grows at every step and the loss falls
    assert np.all(np.diff(rate) > 0) and ds["loss"].values[-1] < ds["loss"].values[0]
    assert json.loads(ds.attrs["fit_objectives_json"])[0]["target"] == 30.0
    assert json.loads(ds.attrs["fit_surrogate_json"]) == {"kind": "one_sided", "beta": 0.2}
    assert json.loads(ds.attrs["fit_seeds_json"]) == [0, 1]
    assert ds.attrs["prov_stage"] == "fit" and ds.attrs["prov_rule"] == "fit"
    assert ds.attrs["prov_run_id"] == runs[0].parent.name
    png = wd / "results" / "fitdemo" / "figures" / runs[0].parent.name / "fit.png"
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 10_000


@pytest.mark.parametrize("key,value,field", [
    ("params", [], "fit.params"),
    ("optimizer", "lbfgs", "fit.optimizer"),
    ("bounds", {"weight_scale": "positive"}, "fit.bounds"),
    ("objectives", [{"name": "r", "metric": "no_such", "target": 1.0}], "fit.objectives[0].metric"),
    ("surrogate", {"kind": "sigmoid"}, "fit.surrogate.kind"),
    ("steps", 0, "fit.steps"),
])
def test_a_bad_fit_specification_stops_the_study_naming_the_key(tmp_path, key, value, field):
    study = tmp_path / "badfit.yaml"
    study.write_text(yaml.safe_dump({**STUDY, "fit": {**FIT, key: value}}, sort_keys=False))
    with pytest.raises(StudyError) as err:
        expand_study(str(study), REPO / "conf")
    assert err.value.field == field and str(study) in str(err.value)
