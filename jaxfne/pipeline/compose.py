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

Overrides reach only jaxfne's own groups and keys (:func:`check_override`): ``hydra.*`` (search path,
callbacks, run directories: code imported or files written while the DAG is built), package
overrides (``group@pkg``) and unknown top-level keys are refused. Study names and run ids are
bounded and safe as single path components, so every path a study plans stays under its results
folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigurationError
from ..io.atomic import atomic_file
from ..metrics import check_recorded
from .hydra_to_config import readout_arguments, readout_specs, to_configuration

__all__ = ["Run", "StudyError", "load_study", "expand_study", "compose_overrides", "write_run_config",
           "read_run_config", "study_path", "study_name", "allowed_keys", "check_override", "readable_id",
           "study_sha256", "run_sha256", "fit_spec"]

_SAFE = re.compile(r"[^A-Za-z0-9.+-]+")
_STUDY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_ENV_REF = re.compile(r"oc\.env\s*:\s*([A-Za-z_][A-Za-z0-9_]*)")

#: Longest readable part of a run id (the id adds ``__`` and 12 hex characters of the run's hash).
RUN_ID_READABLE_MAX = 96
#: Config groups of ``conf/`` that are not sections of a run (study files are read, not composed).
_NOT_SECTIONS = ("study",)


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


def allowed_keys(conf_dir: str | os.PathLike) -> tuple[str, ...]:
    """The top-level names an override may address: the groups of ``conf_dir`` and the primary keys
    of its ``config.yaml``, without ``hydra`` and ``defaults``."""
    conf_dir = Path(conf_dir)
    groups = [p.name for p in conf_dir.iterdir() if p.is_dir() and p.name not in _NOT_SECTIONS]
    primary = yaml.safe_load((conf_dir / "config.yaml").read_text()) or {}
    keys = [k for k in primary if k not in ("hydra", "defaults")]
    return tuple(sorted(set(groups) | set(keys)))


def check_override(override: str, allowed: Sequence[str]) -> None:
    """Refuse an override that reaches outside jaxfne's groups and keys.

    Parameters
    ----------
    override : str
        One override in Hydra's grammar (``key=value``, ``+key=value``, ``~key``, ``group=option``).
    allowed : sequence of str
        The top-level names allowed (:func:`allowed_keys`).

    Raises
    ------
    ConfigurationError
        Naming the override's key, for ``hydra.*`` / ``hydra/...`` (Hydra's own settings: search path,
        callbacks, launcher, run directories), package overrides ``group@package`` and top-level keys
        that are neither a group nor a key of ``config.yaml``.
    """
    from hydra.errors import HydraException

    try:
        parsed = _parser().parse_override(str(override))
    except HydraException as exc:
        raise ConfigurationError("override", override, f"Hydra override syntax ({str(exc).splitlines()[0]})") from None
    key = parsed.key_or_group
    top = re.split(r"[./]", key, maxsplit=1)[0]
    if parsed.package is not None:
        raise ConfigurationError(key, override, "an override without a package (group@package is not supported)")
    if top == "hydra":
        raise ConfigurationError(key, override, "an override of jaxfne's groups and keys (" + ", ".join(allowed)
                                 + "); Hydra's own settings (search path, callbacks, run directories) are fixed")
    if top not in allowed:
        raise ConfigurationError(key, override, "an override of one of " + ", ".join(allowed))


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


def readable_id(values: Sequence[str]) -> str:
    """The readable part of a run id: the last path segment of each value, reduced to
    ``[A-Za-z0-9.+-]`` (other runs of characters become ``_``), joined by ``__``; never empty, never
    starting with a dot, at most :data:`RUN_ID_READABLE_MAX` characters (the hash that follows it
    keeps truncated ids distinct)."""
    parts = [_SAFE.sub("_", str(v).rsplit("/", 1)[-1]).strip("_").lstrip(".").strip("_") for v in values]
    text = "__".join(p for p in parts if p) or "run"
    return text[:RUN_ID_READABLE_MAX].rstrip("_") or "run"


def _readable(axes: Mapping[str, str]) -> str:
    return readable_id([_label(v) for v in axes.values()])


def study_name(path: Path) -> str:
    """The study's name, its file's stem: a single, visible path component.

    Raises
    ------
    StudyError
        If the stem is not 1-64 characters of ``[A-Za-z0-9._+-]`` starting with a letter or digit
        (``...yaml`` would plan its results in the results folder's parent).
    """
    if not _STUDY_NAME.fullmatch(path.stem) or ".." in path.stem:
        raise StudyError(path, "study", f"the file name {path.name!r} is not allowed: a study name of 1-64 "
                         "characters [A-Za-z0-9._+-] starting with a letter or digit, without '..'")
    return path.stem


