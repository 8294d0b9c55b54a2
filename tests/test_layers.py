"""Default laminar depths and neuron shares against their published sources."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxfne.presets.layers import (
    DEFAULT_LAYER_DEPTHS_UM,
    LAYER_NEURON_FRACTIONS,
    layer_depths,
    split_neurons,
)

COARSE = ("L1", "L2/3", "L4", "L5", "L6")

# INM-6/hybridLFPy examples/example_microcircuit_params.py, layerBoundaries (z in µm, pia = 0).
HYBRIDLFPY_Z = [[0.0, -81.6], [-81.6, -587.1], [-587.1, -922.2], [-922.2, -1170.0], [-1170.0, -1491.7]]
# Potjans & Diesmann 2014 full-scale population sizes (E, I) per layer (same file, and
# REFERENCES.md section 2).
PD14 = {"L2/3": (20683, 5834), "L4": (21915, 5479), "L5": (4850, 1065), "L6": (14395, 2948)}


def test_coarse_layers_are_hybridlfpy_boundaries():
    for name, (z_top, z_bottom) in zip(COARSE, HYBRIDLFPY_Z):
        assert DEFAULT_LAYER_DEPTHS_UM[name] == (abs(z_top), abs(z_bottom))


def test_layers_tile_the_column():
    bottoms = [DEFAULT_LAYER_DEPTHS_UM[n][1] for n in COARSE[:-1]]
    tops = [DEFAULT_LAYER_DEPTHS_UM[n][0] for n in COARSE[1:]]
    assert bottoms == tops and DEFAULT_LAYER_DEPTHS_UM["L1"][0] == 0.0
    for parent, (upper, lower) in (("L2/3", ("L2", "L3")), ("L6", ("L6a", "L6b"))):
        top, bottom = DEFAULT_LAYER_DEPTHS_UM[parent]
        assert DEFAULT_LAYER_DEPTHS_UM[upper][0] == top
        assert DEFAULT_LAYER_DEPTHS_UM[upper][1] == DEFAULT_LAYER_DEPTHS_UM[lower][0]
        assert DEFAULT_LAYER_DEPTHS_UM[lower][1] == bottom


def test_sublayer_split_points():
    # L2 : L3 thickness ratio of Allen human MTG reference depths (247.21-407.20-1363.92 µm),
    # L6a : L6b of Allen mouse reference depths (717.18-909.88-957.06 µm).
    assert DEFAULT_LAYER_DEPTHS_UM["L2"][1] == pytest.approx(81.6 + 505.5 * 159.99 / 1116.71, abs=0.01)
    assert DEFAULT_LAYER_DEPTHS_UM["L6a"][1] == pytest.approx(1170.0 + 321.7 * 192.69 / 239.88, abs=0.01)
    assert round(DEFAULT_LAYER_DEPTHS_UM["L2"][1], 1) == 154.0
    assert round(DEFAULT_LAYER_DEPTHS_UM["L6a"][1], 1) == 1428.4


def test_neuron_fractions_are_pd14_layer_totals():
    total = sum(e + i for e, i in PD14.values())
    assert total == 77169
    assert LAYER_NEURON_FRACTIONS["L1"] == 0.0
    for name, (e, i) in PD14.items():
        assert LAYER_NEURON_FRACTIONS[name] == pytest.approx((e + i) / total, rel=1e-12)
    assert math.fsum(LAYER_NEURON_FRACTIONS[n] for n in COARSE) == pytest.approx(1.0, abs=1e-15)
    for parent, children in (("L2/3", ("L2", "L3")), ("L6", ("L6a", "L6b"))):
        assert math.fsum(LAYER_NEURON_FRACTIONS[c] for c in children) == pytest.approx(
            LAYER_NEURON_FRACTIONS[parent], rel=1e-12)


def test_split_reproduces_pd14_population_sizes():
    counts = split_neurons(["L2/3", "L4", "L5", "L6"], 77169)
    assert counts == {name: e + i for name, (e, i) in PD14.items()}


def test_layer_depths_defaults_and_overrides():
    assert layer_depths(["L4", "L2/3"]) == {"L4": (587.1, 922.2), "L2/3": (81.6, 587.1)}
    out = layer_depths(["L2/3", "L4b"], {"L4b": (700, 800), "L9": (1, 2)})
    assert out == {"L2/3": (81.6, 587.1), "L4b": (700.0, 800.0)}
    assert layer_depths(["L4"], {"L4": [500.0, 900.0]}) == {"L4": (500.0, 900.0)}


def test_unknown_label_names_label_and_known_ones():
    with pytest.raises(ValueError) as err:
        layer_depths(["L2/3", "L7"])
    msg = str(err.value)
    assert "'L7'" in msg
    assert all(label in msg for label in DEFAULT_LAYER_DEPTHS_UM)


@pytest.mark.parametrize("labels, overrides, word", [
    (["L4", "L4"], None, "twice"),
    ("L4", None, "one string"),
    (["L4"], {"L4": (900.0, 500.0)}, "top < bottom"),
    (["L4"], {"L4": (-1.0, 500.0)}, "top < bottom"),
    (["L4"], {"L4": (1.0,)}, "pair"),
    (["L2/3", "L2"], None, "overlap"),
    (["L4", "L5"], {"L5": (900.0, 1200.0)}, "overlap"),
])
def test_layer_depths_rejects(labels, overrides, word):
    with pytest.raises(ValueError, match=word):
        layer_depths(labels, overrides)


def test_split_neurons_edge_cases():
    assert split_neurons(["L1"], 3) == {"L1": 3}                      # all-zero shares: even
    assert split_neurons(["L1", "L2/3"], 5) == {"L1": 0, "L2/3": 5}
    assert split_neurons(["L2/3"], 0) == {"L2/3": 0}
    assert split_neurons(["A", "B"], 3, {"A": 1.0, "B": 1.0}) == {"A": 2, "B": 1}  # tie: earlier
    for bad_n in (-1, 2.5, True):
        with pytest.raises(ValueError, match="n="):
            split_neurons(["L4"], bad_n)
    with pytest.raises(ValueError, match="'L9'"):
        split_neurons(["L9"], 4)
    with pytest.raises(ValueError, match="share"):
        split_neurons(["A"], 4, {"A": -1.0})


@settings(max_examples=200, deadline=None)
@given(
    labels=st.lists(st.sampled_from(sorted(LAYER_NEURON_FRACTIONS)), min_size=1, max_size=9, unique=True),
    n=st.integers(min_value=0, max_value=10**6),
)
def test_split_neurons_sums_to_n_and_is_near_proportional(labels, n):
    counts = split_neurons(labels, n)
    assert list(counts) == labels and sum(counts.values()) == n
    w = [LAYER_NEURON_FRACTIONS[lab] for lab in labels]
    if sum(w) > 0:
        for lab, wi in zip(labels, w):
            assert abs(counts[lab] - n * wi / sum(w)) < 1.0
