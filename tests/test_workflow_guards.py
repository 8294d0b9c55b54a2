"""Studies reach only jaxfne's groups and keys; study names and run ids stay single, bounded path
components; the composition memo follows the environment that ``${oc.env:...}`` reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from jaxfne.errors import ConfigurationError
from jaxfne.pipeline.compose import (
    RUN_ID_READABLE_MAX,
    StudyError,
    allowed_keys,
    check_override,
    expand_study,
    readable_id,
)

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
SCHEMA = REPO / "workflow" / "schemas" / "study.schema.yaml"
BASE = ["runtime.duration_ms=20.0", "column.n=20"]


def _study(tmp_path: Path, body: dict, name: str = "guard.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(body, sort_keys=False))
    return p


def test_allowed_keys_are_the_groups_and_primary_keys_of_conf():
    keys = allowed_keys(CONF)
    assert {"runtime", "column", "emitter", "probes", "network", "stimuli", "readouts", "cell_types"} <= set(keys)
    assert "hydra" not in keys and "defaults" not in keys and "study" not in keys


@pytest.mark.parametrize("override", [
    "hydra.searchpath=[pkg://this]",
    "+hydra.callbacks.x._target_=builtins.open",
    "hydra.run.dir=../elsewhere",
    "hydra/launcher=basic",
    "column@hydra=three_layer",
    "+no_such_key=1",
])
def test_foreign_overrides_are_refused_naming_the_key(override):
    with pytest.raises(ConfigurationError) as err:
        check_override(override, allowed_keys(CONF))
    assert override in str(err.value) and err.value.field == override.lstrip("+~").split("=")[0].split("@")[0]


@pytest.mark.parametrize("override", ["runtime.dt_ms=0.1", "emitter=izhikevich/rs_fs", "~stimuli", "column.n=20",
                                      "+cell_types.per_layer.L4={E: 0.5, I: 0.5}"])
def test_overrides_of_jaxfne_keys_pass(override):
    check_override(override, allowed_keys(CONF))


@pytest.mark.parametrize("where,body", [
    ("overrides", {"overrides": BASE + ["hydra.searchpath=[pkg://this]"]}),
    ("overrides", {"overrides": BASE + ["+hydra.callbacks.x._target_=builtins.open"]}),
    ("axes.where", {"overrides": BASE, "axes": {"where": "hydra.run.dir=a,b"}}),
])
def test_a_study_reaching_into_hydra_stops_before_composition(tmp_path, where, body, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = _study(tmp_path, body)
    with pytest.raises(StudyError) as err:
        expand_study(str(study), CONF, schema=SCHEMA, cache_dir=tmp_path / "memo")
    assert err.value.field == where and str(study) in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["guard.yaml"]  # no memo, no folder, nothing opened


def test_study_named_dots_cannot_plan_outside_the_results_folder(tmp_path):
    study = _study(tmp_path, {"overrides": BASE}, name="...yaml")
    with pytest.raises(StudyError) as err:
        expand_study(str(study), CONF, schema=SCHEMA)
    assert err.value.field == "study" and "'...yaml'" in str(err.value)


def test_run_ids_are_bounded_and_visible_single_components(tmp_path):
    long = "a" * 260
    study = _study(tmp_path, {"overrides": BASE, "axes": {"tag": f"readouts.0.name={long},.hidden"}})
    runs = expand_study(str(study), CONF, schema=SCHEMA)
    ids = [r.run_id for r in runs]
    assert [len(i) for i in ids] == [RUN_ID_READABLE_MAX + 14, len("hidden") + 14]
    assert ids[1].startswith("hidden__") and all("/" not in i and not i.startswith(".") for i in ids)
    assert readable_id(["../../etc"]) == "etc" and readable_id(["..", ""]) == "run"


def test_memo_follows_environment_variables_of_oc_env(tmp_path, monkeypatch):
    study = _study(tmp_path, {"overrides": BASE + ["readouts.0.name=${oc.env:JAXFNE_TEST_NAME,rate}"]})
    memo = tmp_path / "memo"
    monkeypatch.setenv("JAXFNE_TEST_NAME", "rate_first")
    first = expand_study(str(study), CONF, schema=SCHEMA, cache_dir=memo)
    monkeypatch.setenv("JAXFNE_TEST_NAME", "rate_second")
    second = expand_study(str(study), CONF, schema=SCHEMA, cache_dir=memo)
    assert first[0].readouts[0]["name"] == "rate_first"
    assert second[0].readouts[0]["name"] == "rate_second" and second[0].run_id != first[0].run_id
    assert len(list(memo.glob("*.json"))) == 2
    monkeypatch.setenv("JAXFNE_TEST_NAME", "rate_first")
    assert expand_study(str(study), CONF, schema=SCHEMA, cache_dir=memo)[0].run_id == first[0].run_id


@pytest.mark.parametrize("override", ["+hydra.callbacks.x._target_=builtins.open", "hydra.run.dir=../elsewhere",
                                      "hydra.searchpath=[pkg://this]"])
def test_the_cli_refuses_hydra_overrides_in_one_line_and_writes_nothing(tmp_path, override):
    import subprocess
    import sys

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    proc = subprocess.run([sys.executable, "-m", "jaxfne", override, "runtime=short"], cwd=cwd, capture_output=True, check=False,
                          text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jaxfne: error: ") and override in lines[0]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["cwd"]


def test_a_readout_of_an_unrecorded_signal_stops_the_study_before_any_job(tmp_path):
    """probes=spikes records no source density: the default mean_source readout is refused at
    expansion, naming the readout and the probe mode that would record it (not in the readout job)."""
    study = _study(tmp_path, {"overrides": ["runtime.duration_ms=20.0", "column.n=20", "probes=spikes"]})
    with pytest.raises(StudyError) as err:
        expand_study(str(study), CONF, schema=SCHEMA)
    assert err.value.field == "readouts[6].metric" and "'source-proxy'" in str(err.value)
    fine = _study(tmp_path, {"overrides": ["runtime.duration_ms=20.0", "column.n=20", "probes=spikes",
                                           "readouts=[{name: r, metric: spike_rate_hz}, {name: v, metric: mean_V_m}]"]},
                  name="fine.yaml")
    assert [r["name"] for r in expand_study(str(fine), CONF, schema=SCHEMA)[0].readouts] == ["r", "v"]