def fit_spec(study: Mapping[str, Any], path: str | os.PathLike) -> dict | None:
    """The study's ``fit`` mapping checked and completed (:func:`jaxfne.pipeline.fit_stage.check_fit_spec`),
    or None for a study without one.

    Raises
    ------
    StudyError
        Naming the key under ``fit`` and the study file.
    """
    from .fit_stage import check_fit_spec

    if study.get("fit") is None:
        return None
    try:
        return check_fit_spec(study["fit"])
    except ConfigurationError as exc:
        raise StudyError(path, exc.field, str(exc)) from None


def _check_study_overrides(data: Mapping[str, Any], path: Path, conf_dir: Path) -> None:
    allowed = allowed_keys(conf_dir)
    texts = [("overrides", o) for o in data["overrides"]] + [(f"axes.{k}", v) for k, v in data["axes"].items()]
    for where, text in texts:
        try:
            check_override(str(text), allowed)
        except ConfigurationError as exc:
            raise StudyError(path, where, str(exc)) from None


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


def run_sha256(configuration: Mapping[str, Any], seeds: Sequence[int], readouts: Sequence[Mapping]) -> str:
    """The sha256 that names a run (its id ends with 12 of its hex digits): the resolved
    configuration, the seeds and the readouts, as canonical JSON."""
    return _hash_json({"configuration": configuration, "seeds": list(seeds), "readouts": list(readouts)})


def study_sha256(study: Mapping[str, Any]) -> str:
    """The sha256 of a study definition (as :func:`load_study` returns it), canonical JSON."""
    return _hash_json(dict(study))


def _memo_key(conf_dir: Path, path: Path, schema: str | os.PathLike | None) -> str:
    """Hash of everything a study's composition reads: the conf files, the study, the schema, the
    composing code, Hydra's version and the environment variables that ``${oc.env:NAME}``
    interpolations in any of these files refer to."""
    h = hashlib.sha256()
    texts = []
    for f in sorted(conf_dir.rglob("*.yaml")):
        texts.append(f.read_bytes())
        h.update(f.relative_to(conf_dir).as_posix().encode() + b"\0" + texts[-1])
    texts.append(path.read_bytes())
    h.update(str(path).encode() + b"\0" + texts[-1])
    for name in sorted({m for t in texts for m in _ENV_REF.findall(t.decode("utf-8", "replace"))}):
        value = os.environ.get(name)
        h.update(f"env {name}={'<unset>' if value is None else value}".encode() + b"\0")
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
    name = study_name(path)
    memo = None
    if cache_dir is not None:  # a memo exists only for a study that passed every check below
        memo = Path(cache_dir) / f"{_memo_key(conf_dir, path, schema)}.json"
        if memo.is_file():
            return [Run(**r) for r in json.loads(memo.read_text())]
    _check_study_overrides(data, path, conf_dir)
    fit_spec(data, path)
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
            check_recorded(readout_specs(readouts), cfg.probe_spec["modes"])
        except ConfigurationError as exc:
            raise StudyError(path, exc.field, f"{exc} (run overrides: {' '.join(ovs)})") from None
        d = cfg.to_dict()
        sha = run_sha256(d, seeds, readouts)
        axes = {k: _label(v) for k, v in combo.items()}
        runs.append(Run(run_id=f"{_readable(combo)}__{sha[:12]}", study=name, axes=axes, overrides=ovs,
                        seeds=seeds, config=d, config_sha256=cfg.sha256, readouts=readouts, sha256=sha))
    ids = [r.run_id for r in runs]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise StudyError(path, "axes", f"two runs compose to the same configuration ({dup}); drop the duplicate value")
    if memo is not None:
        memo.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(memo) as tmp:
            tmp.write_text(json.dumps([r.to_dict() for r in runs]))  # key order kept: axes are ordered
    return runs


def write_run_config(run: Run, path: str | os.PathLike) -> Path:
    """Write a run's ``config.yaml`` (run id, hashes, axes, overrides, seeds, readouts, configuration)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp:
        tmp.write_text(yaml.safe_dump(run.to_dict(), sort_keys=False))  # axes keep the study's order
    return path


def read_run_config(path: str | os.PathLike) -> Run:
    """Read a ``config.yaml`` written by :func:`write_run_config`."""
    data = yaml.safe_load(Path(path).read_text())
    return Run(**data)
