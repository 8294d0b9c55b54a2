"""Reverse mode of the table kernels: the transposed delivery.

Scheduling a step's spikes adds, for every synapse ``e`` of every presynaptic neuron ``j``,

    buf[c_j, (k + d_e) mod D, t_e] += s_j * scale * w_e * gain[pop_j, pop_t_e]

to the ring buffer: linear in the buffer and in ``s``, ``w``, ``scale`` and ``gain`` separately. The
forward pass runs a kernel's own loop (which reverse mode cannot cross); the backward pass is the
transpose, read from the buffer's cotangent ``G`` (the cotangent of the arrivals each slot will
deliver) at every synapse's target and delay:

    ds_j = scale * sum_{e in row j} G_e w_e gain_e            (every neuron: its surrogate spike)
    dscale = sum_j s_j sum_{e in row j} G_e w_e gain_e
    dgain[a, b] = sum_{e: pop_j = a, pop_t_e = b} s_j scale G_e w_e
    dw_e = s_j scale G_e gain_e                               (only when the weights are differentiated)

With a two-sided surrogate every neuron's ``ds_j`` counts (its pseudo-derivative is non-zero below
threshold too): one gather over the whole table and segment sums per step, the cost of the dense
kernel's transposed matrix product with the sparsity of the table. With a surrogate that vanishes
wherever no spike occurred (``PropagationStatic.spiking_transpose``, the ``one_sided`` surrogate),
only spiking neurons' ``ds_j`` reach the network, and the transpose visits their rows only, gathered
``capacity`` at a time as the batched kernel scatters them: the cost of the forward delivery.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import custom_batching, lax
from jax.custom_derivatives import SymbolicZero

from .spike_list import row_windows, spike_list

__all__ = ["deliver", "presynaptic_index", "take_slot"]


def presynaptic_index(row_start, size: int):
    """The presynaptic neuron of each entry of a flat table of ``size`` entries (``N`` for the padding
    beyond the last row): ``row_start[N + 1]`` counted up entry by entry."""
    n = row_start.shape[0] - 1
    marks = jnp.zeros(size + 1, jnp.int32).at[row_start[1:]].add(1, mode="drop")
    return jnp.minimum(jnp.cumsum(marks[:size]), n).astype(jnp.int32)


#: Spiking rows per gather of the event kernel's transpose (a CPU step has few spikes; the batched
#: kernel's transpose gathers as many as its forward scatters).
EVENT_CAPACITY = 4


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def deliver(ps, schedule, buf, s, k, weights, scale, gain, struct):
    """``schedule(ps, buf, s, k, weights, scale, gain, struct)`` (a kernel's forward loop) with the
    transposed delivery as its reverse mode. ``struct`` holds ``targets``, ``delays``, ``row_start``,
    ``is_exc``, ``pop_index`` and optionally ``flat_pre`` (:func:`presynaptic_index`, else computed)."""
    return schedule(ps, buf, s, k, weights, scale, gain, struct)


def _fwd(ps, schedule, buf, s, k, weights, scale, gain, struct):
    val = lambda p: p.value  # noqa: E731
    out = schedule(ps, buf.value, s.value, k.value, weights.value, scale.value, gain.value,
                   jax.tree_util.tree_map(val, struct))
    # None in place of the weights when they are not differentiated: no per-synapse cotangent then
    res = (s.value, k.value, weights.value, scale.value, gain.value, jax.tree_util.tree_map(val, struct),
           jnp.zeros(0) if weights.perturbed else None)
    return out, res


def _bwd(ps, schedule, res, g_buf):
    s, k, weights, scale, gain, struct, want_w = res
    nothing = jax.tree_util.tree_map(lambda _: None, struct)
    if isinstance(g_buf, SymbolicZero):
        return (None, None, None, None, None, None, nothing)
    transpose = _transpose_spiking if ps.spiking_transpose else _transpose_all
    ds, d_w, d_scale, d_gain = transpose(ps, g_buf, s, k, weights, scale, gain, struct, want_w is not None)
    # The buffer's cotangent passes on only after the transpose has read it, through an element that
    # depends on what was read: slot k, whose cotangent the read of step k (take_slot) replaces next.
    # XLA then updates the buffer in place instead of copying the whole ring for that replacement.
    slot = k % ps.d_len
    g_buf = g_buf.at[0, slot, 0].set(jnp.zeros((), g_buf.dtype) * jnp.sum(ds).astype(g_buf.dtype))
    return (g_buf, ds, None, d_w, d_scale, d_gain, nothing)


def _transpose_all(ps, g_buf, s, k, weights, scale, gain, struct, want_w: bool):
    """Every row: one gather over the flat table, segment sums by presynaptic neuron."""
    n, d_len, n_pre = ps.n, ps.d_len, ps.pre_count
    targets, delays = struct["targets"], struct["delays"].astype(jnp.int32)
    pre = struct["flat_pre"] if "flat_pre" in struct else presynaptic_index(struct["row_start"], targets.shape[0])
    valid = pre < n_pre
    tg = jnp.where(valid, targets, 0)
    channel = jnp.where(jnp.concatenate([struct["is_exc"], jnp.ones(1, bool)])[pre], 0, 1)
    ncols = g_buf.shape[-1]
    flat = (channel * d_len + (k + delays) % d_len) * ncols + tg
    g = jnp.where(valid, g_buf.reshape(-1)[flat], 0)
    if ps.gains:
        pop = jnp.concatenate([struct["pop_index"], jnp.zeros(1, struct["pop_index"].dtype)])
        n_pop = gain.shape[0]
        pair = pop[pre] * n_pop + pop[tg]
        g_gain = g * gain.reshape(-1)[pair]
    else:
        g_gain = g
    rowsum = jax.ops.segment_sum(g_gain * weights, pre, n_pre + 1, indices_are_sorted=True)[:n_pre]
    ds = (scale * rowsum).astype(s.dtype)
    d_scale = jnp.sum(s * rowsum).astype(jnp.result_type(scale))
    s_scaled = jnp.concatenate([s, jnp.zeros(1, s.dtype)])[pre] * scale  # s_j * scale per entry
    d_gain = None
    if ps.gains:
        d_gain = jax.ops.segment_sum(g * weights * s_scaled, pair, n_pop * n_pop).reshape(gain.shape).astype(gain.dtype)
    d_w = (g_gain * s_scaled).astype(weights.dtype) if want_w else None
    return ds, d_w, d_scale, d_gain


def _transpose_spiking(ps, g_buf, s, k, weights, scale, gain, struct, want_w: bool):
    """The rows of the step's spiking neurons, ``capacity`` at a time (``ds`` is left zero elsewhere)."""
    ds, d_w, d_scale, d_gain = _spiking_kernel(ps, want_w)(g_buf, s, k, weights, scale, gain, struct)
    return ds, d_w if want_w else None, d_scale, d_gain.reshape(gain.shape) if ps.gains else None


@functools.lru_cache(maxsize=64)
def _spiking_kernel(ps, want_w: bool):
    """The transpose of one network; for the event kernel, batched (seeds, parameter sets) as the
    forward kernel is: one network after the other. Batched natively, each step's conditional over
    further spike batches would become a select that runs the loop for every network, with a copy
    of the whole batched cotangent buffer, and the transpose of a batch of four costs three times
    four transposes."""

    def one(g_buf, s, k, weights, scale, gain, struct):
        return _transpose_rows(ps, g_buf.reshape(-1), 0, s, k, weights, scale, gain, struct, want_w)

    if ps.kind != "event":
        return one
    kernel = custom_batching.custom_vmap(one)

    @kernel.def_vmap
    def _one_network_at_a_time(axis_size, in_batched, *args):
        g_buf = args[0] if in_batched[0] else jnp.broadcast_to(args[0], (axis_size,) + args[0].shape)
        g_flat, stride = g_buf.reshape(-1), g_buf[0].size
        shapes = jax.tree_util.tree_map(lambda a, bat: jax.ShapeDtypeStruct(a.shape[1:] if bat else a.shape, a.dtype),
                                        list(args[1:]), list(in_batched[1:]))
        out_shapes = jax.eval_shape(lambda *a: one(jnp.zeros(g_buf.shape[1:], g_buf.dtype), *a), *shapes)
        outs = tuple(jnp.zeros((axis_size,) + o.shape, o.dtype) for o in out_shapes)

        def network(b, outs):
            own = jax.tree_util.tree_map(lambda a, bat: lax.dynamic_index_in_dim(a, b, keepdims=False) if bat else a,
                                         list(args[1:]), list(in_batched[1:]))
            res = _transpose_rows(ps, g_flat, b * stride, *own, want_w)
            return tuple(lax.dynamic_update_index_in_dim(o, r.astype(o.dtype), b, 0) for o, r in zip(outs, res))

        return lax.fori_loop(jnp.int32(0), jnp.int32(axis_size), network, outs), (True,) * len(outs)

    return kernel


def _transpose_rows(ps, g_flat, offset, s, k, weights, scale, gain, struct, want_w: bool):
    """``(ds, d_w, d_scale, d_gain)`` of one network whose cotangent buffer starts at ``g_flat[offset]``
    (``d_w`` empty unless ``want_w``, ``d_gain`` flat and of one entry without gains)."""
    n, d_len, width, n_pre = ps.n, ps.d_len, ps.row_width, ps.pre_count
    cap = ps.capacity if ps.kind == "batched" else min(ps.capacity, EVENT_CAPACITY)
    count, order = spike_list(s)
    order = jnp.concatenate([order, jnp.full(cap, n, order.dtype)])
    row_start, targets, delays = struct["row_start"], struct["targets"], struct["delays"]
    pop = struct["pop_index"]
    pop_padded = jnp.concatenate([pop, jnp.zeros(1, pop.dtype)])
    n_pop = gain.shape[0] if ps.gains else 1
    ncols = n + 1
    size = weights.shape[0]

    def batch(carry):
        first, ds, d_scale, d_gain, d_w = carry
        live, j, pos, inside, tg = row_windows(order, count, first, cap, row_start, targets, n, width)
        ch = jnp.where(struct["is_exc"][j], 0, 1).astype(jnp.int32)[:, None]
        flat = (ch * d_len + (k + delays[pos].astype(jnp.int32)) % d_len) * ncols + jnp.minimum(tg, ncols - 1)
        g = jnp.where(inside, g_flat[offset + flat], 0)
        w = weights[pos]
        if ps.gains:
            pair = pop[j][:, None] * n_pop + pop_padded[tg]
            g_gain = g * gain.reshape(-1)[pair]
        else:
            g_gain = g
        rowsum = jnp.sum(g_gain * w, axis=1)  # [cap]
        ds = ds.at[jnp.where(live, j, n_pre)].add(scale * rowsum, mode="drop")
        s_scaled = jnp.where(live, s[j], 0) * scale  # [cap]
        d_scale = d_scale + jnp.sum(jnp.where(live, s[j], 0) * rowsum)
        if ps.gains:
            d_gain = d_gain.at[pair.reshape(-1)].add((g * w * s_scaled[:, None]).reshape(-1))
        if want_w:
            d_w = d_w.at[jnp.where(inside, pos, size).reshape(-1)].add((g_gain * s_scaled[:, None]).reshape(-1),
                                                                         mode="drop")
        return first + cap, ds, d_scale, d_gain, d_w

    init = (jnp.int32(0), jnp.zeros(n_pre, s.dtype), jnp.zeros((), jnp.result_type(scale)),
            jnp.zeros(n_pop * n_pop, gain.dtype if ps.gains else s.dtype),
            jnp.zeros(size if want_w else 0, weights.dtype))
    # the first batch outside any loop; the rest (a step with more than `capacity` spikes) in a loop
    # under a conditional: a loop that reads the cotangent buffer owns a copy of it
    first = batch(init)
    _, ds, d_scale, d_gain, d_w = lax.cond(count > cap, lambda c: lax.while_loop(lambda c: c[0] < count, batch, c),
                                           lambda c: c, first)
    return ds, d_w, d_scale, d_gain


deliver.defvjp(_fwd, _bwd, symbolic_zeros=True)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def take_slot(read, buf, slot):
    """``read(buf, slot) -> (buf', arrivals)``: a kernel's read of ring-buffer slot ``slot`` (axis 1),
    which it leaves cleared, with an in-place reverse mode: the buffer's cotangent with that slot
    replaced by the arrivals' (the cleared slot no longer depends on the buffer). Differentiated
    as written, the read and the clear each make a zero buffer of the whole ring and add it."""
    return read(buf, slot)


def _take_fwd(read, buf, slot):
    return read(buf, slot), slot


def _take_bwd(read, slot, cotangents):
    g_buf, g_arr = cotangents
    return lax.dynamic_update_index_in_dim(g_buf, g_arr.astype(g_buf.dtype), slot, axis=1), None


take_slot.defvjp(_take_fwd, _take_bwd)
