"""Which row of the drives' synaptic current ``I_p`` each drive's events enter.

Every Poisson drive and spike-source population (in that order, each in configuration order) is an
excitatory synaptic current of its own kind. Drives share a row of ``I_p`` when no neuron receives
two of them and their synapses sit alike (the same ``synapse_depth_um``; anywhere when no field
probe is recorded, since then nothing reads a drive's placement): each neuron's value in a shared
row is then the one drive it receives, bit for bit what a row per drive holds, while the step decays
and adds fewer rows. The eight background drives of the Potjans-Diesmann column take one row
instead of eight (their targets are the eight populations).
"""

from __future__ import annotations

import json

import numpy as np

__all__ = ["assign_rows", "placement_key"]


def placement_key(stimulus: dict, fields: bool):
    """What decides where a drive's synapses sit in the source profile (``None``: at each target's
    own excitatory synapses, or anywhere when no field probe is recorded)."""
    sd = stimulus.get("synapse_depth_um")
    return json.dumps(sd) if fields and sd is not None else None


def assign_rows(masks: list[np.ndarray], keys: list) -> tuple[int, ...]:
    """The row of each drive: the first row of the same placement whose drives' targets are disjoint
    from this drive's (``masks``: boolean [N] per drive), else a new row."""
    row_key, row_union, out = [], [], []
    for mask, key in zip(masks, keys):
        mask = np.asarray(mask, bool)
        for r, (k, union) in enumerate(zip(row_key, row_union)):
            if k == key and not np.any(union & mask):
                union |= mask
                out.append(r)
                break
        else:
            row_key.append(key)
            row_union.append(mask.copy())
            out.append(len(row_key) - 1)
    return tuple(out)
