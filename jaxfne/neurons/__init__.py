"""Neuron families: one final class per file against :class:`~jaxfne.neurons.base.NeuronFamily`.

Adding a family: one file here, one presets file (``jaxfne/presets/<family>.py``), one registry line
below, a ``conf/emitter/<family>/`` folder, tests.
"""

from __future__ import annotations

from .base import NeuronFamily as NeuronFamily, Parameter as Parameter, PresetDrive as PresetDrive
from .base import PresetRun as PresetRun
from .iaf_psc_exp import IafPscExp as IafPscExp
from .izhikevich import Izhikevich as Izhikevich

#: family name -> instance
FAMILIES: dict[str, NeuronFamily] = {f.name: f for f in (Izhikevich(), IafPscExp())}

__all__ = ["FAMILIES", "IafPscExp", "Izhikevich", "NeuronFamily", "Parameter", "PresetDrive", "PresetRun", "family"]


def family(name: str) -> NeuronFamily:
    """The registered family ``name``; :class:`~jaxfne.errors.ConfigurationError` otherwise."""
    if name not in FAMILIES:
        from ..errors import ConfigurationError

        raise ConfigurationError("emitter.family", name, "one of " + ", ".join(repr(k) for k in FAMILIES))
    return FAMILIES[name]
