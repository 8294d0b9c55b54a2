"""Store integrity and concurrency: chunk manifests checked on open, one writer per store path.

Every store here is a real zarr v3 store written by ``write_store`` and read back with xarray; the
concurrent writers are real processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from workflow_helpers import REPO, assert_same_arrays, env

from jaxfne.io import StoreError, hash_path, open_store, verify_store, write_store
from jaxfne.io.lock import lock_path, store_lock
from jaxfne.io.manifest import MANIFEST, write_manifest


def _dataset(n_t: int = 400, n_neurons: int = 30) -> xr.Dataset:
    rng = np.random.default_rng(11)
    return xr.Dataset(
        {
            "V_m": (("seed", "time", "neuron"), rng.normal(-65, 5, (2, n_t, n_neurons)).astype(np.float32),
                    {"units": "mV"}),
            "spikes": (("seed", "time", "neuron"), rng.random((2, n_t, n_neurons)) < 0.02, {"units": "1"}),
            "LFP": (("seed", "time", "contact"), rng.normal(0, 1, (2, n_t, 4)), {"units": "uV"}),
        },
        coords={"seed": [0, 1], "time": ("time", 0.1 * np.arange(n_t), {"units": "ms"}),
                "neuron": np.arange(n_neurons), "layer": ("neuron", np.array(["L4"] * n_neurons, dtype=object))},
        attrs={"prov_stage": "simulate", "prov_rule": "simulate", "prov_config_sha256": "ab" * 32,
               "prov_seeds_json": "[0,1]"},
    )


# V_m in chunks of 100 steps: chunk files V_m/c/<seed>/<0..3>/0
_CHUNKED = {"V_m": {"chunks": (1, 100, 30)}}


@pytest.fixture
def store(tmp_path) -> tuple[Path, xr.Dataset]:
    ds = _dataset()
    return write_store(ds, tmp_path / "sim.zarr", encoding=_CHUNKED), ds


def test_manifest_lists_every_file_with_size_and_sha256(store):
    path, ds = store
    doc = json.loads((path / MANIFEST).read_text())
    on_disk = sorted(f.relative_to(path).as_posix() for f in path.rglob("*") if f.is_file())
    assert sorted(doc["files"]) == [f for f in on_disk if f != MANIFEST]
    assert {"zarr.json", "V_m/zarr.json", "V_m/c/1/3/0", "spikes/c/0/0/0", "time/c/0"} <= set(doc["files"])
    for rel, entry in doc["files"].items():
        data = (path / rel).read_bytes()
        assert entry == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}, rel
    assert verify_store(path)["files"] == doc["files"]
    assert_same_arrays(open_store(path), ds, where="round trip")
    assert not list(path.parent.glob(".sim.zarr.tmp-*"))


def test_manifest_is_written_before_the_rename(tmp_path, monkeypatch):
    """A writer that fails while writing the manifest leaves nothing at the final path."""
    import jaxfne.io.store as store_mod

    def broken(path):
        assert not (tmp_path / "sim.zarr").exists() and Path(path).name.startswith(".sim.zarr.tmp-")
        raise OSError("disk full")

    monkeypatch.setattr(store_mod, "write_manifest", broken)
    with pytest.raises(OSError, match="disk full"):
        write_store(_dataset(), tmp_path / "sim.zarr")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sim.zarr.lock"]


def test_deleted_chunk_names_store_variable_and_chunk(store):
    path, ds = store
    (path / "V_m" / "c" / "1" / "2" / "0").unlink()
    # unchecked, the missing chunk reads as fill values without an error: what verification prevents
    unchecked = open_store(path, verify=False)["V_m"].values
    assert not np.array_equal(unchecked, ds["V_m"].values)
    np.testing.assert_array_equal(unchecked[0], ds["V_m"].values[0])
    with pytest.raises(StoreError) as err:
        open_store(path)
    msg = str(err.value)
    assert repr(str(path)) in msg and "variable 'V_m', chunk 'c/1/2/0' is missing" in msg
    assert "rerun the stage that wrote it ('simulate', rule 'simulate')" in msg and "--forcerun" in msg
    with pytest.raises(StoreError, match="c/1/2/0"):
        open_store(path, load=False)  # checked before xarray reads anything, lazily or not


def test_truncated_chunk_names_variable_and_chunk(store):
    path, ds = store
    chunk = path / "V_m" / "c" / "0" / "1" / "0"
    size = chunk.stat().st_size
    chunk.write_bytes(chunk.read_bytes()[: size // 2])
    # unchecked, the symptom of the issue: mostly a bare decompression error, but blosc reading past
    # the end of a truncated buffer is undefined, and it has also returned wrong values silently
    try:
        unchecked = open_store(path, verify=False)["V_m"].values
    except Exception as exc:  # noqa: BLE001 - whatever the codec raises, it is not the store's check
        assert not isinstance(exc, StoreError)
    else:
        assert not np.array_equal(unchecked, ds["V_m"].values)
    with pytest.raises(StoreError) as err:
        open_store(path)
    assert (f"variable 'V_m', chunk 'c/0/1/0' is truncated (file V_m/c/0/1/0: {size // 2} of {size} bytes)"
            in str(err.value))


def test_altered_bytes_of_the_same_size_are_found(store):
    path, _ = store
    chunk = path / "spikes" / "c" / "1" / "0" / "0"
    data = bytearray(chunk.read_bytes())
    data[-1] ^= 0xFF
    chunk.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"variable 'spikes', chunk 'c/1/0/0' was altered \(file spikes/c/1/0/0: its "
                                         r"sha256 differs"):
        open_store(path)


def test_damaged_metadata_and_unlisted_files_are_named(store):
    path, _ = store
    root = path / "zarr.json"
    root.write_text(root.read_text().replace('"mV"', '"mv"'))  # same size, other content
    (path / "V_m" / "c" / "0" / "9").mkdir()
    (path / "V_m" / "c" / "0" / "9" / "0").write_bytes(b"x")
    with pytest.raises(StoreError) as err:
        verify_store(path)
    msg = str(err.value)
    assert "the store's metadata (zarr.json, with the consolidated metadata) was altered" in msg
    assert "variable 'V_m', chunk 'c/0/9/0' was not written with the store" in msg
    with pytest.raises(StoreError, match="an existing zarr store directory"):
        verify_store(path.parent / "nowhere.zarr")


def test_many_problems_are_counted(store):
    path, _ = store
    for f in (path / "V_m" / "c").rglob("*"):
        if f.is_file():
            f.unlink()
    with pytest.raises(StoreError, match=r"; and 2 more\. Delete the store"):
        verify_store(path)


def test_store_without_manifest_is_a_clear_error(store):
    path, ds = store
    (path / MANIFEST).unlink()
    with pytest.raises(StoreError, match=r"has no manifest\.json: it was written before jaxfne recorded chunk "
                                         r"checksums.*open_store\(path, verify=False\)"):
        open_store(path)
    assert_same_arrays(open_store(path, verify=False), ds, where="unchecked")
    (path / MANIFEST).write_text('{"files": ')
    with pytest.raises(StoreError, match="manifest.json cannot be read"):
        open_store(path)
    (path / MANIFEST).write_text('{"format": "other"}')
    with pytest.raises(StoreError, match="is not a jaxfne-store-manifest"):
        open_store(path)


def test_hash_path_of_a_store_verifies_it_and_keeps_the_tree_hash(store):
    path, _ = store
    h = hashlib.sha256()
    for f in sorted(q for q in path.rglob("*") if q.is_file()):
        h.update(f.relative_to(path).as_posix().encode() + b"\0" + hashlib.sha256(f.read_bytes()).hexdigest().encode())
    assert hash_path(path) == h.hexdigest()
    (path / "LFP" / "c" / "0" / "0" / "0").unlink()
    with pytest.raises(StoreError, match="variable 'LFP', chunk 'c/0/0/0' is missing"):
        hash_path(path)


@pytest.mark.filterwarnings("ignore:Consolidated metadata is currently not part")
def test_write_manifest_then_verify_on_a_hand_made_store(tmp_path):
    """write_manifest works on any store directory; verify_store then accepts exactly that content."""
    p = tmp_path / "x.zarr"
    _dataset().to_zarr(p, zarr_format=3, consolidated=True)
    write_manifest(p)
    assert set(verify_store(p)["files"]) >= {"zarr.json", "V_m/zarr.json"}
    (p / "V_m" / "zarr.json").write_text("{}")
    with pytest.raises(StoreError, match="variable 'V_m', metadata 'zarr.json'"):
        verify_store(p)


# --- one writer per path ------------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import xarray as xr
    from jaxfne.io.store import StoreError, open_store, write_store

    ref, target, exist_ok, pause, ready, go = sys.argv[1:7]
    ds = open_store(ref).drop_encoding()
    if pause == "1":  # stop after xarray has written the temporary store, before the manifest and rename
        to_zarr = xr.Dataset.to_zarr

        def paused(self, *args, **kwargs):
            out = to_zarr(self, *args, **kwargs)
            Path(ready).touch()
            while not Path(go).exists():
                time.sleep(0.01)
            return out

        xr.Dataset.to_zarr = paused
    else:  # a start line: say ready, wait for go
        Path(ready).touch()
        while go != "-" and not Path(go).exists():
            time.sleep(0.001)
    try:
        write_store(ds, target, exist_ok=exist_ok == "1")
    except StoreError as exc:
        print("StoreError:", exc)
        sys.exit(3)
    print("wrote", target)
    """
)


