"""One jit-compiled ``lax.scan`` over a chunk of time steps.

The scan carries the state pytree; only what the probes asked for leaves the scan (reductions happen
inside it, as diffrax ``SaveAt`` / vbjax monitors do). Random input is drawn from per-step keys
``fold_in(key, step)``, so splitting a run into chunks does not change a single number.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import FAMILIES
from .rng import wrap_key
from .synapses import dense_arrivals, dense_record, event_arrivals, event_propagate, stdp_update

__all__ = ["Static", "init_carry", "chunk_fn"]


@dataclass(frozen=True)
class Static:
    """Everything shape- or branch-determining (hashable: part of the compilation key)."""

    n: int
    dt: float
    dtype: str
    family: str
    scheme: str
    propagation: str  # "event" | "dense" | "none"
    full_rows: bool
    uniform_delay: int  # steps; 0 = heterogeneous
    d_len: int
    synapse: str
    plastic: bool
    n_wave: int
    n_gauss: int
    n_poisson: int
    rec_vm: bool
    rec_isyn: bool
    n_bins: int  # 0 = no source profile
    attribution: bool
    n_pops: int
    n_mua: int  # 0 = no MUA
    rec_emm: bool
    poisson_kmax: int = 0  # >0: inverse-CDF Poisson sampling over counts 0..kmax-1 (see poisson_kmax)
    float_spikes: bool = False  # emit 0/1 floats that carry the surrogate gradient (for grad)

    @property
    def row_slices(self) -> bool:
        """Event rows added as contiguous slices: every row targets all neurons and delays are uniform."""
        return self.propagation == "event" and self.full_rows and self.uniform_delay > 0


def init_carry(static: Static, params: dict, struct: dict) -> dict:
    dt = jnp.dtype(static.dtype)
    fam = FAMILIES[static.family]
    n = static.n
    carry = {
        "neuron": fam.init_state(params["neuron"], dt),
        "I_e": jnp.zeros(n, dt),
        "I_i": jnp.zeros(n, dt),
        "I_p": jnp.zeros((static.n_poisson, n), dt),
        "bad": jnp.array([-1, -1], jnp.int32),
    }
    if static.propagation == "event":
        # rows added as slices need no padding column (it absorbs the padded targets of scattered rows)
        carry["buf"] = jnp.zeros((2, static.d_len, n + (0 if static.row_slices else 1)), dt)
    elif static.propagation == "dense":
        carry["hist"] = jnp.zeros((static.d_len, n), dt)
    if static.plastic:
        carry["w"] = params["weights"].astype(dt)
        carry["x_pre"] = jnp.zeros(n, dt)
        carry["x_post"] = jnp.zeros(n, dt)
    return carry


def _draws(static: Static, params: dict, key, steps):
    """Per-step Gaussian and Poisson input, [T, G, N] and [T, P, N].

    ``key`` is raw ``uint32[2]`` threefry key data; the draws are those of ``jax.random`` with it, made by
    :data:`jaxfne.engine.rng.THREEFRY` (the same numbers, compiled without the rolled CPU loop), except
    ``jax.random.poisson``, which accepts only JAX's own threefry key.
    """
    dt = jnp.dtype(static.dtype)
    raw, key = key, wrap_key(key)
    out = {}
    if static.n_gauss:
        kg = jax.random.fold_in(key, 0)
        # one draw per neuron and step: independent Gaussian drives on a neuron add up to one Gaussian
        out["z"] = jax.vmap(lambda k: jax.random.normal(jax.random.fold_in(kg, k), (static.n,), dt))(steps)
    if static.n_poisson:
        kp = jax.random.fold_in(key, 1)
        lam = params["poisson_rate_hz"] * params["poisson_n_inputs"] * static.dt * 1e-3  # [P]
        shape = (static.n_poisson, static.n)
        if static.poisson_kmax:
            # inverse CDF: X = #{j < kmax : u > F(j)}, exact up to a tail below the uniform's resolution
            u = jax.vmap(lambda k: jax.random.uniform(jax.random.fold_in(kp, k), shape, dt))(steps)
            j = jnp.arange(static.poisson_kmax, dtype=dt)
            logpmf = j[None, :] * jnp.log(lam)[:, None] - lam[:, None] - jax.scipy.special.gammaln(j + 1.0)[None, :]
            cdf = jnp.cumsum(jnp.exp(logpmf), axis=1)  # [P, K]
            out["pc"] = jnp.sum(u[..., None] > cdf[None, :, None, :], axis=-1).astype(dt)
        else:
            kp = jax.random.fold_in(raw, 1)
            out["pc"] = jax.vmap(lambda k: jax.random.poisson(jax.random.fold_in(kp, k), lam[:, None], shape))(steps).astype(dt)
    return out


def poisson_kmax(rates_hz, n_inputs, dt_ms: float, limit: int = 64) -> int:
    """Smallest K with P(X >= K) < 2^-53 for the largest Poisson mean per step; 0 above ``limit``."""
    import numpy as np
    from scipy.stats import poisson

    lam = float(np.max(np.asarray(rates_hz, float) * np.asarray(n_inputs, float))) * dt_ms * 1e-3 if np.size(rates_hz) else 0.0
    if lam <= 0:
        return 1
    k = int(poisson.isf(2.0**-53, lam)) + 2
    return k if k <= limit else 0


def _step(static: Static, params: dict, struct: dict, carry: dict, xs: dict):
    dt_ = jnp.dtype(static.dtype)
    n, dt = static.n, static.dt
    k = xs["k"]
    fam = FAMILIES[static.family]
    is_exc = struct["is_exc"]
    new = dict(carry)

    # synaptic arrivals scheduled for this step
    if static.propagation == "event":
        new["buf"], arr = event_arrivals(carry["buf"], k, n, static.d_len)
    elif static.propagation == "dense":
        w_eff = (carry["w"] if static.plastic else params["weights"]) * params["weight_scale"]
        arr = dense_arrivals(carry["hist"], k, w_eff, is_exc, d_len=static.d_len,
                             uniform_delay=static.uniform_delay, delays=struct.get("delays"))
    else:
        arr = jnp.zeros((2, n), dt_)
    exc_in, inh_in = arr[0], arr[1]
    win = xs["wave"]
    gauss_on = win[static.n_wave:static.n_wave + static.n_gauss]
    poisson_on = win[static.n_wave + static.n_gauss:]
    # external Poisson input: its own excitatory synaptic current per drive, so its synapses can sit
    # at a depth of their own (a layer-specific afferent) in the source profile
    p_in = xs["pc"] * (params["poisson_weight"] * poisson_on)[:, None] * struct["poisson_mask"] if static.n_poisson \
        else jnp.zeros((0, n), dt_)
    if static.synapse == "exponential":
        i_e = carry["I_e"] * jnp.exp(-dt / params["tau_syn_ms"][0]) + exc_in
        i_i = carry["I_i"] * jnp.exp(-dt / params["tau_syn_ms"][1]) + inh_in
        i_p = carry["I_p"] * jnp.exp(-dt / params["tau_syn_ms"][0]) + p_in
    else:  # delta: the arriving charge (weight x 1 ms) delivered within this step
        i_e = exc_in / dt
        i_i = inh_in / dt
        i_p = p_in / dt
    new["I_e"], new["I_i"], new["I_p"] = i_e, i_i, i_p
    i_drive = jnp.sum(i_p, axis=0)

    i_ext = jnp.zeros(n, dt_)
    if static.n_wave:
        i_ext = i_ext + (win[:static.n_wave] * params["stim_gain"]) @ struct["wave_mask"]
    if static.n_gauss:
        on = gauss_on[:, None] * struct["gauss_mask"]  # [G, N]
        mean = jnp.sum(params["gauss_mean"][:, None] * on, axis=0)
        var = jnp.sum((params["gauss_std"] ** 2)[:, None] * on, axis=0)
        safe = jnp.where(var > 0, var, 1.0)  # keeps the gradient finite where a neuron gets no noise
        sd = jnp.where(var > 0, jnp.sqrt(safe), 0.0) * jnp.sqrt(jnp.asarray(1.0 / dt, dt_))
        i_ext = i_ext + mean + sd * xs["z"]

    neuron, v_sample, s = fam.step(params["neuron"], carry["neuron"], i_e + i_i + i_drive + i_ext, dt, static.scheme)
    new["neuron"] = neuron

    # propagate this step's spikes
    if static.propagation == "event":
        new["buf"] = event_propagate(new["buf"], s, k, struct["targets"], params["weights"], params["weight_scale"],
                                     struct["delays"], is_exc, n=n, d_len=static.d_len,
                                     row_slices=static.row_slices, uniform_delay=static.uniform_delay)
    elif static.propagation == "dense":
        new["hist"] = dense_record(carry["hist"], s, k, static.d_len)
    if static.plastic:
        new["w"], new["x_pre"], new["x_post"] = stdp_update(carry["w"], s, carry["x_pre"], carry["x_post"],
                                                            struct["plastic_mask"], params["stdp"], dt)

    # first non-finite membrane potential: step and population
    finite = jnp.isfinite(neuron["v"])
    first_bad = jnp.argmin(finite)
    hit = (~jnp.all(finite)) & (carry["bad"][0] < 0)
    new["bad"] = jnp.where(hit, jnp.stack([k, struct["pop_index"][first_bad]]).astype(jnp.int32), carry["bad"])

    out = {"spikes": s if static.float_spikes else s > 0.5}
    cap = params["capacitance_pF"]
    rec = struct.get("record_idx")
    if static.rec_vm:
        out["V_m"] = v_sample if rec is None else v_sample[rec]
    if static.rec_isyn:
        isyn = (i_e + i_i + i_drive) * cap
        out["I_syn"] = isyn if rec is None else isyn[rec]
    if static.n_bins:
        currents = jnp.concatenate([i_e, i_i, i_p.reshape(-1)]) * cap  # [(2 + P) N] in pA
        if static.attribution:
            out["source_pop_pA"] = jnp.einsum("k,kp,bk->pb", currents, struct["pop_onehot_k"], struct["basis_t"])
            out["source_pA"] = out["source_pop_pA"].sum(0)
        else:
            out["source_pA"] = struct["basis_t"] @ currents  # one matvec with [B_exc; B_inh; B_drive]^T
    if static.n_mua:
        out["MUA"] = struct["mua_weights_t"] @ s
    if static.rec_emm:
        # [spikes, excitatory synaptic events, inhibitory synaptic events] in one matvec
        counts = struct["emm_rows"] @ s
        if static.n_poisson:
            counts = counts + jnp.stack([0.0, jnp.sum(xs["pc"] * poisson_on[:, None] * struct["poisson_mask"]), 0.0])
        out["emm_counts"] = counts
    return new, out


@functools.lru_cache(maxsize=64)
def chunk_fn(static: Static, batched_key: bool, batched_params: bool):
    """The compiled ``run(params, struct, carry, key, step0, wave) -> (carry, outputs)`` of one chunk.

    With ``batched_key`` (and ``batched_params``) the function is ``vmap``-ed over a leading seed axis
    of ``key`` and ``carry`` (and of ``params``): a sweep is one call.
    """

    def run(params, struct, carry, key, step0, wave):
        t_len = wave.shape[0]
        steps = step0 + jnp.arange(t_len, dtype=jnp.int32)
        xs = {"k": steps, "wave": wave, **_draws(static, params, key, steps)}
        layout = {}

        def body(c, x):
            # one float output per step instead of several: each scan output costs a write per step
            new, out = _step(static, params, struct, c, x)
            floats = {k: v for k, v in out.items() if k != "spikes"}
            layout.update({k: v.shape for k, v in floats.items()})
            packed = jnp.concatenate([v.reshape(-1) for v in floats.values()]) if floats else None
            return new, {"spikes": out["spikes"], "packed": packed}

        carry, ys = lax.scan(body, carry, xs)
        outs = {"spikes": ys["spikes"]}
        start = 0
        for k, shape in layout.items():
            size = int(np.prod(shape, dtype=int))
            outs[k] = ys["packed"][:, start:start + size].reshape((t_len,) + shape)
            start += size
        return carry, outs

    if batched_key:
        run = jax.vmap(run, in_axes=(0 if batched_params else None, None, 0, 0, None, None))
    return jax.jit(run)
