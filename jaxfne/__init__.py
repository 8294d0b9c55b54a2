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

from ._version import __version__ as __version__
from .config import Configuration as Configuration, configuration as configuration
from .construct import construct as construct
from .model import Model as Model
from .objectives import Objective as Objective, objective as objective
from .probes.basis import BasisSpec as BasisSpec
from .probes.geometry import LaminarSourceGeometry as LaminarSourceGeometry
from .readouts import ReadoutResult as ReadoutResult, ReadoutSpec as ReadoutSpec, readout_spec as readout_spec
from .signals import Signals as Signals
from .simulate import simulate as simulate
from .simulation import Simulation as Simulation, simulation as simulation

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