def _writer(ref: Path, target: Path, ready: Path, go: Path | str = "-", *, exist_ok: bool = False,
            pause: bool = False) -> subprocess.Popen:
    args = [str(ref), str(target), "1" if exist_ok else "0", "1" if pause else "0", str(ready), str(go)]
    return subprocess.Popen([sys.executable, "-c", _WRITER, *args], cwd=REPO, env=env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(*paths: Path, procs: tuple[subprocess.Popen, ...] = (), timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not all(p.exists() for p in paths):
        for proc in procs:
            assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, f"timed out waiting for {paths}"
        time.sleep(0.02)


@pytest.fixture
def ref(tmp_path) -> tuple[Path, xr.Dataset]:
    ds = _dataset(n_t=3000, n_neurons=200)  # a few MB: writes of two processes overlap
    return write_store(ds, tmp_path / "ref.zarr"), ds


def test_second_writer_waits_and_leaves_the_first_ones_temporary(tmp_path, ref):
    """While the first writer holds the lock, its temporary store is not removed; the second
    writer (without and with exist_ok) waits, then finds the finished store."""
    ref_path, ds = ref
    final = tmp_path / "runs" / "sim.zarr"
    first = _writer(ref_path, final, tmp_path / "a.ready", tmp_path / "a.go", pause=True)
    _wait_for(tmp_path / "a.ready", procs=(first,))
    (tmp,) = final.parent.glob(".sim.zarr.tmp-*")
    plain = _writer(ref_path, final, tmp_path / "b.ready")
    keep = _writer(ref_path, final, tmp_path / "c.ready", exist_ok=True)
    _wait_for(tmp_path / "b.ready", tmp_path / "c.ready", procs=(plain, keep))
    time.sleep(1.0)  # both are now blocked on the lock (an unlocked writer would remove tmp here)
    assert plain.poll() is None and keep.poll() is None
    assert tmp.is_dir() and {"V_m", "spikes", "LFP", "zarr.json"} <= {p.name for p in tmp.iterdir()}
    assert not final.exists()
    (tmp_path / "a.go").touch()
    out_a, err_a = first.communicate(timeout=120)
    assert first.returncode == 0, out_a + err_a
    out_b, err_b = plain.communicate(timeout=120)
    assert plain.returncode == 3, out_b + err_b
    assert "does not exist yet (another writer wrote it while this one waited for the lock" in out_b
    assert f"pid {first.pid} on " in err_b  # the waiting writer names the one it waits for
    out_c, err_c = keep.communicate(timeout=120)
    assert keep.returncode == 0 and "exists and is intact" in err_c, out_c + err_c
    assert_same_arrays(open_store(final), ds, where="after three writers")
    assert not tmp.exists() and not list(final.parent.glob(".sim.zarr.tmp-*"))


@pytest.mark.parametrize("exist_ok", [False, True])
def test_two_writers_racing_on_one_path_leave_one_intact_store(tmp_path, ref, exist_ok):
    ref_path, ds = ref
    final = tmp_path / "sim.zarr"
    procs = [_writer(ref_path, final, tmp_path / f"{i}.ready", tmp_path / "go", exist_ok=exist_ok) for i in (0, 1)]
    _wait_for(tmp_path / "0.ready", tmp_path / "1.ready", procs=tuple(procs))
    (tmp_path / "go").touch()
    results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    results = [(code, out, err) for out, err, code in results]
    codes = sorted(r[0] for r in results)
    assert codes == ([0, 0] if exist_ok else [0, 3]), results
    assert sum(r[1].startswith("wrote ") for r in results) == (2 if exist_ok else 1)
    if not exist_ok:
        assert any("StoreError: path=" in r[1] and "does not exist yet" in r[1] for r in results)
    back = open_store(final)
    assert set(back.data_vars) == {"V_m", "spikes", "LFP"}
    assert_same_arrays(back, ds, where="race winner")
    assert not list(tmp_path.glob(".sim.zarr.tmp-*"))


def test_temporary_of_a_killed_writer_is_removed_by_the_next(tmp_path):
    """A writer killed while holding the lock releases it; its temporary is stale and removed."""
    final = tmp_path / "sim.zarr"
    holder = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from jaxfne.io.lock import store_lock
        final = Path(sys.argv[1])
        with store_lock(final):
            tmp = final.parent / f".{final.name}.tmp-killed"
            (tmp / "V_m" / "c").mkdir(parents=True)
            (tmp / "V_m" / "c" / "0").write_bytes(b"partial")
            print("holding", flush=True)
            time.sleep(600)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", holder, str(final)], cwd=REPO, env=env(), text=True,
                            stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == "holding"
    stale = tmp_path / ".sim.zarr.tmp-killed"
    assert stale.is_dir() and lock_path(final).is_file()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    ds = _dataset()
    write_store(ds, final)
    assert not stale.exists()
    assert_same_arrays(open_store(final), ds, where="after a killed writer")


def test_lock_is_reentrant_per_thread_and_exclusive_between_threads(tmp_path):
    final = tmp_path / "sim.zarr"
    events = []
    with store_lock(final) as outer:
        with store_lock(os.path.relpath(final)) as inner:
            assert inner is outer and outer.locked and not outer.waited
        write_store(_dataset(), final)  # the writer inside its caller's lock: no deadlock

        def other():
            with store_lock(final) as held:
                events.append(("other", held.waited))

        t = threading.Thread(target=other)
        t.start()
        time.sleep(0.3)
        events.append(("main releases", None))
    t.join(timeout=30)
    assert events == [("main releases", None), ("other", True)]
    assert lock_path(final).read_text().startswith(f"pid {os.getpid()} on ")


def test_exist_ok_refuses_a_store_of_another_run(tmp_path):
    ds = _dataset()
    path = write_store(ds, tmp_path / "sim.zarr")
    assert write_store(ds, path, exist_ok=True) == path
    other = ds.assign_attrs(prov_config_sha256="cd" * 32)
    with pytest.raises(StoreError, match="prov_config_sha256: stored 'abab"):
        write_store(other, path, exist_ok=True)
    with pytest.raises(StoreError, match=r"variables \['extra'\] are not stored"):
        write_store(ds.assign(extra=("time", np.zeros(ds.sizes["time"]))), path, exist_ok=True)
    (path / "LFP" / "c" / "1" / "0" / "0").unlink()
    with pytest.raises(StoreError, match="variable 'LFP', chunk 'c/1/0/0' is missing"):
        write_store(ds, path, exist_ok=True)


def test_two_python_m_jaxfne_runs_of_one_configuration(tmp_path):
    """Two concurrent runs of one configuration: one simulates and writes, the other waits and
    reports the store; both succeed, and the store is intact."""
    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "jaxfne", "emitter=izhikevich/tonic_spiking", "runtime.seed=5",
           "runtime.duration_ms=40", "column.n=12", f"out_dir={out}"]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=env(), text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(2)]
    results = [(*p.communicate(timeout=300), p.returncode) for p in procs]
    results = [(code, out, err) for out, err, code in results]
    assert [r[0] for r in results] == [0, 0], results
    (folder,) = list(out.iterdir())
    store = folder / "sim.zarr"
    assert all(r[1].strip().endswith(str(store)) for r in results)
    assert sum("nothing to do" in r[2] for r in results) == 1, results
    print(next(r[2] for r in results if "nothing to do" in r[2]))
    ds = open_store(store)
    assert {"spikes", "V_m"} <= set(ds.data_vars) and ds.sizes["seed"] == 1 and ds.sizes["neuron"] == 12
    assert ds["spikes"].values.sum() > 0
    assert sorted(p.name for p in folder.iterdir()) == [".sim.zarr.lock", "config.yaml", "sim.zarr"]


def test_filesystem_without_locks_warns_and_keeps_temporaries(tmp_path, monkeypatch):
    """Where flock fails (Lustre without -o flock), writes go on unlocked and remove nothing."""
    import errno

    import jaxfne.io.lock as lock_mod

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(lock_mod.fcntl, "flock", no_locks)
    maybe_live = tmp_path / ".sim.zarr.tmp-other"
    maybe_live.mkdir()
    ds = _dataset()
    with pytest.warns(RuntimeWarning, match="cannot lock .*stale temporaries are left in place"):
        path = write_store(ds, tmp_path / "sim.zarr")
    assert maybe_live.is_dir()
    assert_same_arrays(open_store(path), ds, where="unlocked write")
