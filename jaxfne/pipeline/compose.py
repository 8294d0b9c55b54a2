"""Studies: expand sweep axes with Hydra's override grammar and compose one configuration per run.

A study file ``conf/study/<name>.yaml`` names

- ``seeds``: the seed axis in Hydra's sweep grammar (``range(0,3)``, ``0,1,2``) or a list of ints; all
  seeds of one configuration are simulated as one vmapped batch, so they share a run;
- ``axes``: ``{axis name: override}``, each override in Hydra's grammar and usually a sweep
  (``preset: emitter=izhikevich/cortical_eig,izhikevich/rs_fs``); runs are their cartesian product;
- ``overrides``: overrides applied to every run (``runtime.duration_ms=500``).

Sweeps are expanded by Hydra's own parser (``OverridesParser`` + ``BasicSweeper.split_arguments``),
each run is composed with the compose API inside **one** scoped ``initialize_config_dir``, turned into
a validated :class:`jaxfne.Configuration`, and identified by a readable id plus 12 hex characters of
the sha256 of its resolved configuration, seeds and readouts. Results are memoized on disk, keyed by
the hash of every ``conf/**/*.yaml``, the study, the schema and the composing code.

Any error (a missing group option, an unknown key, an invalid value) raises :class:`StudyError`, which
names the field and the study file, before any simulation starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigurationError
from .hydra_to_config import readout_arguments, readout_specs, to_configuration

__all__ = ["Run", "StudyError", "load_study", "expand_study", "compose_overrides", "write_run_config",
           "read_run_config", "study_path"]

_SAFE = re.compile(r"[^A-Za-z0-9.+-]+")


class StudyError(ValueError):
    """A study that cannot be expanded or composed; names the field and the study file."""

    def __init__(self, study_file: str | os.PathLike, field: str, message: str):
        self.study_file = str(study_file)
        self.field = field
        super().__init__(f"study file {self.study_file}: field '{field}': {message}")


@dataclass(frozen=True)
class Run:
    """One composed run of a study: a configuration and the seeds simulated with it."""

    run_id: str
    study: str
    axes: dict[str, str]
    overrides: list[str]
    seeds: list[int]
    config: dict
    config_sha256: str
    readouts: list[dict]
    sha256: str = field(default="")

    def to_dict(self) -> dict:
        return asdict(self)


def study_path(conf_dir: str | os.PathLike, study: str) -> Path:
    """The file of study ``study``: a path to a YAML file, or a name under ``conf/study/``."""
    p = Path(study)
    if p.suffix in (".yaml", ".yml") and p.is_file():
        return p.resolve()
    return (Path(conf_dir) / "study" / f"{study}.yaml").resolve()


def load_study(path: str | os.PathLike, schema: str | os.PathLike | None = None) -> dict:
    """Read and check a study file (JSON schema ``schema`` when given; defaults filled in).

    Raises
    ------
    StudyError
        If the file is missing or not a mapping, or the schema rejects a field.
    """
    path = Path(path)
    if not path.is_file():
        raise StudyError(path, "study", "no such study file; studies live in conf/study/<name>.yaml")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, Mapping):
        raise StudyError(path, "study", f"the file holds {type(data).__name__}, a mapping is allowed")
    data = dict(data)
    data.setdefault("seeds", [0])
    data.setdefault("axes", {})
    data.setdefault("overrides", [])
    if schema is not None:
        import jsonschema

        sch = yaml.safe_load(Path(schema).read_text())
        err = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(sch).iter_errors(data))
        if err is not None:
            where = ".".join(str(p) for p in err.absolute_path) or "study"
            raise StudyError(path, where, f"{err.instance!r} is not allowed: {err.message}")
    return data


def _parser():
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create()


def _seeds(study: Mapping[str, Any], path: Path, key: str = "seeds") -> list[int]:
    """The integers of ``study[key]`` (an int, a list or Hydra sweep syntax such as ``range(0,3)``)."""
    s = study[key]
    if isinstance(s, int) and not isinstance(s, bool):
        return [s]
    if isinstance(s, Sequence) and not isinstance(s, str):
        values = list(s)
    else:
        try:
            ov = _parser().parse_override(f"seed={s}")
        except Exception as exc:
            raise StudyError(path, key, f"{s!r} is not Hydra sweep syntax: {exc}") from None
        values = list(ov.sweep_iterator()) if ov.is_sweep_override() else ov.value()
        values = values if isinstance(values, list) else [values]
    if not values or any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in values):
        raise StudyError(path, key, f"{values!r} is not allowed: non-negative integers")
    if len(set(values)) != len(values):
        raise StudyError(path, key, f"{values!r} is not allowed: distinct seeds")
    return values


def _combinations(study: Mapping[str, Any], path: Path) -> list[dict[str, str]]:
    """One ``{axis: override string}`` per run, in Hydra's cartesian-product order."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    names = list(study["axes"])
    if not names:
        return [{}]
    parser = _parser()
    parsed = []
    for name in names:
        text = study["axes"][name]
        try:
            parsed.extend(parser.parse_overrides([str(text)]))
        except Exception as exc:
            raise StudyError(path, f"axes.{name}", f"{text!r} is not Hydra override syntax: {exc}") from None
    keys = [o.get_key_element() for o in parsed]
    for i, k in enumerate(keys):
        if k in keys[:i]:
            raise StudyError(path, f"axes.{names[i]}", f"{k!r} is swept by axis {names[keys.index(k)]!r} already")
    batches = BasicSweeper.split_arguments(parsed, max_batch_size=None)
    by_key = dict(zip(keys, names))
    return [{by_key[o.split("=", 1)[0]]: o for o in combo} for batch in batches for combo in batch]


