"""Spike-count multi-unit activity (MUA) weights.

Equations
---------
``MUA_j(t) = sum_n w(|r_n - r_j|) * spikes_n(t)``, i.e. ``MUA = spikes[N] @ W[N, C]``,
with either

* ``kind="radius"``: ``w(d) = 1`` if ``d <= radius_um`` else 0 (a spike count of the
  neurons within a sphere around the contact), or
* ``kind="exponential"``: ``w(d) = exp(-d / length_um)`` (a distance-weighted
  count; the weight of a neuron at the contact is 1).

Defaults: ``radius_um = 100`` µm and ``length_um = 75`` µm, the middle of the
ranges in use (hard radius 50-150 µm, decay length 50-100 µm; see
field-signals section 6 in the project references). Point neurons have no spike
waveform, so this count (not a rectified high-pass envelope) is the natural MUA; it
is the "spatially filtered population firing rate" view of laminar MUA of
Pettersen et al. (2008).

References
----------
Pettersen KH, Hagen E, Einevoll GT (2008) Estimation of population firing rates and
current source densities from laminar electrode recordings. J Comput Neurosci
24:291-313.
Buzsáki G (2004) Large-scale recording of neuronal ensembles. Nat Neurosci 7:446-451
(distance over which extracellular spikes are detectable, ~50-150 µm).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MUA_KINDS", "MUAError", "mua_weights"]

MUA_KINDS = ("radius", "exponential")


class MUAError(ValueError):
    """Invalid argument to :func:`mua_weights`."""


def _xyz(name, value) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3 or not np.all(np.isfinite(arr)):
        raise MUAError(f"{name} must be a finite array of shape (n, 3) in µm; got shape "
                       f"{np.shape(value)}")
    return arr


def mua_weights(neuron_xyz_um, contacts_um, kind: str = "radius",
                radius_um: float = 100.0, length_um: float = 75.0) -> np.ndarray:
    """Neuron-to-contact MUA weight matrix.

    Parameters
    ----------
    neuron_xyz_um : array_like, shape (N, 3)
        Soma positions (µm).
    contacts_um : array_like, shape (C, 3)
        Contact positions (µm).
    kind : {"radius", "exponential"}
        Weight kernel (see module docstring).
    radius_um : float
        Detection radius (µm) for ``kind="radius"``; a neuron exactly at the radius
        counts.
    length_um : float
        Decay length (µm) for ``kind="exponential"``.

    Returns
    -------
    numpy.ndarray, shape (N, C), float64
        Dimensionless weights; ``spikes_per_bin[N] @ W`` gives weighted spike counts
        per contact.
    """
    if kind not in MUA_KINDS:
        raise MUAError(f"kind must be one of {MUA_KINDS}; got {kind!r}")
    neurons = _xyz("neuron_xyz_um", neuron_xyz_um)
    contacts = _xyz("contacts_um", contacts_um)
    d = np.sqrt(((neurons[:, None, :] - contacts[None, :, :]) ** 2).sum(axis=-1))
    if kind == "radius":
        if not (np.isfinite(radius_um) and radius_um > 0):
            raise MUAError(f"radius_um must be a positive length in µm; got {radius_um!r}")
        return (d <= radius_um).astype(np.float64)
    if not (np.isfinite(length_um) and length_um > 0):
        raise MUAError(f"length_um must be a positive length in µm; got {length_um!r}")
    return np.exp(-d / length_um)
