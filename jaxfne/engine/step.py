"""One time step as a short composition of the components.

drive -> arrivals (the network's and the spike sources') -> neuron (which orders its own synaptic
update) -> propagation (the neurons' spikes and the sources') -> plasticity -> numerics check
(:mod:`~jaxfne.engine.numerics`) -> record. Each concern is one call into its component; the step
knows no family, kernel or signal by name.
"""

from __future__ import annotations

import jax.numpy as jnp

from ..neurons import FAMILIES
from ..propagation import KERNELS
from ..synapses import CurrentSynapses, stdp
from . import drive, numerics, record, sources
from .surrogate import spike_function

__all__ = ["step", "synapses_of"]


def synapses_of(static, params: dict, nparams: dict) -> CurrentSynapses:
    """The synapse dynamics bound to this run's time constants (the family's own, if it has them)."""
    tau = FAMILIES[static.family].synaptic_tau_ms(nparams)
    if tau is None:
        tau = (params["tau_syn_ms"][0], params["tau_syn_ms"][1])
    return CurrentSynapses(static.synapse, tau[0], tau[1], static.dt)


def step(static, params: dict, nparams: dict, struct: dict, carry: dict, xs: dict, *, sample: bool = True):
    """Advance ``carry`` by step ``xs["k"]``; returns ``(carry, outputs)``.

    ``nparams`` are the neuron parameters with the family's precomputed constants (once per chunk);
    ``sample`` adds V_m / I_syn of the recorded neurons to the outputs.
    """
    fam = FAMILIES[static.family]
    kernel = KERNELS.get(static.prop.kind)
    dt_, n, k = jnp.dtype(static.dtype), static.n, xs["k"]
    weights = carry["plastic"]["w"] if static.plastic else params["weights"]
    new = dict(carry)

    i_ext, drive_in, poisson_on = drive.external(static.drive, n, static.dt, dt_, params, struct, xs)
    if kernel is not None:
        new["prop"], arr = kernel.arrivals(static.prop, carry["prop"], k, weights, params, struct)
    else:
        arr = jnp.zeros((2, n), dt_)
    if static.sources:
        new["sources"], src_in = sources.arrivals(static.sources, carry["sources"], k, dt_, n)
        for q, row in enumerate(static.drive.rows[static.drive.n_poisson:]):
            drive_in = drive_in.at[row].add(src_in[q])
    arrivals = {"exc": arr[0], "inh": arr[1], "drive": drive_in}
    syn = synapses_of(static, params, nparams)
    new["neuron"], new["syn"], v_sample, s = fam.step(nparams, carry["neuron"], syn, carry["syn"], arrivals, i_ext,
                                                      static.dt, static.scheme,
                                                      spike_fn=spike_function(static.surrogate,
                                                                              static.strict_threshold))
    if kernel is not None:
        new["prop"] = kernel.propagate(static.prop, new["prop"], s, k, weights, params, struct)
    if static.sources:
        new["sources"] = sources.propagate(static.sources, new["sources"], xs["src"], drive.source_windows(static.drive, xs),
                                           k, params, struct)
    if static.plastic:
        new["plastic"] = stdp.update(carry["plastic"], s, struct["plastic_mask"], params["stdp"], static.dt)
    new["bad"] = numerics.update(carry["bad"], v_sample, new["syn"], k)

    scale = fam.current_scale_pA(params)
    out = record.per_step(static.record, static, struct, s, new["syn"], scale, xs, poisson_on)
    if sample:
        out.update(record.sampled(static.record, struct, v_sample, new["syn"], scale))
    return new, out

