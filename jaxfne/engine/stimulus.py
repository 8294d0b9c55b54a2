"""Deterministic stimuli as piecewise-linear waveforms, evaluated on the host in float64.

Evaluating ``I(t_k)`` at ``t_k = k dt`` in float64 on the host makes interval boundaries
(``t > 10`` versus ``t >= 10``) land exactly where the published MATLAB code puts them, whatever the
simulation dtype. The table of one time chunk is fed to the scan; random drives (Poisson, Gaussian) are
drawn inside the scan instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..presets.izhikevich import Segment

__all__ = ["Waveform", "drive_window", "on_interval", "waveform_from_spec", "waveform_table"]


@dataclass(frozen=True)
class Waveform:
    """A sum of pieces ``value + slope (t - t_start)`` on intervals, or a sampled series (zero-order hold)."""

    segments: tuple = ()  # of presets.izhikevich.Segment
    series: tuple | None = None  # (values, dt_ms, start_ms)

    def evaluate(self, t_ms: np.ndarray) -> np.ndarray:
        t = np.asarray(t_ms, np.float64)
        out = np.zeros_like(t)
        for s in self.segments:
            lo = (t >= s.t_start) if s.closed_start else (t > s.t_start)
            hi = (t <= s.t_stop) if s.closed_stop else (t < s.t_stop)
            inside = lo & hi
            base = 0.0 if math.isinf(s.t_start) else s.t_start
            out += np.where(inside, s.value + s.slope * (t - base), 0.0)
        if self.series is not None:
            values, dt_in, start = self.series
            k = np.floor((t - start) / dt_in + 1e-9).astype(np.int64)
            ok = (k >= 0) & (k < len(values))
            out += np.where(ok, np.asarray(values, np.float64)[np.clip(k, 0, len(values) - 1)], 0.0)
        return out


def on_interval(t_start: float, t_stop: float, value: float, slope: float = 0.0) -> Segment:
    """A piece closed at the start and open at the stop: ``t_start <= t < t_stop``."""
    return Segment(t_start, t_stop, value, slope, closed_start=True, closed_stop=False)


def drive_window(spec: dict) -> Waveform:
    """The on-window of a random drive (``start_ms``, ``stop_ms``) as a 0/1 waveform, closed at the
    start and open at the stop."""
    return Waveform((on_interval(spec["start_ms"], spec["stop_ms"], 1.0),))


def waveform_from_spec(spec: dict) -> Waveform:
    """The waveform of a ``step``, ``pulse``, ``ramp`` or ``series`` stimulus of the configuration.

    Intervals are closed at the start and open at the stop: a step from 100 ms is on at t = 100 ms.
    """
    kind = spec["kind"]
    if kind == "step":
        return Waveform((on_interval(spec["start_ms"], spec["stop_ms"], spec["amplitude"]),))
    if kind == "pulse":
        times = spec["times_ms"] or [spec["start_ms"]]
        return Waveform(tuple(on_interval(t, t + spec["width_ms"], spec["amplitude"]) for t in times))
    if kind == "ramp":
        return Waveform((on_interval(spec["start_ms"], spec["stop_ms"], spec["offset"], spec["slope_per_ms"]),))
    if kind == "series":
        return Waveform(series=(tuple(spec["values"]), spec["dt_ms"], spec["start_ms"]))
    raise ValueError(f"stimulus kind={kind!r} is not a deterministic waveform")


def waveform_table(waveforms: list[Waveform], step0: int, n_steps: int, dt_ms: float) -> np.ndarray:
    """``[n_steps, n_waveforms]`` values at ``t_k = k dt`` for ``k = step0 ... step0 + n_steps - 1``."""
    t = (np.arange(step0, step0 + n_steps, dtype=np.float64)) * dt_ms
    if not waveforms:
        return np.zeros((n_steps, 0))
    return np.stack([w.evaluate(t) for w in waveforms], axis=1)
