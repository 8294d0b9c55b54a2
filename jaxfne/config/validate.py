"""Argument checks that name the field, the value and what is allowed (hnn-core ``_check_option`` style)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ConfigurationError

__all__ = [
    "check_option",
    "check_number",
    "check_int",
    "check_bool",
    "check_keys",
    "check_str",
    "check_mapping",
    "check_point",
    "check_steps",
]


def check_steps(duration_ms: Any, dt_ms: Any, prefix: str = "") -> int:
    """The number of steps of ``dt_ms`` in ``duration_ms`` (both > 0; a whole number of them)."""
    duration_ms = check_number(f"{prefix}duration_ms", duration_ms, lo=0, lo_open=True)
    dt_ms = check_number(f"{prefix}dt_ms", dt_ms, lo=0, lo_open=True)
    if dt_ms > duration_ms:
        raise ConfigurationError(f"{prefix}dt_ms", dt_ms, f"a step no longer than duration_ms={duration_ms:g}")
    n = duration_ms / dt_ms
    n_steps = int(round(n))
    if abs(n - n_steps) > 1e-6 * max(1.0, n):
        raise ConfigurationError(f"{prefix}duration_ms", duration_ms, f"a whole number of steps of dt_ms={dt_ms:g}")
    return n_steps


def check_mapping(field: str, value: Any, *, none_ok: bool = True) -> dict:
    """``value`` as a plain dict; ``None`` as ``{}`` when ``none_ok``; anything else is an error."""
    if value is None and none_ok:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(field, value, "a mapping" + (" (or None)" if none_ok else ""))
    return dict(value)


def check_point(field: str, value: Any, dims: int = 3) -> list[float]:
    """A point of ``dims`` finite coordinates in µm."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ConfigurationError(field, value, f"{dims} coordinates in µm")
    v = list(value)
    if len(v) != dims:
        raise ConfigurationError(field, value, f"{dims} coordinates in µm")
    return [check_number(f"{field}[{i}]", x) for i, x in enumerate(v)]


def check_option(field: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``; otherwise raise naming all options."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigurationError(field, value, "one of " + ", ".join(repr(a) for a in allowed))
    return value


def check_number(
    field: str,
    value: Any,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """Return ``value`` as a float after checking it is a real number inside the interval."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np

            if isinstance(value, np.generic) and np.isrealobj(value) and not isinstance(value, np.bool_):
                value = value.item()
            else:
                raise TypeError
        except TypeError:
            raise ConfigurationError(field, value, "a real number") from None
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ConfigurationError(field, value, "a finite number")
    if lo is not None and (value < lo or (lo_open and value == lo)):
        raise ConfigurationError(field, value, f"a number {'>' if lo_open else '>='} {lo:g}")
    if hi is not None and (value > hi or (hi_open and value == hi)):
        raise ConfigurationError(field, value, f"a number {'<' if hi_open else '<='} {hi:g}")
    return value


def check_int(field: str, value: Any, *, lo: int | None = None, hi: int | None = None) -> int:
    """Return ``value`` as an int after checking it is an integer inside ``[lo, hi]``."""
    try:
        import numpy as np

        if isinstance(value, np.integer):
            value = int(value)
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(field, value, "an integer")
    if lo is not None and value < lo:
        raise ConfigurationError(field, value, f"an integer >= {lo}")
    if hi is not None and value > hi:
        raise ConfigurationError(field, value, f"an integer <= {hi}")
    return value


def check_bool(field: str, value: Any) -> bool:
    """Return ``value`` if it is a bool."""
    if not isinstance(value, bool):
        raise ConfigurationError(field, value, "True or False")
    return value


def check_str(field: str, value: Any, *, nonempty: bool = True) -> str:
    """Return ``value`` if it is a (non-empty) string."""
    if not isinstance(value, str) or (nonempty and not value.strip()):
        raise ConfigurationError(field, value, "a non-empty string")
    return value


def check_keys(field: str, mapping: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Raise on the first key of ``mapping`` that is not in ``allowed``."""
    if not isinstance(mapping, Mapping):
        raise ConfigurationError(field, mapping, "a mapping")
    allowed = tuple(allowed)
    for key in mapping:
        if key not in allowed:
            raise ConfigurationError(
                f"{field}.{key}", mapping[key], "a known key; known keys: " + ", ".join(allowed)
            )
