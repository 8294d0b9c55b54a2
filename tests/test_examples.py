"""The tutorials in ``examples/`` run as they are written.

Every ``examples/*.py`` (the ones that exist now and those added later) runs in its own process at
``JAXFNE_EXAMPLE_SCALE=small``, from an empty working directory, with ``JAXFNE_EXAMPLE_OUT`` in a
temporary folder: it must exit with status 0 and write nothing outside that folder. Each script also
needs a module docstring (it is a tutorial) and a line in ``examples/README.md``.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TIMEOUT_S = 600


def _env(tmp_path: Path, scale: str = "small") -> dict[str, str]:
    return {**os.environ, "JAXFNE_EXAMPLE_SCALE": scale, "JAXFNE_EXAMPLE_OUT": str(tmp_path / "out"),
            "PYTHONDONTWRITEBYTECODE": "1"}


def _report(script: Path, proc: subprocess.CompletedProcess) -> str:
    return (f"{script.name} exited with status {proc.returncode}\n--- stdout (end) ---\n{proc.stdout[-4000:]}"
            f"\n--- stderr (end) ---\n{proc.stderr[-8000:]}")


def test_the_tutorials_are_there():
    names = [p.name for p in EXAMPLES]
    for expected in ("01_first_simulation.py", "02_field_probes.py", "03_sweep.py", "04_fitting.py", "05_store.py"):
        assert expected in names


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_is_documented(script: Path):
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    assert doc and len(doc.splitlines()) >= 3, f"{script.name} needs a module docstring that says what it shows"
    assert "JAXFNE_EXAMPLE_SCALE" in script.read_text(encoding="utf-8"), f"{script.name} ignores the scale"
    assert f"`{script.name}`" in (ROOT / "examples" / "README.md").read_text(encoding="utf-8"), (
        f"examples/README.md does not list {script.name}")


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script: Path, tmp_path: Path):
    work = tmp_path / "cwd"
    work.mkdir()
    proc = subprocess.run([sys.executable, str(script)], cwd=work, env=_env(tmp_path), capture_output=True,
                          text=True, timeout=TIMEOUT_S, check=False)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
    assert proc.returncode == 0, _report(script, proc)
    assert proc.stdout.strip(), f"{script.name} printed nothing: a tutorial shows what it computed"
    stray = sorted(str(p.relative_to(work)) for p in work.rglob("*"))
    assert not stray, f"{script.name} wrote outside JAXFNE_EXAMPLE_OUT: {stray}"


def test_an_unknown_scale_is_refused(tmp_path: Path):
    script = ROOT / "examples" / "01_first_simulation.py"
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=_env(tmp_path, scale="huge"),
                          capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    assert proc.returncode == 1, _report(script, proc)
    assert "ConfigurationError: JAXFNE_EXAMPLE_SCALE='huge' is not allowed" in proc.stderr, proc.stderr[-2000:]
