"""Field probes as geometry-only forward matrices (the LFPykit transformation-matrix design).

``construct`` builds every matrix once (numpy, float64); the scan only reduces per-neuron currents to
a laminar source profile; everything after it is a matmul.
"""
