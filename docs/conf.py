"""Sphinx configuration of jaxfne's documentation: the API reference and a short user guide.

Build it with ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (what
``tests/test_docs.py`` runs). autodoc imports the real, installed package: nothing is mocked, and no
extension reaches the network (``sphinx.ext.intersphinx`` stays off).
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jaxfne

project = "jaxfne"
author = "the jaxfne developers"
copyright = "the jaxfne developers"
release = jaxfne.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
]

exclude_patterns = ["_build"]
root_doc = "index"
default_role = "py:obj"

# -- autodoc / autosummary -------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_class_signature = "mixed"
autodoc_preserve_defaults = True
autosummary_generate = False

# -- napoleon: numpydoc docstrings -----------------------------------------------------------------
napoleon_numpy_docstring = True
napoleon_google_docstring = False
# an ``Attributes`` section becomes a field list of the class, so a property that documents itself
# is not described twice
napoleon_use_ivar = True
napoleon_use_rtype = False
napoleon_custom_sections = [("Equations", "notes_style")]

# -- HTML ------------------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"jaxfne {release}"
html_theme_options = {"description": "Cortical columns of point neurons in JAX, and the signals they make",
                      "fixed_sidebar": True}


# -- members that automodule cannot find -----------------------------------------------------------
# autodoc lists a module's members from ``dir()`` and documents module-level data only where the
# module's own source has a ``#:`` comment for it. Two kinds of public names fall through:
#
# - names a module ``__getattr__`` imports on first use (``jaxfne.io`` resolves ``rerun_store`` so that
#   ``python -m jaxfne.io.rerun`` runs its module once): not in ``dir()`` until then;
# - constants a package re-exports from the sub-module that defines and comments them
#   (``jaxfne.presets.SETUPS`` from the sub-module that defines it).
#
# A page that says ``.. unlisted-members:: MODULE`` gets one explicit directive per such name of
# ``MODULE.__all__`` in its place, and the docstring of a re-exported constant is its ``#:`` comment
# in the defining sub-module (named explicitly, autodoc would show the docstring of its type).
UNLISTED = ".. unlisted-members::"


def _is_data(obj) -> bool:
    return not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj))


def _attr_docs(module_name: str) -> dict:
    from sphinx.errors import PycodeError
    from sphinx.pycode import ModuleAnalyzer

    try:
        return ModuleAnalyzer.for_module(module_name).find_attr_docs()
    except PycodeError:  # a module without readable source has no comments to read
        return {}


def _defined_doc(package: str, attr: str, obj) -> list[str] | None:
    """The ``#:`` comment of ``attr`` in the sub-module of ``package`` that holds ``obj`` itself."""
    for name, module in sorted(sys.modules.items()):
        if name.startswith(package + ".") and vars(module).get(attr, None) is obj:
            doc = _attr_docs(name).get(("", attr))
            if doc:
                return list(doc)
    return None


def _unlisted_directives(module_name: str) -> str:
    """reST directives for the names of ``module_name.__all__`` that ``automodule`` does not list."""
    module = importlib.import_module(module_name)
    present, own_docs = set(dir(module)), _attr_docs(module_name)
    lines = []
    for name in module.__all__:
        lazy = name not in present
        obj = getattr(module, name)
        if inspect.ismodule(obj) or not (lazy or (_is_data(obj) and ("", name) not in own_docs)):
            continue
        if inspect.isclass(obj):
            lines += [f".. autoclass:: {module_name}.{name}", "   :members:", ""]
        elif callable(obj):
            lines += [f".. autofunction:: {module_name}.{name}", ""]
        else:
            lines += [f".. autodata:: {module_name}.{name}", "   :no-value:", ""]
    return "\n".join(lines)


def _fill_unlisted(app, docname: str, source: list[str]) -> None:
    out = []
    for line in source[0].splitlines():
        if line.startswith(UNLISTED):
            out.append(_unlisted_directives(line[len(UNLISTED):].strip()))
        else:
            out.append(line)
    source[0] = "\n".join(out) + "\n"


def _reexported_doc(app, what, name, obj, options, lines) -> None:
    if what != "data" or "." not in name:
        return
    if "\n".join(lines).strip() not in ("", inspect.cleandoc(type(obj).__doc__ or "").strip()):
        return
    package, attr = name.rsplit(".", 1)
    doc = _defined_doc(package, attr, obj)
    if doc:
        lines[:] = doc


def setup(app):
    """Register the hooks that document the members automodule cannot find."""
    app.connect("source-read", _fill_unlisted)
    app.connect("autodoc-process-docstring", _reexported_doc)
    return {"parallel_read_safe": True}
