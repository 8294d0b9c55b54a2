"""Literal numpy float64 port of Izhikevich's ``net.m`` (Izhikevich 2003, Fig. 3).

Equations
---------
v' = 0.04 v^2 + 5 v + 140 - u + I,    u' = a (b v - u);
if v >= 30 mV: v <- c, u <- u + d.

Each 1 ms step, in the order of ``net.m``:

1. draw the thalamic input, I = 5 N(0,1) for excitatory and 2 N(0,1) for inhibitory cells;
2. detect v >= 30 (the values reached at the end of the previous step);
3. reset the fired neurons, v <- c, u <- u + d;
4. add the column sums of S over the fired neurons to I (no delay, autapses included);
5. advance v by two 0.5 ms Euler half-steps, then u by one 1 ms step with the new v.

Notes
-----
``S[i, j]`` is the weight from presynaptic ``j`` to postsynaptic ``i`` (``net.m``:
``S=[0.5*rand(Ne+Ni,Ne), -rand(Ne+Ni,Ni)]``), so the input of a step is
``S[:, fired].sum(axis=1)``.

Spike times are reported as 0-based step indices ``s``: a spike at step ``s`` is the
threshold crossing detected at the start of step ``s`` (``net.m``'s ``t = s + 1``), i.e. the
crossing happened during the integration of step ``s - 1`` and the spike time is ``s`` ms.
This equals NEST's spike time in ms for the same crossing.

The per-neuron parameters and the weights come from :func:`make_network`, which the NEST and
Brian2 references reuse so that the three simulators run the same network instance; only the
thalamic noise differs between simulators.

References
----------
Izhikevich EM (2003) Simple model of spiking neurons. IEEE Trans Neural Netw 14:1569-1572.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Threshold of spike detection (mV).
V_PEAK = 30.0
#: Standard deviation of the thalamic input per 1 ms step, excitatory / inhibitory.
NOISE_STD_EXC = 5.0
NOISE_STD_INH = 2.0


@dataclass(frozen=True)
class Network:
    """One instance of the ``net.m`` network (float64 arrays).

    Attributes
    ----------
    a, b, c, d : numpy.ndarray, shape (neuron,)
        Izhikevich parameters (``c`` in mV).
    S : numpy.ndarray, shape (neuron, neuron)
        Weights ``S[post, pre]`` (mV per spike, added to the input current).
    noise_std : numpy.ndarray, shape (neuron,)
        Standard deviation of the per-step thalamic input.
    n_exc, n_inh : int
        Population sizes; neurons ``0..n_exc-1`` are excitatory.
    """

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    d: np.ndarray
    S: np.ndarray
    noise_std: np.ndarray
    n_exc: int
    n_inh: int


def make_network(n_exc: int = 800, n_inh: int = 200, seed: int = 0) -> tuple[Network, np.random.Generator]:
    """Draw the parameters and weights of ``net.m`` in its order of draws.

    Parameters
    ----------
    n_exc, n_inh : int
        Numbers of excitatory and inhibitory neurons.
    seed : int
        Seed of a ``numpy.random.default_rng`` generator.

    Returns
    -------
    network : Network
        The parameters, weights and noise amplitudes.
    rng : numpy.random.Generator
        The generator, advanced past the network draws (``net.m`` continues with the
        thalamic noise from the same stream).
    """
    if n_exc < 0 or n_inh < 0 or n_exc + n_inh == 0:
        raise ValueError(f"n_exc={n_exc}, n_inh={n_inh}: need non-negative sizes, not both zero")
    rng = np.random.default_rng(seed)
    n = n_exc + n_inh
    re = rng.random(n_exc)
    ri = rng.random(n_inh)
    a = np.concatenate([0.02 * np.ones(n_exc), 0.02 + 0.08 * ri])
    b = np.concatenate([0.2 * np.ones(n_exc), 0.25 - 0.05 * ri])
    c = np.concatenate([-65.0 + 15.0 * re**2, -65.0 * np.ones(n_inh)])
    d = np.concatenate([8.0 - 6.0 * re**2, 2.0 * np.ones(n_inh)])
    S = np.concatenate([0.5 * rng.random((n, n_exc)), -rng.random((n, n_inh))], axis=1)
    noise_std = np.concatenate([np.full(n_exc, NOISE_STD_EXC), np.full(n_inh, NOISE_STD_INH)])
    return Network(a, b, c, d, S, noise_std, n_exc, n_inh), rng


def population_rates(
    spike_neurons: np.ndarray, n_exc: int, n_inh: int, duration_ms: float
) -> tuple[float, float]:
    """Mean firing rates (Hz) of the excitatory and inhibitory populations.

    Parameters
    ----------
    spike_neurons : numpy.ndarray of int, shape (spike,)
        Index of the neuron of every spike (``0..n_exc-1`` excitatory).
    n_exc, n_inh : int
        Population sizes.
    duration_ms : float
        Length of the recording (ms).

    Returns
    -------
    tuple of float
        ``(rate_exc_hz, rate_inh_hz)``; a rate of an empty population is ``nan``.
    """
    seconds = duration_ms / 1000.0
    spike_neurons = np.asarray(spike_neurons)
    n_e_spikes = int(np.count_nonzero(spike_neurons < n_exc))
    n_i_spikes = int(spike_neurons.size - n_e_spikes)
    rate_e = n_e_spikes / (n_exc * seconds) if n_exc else float("nan")
    rate_i = n_i_spikes / (n_inh * seconds) if n_inh else float("nan")
    return rate_e, rate_i


def run_network(
    network: Network,
    rng: np.random.Generator | None,
    duration_ms: int,
    thalamic: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate a drawn network with the ``net.m`` loop.

    Parameters
    ----------
    network : Network
        From :func:`make_network`.
    rng : numpy.random.Generator or None
        Source of the thalamic noise, one standard-normal draw per neuron per step
        (unused when ``thalamic`` is given).
    duration_ms : int
        Number of 1 ms steps.
    thalamic : numpy.ndarray, shape (time, neuron), optional
        The thalamic input of every step, replacing the draws (to replay the same input
        in another simulator).

    Returns
    -------
    spike_steps, spike_neurons : numpy.ndarray of int64, shape (spike,)
        Step index (= spike time in ms) and neuron index of every spike, sorted by step.
    """
    n = network.n_exc + network.n_inh
    a, b, c, d, S = network.a, network.b, network.c, network.d, network.S
    v = -65.0 * np.ones(n)
    u = b * v
    steps: list[np.ndarray] = []
    neurons: list[np.ndarray] = []
    if thalamic is not None and np.shape(thalamic) != (int(duration_ms), n):
        raise ValueError(f"thalamic has shape {np.shape(thalamic)}, expected {(int(duration_ms), n)}")
    for t in range(int(duration_ms)):
        if thalamic is None:
            I = network.noise_std * rng.standard_normal(n)  # noqa: E741 (net.m's name)
        else:
            I = np.array(thalamic[t], dtype=np.float64)  # noqa: E741
        fired = np.flatnonzero(v >= V_PEAK)
        if fired.size:
            steps.append(np.full(fired.size, t, dtype=np.int64))
            neurons.append(fired.astype(np.int64))
            v[fired] = c[fired]
            u[fired] = u[fired] + d[fired]
            I = I + S[:, fired].sum(axis=1)  # noqa: E741
        v = v + 0.5 * (0.04 * v**2 + 5.0 * v + 140.0 - u + I)
        v = v + 0.5 * (0.04 * v**2 + 5.0 * v + 140.0 - u + I)
        u = u + a * (b * v - u)
    if not steps:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(steps), np.concatenate(neurons)


