"""Interface of a neuron family: its parameters, presets, state, and how it advances by one step.

A family is one final class in one file (``neurons/<family>.py``) with its presets in
``presets/<family>.py``; :data:`jaxfne.neurons.FAMILIES` is the registry. The configuration,
``construct``, validation and error messages ask the family; nothing outside its files names it.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

__all__ = ["NeuronFamily", "Parameter", "PresetDrive", "PresetRun"]


@dataclass(frozen=True)
class Parameter:
    """One per-neuron parameter of a family: name, unit, default, bounds (``None`` = unbounded)."""

    name: str
    unit: str
    default: float
    doc: str = ""
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False


@dataclass(frozen=True)
class PresetDrive:
    """A preset's own published input: deterministic waveforms and Gaussian drives per cell type.

    ``waves``: ``{cell_type: Waveform}``; ``gauss``: ``{cell_type: (mean, std)}`` (std per 1 ms).
    """

    waves: dict
    gauss: dict


@dataclass(frozen=True)
class PresetRun:
    """The published run of a preset's stimulus protocol.

    Parameters
    ----------
    dt_ms : float
        Published step tau, ms.
    duration_ms : float
        Published final time T, ms. The published loop ``t = 0:tau:T`` (Izhikevich's figure code)
        has ``T / tau + 1`` steps; a run of such a protocol keeps that count for any ``dt`` and ``T``.
    """

    dt_ms: float
    duration_ms: float


class NeuronFamily(abc.ABC):
    """Abstract neuron family (an interface; implementations are final).

    The update order is the family's: :meth:`step` receives the synaptic state and this step's
    arrivals and decides when the currents are decayed and the arrivals added, since exact
    integration (NEST's ``iaf_psc_exp``) propagates the membrane with the *old* currents.
    """

    #: family name used by ``Configuration.set_emitter``
    name: ClassVar[str]
    #: per-neuron parameters (array leaves ``params["neuron"][name]``, shape [neuron])
    parameters: ClassVar[tuple[Parameter, ...]]
    #: named numerical schemes (the first is the default unless the preset names another)
    schemes: ClassVar[tuple[str, ...]]
    #: unit of the input currents of :meth:`step` (weights and stimulus amplitudes are given in it)
    current_unit: ClassVar[str]
    #: mean synaptic weights per presynaptic type in ``current_unit`` when the connectivity gives
    #: none (``None``: the connectivity defaults, which are in Izhikevich's units)
    default_weights: ClassVar[dict[str, float] | None] = None
    #: emitter options beyond ``params`` with their defaults (stored in the configuration)
    options: ClassVar[dict[str, Any]] = {}
    #: when V_m is sampled, in the words of Brian2's StateMonitor docs
    v_sample_doc: ClassVar[str] = ""

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    # -- presets (construct time, numpy) -----------------------------------------------------------
    @abc.abstractmethod
    def preset_names(self) -> tuple[str, ...]:
        """Every preset name of the family."""

    def per_type_preset_names(self) -> tuple[str, ...]:
        """Presets allowed for one cell type in ``per_type`` (default: all)."""
        return self.preset_names()

    @abc.abstractmethod
    def preset_scheme(self, preset: str) -> str:
        """The preset's published numerical scheme."""

    @abc.abstractmethod
    def neuron_parameters(self, preset: str, per_type: dict, cell_type: np.ndarray,
                          rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Per-neuron float64 parameters of ``preset`` (``per_type`` overrides per cell type)."""

    def apply_overrides(self, prm: dict[str, np.ndarray], overrides: dict[str, float]) -> dict[str, np.ndarray]:
        """Set single parameters for every neuron (``emitter.params``)."""
        out = dict(prm)
        for k, v in overrides.items():
            out[k] = np.full(next(iter(prm.values())).shape, float(v))
        return out

    def apply_per_population(self, prm: dict[str, np.ndarray], per_population: dict, population: np.ndarray,
                             rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Set or draw parameters of single populations (``emitter.per_population``); ``population``
        holds each neuron's ``COLUMN:LAYERTYPE``. A ``{"mean", "sd"}`` value is drawn per neuron."""
        from ..errors import ConfigurationError

        out = {k: np.array(v, float) for k, v in prm.items()}
        short = np.array([p.split(":", 1)[1] for p in population.tolist()], dtype=object)
        for pop, spec in per_population.items():
            mask = (population == pop) if ":" in pop else (short == pop)
            if not mask.any():
                known = sorted(set(short.tolist())) + sorted(set(population.tolist()))
                raise ConfigurationError(f"emitter.per_population.{pop}", spec,
                                         "a population of the model: " + ", ".join(known))
            for name, v in spec.items():
                if isinstance(v, dict):
                    out[name][mask] = rng.normal(v["mean"], v["sd"], int(mask.sum())) if v["sd"] else v["mean"]
                else:
                    out[name][mask] = float(v)
        return out

    def preset_drive(self, preset: str, per_type: dict) -> PresetDrive:
        """The preset's published input protocol (``drive="preset"``); none by default."""
        return PresetDrive(waves={}, gauss={})

    def preset_run(self, preset: str, per_type: dict, drive: str) -> PresetRun | None:
        """The published step and duration of the protocol that ``drive`` runs, or ``None``.

        Not ``None`` only when the preset's own stimulus protocol is applied (``drive="preset"``) and
        the publication gives its step and duration; a configuration whose runtime leaves ``dt_ms``
        or ``duration_ms`` unset then takes them from here, and the run has ``T / dt + 1`` steps
        (the loop ``t = 0:dt:T``). Default: none.
        """
        return None

    def strict_threshold(self, preset: str) -> bool:
        """Whether a spike needs the membrane above threshold (``>``) rather than at it (``>=``)."""
        return False

    def preset_connectivity(self, preset: str) -> str | None:
        """The connectivity rule a preset publishes (``rule="auto"``), or ``None``."""
        return None

    def check_emitter(self, preset: str, per_type: dict, emitter: dict) -> None:
        """Family-specific consistency checks of ``set_emitter`` (raise ``ConfigurationError``)."""

    def check_connectivity(self, conn_given: dict) -> None:
        """Family-specific checks of the connectivity keys the user gave (raise ``ConfigurationError``)."""

    # -- dynamics (traced) -------------------------------------------------------------------------
    def current_scale_pA(self, params: dict):
        """Factor from the family's current unit to pA (for I_syn and the source profile)."""
        return 1.0

    def precompute(self, params: dict, dt: float) -> dict:
        """Per-neuron constants of the step (propagators), computed once per chunk outside the scan."""
        return {}

    def synaptic_tau_ms(self, params: dict):
        """``(tau_exc, tau_inh)`` of the synaptic currents when the family owns them, else ``None``."""
        return None

    @abc.abstractmethod
    def init_state(self, params: dict, dtype) -> dict:
        """State at t = 0."""

    @abc.abstractmethod
    def step(self, params: dict, state: dict, syn, syn_state: dict, arrivals: dict, i_ext, dt: float,
             scheme: str, spike_fn=None) -> tuple[dict, dict, Any, Any]:
        """Advance one step.

        Parameters
        ----------
        syn : jaxfne.synapses.CurrentSynapses
            The synapse dynamics; ``syn.advance(syn_state, arrivals, dt, tau)`` decays the currents
            and adds the arrivals, ``syn.total(syn_state)`` gives ``(i_exc, i_inh)``.
        arrivals : dict
            This step's synaptic arrivals (``exc``, ``inh`` [neuron] and ``drive`` [drive, neuron]).
        i_ext : [neuron]
            External current held constant over the step (stimuli and random drives).
        spike_fn : callable, optional
            ``x -> 0/1`` with a surrogate derivative (:func:`jaxfne.engine.surrogate.spike_function`),
            applied to the distance to threshold; ``x > 0`` where :meth:`strict_threshold` says so for
            the model's preset, else ``x >= 0`` (the engine builds it). The family's default is the
            default surrogate with ``x >= 0``.

        Returns
        -------
        (state, syn_state, v_sample, spike)
            ``v_sample`` is V_m as the family records it; ``spike`` is 0/1 with a surrogate
            gradient; the returned state is already reset.
        """
