"""Fittable parameters named by path into a model's parameter pytree.

A path is ``leaf`` or ``leaf/selector`` (``/`` separates the parts; a population name after ``gain/``
or ``neuron/NAME/`` may itself hold one, as ``L2/3E``):

``weight_scale``
    the global weight scale (a scalar);
``gain/PRE->POST``
    the per-projection gain of one population pair (``connectivity(gains=True)``; population names as
    in ``model.table.populations``, with or without the column prefix when that is unambiguous);
    ``gain`` alone: the whole ``[population, population]`` matrix;
``neuron/NAME/POP``
    neuron parameter ``NAME`` shared by every neuron of population ``POP`` (one value); ``neuron/NAME``:
    one value per neuron;
``poisson_rate_hz/I``, ``poisson_n_inputs/I``, ``poisson_weight/I``, ``gauss_mean/I``, ``gauss_std/I``,
``stim_gain/I``, ``source_rate_hz/I``
    the ``I``-th drive or stimulus, in the order of the configuration; without ``/I`` the whole vector;
``weights``
    every synapse's weight (the flat table, or the dense matrix).

Each resolves to a :class:`ParameterPath` that reads its value from a parameter dict and writes one
back, so a fit's unknowns are a flat dict ``{path: array}`` however the model stores them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from ..errors import ConfigurationError

__all__ = ["ParameterPath", "resolve"]

#: leaves addressed by a drive or stimulus index
INDEXED = ("poisson_rate_hz", "poisson_n_inputs", "poisson_weight", "gauss_mean", "gauss_std", "stim_gain",
           "source_rate_hz")


@dataclass(frozen=True)
class ParameterPath:
    """One fittable parameter: its path, how to read it and how to write it into a parameter dict."""

    path: str
    get: Callable
    put: Callable
    shape: tuple

    def initial(self, params: dict):
        """The parameter's current value in ``params``, as a JAX array."""
        return jnp.asarray(self.get(params))


def resolve(model, path) -> ParameterPath:
    """The :class:`ParameterPath` of ``path`` in ``model`` (``ConfigurationError`` naming what exists)."""
    if not isinstance(path, str) or not path:
        raise ConfigurationError("fit_params", path, "a parameter path such as 'weight_scale' or 'gain/L4E->L2/3E'")
    parts = path.split("/")
    leaf = parts[0]
    params = model.params
    if leaf == "neuron":
        return _neuron(model, path, parts)
    if leaf not in params:
        raise ConfigurationError("fit_params", path, "a path starting with one of " + ", ".join(_leaves(params)))
    if not jnp.issubdtype(jnp.asarray(params[leaf]).dtype, jnp.floating):
        raise ConfigurationError("fit_params", path, "a floating-point parameter (integers have no gradient)")
    if len(parts) == 1:
        shape = tuple(np.shape(params[leaf]))
        if 0 in shape:
            raise ConfigurationError("fit_params", path, f"a parameter the model has: {leaf!r} is empty here")
        return ParameterPath(path, lambda p: p[leaf], lambda p, v: {**p, leaf: jnp.broadcast_to(v, shape)}, shape)
    if leaf == "gain":  # population names may hold a "/" (L2/3E)
        return _gain(model, path, "/".join(parts[1:]))
    if leaf in INDEXED and len(parts) == 2:
        size = int(np.shape(params[leaf])[0])
        try:
            i = int(parts[1])
        except ValueError:
            i = -1
        if not 0 <= i < size:
            raise ConfigurationError("fit_params", path, f"an index 0..{size - 1} of the model's {leaf}"
                                     if size else f"a parameter the model has: it has no {leaf}")
        return ParameterPath(path, lambda p: p[leaf][i], lambda p, v: {**p, leaf: p[leaf].at[i].set(v)}, ())
    raise ConfigurationError("fit_params", path, f"{leaf!r} alone" + (" or 'gain/PRE->POST'" if leaf == "gain" else
                             " or 'LEAF/INDEX'" if leaf in INDEXED else ""))


def _leaves(params: dict) -> list[str]:
    return sorted(k for k in params if k != "neuron") + ["neuron/NAME[/POP]"]


def _population(model, name: str, path: str) -> int:
    pops = list(model.table.populations)
    if name in pops:
        return pops.index(name)
    short = [i for i, p in enumerate(pops) if p.split(":", 1)[-1] == name]
    if len(short) == 1:
        return short[0]
    raise ConfigurationError("fit_params", path, "a population of the model: " + ", ".join(pops))


def _gain(model, path: str, pair: str) -> ParameterPath:
    if "->" not in pair:
        raise ConfigurationError("fit_params", path, "'gain/PRE->POST' with two population names")
    pre, post = (_population(model, x.strip(), path) for x in pair.split("->", 1))
    return ParameterPath(path, lambda p: p["gain"][pre, post], lambda p, v: {**p, "gain": p["gain"].at[pre, post].set(v)}, ())


def _neuron(model, path: str, parts: list[str]) -> ParameterPath:
    names = sorted(model.params["neuron"])
    if len(parts) < 2 or parts[1] not in names:
        raise ConfigurationError("fit_params", path, "'neuron/NAME' or 'neuron/NAME/POP' with NAME one of " + ", ".join(names))
    name = parts[1]
    if len(parts) == 2:
        shape = tuple(np.shape(model.params["neuron"][name]))
        return ParameterPath(path, lambda p: p["neuron"][name],
                             lambda p, v: {**p, "neuron": {**p["neuron"], name: jnp.broadcast_to(v, shape)}}, shape)
    pop = _population(model, "/".join(parts[2:]), path)
    members = np.flatnonzero(np.asarray(model.table.pop_index) == pop)

    def get(p):
        return jnp.mean(p["neuron"][name][members])

    def put(p, v):
        return {**p, "neuron": {**p["neuron"], name: p["neuron"][name].at[members].set(v)}}

    return ParameterPath(path, get, put, ())
