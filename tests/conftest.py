"""Test configuration: float64 available, deterministic arithmetic, and the slow/crosscheck markers.

XLA's CPU backend contracts ``a * b + c`` into fused multiply-adds on hosts with AVX2/FMA, which numpy
does not; float64 comparisons against the step-by-step numpy references (Izhikevich's MATLAB ports)
are only bit-exact without it, so the test session caps the instruction set at AVX (before jax is
imported). Chaotic or near-threshold trajectories amplify a 1-ulp difference to 1e-4 mV within a few
hundred steps, which is why the cap matters.
"""

from __future__ import annotations

import os
import platform

if platform.machine().lower() in ("x86_64", "amd64") and "xla_cpu_max_isa" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_max_isa=AVX").strip()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
