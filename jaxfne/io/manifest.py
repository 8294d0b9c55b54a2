"""Chunk manifests: every file of a store with its size and sha256, checked before the store is read.

A zarr store is a directory of small files: ``zarr.json`` metadata documents (the root one holds the
consolidated metadata) and one file per chunk of every array. zarr reads a missing chunk as the
fill value (with ``write_empty_chunks=False`` an absent chunk is normal), so a deleted chunk turns
into zeros or NaN without an error, and a truncated one into a decompression error that names no
variable. The manifest closes that gap.

:func:`write_manifest` lists every file under a store with its size in bytes and the sha256 of its
bytes and writes the list to ``manifest.json`` at the store's root.
:func:`jaxfne.io.store.write_store` calls it inside the temporary directory, after xarray has
written every array and the consolidated metadata and before the rename, so a store at its final
path has a manifest only if it is complete. :func:`verify_store` compares a store with its manifest.
It raises :class:`~jaxfne.io.errors.StoreError` naming the store, the variable and the chunk of
every file that is missing, truncated, grown, altered or not listed, and says what to do.
:func:`jaxfne.io.store.open_store` calls it before xarray reads anything.

Format
------
::

    {"format": "jaxfne-store-manifest", "version": 1, "algorithm": "sha256",
     "files": {"V_m/c/0/3/0": {"sha256": "5e0c...", "size": 1876543},
               "V_m/zarr.json": {"sha256": "...", "size": 702},
               "zarr.json": {"sha256": "...", "size": 9120}}}

Paths are relative to the store's root, with ``/`` separators and sorted. The manifest does not list
itself and holds no time stamp, so equal stores have equal manifests.

Cost
----
One sha256 pass over the stored (compressed) bytes, spread over a few threads. On a 48 MB store of
25 files (two seeds of float32 voltages and a spike raster), writing took 0.5-0.9 s, the manifest
0.03 s and verifying 0.03 s (2 shared cores, files in the page cache).

Notes
-----
Readers that list the store instead of reading the consolidated metadata (``consolidated=False``)
see ``manifest.json`` as a file that is not a zarr node. zarr 3.1 then warns "Object at
manifest.json is not recognized as a component of a Zarr hierarchy" and ignores the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import StoreError

__all__ = ["MANIFEST", "manifest_tree_hash", "read_manifest", "verify_store", "write_manifest"]

#: Name of the manifest file at a store's root.
MANIFEST = "manifest.json"

_FORMAT = "jaxfne-store-manifest"
_VERSION = 1
_ALGORITHM = "sha256"
#: Problems named one by one in an error message; the rest are counted.
_SHOWN = 6


def _digest(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, _ALGORITHM).hexdigest()


def _digests(root: Path, rels: Sequence[str]) -> dict[str, str]:
    """sha256 of each file, hashed by a few threads (hashlib releases the GIL; many small chunk files
    on a network filesystem are latency-bound)."""
    if len(rels) < 8:
        return {rel: _digest(root / rel) for rel in rels}
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return dict(zip(rels, pool.map(lambda rel: _digest(root / rel), rels)))


#: Files at a store's root that are not the store's: Snakemake marks a finished ``directory()``
#: output with ``.snakemake_timestamp`` after the job that wrote it ends.
NOT_STORE_FILES = (MANIFEST, ".snakemake_timestamp")


def _files(root: Path) -> list[str]:
    """Relative POSIX paths of every file under ``root`` except the manifest itself and the files of
    :data:`NOT_STORE_FILES`."""
    out = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        rel = Path(folder).relative_to(root)
        out.extend((rel / n).as_posix() for n in names if os.path.isfile(os.path.join(folder, n)))
    return sorted(f for f in out if f not in NOT_STORE_FILES)


def write_manifest(path: str | os.PathLike) -> Path:
    """Record the size and sha256 of every file of a store in ``<path>/manifest.json``.

    Parameters
    ----------
    path : path-like
        A complete zarr store directory (every array and the consolidated metadata written).

    Returns
    -------
    pathlib.Path
        The manifest file.

    Notes
    -----
    Call it last, before the store is moved to its final path: a file written into the store
    afterwards makes :func:`verify_store` fail.
    """
    root = Path(path)
    rels = _files(root)
    digests = _digests(root, rels)
    files = {rel: {"size": (root / rel).stat().st_size, _ALGORITHM: digests[rel]} for rel in rels}
    doc = {"format": _FORMAT, "version": _VERSION, "algorithm": _ALGORITHM, "files": files}
    out = root / MANIFEST
    out.write_text(json.dumps(doc, sort_keys=True, indent=1) + "\n")
    return out


def _remedy(root: Path) -> str:
    """What to do about a damaged store, naming the stage that wrote it when its attrs say."""
    try:
        attrs = json.loads((root / "zarr.json").read_text()).get("attributes", {})
    except (OSError, ValueError, AttributeError):
        attrs = {}
    stage = attrs.get("prov_stage")
    who = f"the stage that wrote it ({stage!r}, rule {attrs.get('prov_rule', '?')!r})" if stage else \
        "the stage that wrote it"
    return (f"Delete the store (rm -r '{root}') and rerun {who}. In the workflow, running Snakemake again then "
            f"rebuilds it and everything downstream; `snakemake --forcerun {root}` (-R) does the same without "
            "deleting it first. `--rerun-incomplete` does not notice the damage, because the job that wrote the "
            "store finished.")


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a store, checked for its format.

    Raises
    ------
    StoreError
        If ``path`` is not a directory, or has no readable jaxfne manifest (a store written before
        jaxfne recorded manifests, or not by :func:`jaxfne.io.store.write_store`).
    """
    root = Path(path)
    if not root.is_dir():
        raise StoreError(f"path={str(root)!r} is not allowed: an existing zarr store directory")
    mf = root / MANIFEST
    if not mf.is_file():
        raise StoreError(
            f"store {str(root)!r} has no {MANIFEST}: it was written before jaxfne recorded chunk checksums, or "
            "not by jaxfne.io.write_store, so a missing or damaged chunk cannot be detected. Rewrite it (delete "
            "it and rerun the stage that wrote it), or open it unchecked with open_store(path, verify=False)."
        )
    try:
        doc = json.loads(mf.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StoreError(f"store {str(root)!r}: its {MANIFEST} cannot be read ({exc}). {_remedy(root)}") from exc
    ok = (isinstance(doc, dict) and doc.get("format") == _FORMAT and doc.get("algorithm") == _ALGORITHM
          and isinstance(doc.get("files"), dict)
          and all(isinstance(v, dict) and isinstance(v.get("size"), int) and isinstance(v.get(_ALGORITHM), str)
                  for v in doc["files"].values()))
    if not ok:
        raise StoreError(f"store {str(root)!r}: {MANIFEST} is not a {_FORMAT} (version {_VERSION}, "
                         f"{_ALGORITHM}). {_remedy(root)}")
    return doc


def _where(rel: str, arrays: set[str]) -> str:
    """``variable 'V_m', chunk 'c/0/3/0'`` for a file of a store, from the arrays' folders."""
    parts = PurePosixPath(rel).parts
    for i in range(len(parts) - 1, -1, -1):
        node = "/".join(parts[:i])
        if node in arrays:
            rest = "/".join(parts[i:])
            if not node:
                return "the store's metadata (zarr.json, with the consolidated metadata)" if rest == "zarr.json" \
                    else f"file {rest!r} at the store's root"
            kind = "metadata" if rest == "zarr.json" else "chunk"
            return f"variable {node!r}, {kind} {rest!r}"
    return f"file {rel!r}"


def _problems(root: Path, files: Mapping[str, Mapping[str, Any]]) -> list[str]:
    arrays = {str(PurePosixPath(f).parent) if "/" in f else "" for f in files if PurePosixPath(f).name == "zarr.json"}
    out = []
    same_size = []
    for rel, entry in files.items():
        f = root / rel
        where = _where(rel, arrays)
        if not f.is_file():
            out.append(f"{where} is missing (file {rel}, {entry['size']} bytes written)")
            continue
        size = f.stat().st_size
        if size < entry["size"]:
            out.append(f"{where} is truncated (file {rel}: {size} of {entry['size']} bytes)")
        elif size > entry["size"]:
            out.append(f"{where} has grown (file {rel}: {size} bytes, {entry['size']} written)")
        else:
            same_size.append(rel)
    for rel, digest in _digests(root, same_size).items():
        if digest != files[rel][_ALGORITHM]:
            out.append(f"{_where(rel, arrays)} was altered (file {rel}: its {_ALGORITHM} differs from the one "
                       "written)")
    for rel in sorted(set(_files(root)) - set(files)):
        out.append(f"{_where(rel, arrays)} was not written with the store (file {rel}, not in {MANIFEST})")
    return out


def verify_store(path: str | os.PathLike) -> dict[str, Any]:
    """Check every file of a store against its manifest.

    Parameters
    ----------
    path : path-like
        A store written by :func:`jaxfne.io.store.write_store`.

    Returns
    -------
    dict
        The manifest (``files``: relative path -> ``{"size", "sha256"}``).

    Raises
    ------
    StoreError
        If the store has no manifest, or a listed file is missing, shorter or longer than written,
        or has other bytes, or a file that is not listed has appeared. The message names the store,
        the variable and the chunk (file) of each problem, and what to do.

    Examples
    --------
    >>> import numpy as np, xarray as xr, tempfile, pathlib
    >>> from jaxfne.io import write_store, verify_store
    >>> p = write_store(xr.Dataset({"x": ("t", np.arange(3.0))}), pathlib.Path(tempfile.mkdtemp()) / "a.zarr")
    >>> sorted(verify_store(p)["files"])
    ['x/c/0', 'x/zarr.json', 'zarr.json']
    """
    root = Path(path)
    doc = read_manifest(root)
    problems = _problems(root, doc["files"])
    if problems:
        shown = "; ".join(problems[:_SHOWN])
        more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        raise StoreError(f"store {str(root)!r} does not match its {MANIFEST}: {shown}{more}. {_remedy(root)}")
    return doc


def manifest_tree_hash(files: Mapping[str, Mapping[str, Any]], extra: Iterable[tuple[str, str]] = ()) -> str:
    """The tree hash of :func:`jaxfne.io.provenance.hash_path`, from a verified manifest's digests.

    Parameters
    ----------
    files : mapping
        Relative path -> ``{"sha256": ...}``, as in a manifest.
    extra : iterable of (str, str)
        Further ``(relative path, sha256)`` pairs, e.g. the manifest file's own.

    Returns
    -------
    str
        sha256 over the files sorted by path components, each as its path, a NUL byte and the hex
        sha256 of its bytes: the value ``hash_path`` computes by reading every file.
    """
    entries = [(rel, entry[_ALGORITHM]) for rel, entry in files.items()] + list(extra)
    h = hashlib.sha256()
    for rel, digest in sorted(entries, key=lambda e: PurePosixPath(e[0]).parts):
        h.update(rel.encode())
        h.update(b"\0")
        h.update(digest.encode())
    return h.hexdigest()
