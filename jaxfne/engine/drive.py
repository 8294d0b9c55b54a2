"""External input of each step: deterministic waveforms, Gaussian currents and Poisson drives.

Random input is drawn per chunk from per-step keys ``fold_in(key, step)``, so splitting a run into
chunks does not change a single number.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .rng import wrap_key

__all__ = ["draws", "external", "inverse_cdf_counts", "pathwise_counts", "per_chunk", "poisson_kmax", "source_windows"]


def draws(ds, n: int, dt: float, dtype, params: dict, struct: dict, key, steps, *, pathwise: bool = False) -> dict:
    """Per-step Gaussian and Poisson input, ``z[T, N]`` and ``pc[T, P, N]`` (``pc[T, N]`` when every
    neuron gets at most one Poisson drive: one uniform per neuron and step, not one per drive), and
    the spike counts ``src`` of the spike-source populations (:func:`jaxfne.engine.sources.draws`).

    ``pathwise`` gives the Poisson counts a derivative in their mean (:func:`pathwise_counts`), so that
    gradients reach the drives' rates and input counts.

    ``key`` is raw ``uint32[2]`` threefry key data; the draws are those of ``jax.random`` with it, made by
    :data:`jaxfne.engine.rng.THREEFRY` (the same numbers, compiled without the rolled CPU loop), except
    ``jax.random.poisson``, which accepts only JAX's own threefry key.
    """
    raw, key = key, wrap_key(key)
    out = {}
    if ds.n_gauss:
        kg = jax.random.fold_in(key, 0)
        # one draw per neuron and step: independent Gaussian drives on a neuron add up to one Gaussian
        out["z"] = jax.vmap(lambda k: jax.random.normal(jax.random.fold_in(kg, k), (n,), dtype))(steps)
    if ds.n_poisson:
        kp = jax.random.fold_in(key, 1)
        lam = params["poisson_rate_hz"] * params["poisson_n_inputs"] * dt * 1e-3  # [P]
        shape = (ds.n_poisson, n)
        if ds.poisson_kmax:
            # inverse CDF: X = #{j < kmax : u > F(j)}, exact up to a tail below the uniform's resolution
            if ds.one_count_per_neuron:
                u = jax.vmap(lambda k: jax.random.uniform(jax.random.fold_in(kp, k), (n,), dtype))(steps)
                lam = jnp.concatenate([lam, jnp.zeros(1, dtype)])[struct["poisson_of"]]  # [N]
                out["pc"] = inverse_cdf_counts(u, lax.stop_gradient(lam), ds.poisson_kmax)
            else:
                j = jnp.arange(ds.poisson_kmax, dtype=dtype)
                mean = lax.stop_gradient(lam)
                logpmf = j[None, :] * jnp.log(mean)[:, None] - mean[:, None] - jax.scipy.special.gammaln(j + 1.0)[None, :]
                cdf = jnp.cumsum(jnp.exp(logpmf), axis=1)  # [P, K]
                u = jax.vmap(lambda k: jax.random.uniform(jax.random.fold_in(kp, k), shape, dtype))(steps)
                out["pc"] = jnp.sum(u[..., None] > cdf[None, :, None, :], axis=-1).astype(dtype)
                lam = lam[:, None]
        else:
            kp = jax.random.fold_in(raw, 1)
            mean = lax.stop_gradient(lam)[:, None]
            out["pc"] = jax.vmap(lambda k: jax.random.poisson(jax.random.fold_in(kp, k), mean, shape))(steps).astype(dtype)
            lam = lam[:, None]
        if pathwise:
            out["pc"] = pathwise_counts(out["pc"], lam)
    if ds.n_sources:
        from . import sources

        out["src"] = sources.draws(ds, dt, dtype, params, raw, steps, pathwise=pathwise)
    return out


def pathwise_counts(count, lam):
    """Poisson counts ``count`` of mean ``lam`` (broadcastable) with the derivative ``d count / d lam =
    count / lam``: the counts themselves forward (straight through), and in reverse mode each count
    scales with its mean, as ``lam * (count / lam)`` with the ratio held fixed.

    Unbiased where a readout is linear in the counts (``E[count / lam] = 1 = dE[count]/dlam``, e.g. a
    subthreshold V_m), an approximation otherwise; zero counts pass no gradient.
    """
    safe = jnp.where(lam > 0, lam, 1.0)
    slope = lax.stop_gradient(jnp.where(lam > 0, count / safe, 0.0))
    return lax.stop_gradient(count) + slope * (lam - lax.stop_gradient(lam))


def inverse_cdf_counts(u, lam, kmax: int):
    """Poisson counts ``#{j < kmax : u > F_lam(j)}`` with each neuron's own mean ``lam`` ([N]; 0 = no
    drive, count 0): the CDF summed term by term (``p_j = p_{j-1} lam / j``), element by element, so
    XLA fuses it into one pass over the neurons instead of gathering a ``[N, kmax]`` table."""
    p = jnp.exp(-lam)
    cdf = p
    count = (u > cdf).astype(u.dtype)
    for j in range(1, kmax):
        p = p * lam / j
        cdf = cdf + p
        count = count + (u > cdf)
    return count


def poisson_kmax(rates_hz, n_inputs, dt_ms: float, limit: int = 64) -> int:
    """Smallest K with P(X >= K) < 2^-53 for the largest Poisson mean per step; 0 above ``limit``."""
    lam = float(np.max(np.asarray(rates_hz, float) * np.asarray(n_inputs, float))) * dt_ms * 1e-3 if np.size(rates_hz) else 0.0
    if lam <= 0:
        return 1
    k = _poisson_isf(2.0**-53, lam) + 2
    return k if k <= limit else 0


def _poisson_isf(q: float, lam: float) -> int:
    """``scipy.stats.poisson.isf(q, lam)`` (the same inversion of the CDF) from ``scipy.special``,
    whose import costs a fraction of ``scipy.stats``'s in every workflow job."""
    from scipy.special import pdtr, pdtrik

    p = 1.0 - q
    k = float(np.ceil(pdtrik(p, lam)))
    below = max(k - 1.0, 0.0)
    return int(below if pdtr(below, lam) >= p else k)


