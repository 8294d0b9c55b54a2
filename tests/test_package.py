"""The package a user installs: a wheel built from the checkout, installed with its dependencies into a
fresh virtualenv, runs ``jaxfne`` in an empty directory without the checkout; and the release files
(LICENSE, CITATION.cff, CHANGELOG.md) agree with the version and license the package declares.

The wheel is built from a copy of the files git would ship (tracked, plus untracked files that are
not ignored), so the checkout gets no ``build/`` or ``*.egg-info`` and no stale build output reaches
the wheel. The virtualenv is a plain ``python -m venv`` (no system site-packages): pip installs every
dependency from pyproject.toml there, which takes about 1.5 min on the 2-core machine.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

import jaxfne
from jaxfne.pipeline.compose import compose_overrides
from jaxfne.pipeline.conf import conf_dir, packaged_conf_dir
from jaxfne.pipeline.hydra_to_config import to_configuration

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _shipped_files() -> list[str]:
    out = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         capture_output=True, check=True).stdout.decode()
    return sorted(p for p in out.split("\0") if p and (REPO / p).is_file())


def _clean_env(venv: Path | None = None) -> dict[str, str]:
    """The environment of a child that must not find the checkout: no PYTHONPATH, no active venv."""
    drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("JAX_")}
    if venv is not None:
        env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``pip wheel . --no-deps`` of a copy of the checkout's shipped files."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    for rel in _shipped_files():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, src / rel)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-w", str(root / "dist")],
                          check=False, capture_output=True, text=True, env=_clean_env(), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (built,) = (root / "dist").glob("jaxfne-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    """A fresh virtualenv with the wheel and its dependencies installed; removed afterwards (~1 GB)."""
    path = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, env=_clean_env(), timeout=300)
    # --no-compile: byte-compiling every dependency doubles the install; what runs compiles on import
    proc = subprocess.run([str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile", str(wheel)],
                          check=False, capture_output=True, text=True, env=_clean_env(path), timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_the_wheel_holds_every_module_the_config_tree_and_the_license(wheel):
    """The package list in pyproject.toml is explicit: a sub-package missing from it fails here."""
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = _shipped_files()
    modules = {p for p in shipped if p.startswith("jaxfne/")}  # sources and data (py.typed)
    configs = {"jaxfne/_conf/" + p.removeprefix("conf/") for p in shipped
               if p.startswith("conf/") and p.endswith(".yaml")}
    assert "jaxfne/_conf/config.yaml" in configs and "jaxfne/_conf/runtime/short.yaml" in configs
    assert modules - names == set(), "missing from [tool.setuptools] packages or package-data in pyproject.toml"
    assert configs - names == set()
    assert {n for n in names if n.startswith("jaxfne/") and not n.startswith("jaxfne/_conf/")} == modules
    # nothing of the checkout's top level but the package (no top-level conf/ or tests/)
    assert {n.split("/")[0] for n in names} == {"jaxfne", f"jaxfne-{jaxfne.__version__}.dist-info"}
    info = f"jaxfne-{jaxfne.__version__}.dist-info"
    meta = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    assert f"\nVersion: {jaxfne.__version__}\n" in meta
    assert "\nLicense-Expression: BSD-3-Clause\n" in meta and "\nLicense-File: LICENSE\n" in meta
    assert zipfile.ZipFile(wheel).read(f"{info}/licenses/LICENSE") == (REPO / "LICENSE").read_bytes()
    entry_points = zipfile.ZipFile(wheel).read(f"{info}/entry_points.txt").decode()
    assert "jaxfne = jaxfne.__main__:main" in entry_points


def test_the_installed_command_runs_in_an_empty_directory_without_the_checkout(venv, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    proc = subprocess.run([str(venv / "bin" / "jaxfne"), "runtime=short", f"out_dir={out}"], cwd=empty,
                          check=False, capture_output=True, text=True, env=_clean_env(venv), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list(empty.iterdir()) == [], "the command wrote into the working directory"
    (folder,) = list(out.iterdir())
    store = folder / "sim.zarr"
    assert proc.stdout.strip().splitlines()[-1] == str(store)
    assert store.is_dir() and (folder / "config.yaml").is_file()

    probe = r"""
import json, sys
from importlib import metadata
from pathlib import Path
import xarray as xr
import jaxfne
from jaxfne.io.store import open_store
from jaxfne.pipeline.conf import conf_dir
ds = xr.open_zarr(sys.argv[1])
open_store(sys.argv[1])  # the manifest verifies
dist = metadata.distribution("jaxfne")
files = [Path(f.locate()).resolve() for f in dist.files]
texts = [p.read_text(errors="replace") for p in files if p.suffix in (".py", ".yaml", ".txt", ".json", "")
         and p.is_file()]
