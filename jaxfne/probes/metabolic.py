"""Metabolic proxy (ATP use) and the Balloon-Windkessel BOLD model.

ATP budget (Attwell & Laughlin 2001, rodent grey matter)
--------------------------------------------------------
``ATP_rate(t) = a_spk * spikes(t)/dt + a_ves_E * vesicles_E(t)/dt
+ a_ves_I * vesicles_I(t)/dt + a_rest * N``  (ATP/s), with
``vesicles = synaptic events * release_probability``.

Status of the constants (project references, field-signals section 5):

* verified against the paper: presynaptic Ca2+ cost 1.2e4 ATP per vesicle, and the
  budget split at 4 Hz quoted in the abstract (action potentials 47 %, postsynaptic
  34 %, resting potentials 13 %, glutamate recycling and presynaptic Ca2+ about 3 %
  each);
* **unverified** (reconstructed so as to reproduce that split): 3.84e8 ATP per
  action potential, 1.64e5 ATP per glutamate vesicle (postsynaptic 1.4e5,
  recycling 1.1e4), 3.42e8 ATP/s per neuron for resting potentials, 8000 boutons
  per neuron and release probability 0.25 (about 2000 vesicles per spike);
* **a modelling choice, not from the paper**: 2.3e4 ATP per GABA vesicle, i.e.
  the presynaptic Ca2+ and transmitter-recycling costs of a glutamate vesicle with
  no postsynaptic pumping cost (Cl- is close to equilibrium; inhibitory synapses
  are far cheaper than excitatory ones, Howarth, Gleeson & Attwell 2012).

Balloon-Windkessel model (Friston et al. 2000; Stephan et al. 2007)
-------------------------------------------------------------------
::

    ds/dt = eps u - kappa s - gamma (f - 1)
    df/dt = s
    tau dv/dt = f - v^(1/alpha)
    tau dq/dt = f (1 - (1 - E0)^(1/f)) / E0 - v^(1/alpha) q / v
    y = V0 [k1 (1 - q) + k2 (1 - q/v) + k3 (1 - v)],
    k1 = 7 E0, k2 = 2, k3 = 2 E0 - 0.2

Friston 2000 parameters: kappa = 0.65 /s, gamma = 0.41 /s, tau = 0.98 s,
alpha = 0.32, E0 = 0.34, V0 = 0.02; eps = 1 (only scales u; unverified). Rest:
s = 0, f = v = q = 1, y = 0. Integration: classical RK4 with the input held
constant over each step (zero-order hold). The TVB ``BalloonModel`` analyser uses
different defaults and output coefficients; this module uses the set above.

References
----------
Attwell D, Laughlin SB (2001) An energy budget for signaling in the grey matter of the
brain. J Cereb Blood Flow Metab 21:1133-1145.
Howarth C, Gleeson P, Attwell D (2012) Updated energy budgets for neural computation in
the neocortex and cerebellum. J Cereb Blood Flow Metab 32:1222-1232.
Friston KJ, Mechelli A, Turner R, Price CJ (2000) Nonlinear responses in fMRI: the
Balloon model, Volterra kernels, and other hemodynamics. NeuroImage 12:466-477.
Stephan KE, Weiskopf N, Drysdale PM, Robinson PA, Friston KJ (2007) Comparing
hemodynamic models with DCM. NeuroImage 38:387-401.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "ATP_PER_SPIKE",
    "ATP_PER_VESICLE_EXC",
    "ATP_PER_VESICLE_INH",
    "ATP_POSTSYNAPTIC_PER_VESICLE",
    "ATP_PRESYNAPTIC_CA_PER_VESICLE",
    "ATP_RECYCLING_PER_VESICLE",
    "ATP_REST_PER_NEURON_S",
    "BOUTONS_PER_NEURON",
    "BalloonParams",
    "MetabolicError",
    "RELEASE_PROBABILITY",
    "atp_rate",
    "balloon_init",
    "balloon_output",
    "balloon_run",
    "balloon_steady_state",
    "sample_at_tr",
]

ATP_PER_SPIKE = 3.84e8                     # unverified
ATP_POSTSYNAPTIC_PER_VESICLE = 1.4e5       # unverified
ATP_PRESYNAPTIC_CA_PER_VESICLE = 1.2e4     # verified
ATP_RECYCLING_PER_VESICLE = 1.1e4          # unverified
ATP_PER_VESICLE_EXC = 1.64e5               # unverified (sum of the three, as published)
ATP_PER_VESICLE_INH = ATP_PRESYNAPTIC_CA_PER_VESICLE + ATP_RECYCLING_PER_VESICLE  # choice
ATP_REST_PER_NEURON_S = 3.42e8             # unverified
BOUTONS_PER_NEURON = 8000                  # unverified
RELEASE_PROBABILITY = 0.25                 # unverified


class MetabolicError(ValueError):
    """Invalid argument to a metabolic or haemodynamic function."""


def atp_rate(spike_count, exc_events, inh_events, n_neurons, dt_ms,
             release_probability: float = RELEASE_PROBABILITY,
             atp_per_spike: float = ATP_PER_SPIKE,
             atp_per_vesicle_exc: float = ATP_PER_VESICLE_EXC,
             atp_per_vesicle_inh: float = ATP_PER_VESICLE_INH,
             atp_rest_per_neuron_s: float = ATP_REST_PER_NEURON_S):
    """ATP consumption rate of a population in one time bin.

    Parameters
    ----------
    spike_count : array_like
        Number of action potentials in the bin (any shape, e.g. ``[time]``).
    exc_events, inh_events : array_like
        Number of excitatory / inhibitory synaptic transmission events (a presynaptic
        spike arriving at one synapse) in the bin; broadcast with ``spike_count``.
        Each releases ``release_probability`` vesicles on average.
    n_neurons : int or array_like
        Number of neurons paying the resting cost.
    dt_ms : float
        Bin width (ms), > 0.
    release_probability, atp_per_spike, atp_per_vesicle_exc, atp_per_vesicle_inh, \
