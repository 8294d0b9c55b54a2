"""The Izhikevich (2003) heterogeneous excitatory/inhibitory network (preset ``cortical_eig``).

Izhikevich EM (2003) Simple model of spiking neurons. IEEE Trans Neural Netw 14:1569-1572, Fig. 3 and
its MATLAB code ``net.m``. Per neuron one draw r ~ U(0, 1):

==========  ====================  =====================
parameter   excitatory            inhibitory
==========  ====================  =====================
a           0.02                  0.02 + 0.08 r
b           0.2                   0.25 - 0.05 r
c           -65 + 15 r^2          -65
d           8 - 6 r^2             2
weights     0.5 U(0, 1) outgoing  -U(0, 1) outgoing
thalamic    5 N(0, 1) per 1 ms    2 N(0, 1) per 1 ms
==========  ====================  =====================

All-to-all (self-connections included, as ``S`` in net.m), instantaneous synapses, v(0) = -65 mV,
u(0) = b v(0), spike at v >= 30 mV. Integration: v by two 0.5 ms Euler half-steps, then u by one 1 ms
step with the new v (scheme ``split_half_step``).
"""

from __future__ import annotations

import numpy as np

CITATION = (
    "Izhikevich EM (2003) Simple model of spiking neurons. IEEE Trans Neural Netw 14:1569-1572 "
    "(network of Fig. 3, MATLAB net.m)"
)
SCHEME = "split_half_step"
V0 = -65.0
V_PEAK = 30.0
THALAMIC_STD = {"E": 5.0, "I": 2.0}
WEIGHT_SCALE = {"E": 0.5, "I": -1.0}


def neuron_parameters(is_exc: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-neuron a, b, c, d, v0, u0 of the 2003 network (one r ~ U(0, 1) per neuron)."""
    is_exc = np.asarray(is_exc, dtype=bool)
    r = rng.random(is_exc.shape[0])
    a = np.where(is_exc, 0.02, 0.02 + 0.08 * r)
    b = np.where(is_exc, 0.2, 0.25 - 0.05 * r)
    c = np.where(is_exc, -65.0 + 15.0 * r**2, -65.0)
    d = np.where(is_exc, 8.0 - 6.0 * r**2, 2.0)
    v0 = np.full(is_exc.shape[0], V0)
    return {"a": a, "b": b, "c": c, "d": d, "v0": v0, "u0": b * v0}


def weights(is_exc_pre: np.ndarray, n_post: int, rng: np.random.Generator) -> np.ndarray:
    """Dense outgoing weights ``W[pre, post]``: 0.5 U(0,1) from excitatory, -U(0,1) from inhibitory cells."""
    scale = np.where(np.asarray(is_exc_pre, bool), WEIGHT_SCALE["E"], WEIGHT_SCALE["I"])
    return scale[:, None] * rng.random((len(is_exc_pre), n_post))