def _label(override: str) -> str:
    """The value of ``key=value`` (group options keep their path, e.g. ``izhikevich/rs_fs``)."""
    return override.split("=", 1)[1]


def _readable(axes: Mapping[str, str]) -> str:
    parts = [_SAFE.sub("_", _label(v).rsplit("/", 1)[-1]).strip("_") for v in axes.values()]
    return "__".join(p for p in parts if p) or "run"


def compose_overrides(conf_dir: str | os.PathLike, runs: Sequence[Sequence[str]]) -> list[dict]:
    """Compose ``conf_dir/config.yaml`` once per override list, in one scoped Hydra context.

    Returns plain dicts (``OmegaConf.to_container(resolve=True, throw_on_missing=True)``). Hydra
    exceptions propagate with the index of the failing run in ``exc.run_index``.
    """
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    out = []
    with initialize_config_dir(config_dir=str(Path(conf_dir).resolve()), version_base="1.3"):
        for i, ovs in enumerate(runs):
            try:
                cfg = compose(config_name="config", overrides=list(ovs))
                out.append(OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True))
            except Exception as exc:
                exc.run_index = i
                raise
    return out


def _hash_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True).encode()).hexdigest()


def _memo_key(conf_dir: Path, path: Path, schema: str | os.PathLike | None) -> str:
    h = hashlib.sha256()
    for f in sorted(conf_dir.rglob("*.yaml")):
        h.update(f.relative_to(conf_dir).as_posix().encode() + b"\0" + f.read_bytes())
    h.update(str(path).encode() + b"\0" + path.read_bytes())
    if schema is not None:
        h.update(Path(schema).read_bytes())
    src = Path(__file__).resolve().parents[1]
    for f in sorted([*src.joinpath("config").glob("*.py"), *src.joinpath("pipeline").glob("*.py"),
                     *src.joinpath("presets").glob("*.py")]):
        h.update(f.read_bytes())
    for pkg in ("hydra-core", "omegaconf"):
        h.update(metadata.version(pkg).encode())
    return h.hexdigest()


