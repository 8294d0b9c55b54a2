"""NEST 3's population rates and ISI CVs of the Potjans & Diesmann (2014) microcircuit at 10 % scale.

The reference build (:func:`tests.reference.nest_pd14.run_reference`: NEST draws its own network,
as the reference PyNEST code does), ``scale = k_scale = 0.1``, Poisson background, 2 threads, three
seeds, rates over [500, 2500) ms. The default suite compares jaxfne's 10 % model with these numbers
(``tests/test_potjans_diesmann.py``); regenerate with ``python -m tests.golden.pd14_nest_rates``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

PATH = Path(__file__).with_name("pd14_nest_rates.json")
SEEDS = (55, 56, 57)
WINDOW_MS = (500.0, 2500.0)


def main() -> None:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import nest

    from tests.reference.nest_pd14 import population_cv_isi, population_rates, run_reference

    rates, cvs = [], []
    for seed in SEEDS:
        out = run_reference(0.1, 0.1, drive="poisson", t_sim_ms=WINDOW_MS[1], threads=2, seed=seed)
        rates.append(population_rates(out["senders"], out["times_ms"], out["n_per_pop"], *WINDOW_MS))
        cvs.append(population_cv_isi(out["senders"], out["times_ms"], out["n_per_pop"], *WINDOW_MS))
    data = {"nest_version": nest.__version__, "scale": 0.1, "k_scale": 0.1, "drive": "poisson",
            "seeds": list(SEEDS), "window_ms": list(WINDOW_MS),
            "rates_hz": np.mean(rates, axis=0).round(4).tolist(), "rates_sd_hz": np.std(rates, axis=0).round(4).tolist(),
            "cv_isi": np.nanmean(cvs, axis=0).round(4).tolist()}
    tmp = PATH.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(PATH)
    print(json.dumps(data))


if __name__ == "__main__":
    main()
