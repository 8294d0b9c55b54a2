"""Literal port of Izhikevich's published single-neuron MATLAB code.

Each protocol below transcribes one block of ``izhi2003.m`` (the file that draws Fig. 2 of
Izhikevich 2003 and, after it, Fig. 1 of Izhikevich 2004, i.e. ``figure1.m``), as
distributed in OpenSourceBrain/IzhikevichModel ``MATLAB/izhi2003.m``. Parameters, initial
values, step ``tau``, duration ``tspan(end)`` and the stimulus ``if`` conditions are copied
from the MATLAB text, expressions such as ``tspan(end)/10`` included, so this module is an
independent check of :mod:`jaxfne.presets.izhikevich` and of the engine: nothing here is
read from the package.

The loop of every block is (MATLAB, left to right evaluation)::

    for t = tspan                       % tspan = 0:tau:T
        I = <protocol>(t);
        V = V + tau*(0.04*V^2 + 5*V + 140 - u + I);
        u = u + tau*a*(b*V - u);        % uses the NEW V
        if V > 30
            VV(end+1) = 30;  V = c;  u = u + d;
        else
            VV(end+1) = V;
        end
        uu(end+1) = u;
    end

with two exceptions copied as written: (G) class 1 and (L) integrator use
``0.04*V^2 + 4.1*V + 108``, and (R) accommodation uses ``u = u + tau*a*(b*(V+65))``
with ``u(0) = -16``.

The time of loop iteration k is ``t_k = k * tau`` (:func:`engine_grid`). MATLAB builds
``0:tau:T`` with its symmetric colon algorithm (:func:`matlab_colon`); for ``tau`` = 0.25
and 0.5 both grids are exact, and for ``tau`` = 0.2 and 0.1 the tests check that every
stimulus decision is the same on both.

Regenerate the golden spike table of ``tests/test_presets_izhikevich.py`` with::

    python -m tests.reference.izhikevich_numpy

References
----------
Izhikevich EM (2003) Simple model of spiking neurons. IEEE Trans Neural Netw 14:1569-1572.
Izhikevich EM (2004) Which model to use for cortical spiking neurons? IEEE Trans Neural
Netw 15:1063-1070.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

# --------------------------------------------------------------------------------------
# Stimulus protocols, one function per MATLAB block; conditions copied verbatim.
# --------------------------------------------------------------------------------------


def _step_after(T1: float, level: float) -> Callable[[float], float]:
    """``if (t>T1) I=level; else I=0;``"""

    def current(t: float) -> float:
        if t > T1:
            return level
        return 0.0

    return current


# Izhikevich 2003, Fig. 2 (first figure of izhi2003.m); tspan(end) = 150 unless noted.
def _tc_burst(t: float) -> float:
    T1 = 3 * 150 / 10
    if t > T1:
        return 0.0
    return -25.0


def _rz(t: float) -> float:
    T1 = 100 / 10
    T2 = T1 + 50
    if (t > T2) and (t < T2 + 5):
        return 10.0
    elif t > T1:
        return -0.5
    return -2.0


# Izhikevich 2004, Fig. 1 (figure1.m blocks A-T).
def _class_1(t: float) -> float:  # (G)
    T1 = 30
    if t > T1:
        return 0.075 * (t - T1)
    return 0.0


def _class_2(t: float) -> float:  # (H)
    T1 = 30
    if t > T1:
        return -0.5 + (0.015 * (t - T1))
    return -0.5


def _spike_latency(t: float) -> float:  # (I), tspan(end) = 100
    T1 = 100 / 10
    if t > T1 and t < T1 + 3:
        return 7.04
    return 0.0


def _subthreshold(t: float) -> float:  # (J), tspan(end) = 200
    T1 = 200 / 10
    if (t > T1) and (t < T1 + 5):
        return 2.0
    return 0.0


def _resonator(t: float) -> float:  # (K), tspan(end) = 400
    T1 = 400 / 10
    T2 = T1 + 20
    T3 = 0.7 * 400
    T4 = T3 + 40
    if (
        ((t > T1) and (t < T1 + 4))
        or ((t > T2) and (t < T2 + 4))
        or ((t > T3) and (t < T3 + 4))
        or ((t > T4) and (t < T4 + 4))
    ):
        return 0.65
    return 0.0


def _integrator(t: float) -> float:  # (L), tspan(end) = 100
    T1 = 100 / 11
    T2 = T1 + 5
    T3 = 0.7 * 100
    T4 = T3 + 10
    if (
        ((t > T1) and (t < T1 + 2))
        or ((t > T2) and (t < T2 + 2))
        or ((t > T3) and (t < T3 + 2))
        or ((t > T4) and (t < T4 + 2))
    ):
        return 9.0
    return 0.0


def _rebound(t: float) -> float:  # (M), (N)
    T1 = 20
    if (t > T1) and (t < T1 + 5):
        return -15.0
    return 0.0


def _threshold_variability(t: float) -> float:  # (O)
    if ((t > 10) and (t < 15)) or ((t > 80) and (t < 85)):
        return 1.0
    elif (t > 70) and (t < 75):
        return -6.0
    return 0.0


def _bistability(t: float) -> float:  # (P), tspan(end) = 300
    T1 = 300 / 8
    T2 = 216
    if ((t > T1) and (t < T1 + 5)) or ((t > T2) and (t < T2 + 5)):
        return 1.24
    return 0.24


def _dap(t: float) -> float:  # (Q)
    T1 = 10
    if abs(t - T1) < 1:
        return 20.0
    return 0.0


def _accommodation(t: float) -> float:  # (R)
    if t < 200:
        return t / 25
    elif t < 300:
        return 0.0
    elif t < 312.5:
        return (t - 300) / 12.5 * 4
    return 0.0


def _inhibition_induced(t: float) -> float:  # (S), (T)
    if (t < 50) or (t > 250):
        return 80.0
    return 75.0


@dataclass(frozen=True)
class Protocol:
    """One MATLAB block: parameters, initial state, grid and stimulus.

    ``v_form`` is ``"5v+140"`` (0.04 V^2 + 5 V + 140) or ``"4.1v+108"``; ``u_form`` is
    ``"a(bV-u)"`` or ``"ab(V+65)"`` (block R). ``u0`` is None for ``u = b*V``.
    """

    a: float
    b: float
    c: float
    d: float
    V0: float
    tau: float
    T: float
    current: Callable[[float], float]
    u0: float | None = None
    v_form: str = "5v+140"
    u_form: str = "a(bV-u)"


PROTOCOLS: dict[str, Protocol] = {
    # ---- Izhikevich 2003, Fig. 2 ----
    "RS": Protocol(0.02, 0.2, -65, 8, -63, 0.25, 150, _step_after(150 / 10, 14.0)),
    "IB": Protocol(0.02, 0.2, -55, 4, -70, 0.25, 150, _step_after(150 / 10, 11.0)),
    "CH": Protocol(0.02, 0.2, -50, 2, -70, 0.25, 150, _step_after(150 / 10, 10.0)),
    "FS": Protocol(0.1, 0.2, -65, 2, -70, 0.25, 150, _step_after(150 / 10, 10.0)),
    "TC": Protocol(0.02, 0.25, -65, 0.05, -63, 0.25, 150, _step_after(2 * 150 / 10, 1.5)),
    "TC_burst": Protocol(0.02, 0.25, -65, 0.05, -87, 0.25, 150, _tc_burst),
    "RZ": Protocol(0.1, 0.26, -65, 2, -70, 0.25, 100, _rz),
    "LTS": Protocol(0.02, 0.25, -65, 2, -63, 0.25, 250, _step_after(1 * 250 / 10, 10.0)),
    # ---- Izhikevich 2004, Fig. 1 ----
    "tonic_spiking": Protocol(0.02, 0.2, -65, 6, -70, 0.25, 100, _step_after(100 / 10, 14.0)),
    "phasic_spiking": Protocol(0.02, 0.25, -65, 6, -64, 0.25, 200, _step_after(20, 0.5)),
    "tonic_bursting": Protocol(0.02, 0.2, -50, 2, -70, 0.25, 220, _step_after(22, 15.0)),
    "phasic_bursting": Protocol(0.02, 0.25, -55, 0.05, -64, 0.2, 200, _step_after(20, 0.6)),
    "mixed_mode": Protocol(0.02, 0.2, -55, 4, -70, 0.25, 160, _step_after(160 / 10, 10.0)),
    "spike_frequency_adaptation": Protocol(
        0.01, 0.2, -65, 8, -70, 0.25, 85, _step_after(85 / 10, 30.0)
    ),
    "class_1_excitable": Protocol(
        0.02, -0.1, -55, 6, -60, 0.25, 300, _class_1, v_form="4.1v+108"
    ),
    "class_2_excitable": Protocol(0.2, 0.26, -65, 0, -64, 0.25, 300, _class_2),
    "spike_latency": Protocol(0.02, 0.2, -65, 6, -70, 0.2, 100, _spike_latency),
    "subthreshold_oscillations": Protocol(0.05, 0.26, -60, 0, -62, 0.25, 200, _subthreshold),
    "resonator": Protocol(0.1, 0.26, -60, -1, -62, 0.25, 400, _resonator),
    "integrator": Protocol(0.02, -0.1, -55, 6, -60, 0.25, 100, _integrator, v_form="4.1v+108"),
    "rebound_spike": Protocol(0.03, 0.25, -60, 4, -64, 0.2, 200, _rebound),
    "rebound_burst": Protocol(0.03, 0.25, -52, 0, -64, 0.2, 200, _rebound),
    "threshold_variability": Protocol(0.03, 0.25, -60, 4, -64, 0.25, 100, _threshold_variability),
    "bistability": Protocol(0.1, 0.26, -60, 0, -61, 0.25, 300, _bistability),
    "depolarizing_after_potential": Protocol(1, 0.2, -60, -21, -70, 0.1, 50, _dap),
    "accommodation": Protocol(
        0.02, 1, -55, 4, -65, 0.5, 400, _accommodation, u0=-16, u_form="ab(V+65)"
    ),
    "inhibition_induced_spiking": Protocol(
        -0.02, -1, -60, 8, -63.8, 0.5, 350, _inhibition_induced
    ),
    "inhibition_induced_bursting": Protocol(
        -0.026, -1, -45, -2, -63.8, 0.5, 350, _inhibition_induced
    ),
}

CLASS_NAMES_2003 = ("RS", "IB", "CH", "FS", "TC", "TC_burst", "RZ", "LTS")
FEATURE_NAMES_2004 = tuple(k for k in PROTOCOLS if k not in CLASS_NAMES_2003)


# --------------------------------------------------------------------------------------
# Time grids
# --------------------------------------------------------------------------------------


def n_iterations(tau: float, T: float) -> int:
    """Number of iterations of ``for t = 0:tau:T`` (``T/tau + 1`` for the published runs)."""
    return int(math.floor(T / tau + 0.5)) + 1


def engine_grid(tau: float, T: float) -> np.ndarray:
    """The loop times ``t_k = k * tau``, k = 0 .. T/tau, float64."""
    return np.arange(n_iterations(tau, T), dtype=np.float64) * tau


def matlab_colon(a: float, d: float, b: float) -> np.ndarray:
    """``a:d:b`` built the way MATLAB does for a grid that hits ``b``.

    MathWorks describes the colon operator as symmetric: the first half of the points is
    ``a + k*d`` and the second half ``b - k*d`` counted from the end, the middle point of
    an even count of intervals being ``(a + b)/2``. Only used to check that the engine's
    ``k * tau`` grid takes the same stimulus decisions as MATLAB's.
    """
    n = n_iterations(d, b - a) - 1
    out = np.empty(n + 1)
    k = np.arange(n // 2 + 1)
    out[k] = a + k * d
    out[n - k] = b - k * d
    if n % 2 == 0:
        out[n // 2] = (a + b) / 2
    return out


# --------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """The arrays one MATLAB block produces.

    t : (n,) ms, the loop times. I : (n,) the stimulus of each iteration. VV : (n,) mV,
    V at the end of each iteration before reset, 30 on spike iterations. uu : (n,) u after
    the reset. spike_steps : indices k of iterations where ``V > 30``.
    """

    t: np.ndarray
    I: np.ndarray
    VV: np.ndarray
    uu: np.ndarray
    spike_steps: tuple[int, ...]


def stimulus(name: str, grid: str = "engine") -> np.ndarray:
    """The stimulus of every iteration of protocol ``name`` on ``grid`` ("engine" or "matlab")."""
    p = PROTOCOLS[name]
    t = engine_grid(p.tau, p.T) if grid == "engine" else matlab_colon(0.0, p.tau, p.T)
    return np.array([p.current(float(tk)) for tk in t])


def simulate(name: str, dtype: type = np.float64) -> Run:
    """Run protocol ``name`` exactly as the MATLAB loop does.

    ``dtype`` sets the arithmetic of V and u (np.float64 as MATLAB; np.float32 to measure
    how far single precision moves spikes). The times and the stimulus stay float64 and the
    stimulus is rounded to ``dtype`` once per iteration.
    """
    p = PROTOCOLS[name]
    f = dtype
    a, b, c, d, tau = f(p.a), f(p.b), f(p.c), f(p.d), f(p.tau)
    if p.v_form == "5v+140":
        k2, k1, k0 = f(0.04), f(5), f(140)
    else:
        k2, k1, k0 = f(0.04), f(4.1), f(108)
    V = f(p.V0)
    u = f(p.u0) if p.u0 is not None else b * V
    t = engine_grid(p.tau, p.T)
    n = t.size
    I_arr = np.empty(n)
    VV = np.empty(n)
    uu = np.empty(n)
    spikes = []
    peak = f(30)
    for k in range(n):
        I = p.current(float(t[k]))
        I_arr[k] = I
        If = f(I)
        V = V + tau * (k2 * (V * V) + k1 * V + k0 - u + If)
        if p.u_form == "a(bV-u)":
            u = u + tau * a * (b * V - u)
        else:
            u = u + tau * a * (b * (V + f(65)))
        if V > peak:
            VV[k] = 30.0
            V = c
            u = u + d
            spikes.append(k)
        else:
            VV[k] = V
        uu[k] = u
    return Run(t=t, I=I_arr, VV=VV, uu=uu, spike_steps=tuple(spikes))


def golden_table() -> dict[str, tuple[int, ...]]:
    """Spike step indices of every protocol (float64)."""
    return {name: simulate(name).spike_steps for name in PROTOCOLS}


if __name__ == "__main__":
    print("GOLDEN_SPIKE_STEPS = {")
    for _name, _steps in golden_table().items():
        print(f"    {_name!r}: {_steps!r},")
    print("}")