def per_chunk(ds, dtype, params: dict, struct: dict) -> dict:
    """Structure of the step's drive derived from ``params`` once per chunk, outside the scan.

    ``poisson_weight_of`` [N]: each neuron's Poisson weight (0 without a drive) when every neuron has
    at most one drive and every drive is on throughout. The step then multiplies each neuron's count
    by it; otherwise it gathers the weights of the step's on-windows per neuron (an XLA:CPU gather
    over all neurons in every step). The values are the same (a window is 0 or 1).
    """
    if ds.one_count_per_neuron and ds.poisson_always_on and not ds.poisson_rows_identity:
        weights = jnp.concatenate([params["poisson_weight"], jnp.zeros(1, dtype)])
        return {"poisson_weight_of": weights[struct["poisson_of"]]}
    return {}


def source_windows(ds, xs: dict):
    """The on-windows ``[Q]`` of the spike-source populations in this step."""
    return xs["wave"][ds.n_wave + ds.n_gauss + ds.n_poisson:]


def external(ds, n: int, dt: float, dtype, params: dict, struct: dict, xs: dict):
    """``(i_ext[N], drive_arrivals[R, N], poisson_on[P])`` of one step.

    ``i_ext``: stimulus waveforms and Gaussian current; ``drive_arrivals``: the Poisson drives'
    weighted event counts in the rows of their excitatory synaptic current ``I_p``
    (:mod:`~jaxfne.engine.drive_rows`; a row per drive, or shared by drives with disjoint targets,
    then each neuron's value is its one drive's, gathered without a product over drives). The waveform table's
    columns are the stimuli, then the on-windows of the Gaussian drives, the Poisson drives and the
    spike-source populations (:func:`source_windows`).
    """
    win = xs["wave"]
    gauss_on = win[ds.n_wave:ds.n_wave + ds.n_gauss]
    poisson_on = win[ds.n_wave + ds.n_gauss:ds.n_wave + ds.n_gauss + ds.n_poisson]
    if not ds.n_poisson:
        p_in = jnp.zeros((ds.n_rows, n), dtype)
    elif ds.poisson_rows_identity:
        pc = xs["pc"][None, :] if ds.one_count_per_neuron else xs["pc"]
        p_in = pc * (params["poisson_weight"] * poisson_on)[:, None] * struct["poisson_mask"]
    elif ds.one_count_per_neuron:  # one count per neuron: its drive's weight, in its row
        if "poisson_weight_of" in struct:  # drives always on: the weights gathered once per chunk
            weight_of = struct["poisson_weight_of"]
        else:
            per_drive = jnp.concatenate([params["poisson_weight"] * poisson_on, jnp.zeros(1, dtype)])
            weight_of = per_drive[struct["poisson_of"]]
        p_in = struct["poisson_row_mask"] * (xs["pc"] * weight_of)[None, :]
    else:
        p_in = struct["poisson_rows"] @ (xs["pc"] * (params["poisson_weight"] * poisson_on)[:, None]
                                         * struct["poisson_mask"])
    if p_in.shape[0] < ds.n_rows:  # rows of the spike-source populations only
        p_in = jnp.concatenate([p_in, jnp.zeros((ds.n_rows - p_in.shape[0], n), p_in.dtype)])
    i_ext = jnp.zeros(n, dtype)
    if ds.n_wave:
        i_ext = i_ext + (win[:ds.n_wave] * params["stim_gain"]) @ struct["wave_mask"]
    if ds.n_gauss:
        on = gauss_on[:, None] * struct["gauss_mask"]  # [G, N]
        mean = jnp.sum(params["gauss_mean"][:, None] * on, axis=0)
        var = jnp.sum((params["gauss_std"] ** 2)[:, None] * on, axis=0)
        safe = jnp.where(var > 0, var, 1.0)  # keeps the gradient finite where a neuron gets no noise
        sd = jnp.where(var > 0, jnp.sqrt(safe), 0.0) * jnp.sqrt(jnp.asarray(1.0 / dt, dtype))
        i_ext = i_ext + mean + sd * xs["z"]
    return i_ext, p_in, poisson_on
