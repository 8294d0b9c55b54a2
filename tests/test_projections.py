"""Statistical and resource checks of the connectivity samplers in :mod:`jaxfne.projections`."""

from __future__ import annotations

import math
import tracemalloc
from decimal import Decimal, getcontext

import numpy as np
import pytest
from scipy import stats

from jaxfne import projections as P


def rng(seed=12345):
    return np.random.default_rng(seed)


def assert_no_duplicates(pre, post, n_post):
    key = pre.astype(np.int64) * n_post + post
    assert np.unique(key).size == key.size


# --------------------------------------------------------------------------------------------------
# pairwise_bernoulli


@pytest.mark.parametrize(
    ("n_pre", "n_post", "p"),
    [(1, 1, 0.5), (10, 7, 0.0), (10, 7, 1.0), (100, 300, 0.2), (1000, 700, 0.01), (50, 50, 0.9), (3000, 2000, 1e-4)],
)
def test_bernoulli_total_and_no_multapses(n_pre, n_post, p):
    for seed in range(3):
        pre, post = P.pairwise_bernoulli(rng(seed), n_pre, n_post, p)
        assert pre.dtype == post.dtype == np.int32
        mean, var = n_pre * n_post * p, n_pre * n_post * p * (1 - p)
        assert abs(pre.size - mean) <= 4 * math.sqrt(var) + 1e-9
        if pre.size:
            assert 0 <= pre.min() and pre.max() < n_pre and 0 <= post.min() and post.max() < n_post
        assert_no_duplicates(pre, post, n_post)


def test_bernoulli_large_is_small():
    n, p = 20_000, 0.1
    tracemalloc.start()
    pre, post = P.pairwise_bernoulli(rng(1), n, n, p)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 640e6, f"peak {peak / 1e6:.0f} MB"  # output alone is 8 B x 4e7 = 320 MB
    assert abs(pre.size - n * n * p) <= 4 * math.sqrt(n * n * p * (1 - p))
    # output is in strictly increasing (pre, post) order, which rules out duplicate pairs cheaply
    dpre = np.diff(pre)
    assert np.all((dpre > 0) | ((dpre == 0) & (np.diff(post) > 0)))


def test_bernoulli_counts_are_binomial():
    n_pre, n_post, p = 400, 5000, 0.3
    pre, post = P.pairwise_bernoulli(rng(7), n_pre, n_post, p)
    for counts, trials, units in ((np.bincount(post, minlength=n_post), n_pre, n_post),
                                  (np.bincount(pre, minlength=n_pre), n_post, n_pre)):
        mu, var = trials * p, trials * p * (1 - p)
        assert abs(counts.mean() - mu) < 4 * math.sqrt(var / units)
        assert abs(counts.var(ddof=1) / var - 1) < 4 * math.sqrt(2 / (units - 1)) + 0.02


def test_bernoulli_autapse_exclusion_is_exact():
    n = 300
    pre, post = P.pairwise_bernoulli(rng(3), n, n, 0.5, autapses=False, same_population=True)
    assert not np.any(pre == post)
    assert abs(pre.size - n * (n - 1) * 0.5) <= 4 * math.sqrt(n * (n - 1) * 0.25)
    pre, post = P.pairwise_bernoulli(rng(3), n, n, 1.0, autapses=False, same_population=True)
    assert pre.size == n * (n - 1) and not np.any(pre == post)
    assert P.pairwise_bernoulli(rng(3), n, n, 1.0, same_population=True)[0].size == n * n
    # every off-diagonal pair keeps probability p
    n, p, reps = 5, 0.3, 4000
    hits = np.zeros((n, n))
    g = rng(11)
    for _ in range(reps):
        pre, post = P.pairwise_bernoulli(g, n, n, p, autapses=False, same_population=True)
        np.add.at(hits, (pre, post), 1)
    assert np.all(np.diag(hits) == 0)
    off = hits[~np.eye(n, dtype=bool)] / reps
    assert np.all(np.abs(off - p) < 4 * math.sqrt(p * (1 - p) / reps))


# --------------------------------------------------------------------------------------------------
# fixed_indegree


@pytest.mark.parametrize("multapses", [True, False])
@pytest.mark.parametrize("autapses", [True, False])
def test_fixed_indegree_exact(multapses, autapses):
    n, K = 500, 40
    pre, post = P.fixed_indegree(rng(5), n, n, K, multapses=multapses, autapses=autapses, same_population=True)
    assert pre.dtype == post.dtype == np.int32
    assert np.all(np.bincount(post, minlength=n) == K)
    assert 0 <= pre.min() and pre.max() < n
    if not autapses:
        assert not np.any(pre == post)
    if not multapses:
        assert_no_duplicates(pre, post, n)
    assert stats.chisquare(np.bincount(pre, minlength=n)).pvalue > 1e-4


