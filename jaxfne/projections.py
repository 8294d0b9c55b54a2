"""Vectorised samplers for connectivity rules between two populations.

Every sampler takes a :class:`numpy.random.Generator` (no global RNG), works in chunks of
``2**22`` numbers, and returns local indices ``0 .. n-1`` (the caller offsets them) as ``int32``
and weights/delays as ``float32`` unless told otherwise, so that the full-scale Potjans & Diesmann
(2014) microcircuit (77,169 neurons, ~3e8 synapses, :func:`estimate_bytes` ~3.9 GB) fits in memory.
Sparse rules never draw ``n_pre * n_post`` numbers: their work and memory are O(synapses).

Every invalid argument raises ``ValueError("<name>=<value> is not allowed: <what is allowed>")``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "estimate_bytes", "expected_total_number", "fixed_indegree", "fixed_total_number",
    "merge_by_pre", "normal_sign_kept", "pairwise_bernoulli", "sort_by_pre", "truncated_normal_delays",
]

_CHUNK = 1 << 22  # numbers per vectorised block (32 MiB of int64/float64)
_I32 = np.iinfo(np.int32).max


def _bad(name, value, allowed):
    return ValueError(f"{name}={value!r} is not allowed: {allowed}")


def _count(name, value, hi=_I32):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or not 0 <= value <= hi:
        raise _bad(name, value, f"an integer in [0, {hi}]")
    return int(value)


def _real(name, value, lo=-math.inf, hi=math.inf, what="a finite real number"):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise _bad(name, value, what) from None
    if isinstance(value, (bool, np.bool_)) or not (math.isfinite(v) and lo <= v <= hi):
        raise _bad(name, value, what)
    return v


def _rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise _bad("rng", rng, "a numpy.random.Generator, e.g. numpy.random.default_rng(seed)")
    return rng


def _float_dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise _bad("dtype", dtype, "a NumPy floating dtype such as numpy.float32") from None
    if dt.kind != "f":
        raise _bad("dtype", dtype, "a NumPy floating dtype such as numpy.float32")
    return dt


def _setup(rng, n_pre, n_post, autapses, same_population):
    """Validate the common arguments; return ``(rng, n_pre, n_post, exclude_diagonal)``."""
    rng, n_pre, n_post = _rng(rng), _count("n_pre", n_pre), _count("n_post", n_post)
    if same_population and n_pre != n_post:
        raise _bad("n_post", n_post, f"equal to n_pre={n_pre} when same_population=True")
    return rng, n_pre, n_post, bool(same_population and not autapses)


def pairwise_bernoulli(rng, n_pre, n_post, p, *, autapses=True, same_population=False):
    r"""Connect each (pre, post) pair independently with probability ``p`` (no multapses).

    The admissible pairs are enumerated pre-major, :math:`f = i\,M + j` with :math:`M` = ``n_post``
    candidates per row (:math:`M = n - 1` and :math:`j \mapsto j + [j \ge i]` when the diagonal is
    excluded, i.e. ``same_population=True, autapses=False``). The selected flat indices are the
    arrival points of a Bernoulli process, generated exactly by geometric skips
    :math:`f_{k+1} = f_k + G_k`, :math:`G_k \sim \mathrm{Geom}(p)` on :math:`\{1, 2, \dots\}`, so the
    cost is O(synapses) draws and the total is :math:`\mathrm{Binomial}(N_{pairs}, p)`.

    Returns
    -------
    pre, post : ndarray of int32
        Sorted by (pre, post), no duplicate pairs. Views of a buffer with ~8 SD (0.1 %) spare room.
    """
    rng, n_pre, n_post, skip = _setup(rng, n_pre, n_post, autapses, same_population)
    p = _real("p", p, 0.0, 1.0, "a probability in [0, 1]")
    row = n_post - 1 if skip else n_post
    total = n_pre * row  # python int: no overflow
    if p == 0.0 or total <= 0:
        return np.empty(0, np.int32), np.empty(0, np.int32)
    mean = total * p
    cap = min(total, int(mean + 8.0 * math.sqrt(mean * (1.0 - p)) + 64))
    pre, post = np.empty(cap, np.int32), np.empty(cap, np.int32)
    m, last = 0, -1  # synapses so far, last selected flat index
    while True:
        want = (total - 1 - last) * p
        size = min(_CHUNK, int(want + 6.0 * math.sqrt(want) + 64))
        f = rng.geometric(p, size)
        np.minimum(f, total, out=f)  # a gap >= total ends the process anyway (no int64 overflow)
        np.cumsum(f, out=f)
        f += last
        k = int(np.searchsorted(f, total))  # selected indices < total
        if m + k > cap:  # beyond 8 SD: practically never, kept for exactness
            cap = max(2 * cap, m + k)
            pre, post = (np.concatenate([a[:m], np.empty(cap - m, np.int32)]) for a in (pre, post))
        i, j = np.divmod(f[:k], row)
        if skip:
            j += j >= i
        pre[m:m + k], post[m:m + k] = i, j
        m += k
        if k < size:
            return pre[:m], post[:m]
        last = int(f[-1])


def _distinct_rows(rng, n, rows, k):
    """``rows`` independent uniform k-subsets of ``range(n)``, shape (rows, k), int32.

    ``k <= n/2``: draw with replacement, then redraw the surplus copies of each row until all are
    distinct; the step depends only on the multiset and commutes with relabelling, so the resulting
    set is exactly uniform. ``k > n/2``: keep the complement of a uniform (n - k)-subset.
    """
    out = np.empty((rows, k), np.int32)
    if 2 * k > n:
        block = max(1, _CHUNK // max(n, 1))
        for s in range(0, rows, block):
            b = min(block, rows - s)
            keep = np.ones((b, n), bool)
            keep[np.arange(b)[:, None], _distinct_rows(rng, n, b, n - k)] = False
            out[s:s + b] = np.nonzero(keep)[1].reshape(b, k)
        return out
    block = max(1, _CHUNK // max(k, 1))
    for s in range(0, rows, block):
        a = rng.integers(0, n, (min(block, rows - s), k), dtype=np.int32)
        active = np.arange(a.shape[0])
        while active.size:
            sub = np.sort(a[active], axis=1)
            dup = sub[:, 1:] == sub[:, :-1]
            sub[:, 1:][dup] = rng.integers(0, n, int(dup.sum()), dtype=np.int32)
            a[active] = sub
            active = active[dup.any(axis=1)]
        out[s:s + a.shape[0]] = a
    return out


def fixed_indegree(rng, n_pre, n_post, K, *, multapses=True, autapses=True, same_population=False):
    r"""Give every postsynaptic neuron exactly ``K`` uniformly drawn presynaptic partners.

    Without autapses in a population onto itself, partners are drawn from the :math:`n-1` others
    (:math:`r \mapsto r + [r \ge j]`). With ``multapses=False`` the ``K`` partners of a neuron are
    distinct (a uniform K-subset), which needs ``K <= n_pre`` (``n_pre - 1`` without autapses).

    Returns
    -------
    pre, post : ndarray of int32
        ``n_post * K`` synapses, grouped by post (``post == repeat(arange(n_post), K)``).
    """
    rng, n_pre, n_post, skip = _setup(rng, n_pre, n_post, autapses, same_population)
    K = _count("K", K)
    n_cand = n_pre - 1 if skip else n_pre
    if n_post and K and (K > n_cand if not multapses else n_cand == 0):
        allowed = f"<= {n_cand} distinct candidates" if not multapses else "0 when there are no candidates"
        raise _bad("K", K, f"{allowed} (n_pre={n_pre}, multapses={multapses}, autapses={autapses})")
    post = np.repeat(np.arange(n_post, dtype=np.int32), K)
    if multapses:
        pre = rng.integers(0, max(n_cand, 1), n_post * K, dtype=np.int32)
    else:
        pre = _distinct_rows(rng, n_cand, n_post, K).reshape(-1)
    if skip:
        pre += pre >= post
    return pre, post


def fixed_total_number(rng, n_pre, n_post, n_syn, *, autapses=True, same_population=False):
    """NEST's ``fixed_total_number`` with multapses: ``n_syn`` independent uniform (pre, post) pairs.

    Drawn grouped by the presynaptic neuron, without a sort: the number of synapses of each
    presynaptic neuron is multinomial (``n_syn`` trials, equal odds), which is the law of the
    presynaptic ends of ``n_syn`` independent uniform pairs, and each synapse's target is uniform
    and independent. Without autapses in a population onto itself the target of neuron ``i`` is
    uniform over the :math:`n - 1` others (:math:`j \\mapsto j + [j \\ge i]`), i.e. each synapse is
    uniform over the :math:`n(n-1)` off-diagonal pairs.

    Returns
    -------
    pre, post : ndarray of int32
        ``pre`` non-decreasing; the targets of one presynaptic neuron in draw order.
    """
    rng, n_pre, n_post, skip = _setup(rng, n_pre, n_post, autapses, same_population)
    n_syn = _count("n_syn", n_syn, hi=2**62)
    if n_syn and (n_pre == 0 or n_post == 0 or (skip and n_pre < 2)):
        raise _bad("n_syn", n_syn, f"0 when no admissible pair exists (n_pre={n_pre}, n_post={n_post})")
    if n_syn == 0:
        return np.empty(0, np.int32), np.empty(0, np.int32)
    counts = rng.multinomial(n_syn, np.full(n_pre, 1.0 / n_pre))
    pre = np.repeat(np.arange(n_pre, dtype=np.int32), counts)
    n_cand = n_post - 1 if skip else n_post
    post = np.empty(n_syn, np.int32)
    for s in range(0, n_syn, _CHUNK):
        e = min(n_syn, s + _CHUNK)
        j = rng.integers(0, n_cand, e - s, dtype=np.int32)
        if skip:
            j += j >= pre[s:e]
        post[s:e] = j
    return pre, post


def sort_by_pre(pre, post, *arrays):
    r"""Return ``(pre, post, *arrays)`` ordered by (pre, post), ties kept in input order (stable).

    The order is found by sorting one packed ``uint64`` key :math:`((i\,M + j)\,n + k)` in place
    (8 bytes per synapse, ~0.5 s for 3e7) when it fits in 64 bits, else by :func:`numpy.lexsort`.
    Already sorted input is returned as is (same objects).
    """
    pre, post = np.asarray(pre), np.asarray(post)
    n = pre.size
    if pre.ndim != 1 or post.shape != pre.shape:
        raise _bad("post", post.shape, f"a 1-D array with the shape of pre, {pre.shape}")
    for a_i, a in enumerate(arrays):
        if len(a) != n:
            raise _bad(f"arrays[{a_i}]", f"length {len(a)}", f"length {n} (that of pre)")
    if n < 2:
        return (pre, post, *arrays)
    if min(int(pre.min()), int(post.min())) < 0:
        raise _bad("pre/post", "negative index", "non-negative indices")
    span = int(post.max()) + 1
    if (int(pre.max()) + 1) * span * n < 2**64:
        key = np.empty(n, np.uint64)
        for s in range(0, n, _CHUNK):
            e = min(n, s + _CHUNK)
            k = pre[s:e].astype(np.uint64)
            k *= np.uint64(span)
            k += post[s:e].astype(np.uint64)
            k *= np.uint64(n)
            k += np.arange(s, e, dtype=np.uint64)
            key[s:e] = k
        if np.all(key[1:] > key[:-1]):
            return (pre, post, *arrays)
        key.sort()
        order = np.remainder(key, np.uint64(n), out=key).view(np.int64)
    else:
        order = np.lexsort((post, pre))
    return tuple(np.asarray(a)[order] for a in (pre, post, *arrays))


def merge_by_pre(n, parts):
    r"""Concatenate synapse tables and order them by presynaptic neuron, without a sort.

    ``parts`` is a sequence of tuples ``(pre, *arrays)`` of equal-length arrays over global neuron
    indices ``0 .. n-1``; each part must be grouped by pre (``pre`` non-decreasing; unsorted parts
    are stably sorted first). The result equals a stable sort by ``pre`` of the concatenation: within
    a presynaptic neuron, the synapses of earlier parts first, each part's in its own order. Each
    synapse is placed by a counting scatter, O(synapses); the parts are released as
    they are placed (pass a list and it is emptied).

    Returns
    -------
    pre : ndarray of int32, arrays... (dtypes kept), row_start : ndarray of int64, [n + 1]
    """
    parts = parts if isinstance(parts, list) else list(parts)
    if not parts:
        raise _bad("parts", parts, "at least one (pre, *arrays) part")
    counts = [np.bincount(np.asarray(p[0]), minlength=n).astype(np.int64) for p in parts]
    deg = np.sum(counts, axis=0)
    row_start = np.zeros(n + 1, np.int64)
    np.cumsum(deg, out=row_start[1:])
    total = int(row_start[-1])
    out = [np.empty(total, np.int32)] + [np.empty(total, np.asarray(a).dtype) for a in parts[0][1:]]
    offset = row_start[:-1].copy()  # next free slot of each row
    while parts:
        part = list(parts.pop(0))
        c = counts.pop(0)
        pre = np.asarray(part[0])
        if pre.size > 1 and np.any(pre[1:] < pre[:-1]):
            order = np.argsort(pre, kind="stable")
            part = [np.asarray(a)[order] for a in part]
            pre = part[0]
        first = np.zeros(n, np.int64)  # index of each neuron's first synapse in this part
        np.cumsum(c[:-1], out=first[1:])
        for s in range(0, pre.size, _CHUNK):
            e = min(pre.size, s + _CHUNK)
            p_ = pre[s:e]
            pos = offset[p_] + (np.arange(s, e) - first[p_])
            for o, a in zip(out, part):
                o[pos] = a[s:e]
        offset += c
        del part, pre
    return (*out, row_start)


def _fill_rejection(n, dtype, draw):
    """Fill ``n`` values from ``draw(m) -> (values, accepted)``, redrawing rejected entries."""
    out = np.empty(n, dtype)
    for s in range(0, n, _CHUNK):
        x, ok = draw(min(_CHUNK, n - s))
        bad = np.flatnonzero(~ok)
        while bad.size:
            y, ok = draw(bad.size)
            x[bad] = y
            bad = bad[~ok]
        out[s:s + x.size] = x
    return out


def normal_sign_kept(rng, n, mean, rel_sd, *, dtype=np.float32):
    r"""Weights :math:`w \sim \mathcal{N}(\mu, |\mu|\,\sigma_{rel})` redrawn until :math:`\mathrm{sign}\,w = \mathrm{sign}\,\mu`.

    This is the PD14 reference convention (``nest.math.redraw(nest.random.normal(mean=mu,
    std=abs(mu * rel_sd)), min=0.0, max=inf)`` for :math:`\mu > 0`, ``min=-inf, max=0.0`` for
    :math:`\mu < 0`; NEST keeps values with ``min <= w <= max``, so 0 is admissible). Units are those
    of ``mean`` (pA in PD14). ``mean == 0`` gives zeros; ``rel_sd == 0`` gives the constant ``mean``.
    """
    rng, n = _rng(rng), _count("n", n, hi=2**62)
    mean, rel_sd = _real("mean", mean), _real("rel_sd", rel_sd, 0.0, what="a finite real number >= 0")
    dtype, sd = _float_dtype(dtype), abs(mean) * rel_sd
    if mean == 0.0 or sd == 0.0:
        return np.full(n, mean, dtype)

    def draw(m):
        x = rng.normal(mean, sd, m)
        return x, (x >= 0.0) if mean > 0.0 else (x <= 0.0)

    return _fill_rejection(n, dtype, draw)


def truncated_normal_delays(rng, n, mean_ms, sd_ms, *, low_ms, dtype=np.float32):
    r"""Delays :math:`d \sim \mathcal{N}(\mu, \sigma)` in ms, redrawn while :math:`d < d_{low}` (e.g. dt).

    Exact for any cut: :math:`a = (d_{low} - \mu)/\sigma < 0.5` uses plain redraws (acceptance
    :math:`\ge 0.31`), a farther tail Robert's (1995) exponential proposal. After rounding to
    ``dtype`` every delay is :math:`\ge d_{low}`. ``sd_ms == 0`` gives the constant
    :math:`\max(\mu, d_{low})`. (PD14: ``redraw(normal(mean=d, std=0.5 d), min=dt, max=inf)``.)
    """
    rng, n, dtype = _rng(rng), _count("n", n, hi=2**62), _float_dtype(dtype)
    mean, low = _real("mean_ms", mean_ms), _real("low_ms", low_ms)
    sd = _real("sd_ms", sd_ms, 0.0, what="a finite real number >= 0 (ms)")
    a = (low - mean) / sd if sd > 0.0 else 0.0
    alpha = 0.5 * (a + math.sqrt(a * a + 4.0))

    def draw(m):
        if a < 0.5:
            x = rng.normal(mean, sd, m)
            return x, x >= low
        z = a + rng.standard_exponential(m) / alpha  # accepted with probability exp(-(z - alpha)^2/2)
        return mean + sd * z, rng.random(m) <= np.exp(-0.5 * (z - alpha) ** 2)

    out = np.full(n, max(mean, low), dtype) if sd == 0.0 else _fill_rejection(n, dtype, draw)
    low_c = dtype.type(low)
    if low_c < low:  # float rounding must not push a delay below low_ms
        low_c = np.nextafter(low_c, dtype.type(np.inf))
    return np.maximum(out, low_c, out=out)


def expected_total_number(p, n_pre, n_post, *, exact=False):
    r"""PD14 total synapse number for connection probability :math:`C` between two populations.

    .. math:: K = \mathrm{round}\!\left(\frac{\ln(1 - C)}{\ln(1 - 1/(N_{pre} N_{post}))}\right),

    evaluated as the PD14 reference does (``helpers.num_synapses_from_conn_probs``:
    ``np.log(1 - C) / np.log((prod - 1) / prod)``, then ``np.round``, half to even, in
    ``network.py``), which is what NEST's ``fixed_total_number`` receives. The reference's
    ``(prod - 1)/prod`` loses ~1e-8 relative accuracy at full scale (L2/3E->L2/3E: 45499804.89
    -> 45,499,805, true value 45499805.54); ``exact=True`` uses ``log1p`` (-> 45,499,806).
    ``C == 0`` gives 0.
    """
    C = _real("p", p, 0.0, 1.0 - 1e-16, "a probability in [0, 1)")
    n_pre, n_post = _count("n_pre", n_pre), _count("n_post", n_post)
    if C == 0.0:
        return 0
    prod = float(n_pre) * float(n_post)
    if prod < 2:
        raise _bad("n_pre*n_post", n_pre * n_post, ">= 2 when p > 0")
    if exact:
        return int(np.round(math.log1p(-C) / math.log1p(-1.0 / prod)))
    return int(np.round(np.log(1.0 - C) / np.log((prod - 1.0) / prod)))


def estimate_bytes(n_syn, index_dtype=np.int32, weight_dtype=np.float32, delay_dtype=np.uint8):
    """Bytes of a synapse table (pre, post, weight, delay) of ``n_syn`` rows.

    ``n_syn * (2 * itemsize(index) + itemsize(weight) + itemsize(delay))``: 13 B per synapse by
    default, ~3.9 GB for the full-scale PD14 microcircuit (3e8 synapses).
    """
    n_syn = _count("n_syn", n_syn, hi=2**62)
    sizes = []
    for name, dt in (("index_dtype", index_dtype), ("weight_dtype", weight_dtype), ("delay_dtype", delay_dtype)):
        try:
            sizes.append(np.dtype(dt).itemsize)
        except TypeError:
            raise _bad(name, dt, "a NumPy dtype") from None
    return n_syn * (2 * sizes[0] + sizes[1] + sizes[2])
