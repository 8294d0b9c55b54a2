"""NEST's ``iaf_psc_exp``: leaky integrate-and-fire neuron with exponential current synapses.

Equations
---------
    C_m dV/dt = -(C_m / tau_m) (V - E_L) + I_syn,ex + I_syn,in + I_e + I_ext
    dI_syn,x/dt = -I_syn,x / tau_syn,x,   a spike of weight w (pA) makes I_syn,x jump by w
    V >= V_th at the end of a step: spike, V <- V_reset, clamped there for t_ref

Numerics
--------
Exact integration on the grid (Rotter & Diesmann 1999, Biol Cybern 81:381), with NEST's update
order (``iaf_psc_exp::update``): with y = V - E_L and step h,

1. if not refractory: ``y <- P22 y + P20 (I_e + I_ext) + P21ex I_ex + P21in I_in`` (the *old*
   currents), else count the refractory step down;
2. ``I_x <- P11x I_x + arrivals_x`` (arrivals of this step, pA);
3. ``y >= V_th - E_L``: spike, ``y <- V_reset - E_L``, refractory for ``round(t_ref / h)`` steps.

``P22 = exp(-h/tau_m)``, ``P11x = exp(-h/tau_syn,x)``, ``P20 = tau_m/C_m (1 - P22)`` and ``P21x`` is
NEST's ``propagator_32``, ``beta/C_m exp(-h/tau_syn) expm1(h/beta)`` with
``beta = tau_syn tau_m / (tau_m - tau_syn)`` (the singular form ``h/C_m exp(-h/tau_m)`` where
``tau_syn = tau_m``). NEST's own ``expm1`` differs from XLA's by a few ulp: V_m agrees with NEST to
far below 1e-9 mV, not bit for bit.
External current (stimuli, ``I_e``) is piecewise constant per step, as NEST's ``dc_generator`` and
``step_current_generator``; the Poisson drives are excitatory synaptic currents with ``tau_syn_ex``.

V_m is sampled at the end of the step *after* the reset, as NEST's multimeter records it
(``V_reset`` on spike steps); I_syn likewise, after this step's arrivals.
"""

from __future__ import annotations

from .base import NeuronFamily, Parameter

__all__ = ["IafPscExp"]


def propagator_32(tau_syn, tau_m, c_m, h):
    """NEST's ``propagator_32``: the weight of I_syn(t) in V(t + h) for exponential currents, mV/pA."""
    import jax.numpy as jnp  # here, not at the top: a configuration imports this module, and no JAX

    delta = tau_m - tau_syn
    near = jnp.abs(delta) < 1e-12 * tau_m
    safe = jnp.where(near, 1.0, delta)
    beta = tau_syn * tau_m / safe
    inv_beta = safe / (tau_syn * tau_m)
    regular = beta / c_m * jnp.exp(-h / tau_syn) * jnp.expm1(h * inv_beta)
    singular = h / c_m * jnp.exp(-h / tau_m)
    # NEST 3.10 takes the singular form only where the regular one is not a positive normal number
    return jnp.where(near | ~(regular > jnp.finfo(regular.dtype).tiny), singular, regular)


