"""Presets of NEST's ``iaf_psc_exp``: leaky integrate-and-fire with exponential current synapses.

Parameters in NEST's names and units: ``C_m`` pF, ``tau_m`` ms, ``t_ref`` ms, ``E_L``, ``V_reset``,
``V_th`` mV, ``I_e`` pA, ``tau_syn_ex``, ``tau_syn_in`` ms; ``V_m0`` is the initial membrane
potential (NEST's state ``V_m`` at creation).

References
----------
NEST Simulator 3 model documentation, ``iaf_psc_exp`` (nest/nest-simulator ``models/iaf_psc_exp.h``).
Potjans TC, Diesmann M (2014) The cell-type specific cortical microcircuit: relating structure and
activity in a full-scale spiking network model. Cereb Cortex 24:785-806. doi:10.1093/cercor/bhs358
(neuron parameters as in INM-6/microcircuit-PD14-model ``network_params.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["IafPscExpPreset", "PRESETS", "PRESET_NAMES", "get_preset"]


@dataclass(frozen=True)
class IafPscExpPreset:
    """A cited parameter set of ``iaf_psc_exp``."""

    name: str
    citation: str
    C_m: float
    tau_m: float
    t_ref: float
    E_L: float
    V_reset: float
    V_th: float
    I_e: float
    tau_syn_ex: float
    tau_syn_in: float
    V_m0: float

    def parameters(self) -> dict[str, float]:
        """The neuron parameters by NEST name (``C_m`` pF, ``tau_m``, ``t_ref``, ``tau_syn_ex``, ``tau_syn_in`` ms,
        ``E_L``, ``V_reset``, ``V_th``, ``V_m0`` mV, ``I_e`` pA)."""
        keys = ("C_m", "tau_m", "t_ref", "E_L", "V_reset", "V_th", "I_e", "tau_syn_ex", "tau_syn_in", "V_m0")
        return {k: float(getattr(self, k)) for k in keys}


PRESETS = {
    "nest_default": IafPscExpPreset(
        name="nest_default",
        citation="NEST 3 defaults of iaf_psc_exp (nest.GetDefaults('iaf_psc_exp'))",
        C_m=250.0, tau_m=10.0, t_ref=2.0, E_L=-70.0, V_reset=-70.0, V_th=-55.0, I_e=0.0,
        tau_syn_ex=2.0, tau_syn_in=2.0, V_m0=-70.0,
    ),
    "potjans_diesmann_2014": IafPscExpPreset(
        name="potjans_diesmann_2014",
        citation="Potjans & Diesmann (2014) Cereb Cortex 24:785; INM-6/microcircuit-PD14-model network_params.py",
        C_m=250.0, tau_m=10.0, t_ref=2.0, E_L=-65.0, V_reset=-65.0, V_th=-50.0, I_e=0.0,
        tau_syn_ex=0.5, tau_syn_in=0.5, V_m0=-65.0,
    ),
}

PRESET_NAMES: tuple[str, ...] = tuple(PRESETS)


def get_preset(name: str) -> IafPscExpPreset:
    """The preset ``name``; ``ValueError`` naming the allowed ones otherwise."""
    if name not in PRESETS:
        raise ValueError(f"iaf_psc_exp preset={name!r} is not allowed: one of " + ", ".join(PRESET_NAMES))
    return PRESETS[name]
