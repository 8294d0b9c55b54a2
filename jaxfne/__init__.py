"""jaxfne: cortical columns of point neurons in JAX, and the signals an experimenter records from them.

The public surface (everything else may change without notice):

>>> import jaxfne as jtfne
>>> cfg = (jtfne.configuration()
...        .runtime(seed=7, dtype="float32", duration_ms=200.0, dt_ms=0.1)
...        .column("V1", layers=["L2/3", "L4", "L5"], n=100)
...        .cell_types({"E": 0.8, "I": 0.2})
...        .connectivity()
...        .set_emitter("izhikevich", "cortical_eig")
...        .probes(["SPK", "MUA-proxy", "source-proxy", "LFP-proxy"]))
>>> model = jtfne.construct(cfg)
>>> signals = jtfne.simulate(model, duration_ms=200.0, dt_ms=0.1, seed=7)
>>> signals.spikes.shape
(2000, 100)
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING

from ._version import __version__ as __version__

__all__ = [
    "BasisSpec",
    "Configuration",
    "LaminarSourceGeometry",
    "Model",
    "Objective",
    "ReadoutResult",
    "ReadoutSpec",
    "Signals",
    "Simulation",
    "configuration",
    "construct",
    "objective",
    "readout_spec",
    "simulate",
    "simulation",
]

#: The module that defines each public name. They are imported on first use, as are the subpackages
#: (``jaxfne.presets``, ``jaxfne.plots``, ...), so that code which needs only a part of the package
#: (the workflow composing a study, an aggregate job reading stores) does not import JAX and the
#: engine with it.
_HOMES = {
    "BasisSpec": ".probes.basis",
    "Configuration": ".config",
    "LaminarSourceGeometry": ".probes.geometry",
    "Model": ".model",
    "Objective": ".objectives",
    "ReadoutResult": ".readouts",
    "ReadoutSpec": ".metrics",
    "Signals": ".signals",
    "Simulation": ".simulation",
    "configuration": ".config",
    "construct": ".construct",
    "objective": ".objectives",
    "readout_spec": ".metrics",
    "simulate": ".simulate",
    "simulation": ".simulation",
}


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(import_module(home, __name__), name)
        globals()[name] = value
        return value
    if not name.startswith("_") and find_spec(f"{__name__}.{name}") is not None:
        return import_module(f".{name}", __name__)  # a subpackage (jaxfne.presets, jaxfne.plots, ...)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package's module type. ``construct``, ``simulate`` and ``simulation`` name both a function
    and the submodule that defines it; importing such a submodule would bind the module to the
    package in the function's place, so here the package keeps the function (the submodule stays
    importable as ``jaxfne.simulate`` in ``sys.modules``)."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and _HOMES.get(name) == f".{name}":
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

if TYPE_CHECKING:
    from .config import Configuration as Configuration
    from .config import configuration as configuration
    from .construct import construct as construct
    from .metrics import ReadoutSpec as ReadoutSpec
    from .metrics import readout_spec as readout_spec
    from .model import Model as Model
    from .objectives import Objective as Objective
    from .objectives import objective as objective
    from .probes.basis import BasisSpec as BasisSpec
    from .probes.geometry import LaminarSourceGeometry as LaminarSourceGeometry
    from .readouts import ReadoutResult as ReadoutResult
    from .signals import Signals as Signals
    from .simulate import simulate as simulate
    from .simulation import Simulation as Simulation
    from .simulation import simulation as simulation