class IafPscExp(NeuronFamily):
    """NEST's ``iaf_psc_exp`` with exact integration; presets ``nest_default``, ``potjans_diesmann_2014``."""

    name = "iaf_psc_exp"
    parameters = (
        Parameter("C_m", "pF", 250.0, "membrane capacitance", lo=0.0, lo_open=True),
        Parameter("tau_m", "ms", 10.0, "membrane time constant", lo=0.0, lo_open=True),
        Parameter("t_ref", "ms", 2.0, "absolute refractory period", lo=0.0),
        Parameter("E_L", "mV", -70.0, "resting potential"),
        Parameter("V_reset", "mV", -70.0, "reset potential"),
        Parameter("V_th", "mV", -55.0, "spike threshold"),
        Parameter("I_e", "pA", 0.0, "constant input current"),
        Parameter("tau_syn_ex", "ms", 2.0, "decay time of the excitatory synaptic current", lo=0.0, lo_open=True),
        Parameter("tau_syn_in", "ms", 2.0, "decay time of the inhibitory synaptic current", lo=0.0, lo_open=True),
        Parameter("V_m0", "mV", -70.0, "initial membrane potential (NEST's V_m at creation)"),
    )
    schemes = ("exact",)
    current_unit = "pA"
    # Potjans & Diesmann (2014): mean PSC 87.8 pA (PSP 0.15 mV), relative inhibition g = -4
    default_weights = {"E": 87.8, "I": -351.2}
    v_sample_doc = "at the end of the step, after the reset (V_reset on spike steps), as NEST's multimeter"

    def preset_names(self):
        from ..presets.iaf_psc_exp import PRESET_NAMES

        return PRESET_NAMES

    def preset_scheme(self, preset):
        return "exact"

    def neuron_parameters(self, preset, per_type, cell_type, rng):
        import numpy as np

        from ..presets.iaf_psc_exp import get_preset

        n = cell_type.shape[0]
        prm = {k: np.full(n, v) for k, v in get_preset(preset).parameters().items()}
        for t, name in per_type.items():
            other = get_preset(name).parameters()
            for k in prm:
                prm[k] = np.where(cell_type == t, other[k], prm[k])
        return prm

    def check_emitter(self, preset, per_type, emitter):
        from ..errors import ConfigurationError
        from ..presets.iaf_psc_exp import get_preset

        base = get_preset(preset).parameters()
        base.update(emitter.get("params", {}))
        if base["V_reset"] >= base["V_th"]:
            raise ConfigurationError("emitter.params.V_reset", base["V_reset"],
                                     f"a reset below the threshold V_th={base['V_th']:g} mV")

    def check_connectivity(self, conn_given):
        from ..errors import ConfigurationError

        if conn_given.get("synapse", "exponential") != "exponential":
            raise ConfigurationError("connectivity.synapse", conn_given["synapse"],
                                     "'exponential' with iaf_psc_exp (its synaptic currents are part of the model)")
        if "tau_syn_ms" in conn_given:
            raise ConfigurationError("connectivity.tau_syn_ms", conn_given["tau_syn_ms"],
                                     "nothing with iaf_psc_exp: set emitter params tau_syn_ex / tau_syn_in (ms)")

    def synaptic_tau_ms(self, params):
        return params["tau_syn_ex"], params["tau_syn_in"]

    def precompute(self, params, dt):
        import jax.numpy as jnp

        p = params
        p22 = jnp.exp(-dt / p["tau_m"])
        return {
            "P22": p22,
            "P20": p["tau_m"] / p["C_m"] * (1.0 - p22),
            "P21ex": propagator_32(p["tau_syn_ex"], p["tau_m"], p["C_m"], dt),
            "P21in": propagator_32(p["tau_syn_in"], p["tau_m"], p["C_m"], dt),
            "ref_steps": jnp.round(p["t_ref"] / dt).astype(jnp.int32),
        }

    def init_state(self, params, dtype):
        import jax.numpy as jnp

        y = (params["V_m0"] - params["E_L"]).astype(dtype)
        return {"y": y, "r": jnp.zeros(y.shape, jnp.int32)}

    def step(self, params, state, syn, syn_state, arrivals, i_ext, dt, scheme, spike_fn=None):
        """Voltage first, with the old currents (exact integration); then the currents."""
        import jax.numpy as jnp
        from jax import lax

        if spike_fn is None:
            from ..engine.surrogate import spike_fn
        p = params
        y, r = state["y"], state["r"]
        i_ex, i_in = syn.channels(syn_state)  # excitatory channel includes the Poisson drives
        refractory = r > 0

        def integrate(ops):
            y, i_ext, i_ex, i_in = ops
            y_free = y * p["P22"] + (p["I_e"] + i_ext) * p["P20"] + i_ex * p["P21ex"] + i_in * p["P21in"]
            return jnp.where(refractory, y, y_free)

        # As in the Izhikevich step: XLA:CPU would copy the integration into every consumer of y_new
        # (threshold, reset, V_m, propagation), each a loop over the neurons; a conditional's result is
        # a buffer, so it runs once. Both branches are the same; the predicate is opaque to XLA.
        opaque = p["V_th"][0] == p["V_th"][0]
        y_new = lax.cond(opaque, integrate, integrate, (y, i_ext, i_ex, i_in))
        syn_state = syn.advance(syn_state, arrivals)
        spike = spike_fn(y_new - (p["V_th"] - p["E_L"]))
        hard = lax.stop_gradient(spike)
        y_reset = jnp.where(hard > 0, p["V_reset"] - p["E_L"], y_new)
        r_new = jnp.where(hard > 0, p["ref_steps"], jnp.where(refractory, r - 1, 0))
        return {"y": y_reset, "r": r_new}, syn_state, y_reset + p["E_L"], spike
