"""Study expansion with Hydra's override grammar and compose API; errors name the field and the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml

import jaxfne
from jaxfne.errors import ConfigurationError
from jaxfne.pipeline.compose import StudyError, expand_study, read_run_config, write_run_config
from jaxfne.pipeline.hydra_to_config import configuration_dict, readout_arguments

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
SCHEMAS = REPO / "workflow" / "schemas"


def _study(tmp_path: Path, body: dict) -> Path:
    p = tmp_path / "study.yaml"
    p.write_text(yaml.safe_dump(body, sort_keys=False))
    return p


def test_tiny_study_runs_ids_and_values():
    runs = expand_study("tiny", CONF, schema=SCHEMAS / "study.schema.yaml")
    assert [r.axes for r in runs] == [
        {"preset": "izhikevich/cortical_eig", "layout": "three_layer"},
        {"preset": "izhikevich/rs_fs", "layout": "three_layer"},
    ]
    assert [r.run_id.rsplit("__", 1)[0] for r in runs] == ["cortical_eig__three_layer", "rs_fs__three_layer"]
    schema = yaml.safe_load((SCHEMAS / "run.schema.yaml").read_text())
    for r in runs:
        assert r.seeds == [0, 1] and r.study == "tiny"
        assert r.run_id.endswith("__" + r.sha256[:12])
        assert r.config["runtime"]["duration_ms"] == 100.0 and r.config["columns"][0]["n"] == 40
        assert r.config["runtime"]["seed"] == 0
        assert jaxfne.Configuration.from_dict(r.config).sha256 == r.config_sha256
        jsonschema.validate(r.to_dict(), schema)
    assert runs[0].config["emitter"]["preset"] == "cortical_eig" and runs[0].config["stimuli"] == []
    rs = runs[1].config
    assert rs["emitter"]["preset"] == "RS" and rs["emitter"]["per_type"] == {"I": "FS"}
    assert rs["stimuli"][0]["kind"] == "poisson" and rs["stimuli"][0]["rate_hz"] == 8.0
    assert [r["name"] for r in runs[0].readouts][:3] == ["rate_all", "rate_E", "rate_I"]


def test_default_study_is_3_seeds_x_2_presets_x_2_layouts_with_field_probes():
    runs = expand_study("default", CONF, schema=SCHEMAS / "study.schema.yaml")
    assert len(runs) == 4 and all(r.seeds == [0, 1, 2] for r in runs)
    assert {r.axes["preset"] for r in runs} == {"izhikevich/cortical_eig", "izhikevich/rs_fs"}
    assert {len(r.config["columns"][0]["layers"]) for r in runs} == {3, 5}
    modes = set(runs[0].config["probes"]["modes"])
    assert {"LFP-proxy", "CSD-proxy", "EEG-proxy", "MEG-proxy", "MUA-proxy", "EMM-proxy"} <= modes


def test_sweep_grammar_is_hydras_cartesian_product(tmp_path):
    p = _study(tmp_path, {"seeds": "range(2,5)", "axes": {
        "scale": "++connectivity.weight_scale=0.5,1.0",
        "layout": "column=three_layer,five_layer"}, "overrides": ["runtime.duration_ms=50"]})
    runs = expand_study(str(p), CONF)
    assert [(r.axes["scale"], r.axes["layout"]) for r in runs] == [
        ("0.5", "three_layer"), ("0.5", "five_layer"), ("1.0", "three_layer"), ("1.0", "five_layer")]
    assert [r.config["connectivity"]["weight_scale"] for r in runs] == [0.5, 0.5, 1.0, 1.0]
    assert runs[0].seeds == [2, 3, 4] and runs[0].config["runtime"]["seed"] == 2
    assert len({r.run_id for r in runs}) == 4
    assert runs[0].run_id.startswith("0.5__three_layer__")


def test_memo_on_disk_is_reused_and_keyed_by_conf(tmp_path):
    conf = tmp_path / "conf"
    shutil.copytree(CONF, conf)
    cache = tmp_path / "memo"
    first = expand_study("tiny", conf, cache_dir=cache)
    memo = list(cache.glob("*.json"))
    assert len(memo) == 1
    data = json.loads(memo[0].read_text())
    data[0]["axes"]["preset"] = "from the memo"
    memo[0].write_text(json.dumps(data))
    assert expand_study("tiny", conf, cache_dir=cache)[0].axes["preset"] == "from the memo"
    # any change under conf/ is a new key, so the edited memo is not used
    (conf / "runtime" / "default.yaml").write_text((conf / "runtime" / "default.yaml").read_text() + "\n")
    again = expand_study("tiny", conf, cache_dir=cache)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in first]
    assert len(list(cache.glob("*.json"))) == 2


def test_hydra_global_state_is_released():
    from hydra.core.global_hydra import GlobalHydra

    expand_study("tiny", CONF)
    assert not GlobalHydra.instance().is_initialized()


@pytest.mark.parametrize("body, field", [
    ({"axes": {"preset": "emitter=izhikevich/no_such_preset"}}, "emitter"),
    ({"overrides": ["runtime.dt_ms=-0.1"]}, "runtime.dt_ms"),
    ({"overrides": ["runtime.sed=3"]}, "runtime.sed"),
    ({"overrides": ["column.n=0"]}, "column.n"),
    ({"overrides": ["emitter.scheme=rk4"]}, "emitter.scheme"),
    ({"seeds": "range(0,"}, "seeds"),
    ({"seeds": [1, 1]}, "seeds"),
    ({"axes": {"seed": "runtime.seed=1,2"}}, "axes"),
    ({"overrides": ["readouts.0.metric=no_such_metric"]}, "readouts[0]"),
    ({"sweep": {"x": "runtime.seed=1"}}, "study"),
])
def test_errors_name_field_and_study_file(tmp_path, body, field):
    p = _study(tmp_path, body)
    with pytest.raises(StudyError) as info:
        expand_study(str(p), CONF, schema=SCHEMAS / "study.schema.yaml")
    msg = str(info.value)
    assert str(p) in msg and info.value.study_file == str(p)
    assert f"'{field}" in msg, msg


def test_missing_study_file_is_named():
    with pytest.raises(StudyError, match=r"no_such_study\.yaml"):
        expand_study("no_such_study", CONF)


def test_run_config_round_trip(tmp_path):
    run = expand_study("tiny", CONF)[1]
    p = write_run_config(run, tmp_path / "r" / "config.yaml")
    assert read_run_config(p) == run
    assert float("inf") == read_run_config(p).config["stimuli"][0]["stop_ms"]


def test_hydra_dict_mapping_rejects_unknown_and_ambiguous_keys():
    col = {"name": "V1", "layers": ["L4"], "n": 5}
    assert configuration_dict({"column": col})["columns"] == [col]
    assert configuration_dict({"columns": [col, dict(col, name="V2")]})["columns"][1]["name"] == "V2"
    with pytest.raises(ConfigurationError, match="runtim"):
        configuration_dict({"column": col, "runtim": {}})
    with pytest.raises(ConfigurationError, match="exactly one"):
        configuration_dict({"column": col, "columns": [col]})
    with pytest.raises(ConfigurationError, match=r"readouts\[1\]\.name"):
        readout_arguments({"readouts": [{"name": "a", "metric": "mean_V_m"}, {"name": "a", "metric": "mean_V_m"}]})


def test_network_seeds_are_runs_of_their_own_and_seeds_the_noise(tmp_path):
    """network_seeds sweep the instance (one run each); seeds stay the noise of every run's batch."""
    path = _study(tmp_path, {"seeds": [0, 1], "network_seeds": "range(3,5)",
                             "axes": {"preset": "emitter=iaf_psc_exp/potjans_diesmann_2014,iaf_psc_exp/nest_default"},
                             "overrides": ["runtime.duration_ms=50.0", "column.n=30"]})
    runs = expand_study(str(path), CONF, schema=SCHEMAS / "study.schema.yaml")
    assert [(r.axes["preset"], r.axes["network_seed"]) for r in runs] == [
        ("iaf_psc_exp/potjans_diesmann_2014", "3"), ("iaf_psc_exp/potjans_diesmann_2014", "4"),
        ("iaf_psc_exp/nest_default", "3"), ("iaf_psc_exp/nest_default", "4")]
    assert [r.config["runtime"]["network_seed"] for r in runs] == [3, 4, 3, 4]
    assert all(r.seeds == [0, 1] and r.config["emitter"]["family"] == "iaf_psc_exp" for r in runs)
    a, b = (jaxfne.construct(jaxfne.Configuration.from_dict(r.config)) for r in runs[:2])
    assert not np.array_equal(a.synapses.pre, b.synapses.pre)  # two instances, not one


