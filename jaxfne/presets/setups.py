"""Named setups: an emitter with the stimuli it is shown with, applied to the user's columns.

A setup completes a configuration that already has (or will get) its columns: it sets the emitter and
adds the stimuli, and leaves runtime, columns, cell types, connectivity and probes alone. Unlike a
model factory (:data:`jaxfne.presets.FACTORIES`, which defines the whole model), a setup can be swept
against column layouts. Each setup here is the one source of its Hydra group option:
``conf/emitter/<family>/<name>.yaml`` holds only ``emitter: {setup: <family>/<name>}``, and
:func:`jaxfne.pipeline.hydra_to_config.configuration_dict` expands it with :data:`SETUPS`.

References
----------
Izhikevich EM (2003) Simple model of spiking neurons. IEEE Trans Neural Netw 14:1569-1572.
doi:10.1109/TNN.2003.820440
Potjans TC, Diesmann M (2014) The cell-type specific cortical microcircuit: relating structure and
activity in a full-scale spiking network model. Cereb Cortex 24:785-806. doi:10.1093/cercor/bhs358
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import Configuration

__all__ = ["SETUPS", "rs_fs"]


def rs_fs(cfg: Configuration | None = None) -> Configuration:
    """Regular-spiking excitatory and fast-spiking inhibitory cells with Poisson background and a
    thalamic volley into L4: the README's showcase column and an axis value of the default study.

    Emitter: ``izhikevich`` with the 2003 classes RS (excitatory) and FS (inhibitory) of Izhikevich
    (2003), without their single-cell step protocols (``drive="none"``), so the runtime is the
    configuration's (default 1000 ms at 0.1 ms). Stimuli, appended to those already present:

    1. Poisson background to every neuron: 100 independent inputs of 8 Hz (the background rate per
       external synapse of Potjans & Diesmann 2014), weight 0.6 (mV/ms, the emitter's current unit).
    2. A thalamic volley to the neurons of layer ``L4``: 50 inputs of 200 Hz for 500-505 ms, weight 2,
       whose synapses sit at the depth of L4 (the early L4 current sink of the laminar CSD).

    Parameters
    ----------
    cfg : Configuration, optional
        The configuration to complete (default: a new one). Its columns need a layer ``L4`` by
        :func:`jaxfne.construct`.

    Returns
    -------
    Configuration
        ``cfg`` with the emitter set and the two stimuli added.

    Examples
    --------
    >>> import jaxfne
    >>> from jaxfne.presets import rs_fs
    >>> cfg = rs_fs(jaxfne.configuration().column("V1", layers=["L2/3", "L4", "L5"], n=200))
    >>> cfg.emitter_spec["preset"], cfg.emitter_spec["per_type"], len(cfg.stimuli)
    ('RS', {'I': 'FS'}, 2)
    """
    cfg = Configuration() if cfg is None else cfg
    return (cfg.set_emitter("izhikevich", "RS", per_type={"I": "FS"}, drive="none", capacitance_pF=100.0)
            .stimulus("poisson", "all", rate_hz=8.0, n_inputs=100, weight=0.6)
            .stimulus("poisson", {"layer": "L4"}, rate_hz=200.0, n_inputs=50, weight=2.0,
                      start_ms=500.0, stop_ms=505.0, synapse_depth_um="L4"))


#: Setups by name (``<family>/<name>``, the path of their ``conf/emitter/`` option).
SETUPS: dict[str, Callable[[Configuration | None], Configuration]] = {"izhikevich/rs_fs": rs_fs}
