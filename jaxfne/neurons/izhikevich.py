"""Izhikevich (2003) simple model, with the generalised forms needed by the 2004 features.

Equations
---------
    v' = k2 v^2 + k1 v + k0 - u + I
    u' = a (b (v - u_v_offset) - u_decay u)
    if v > v_peak:  v <- c,  u <- u + d       (v >= v_peak for cortical_eig)

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

Spikes are detected at the end of the step with the publication's comparison: ``v > v_peak`` for the
2004 features and the 2003 classes (``if V > 30`` in figure1.m / izhi2003.m), ``v >= v_peak`` for
``cortical_eig`` (``find(v>=30)`` in net.m). V_m is sampled there, before the reset, and clipped to
``v_peak`` on spike steps, as Izhikevich's figure code plots it. The spike has a surrogate derivative
(:mod:`jaxfne.engine.surrogate`); the reset is detached from it.

Published runs: with ``drive="preset"``, a 2004 feature or 2003 class brings its published step and
duration (:meth:`Izhikevich.preset_run`; they apply while the configuration's runtime leaves them
unset), and its run has ``T / dt + 1`` steps, the loop ``tspan = 0:tau:T`` of the figure code.
``cortical_eig`` (net.m's ``for t=1:1000``) runs ``T / dt`` steps of the configured runtime.
"""

from __future__ import annotations

import numpy as np

from .base import NeuronFamily, Parameter, PresetDrive, PresetRun

__all__ = ["Izhikevich"]

_CLASS_DOC = "mV/ms = pA/pF (the I of v' = ... + I)"


class Izhikevich(NeuronFamily):
    """The Izhikevich simple model: 2004 features, 2003 classes and the 2003 network ``cortical_eig``."""

    name = "izhikevich"
    parameters = (
        Parameter("a", "1/ms", 0.02, "time scale of the recovery variable u"),
        Parameter("b", "1", 0.2, "sensitivity of u to v"),
        Parameter("c", "mV", -65.0, "reset of v after a spike"),
        Parameter("d", _CLASS_DOC, 8.0, "jump of u after a spike"),
        Parameter("k2", "1/(mV ms)", 0.04, "quadratic coefficient of v'"),
        Parameter("k1", "1/ms", 5.0, "linear coefficient of v'"),
        Parameter("k0", "mV/ms", 140.0, "constant of v'"),
        Parameter("u_v_offset", "mV", 0.0, "u' = a (b (v - offset) - decay u)"),
        Parameter("u_decay", "1", 1.0, "u' = a (b (v - offset) - decay u)"),
        Parameter("v_peak", "mV", 30.0, "spike cut-off: spike when v > v_peak (cortical_eig: v >= v_peak)"),
        Parameter("v0", "mV", -65.0, "initial membrane potential"),
        Parameter("u0", _CLASS_DOC, -13.0, "initial recovery variable (default b v0)"),
    )
    schemes = ("sequential_euler", "split_half_step", "euler")
    current_unit = _CLASS_DOC
    options = {"capacitance_pF": 100.0}
    v_sample_doc = "at the end of the step, before the reset, clipped to v_peak on spike steps"

    # -- presets --------------------------------------------------------------------------------
    def preset_names(self):
        from ..presets import izhikevich as iz

        return tuple(iz.PRESET_NAMES) + ("cortical_eig",)

    def per_type_preset_names(self):
        return tuple(n for n in self.preset_names() if n != "cortical_eig")

    def preset_scheme(self, preset):
        from ..presets import cortical_eig, izhikevich as iz

        return cortical_eig.SCHEME if preset == "cortical_eig" else iz.get_preset(preset).scheme

    @staticmethod
    def _single(name: str, n: int) -> dict[str, np.ndarray]:
        from ..presets.izhikevich import get_preset

        p = get_preset(name)
        keys = ("a", "b", "c", "d", "k2", "k1", "k0", "u_v_offset", "u_decay", "v_peak", "v0")
        vals = {k: getattr(p, k) for k in keys}
        vals["u0"] = p.b * p.v0 if p.u0 is None else p.u0
        return {k: np.full(n, float(v)) for k, v in vals.items()}

    def neuron_parameters(self, preset, per_type, cell_type, rng):
        from ..presets import cortical_eig

        n = cell_type.shape[0]
        if preset == "cortical_eig":
            prm = {k: np.full(n, v) for k, v in (("k2", 0.04), ("k1", 5.0), ("k0", 140.0), ("u_v_offset", 0.0),
                                                  ("u_decay", 1.0), ("v_peak", cortical_eig.V_PEAK))}
            prm.update(cortical_eig.neuron_parameters(cell_type == "E", rng))
            return prm
        prm = self._single(preset, n)
        for t, name in per_type.items():
            mask = cell_type == t
            other = self._single(name, n)
            for k in prm:
                prm[k] = np.where(mask, other[k], prm[k])
        return prm

    def apply_overrides(self, prm, overrides):
        out = super().apply_overrides(prm, overrides)
        if "b" in overrides and "u0" not in overrides:
            out["u0"] = out["b"] * out["v0"]
        return out

    def preset_drive(self, preset, per_type):
        from ..engine.stimulus import Waveform
        from ..presets import cortical_eig
        from ..presets.izhikevich import get_preset

        if preset == "cortical_eig":
            return PresetDrive(waves={}, gauss={t: (0.0, std) for t, std in cortical_eig.THALAMIC_STD.items()})
        waves = {}
        for t in ("E", "I"):
            segs = get_preset(per_type.get(t, preset)).stimulus
            if segs:
                waves[t] = Waveform(tuple(segs))
        return PresetDrive(waves=waves, gauss={})

    def preset_run(self, preset, per_type, drive):
        """The published ``tau`` and ``T`` of ``preset``'s protocol (``drive="preset"``; not cortical_eig).

        ``per_type`` presets run on the same clock: the step and duration are ``preset``'s.
        """
        from ..presets.izhikevich import get_preset

        if drive != "preset" or preset == "cortical_eig":
            return None
        p = get_preset(preset)
        return PresetRun(dt_ms=p.dt_ms, duration_ms=p.duration_ms)

    def strict_threshold(self, preset):
        """``v > v_peak`` as figure1.m and izhi2003.m; ``v >= v_peak`` for cortical_eig as net.m."""
        return preset != "cortical_eig"

    def preset_connectivity(self, preset):
        return "izhikevich2003" if preset == "cortical_eig" else None

    def check_emitter(self, preset, per_type, emitter):
        from ..errors import ConfigurationError

        if preset == "cortical_eig" and per_type:
            raise ConfigurationError("emitter.per_type", per_type, "nothing with cortical_eig (it defines E and I)")

    def current_scale_pA(self, params):
        return params["capacitance_pF"]


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

    def step(self, params, state, syn, syn_state, arrivals, i_ext, dt, scheme, spike_fn=None):
        """Currents first (the published order): decay and add arrivals, then integrate with them."""
        # JAX is imported where the dynamics are traced, so that a configuration, which validates
        # against this family's parameters and presets, imports no JAX.
        import jax.numpy as jnp
        from jax import lax

        if spike_fn is None:
            from ..engine.surrogate import spike_fn
        syn_state = syn.advance(syn_state, arrivals)
        current = syn.total_current(syn_state) + i_ext
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
        return {"v": v_reset, "u": u_reset}, syn_state, v_sample, spike