def expand_study(
    study: str,
    conf_dir: str | os.PathLike,
    *,
    schema: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> list[Run]:
    """Every run of a study, composed and validated.

    Parameters
    ----------
    study : str
        Study name (``conf/study/<study>.yaml``) or a path to a study file.
    conf_dir : path-like
        The Hydra config directory (``conf/``).
    schema : path-like, optional
        JSON schema of the study file (``workflow/schemas/study.schema.yaml``).
    cache_dir : path-like, optional
        Where to memoize the result (``.snakemake/hydra-runs``); no memo when omitted.

    Returns
    -------
    list of Run
        In the cartesian order of the axes; run ids are unique.

    Raises
    ------
    StudyError
        Naming the field and the study file.
    """
    conf_dir = Path(conf_dir).resolve()
    path = study_path(conf_dir, study)
    data = load_study(path, schema)
    memo = None
    if cache_dir is not None:
        memo = Path(cache_dir) / f"{_memo_key(conf_dir, path, schema)}.json"
        if memo.is_file():
            return [Run(**r) for r in json.loads(memo.read_text())]
    name = path.stem
    seeds = _seeds(data, path)
    network_seeds = _seeds({"network_seeds": data.get("network_seeds", [0])}, path, "network_seeds")
    if "network_seed" in data["axes"]:
        raise StudyError(path, "axes.network_seed", "an axis name of its own: network instances are swept by network_seeds")
    if len(network_seeds) > 1:  # every instance is a run of its own; the noise seeds of each one batch
        data = {**data, "axes": {**data["axes"],
                                 "network_seed": "runtime.network_seed=" + ",".join(map(str, network_seeds))}}
    combos = _combinations(data, path)
    base = [str(o) for o in data["overrides"]]
    if len(network_seeds) == 1:
        base.append(f"runtime.network_seed={network_seeds[0]}")
    runs_ovs = [base + list(c.values()) + [f"runtime.seed={seeds[0]}"] for c in combos]
    try:
        composed = compose_overrides(conf_dir, runs_ovs)
    except Exception as exc:
        i = getattr(exc, "run_index", 0)
        msg = str(exc).split("\n\n")[0].replace("\n", " ")
        bad = next((o for o in runs_ovs[i] if o.split("=", 1)[0].lstrip("+~") in msg), None)
        fieldname = bad.split("=", 1)[0].lstrip("+~") if bad else "overrides"
        raise StudyError(path, fieldname, f"{msg} (run overrides: {' '.join(runs_ovs[i])})") from None
    runs = []
    for combo, ovs, comp in zip(combos, runs_ovs, composed):
        try:
            cfg = to_configuration(comp)
            readouts = readout_arguments(comp)
            readout_specs(readouts)
        except ConfigurationError as exc:
            raise StudyError(path, exc.field, f"{exc} (run overrides: {' '.join(ovs)})") from None
        d = cfg.to_dict()
        sha = _hash_json({"configuration": d, "seeds": seeds, "readouts": readouts})
        axes = {k: _label(v) for k, v in combo.items()}
        runs.append(Run(run_id=f"{_readable(combo)}__{sha[:12]}", study=name, axes=axes, overrides=ovs,
                        seeds=seeds, config=d, config_sha256=cfg.sha256, readouts=readouts, sha256=sha))
    ids = [r.run_id for r in runs]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise StudyError(path, "axes", f"two runs compose to the same configuration ({dup}); drop the duplicate value")
    if memo is not None:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f".{memo.name}.{uuid.uuid4().hex}")
        tmp.write_text(json.dumps([r.to_dict() for r in runs]))  # key order kept: axes are ordered
        os.replace(tmp, memo)
    return runs


def write_run_config(run: Run, path: str | os.PathLike) -> Path:
    """Write a run's ``config.yaml`` (run id, hashes, axes, overrides, seeds, readouts, configuration)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_text(yaml.safe_dump(run.to_dict(), sort_keys=False))  # axes keep the study's order
    os.replace(tmp, path)
    return path


def read_run_config(path: str | os.PathLike) -> Run:
    """Read a ``config.yaml`` written by :func:`write_run_config`."""
    data = yaml.safe_load(Path(path).read_text())
    return Run(**data)
