"""Model folders on disk: arrays in ``.npz`` plus JSON, checksummed, written atomically.

A model version is a folder ``models/<version>/``::

    arrays.npz     every array (embeddings, feature map, popularity, resident ids and profiles)
    model.json     version, trained_at, parameters, blend weights, feature vocabulary, data fingerprint,
                   library versions, and the sha256 of every other file
    catalog.json   the service catalogue the model ranks, with its taxonomy
    metrics.json   the evaluation written by training

``models/CURRENT`` names the version in use; it is replaced atomically, so a reader sees the old or
the new name, never half of one. Nothing here uses pickle: ``np.load(allow_pickle=False)`` refuses
object arrays, and every file is checked against its checksum before use.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .files import atomic_write_bytes, fsync_dir, sha256_file

FORMAT = "servicematch-model/1"
FILES = ("arrays.npz", "catalog.json", "metrics.json")


class ModelFileError(ValueError):
    """A model folder is missing, incomplete, or does not match its checksums."""


def write_json(path: Path, obj) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def save_version(models_dir: Path, version: str, arrays: dict[str, np.ndarray], model_meta: dict,
                 catalog: dict, metrics: dict) -> Path:
    """Write a complete version folder under a temporary name, then rename it into place."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / version
    if final.exists():
        raise ModelFileError(f"{final}: a model version with this name already exists")
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=models_dir))
    try:
        for key, arr in arrays.items():
            if arr.dtype == object:
                raise ModelFileError(f"array {key} has dtype object; model files hold plain arrays only")
        with open(tmp / "arrays.npz", "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        for name, obj in (("catalog.json", catalog), ("metrics.json", metrics)):
            write_json(tmp / name, obj)
        meta = dict(model_meta, format=FORMAT, version=version,
                    files={name: sha256_file(tmp / name) for name in FILES})
        write_json(tmp / "model.json", meta)
        os.chmod(tmp, 0o750)  # resident profiles live in here: not world-readable
        os.rename(tmp, final)
        fsync_dir(models_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def read_json(path: Path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: missing") from None
    except json.JSONDecodeError as e:
        raise ModelFileError(f"{path}: not valid JSON ({e})") from None


def load_version(folder: Path) -> tuple[dict[str, np.ndarray], dict, dict, dict]:
    """(arrays, model meta, catalog, metrics) of a version folder, after checking every checksum."""
    folder = Path(folder)
    meta = read_json(folder / "model.json")
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{folder / 'model.json'}: format {meta.get('format')!r}, expected {FORMAT!r}")
    for name in FILES:
        expected = meta.get("files", {}).get(name)
        path = folder / name
        if not path.exists():
            raise ModelFileError(f"{path}: missing")
        if expected != sha256_file(path):
            raise ModelFileError(f"{path}: checksum does not match model.json (file changed or truncated)")
    try:
        with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except ValueError as e:
        raise ModelFileError(f"{folder / 'arrays.npz'}: {e}") from None
    return arrays, meta, read_json(folder / "catalog.json"), read_json(folder / "metrics.json")


def current_version(models_dir: Path) -> str | None:
    path = Path(models_dir) / "CURRENT"
    try:
        name = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def set_current(models_dir: Path, version: str) -> None:
    if not (Path(models_dir) / version / "model.json").exists():
        raise ModelFileError(f"{Path(models_dir) / version}: not a model version folder")
    atomic_write_bytes(Path(models_dir) / "CURRENT", (version + "\n").encode("utf-8"))


def resolve(path: Path) -> Path:
    """A version folder, given itself or a models root (which then must have a CURRENT)."""
    path = Path(path)
    if (path / "model.json").exists():
        return path
    version = current_version(path)
    if version is None:
        raise ModelFileError(f"{path}: no model.json and no CURRENT; train a model first (servicematch train)")
    folder = path / version
    if not (folder / "model.json").exists():
        raise ModelFileError(f"{path / 'CURRENT'} names {version!r}, which is not a model folder")
    return folder
