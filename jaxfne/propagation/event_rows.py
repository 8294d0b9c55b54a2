"""Event-driven propagation over the flat synapse table, for the CPU.

The synapses are one table in row order (targets, weights, delays per presynaptic neuron; int32,
the model's float, uint8 delay steps up to 255). Each step packs its spikes into bitmaps of 32-bit
words, then visits the spiking neurons in order, one ``lax.while_loop`` iteration each, finding
the next through the bitmaps with scalar bit operations, and scatters their rows into a ring buffer of
future arrivals ``[2, D, N + 1]`` (column N absorbs the window's entries beyond a row). Cost
follows the number of synaptic events plus O(N) per step; no spike is ever dropped, however many
fire in one step. When every row targets all neurons in order and delays are uniform (the
Izhikevich 2003 network), a row is added to the buffer as a contiguous slice instead of scattered.
Reverse mode runs the transposed delivery (:mod:`~jaxfne.propagation.transpose`).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np
from jax import custom_batching, lax

from .base import Propagation, PropagationStatic
from .transpose import deliver, take_slot

__all__ = ["EventRows", "SEGMENT_OVERHEAD", "segment_width", "table_struct"]


class EventRows(Propagation):
    name = "event"
    differentiable = True

    def init(self, ps: PropagationStatic, dtype) -> dict:
        # rows added as slices need no padding column (it absorbs the padded targets of scattered rows)
        return {"buf": jnp.zeros((2, ps.d_len, ps.n + (0 if ps.row_slices else 1)), dtype)}

    def max_batch(self, ps):
        return _batch_limit(ps)

    def arrivals(self, ps, state, k, weights, params, struct):
        """Read and clear the arrivals of step ``k``.

        The slot is read through a conditional (always taken), which XLA cannot fuse into the neuron
        update that consumes it, and cleared by subtracting what was read (exactly zero), which makes
        the clear wait for the read; read and clear then no longer overlap, and the buffer is updated
        in place. A plain slice and clear made XLA copy the whole ring buffer twice per step.
        """
        buf, arr = take_slot(_read_and_clear, state["buf"], k % ps.d_len)
        return {"buf": buf}, arr[:, :ps.n]

    def propagate(self, ps, state, s, k, weights, params, struct):
        """Schedule the arrivals of the spikes ``s``.

        Under ``jax.vmap`` (a batch of seeds or parameter sets) the networks are visited one after the
        other, each scattering into its slice of the batched buffer: batching the per-spike loop itself
        would run every network for as many iterations as the busiest one has spikes, with a gather and
        a select over the whole batch in each.
        """
        gain = params["gain"] if ps.gains else jnp.zeros((0, 0), weights.dtype)
        return {"buf": deliver(ps, _schedule, state["buf"], s, k, weights, params["weight_scale"], gain,
                               table_struct(struct))}


def _batch_limit(ps: PropagationStatic) -> int | None:
    """A vmapped batch of scattered rows indexes all its buffers with one int32 (2^31 entries); rows
    added as slices index each network's buffer on its own (no limit)."""
    return None if ps.row_slices else (2**31 - 1) // (2 * ps.d_len * (ps.n + 1))


def _read_and_clear(buf, slot):
    arr = lax.cond(slot >= 0, lambda b: lax.dynamic_index_in_dim(b, slot, axis=1, keepdims=False),
                   lambda b: jnp.zeros((2, b.shape[-1]), b.dtype), buf)
    return buf.at[:, slot, :].add(-arr), arr


def table_struct(struct: dict) -> dict:
    """The structure arrays the table kernels and their transpose read."""
    keys = ("targets", "delays", "row_start", "is_exc", "pop_index", "flat_pre")
    return {key: struct[key] for key in keys if key in struct}


def _schedule(ps, buf, s, k, weights, scale, gain, struct):
    return _event_kernel(ps)(buf, s, k, struct["targets"], weights, scale, struct["delays"], struct["row_start"],
                             struct["is_exc"], struct["pop_index"], gain)


