"""From a Hydra-composed dict to :meth:`jaxfne.Configuration.from_dict` and readout specs.

The primary config (``conf/config.yaml``) composes one run. Its top-level keys are the sections of a
:class:`jaxfne.Configuration`, with one convenience: the ``column/`` group fills a single ``column``
mapping, which becomes ``columns: [column]`` (a multi-column run gives ``columns`` as a list instead).
Two keys belong to the workflow, not to the engine: ``readouts`` (a list of
:func:`jaxfne.readout_spec` arguments) and ``out_dir`` (where ``python -m jaxfne`` writes).

A ``network`` mapping (the ``network/`` group, e.g. ``network=pd14``) names a cited model factory of
:data:`jaxfne.presets.FACTORIES` and its arguments, ``{factory: potjans_diesmann_2014, scale: 0.1}``:
the factory's configuration then defines the model (columns, cell types, connectivity, emitter,
stimuli) and only ``runtime`` (merged key by key) and ``probes`` come from the composed config.

An ``emitter`` mapping with a ``setup`` key (``conf/emitter/izhikevich/rs_fs.yaml``) names a setup of
:data:`jaxfne.presets.SETUPS`, the one source of that option: its emitter (any other composed emitter
key overrides the setup's) and its stimuli (before the composed ones).

``runtime.dt_ms`` and ``runtime.duration_ms`` may be null (``conf/runtime/default.yaml``): they are then
left out, i.e. unset, so that an emitter preset's published protocol gives them (see
:class:`jaxfne.Configuration`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError

__all__ = ["ENGINE_KEYS", "WORKFLOW_KEYS", "configuration_dict", "to_configuration", "readout_arguments"]

ENGINE_KEYS = ("runtime", "column", "columns", "cell_types", "connectivity", "emitter", "stimuli", "probes",
               "network")
WORKFLOW_KEYS = ("readouts", "out_dir")
READOUT_KEYS = ("name", "metric", "column", "layer", "cell_type", "t_start_ms", "t_stop_ms")
#: Runtime keys whose null means unset (the emitter preset's published value, else the default).
_NULL_MEANS_UNSET = ("duration_ms", "dt_ms")


def configuration_dict(composed: Mapping[str, Any]) -> dict:
    """The :meth:`jaxfne.Configuration.from_dict` input of a composed Hydra dict.

    Parameters
    ----------
    composed : dict
        ``OmegaConf.to_container(cfg, resolve=True)`` of a config composed from ``conf/``.

    Raises
    ------
    ConfigurationError
        For an unknown top-level key, for both or neither of ``column`` and ``columns``, or a
        ``column`` that is not a mapping.
    """
    if not isinstance(composed, Mapping):
        raise ConfigurationError("config", composed, "a mapping composed from conf/config.yaml")
    if composed.get("network") is not None:
        return _factory_dict(composed)
    unknown = [k for k in composed if k not in ENGINE_KEYS + WORKFLOW_KEYS]
    if unknown:
        raise ConfigurationError(
            unknown[0], composed[unknown[0]], "a top-level key among " + ", ".join(ENGINE_KEYS + WORKFLOW_KEYS)
        )
    has_one, has_many = composed.get("column") is not None, composed.get("columns") is not None
    if has_one == has_many:
        raise ConfigurationError(
            "column", composed.get("column"), "exactly one of 'column' (a mapping) and 'columns' (a list)"
        )
    if has_one:
        if not isinstance(composed["column"], Mapping):
            raise ConfigurationError("column", composed["column"], "a mapping with name, layers and n")
        columns = [dict(composed["column"])]
    else:
        if not isinstance(composed["columns"], (list, tuple)) or not composed["columns"]:
            raise ConfigurationError("columns", composed["columns"], "a non-empty list of column mappings")
        columns = [dict(c) for c in composed["columns"]]
    out: dict[str, Any] = {"columns": columns}
    for key in ("runtime", "cell_types", "connectivity", "emitter", "stimuli", "probes"):
        if composed.get(key) is not None:
            out[key] = composed[key]
    if isinstance(out.get("runtime"), Mapping):  # null step or duration: unset
        out["runtime"] = {k: v for k, v in out["runtime"].items() if v is not None or k not in _NULL_MEANS_UNSET}
    if isinstance(out.get("emitter"), Mapping) and "setup" in out["emitter"]:
        _expand_setup(out)
    return out


def _expand_setup(out: dict) -> None:
    """Replace ``emitter: {setup: NAME, ...}`` by the emitter and stimuli of ``SETUPS[NAME]``."""
    from ..presets import SETUPS

    em = dict(out["emitter"])
    name = em.pop("setup")
    if name not in SETUPS:
        raise ConfigurationError("emitter.setup", name, "one of " + ", ".join(SETUPS))
    made = SETUPS[name]().to_dict()
    out["emitter"] = {**made["emitter"], **em}
    out["stimuli"] = made["stimuli"] + list(out.get("stimuli") or [])


def _factory_dict(composed: Mapping[str, Any]) -> dict:
    """The configuration of ``composed["network"]``'s factory, with the composed runtime and probes."""
    from ..presets import FACTORIES

    spec = composed["network"]
    if not isinstance(spec, Mapping) or "factory" not in spec:
        raise ConfigurationError("network", spec, "a mapping {factory: NAME, ...arguments}")
    spec = dict(spec)
    name = spec.pop("factory")
    if name not in FACTORIES:
        raise ConfigurationError("network.factory", name, "one of " + ", ".join(FACTORIES))
    try:
        cfg = FACTORIES[name](**spec)
    except ConfigurationError as exc:
        raise ConfigurationError(f"network.{exc.field}", exc.value, exc.allowed) from None
    out = cfg.to_dict()
    out.pop("jaxfne_version", None)
    if composed.get("runtime") is not None:  # a null step or duration keeps the factory's
        given = {k: v for k, v in composed["runtime"].items() if v is not None or k not in _NULL_MEANS_UNSET}
        out["runtime"] = {**out["runtime"], **given}
    if composed.get("probes") is not None:
        out["probes"] = composed["probes"]
    return out


