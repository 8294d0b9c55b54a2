"""NEST's ``iaf_psc_exp`` as a plain float64 step loop, independent of :mod:`jaxfne`.

Model (NEST 3, ``models/iaf_psc_exp.{h,cpp}``): leaky integrate-and-fire neuron with
exponentially decaying excitatory and inhibitory synaptic currents,

    C_m dV/dt = -C_m (V - E_L) / tau_m + I_syn_ex + I_syn_in + I_e + i_0,
    dI_syn_X/dt = -I_syn_X / tau_syn_X,

integrated exactly on the grid t_k = k h (Rotter & Diesmann 1999). NEST keeps
``y3 = V_m - E_L`` and the threshold and reset relative to E_L (``Theta = V_th - E_L``,
``V_reset_rel = V_reset - E_L``). ``pre_run_hook()`` sets, for the resolution h::

    P11ex = exp(-h / tau_syn_ex)        P11in = exp(-h / tau_syn_in)
    P22   = exp(-h / tau_m)             P20   = tau_m / C_m * (1 - P22)
    P21ex = IAFPropagatorExp(tau_syn_ex, tau_m, C_m).evaluate(h)        (likewise P21in)
    RefractoryCounts = Time(ms(t_ref)).get_steps()

and ``update()`` does, in step k (from t_k to t_{k+1})::

    if r == 0:  y3 = ((y3 P22 + i_ex P21ex) + i_in P21in) + (I_e + i_0) P20
    else:       r -= 1
    i_ex *= P11ex;  i_in *= P11in
    i_ex += spikes of this step with w >= 0;  i_in += spikes with w < 0      (pA)
    if y3 >= Theta:  r = RefractoryCounts;  y3 = V_reset_rel;  spike at t_{k+1}
    i_0 = current arriving in this step (acts during step k + 1)
    record V_m = y3 + E_L, I_syn_ex, I_syn_in with time stamp t_{k+1}

(the ``i_1`` port, current filtered through the excitatory synapse, is omitted; NEST adds
``(1 - P11ex) i_1``, which is 0 here). The additions are written in NEST's order, so the
loop reproduces NEST bit for bit (checked against NEST 3.10 in
``tests/test_reference_iaf_psc_exp.py``).

P21 (``libnestutil/iaf_propagator.cpp``, NEST >= 3.4; earlier ``propagator_32`` in
``propagator_stability.cpp``): the exact response of V to a unit synaptic current,

    P21 = gamma exp(-h / tau_syn) expm1(h / beta),
    beta = tau_syn tau_m / (tau_m - tau_syn),   gamma = beta / C_m,

with the singular limit ``P21 = h / C_m exp(-h / tau_m)`` used when the regular value is not
a positive normal float, which is the case for tau_syn == tau_m (beta = inf, 0 * inf = nan).
NEST 3.10's compiled code uses ``1/beta = (tau_m - tau_syn) / (tau_syn tau_m)`` and its own
``numerics::expm1`` (a Taylor series for |x| <= ln 2 in builds without the C library's
``expm1``, as in the PyPI wheel; :func:`nest_expm1`), which differs from ``math.expm1`` by
a few ulp (at most 5, measured over |x| <= 0.7). NEST 2.x / 3.0-3.3 (``propagator_32``) used
``-tau_m / (C_m (1 - tau_m/tau_syn)) exp(-h/tau_syn) expm1(h (1/tau_syn - 1/tau_m))`` and
switched to the singular value when ``|tau_m - tau_syn| < 0.1`` and the regular value
deviated from it by more than twice the first-order correction; for tau_m = 10 ms,
h = 0.1 ms both versions agree to 3e-12 (relative) for any tau_syn.

Units: ms, mV, pA, pF throughout; rates in Hz.

References
----------
Rotter S, Diesmann M (1999) Exact digital simulation of time-invariant linear systems with
applications to neuronal modeling. Biol Cybern 81:381-402.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

#: NEST 3 defaults of ``iaf_psc_exp`` (``nest.GetDefaults("iaf_psc_exp")``, NEST 3.10).
DEFAULTS: dict[str, float] = {
    "C_m": 250.0,  # pF
    "tau_m": 10.0,  # ms
    "t_ref": 2.0,  # ms
    "E_L": -70.0,  # mV
    "V_reset": -70.0,  # mV
    "V_th": -55.0,  # mV
    "I_e": 0.0,  # pA
    "tau_syn_ex": 2.0,  # ms
    "tau_syn_in": 2.0,  # ms
}

#: NEST's default time base: tics per millisecond (``nest.tics_per_ms``).
TICS_PER_MS = 1000

_LN2 = 0.6931471805599453
_EPS = 2.220446049250313e-16
_DBL_MIN = 2.2250738585072014e-308
_DBL_MAX = 1.7976931348623157e308


def full_params(params: Mapping[str, float] | None) -> dict[str, float]:
    """NEST parameter dict completed with :data:`DEFAULTS`.

    Parameters
    ----------
    params : mapping or None
        Any subset of the keys of :data:`DEFAULTS` (NEST names and units).

    Returns
    -------
    dict
        All nine parameters as floats.

    Raises
    ------
    ValueError
        For a key that is not an ``iaf_psc_exp`` parameter handled here.
    """
    params = dict(params or {})
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown iaf_psc_exp parameters: {unknown}")
    return {k: float(params.get(k, v)) for k, v in DEFAULTS.items()}


def tics_per_step(dt_ms: float) -> int:
    """Number of NEST tics (1 us) in one step of ``dt_ms``.

    Raises
    ------
    ValueError
        If ``dt_ms`` is not a positive multiple of the tic (0.001 ms).
    """
    tics = int(round(dt_ms * TICS_PER_MS))
    if tics < 1 or abs(tics - dt_ms * TICS_PER_MS) > 1e-6:
        raise ValueError(f"dt_ms = {dt_ms} is not a positive multiple of 1/{TICS_PER_MS} ms")
    return tics


def grid_step_ms(dt_ms: float) -> float:
    """The resolution h in ms as NEST computes it: ``TICS_PER_STEP * MS_PER_TIC``."""
    return tics_per_step(dt_ms) * (1.0 / TICS_PER_MS)


def refractory_counts(t_ref_ms: float, dt_ms: float) -> int:
    """Refractory steps, ``Time(Time::ms(t_ref)).get_steps()`` in NEST.

    ``t_ref`` is rounded to the nearest tic, then up to whole steps; for ``t_ref`` on the
    grid this is ``round(t_ref / h)``.

    Parameters
    ----------
    t_ref_ms : float
        Refractory period (ms).
    dt_ms : float
        Resolution h (ms).

    Returns
    -------
    int
        Number of steps during which V_m is clamped after a spike.
    """
    tps = tics_per_step(dt_ms)
    tics = int(t_ref_ms * TICS_PER_MS + 0.5)
    return int((tics + tps - 1) * (1.0 / tps))


def nest_expm1(x: float) -> float:
    """``exp(x) - 1`` as NEST's ``numerics::expm1`` fallback computes it.

    Taylor series summed until the next term is below one ulp of the sum for
    |x| <= ln 2, ``exp(x) - 1`` beyond. This is what the NEST 3.10 PyPI build runs
    (it is built without ``HAVE_EXPM1``); it differs from :func:`math.expm1` by at most
    5 ulp.
    """
    if x == 0.0:
        return 0.0
    if abs(x) > _LN2:
        return math.exp(x) - 1.0
    total = x
    term = x * x * 0.5
    n = 2
    while abs(term) > abs(total) * _EPS:
        total += term
        n += 1
        term *= x / n
    return total


def propagator_p21(tau_syn: float, tau_m: float, C_m: float, h: float, expm1=nest_expm1) -> float:
    """Propagator from synaptic current to V_m over one step (``IAFPropagatorExp``).

    Parameters
    ----------
    tau_syn : float
        Synaptic time constant (ms).
    tau_m : float
        Membrane time constant (ms).
    C_m : float
        Membrane capacitance (pF).
    h : float
        Step (ms).
    expm1 : callable
        ``exp(x) - 1``; :func:`nest_expm1` (NEST wheel) or :func:`math.expm1`.

    Returns
    -------
    float
        P21 in mV/pA: V_m(h) - E_L for V_m(0) = E_L, I_syn(0) = 1 pA, no other input.
    """
    singular = (h * (1.0 / C_m)) * math.exp(-h * (1.0 / tau_m))
    if tau_m == tau_syn:
        return singular
    beta = tau_syn * tau_m / (tau_m - tau_syn)
    inv_beta = (tau_m - tau_syn) / (tau_syn * tau_m)
    gamma = beta / C_m
    regular = gamma * math.exp(-h * (1.0 / tau_syn)) * expm1(h * inv_beta)
    if _DBL_MIN <= abs(regular) <= _DBL_MAX and regular > 0.0:
        return regular
    return singular


def propagators(params: Mapping[str, float] | None, dt_ms: float) -> dict[str, float]:
    """All step constants of ``iaf_psc_exp`` (``pre_run_hook()``).

    Parameters
    ----------
    params : mapping or None
        NEST parameters (missing ones from :data:`DEFAULTS`).
    dt_ms : float
        Resolution h (ms).

    Returns
    -------
    dict
        ``P11ex``, ``P11in``, ``P22`` (dimensionless), ``P21ex``, ``P21in`` (mV/pA),
        ``P20`` (mV/pA), ``RefractoryCounts`` (steps) and ``h`` (ms).
    """
    p = full_params(params)
    h = grid_step_ms(dt_ms)
    P22 = math.exp(-h / p["tau_m"])
    return {
        "h": h,
        "P11ex": math.exp(-h / p["tau_syn_ex"]),
        "P11in": math.exp(-h / p["tau_syn_in"]),
        "P22": P22,
        "P21ex": propagator_p21(p["tau_syn_ex"], p["tau_m"], p["C_m"], h),
        "P21in": propagator_p21(p["tau_syn_in"], p["tau_m"], p["C_m"], h),
        "P20": p["tau_m"] / p["C_m"] * (1.0 - P22),
        "RefractoryCounts": refractory_counts(p["t_ref"], dt_ms),
    }


def _per_step(x, n_steps: int, name: str) -> np.ndarray:
    """``x`` (None, scalar or length-``n_steps`` array) as a float64 array [n_steps]."""
    if x is None:
        return np.zeros(n_steps)
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n_steps, float(arr))
    if arr.shape != (n_steps,):
        raise ValueError(f"{name} has shape {arr.shape}, expected ({n_steps},)")
    return arr


def simulate(
    params: Mapping[str, float] | None,
    n_steps: int,
    dt_ms: float,
    i_ext_pA=None,
    w_ex_pA=None,
    w_in_pA=None,
    V0: float | None = None,
) -> dict[str, np.ndarray]:
    """Run one ``iaf_psc_exp`` neuron for ``n_steps`` steps of NEST's update loop.

    Parameters
    ----------
    params : mapping or None
        NEST parameters: C_m (pF), tau_m, t_ref, tau_syn_ex, tau_syn_in (ms),
        E_L, V_reset, V_th (mV), I_e (pA). Missing ones from :data:`DEFAULTS`.
    n_steps : int
        Number of steps k = 0 .. n_steps-1; step k runs from t_k = k h to t_{k+1}.
    dt_ms : float
        Resolution h (ms).
    i_ext_pA : None, float or array [n_steps]
        Piecewise constant external current (pA) acting during step k, in addition to
        ``I_e``. NEST can only deliver current from a generator to steps k >= 2; see
        :mod:`tests.reference.nest_iaf_psc_exp`.
    w_ex_pA, w_in_pA : None, float or array [n_steps]
        Summed weights (pA) of the spikes arriving in step k, excitatory (>= 0) and
        inhibitory (<= 0). They are added to I_syn after the step-k decay, so they show in
        ``I_syn_*[k]`` and first move V_m in step k + 1.
    V0 : float, optional
        Initial membrane potential (mV); default E_L.

    Returns
    -------
    dict
        ``spike_steps``: int array of the steps k whose end-of-step threshold test fired
        (NEST spike time (k+1) h); ``V_m`` (mV), ``I_syn_ex``, ``I_syn_in`` (pA): float
        arrays [n_steps], the state at the end of step k after the reset, i.e. what a
        multimeter with ``interval = h`` records at t = (k+1) h.
    """
    p = full_params(params)
    c = propagators(p, dt_ms)
    i0 = _per_step(i_ext_pA, n_steps, "i_ext_pA").tolist()
    wex = _per_step(w_ex_pA, n_steps, "w_ex_pA")
    win = _per_step(w_in_pA, n_steps, "w_in_pA")
    if np.any(wex < 0.0) or np.any(win > 0.0):
        raise ValueError("w_ex_pA must be >= 0 and w_in_pA <= 0 (NEST routes spikes by the weight's sign)")
    wex, win = wex.tolist(), win.tolist()

    P11ex, P11in, P22 = c["P11ex"], c["P11in"], c["P22"]
    P21ex, P21in, P20 = c["P21ex"], c["P21in"], c["P20"]
    E_L, I_e, R = p["E_L"], p["I_e"], c["RefractoryCounts"]
    theta = p["V_th"] - E_L
    y_reset = p["V_reset"] - E_L
    y = (E_L if V0 is None else float(V0)) - E_L
    i_ex = i_in = 0.0
    r = 0

    V = np.empty(n_steps)
    I_ex = np.empty(n_steps)
    I_in = np.empty(n_steps)
    spikes: list[int] = []
    for k in range(n_steps):
        if r == 0:
            y = y * P22 + i_ex * P21ex + i_in * P21in + (I_e + i0[k]) * P20
        else:
            r -= 1
        i_ex *= P11ex
        i_in *= P11in
        i_ex += wex[k]
        i_in += win[k]
        if y >= theta:
            r = R
            y = y_reset
            spikes.append(k)
        V[k] = y + E_L
        I_ex[k] = i_ex
        I_in[k] = i_in
    return {"spike_steps": np.asarray(spikes, dtype=np.int64), "V_m": V, "I_syn_ex": I_ex, "I_syn_in": I_in}


def free_time_to_threshold_ms(params: Mapping[str, float] | None, I_e: float) -> float:
    """Time (ms) for V_m to climb from V_reset to V_th under a constant current.

    ``tau_m ln((V_inf - V_reset) / (V_inf - V_th))`` with ``V_inf = E_L + I_e tau_m / C_m``;
    ``inf`` if V_inf <= V_th. ``params["I_e"]`` is ignored in favour of ``I_e``.

    Raises
    ------
    ValueError
        If V_reset >= V_th.
    """
    p = full_params(params)
    theta = p["V_th"] - p["E_L"]
    y_reset = p["V_reset"] - p["E_L"]
    if y_reset >= theta:
        raise ValueError("V_reset must be below V_th")
    y_inf = I_e * p["tau_m"] / p["C_m"]
    if y_inf <= theta:
        return math.inf
    return p["tau_m"] * math.log((y_inf - y_reset) / (y_inf - theta))


def dc_rate_hz(params: Mapping[str, float] | None, I_e: float) -> float:
    """Analytic firing rate (Hz) of the continuous-time neuron under a constant current.

    ``1000 / (t_ref + tau_m ln((I_e tau_m / C_m - (V_reset - E_L)) / (I_e tau_m / C_m - (V_th - E_L))))``,
    which for V_reset = E_L is ``1 / (t_ref + tau_m ln((I_e tau_m/C_m) / (I_e tau_m/C_m - (V_th - E_L))))``.

    Parameters
    ----------
    params : mapping or None
        NEST parameters; ``params["I_e"]`` is ignored.
    I_e : float
        Total constant current (pA).

    Returns
    -------
    float
        Rate in Hz (0 below rheobase ``(V_th - E_L) C_m / tau_m``).
    """
    p = full_params(params)
    t_free = free_time_to_threshold_ms(p, I_e)
    return 0.0 if math.isinf(t_free) else 1000.0 / (p["t_ref"] + t_free)


def isi_steps_on_grid(params: Mapping[str, float] | None, I_e: float, dt_ms: float) -> int:
    """Interspike interval (steps) of the grid neuron under a constant current.

    After a spike at the end of step k0 the neuron is clamped for R = RefractoryCounts
    steps (k0+1 .. k0+R skip the V update), then V_m relaxes from V_reset. After m
    propagations, ``V_m - V_inf = (V_reset - V_inf) exp(-m h / tau_m)``, so the first
    end-of-step test that fires is m = ceil(T_free / h), and the ISI is R + m steps.
    (Exact arithmetic; for T_free / h within ~1e-12 of an integer, float rounding of the
    step loop may decide the other way.)

    Returns
    -------
    int
        ISI in steps; raises ``ValueError`` below rheobase.
    """
    p = full_params(params)
    h = grid_step_ms(dt_ms)
    t_free = free_time_to_threshold_ms(p, I_e)
    if math.isinf(t_free):
        raise ValueError("I_e is below rheobase: the neuron does not fire")
    return refractory_counts(p["t_ref"], dt_ms) + max(1, math.ceil(t_free / h))


def dc_rate_on_grid_hz(params: Mapping[str, float] | None, I_e: float, dt_ms: float) -> float:
    """Firing rate (Hz) of the grid neuron under a constant current, ``1000 / (ISI_steps h)``.

    See :func:`isi_steps_on_grid`; 0 below rheobase. ``params["I_e"]`` is ignored.
    """
    p = full_params(params)
    if math.isinf(free_time_to_threshold_ms(p, I_e)):
        return 0.0
    return 1000.0 / (isi_steps_on_grid(p, I_e, dt_ms) * grid_step_ms(dt_ms))


def psp_exact_mV(
    t_ms, w_pA: float, params: Mapping[str, float] | None, excitatory: bool = True
) -> np.ndarray:
    """Exact PSP (mV above E_L) a time ``t_ms`` after a current jump of ``w_pA``.

    ``w / C_m * tau_s tau_m / (tau_m - tau_s) * (exp(-t/tau_m) - exp(-t/tau_s))``, and
    ``w / C_m * t exp(-t/tau_m)`` for tau_s == tau_m; 0 for t < 0.
    """
    p = full_params(params)
    t = np.asarray(t_ms, dtype=np.float64)
    tau_s = p["tau_syn_ex"] if excitatory else p["tau_syn_in"]
    tau_m, C = p["tau_m"], p["C_m"]
    ts = np.maximum(t, 0.0)
    if tau_s == tau_m:
        v = w_pA / C * ts * np.exp(-ts / tau_m)
    else:
        v = w_pA / C * tau_s * tau_m / (tau_m - tau_s) * (np.exp(-ts / tau_m) - np.exp(-ts / tau_s))
    return np.where(t < 0.0, 0.0, v)


def psp_peak_time_ms(params: Mapping[str, float] | None, excitatory: bool = True) -> float:
    """Time (ms) of the PSP maximum after the current jump (``tau_m`` if tau_s == tau_m)."""
    p = full_params(params)
    tau_s = p["tau_syn_ex"] if excitatory else p["tau_syn_in"]
    tau_m = p["tau_m"]
    if tau_s == tau_m:
        return tau_m
    return math.log(tau_m / tau_s) * tau_s * tau_m / (tau_m - tau_s)


def _demo() -> None:
    """Print propagators, a DC rate check and a PSP peak check for the NEST defaults."""
    dt = 0.1
    c = propagators(DEFAULTS, dt)
    print("iaf_psc_exp, NEST defaults, h = 0.1 ms")
    for key in ("P11ex", "P22", "P21ex", "P20", "RefractoryCounts"):
        print(f"  {key:17s} = {c[key]!r}")
    I_e = 400.0
    n = 20000
    out = simulate(dict(DEFAULTS, I_e=I_e), n, dt)
    isi = np.diff(out["spike_steps"])
    print(f"DC {I_e} pA for {n * dt:.0f} ms: {out['spike_steps'].size} spikes, "
          f"ISIs (steps) {sorted(set(isi.tolist()))}")
    print(f"  simulated {1000.0 / (isi.mean() * dt):.4f} Hz, "
          f"on grid {dc_rate_on_grid_hz(DEFAULTS, I_e, dt):.4f} Hz, "
          f"analytic {dc_rate_hz(DEFAULTS, I_e):.4f} Hz")
    w = 100.0
    k0 = 9
    psp = simulate(DEFAULTS, 600, dt, w_ex_pA=np.eye(1, 600, k0).ravel() * w)
    s = (np.arange(600) - k0) * dt  # time since the jump at the end of step k0
    j = int(np.argmax(psp["V_m"]))
    print(f"PSP of {w} pA: grid peak {psp['V_m'][j] - DEFAULTS['E_L']:.12f} mV at {s[j]:.1f} ms, "
          f"exact {float(psp_exact_mV(s[j], w, DEFAULTS)):.12f} mV; continuous peak at "
          f"{psp_peak_time_ms(DEFAULTS):.4f} ms")


if __name__ == "__main__":
    _demo()
