"""Izhikevich single-neuron presets: the 2003 cell classes and the 2004 neuro-computational features.

Every preset is named data with its citation: parameters, initial state, the published step
and duration, and the published stimulus as a sum of piecewise-linear :class:`Segment` pieces.
Numbers and interval boundaries are transcribed from Izhikevich's own MATLAB
(``izhi2003.m``, which draws Fig. 2 of the 2003 paper and then Fig. 1 of the 2004 paper, i.e.
the blocks A-T of ``figure1.m``; distributed as OpenSourceBrain/IzhikevichModel
``MATLAB/izhi2003.m``). Expressions such as ``tspan(end)/10`` are evaluated with the same
float64 operations MATLAB performs.

Equations
---------
.. math::

    v' = k_2 v^2 + k_1 v + k_0 - u + I(t), \\qquad
    u' = a\\,(b\\,(v - u_{\\mathrm{off}}) - \\delta_u\\, u)

with spike when :math:`v > v_{\\mathrm{peak}}` (30 mV), then :math:`v \\leftarrow c`,
:math:`u \\leftarrow u + d`. The published form is :math:`k_2, k_1, k_0 = 0.04, 5, 140`,
:math:`u_{\\mathrm{off}} = 0`, :math:`\\delta_u = 1`. Panels G (class 1) and L (integrator)
use :math:`k_1, k_0 = 4.1, 108`; panel R (accommodation) uses :math:`u' = a b (v + 65)`,
i.e. :math:`u_{\\mathrm{off}} = -65`, :math:`\\delta_u = 0`. v in mV, t in ms, u and I in the
model's own units (mV/ms scale of the v equation).

Numerics
--------
All presets here use ``scheme="sequential_euler"``, the loop of the MATLAB code: with step
:math:`\\tau`, ``v += tau*f(v, u, I)``, then ``u += tau*a*(b*v - u)`` with the *new* v, then
the spike check (``if V > 30``: strictly above ``v_peak``) and reset; the spike is recorded at
that step. Loop iteration k runs at :math:`t_k = k\\tau` and uses :math:`I(t_k)`; the published
run ``tspan = 0:tau:T`` has ``T/tau + 1`` iterations. The engine runs exactly this loop for a
configuration with such a preset and its protocol (``drive="preset"``): ``dt_ms`` and
``duration_ms`` are the published ones unless its runtime sets them, and a run of duration T has
T/dt + 1 steps. Other schemes named in the package: ``"split_half_step"`` (net.m, two v
half-steps then one u step) and ``"euler"`` (consistent forward Euler).

Stimulus pieces are disjoint wherever MATLAB's ``if``/``elseif`` chain selects one value,
so the sum over pieces evaluated by :func:`stimulus_current` is bit-identical to the
MATLAB expression on the grid, with one exception: the first ramp of panel R, MATLAB's
``t/25``, is represented as ``(1/25) * (t - 0)``, which differs from ``t/25`` by at most
one unit in the last place (at 51 of its 400 grid points).

References
----------
Izhikevich EM (2003) Simple model of spiking neurons. IEEE Trans Neural Netw 14:1569-1572.
doi:10.1109/TNN.2003.820440
Izhikevich EM (2004) Which model to use for cortical spiking neurons? IEEE Trans Neural
Netw 15:1063-1070. doi:10.1109/TNN.2004.832719

Examples
--------
>>> from jaxfne.presets.izhikevich import get_preset, stimulus_current
>>> p = get_preset("tonic_spiking")
>>> (p.a, p.b, p.c, p.d, p.v0)
(0.02, 0.2, -65.0, 6.0, -70.0)
>>> stimulus_current(p.stimulus, [10.0, 10.25]).tolist()
[0.0, 14.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = [
    "CITATION_2003",
    "CITATION_2004",
    "CLASSES_2003",
    "FEATURES_2004",
    "PRESET_NAMES",
    "SCHEMES",
    "IzhikevichPreset",
    "PresetError",
    "Segment",
    "get_preset",
    "stimulus_current",
]

CITATION_2003 = (
    "Izhikevich EM (2003) Simple model of spiking neurons. "
    "IEEE Trans Neural Netw 14:1569-1572. doi:10.1109/TNN.2003.820440"
)
CITATION_2004 = (
    "Izhikevich EM (2004) Which model to use for cortical spiking neurons? "
    "IEEE Trans Neural Netw 15:1063-1070. doi:10.1109/TNN.2004.832719"
)
_SOURCE = "Stimulus and numerics from Izhikevich's izhi2003.m / figure1.m (MATLAB)."

SCHEMES = ("sequential_euler", "split_half_step", "euler")
_INF = math.inf


class PresetError(ValueError):
    """An invalid preset, stimulus piece or preset name."""


@dataclass(frozen=True)
class Segment:
    """One piece of a piecewise-linear stimulus current I(t) (model units, i.e. the I of v' = ... + I).

    On the interval it contributes ``value + slope * (t - t_start)``; outside it contributes 0.
    Pieces add up, so a baseline plus a window is two pieces.

    Parameters
    ----------
    t_start, t_stop : float
        Interval ends, ms; ``t_start`` may be ``-inf`` (only with ``slope == 0``) and
        ``t_stop`` may be ``inf``.
    value : float
        Current at ``t_start`` (model units).
    slope : float
        dI/dt on the interval, per ms.
    closed_start, closed_stop : bool
        Whether ``t == t_start`` (``t == t_stop``) belongs to the interval.
    """

    t_start: float
    t_stop: float
    value: float
    slope: float = 0.0
    closed_start: bool = False
    closed_stop: bool = False

    def __post_init__(self) -> None:
        if math.isnan(self.t_start) or math.isnan(self.t_stop) or not self.t_start <= self.t_stop:
            raise PresetError(
                f"Segment t_start={self.t_start!r}, t_stop={self.t_stop!r}: "
                "need t_start <= t_stop (ms, either may be infinite)"
            )
        if not math.isfinite(self.value):
            raise PresetError(f"Segment value={self.value!r}: must be finite")
        if not math.isfinite(self.slope):
            raise PresetError(f"Segment slope={self.slope!r}: must be finite")
        if self.slope != 0.0 and not math.isfinite(self.t_start):
            raise PresetError(
                f"Segment slope={self.slope!r} with t_start={self.t_start!r}: "
                "a ramp needs a finite t_start"
            )

    def contains(self, t: np.ndarray | float) -> np.ndarray:
        """Boolean mask of the times ``t`` (ms) inside the interval."""
        t = np.asarray(t, dtype=np.float64)
        lo = t >= self.t_start if self.closed_start else t > self.t_start
        hi = t <= self.t_stop if self.closed_stop else t < self.t_stop
        return lo & hi

    def current(self, t: np.ndarray | float) -> np.ndarray:
        """This piece's contribution at times ``t`` (ms), float64, same shape as ``t``."""
        t = np.asarray(t, dtype=np.float64)
        if self.slope == 0.0:
            inside_value = np.full_like(t, self.value)
        else:
            inside_value = self.value + self.slope * (t - self.t_start)
        return np.where(self.contains(t), inside_value, 0.0)


def stimulus_current(stimulus: Sequence[Segment], t: np.ndarray | Sequence[float] | float) -> np.ndarray:
    """Evaluate a piecewise-linear stimulus on the host in float64.

    Parameters
    ----------
    stimulus : sequence of Segment
        Pieces; their contributions are summed in order, starting from 0.
    t : array_like, ms
        Times, any shape.

    Returns
    -------
    numpy.ndarray
        I(t), float64, same shape as ``t``.
    """
    t = np.asarray(t, dtype=np.float64)
    total = np.zeros_like(t)
    for piece in stimulus:
        total = total + piece.current(t)
    return total


@dataclass(frozen=True)
class IzhikevichPreset:
    """A published single-neuron protocol: parameters, initial state, stimulus and numerics.

    Parameters
    ----------
    name : str
        Registry key, e.g. ``"tonic_spiking"``, ``"RS"``.
    a, b, c, d : float
        Recovery time scale (1/ms), recovery sensitivity, reset voltage (mV), reset jump of u.
    v0 : float
        Initial membrane potential, mV.
    u0 : float or None
        Initial recovery variable; None means ``b * v0`` (see :attr:`u_initial`).
    k2, k1, k0 : float
        Coefficients of ``v' = k2 v^2 + k1 v + k0 - u + I``.
    u_v_offset, u_decay : float
        ``u' = a (b (v - u_v_offset) - u_decay u)``.
    v_peak : float
        Spike cut-off, mV; a spike is ``v > v_peak``.
    dt_ms, duration_ms : float
        Published step tau and final time T (the loop runs t = 0, tau, ..., T).
    stimulus : tuple of Segment
        The published current protocol.
    scheme : str
        Integration scheme name, one of :data:`SCHEMES`.
    panel, behaviour, citation, variant_notes : str
        Figure panel, named behaviour, full reference, known variants in other ports.
    """

    name: str
    a: float
    b: float
    c: float
    d: float
    v0: float
    u0: float | None
    k2: float = 0.04
    k1: float = 5.0
    k0: float = 140.0
    u_v_offset: float = 0.0
    u_decay: float = 1.0
    v_peak: float = 30.0
    dt_ms: float = 0.25
    duration_ms: float = 100.0
    stimulus: tuple[Segment, ...] = ()
    scheme: str = "sequential_euler"
    panel: str = ""
    behaviour: str = ""
    citation: str = ""
    variant_notes: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise PresetError("IzhikevichPreset name='': must be a non-empty registry key")
        if self.scheme not in SCHEMES:
            raise PresetError(
                f"IzhikevichPreset scheme={self.scheme!r}: allowed values are {SCHEMES}"
            )
        if not (self.dt_ms > 0 and math.isfinite(self.dt_ms)):
            raise PresetError(f"IzhikevichPreset dt_ms={self.dt_ms!r}: must be a positive number of ms")
        if not (self.duration_ms > 0 and math.isfinite(self.duration_ms)):
            raise PresetError(
                f"IzhikevichPreset duration_ms={self.duration_ms!r}: must be a positive number of ms"
            )
        for piece in self.stimulus:
            if not isinstance(piece, Segment):
                raise PresetError(
                    f"IzhikevichPreset stimulus item {piece!r}: must be a Segment"
                )

    @property
    def u_initial(self) -> float:
        """The initial u(0), ``u0`` if given, else ``b * v0``."""
        return self.b * self.v0 if self.u0 is None else self.u0

    @property
    def n_steps(self) -> int:
        """Iterations of the published loop ``t = 0:dt_ms:duration_ms``."""
        return int(round(self.duration_ms / self.dt_ms)) + 1

    def current(self, t: np.ndarray | Sequence[float] | float) -> np.ndarray:
        """The stimulus at times ``t`` (ms), float64; see :func:`stimulus_current`."""
        return stimulus_current(self.stimulus, t)


# ------------------------------------------------------------------------------------------
# Stimulus builders (each mirrors one MATLAB idiom)
# ------------------------------------------------------------------------------------------


def _after(t1: float, level: float) -> tuple[Segment, ...]:
    """``if (t>T1) I=level; else I=0;``"""
    return (Segment(t1, _INF, level),)


def _windows(level: float, *bounds: tuple[float, float]) -> tuple[Segment, ...]:
    """``if (t>t0 & t<t1) | ... I=level; else I=0;`` (open windows)."""
    return tuple(Segment(t0, t1, level) for t0, t1 in bounds)


def _feature(name: str, panel: str, behaviour: str, a, b, c, d, v0, dt, T, stimulus,
             variant_notes: str = "", u0: float | None = None, **extra) -> IzhikevichPreset:
    return IzhikevichPreset(
        name=name, a=float(a), b=float(b), c=float(c), d=float(d), v0=float(v0),
        u0=u0, dt_ms=float(dt), duration_ms=float(T), stimulus=stimulus,
        scheme="sequential_euler", panel=f"Izhikevich 2004, Fig. 1{panel}",
        behaviour=behaviour, citation=f"{CITATION_2004} {_SOURCE}",
        variant_notes=variant_notes, **extra,
    )


def _class(name: str, behaviour: str, a, b, c, d, v0, T, stimulus,
           variant_notes: str = "") -> IzhikevichPreset:
    return IzhikevichPreset(
        name=name, a=float(a), b=float(b), c=float(c), d=float(d), v0=float(v0), u0=None,
        dt_ms=0.25, duration_ms=float(T), stimulus=stimulus, scheme="sequential_euler",
        panel="Izhikevich 2003, Fig. 2", behaviour=behaviour,
        citation=f"{CITATION_2003} {_SOURCE}", variant_notes=variant_notes,
    )


_PYNN = "OpenSourceBrain/IzhikevichModel PyNN/izhikevich2004.py"
_ALT_V = "Needs v' = 0.04v^2 + 4.1v + 108 - u + I; ports limited to the 5v + 140 form (e.g. PyNN) do not reproduce it."

# Panel K and L onsets exactly as the MATLAB computes them.
_K1 = 400 / 10
_K2 = _K1 + 20
_K3 = 0.7 * 400
_K4 = _K3 + 40
_L1 = 100 / 11
_L2 = _L1 + 5
_L3 = 0.7 * 100
_L4 = _L3 + 10
_P1 = 300 / 8
_P2 = 216.0

_FEATURES = (
    _feature("tonic_spiking", "A", "Tonic spiking: regular spikes for as long as a step current lasts.",
             0.02, 0.2, -65, 6, -70, 0.25, 100, _after(100 / 10, 14.0)),
    _feature("phasic_spiking", "B", "Phasic spiking: a single spike at the onset of a step current.",
             0.02, 0.25, -65, 6, -64, 0.25, 200, _after(20.0, 0.5)),
    _feature("tonic_bursting", "C", "Tonic bursting: periodic bursts of spikes during a step current.",
             0.02, 0.2, -50, 2, -70, 0.25, 220, _after(22.0, 15.0)),
    _feature("phasic_bursting", "D", "Phasic bursting: one burst at the onset of a step current.",
             0.02, 0.25, -55, 0.05, -64, 0.2, 200, _after(20.0, 0.6)),
    _feature("mixed_mode", "E", "Mixed mode: an initial burst followed by tonic spikes.",
             0.02, 0.2, -55, 4, -70, 0.25, 160, _after(160 / 10, 10.0)),
    _feature("spike_frequency_adaptation", "F",
             "Spike-frequency adaptation: inter-spike intervals lengthen during a step current.",
             0.01, 0.2, -65, 8, -70, 0.25, 85, _after(85 / 10, 30.0)),
    _feature("class_1_excitable", "G",
             "Class 1 excitability: firing rate rises from near zero with a slowly ramped current.",
             0.02, -0.1, -55, 6, -60, 0.25, 300, (Segment(30.0, _INF, 0.0, slope=0.075),),
             variant_notes=_ALT_V + f" {_PYNN} runs it with b=0.2, c=-65, v0=-70.",
             k1=4.1, k0=108.0),
    _feature("class_2_excitable", "H",
             "Class 2 excitability: firing starts at a non-zero rate as a ramped current crosses threshold.",
             0.2, 0.26, -65, 0, -64, 0.25, 300,
             (Segment(-_INF, 30.0, -0.5, closed_stop=True), Segment(30.0, _INF, -0.5, slope=0.015))),
    _feature("spike_latency", "I", "Spike latency: a brief pulse evokes one spike after a delay.",
             0.02, 0.2, -65, 6, -70, 0.2, 100, _windows(7.04, (100 / 10, 100 / 10 + 3)),
             variant_notes=f"{_PYNN} uses amplitude 6.71 (0.00671 nA) instead of 7.04."),
    _feature("subthreshold_oscillations", "J",
             "Subthreshold oscillations: a pulse evokes a spike followed by damped oscillations of v.",
             0.05, 0.26, -60, 0, -62, 0.25, 200, _windows(2.0, (200 / 10, 200 / 10 + 5))),
    _feature("resonator", "K",
             "Resonator: fires only to a pair of pulses whose interval matches its oscillation period.",
             0.1, 0.26, -60, -1, -62, 0.25, 400,
             _windows(0.65, (_K1, _K1 + 4), (_K2, _K2 + 4), (_K3, _K3 + 4), (_K4, _K4 + 4))),
    _feature("integrator", "L", "Integrator: fires to closely spaced pulses, not to widely spaced ones.",
             0.02, -0.1, -55, 6, -60, 0.25, 100,
             _windows(9.0, (_L1, _L1 + 2), (_L2, _L2 + 2), (_L3, _L3 + 2), (_L4, _L4 + 2)),
             variant_notes=_ALT_V, k1=4.1, k0=108.0),
    _feature("rebound_spike", "M", "Rebound spike: a spike after release from a hyperpolarising pulse.",
             0.03, 0.25, -60, 4, -64, 0.2, 200, _windows(-15.0, (20.0, 25.0))),
    _feature("rebound_burst", "N", "Rebound burst: a burst after release from a hyperpolarising pulse.",
             0.03, 0.25, -52, 0, -64, 0.2, 200, _windows(-15.0, (20.0, 25.0))),
    _feature("threshold_variability", "O",
             "Threshold variability: the same pulse fires only after preceding inhibition.",
             0.03, 0.25, -60, 4, -64, 0.25, 100,
             _windows(1.0, (10.0, 15.0), (80.0, 85.0)) + _windows(-6.0, (70.0, 75.0))),
    _feature("bistability", "P",
             "Bistability: one pulse switches tonic firing on, a second, well-timed pulse switches it off.",
             0.1, 0.26, -60, 0, -61, 0.25, 300,
             (Segment(-_INF, _P1, 0.24, closed_stop=True), Segment(_P1, _P1 + 5, 1.24),
              Segment(_P1 + 5, _P2, 0.24, closed_start=True, closed_stop=True),
              Segment(_P2, _P2 + 5, 1.24), Segment(_P2 + 5, _INF, 0.24, closed_start=True)),
             variant_notes=f"{_PYNN} places the second pulse at 208 ms instead of 216 ms."),
    _feature("depolarizing_after_potential", "Q",
             "Depolarising after-potential: after a spike v stays above rest and a second input fires more easily.",
             1, 0.2, -60, -21, -70, 0.1, 50, _windows(20.0, (10 - 1, 10 + 1)),
             variant_notes=f"{_PYNN} uses b=0.18 instead of 0.2."),
    _feature("accommodation", "R",
             "Accommodation: a slowly rising current does not fire, a steep ramp of similar amplitude does.",
             0.02, 1, -55, 4, -65, 0.5, 400,
             (Segment(0.0, 200.0, 0.0, slope=1 / 25, closed_start=True),
              Segment(300.0, 312.5, 0.0, slope=4 / 12.5, closed_start=True)),
             variant_notes=("Needs u' = a*b*(v + 65) and u(0) = -16; ports limited to "
                            "u' = a(bv - u) (e.g. PyNN) do not reproduce it. MATLAB's first "
                            "ramp is t/25 for t < 200 (the grid starts at t = 0); (1/25)*t "
                            "differs from it by at most one ulp."),
             u0=-16.0, u_v_offset=-65.0, u_decay=0.0),
    _feature("inhibition_induced_spiking", "S",
             "Inhibition-induced spiking: tonic spikes while a depolarising drive is reduced.",
             -0.02, -1, -60, 8, -63.8, 0.5, 350,
             (Segment(-_INF, 50.0, 80.0), Segment(50.0, 250.0, 75.0, closed_start=True, closed_stop=True),
              Segment(250.0, _INF, 80.0)),
             variant_notes=f"{_PYNN} shortens the inhibitory window to 170 ms (50-220 ms) instead of 200 ms."),
    _feature("inhibition_induced_bursting", "T",
             "Inhibition-induced bursting: bursts while a depolarising drive is reduced.",
             -0.026, -1, -45, -2, -63.8, 0.5, 350,
             (Segment(-_INF, 50.0, 80.0), Segment(50.0, 250.0, 75.0, closed_start=True, closed_stop=True),
              Segment(250.0, _INF, 80.0)),
             variant_notes=(f"{_PYNN} uses d=-0.7 instead of -2 to reproduce Fig. 1 with its "
                            "integrator; other public parameter tables list d=0.")),
)

_CLASSES = (
    _class("RS", "Regular spiking excitatory cortical neuron: tonic spikes with adaptation.",
           0.02, 0.2, -65, 8, -63, 150, _after(150 / 10, 14.0)),
    _class("IB", "Intrinsically bursting: an initial burst, then tonic spikes.",
           0.02, 0.2, -55, 4, -70, 150, _after(150 / 10, 11.0),
           variant_notes="izhi2003.m uses I=11 with I=14 commented out beside it."),
    _class("CH", "Chattering: repetitive high-frequency bursts.",
           0.02, 0.2, -50, 2, -70, 150, _after(150 / 10, 10.0)),
    _class("FS", "Fast spiking inhibitory interneuron: high-frequency spikes without adaptation.",
           0.1, 0.2, -65, 2, -70, 150, _after(150 / 10, 10.0)),
    _class("TC", "Thalamo-cortical neuron, tonic mode from a depolarised rest.",
           0.02, 0.25, -65, 0.05, -63, 150, _after(2 * 150 / 10, 1.5)),
    _class("TC_burst", "Thalamo-cortical neuron, rebound burst after release from hyperpolarisation.",
           0.02, 0.25, -65, 0.05, -87, 150, (Segment(-_INF, 3 * 150 / 10, -25.0, closed_stop=True),)),
    _class("RZ", "Resonator: subthreshold oscillations, fires to a well-timed input.",
           0.1, 0.26, -65, 2, -70, 100,
           (Segment(-_INF, 100 / 10, -2.0, closed_stop=True),
            Segment(100 / 10, 100 / 10 + 50, -0.5, closed_stop=True),
            Segment(100 / 10 + 50, 100 / 10 + 50 + 5, 10.0),
            Segment(100 / 10 + 50 + 5, _INF, -0.5, closed_start=True))),
    _class("LTS", "Low-threshold spiking inhibitory interneuron: high-frequency spikes with adaptation.",
           0.02, 0.25, -65, 2, -63, 250, _after(1 * 250 / 10, 10.0)),
)

FEATURES_2004: dict[str, IzhikevichPreset] = {p.name: p for p in _FEATURES}
CLASSES_2003: dict[str, IzhikevichPreset] = {p.name: p for p in _CLASSES}
PRESET_NAMES: tuple[str, ...] = tuple(FEATURES_2004) + tuple(CLASSES_2003)


def get_preset(name: str) -> IzhikevichPreset:
    """Look up a single-neuron preset by registry key.

    Parameters
    ----------
    name : str
        A 2004 feature key (e.g. ``"tonic_spiking"``) or a 2003 class key (e.g. ``"RS"``).

    Returns
    -------
    IzhikevichPreset

    Raises
    ------
    PresetError
        (a ValueError) when ``name`` is unknown; the message lists every known name.
    """
    if isinstance(name, str):
        if name in FEATURES_2004:
            return FEATURES_2004[name]
        if name in CLASSES_2003:
            return CLASSES_2003[name]
    raise PresetError(
        f"Izhikevich preset name={name!r} is unknown; known names: {', '.join(PRESET_NAMES)}"
    )
