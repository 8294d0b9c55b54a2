"""The simulation engine: neuron families, synapses, stimuli and the chunked ``lax.scan`` runner."""

from .izhikevich import Izhikevich as Izhikevich

FAMILIES = {"izhikevich": Izhikevich()}
