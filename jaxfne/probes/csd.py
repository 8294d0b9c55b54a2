"""Standard (second spatial difference) current-source density of a laminar LFP.

Equations
---------
For equally spaced contacts along the column axis, with spacing ``h``,

    C_j = -sigma (phi_{j-1} - 2 phi_j + phi_{j+1}) / h^2

(Nicholson & Freeman 1975; the homogeneous, laterally infinite limit of
``C = -div(sigma grad phi)``). With ``phi`` in µV and ``h`` in µm,
``C[A/m^3] = -sigma[S/m] * 1e6 * (phi_{j-1} - 2 phi_j + phi_{j+1})[µV] / h[µm]^2``.
Sources are positive, sinks negative.

Only the contact spacing enters, so the sign of the depth axis does not matter.

Notes
-----
* ``vaknin=False`` (default) returns the ``C - 2`` inner contacts. ``vaknin=True``
  duplicates the two end contacts first (Vaknin, Dickens & Cohen 1988), so all
  ``C`` contacts get an estimate; the end values are then
  ``-sigma (phi_1 - phi_0) / h^2`` and ``-sigma (phi_{C-2} - phi_{C-1}) / h^2``.
* Elephant's ``StandardCSD`` (``elephant.current_source_density``) returns
  ``-sigma * second difference / h``, an *areal* density in A/m^2; this function
  equals that raw estimate (``process_estimate=False``) divided by ``h`` in metres.
* The function is pure ``jax.numpy``: it works on NumPy and JAX arrays, under
  ``jit`` and ``vmap``, and is differentiable in ``lfp_uV``.

References
----------
Nicholson C, Freeman JA (1975) Theory of current source-density analysis and
determination of conductivity tensor for anuran cerebellum. J Neurophysiol 38:356-368.
Vaknin G, DiScenna PG, Teyler TJ (1988) A method for calculating current source density
(CSD) analysis without resorting to recording sites outside the sampling volume.
J Neurosci Methods 24:131-135.
Pettersen KH et al. (2006) J Neurosci Methods 154:116-133.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

__all__ = ["CSDError", "standard_csd"]


class CSDError(ValueError):
    """Invalid argument to the CSD estimator."""


def standard_csd(lfp_uV, spacing_um: float, sigma: float = 0.3, vaknin: bool = False):
    """Standard CSD estimate, in A/m^3, from a laminar LFP in µV.

    Parameters
    ----------
    lfp_uV : array_like, shape (..., C)
        Potentials (µV) at ``C`` equally spaced contacts ordered along the column
        axis (either direction); leading dimensions (e.g. ``time``) are kept.
    spacing_um : float
        Contact spacing ``h`` (µm), > 0.
    sigma : float
        Extracellular conductivity (S/m), > 0.
    vaknin : bool
        Duplicate the end contacts so that every contact gets an estimate.

    Returns
    -------
    jax.Array, shape (..., C - 2) or (..., C) when ``vaknin``
        Volume current-source density (A/m^3), source > 0. Contact ``j`` of the
        output is input contact ``j + 1`` unless ``vaknin``.

    Examples
    --------
    >>> import numpy as np
    >>> phi = np.array([0.0, 1.0, 0.0])  # µV
    >>> float(standard_csd(phi, spacing_um=100.0)[0])  # -0.3 * 1e6 * (-2) / 1e4
    60.0
    """
    h = float(spacing_um)
    if not np.isfinite(h) or h <= 0.0:
        raise CSDError(f"spacing_um must be a positive contact spacing in µm; got {spacing_um!r}")
    s = float(sigma)
    if not np.isfinite(s) or s <= 0.0:
        raise CSDError(f"sigma must be a positive conductivity in S/m; got {sigma!r}")
    phi = jnp.asarray(lfp_uV)
    n_min = 1 if vaknin else 3
    if phi.ndim < 1 or phi.shape[-1] < n_min:
        raise CSDError(
            f"lfp_uV must have at least {n_min} contacts on its last axis "
            f"(vaknin={vaknin}); got shape {phi.shape}"
        )
    if vaknin:
        phi = jnp.concatenate([phi[..., :1], phi, phi[..., -1:]], axis=-1)
    d2 = phi[..., :-2] - 2.0 * phi[..., 1:-1] + phi[..., 2:]
    return (-s * 1e6 / (h * h)) * d2
