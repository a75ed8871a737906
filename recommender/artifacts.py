"""Model folders on disk: arrays in ``.npz`` plus JSON, checksummed, written atomically.

A model version is a folder ``models/<version>/``::

    arrays.npz     every array (embeddings, feature map, popularity, resident ids and profiles)
    model.json     version, trained_at, parameters, blend weights, feature vocabulary, data fingerprint,
                   library versions, and the sha256 of every other file
    model.sha256   the sha256 of model.json itself, so an edit to model.json is caught like one to
                   any other file
    catalog.json   the service catalogue the model ranks, with its taxonomy
    metrics.json   the evaluation written by training

``models/CURRENT`` names the version in use; it is replaced atomically, so a reader sees the old or
the new name, never half of one; it names a version folder inside the models folder, never a path
elsewhere. Nothing here uses pickle: ``np.load(allow_pickle=False)`` refuses object arrays, every
file is checked against its checksum before use, and ``model.json`` is validated (types, finite
numbers) before anything reads it.
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .files import atomic_write_bytes, fsync_dir, sha256_bytes, sha256_file

FORMAT = "servicematch-model/1"
FILES = ("arrays.npz", "catalog.json", "metrics.json")
SEAL = "model.sha256"
#: A version's name: what CURRENT may hold (no separators, no "..", nothing absolute).
_VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
FOLDER_MODE = 0o750


class ModelFileError(ValueError):
    """A model folder is missing, incomplete, or does not match its checksums."""


def write_json(path: Path, obj) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def save_version(models_dir: Path, version: str, arrays: dict[str, np.ndarray], model_meta: dict,
                 catalog: dict, metrics: dict) -> Path:
    """Write a complete version folder under a temporary name, then rename it into place."""
    models_dir = Path(models_dir)
    check_version_name(version, models_dir)
    if not models_dir.exists():
        models_dir.mkdir(parents=True, mode=FOLDER_MODE)
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
        atomic_write_bytes(tmp / SEAL, (sha256_file(tmp / "model.json") + "\n").encode("ascii"))
        for name in (*FILES, "model.json", SEAL):
            os.chmod(tmp / name, 0o640)
        os.chmod(tmp, FOLDER_MODE)  # resident profiles live in here: not world-readable
        os.rename(tmp, final)
        fsync_dir(models_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def read_json(path: Path, data: bytes | None = None):
    """Parse a model file; NaN and Infinity (which Python's json would accept) are refused."""
    try:
        if data is None:
            data = Path(path).read_bytes()
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: missing") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise ModelFileError(f"{path}: not valid JSON ({e})") from None


def _finite_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def validate_meta(meta, where: Path) -> dict:
    """Check the parts of model.json that loading and ranking read: types and finite numbers.
    ModelFileError naming the file and field otherwise."""
    def bad(field: str, what: str):
        return ModelFileError(f"{where}: {field} {what}")

    if not isinstance(meta, dict):
        raise bad("the document", "must be an object")
    for field in ("format", "version"):
        if not isinstance(meta.get(field), str):
            raise bad(field, "must be a string")
    if "trained_at" in meta and not isinstance(meta["trained_at"], str):
        raise bad("trained_at", "must be a string")
    files = meta.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, str) and _SHA256.match(v) for v in files.values()):
        raise bad("files", "must map file names to sha256 hex digests")
    for section in ("model", "featurizer", "residents"):
        if section in meta and not isinstance(meta[section], dict):
            raise bad(section, "must be an object")
    _check_weights(meta.get("model", {}), "model", False, where)
    _check_numbers(meta, "", where)
    return meta


def _check_weights(value, path: str, inside: bool, where: Path) -> None:
    """Every leaf under a ``weights`` or ``*blend`` object (the numbers ranking multiplies by)
    must be a finite number: a weight made a string or a bool is refused here, before any
    request meets it."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_weights(v, f"{path}.{k}", inside or k == "weights" or str(k).endswith("blend"), where)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_weights(v, f"{path}[{i}]", inside, where)
    elif inside and not _finite_number(value):
        raise ModelFileError(f"{where}: {path} must be a finite number")


def _check_numbers(value, path: str, where: Path) -> None:
    """No float anywhere in model.json may be NaN or infinite (read_json already refuses the
    literals; this catches numbers too large for a float, e.g. 1e999)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ModelFileError(f"{where}: {path or 'a value'} must be a finite number")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_numbers(v, f"{path}.{k}" if path else str(k), where)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_numbers(v, f"{path}[{i}]", where)


def load_version(folder: Path) -> tuple[dict[str, np.ndarray], dict, dict, dict]:
    """(arrays, model meta, catalog, metrics) of a version folder, after checking every checksum."""
    folder = Path(folder)
    try:
        raw = (folder / "model.json").read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"{folder / 'model.json'}: missing") from None
    try:
        seal = (folder / SEAL).read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        raise ModelFileError(f"{folder / SEAL}: missing or unreadable (a model saved by this "
                             "version of servicematch has one; train again)") from None
    if seal != sha256_bytes(raw):
        raise ModelFileError(f"{folder / 'model.json'}: checksum does not match {SEAL} (file changed)")
    meta = validate_meta(read_json(folder / "model.json", raw), folder / "model.json")
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
    except (OSError, UnicodeDecodeError) as e:
        raise ModelFileError(f"{path}: unreadable ({type(e).__name__})") from None
    return name or None


def check_version_name(version: str, models_dir: Path) -> None:
    """A version is a plain folder name inside the models folder: CURRENT (or a reload request)
    can never point at ``../x`` or an absolute path elsewhere."""
    if not isinstance(version, str) or not _VERSION_NAME.match(version) or version in (".", ".."):
        raise ModelFileError(f"{Path(models_dir) / 'CURRENT'}: {str(version)[:80]!r} is not a model "
                             "version name (letters, digits, '.', '_', '-'; a folder inside the models folder)")


def set_current(models_dir: Path, version: str) -> None:
    check_version_name(version, models_dir)
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
    check_version_name(version, path)
    folder = path / version
    if not (folder / "model.json").exists():
        raise ModelFileError(f"{path / 'CURRENT'} names {version!r}, which is not a model folder")
    return folder
