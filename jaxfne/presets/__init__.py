"""Literature presets: named data with citations.

``izhikevich``: the 20 neuro-computational features of Izhikevich (2004), the cell classes of
Izhikevich (2003) and the heterogeneous 2003 network ``cortical_eig``. ``iaf_psc_exp``: NEST's
defaults and the neuron of Potjans & Diesmann (2014). ``layers``: default laminar depths and
relative layer sizes. ``potjans_diesmann_2014``: the Potjans & Diesmann (2014) microcircuit as a
configuration factory. ``setups``: named emitters with their stimuli (``rs_fs``), applied to the
user's columns.
"""

from __future__ import annotations

from . import cortical_eig as cortical_eig, iaf_psc_exp as iaf_psc_exp, izhikevich as izhikevich, layers as layers
from . import potjans_diesmann as potjans_diesmann, setups as setups
from .potjans_diesmann import potjans_diesmann_2014 as potjans_diesmann_2014
from .setups import SETUPS as SETUPS, rs_fs as rs_fs

__all__ = ["FACTORIES", "SETUPS", "cortical_eig", "iaf_psc_exp", "izhikevich", "layers", "potjans_diesmann",
           "potjans_diesmann_2014", "rs_fs", "setups", "emitter_preset_names"]

#: Cited model factories by name (``network: {factory: NAME, ...}`` in a Hydra run config).
FACTORIES = {"potjans_diesmann_2014": potjans_diesmann_2014}


def emitter_preset_names(family: str) -> tuple[str, ...]:
    """All preset names of a neuron family (see :data:`jaxfne.neurons.FAMILIES`)."""
    from ..neurons import family as _family

    return _family(family).preset_names()