@pytest.mark.parametrize("K", [3, 4, 6])  # rejection branch, complement branch, all partners
def test_fixed_indegree_distinct_subsets_uniform(K):
    n_pre, n_post = 6, 30_000
    pre, post = P.fixed_indegree(rng(K), n_pre, n_post, K, multapses=False)
    rows = np.sort(pre.reshape(n_post, K), axis=1)
    assert np.all(np.diff(rows, axis=1) > 0)
    codes = (np.left_shift(1, rows.astype(np.int64))).sum(axis=1)  # bitmask of each subset
    _, counts = np.unique(codes, return_counts=True)
    assert counts.size == math.comb(n_pre, K)
    if counts.size > 1:
        assert stats.chisquare(counts).pvalue > 1e-4


def test_fixed_indegree_bad_K():
    with pytest.raises(ValueError, match=r"K=11 .*<= 10"):
        P.fixed_indegree(rng(), 10, 5, 11, multapses=False)
    with pytest.raises(ValueError, match=r"K=10 .*<= 9"):
        P.fixed_indegree(rng(), 10, 10, 10, multapses=False, autapses=False, same_population=True)
    assert P.fixed_indegree(rng(), 10, 5, 11)[0].size == 55  # multapses allow K > n_pre


# --------------------------------------------------------------------------------------------------
# fixed_total_number and sort_by_pre


@pytest.mark.parametrize("autapses", [True, False])
def test_fixed_total_number_marginals(autapses):
    n, n_syn = 200, 400_000
    pre, post = P.fixed_total_number(rng(9), n, n, n_syn, autapses=autapses, same_population=True)
    assert pre.size == post.size == n_syn and pre.dtype == post.dtype == np.int32
    if not autapses:
        assert not np.any(pre == post)
    for idx in (pre, post):
        assert stats.chisquare(np.bincount(idx, minlength=n)).pvalue > 1e-4
    pre, post = P.fixed_total_number(rng(9), 300, 70, n_syn)
    assert stats.chisquare(np.bincount(pre, minlength=300)).pvalue > 1e-4
    assert stats.chisquare(np.bincount(post, minlength=70)).pvalue > 1e-4


def test_fixed_total_number_is_grouped_by_pre_and_pairs_are_uniform():
    """Grouped by pre without a sort, and still n_syn independent uniform pairs: the pair counts of a
    small table are multinomial over the admissible pairs (chi-square), none on the diagonal."""
    n, n_syn = 12, 200_000
    pre, post = P.fixed_total_number(rng(2), n, n, n_syn, autapses=False, same_population=True)
    assert np.all(np.diff(pre) >= 0)
    counts = np.bincount(pre * n + post, minlength=n * n).reshape(n, n)
    assert np.all(np.diag(counts) == 0)
    off = counts[~np.eye(n, dtype=bool)]
    assert stats.chisquare(off).pvalue > 1e-4


def test_merge_by_pre_equals_a_stable_sort_of_the_concatenation():
    g = rng(5)
    n = 60
    parts = []
    for _ in range(4):
        a, b = P.fixed_total_number(g, n, n, 3000)
        parts.append((a, b, g.random(a.size).astype(np.float32)))
    parts.append((g.integers(0, n, 500).astype(np.int32), g.integers(0, n, 500).astype(np.int32),
                  g.random(500).astype(np.float32)))  # an unsorted part
    cat = [np.concatenate([p[i] for p in parts]) for i in range(3)]
    order = np.argsort(cat[0], kind="stable")
    pre, post, w, row_start = P.merge_by_pre(n, list(parts))
    for got, ref in zip((pre, post, w), cat):
        np.testing.assert_array_equal(got, ref[order])
    np.testing.assert_array_equal(row_start, np.concatenate([[0], np.cumsum(np.bincount(cat[0], minlength=n))]))


def test_sort_by_pre_orders_stably():
    g = rng(4)
    pre, post = P.fixed_total_number(g, 50, 40, 20_000)
    tag = np.arange(pre.size)
    w = g.random(pre.size).astype(np.float32)
    s_pre, s_post, s_tag, s_w = P.sort_by_pre(pre, post, tag, w)
    order = np.lexsort((post, pre))  # stable reference
    for got, ref in ((s_pre, pre), (s_post, post), (s_tag, tag), (s_w, w)):
        np.testing.assert_array_equal(got, ref[order])
        assert got.dtype == ref.dtype
    sorted_in = P.pairwise_bernoulli(g, 30, 30, 0.2)
    assert all(a is b for a, b in zip(P.sort_by_pre(*sorted_in), sorted_in))


# --------------------------------------------------------------------------------------------------
# weights and delays


def truncated_mean_sd(mu, sigma, low):
    alpha = (low - mu) / sigma
    phi = math.exp(-0.5 * alpha**2) / math.sqrt(2 * math.pi)
    z = 0.5 * math.erfc(alpha / math.sqrt(2))  # P(X >= low)
    lam = phi / z
    return mu + sigma * lam, sigma * math.sqrt(1 + alpha * lam - lam**2)