atp_rest_per_neuron_s : float
        Budget constants (defaults: module constants, see the module docstring).

    Returns
    -------
    jax.Array
        ATP/s, broadcast shape of the inputs. Differentiable in every argument
        except ``dt_ms``.
    """
    dt = float(dt_ms)
    if not np.isfinite(dt) or dt <= 0.0:
        raise MetabolicError(f"dt_ms must be a positive bin width in ms; got {dt_ms!r}")
    per_s = 1e3 / dt
    return (atp_per_spike * jnp.asarray(spike_count) * per_s
            + release_probability * per_s * (atp_per_vesicle_exc * jnp.asarray(exc_events)
                                             + atp_per_vesicle_inh * jnp.asarray(inh_events))
            + atp_rest_per_neuron_s * jnp.asarray(n_neurons))


class BalloonParams(NamedTuple):
    """Balloon-Windkessel parameters (Friston et al. 2000 defaults). A pytree.

    Attributes
    ----------
    kappa : rate of signal decay (1/s). gamma : rate of flow-dependent elimination
    (1/s). tau : haemodynamic transit time (s). alpha : Grubb's exponent.
    E0 : resting oxygen extraction fraction. V0 : resting blood volume fraction.
    epsilon : neuronal efficacy (scales the input).
    """

    kappa: float = 0.65
    gamma: float = 0.41
    tau: float = 0.98
    alpha: float = 0.32
    E0: float = 0.34
    V0: float = 0.02
    epsilon: float = 1.0


def balloon_init(dtype=jnp.float32):
    """Rest state ``(s, f, v, q) = (0, 1, 1, 1)``, shape (4,)."""
    return jnp.array([0.0, 1.0, 1.0, 1.0], dtype=dtype)


def _rhs(x, u, p: BalloonParams):
    s, f, v, q = x[0], x[1], x[2], x[3]
    v_out = v ** (1.0 / p.alpha)
    ds = p.epsilon * u - p.kappa * s - p.gamma * (f - 1.0)
    dv = (f - v_out) / p.tau
    dq = (f * (1.0 - (1.0 - p.E0) ** (1.0 / f)) / p.E0 - v_out * q / v) / p.tau
    return jnp.stack([ds, s, dv, dq])


def balloon_output(state, params: BalloonParams = BalloonParams()):
    """BOLD signal change ``y`` (fraction, not %) of a state ``[..., 4]`` (Stephan 2007)."""
    v, q = state[..., 2], state[..., 3]
    k1, k2, k3 = 7.0 * params.E0, 2.0, 2.0 * params.E0 - 0.2
    return params.V0 * (k1 * (1.0 - q) + k2 * (1.0 - q / v) + k3 * (1.0 - v))


def balloon_run(state, u, dt_s: float, params: BalloonParams = BalloonParams()):
    """Integrate the Balloon model over an input chunk (RK4, zero-order hold).

    Parameters
    ----------
    state : jax.Array, shape (4,)
        ``(s, f, v, q)`` at the start of the chunk (:func:`balloon_init` for rest, or
        the state returned by a previous call to continue a run chunk by chunk).
    u : array_like, shape (T,)
        Input (neuronal drive, arbitrary units scaled by ``epsilon``), held
        constant over each step ``[k dt, (k + 1) dt)``.
    dt_s : float
        Step (s); 0.01-0.1 s is accurate for the default parameters.
    params : BalloonParams
        Model parameters (array leaves allowed, differentiable).

    Returns
    -------
    state : jax.Array, shape (4,)
        State at the end of the chunk.
    bold : jax.Array, shape (T,)
        ``y`` sampled at the end of each step, i.e. at ``(k + 1) dt``.
    """
    h = float(dt_s)
    if not np.isfinite(h) or h <= 0.0:
        raise MetabolicError(f"dt_s must be a positive step in s; got {dt_s!r}")

    def step(x, uk):
        k1 = _rhs(x, uk, params)
        k2 = _rhs(x + 0.5 * h * k1, uk, params)
        k3 = _rhs(x + 0.5 * h * k2, uk, params)
        k4 = _rhs(x + h * k3, uk, params)
        x = x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return x, balloon_output(x, params)

    state = jnp.asarray(state)
    return jax.lax.scan(step, state, jnp.asarray(u, dtype=state.dtype))


def balloon_steady_state(u, params: BalloonParams = BalloonParams()):
    """Analytic fixed point under constant input ``u``.

    ``s = 0, f = 1 + eps u / gamma, v = f^alpha, q = v (1 - (1 - E0)^(1/f)) / E0``.

    Returns
    -------
    state : jax.Array, shape (..., 4)
    bold : jax.Array, shape (...)
    """
    u = jnp.asarray(u)
    f = 1.0 + params.epsilon * u / params.gamma
    v = f ** params.alpha
    q = v * (1.0 - (1.0 - params.E0) ** (1.0 / f)) / params.E0
    state = jnp.stack([jnp.zeros_like(f), f, v, q], axis=-1)
    return state, balloon_output(state, params)


def sample_at_tr(bold, dt_s: float, tr_s: float, t0_s: float = 0.0):
    """Sample a BOLD series from :func:`balloon_run` at a repetition time.

    ``bold[k]`` is the value at ``t0_s + (k + 1) dt_s``; the samples are taken at
    ``t = t0_s + j tr_s`` for ``j = 1, 2, ...`` up to the end. ``tr_s`` must be a
    whole multiple of ``dt_s``.

    Returns
    -------
    times_s : numpy.ndarray, shape (J,)
    samples : array, shape (J,)
    """
    ratio = float(tr_s) / float(dt_s)
    if not (np.isfinite(ratio) and ratio >= 1.0 and abs(ratio - round(ratio)) < 1e-9):
        raise MetabolicError(
            f"tr_s must be a positive whole multiple of dt_s={dt_s!r}; got tr_s={tr_s!r}"
        )
    step = int(round(ratio))
    idx = np.arange(step - 1, np.shape(bold)[0], step)
    return t0_s + (idx + 1) * float(dt_s), bold[idx]