print(json.dumps({
    "sizes": dict(ds.sizes), "spikes": int(ds["spikes"].values.sum()),
    "attrs": {k: ds.attrs[k] for k in ("prov_config_sha256", "prov_git_commit", "prov_rule", "prov_seeds_json")},
    "jaxfne_file": str(Path(jaxfne.__file__).resolve()), "conf_dir": str(conf_dir()),
    "files": [str(p) for p in files], "texts": texts, "sys_path": [str(Path(p).resolve()) for p in sys.path if p],
    "direct_url": json.loads(dist.read_text("direct_url.json") or "{}"), "version": dist.version,
}))
"""
    read = subprocess.run([str(venv / "bin" / "python"), "-c", probe, str(store)], cwd=empty, capture_output=True,
                          text=True, env=_clean_env(venv), timeout=300, check=False)
    assert read.returncode == 0, read.stderr
    got = json.loads(read.stdout)

    # the store is the run the checkout's conf/ composes: the packaged tree is the same configuration
    composed = compose_overrides(REPO / "conf", [["runtime=short"]])[0]
    expected = to_configuration(composed)
    steps = round(composed["runtime"]["duration_ms"] / composed["runtime"]["dt_ms"])
    assert got["attrs"]["prov_config_sha256"] == expected.sha256
    assert got["sizes"]["seed"] == 1 and got["sizes"]["time"] == steps == 2000
    assert got["sizes"]["neuron"] == composed["column"]["n"]
    assert got["spikes"] > 0
    assert got["attrs"]["prov_rule"] == "python -m jaxfne" and json.loads(got["attrs"]["prov_seeds_json"]) == [0]
    # jaxfne came from no source tree (its provenance finds no git commit)
    assert got["attrs"]["prov_git_commit"] == "unknown"

    site = venv.resolve()
    assert got["version"] == jaxfne.__version__
    assert Path(got["jaxfne_file"]).is_relative_to(site)
    assert Path(got["conf_dir"]).is_relative_to(site) and Path(got["conf_dir"]).name == "_conf"
    assert not got["direct_url"].get("dir_info", {}).get("editable", False)
    repo = str(REPO)
    assert got["files"] and not [f for f in got["files"] if Path(f).is_relative_to(REPO)]
    assert not [p for p in got["sys_path"] if Path(p).is_relative_to(REPO)]
    assert len(got["texts"]) > 50 and not [t for t in got["texts"] if repo in t]


def test_the_installed_help_comes_from_the_packaged_config(venv, tmp_path):
    proc = subprocess.run([str(venv / "bin" / "jaxfne"), "--help"], cwd=tmp_path, capture_output=True, text=True,
                          env=_clean_env(venv), timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("jaxfne: simulate one configuration")
    assert "runtime: default, short" in proc.stdout and "results/interactive" in proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_the_checkout_composes_from_its_own_conf_wherever_the_command_starts(tmp_path, monkeypatch):
    """In a checkout (and an editable install) conf/ is the checkout's, not a conf/ in the working
    directory, and no packaged copy exists beside the sources."""
    decoy = tmp_path / "conf"
    decoy.mkdir()
    (decoy / "config.yaml").write_text("defaults: []\n")
    monkeypatch.chdir(tmp_path)
    assert conf_dir() == REPO / "conf"
    assert packaged_conf_dir() is None


def test_license_citation_and_changelog_agree_with_the_package():
    assert PYPROJECT["project"]["license"] == "BSD-3-Clause"
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    lic = (REPO / "LICENSE").read_text().splitlines()
    assert lic[0] == "BSD 3-Clause License" and "Copyright (c) 2026, the jaxfne developers" in lic
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert str(cff["version"]) == jaxfne.__version__
    assert cff["license"] == PYPROJECT["project"]["license"]
    assert cff["authors"] == [{"name": "The jaxfne developers"}]
    assert cff["date-released"] == datetime.date(2026, 12, 1)
    assert cff["title"].startswith("jaxfne") and len(cff["abstract"].split()) > 40
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert "keepachangelog.com" in changelog
    # the newest release (an "Unreleased" section above it collects what the next one will bring)
    releases = [line for line in changelog.splitlines() if line.startswith("## [") and line != "## [Unreleased]"]
    assert releases[0] == f"## [{cff['version']}] - {cff['date-released'].isoformat()}"