@pytest.mark.parametrize(("mean", "rel_sd"), [(87.8, 0.1), (-351.2, 0.1), (87.8, 1.0), (-5.0, 2.0)])
def test_weights_keep_sign(mean, rel_sd):
    n = 200_000
    w = P.normal_sign_kept(rng(6), n, mean, rel_sd)
    assert w.dtype == np.float32 and w.size == n
    assert np.all(w >= 0) if mean > 0 else np.all(w <= 0)
    m, s = truncated_mean_sd(abs(mean), abs(mean) * rel_sd, 0.0)
    assert abs(abs(w.mean(dtype=np.float64)) - m) < 5 * s / math.sqrt(n)
    assert abs(w.std(dtype=np.float64) / s - 1) < 0.02


def test_weights_degenerate():
    assert np.all(P.normal_sign_kept(rng(), 10, 0.0, 0.1) == 0)
    assert np.all(P.normal_sign_kept(rng(), 10, 3.5, 0.0, dtype=np.float64) == 3.5)


@pytest.mark.parametrize(("mean", "sd", "low"), [(1.5, 0.75, 0.1), (0.75, 0.375, 0.7), (0.5, 0.1, 1.5)])
def test_delays_never_below_low(mean, sd, low):
    n = 200_000
    d = P.truncated_normal_delays(rng(8), n, mean, sd, low_ms=low)
    assert d.dtype == np.float32
    assert np.all(d.astype(np.float64) >= low)
    m, s = truncated_mean_sd(mean, sd, low)
    assert abs(d.mean(dtype=np.float64) - m) < 5 * s / math.sqrt(n) + 1e-6
    assert abs(d.std(dtype=np.float64) / s - 1) < 0.03


def test_delays_constant():
    assert np.all(P.truncated_normal_delays(rng(), 5, 1.5, 0.0, low_ms=0.1) == np.float32(1.5))
    assert np.all(P.truncated_normal_delays(rng(), 5, 0.05, 0.0, low_ms=0.1, dtype=np.float64) == 0.1)


# --------------------------------------------------------------------------------------------------
# PD14 bookkeeping


def test_expected_total_number_pd14():
    C, N = 0.1009, 20_683
    getcontext().prec = 50
    prod = Decimal(N) * N
    true = (1 - Decimal(str(C))).ln() / (1 - 1 / prod).ln()  # 45,499,805.544...
    assert float(true) == pytest.approx(45_499_805.544, abs=1e-3)
    ref = P.expected_total_number(C, N, N)  # the PD14 reference expression in float64
    assert ref == 45_499_805 and isinstance(ref, int)
    assert P.expected_total_number(C, N, N, exact=True) == round(true) == 45_499_806
    assert P.expected_total_number(0.0, N, N) == 0
    assert P.expected_total_number(0.5, 2, 1) == 1  # ln 0.5 / ln 0.5


def test_estimate_bytes():
    assert P.estimate_bytes(300_000_000) == 13 * 300_000_000
    assert P.estimate_bytes(10, np.int64, np.float64, np.float32) == 10 * 28


# --------------------------------------------------------------------------------------------------
# argument checking and reproducibility


@pytest.mark.parametrize(
    ("call", "name", "value"),
    [
        (lambda: P.pairwise_bernoulli(rng(), -1, 5, 0.1), "n_pre", "-1"),
        (lambda: P.pairwise_bernoulli(rng(), 5, 5, 1.5), "p", "1.5"),
        (lambda: P.pairwise_bernoulli(rng(), 5, 5, float("nan")), "p", "nan"),
        (lambda: P.pairwise_bernoulli(rng(), 5, 4, 0.1, same_population=True), "n_post", "4"),
        (lambda: P.pairwise_bernoulli(np.random.RandomState(0), 5, 5, 0.1), "rng", "RandomState"),
        (lambda: P.fixed_indegree(rng(), 5, 5, -2), "K", "-2"),
        (lambda: P.fixed_indegree(rng(), 5.0, 5, 2), "n_pre", "5.0"),
        (lambda: P.fixed_total_number(rng(), 1, 1, 3, autapses=False, same_population=True), "n_syn", "3"),
        (lambda: P.normal_sign_kept(rng(), 5, float("inf"), 0.1), "mean", "inf"),
        (lambda: P.normal_sign_kept(rng(), 5, 1.0, -0.1), "rel_sd", "-0.1"),
        (lambda: P.normal_sign_kept(rng(), 5, 1.0, 0.1, dtype=np.int32), "dtype", "int32"),
        (lambda: P.truncated_normal_delays(rng(), 5, 1.5, -1.0, low_ms=0.1), "sd_ms", "-1.0"),
        (lambda: P.truncated_normal_delays(rng(), 5, float("nan"), 1.0, low_ms=0.1), "mean_ms", "nan"),
        (lambda: P.expected_total_number(1.0, 10, 10), "p", "1.0"),
        (lambda: P.estimate_bytes(-3), "n_syn", "-3"),
    ],
)
def test_bad_arguments_name_value_and_allowed(call, name, value):
    with pytest.raises(ValueError, match="not allowed") as err:
        call()
    assert name in str(err.value) and value in str(err.value)


def test_same_seed_same_network():
    a = P.pairwise_bernoulli(rng(42), 300, 200, 0.1)
    b = P.pairwise_bernoulli(rng(42), 300, 200, 0.1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