def to_configuration(composed: Mapping[str, Any]):
    """The validated :class:`jaxfne.Configuration` of a composed Hydra dict."""
    from ..config.configuration import Configuration

    return Configuration.from_dict(configuration_dict(composed))


def readout_arguments(composed: Mapping[str, Any]) -> list[dict]:
    """The ``readouts`` list of a composed dict, checked key by key (names unique).

    Each entry holds the arguments of :func:`jaxfne.readout_spec` (``name``, ``metric`` and the
    optional ``column``, ``layer``, ``cell_type``, ``t_start_ms``, ``t_stop_ms``).
    """
    entries = composed.get("readouts") or []
    if not isinstance(entries, (list, tuple)):
        raise ConfigurationError("readouts", entries, "a list of {name, metric, ...} mappings")
    out, seen = [], set()
    for i, e in enumerate(entries):
        if not isinstance(e, Mapping) or "name" not in e or "metric" not in e:
            raise ConfigurationError(f"readouts[{i}]", e, "a mapping with at least 'name' and 'metric'")
        extra = [k for k in e if k not in READOUT_KEYS]
        if extra:
            raise ConfigurationError(f"readouts[{i}].{extra[0]}", e[extra[0]], "one of " + ", ".join(READOUT_KEYS))
        if e["name"] in seen:
            raise ConfigurationError(f"readouts[{i}].name", e["name"], "a name not used by another readout")
        seen.add(e["name"])
        out.append({k: e[k] for k in READOUT_KEYS if e.get(k) is not None})
    return out


def readout_specs(arguments: list[Mapping[str, Any]]) -> list:
    """:func:`jaxfne.readout_spec` objects of :func:`readout_arguments` output (validated by the engine)."""
    import jaxfne

    specs = []
    for i, a in enumerate(arguments):
        a = dict(a)
        try:
            specs.append(jaxfne.readout_spec(a.pop("name"), a.pop("metric"), **a))
        except ConfigurationError as exc:
            sub = exc.field.split(".", 1)[1] if "." in exc.field else exc.field
            raise ConfigurationError(f"readouts[{i}].{sub}", exc.value, exc.allowed) from None
        except ValueError as exc:
            raise ConfigurationError(f"readouts[{i}]", arguments[i], str(exc)) from None
    return specs
