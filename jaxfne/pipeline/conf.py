"""Where jaxfne's Hydra configuration tree is: the checkout's ``conf/``, else the copy in the package.

The groups ``python -m jaxfne`` (the ``jaxfne`` command) composes from live in the top-level ``conf/``
folder of the source tree, the workflow's. A wheel carries the same files as package data,
``jaxfne/_conf/`` (``[tool.setuptools]`` in ``pyproject.toml`` maps ``conf/`` there), so an installed
jaxfne runs in any directory; an editable install or a checkout on ``sys.path`` keeps using the
checkout's ``conf/``, where edits take effect at once.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["conf_dir", "packaged_conf_dir"]


def packaged_conf_dir() -> Path | None:
    """The configuration tree installed with the package (``jaxfne/_conf``), if there is one.

    Returns
    -------
    pathlib.Path or None
        ``<site-packages>/jaxfne/_conf`` when it holds ``config.yaml`` (a wheel install); None in a
        checkout or an editable install, whose package folder has no ``_conf``.
    """
    packaged = resources.files("jaxfne") / "_conf"
    if isinstance(packaged, Path) and (packaged / "config.yaml").is_file():
        return packaged.resolve()
    return None


def conf_dir() -> Path:
    """The Hydra config directory that ``python -m jaxfne`` composes from.

    Returns
    -------
    pathlib.Path
        The checkout's ``conf/`` when the package is imported from a source tree (``conf/config.yaml``
        and ``pyproject.toml`` beside the ``jaxfne`` folder: a checkout, an editable install), else
        the copy installed with the package (:func:`packaged_conf_dir`).

    Raises
    ------
    FileNotFoundError
        Neither exists: an installation built without its package data. The message names both
        places looked at.

    Notes
    -----
    The working directory plays no part: a ``conf/`` folder wherever the command is started is not
    picked up, so the same command composes the same configuration from any directory.
    """
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "conf" / "config.yaml").is_file() and (checkout / "pyproject.toml").is_file():
        return checkout / "conf"
    packaged = packaged_conf_dir()
    if packaged is None:
        raise FileNotFoundError(
            f"jaxfne's Hydra configuration was found neither in a checkout ({checkout / 'conf'}) nor in the "
            f"installed package ({resources.files('jaxfne') / '_conf'}); reinstall jaxfne from a wheel built "
            f"with its conf/ package data"
        )
    return packaged
