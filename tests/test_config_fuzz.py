"""Every configuration method, fed any value for any of its arguments: it is accepted (and then
survives a to_dict/from_dict round trip unchanged), or it is a ConfigurationError (a ValueError)
that names the argument's field and the value. Never a TypeError, KeyError, AttributeError or a
bare ValueError, and never an error that names neither field nor value."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxfne
from jaxfne.config import schema as S
from jaxfne.errors import ConfigurationError

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6), st.sampled_from(["E", "I", "L4", "L2/3", "all", "V1", "E->E", "L4E->L2/3E", "poisson"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.one_of(st.text(max_size=5), st.sampled_from(["E", "I", "L4", "E->E"])),
                                            inner, max_size=3)),
    max_leaves=8,
)

#: Values near the valid ones, so that many draws are accepted and go on to construct.
OPTIONS = sorted({str(o) for name in ("CONNECTIVITY_RULES", "DELAY_DISTRIBUTIONS", "DTYPES", "PROBE_MODES", "PROPAGATION",
                                      "STIMULUS_KINDS", "SYNAPSE_KINDS", "WEIGHT_DISTRIBUTIONS")
                  for o in getattr(S, name)} | {o for c in S.PROBE_OPTION_CHOICES.values() for o in c})
plausible = st.one_of(st.floats(-5.0, 2000.0, allow_nan=False), st.integers(-3, 300), st.sampled_from(OPTIONS),
                      st.lists(st.floats(-100.0, 2000.0, allow_nan=False), min_size=2, max_size=3),
                      st.lists(st.sampled_from(OPTIONS), min_size=1, max_size=3))


def base():
    return (jaxfne.configuration().runtime(seed=0, duration_ms=20.0, dt_ms=0.1)
            .column("V1", layers=["L2/3", "L4", "L5"], n=30).cell_types({"E": 0.8, "I": 0.2}).connectivity()
            .set_emitter("izhikevich", "RS", per_type={"I": "FS"}, drive="none"))


def _column(name="V2", layers=("L4",), n=10, **kw):
    return base().column(name, list(layers) if isinstance(layers, tuple) else layers, n, **kw)


def _cell_types(cell_type_map=None, **kw):
    return base().cell_types({"E": 0.8, "I": 0.2} if cell_type_map is None else cell_type_map, **kw)


def _emitter(family="izhikevich", preset="RS", **kw):
    return base().set_emitter(family, preset, **kw)


def _stimulus(kind="poisson", **kw):
    return base().stimulus(kind, **kw)


def _probes(modes=("SPK", "LFP-proxy"), **kw):
    return base().probes(list(modes) if isinstance(modes, tuple) else modes, **kw)


#: method -> (call with one keyword, that method's keywords, the field prefix its errors name)
METHODS = {
    "runtime": (lambda **kw: base().runtime(**kw), tuple(S.RUNTIME_DEFAULTS), "runtime"),
    "column": (_column, ("name", "layers", "n", "depths_um", "layer_fractions", "radius_um", "position_um",
                         "population_sizes"), "column"),
    "cell_types": (_cell_types, ("cell_type_map", "per_layer"), "cell_types"),
    "connectivity": (lambda **kw: base().connectivity(**kw), tuple(S.CONNECTIVITY_DEFAULTS), "connectivity"),
    "set_emitter": (_emitter, ("family", "preset", "per_type", "scheme", "drive", "params", "per_population"),
                    "emitter"),
    "stimulus": (_stimulus, ("kind", "target", *sorted({k for d in S.STIMULUS_DEFAULTS.values() for k in d})),
                 "stimul"),
    "probes": (_probes, ("modes", *S.PROBE_OPTIONS), "probes"),
}


def _names_field_and_value(exc: ConfigurationError, prefixes: tuple[str, ...]) -> bool:
    text = str(exc)
    return exc.field.startswith(prefixes) and " is not allowed: " in text and exc.allowed


@pytest.mark.parametrize("method", sorted(METHODS))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_value_for_any_argument_is_accepted_or_named(method, data):
    call, keys, prefix = METHODS[method]
    key = data.draw(st.sampled_from(keys), label="argument")
    value = data.draw(st.one_of(values, plausible), label="value")
    try:
        cfg = call(**{key: value})
    except ConfigurationError as exc:
        assert isinstance(exc, ValueError)
        # the field names the section (or, for a cross-section check, the argument that was given)
        assert _names_field_and_value(exc, (prefix, "columns", "cell_types", "runtime", "connectivity", key)), \
            f"{method}({key}={value!r}) -> {exc!r}"
        return
    again = jaxfne.Configuration.from_dict(cfg.to_dict())
    assert again == cfg and again.sha256 == cfg.sha256, f"{method}({key}={value!r}) does not round-trip"
    if sum(c["n"] for c in cfg.columns) <= 2000:  # what construct refuses, it refuses by name too
        try:
            jaxfne.construct(cfg)
        except ConfigurationError as exc:
            assert _names_field_and_value(exc, (prefix, "columns", "column", "cell_types", "runtime", "connectivity",
                                                "stimuli", "probes", "emitter", key)), \
                f"construct after {method}({key}={value!r}) -> {exc!r}"


def test_the_fuzzer_reaches_the_errors_it_is_meant_to_find():
    """The property above holds because every method checks its input, not because the strategy
    misses the bad values: each of these is drawn by it and is refused with a named field."""
    for method, key, value in [("runtime", "dt_ms", math.nan), ("column", "n", -(2**70)),
                               ("connectivity", "p", {"E->e": 1.0}), ("probes", "n_contacts", "3"),
                               ("stimulus", "rate_hz", [1, 2]), ("set_emitter", "per_type", ["FS"])]:
        call, _, prefix = METHODS[method]
        try:
            call(**{key: value})
        except ConfigurationError as exc:
            assert exc.field.startswith((prefix, key)) or key in exc.field, (method, exc.field)
        else:
            if method != "connectivity":  # population keys are checked against the table at construct
                raise AssertionError(f"{method}({key}={value!r}) was accepted")
