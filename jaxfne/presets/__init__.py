"""Literature presets: named data with citations.

``izhikevich``: the 20 neuro-computational features of Izhikevich (2004), the cell classes of
Izhikevich (2003) and the heterogeneous 2003 network ``cortical_eig``. ``layers``: default laminar
depths and relative layer sizes.
"""

from __future__ import annotations

from . import cortical_eig as cortical_eig, izhikevich as izhikevich, layers as layers

__all__ = ["cortical_eig", "izhikevich", "layers", "emitter_preset_names"]


def emitter_preset_names(family: str) -> tuple[str, ...]:
    """All preset names of an emitter family (``"izhikevich"``)."""
    if family == "izhikevich":
        return tuple(izhikevich.PRESET_NAMES) + ("cortical_eig",)
    raise ValueError(f"family={family!r} is not allowed: one of 'izhikevich'")
