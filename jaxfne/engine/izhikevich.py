"""Izhikevich (2003) simple model, with the generalised forms needed by the 2004 features.

Equations
---------
    v' = k2 v^2 + k1 v + k0 - u + I
    u' = a (b (v - u_v_offset) - u_decay u)
    if v >= v_peak:  v <- c,  u <- u + d

(k2, k1, k0) = (0.04, 5, 140) and (u_v_offset, u_decay) = (0, 1) give the 2003 model; class-1 excitable
and integrator use (0.04, 4.1, 108); accommodation uses u' = a b (v + 65), i.e. offset -65 and decay 0.

Numerics (named as NEST's ``izhikevich`` documents its own choice; recorded with every run)
----------------------------------------------------------------------------------------
``sequential_euler``
    Izhikevich (2004) figure1.m: v += dt f(v, u, I), then u += dt g(v_new, u).
``split_half_step``
    Izhikevich (2003) net.m: two dt/2 Euler half-steps of v, then u += dt g(v_new, u).
``euler``
    Consistent forward Euler: both from the old state (NEST ``consistent_integration=True``).

Spikes are detected at the end of the step (``v >= v_peak``); V_m is sampled there, before the
reset, and clipped to ``v_peak`` on spike steps, as Izhikevich's figure code plots it. The spike has a
surrogate derivative (:mod:`jaxfne.engine.surrogate`); the reset is detached from it.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from .base import NeuronFamily
from .surrogate import spike_fn

__all__ = ["Izhikevich"]


class Izhikevich(NeuronFamily):
    parameter_names = ("a", "b", "c", "d", "k2", "k1", "k0", "u_v_offset", "u_decay", "v_peak", "v0", "u0")

    def init_state(self, params, dtype):
        return {"v": params["v0"].astype(dtype), "u": params["u0"].astype(dtype)}

    @staticmethod
    def _dv(p, v, u, i):
        # evaluated in the published order, 0.04*v^2 + 5*v + 140 - u + I, so float64 runs match it bit for bit
        return p["k2"] * (v * v) + p["k1"] * v + p["k0"] - u + i

    @staticmethod
    def _du_dt(p, v, u, dt):
        # dt*a*(b*v - u), associated as the published code: (dt*a)*(b*v - u)
        return (dt * p["a"]) * (p["b"] * (v - p["u_v_offset"]) - p["u_decay"] * u)

    def _integrate(self, p, v, u, current, dt, scheme):
        if scheme == "sequential_euler":
            v_new = v + dt * self._dv(p, v, u, current)
            return v_new, u + self._du_dt(p, v_new, u, dt)
        if scheme == "split_half_step":
            half = 0.5 * dt
            v_mid = v + half * self._dv(p, v, u, current)
            v_new = v_mid + half * self._dv(p, v_mid, u, current)
            return v_new, u + self._du_dt(p, v_new, u, dt)
        if scheme == "euler":
            return v + dt * self._dv(p, v, u, current), u + self._du_dt(p, v, u, dt)
        # guarded by the configuration; kept for direct callers
        raise ValueError(f"scheme={scheme!r} is not allowed: sequential_euler, split_half_step, euler")

    def step(self, params, state, current, dt, scheme):
        p = params
        v, u = state["v"], state["u"]
        integrate = lambda ops: jnp.stack(self._integrate(p, *ops, dt, scheme))  # noqa: E731
        # XLA:CPU would copy the integration into every consumer of v_new (spike test, reset, V_m,
        # propagation, ...), each a separate loop over the neurons; a conditional's result is a buffer,
        # so the integration runs once. Both branches are the same: the predicate only has to be opaque
        # to XLA, and unbatched under vmap over seeds (a batched one turns the cond into a select).
        opaque = p["v_peak"][0] == p["v_peak"][0]
        vu = lax.cond(opaque, integrate, integrate, (v, u, current))
        v_new, u_new = vu[0], vu[1]
        spike = spike_fn(v_new - p["v_peak"])
        v_sample = jnp.where(spike > 0, p["v_peak"], v_new)
        # The reset is detached from the surrogate (Zenke & Vogels 2021, Neural Comput 33:899): gradients
        # reach other neurons and readouts through the emitted spikes, and a neuron far below threshold
        # gets its exact derivative. where() also makes v exactly c (v + (c - v) can miss it by an ulp).
        hard = lax.stop_gradient(spike)
        v_reset = jnp.where(hard > 0, p["c"], v_new)
        u_reset = u_new + hard * p["d"]
        return {"v": v_reset, "u": u_reset}, v_sample, spike
