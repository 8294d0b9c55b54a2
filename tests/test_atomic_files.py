"""Files written atomically (figures, NWB, JSON, run configurations): complete or absent, never half
written, and with the permissions a new file gets (not tempfile.mkstemp's 0600)."""

from __future__ import annotations

import os

import pytest
from matplotlib.figure import Figure

from jaxfne.io.atomic import atomic_file
from jaxfne.plots import save


def _new_file_mode(tmp_path) -> int:
    probe = tmp_path / "probe"
    probe.write_text("")
    return probe.stat().st_mode & 0o777


def test_a_written_file_has_the_permissions_of_a_new_file(tmp_path):
    with atomic_file(tmp_path / "sub" / "a.txt") as tmp:
        tmp.write_text("x")
    out = tmp_path / "sub" / "a.txt"
    assert out.read_text() == "x"
    assert out.stat().st_mode & 0o777 == _new_file_mode(tmp_path)
    assert sorted(p.name for p in out.parent.iterdir()) == ["a.txt"]


def test_a_saved_figure_is_readable_by_others_as_any_new_file(tmp_path):
    old = os.umask(0o022)
    try:
        fig = Figure()
        fig.subplots().plot([0, 1], [1, 0])
        path = save(fig, tmp_path / "line.png")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    out = tmp_path / "b.txt"
    out.write_text("old")
    with pytest.raises(RuntimeError, match="writer failed"), atomic_file(out) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer failed")
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["b.txt"]
