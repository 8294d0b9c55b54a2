"""Host arrays onto the device: converted by numpy and copied, or shared where the CPU allows it.

``jnp.asarray`` of a numpy array compiles a small XLA program for every new shape and dtype it
converts (about 15 ms each on the CPU, a few dozen of them for one model), so the model's arrays go
through :func:`device_array` instead. The values are the same: numpy and XLA both round a float
conversion to the nearest even value.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

__all__ = ["device_array", "shared_device_array"]


def device_array(x: Any, dtype: Any = None) -> jax.Array:
    """``x`` (anything :func:`numpy.asarray` takes) as a JAX array of ``dtype``, converted on the host
    and copied to the default device; nothing is compiled."""
    return jax.device_put(np.asarray(x, dtype), may_alias=False)


def shared_device_array(x: np.ndarray) -> jax.Array:
    """``x`` as a JAX array that shares its memory on the CPU (no copy of a large synapse table),
    else a copy; ``x`` is made read-only when shared, since the device array would see any write.

    XLA's CPU client shares only buffers aligned to 64 bytes (``network.aligned_empty`` allocates
    them so); anything else, and every other backend, is copied as :func:`device_array` does.
    """
    if (jax.default_backend() == "cpu" and x.flags.c_contiguous and x.size
            and x.ctypes.data % 64 == 0 and x.dtype.isnative):
        try:
            out = jax.numpy.from_dlpack(x, copy=False)
        except (ValueError, TypeError, RuntimeError):
            return device_array(x)
        x.flags.writeable = False
        return out
    return device_array(x)
