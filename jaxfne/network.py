"""Connectivity: turn the connectivity spec into synapse arrays (COO, then padded out-rows).

The one place random connectivity is drawn. Weights are in the emitter's current units (Izhikevich:
mV/ms = pA/pF) before ``weight_scale``, which stays a parameter leaf so it can be swept or
differentiated without a rebuild. Delays are stored in ms and turned into steps when the step is known.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .config import schema as S
from .errors import ConfigurationError
from .populations import NeuronTable

__all__ = ["Synapses", "build_synapses", "resolve_connectivity"]


def aligned_empty(n: int, dtype, align: int = 64) -> np.ndarray:
    """An uninitialised 1-D array of ``n`` elements whose data starts on an ``align``-byte boundary
    (what XLA's CPU client needs to share a NumPy buffer instead of copying it)."""
    dtype = np.dtype(dtype)
    raw = np.empty(n * dtype.itemsize + align, np.uint8)
    off = (-raw.ctypes.data) % align
    return raw[off:off + n * dtype.itemsize].view(dtype)


def _extended(values: np.ndarray, size: int, dtype: np.dtype) -> np.ndarray | None:
    """``values`` extended to ``size`` elements within the memory that owns it (a view), or ``None``
    where that memory ends sooner or the types differ."""
    owner = values.base
    if (not isinstance(owner, np.ndarray) or values.dtype != dtype or values.ndim != 1
            or not values.flags.c_contiguous or not owner.flags.c_contiguous):
        return None
    start = values.ctypes.data - owner.ctypes.data
    if start < 0 or start + size * dtype.itemsize > owner.nbytes:
        return None
    out = np.ndarray(size, dtype, buffer=owner, offset=start)
    if not values.flags.writeable:
        out.flags.writeable = False
    return out


#: Entries per sub-block of the vectorised passes over a large synapse table (2 MiB of float64): their
#: temporaries stay in the cache and in the allocator's heap, where a temporary of a whole 2^22 chunk
#: was a fresh, page-faulted mapping each time.
_SUB = 1 << 18


def _workers() -> int:
    """Threads for drawing and converting large synapse tables (NumPy releases the GIL in them)."""
    return max(1, min(8, os.cpu_count() or 1))


class Synapses:
    """Synapses as coordinate lists, sorted by presynaptic neuron (immutable).

    Attributes
    ----------
    pre, post : ndarray of int32, [synapse]
        ``pre`` may be given as ``None`` with ``row_start``: it is then derived from the row offsets
        when first read (the full-scale microcircuit's table does not keep 1.1 GB of it otherwise).
    weight : ndarray of float, [synapse]
        Before ``weight_scale``; excitatory >= 0, inhibitory <= 0. float64, or the model's dtype for
        population-pair projections (float32 keeps a full-scale microcircuit in memory).
    delay_ms : ndarray of float, [synapse]
        Transmission delay; the effective delay is ``max(1, round(delay_ms / dt))`` steps.
    synapse : {"exponential", "delta"}
    tau_ms : dict
        Decay time of the excitatory and inhibitory synaptic currents (exponential synapses).
    n_targets : int or None
        Number of neurons ``post`` indexes when the rows are not the network's own neurons (a
        spike-source population's ``n`` sources onto the network's neurons); ``None``: ``n``.
    row_start : ndarray of int64, [n + 1], optional
        The row offsets when the builder knows them (else counted from ``pre``).
    """

    def __init__(self, n: int, pre: np.ndarray | None, post: np.ndarray, weight: np.ndarray, delay_ms: np.ndarray,
                 synapse: str, tau_ms: dict, n_targets: int | None = None, row_start: np.ndarray | None = None):
        if pre is None and row_start is None:
            raise ValueError("Synapses needs pre or row_start")
        for name, value in (("n", int(n)), ("_pre", pre), ("post", post), ("weight", weight), ("delay_ms", delay_ms),
                            ("synapse", synapse), ("tau_ms", tau_ms), ("n_targets", n_targets)):
            object.__setattr__(self, name, value)
        if row_start is not None:
            self.__dict__["row_start"] = row_start

    def __setattr__(self, name, value):
        raise AttributeError(f"Synapses is immutable (cannot set {name!r})")

    def __repr__(self) -> str:
        return f"Synapses(n={self.n}, count={self.count}, synapse={self.synapse!r})"

    @functools.cached_property
    def pre(self) -> np.ndarray:
        """Presynaptic neuron of every synapse (int32), derived from the row offsets when not given."""
        if self._pre is not None:
            return self._pre
        return np.repeat(np.arange(self.n, dtype=np.int32), np.diff(self.row_start))

    @property
    def count(self) -> int:
        return int(self.post.shape[0])

    def out_degree(self) -> np.ndarray:
        return np.diff(self.row_start).astype(np.int32)

    def delay_steps(self, dt_ms: float, dtype=np.int32) -> np.ndarray:
        """Delays in steps of ``dt_ms``, ``max(1, round(delay / dt))``, as ``dtype``."""
        out = np.empty(self.count, dtype)
        self._steps_into(out, dt_ms)
        return out

    def _steps_into(self, out: np.ndarray, dt_ms: float) -> None:
        def block(s):  # in blocks (no float64 copy of a large table), spread over the cores
            for a in range(s, min(self.count, s + (1 << 22)), _SUB):  # temporaries that stay in the cache
                b = min(self.count, a + _SUB)
                out[a:b] = np.maximum(1, np.rint(self.delay_ms[a:b].astype(np.float64) / dt_ms))

        starts = range(0, self.count, 1 << 22)
        if len(starts) <= 1:  # a small table: no threads to start
            for s in starts:
                block(s)
            return
        with ThreadPoolExecutor(max_workers=_workers()) as pool:
            list(pool.map(block, starts))

    def max_delay_steps(self, dt_ms: float) -> int:
        """The longest delay in steps of ``dt_ms`` (1 without synapses)."""
        return max(1, int(np.rint(float(np.max(self.delay_ms)) / dt_ms))) if self.count else 1

    @functools.cached_property
    def row_start(self) -> np.ndarray:
        """``row_start[N + 1]`` (int64): the synapses of neuron ``i`` are ``row_start[i]:row_start[i + 1]``."""
        out = np.zeros(self.n + 1, np.int64)
        if self.count:
            np.cumsum(np.bincount(self.pre, minlength=self.n), out=out[1:])
        return out

    @property
    def row_width(self) -> int:
        """The largest out-degree (at least 1): the window the event kernels read per spike."""
        return max(1, int(np.max(np.diff(self.row_start))) if self.n else 1)

    def _padded(self, values: np.ndarray, fill, dtype) -> np.ndarray:
        """``values`` in row order followed by ``row_width`` fill values, so that every row's window
        ``[row_start[i], row_start[i] + row_width)`` lies inside the array. When ``values`` is the front
        of such an array already (the builder allocates the padding), that array, filled, not a copy
        (read-only once a device array shares it: its padding is then filled already)."""
        k = self.row_width
        whole = _extended(values, self.count + k, np.dtype(dtype))
        if whole is not None:
            pad = whole[self.count:]
            if pad.flags.writeable:
                pad[...] = fill
            if np.all(pad == fill):
                return whole
        out = aligned_empty(self.count + k, dtype)
        out[:self.count] = values
        out[self.count:] = fill
        return out

    def flat_targets(self) -> np.ndarray:
        """Targets in row order, int32, then ``row_width`` padding entries ``N`` (the number of targets)."""
        return self._padded(self.post, self.n if self.n_targets is None else self.n_targets, np.int32)

    def flat_weights(self, dtype=None) -> np.ndarray:
        """Weights in row order (``dtype``, default that of :attr:`weight`), then ``row_width`` zeros."""
        return self._padded(self.weight, 0, self.weight.dtype if dtype is None else dtype)

    def flat_delays(self, dt_ms: float) -> np.ndarray:
        """Delays in steps of ``dt_ms`` in row order, in the smallest unsigned type that holds them
        (uint8 up to 255 steps), then ``row_width`` ones."""
        top = self.max_delay_steps(dt_ms)
        dtype = np.uint8 if top <= np.iinfo(np.uint8).max else np.uint16 if top <= np.iinfo(np.uint16).max else np.int32
        out = np.ones(self.count + self.row_width, dtype)
        self._steps_into(out, dt_ms)
        return out

    def to_dense(self, dt_ms: float) -> tuple[np.ndarray, np.ndarray]:
        """Dense ``W[pre, post]`` and delays ``D[pre, post]`` (steps); multapses are summed."""
        w = np.zeros((self.n, self.n))
        d = np.ones((self.n, self.n), np.int32)
        np.add.at(w, (self.pre, self.post), self.weight)
        d[self.pre, self.post] = self.delay_steps(dt_ms)
        return w, d

    def has_multapse_delays(self) -> bool:
        """Some (pre, post) pair has synapses with different delays (a dense matrix cannot hold them)."""
        if self.count < 2 or self.is_uniform_delay():
            return False
        key = self.pre.astype(np.int64) * self.n + self.post
        order = np.lexsort((self.delay_ms, key))
        k, d = key[order], self.delay_ms[order]
        return bool(np.any((k[1:] == k[:-1]) & (d[1:] != d[:-1])))

    def is_uniform_delay(self) -> bool:
        return self.count == 0 or bool(np.all(self.delay_ms == self.delay_ms[0]))


def resolve_connectivity(spec: dict, preset_rule: str | None, table: NeuronTable, dt_ms: float) -> dict:
    """Fill in ``rule="auto"`` (``fixed_indegree`` when an in-degree is given, else the preset's
    published rule, else the sparse default) and check the population keys of ``p`` and
    ``projections`` against the populations of ``table``.

    Projection delays are redrawn below half the configuration's step ``dt_ms`` and then rounded to
    at least one step, as in the Potjans & Diesmann (2014) reference (``nest.math.redraw(...,
    min=resolution - 0.5 * resolution)``, NEST rounding a delay to the grid).
    """
    c = dict(S.CONNECTIVITY_DEFAULTS)
    c.update(spec)
    c["delay_floor_ms"] = 0.5 * float(dt_ms)
    if c["rule"] == "auto":  # an in-degree asks for fixed in-degrees; else the preset's rule
        c["rule"] = "fixed_indegree" if c["indegree"] is not None else preset_rule or "pairwise_bernoulli"
    if c["rule"] == "izhikevich2003":
        c["synapse"] = "delta"
        c["delay_ms"] = 0.0
        c["autapses"] = True
    if isinstance(c["p"], dict):
        _check_pair_keys("connectivity.p", c["p"], table, types_allowed=True)
    if c["projections"] is not None:
        _check_pair_keys("connectivity.projections", c["projections"], table, types_allowed=False)
    return c


def _short(pop: str) -> str:
    """``"V1:L4E"`` -> ``"L4E"``."""
    return pop.split(":", 1)[1]


def _pair_forms(pre_pop: str, post_pop: str, types_allowed: bool) -> tuple[str, ...]:
    forms = (f"{pre_pop}->{post_pop}", f"{_short(pre_pop)}->{_short(post_pop)}")
    return forms + ((f"{pre_pop[-1]}->{post_pop[-1]}",) if types_allowed else ())


def _check_pair_keys(field: str, table_map: dict, table: NeuronTable, *, types_allowed: bool) -> None:
    """Every key names a pair of existing populations (of one column), so a typo is never a default."""
    pops = table.populations
    same_column = [(a, b) for a in pops for b in pops if a.split(":", 1)[0] == b.split(":", 1)[0]]
    known = {f for a, b in same_column for f in _pair_forms(a, b, types_allowed)}
    if types_allowed:  # a cell-type pair is a pair of the model's vocabulary even where a type is absent
        known |= {f"{a}->{b}" for a in "EI" for b in "EI"}
    for key in table_map:
        if key not in known:
            names = sorted({_short(p) for p in pops}) + (["E", "I"] if types_allowed else [])
            raise ConfigurationError(f"{field}.{key}", table_map[key],
                                     "a PRE->POST key of existing populations (" + ", ".join(names)
                                     + ", or COLUMN:POPULATION)")


def _pair_value(table, pre_pop: str, post_pop: str, field: str, default_table: dict):
    """Look up PRE->POST in a map keyed by full population, layer+type, or cell type."""
    if isinstance(table, (int, float)):
        return float(table)
    def short(p):  # "V1:L4E" -> "L4E"
        return p.split(":", 1)[1]
    for key in (f"{pre_pop}->{post_pop}", f"{short(pre_pop)}->{short(post_pop)}",
                f"{pre_pop[-1]}->{post_pop[-1]}"):
        if key in table:
            return float(table[key])
    key = f"{pre_pop[-1]}->{post_pop[-1]}"
    if key in default_table:
        return float(default_table[key])
    raise ConfigurationError(f"{field}.{key}", None, "a value for every pre->post pair")


def _per_type(value, t: str) -> float:
    return float(value[t]) if isinstance(value, dict) else float(value)


def _draw_weights(rng, n: int, mean: float, dist: str, rel_sd: float) -> np.ndarray:
    sign = 1.0 if mean >= 0 else -1.0
    m = abs(mean)
    if dist == "constant" or m == 0:
        w = np.full(n, m)
    elif dist == "normal":
        w = np.abs(rng.normal(m, rel_sd * m, n))  # sign kept (Dale's law): reflect negatives
    elif dist == "lognormal":
        s2 = np.log1p(rel_sd**2)
        w = rng.lognormal(np.log(m) - s2 / 2, np.sqrt(s2), n)
    else:  # uniform with the given mean and relative SD
        half = np.sqrt(3.0) * rel_sd * m
        w = np.abs(rng.uniform(m - half, m + half, n))
    return sign * w


def _draw_delays(rng, n: int, mean: float, dist: str, rel_sd: float) -> np.ndarray:
    if dist == "constant" or rel_sd == 0 or mean == 0:
        return np.full(n, mean)
    if dist == "normal":
        d = rng.normal(mean, rel_sd * mean, n)
    else:
        half = np.sqrt(3.0) * rel_sd * mean
        d = rng.uniform(mean - half, mean + half, n)
    return np.maximum(d, 0.0)  # below one step is rounded up to one step when dt is known


#: Bytes a synapse takes while the network is built: the coordinate table (int32 pre/post, float64
#: weight and delay), its sorted copy and the padded out-rows of the event kernel.
BYTES_PER_SYNAPSE = 64

#: The same for population-pair projections in float32 (int32 pre/post and float32 weight/delay on the
#: host, one population's blocks while they are placed, int32 targets + float32 weights + uint8 delays
#: for the event kernel): 32 B, about 9.6 GB for the full-scale microcircuit.
BYTES_PER_PROJECTION_SYNAPSE = 32


def _is_projection_table(conn: dict) -> bool:
    """The recurrent synapses are population-pair projections alone (built by :func:`_projection_table`)."""
    return bool(conn["recurrent"]) and conn["projections"] is not None and conn["inter_column"] is None


def bytes_per_synapse(conn: dict, dtype: str) -> int:
    """Bytes per synapse while a network of ``conn`` is built (see the constants above)."""
    if _is_projection_table(conn):
        return BYTES_PER_PROJECTION_SYNAPSE + (12 if dtype == "float64" else 0)
    return BYTES_PER_SYNAPSE


def expected_synapses(table: NeuronTable, conn: dict) -> dict[str, float]:
    """Expected number of synapses per configuration field that drives it (before anything is drawn)."""
    out: dict[str, float] = {}

    def add(field: str, k: float) -> None:
        out[field] = out.get(field, 0.0) + float(k)

    cols = list(dict.fromkeys(table.column.tolist()))
    if conn["recurrent"]:
        for col in cols:
            idx = np.flatnonzero(table.column == col)
            pops = list(dict.fromkeys(table.population[idx].tolist()))
            size = {p: int(np.sum(table.population[idx] == p)) for p in pops}
            for a in pops:
                for b in pops:
                    if conn["projections"] is not None:
                        pj = _projection_of(conn["projections"], a, b)
                        if pj is None:
                            continue
                        pj = {**S.PROJECTION_DEFAULTS, **pj}
                        k = {"pairwise_bernoulli": lambda: pj["p"] * size[a] * size[b],
                             "fixed_indegree": lambda: pj["K"] * size[b],
                             "fixed_total_number": lambda: pj["N_syn"]}[pj["rule"]]()
                        add(f"connectivity.projections.{_short(a)}->{_short(b)}", k)
                    elif conn["rule"] == "izhikevich2003":
                        add("column.n", size[a] * size[b])
                    elif conn["rule"] == "fixed_indegree":
                        add("connectivity.indegree", int(conn["indegree"].get(a[-1], 0)) * size[b])
                    else:
                        p = _pair_value(conn["p"], a, b, "connectivity.p", S.CONNECTIVITY_DEFAULTS["p"])
                        add("connectivity.p", p * size[a] * size[b])
    if conn["inter_column"] is not None:
        ic = {**S.INTER_COLUMN_DEFAULTS, **conn["inter_column"]}
        for a in cols:
            src = np.sum((table.column == a) & np.isin(table.cell_type, ic["types"]))
            add("connectivity.inter_column.p", ic["p"] * src * np.sum(table.column != a))
    return out


def build_synapses(table: NeuronTable, conn: dict, rng: np.random.Generator, *, dtype: str = "float64") -> Synapses:
    """Draw the synapses of ``conn`` (a resolved connectivity dict) for the neurons of ``table``.

    Population-pair projections are drawn grouped by presynaptic neuron and placed in row order by a
    counting scatter (no sort), with weights and delays in ``dtype``; the other rules keep float64 and
    the (pre, post) order of a stable sort.
    """
    n = table.n
    tau = {"E": _per_type(conn["tau_syn_ms"], "E"), "I": _per_type(conn["tau_syn_ms"], "I")}
    if _is_projection_table(conn):
        return _projection_table(table, conn, rng, np.dtype(dtype), tau)
    pres, posts, ws, ds = [], [], [], []
    if conn["recurrent"]:
        for col in dict.fromkeys(table.column.tolist()):
            idx = np.flatnonzero(table.column == col)
            if conn["projections"] is not None:
                parts = []
                for pre_pop in dict.fromkeys(table.population[idx].tolist()):
                    _projections(table, conn, rng, idx, pre_pop, parts, np.dtype(np.float64))
                for a, b, w, d in parts:
                    pres.append(a); posts.append(b); ws.append(w); ds.append(d)
                continue
            if conn["rule"] == "izhikevich2003":
                from .presets import cortical_eig

                w = cortical_eig.weights(table.is_exc[idx], idx.size, rng)
                pre, post = np.meshgrid(idx, idx, indexing="ij")
                pres.append(pre.ravel()); posts.append(post.ravel()); ws.append(w.ravel())
                ds.append(np.zeros(w.size))
                continue
            _within_column(table, conn, rng, idx, pres, posts, ws, ds)
    if conn["inter_column"] is not None:
        _between_columns(table, conn, rng, pres, posts, ws, ds)
    if pres:
        pre = np.concatenate(pres).astype(np.int32)
        post = np.concatenate(posts).astype(np.int32)
        w = np.concatenate(ws) * 1.0
        d = np.concatenate(ds) * 1.0
    else:
        pre = post = np.zeros(0, np.int32)
        w = d = np.zeros(0)
    from .projections import sort_by_pre

    pre, post, w, d = sort_by_pre(pre, post, w, d)  # stable: the order of np.lexsort((post, pre))
    return Synapses(n=n, pre=pre, post=post, weight=w, delay_ms=d, synapse=conn["synapse"], tau_ms=tau)


#: Up to this many candidate pairs, a Bernoulli rule draws one uniform per pair (the instances that
#: the golden checksums pin); above, it skips geometrically over the pairs and draws per synapse.
DENSE_PAIRS_MAX = 2**22


def _bernoulli_pairs(rng, n_pre: int, n_post: int, p: float):
    """Indices ``(pre, post)`` of the pairs kept with probability ``p``, sorted by pre then post."""
    if n_pre * n_post <= DENSE_PAIRS_MAX:
        return np.nonzero(rng.random((n_pre, n_post)) < p)
    from .projections import pairwise_bernoulli

    return pairwise_bernoulli(rng, n_pre, n_post, p)


def _within_column(table, conn, rng, idx, pres, posts, ws, ds):
    pops = list(dict.fromkeys(table.population[idx].tolist()))
    members = {p: idx[table.population[idx] == p] for p in pops}
    if conn["rule"] == "fixed_indegree":
        _fixed_indegree_within(table, conn, rng, idx, members, pres, posts, ws, ds)
        return
    for pre_pop in pops:
        t_pre = pre_pop[-1]
        w_mean, d_mean = _type_weight(conn, t_pre), _per_type(conn["delay_ms"], t_pre)
        for post_pop in pops:
            src, dst = members[pre_pop], members[post_pop]
            p = _pair_value(conn["p"], pre_pop, post_pop, "connectivity.p", S.CONNECTIVITY_DEFAULTS["p"])
            pi, qi = _bernoulli_pairs(rng, src.size, dst.size, p)
            pre, post = src[pi], dst[qi]
            if not conn["autapses"]:
                keep = pre != post
                pre, post = pre[keep], post[keep]
            pres.append(pre); posts.append(post)
            ws.append(_draw_weights(rng, pre.size, w_mean, conn["weight_distribution"], conn["weight_rel_sd"]))
            ds.append(_draw_delays(rng, pre.size, d_mean, conn["delay_distribution"], conn["delay_rel_sd"]))


def _type_weight(conn, t_pre: str) -> float:
    return _per_type(conn["weights"], t_pre) if t_pre in conn["weights"] else S.CONNECTIVITY_DEFAULTS["weights"][t_pre]


def _fixed_indegree_within(table, conn, rng, idx, members, pres, posts, ws, ds):
    """``indegree={"E": K_E, "I": K_I}``: every neuron of the column receives exactly ``K_t`` inputs
    from the column's neurons of type ``t`` (all its layers), drawn uniformly, distinct partners
    where there are enough candidates (else with multapses), never itself unless ``autapses``."""
    from .projections import fixed_indegree

    types = table.cell_type[idx]
    for t_pre in dict.fromkeys(types.tolist()):
        k = int(conn["indegree"].get(t_pre, 0))
        src = idx[types == t_pre]  # sorted neuron indices
        if k == 0:
            continue
        w_mean, d_mean = _type_weight(conn, t_pre), _per_type(conn["delay_ms"], t_pre)
        for dst in members.values():
            skip = table.cell_type[dst[0]] == t_pre and not conn["autapses"]  # each target is a candidate
            n_cand = src.size - 1 if skip else src.size
            if n_cand == 0:
                continue
            r, q = fixed_indegree(rng, n_cand, dst.size, k, multapses=n_cand < k)
            if skip:
                r = r + (r >= np.searchsorted(src, dst)[q])  # the candidates other than the target itself
            pre, post = src[r], dst[q]
            pres.append(pre); posts.append(post)
            ws.append(_draw_weights(rng, pre.size, w_mean, conn["weight_distribution"], conn["weight_rel_sd"]))
            ds.append(_draw_delays(rng, pre.size, d_mean, conn["delay_distribution"], conn["delay_rel_sd"]))


def _projection_of(projections: dict, pre_pop: str, post_pop: str) -> dict | None:
    for key in _pair_forms(pre_pop, post_pop, types_allowed=False):
        if key in projections:
            return projections[key]
    return None


def _projection_table(table, conn, rng, dtype, tau) -> Synapses:
    """The synapses of ``connectivity(projections=...)`` in row order, built one presynaptic population
    at a time: its projections are drawn grouped by presynaptic neuron and placed by a counting scatter
    (:func:`~jaxfne.projections.merge_by_pre`, no sort); the blocks are then copied into one table and
    released one by one, so the peak stays near one table plus one population's synapses."""
    from .projections import merge_by_pre

    fast = _fixed_total_rows(table, conn, rng, dtype, tau)
    if fast is not None:
        return fast
    n = table.n
    blocks, deg = [], np.zeros(n, np.int64)
    for col in dict.fromkeys(table.column.tolist()):
        idx = np.flatnonzero(table.column == col)
        for pre_pop in dict.fromkeys(table.population[idx].tolist()):
            parts: list = []
            _projections(table, conn, rng, idx, pre_pop, parts, dtype)
            if parts:
                *block, row_start = merge_by_pre(n, parts)
                deg += np.diff(row_start)
                blocks.append(block)
    total = int(deg.sum())
    out = [np.empty(total, np.int32), np.empty(total, np.int32), np.empty(total, dtype), np.empty(total, dtype)]
    at = 0
    while blocks:
        block = blocks.pop(0)
        m = block[0].size
        if m and at and block[0][0] < out[0][at - 1]:
            raise AssertionError("projection blocks out of presynaptic order")
        for o, a in zip(out, block):
            o[at:at + m] = a
        at += m
        del block
    return Synapses(n=n, pre=out[0], post=out[1], weight=out[2], delay_ms=out[3], synapse=conn["synapse"], tau_ms=tau,
                    row_start=_row_offsets(deg))


def _row_offsets(deg: np.ndarray) -> np.ndarray:
    """Row offsets ``[N + 1]`` (int64) of out-degrees ``deg``."""
    row_start = np.zeros(deg.size + 1, np.int64)
    np.cumsum(deg, out=row_start[1:])
    return row_start


def _fixed_total_rows(table, conn, rng, dtype, tau) -> Synapses | None:
    """All projections ``fixed_total_number`` (the Potjans-Diesmann case): the table drawn directly in
    row order, without a scatter, sort or copy, or ``None`` when another rule is present.

    Per presynaptic population, the synapse counts of each neuron onto each postsynaptic population are
    multinomial (as :func:`~jaxfne.projections.fixed_total_number`); a row is its counts' segments in
    postsynaptic population order, labelled by a one-byte projection index, and every synapse's target,
    weight and delay is then drawn for its label in one vectorised pass (targets uniform, without the
    neuron itself onto its own population when autapses are off; weights normal with the sign kept and
    delays normal redrawn below ``delay_floor_ms``, as :func:`~jaxfne.projections.normal_sign_kept` and
    :func:`~jaxfne.projections.truncated_normal_delays`).
    """
    n, low = table.n, float(conn["delay_floor_ms"])
    plans = []
    for col in dict.fromkeys(table.column.tolist()):
        idx = np.flatnonzero(table.column == col)
        pops = list(dict.fromkeys(table.population[idx].tolist()))
        members = {p: idx[table.population[idx] == p] for p in pops}
        if any(m[-1] - m[0] + 1 != m.size for m in members.values()):
            return None
        for pre_pop in pops:
            projs = []
            for post_pop in pops:
                pj = _projection_of(conn["projections"], pre_pop, post_pop)
                if pj is None:
                    continue
                pj = {**S.PROJECTION_DEFAULTS, **pj}
                if pj["rule"] != "fixed_total_number" or (pj["delay_sd_ms"] > 0 and
                                                          (low - pj["delay_ms"]) / pj["delay_sd_ms"] >= 0.5):
                    return None
                projs.append((members[post_pop], pj, pre_pop == post_pop and not conn["autapses"]))
            if projs:
                plans.append((members[pre_pop], projs))
    from . import projections as rules

    counts = [np.stack([rng.multinomial(int(pj["N_syn"]), np.full(src.size, 1.0 / src.size)) if pj["N_syn"]
                        else np.zeros(src.size, np.int64) for _, pj, _ in projs], axis=1)  # [pre, projection]
              for src, projs in plans]
    deg = np.zeros(n, np.int64)
    for (src, _), c in zip(plans, counts):
        deg[src] = c.sum(axis=1)
    total, width = int(deg.sum()), max(1, int(deg.max()) if n else 1)
    # targets and weights with the event kernels' padding behind them (Synapses.flat_* fill it, no copy),
    # aligned so that the CPU device arrays can share their memory (model_build.shared_device_array);
    # no array of presynaptic indices: the rows' offsets define them
    post = aligned_empty(total + width, np.int32)[:total]
    weight = aligned_empty(total + width, dtype)[:total]
    delay = np.empty(total, dtype)
    draw_dtype = weight.dtype  # runtime.dtype, float32 or float64: the draws are written into the table in place
    at = 0
    for (src, projs), c in zip(plans, counts):
        rows = c.sum(axis=1)
        m = int(rows.sum())
        row_end = np.cumsum(rows)
        label = np.repeat(np.tile(np.arange(len(projs), dtype=np.int8), src.size), c.ravel())
        first = np.array([d[0] for d, _, _ in projs], np.int64)
        n_cand = np.array([d.size - (1 if skip else 0) for d, _, skip in projs], np.int64)
        skip = np.array([s_ for _, _, s_ in projs])
        w_mean = np.array([pj["weight"] for _, pj, _ in projs], draw_dtype)
        w_sd = np.abs(w_mean) * np.array([pj["weight_rel_sd"] for _, pj, _ in projs], draw_dtype)
        d_mean = np.array([pj["delay_ms"] for _, pj, _ in projs], draw_dtype)
        d_sd = np.array([pj["delay_sd_ms"] for _, pj, _ in projs], draw_dtype)
        positive, spread = w_mean > 0, d_sd > 0

        seeds = np.random.SeedSequence(int(rng.integers(2**63))).spawn(-(-m // rules._CHUNK))

        def draw(s0, base=at, seeds=seeds, label=label, m=m, src=src, row_end=row_end):
            """Targets, weights and delays of synapses ``s0 .. s0 + CHUNK`` of this block, from the
            chunk's own generator (so the table does not depend on how chunks are spread over threads),
            written into the table in sub-blocks of ``_SUB`` synapses: the same stream of numbers as
            one draw per chunk, with temporaries that stay in the cache and in the allocator's heap
            (a chunk-sized temporary is a fresh, page-faulted mapping every time)."""
            g = np.random.default_rng(seeds[s0 // rules._CHUNK])
            e0 = min(m, s0 + rules._CHUNK)
            for a in range(s0, e0, _SUB):  # targets: the chunk's uniforms, in order
                b = min(e0, a + _SUB)
                lab = label[a:b].astype(np.intp)
                nc = n_cand[lab]
                j = np.minimum((g.random(b - a) * nc).astype(np.int64), nc - 1)
                if skip.any():
                    own = skip[lab]
                    pre = src[np.searchsorted(row_end, np.arange(a, b), side="right")]
                    j[own] += j[own] >= (pre[own] - first[lab[own]])
                j += first[lab]
                post[base + a:base + b] = j
            _draw_kept_into(weight[base + s0:base + e0], g, label[s0:e0], w_mean, w_sd,
                            lambda x, lb: np.where(positive[lb], x < 0, x > 0))
            _draw_kept_into(delay[base + s0:base + e0], g, label[s0:e0], d_mean, d_sd,
                            lambda x, lb: (x < low) & spread[lb])

        with ThreadPoolExecutor(max_workers=_workers()) as pool:
            list(pool.map(draw, range(0, m, rules._CHUNK)))
        at += m
    low_c = np.dtype(dtype).type(low)
    if low_c < low:  # float rounding must not push a delay below the floor
        low_c = np.nextafter(low_c, np.dtype(dtype).type(np.inf))
    np.maximum(delay, low_c, out=delay)
    return Synapses(n=n, pre=None, post=post, weight=weight, delay_ms=delay, synapse=conn["synapse"], tau_ms=tau,
                    row_start=_row_offsets(deg))


def _draw_kept_into(out, rng, label, mean, sd, rejected):
    """``out`` (of the draws' dtype) filled with normal values ``mean[lab] + sd[lab] z``, redrawn where
    ``rejected``: the initial values in sub-blocks, then the redraws over the whole of ``out`` in
    index order (the numbers of one draw of ``out.size`` values and its redraws)."""
    bad = []
    for a in range(0, out.size, _SUB):
        x = out[a:a + _SUB]
        lab = label[a:a + _SUB].astype(np.intp)
        rng.standard_normal(out=x, dtype=out.dtype)
        x *= sd[lab]
        x += mean[lab]
        bad.append(a + np.flatnonzero(rejected(x, lab)))
    bad = np.concatenate(bad) if bad else np.zeros(0, np.int64)
    while bad.size:
        lb = label[bad].astype(np.intp)
        out[bad] = mean[lb] + sd[lb] * rng.standard_normal(bad.size, dtype=out.dtype)
        bad = bad[rejected(out[bad], lb)]


def _projections(table, conn, rng, idx, pre_pop, parts, dtype):
    """Within one column: the synapses ``(pre, post, weight, delay_ms)`` of every listed projection
    from ``pre_pop``, appended to ``parts`` in postsynaptic population order, each grouped by
    presynaptic neuron."""
    pops = list(dict.fromkeys(table.population[idx].tolist()))
    members = {p: idx[table.population[idx] == p] for p in pops}
    dt_floor = conn["delay_floor_ms"]
    for post_pop in pops:
        pj = _projection_of(conn["projections"], pre_pop, post_pop)
        if pj is None:
            continue
        pj = {**S.PROJECTION_DEFAULTS, **pj}
        src, dst = members[pre_pop], members[post_pop]
        a, b, w, d = draw_projection(rng, src.size, dst.size, pj, autapses=bool(conn["autapses"]),
                                     same_population=pre_pop == post_pop, low_ms=dt_floor, dtype=dtype)
        parts.append((_globalise(a, src), _globalise(b, dst), w, d))


def draw_projection(rng, n_pre: int, n_post: int, pj: dict, *, autapses: bool, same_population: bool,
                    low_ms: float, dtype):
    """One projection ``pj`` (PROJECTION_DEFAULTS filled in) between populations of ``n_pre`` and
    ``n_post`` neurons: local ``(pre, post)`` grouped by pre, weights normal with the sign kept and
    delays normal redrawn below ``low_ms``, drawn in that order from ``rng``."""
    from . import projections as rules

    if pj["rule"] == "pairwise_bernoulli":
        a, b = rules.pairwise_bernoulli(rng, n_pre, n_post, pj["p"], autapses=autapses, same_population=same_population)
    elif pj["rule"] == "fixed_indegree":
        a, b = rules.fixed_indegree(rng, n_pre, n_post, int(pj["K"]), multapses=True, autapses=autapses,
                                    same_population=same_population)
        order = np.argsort(a, kind="stable")  # grouped by post: regroup by pre
        a, b = a[order], b[order]
    else:
        a, b = rules.fixed_total_number(rng, n_pre, n_post, int(pj["N_syn"]), autapses=autapses,
                                        same_population=same_population)
    w = rules.normal_sign_kept(rng, a.size, pj["weight"], pj["weight_rel_sd"], dtype=dtype)
    d = rules.truncated_normal_delays(rng, a.size, pj["delay_ms"], pj["delay_sd_ms"], low_ms=low_ms, dtype=dtype)
    return a, b, w, d


def _globalise(local: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Population-local indices -> neuron indices (int32), in place when the population is contiguous."""
    if local.size and members[-1] - members[0] + 1 == members.size:
        local += np.int32(members[0])
        return local
    return members[local].astype(np.int32)


def _between_columns(table, conn, rng, pres, posts, ws, ds):
    ic = dict(S.INTER_COLUMN_DEFAULTS)
    ic.update(conn["inter_column"])
    cols = list(dict.fromkeys(table.column.tolist()))
    for a in cols:
        for b in cols:
            if a == b:
                continue
            src = np.flatnonzero((table.column == a) & np.isin(table.cell_type, ic["types"]))
            dst = np.flatnonzero(table.column == b)
            pi, qi = _bernoulli_pairs(rng, src.size, dst.size, ic["p"])
            pre, post = src[pi], dst[qi]
            means = np.where(table.is_exc[pre], _per_type(conn["weights"], "E") if "E" in conn["weights"] else 0.0,
                             _per_type(conn["weights"], "I") if "I" in conn["weights"] else 0.0)
            w = np.abs(rng.normal(1.0, conn["weight_rel_sd"], pre.size)) * means * ic["weight_scale"]
            pres.append(pre); posts.append(post); ws.append(w)
            ds.append(np.full(pre.size, float(ic["delay_ms"])))