def test_one_network_seed_is_an_override_not_an_axis(tmp_path):
    path = _study(tmp_path, {"seeds": [0], "network_seeds": 7, "axes": {}, "overrides": ["column.n=20"]})
    (run,) = expand_study(str(path), CONF, schema=SCHEMAS / "study.schema.yaml")
    assert run.config["runtime"]["network_seed"] == 7 and "network_seed" not in run.axes


def test_pd14_studies_compose_the_factory_with_runtime_and_probes():
    """network=pd14 puts jaxfne.presets.potjans_diesmann_2014 in charge of the model; the study's
    runtime and probes still apply; the full-scale study asks for one GPU per simulate job."""
    runs = expand_study("pd14", CONF, schema=SCHEMAS / "study.schema.yaml")
    assert len(runs) == 2 and {r.config["runtime"]["network_seed"] for r in runs} == {0, 1}
    factory = jaxfne.presets.potjans_diesmann_2014(scale=0.1, k_scale=0.1)
    for r in runs:
        cfg = jaxfne.Configuration.from_dict(r.config)
        assert cfg.columns == factory.columns and cfg.connectivity_spec == factory.connectivity_spec
        assert cfg.emitter_spec == factory.emitter_spec and cfg.stimuli == factory.stimuli
        assert cfg.runtime_spec["duration_ms"] == 1500.0
        assert cfg.probe_spec["options"]["record_every"] == 10 and "CSD-proxy" in cfg.probe_spec["modes"]
    study = yaml.safe_load((CONF / "study" / "pd14_full.yaml").read_text())
    assert study["resources"] == {"gpu": 1}
    full = expand_study("pd14_full", CONF, schema=SCHEMAS / "study.schema.yaml")
    assert full[0].config["columns"][0]["n"] == 77169 and full[0].seeds == [0, 1, 2]


@pytest.mark.parametrize("network,field", [({"factory": "nope"}, "network.factory"),
                                           ({"factory": "potjans_diesmann_2014", "scale": 2.0}, "network.scale"),
                                           ({"scale": 0.1}, "network")])
def test_bad_network_factory_is_named(network, field):
    with pytest.raises(ConfigurationError) as err:
        configuration_dict({"network": network, "runtime": {"duration_ms": 10.0}})
    assert err.value.field == field
