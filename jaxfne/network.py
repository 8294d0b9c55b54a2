"""Connectivity: turn the connectivity spec into synapse arrays (COO, then padded out-rows).

The one place random connectivity is drawn. Weights are in the emitter's current units (Izhikevich:
mV/ms = pA/pF) before ``weight_scale``, which stays a parameter leaf so it can be swept or
differentiated without a rebuild. Delays are stored in ms and turned into steps when the step is known.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .config import schema as S
from .errors import ConfigurationError
from .populations import NeuronTable

__all__ = ["Synapses", "build_synapses", "resolve_connectivity"]


@dataclass(frozen=True)
class Synapses:
    """Synapses as coordinate lists, sorted by presynaptic neuron.

    Attributes
    ----------
    pre, post : ndarray of int32, [synapse]
    weight : ndarray of float64, [synapse]
        Before ``weight_scale``; excitatory >= 0, inhibitory <= 0.
    delay_ms : ndarray of float64, [synapse]
        Transmission delay; the effective delay is ``max(1, round(delay_ms / dt))`` steps.
    synapse : {"exponential", "delta"}
    tau_ms : dict
        Decay time of the excitatory and inhibitory synaptic currents (exponential synapses).
    """

    n: int
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay_ms: np.ndarray
    synapse: str
    tau_ms: dict

    @property
    def count(self) -> int:
        return int(self.pre.shape[0])

    def out_degree(self) -> np.ndarray:
        return np.bincount(self.pre, minlength=self.n).astype(np.int32)

    def delay_steps(self, dt_ms: float) -> np.ndarray:
        return np.maximum(1, np.rint(self.delay_ms / dt_ms)).astype(np.int32)

    @functools.cached_property
    def _row_slots(self) -> tuple[int, np.ndarray]:
        """Row width K (the largest out-degree) and each synapse's slot in its presynaptic row."""
        deg = self.out_degree()
        k = max(1, int(deg.max()) if deg.size else 1)
        start = np.concatenate([[0], np.cumsum(deg)[:-1]]) if self.n else np.zeros(0, int)
        return k, np.arange(self.count) - np.repeat(start, deg)

    def _rows(self, values: np.ndarray, fill, dtype) -> np.ndarray:
        k, slot = self._row_slots
        out = np.full((self.n, k), fill, dtype)
        out[self.pre, slot] = values
        return out

    def target_rows(self) -> np.ndarray:
        """``targets[N, K]`` of the padded out-rows (padding = N)."""
        return self._rows(self.post, self.n, np.int32)

    def weight_rows(self) -> np.ndarray:
        """``weights[N, K]`` of the padded out-rows (padding = 0)."""
        return self._rows(self.weight, 0.0, np.float64)

    def delay_rows(self, dt_ms: float, steps: np.ndarray | None = None) -> np.ndarray:
        """``delays[N, K]`` of the padded out-rows, in steps of ``dt_ms`` (padding = 1); ``steps``:
        :meth:`delay_steps` of ``dt_ms`` when the caller has them already."""
        return self._rows(self.delay_steps(dt_ms) if steps is None else steps, 1, np.int32)

    def to_rows(self, dt_ms: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Padded out-rows: ``targets[N, K]`` (padding = N), ``weights[N, K]``, ``delays[N, K]`` (steps)."""
        return self.target_rows(), self.weight_rows(), self.delay_rows(dt_ms)

    def to_dense(self, dt_ms: float) -> tuple[np.ndarray, np.ndarray]:
        """Dense ``W[pre, post]`` and delays ``D[pre, post]`` (steps); multapses are summed."""
        w = np.zeros((self.n, self.n))
        d = np.ones((self.n, self.n), np.int32)
        np.add.at(w, (self.pre, self.post), self.weight)
        d[self.pre, self.post] = self.delay_steps(dt_ms)
        return w, d

    def is_uniform_delay(self) -> bool:
        return self.count == 0 or bool(np.all(self.delay_ms == self.delay_ms[0]))


def resolve_connectivity(spec: dict, preset_rule: str | None, table: NeuronTable, dt_ms: float) -> dict:
    """Fill in ``rule="auto"`` (the preset's published rule, else the sparse default) and check the
    population keys of ``p`` and ``projections`` against the populations of ``table``.

    Projection delays are truncated below ``dt_ms`` (the configuration's step).
    """
    c = dict(S.CONNECTIVITY_DEFAULTS)
    c.update(spec)
    c["delay_floor_ms"] = float(dt_ms)
    if c["rule"] == "auto":
        c["rule"] = preset_rule or "pairwise_bernoulli"
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


def build_synapses(table: NeuronTable, conn: dict, rng: np.random.Generator) -> Synapses:
    """Draw the synapses of ``conn`` (a resolved connectivity dict) for the neurons of ``table``."""
    n = table.n
    pres, posts, ws, ds = [], [], [], []
    tau = {"E": _per_type(conn["tau_syn_ms"], "E"), "I": _per_type(conn["tau_syn_ms"], "I")}
    if conn["recurrent"]:
        for col in dict.fromkeys(table.column.tolist()):
            idx = np.flatnonzero(table.column == col)
            if conn["projections"] is not None:
                _projections(table, conn, rng, idx, pres, posts, ws, ds)
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
    for pre_pop in pops:
        t_pre = pre_pop[-1]
        w_mean = _per_type(conn["weights"], t_pre) if t_pre in conn["weights"] else S.CONNECTIVITY_DEFAULTS["weights"][t_pre]
        d_mean = _per_type(conn["delay_ms"], t_pre)
        for post_pop in pops:
            src, dst = members[pre_pop], members[post_pop]
            if conn["rule"] == "fixed_indegree":
                k = int(conn["indegree"].get(t_pre, 0))
                if k == 0 or src.size == 0:
                    continue
                pre = np.concatenate([rng.choice(src, size=k, replace=src.size < k) for _ in dst])
                post = np.repeat(dst, k)
            else:
                p = _pair_value(conn["p"], pre_pop, post_pop, "connectivity.p", S.CONNECTIVITY_DEFAULTS["p"])
                pi, qi = _bernoulli_pairs(rng, src.size, dst.size, p)
                pre, post = src[pi], dst[qi]
            if not conn["autapses"]:
                keep = pre != post
                pre, post = pre[keep], post[keep]
            pres.append(pre); posts.append(post)
            ws.append(_draw_weights(rng, pre.size, w_mean, conn["weight_distribution"], conn["weight_rel_sd"]))
            ds.append(_draw_delays(rng, pre.size, d_mean, conn["delay_distribution"], conn["delay_rel_sd"]))


def _projection_of(projections: dict, pre_pop: str, post_pop: str) -> dict | None:
    for key in _pair_forms(pre_pop, post_pop, types_allowed=False):
        if key in projections:
            return projections[key]
    return None


def _projections(table, conn, rng, idx, pres, posts, ws, ds):
    """Within one column: the synapses of every listed ``"PRE->POST"`` projection, none elsewhere."""
    from . import projections as rules

    pops = list(dict.fromkeys(table.population[idx].tolist()))
    members = {p: idx[table.population[idx] == p] for p in pops}
    dt_floor = conn["delay_floor_ms"]
    for pre_pop in pops:
        for post_pop in pops:
            pj = _projection_of(conn["projections"], pre_pop, post_pop)
            if pj is None:
                continue
            pj = {**S.PROJECTION_DEFAULTS, **pj}
            src, dst = members[pre_pop], members[post_pop]
            same = pre_pop == post_pop
            auto = bool(conn["autapses"])
            if pj["rule"] == "pairwise_bernoulli":
                a, b = rules.pairwise_bernoulli(rng, src.size, dst.size, pj["p"], autapses=auto, same_population=same)
            elif pj["rule"] == "fixed_indegree":
                a, b = rules.fixed_indegree(rng, src.size, dst.size, int(pj["K"]), multapses=True, autapses=auto,
                                            same_population=same)
            else:
                a, b = rules.fixed_total_number(rng, src.size, dst.size, int(pj["N_syn"]), autapses=auto,
                                                same_population=same)
            pres.append(src[a]); posts.append(dst[b])
            ws.append(rules.normal_sign_kept(rng, a.size, pj["weight"], pj["weight_rel_sd"], dtype=np.float64))
            ds.append(rules.truncated_normal_delays(rng, a.size, pj["delay_ms"], pj["delay_sd_ms"], low_ms=dt_floor,
                                                    dtype=np.float64))


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
