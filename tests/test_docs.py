"""The API reference builds with Sphinx, warnings as errors, and documents the public surface.

``python -m sphinx -W --keep-going -b html docs <tmp>`` must exit 0 (autodoc imports the real
package; nothing is mocked and nothing reaches the network). The pages must then describe every
name of ``jaxfne.__all__``, ``jaxfne.io.__all__`` (including the names it resolves on first use),
``jaxfne.fitting``, ``jaxfne.plots`` and ``jaxfne.errors``, the builder methods of
``Configuration`` and the members of ``Signals`` and ``Model``. The build is not nitpicky (``-n``):
without intersphinx, numpy, xarray and standard-library types in signatures cannot resolve.

A second check, without Sphinx, asks every public method and property of the public classes for a
docstring, so an undocumented member (which autodoc leaves out silently) fails here.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import jaxfne
import jaxfne.errors
import jaxfne.fitting
import jaxfne.io
import jaxfne.plots

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "html"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
                           str(ROOT / "docs"), str(out)], capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, f"sphinx exited {proc.returncode}:\n{proc.stderr[-8000:]}\n{proc.stdout[-2000:]}"
    assert not proc.stderr.strip(), proc.stderr[-8000:]
    return out


def _ids(page: Path) -> set[str]:
    return set(re.findall(r'id="([^"]+)"', page.read_text(encoding="utf-8")))


def _all_ids(html: Path) -> set[str]:
    return set().union(*(_ids(p) for p in (html / "api").glob("*.html")))


def test_every_public_name_is_documented(html: Path):
    ids = _all_ids(html)
    missing = [n for n in jaxfne.__all__ if n != "__version__" and f"jaxfne.{n}" not in ids]
    assert not missing, f"names of jaxfne.__all__ without an API entry: {missing}"
    assert {"jaxfne.simulate", "jaxfne.construct", "jaxfne.simulation"} <= _ids(html / "api" / "jaxfne.html")
    assert {"jaxfne.configuration", "jaxfne.Configuration"} <= _ids(html / "api" / "configuration.html")
    assert "jaxfne.Signals.to_xarray" in _ids(html / "api" / "signals.html")


def test_configuration_builder_and_signals_members(html: Path):
    ids = _all_ids(html)
    for method in ("runtime", "column", "cell_types", "connectivity", "set_emitter", "stimulus", "probes",
                   "to_dict", "from_dict", "to_yaml", "from_yaml", "sha256", "columns", "stimuli"):
        assert f"jaxfne.Configuration.{method}" in ids, method
    for member in ("to_xarray", "from_xarray", "dt_ms", "time_ms", "recorded", "units", "spike_events",
                   "spike_times", "save_json"):
        assert f"jaxfne.Signals.{member}" in ids, member
    for member in ("simulate", "simulate_fn", "compute_readout", "with_params", "n", "family", "scheme",
                   "dtype", "propagation", "cfg", "table", "geometry", "probes"):
        assert f"jaxfne.Model.{member}" in ids, member


def test_subpackages_are_documented(html: Path):
    io_ids = _ids(html / "api" / "io.html")
    missing = [n for n in jaxfne.io.__all__ if f"jaxfne.io.{n}" not in io_ids]
    assert not missing, f"names of jaxfne.io.__all__ without an entry on api/io.html: {missing}"
    assert "jaxfne.io.rerun.main" in io_ids
    fitting = _ids(html / "api" / "fitting.html")
    for n in set(jaxfne.fitting.__all__) - {"objective", "trace_objective"}:  # those two are on readouts.html
        assert f"jaxfne.fitting.{n}" in fitting, n
    plots = _ids(html / "api" / "plots.html")
    assert [n for n in jaxfne.plots.__all__ if f"jaxfne.plots.{n}" not in plots] == []
    errors = _ids(html / "api" / "errors.html")
    assert {f"jaxfne.errors.{n}" for n in jaxfne.errors.__all__} <= errors
    presets = _ids(html / "api" / "presets.html")
    assert {"jaxfne.presets.potjans_diesmann_2014", "jaxfne.presets.rs_fs", "jaxfne.presets.SETUPS"} <= presets
    assert "jaxfne.__main__.main" in _ids(html / "api" / "cli.html")
    assert {"jaxfne.objectives.trace_objective", "jaxfne.readouts.compute_readout"} <= _ids(
        html / "api" / "readouts.html")


def test_no_builtin_docstrings_leak(html: Path):
    # autodata of a dict without a ``#:`` comment shows dict's own docstring
    for page in (html / "api").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        for leak in ("new empty dictionary", "Built-in immutable sequence", "Initialize self"):
            assert leak not in text, f"{page.name} shows a builtin docstring ({leak!r})"


def test_the_user_guide_pages_exist(html: Path):
    for page in ("index.html", "guide/tour.html", "guide/workflow.html", "examples.html"):
        assert (html / page).is_file(), page
    tour = (html / "guide" / "tour.html").read_text(encoding="utf-8")
    assert 'href="../api/jaxfne.html#jaxfne.construct"' in tour  # cross-references resolve into the API


def _public_classes() -> list[type]:
    classes = []
    for module in (jaxfne, jaxfne.io, jaxfne.fitting, jaxfne.errors):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and obj not in classes:
                classes.append(obj)
    return classes


@pytest.mark.parametrize("cls", _public_classes(), ids=lambda c: c.__name__)
def test_public_members_have_docstrings(cls: type):
    assert cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}("), f"{cls.__name__} has no docstring"
    missing = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        func = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
        if (isinstance(func, property) or inspect.isfunction(func)) and not (func.__doc__ or "").strip():
            missing.append(name)
    assert not missing, f"{cls.__name__} members without a docstring: {missing}"