@functools.lru_cache(maxsize=32)
def _event_kernel(ps: PropagationStatic):
    def one(buf, *args):
        # the unbatched buffer as it is: a leading axis of 1 (buf[None] ... [0]) made XLA copy the
        # whole ring buffer once per step
        return _propagate_one(buf, jnp.int32(0), *args, ps=ps)

    kernel = custom_batching.custom_vmap(one)

    @kernel.def_vmap
    def _one_network_at_a_time(axis_size, in_batched, buf, *args):
        """The networks one after another, each scattering into its slice of the one batched buffer
        (in place: slicing a network's buffer out and stacking it back would copy them all per step)."""
        most = _batch_limit(ps)
        if most is not None and axis_size > most:
            raise ValueError(f"the event kernel runs at most {most} networks of {ps.n} neurons and "
                             f"{ps.d_len} delay slots in one vmapped call (int32 indices), not {axis_size}")
        if not in_batched[0]:
            buf = jnp.broadcast_to(buf, (axis_size,) + buf.shape)

        def network(b, bufs):
            own = [lax.dynamic_index_in_dim(a, b, keepdims=False) if bat else a for a, bat in zip(args, in_batched[1:])]
            return _propagate_one(bufs, b, *own, ps=ps)

        return lax.fori_loop(jnp.int32(0), jnp.int32(axis_size), network, buf), True

    return kernel


def _propagate_one(bufs, b, s, k, targets, weights, scale, delays, row_start, is_exc, pop_index, gain, *,
                   ps: PropagationStatic):
    """Schedule the arrivals of the spikes ``s`` (0/1 floats, [N]) emitted at step ``k`` into network
    ``b``'s buffer ``bufs[b]`` of a batch of ring buffers ``bufs[B, 2, D, N + 1]`` (or into the one
    buffer ``bufs[2, D, N + 1]``, ``b`` = 0).

    The synapses are one flat table in row order (``targets``, ``weights``, ``delays``; neuron ``j``'s
    row is ``row_start[j]:row_start[j + 1]``), padded at the end by ``row_width`` entries so that a
    window of ``row_width`` entries from any row start lies inside it; the window's entries beyond the
    row are sent to the padding column ``N`` with weight 0. ``scale`` (the global weight scale) and
    the per-projection gains are applied per visited row (scaling the whole table would cost a pass
    over it every step).

    The step's spiking neurons are visited in increasing index order (:func:`spike_finder`: O(N)
    once per step, then scalar work per spike), their rows in segments of ``ps.segment_width``
    entries, one ``while_loop`` iteration per segment: it slices the segment's window (a contiguous
    copy, much cheaper on the CPU than a multi-row gather) and scatters it into ``bufs[b]`` at its
    targets and delays (entries beyond the row go to the padding column with weight 0). Segments
    shorter than the longest row (:func:`segment_width`) spend less work on such padding when row
    lengths differ, as the populations' out-degrees do. With ``row_slices`` (every row targets all neurons,
    in order, and the delay is uniform; the buffer then has no padding column) the rows are summed
    per channel in a local ``[2, N]`` accumulator and written to the ring buffer once; the slot
    written is empty (each step owns one), so the sums are those of adding the rows one by one.
    """
    n, d_len = ps.n, ps.d_len
    width = ps.row_width if ps.row_slices else ps.segment_width
    first, after = spike_finder(s)
    pop_padded = jnp.concatenate([pop_index, jnp.zeros(1, pop_index.dtype)]) if ps.gains else None
    lane = lax.iota(jnp.int32, width)

    def visit(j, off):
        """Spiking neuron ``j``'s window from entry ``off`` of its row: start, the entries left in the
        row from there, their scaled weights and the channel (0 E, 1 I)."""
        start = row_start[j] + off
        w = lax.dynamic_slice(weights, (start,), (width,)) * (s[j] * scale)
        return start, row_start[j + 1] - start, w, jnp.where(is_exc[j], 0, 1).astype(jnp.int32)

    def cond(carry):  # spike_finder's "none" is the number of rows: the neurons or a source population's
        return carry[0] < ps.pre_count

    if ps.row_slices:
        def add_row(carry):
            j, acc = carry
            _, _, w, c = visit(j, 0)
            if ps.gains:
                w = w * lax.dynamic_index_in_dim(gain, pop_index[j], keepdims=False)[pop_index]
            acc = lax.dynamic_update_index_in_dim(acc, lax.dynamic_index_in_dim(acc, c, keepdims=False) + w, c, 0)
            return after(j), acc

        _, acc = lax.while_loop(cond, add_row, (first, jnp.zeros((2, n), bufs.dtype)))
        slot = ((k + ps.uniform_delay) % d_len).astype(jnp.int32)
        zero = jnp.int32(0)
        lead = (jnp.asarray(b, jnp.int32),) if bufs.ndim == 4 else ()
        at, size = lead + (zero, slot, zero), (1,) * len(lead) + (2, 1, n)
        cur = lax.dynamic_slice(bufs, at, size)
        return lax.dynamic_update_slice(bufs, cur + acc.reshape(size), at)

    def body(carry):
        j, off, buf = carry
        start, left, w, c = visit(j, off)
        inside = lane < left
        tg = jnp.where(inside, lax.dynamic_slice(targets, (start,), (width,)), n)
        if ps.gains:
            w = w * lax.dynamic_index_in_dim(gain, pop_index[j], keepdims=False)[pop_padded[tg]]
        w = jnp.where(inside, w, 0)
        dl = lax.dynamic_slice(delays, (start,), (width,)).astype(jnp.int32)
        flat = ((b * 2 + c) * d_len + (k + dl) % d_len) * (n + 1) + tg
        buf = buf.reshape(-1).at[flat].add(w).reshape(buf.shape)
        more = left > width  # the row goes on past this segment
        return jnp.where(more, j, after(j)), jnp.where(more, off + width, 0), buf

    _, _, bufs = lax.while_loop(cond, body, (first, jnp.int32(0), bufs))
    return bufs