def run_net(
    n_exc: int = 800, n_inh: int = 200, duration_ms: int = 1000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Draw and simulate the Izhikevich 2003 network exactly as ``net.m`` does.

    Parameters
    ----------
    n_exc, n_inh : int
        Numbers of excitatory and inhibitory neurons (``net.m``: 800 / 200).
    duration_ms : int
        Simulated time (ms), in 1 ms steps.
    seed : int
        Seed of the single random stream (network, then noise).

    Returns
    -------
    spike_steps : numpy.ndarray of int64, shape (spike,)
        Spike times as step indices (ms), see the module notes.
    spike_neurons : numpy.ndarray of int64, shape (spike,)
        Neuron index of each spike (``0..n_exc-1`` excitatory).
    rates_hz_exc_inh : tuple of float
        Mean rates (Hz) of the excitatory and inhibitory populations over ``duration_ms``.

    Examples
    --------
    >>> steps, neurons, (rate_e, rate_i) = run_net(duration_ms=200, seed=1)
    >>> bool(rate_e > 0.0)
    True
    """
    network, rng = make_network(n_exc, n_inh, seed)
    spike_steps, spike_neurons = run_network(network, rng, duration_ms)
    return spike_steps, spike_neurons, population_rates(spike_neurons, n_exc, n_inh, duration_ms)
