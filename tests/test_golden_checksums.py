"""The engine keeps today's spike rasters bit for bit (see tests/golden/spike_checksums.py)."""

from __future__ import annotations

import json

import pytest

from tests.golden import spike_checksums as golden

WANT = json.loads(golden.FILE.read_text())


@pytest.mark.parametrize("key,name,dtype", golden.protocol_cases(), ids=[c[0] for c in golden.protocol_cases()])
def test_protocol_rasters_unchanged(key, name, dtype):
    assert golden.run_protocol(name, dtype) == WANT[key]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_network_2003_rasters_unchanged(seed):
    assert golden.run_network(seed) == WANT[f"network2003/seed{seed}"]


def test_default_study_rasters_unchanged():
    got = {f"study/default/{r.run_id.rsplit('__', 1)[0]}": golden.run_study(r) for r in golden.study_runs()}
    assert got == {k: v for k, v in WANT.items() if k.startswith("study/")}


def test_poisson_driven_iaf_network_unchanged():
    assert golden.run_iaf_poisson(1) == WANT["iaf_poisson/seed1"]


def test_microcircuit_unchanged():
    assert golden.run_pd14(3) == WANT["pd14_5pct/seed3"]
