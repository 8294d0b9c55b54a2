"""Fitting: parameters named by path, bounds as transforms, gradient descent with optax on objectives.

>>> from jaxfne.fitting import fit, surrogate, trace_objective
>>> surrogate("one_sided", beta=0.2).to_dict()
{'kind': 'one_sided', 'beta': 0.2}
"""

from __future__ import annotations

from ..engine.surrogate import Surrogate as Surrogate, surrogate as surrogate
from ..objectives import objective as objective, trace_objective as trace_objective
from .fit import fit as fit
from .paths import ParameterPath as ParameterPath, resolve as resolve
from .result import FitResult as FitResult
from .transforms import Bounds as Bounds

__all__ = ["Bounds", "FitResult", "ParameterPath", "Surrogate", "fit", "objective", "resolve", "surrogate", "trace_objective"]