#: The fixed cost of one iteration of the event kernel's loop, in synaptic entries scattered
#: (measured on the 2-core CPU: about 2 us per iteration, about 14 ns per entry).
SEGMENT_OVERHEAD = 128


def segment_width(row_lengths, overhead: int = SEGMENT_OVERHEAD) -> int:
    """The segment width (entries per loop iteration, a multiple of 32 or the longest row) that
    minimises the event kernel's work over the rows, ``sum_rows max(1, ceil(L / w)) (overhead + w)``,
    every row weighted alike. Rows of equal length give their length; the Potjans-Diesmann rows
    (2,600 to 6,785 entries at full scale, 243 to 720 at 10 %) give 1,152 and 352."""
    lengths = np.asarray(row_lengths, np.int64)
    longest = int(lengths.max()) if lengths.size else 1
    if longest <= 32:
        return max(1, longest)
    counts = np.bincount(lengths)  # rows per length: the cost is a sum over distinct lengths
    present = np.flatnonzero(counts)
    widths = np.unique(np.concatenate([np.arange(32, longest, 32), [longest]]))
    iters = np.maximum(1, -(-present[None, :] // widths[:, None]))
    cost = (iters * (overhead + widths[:, None]) * counts[present][None, :]).sum(axis=1)
    return int(widths[np.argmin(cost)])


#: Bits per word of the spike bitmaps that :func:`spike_finder` searches.
WORD = 32


def spike_finder(s):
    """``(first, after)``: the smallest spiking index in ``s`` (0/1 floats, [N]; ``N`` if none) and a
    function giving the smallest spiking index above ``prev`` (``N`` if none).

    One O(N) pass per step packs the spikes into a bitmap of 32-bit words and, level above level, a
    bitmap of the non-empty words below (``ceil(log32 N)`` levels: 3 for the full microcircuit). A
    query is then scalar work: mask the bits up to ``prev`` in its word and take the lowest set bit;
    if none is left, find the next non-empty word one level up the same way and descend. No
    reduction over neurons per spike, which XLA:CPU would run as a sequence of small kernels.
    """
    spk = s > 0.5
    n = spk.shape[0]
    lane = lax.iota(jnp.uint32, WORD)
    levels, bits = [], spk
    while True:
        nw = -(-bits.shape[0] // WORD)
        padded = jnp.concatenate([bits, jnp.zeros(nw * WORD - bits.shape[0], bool)]).reshape(nw, WORD)
        words = jnp.sum(jnp.where(padded, jnp.uint32(1) << lane, jnp.uint32(0)), axis=1, dtype=jnp.uint32)
        levels.append(words)
        if nw == 1:
            break
        bits = words != 0

    def lowest_bit(word):
        return lax.population_count((word & (~word + jnp.uint32(1))) - jnp.uint32(1)).astype(jnp.int32)

    def next_set(level, q):
        """``(found, index)``: the smallest set position >= ``q`` of bitmap ``level``."""
        words = levels[level]
        nw = words.shape[0]
        w = q // WORD
        word = jnp.where(w < nw, words[jnp.minimum(w, nw - 1)], jnp.uint32(0))
        word = word & (jnp.uint32(0xFFFFFFFF) << (q % WORD).astype(jnp.uint32))
        here = word != 0
        if level + 1 == len(levels):
            return here, w * WORD + lowest_bit(word)
        up_found, w_up = next_set(level + 1, w + 1)  # the next non-empty word after w
        down = w_up * WORD + lowest_bit(words[jnp.minimum(w_up, nw - 1)])
        return here | up_found, jnp.where(here, w * WORD + lowest_bit(word), down)

    def after(prev):
        found, j = next_set(0, prev + 1)
        return jnp.where(found, j, n).astype(jnp.int32)  # a found bit is a spike: j < n

    return after(jnp.int32(-1)), after
