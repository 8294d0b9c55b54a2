"""PyNEST, imported quietly and only when a test or benchmark runs it."""

from __future__ import annotations

import os

__all__ = ["import_nest", "nest_available"]


def import_nest():
    """``import nest`` without its banner."""
    os.environ.setdefault("PYNEST_QUIET", "1")
    import nest

    return nest


def nest_available() -> bool:
    """Whether PyNEST can be imported."""
    try:
        import_nest()
    except ImportError:
        return False
    return True
