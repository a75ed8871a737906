import json
import shutil

import numpy as np
import pytest

from recommender import artifacts
from recommender.engine import Recommender


@pytest.fixture
def models_copy(trained_models, tmp_path):
    dst = tmp_path / "models"
    shutil.copytree(trained_models, dst)
    return dst


def test_models_root_follows_current(models_copy):
    version = artifacts.current_version(models_copy)
    assert version and (models_copy / version / "model.json").exists()
    rec = Recommender.load(models_copy)
    assert rec.version == version
    meta = json.loads((models_copy / version / "model.json").read_text())
    # what a trainer needs to trust a model file: what it was trained on, with what, and checksums
    for key in ("trained_at", "params", "data_fingerprint", "libraries", "files"):
        assert meta[key]
    assert set(meta["files"]) == {"arrays.npz", "catalog.json", "metrics.json"}


def test_tampered_file_is_refused(models_copy):
    folder = artifacts.resolve(models_copy)
    with open(folder / "catalog.json", "a") as f:
        f.write(" ")
    with pytest.raises(artifacts.ModelFileError, match="checksum"):
        Recommender.load(models_copy)


def test_truncated_arrays_are_refused(models_copy):
    folder = artifacts.resolve(models_copy)
    data = (folder / "arrays.npz").read_bytes()
    (folder / "arrays.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(artifacts.ModelFileError):
        Recommender.load(models_copy)


def test_object_arrays_are_never_written(tmp_path):
    with pytest.raises(artifacts.ModelFileError, match="object"):
        artifacts.save_version(tmp_path, "v1", {"x": np.array([{"a": 1}], dtype=object)}, {}, {}, {})
    assert not (tmp_path / "v1").exists() and not list(tmp_path.glob(".v1*"))


def test_current_names_a_version_and_is_replaced_atomically(models_copy):
    version = artifacts.current_version(models_copy)
    with pytest.raises(artifacts.ModelFileError):
        artifacts.set_current(models_copy, "no-such-version")
    assert artifacts.current_version(models_copy) == version
    (models_copy / "CURRENT").write_text("missing\n")
    with pytest.raises(artifacts.ModelFileError, match="missing"):
        artifacts.resolve(models_copy)


def test_empty_models_dir_says_train_first(tmp_path):
    with pytest.raises(artifacts.ModelFileError, match="train a model first"):
        Recommender.load(tmp_path)


def _rewrite_meta(folder, change, reseal=True):
    import hashlib

    meta = json.loads((folder / "model.json").read_text())
    change(meta)
    (folder / "model.json").write_text(json.dumps(meta, allow_nan=True))
    if reseal:
        (folder / artifacts.SEAL).write_text(hashlib.sha256((folder / "model.json").read_bytes()).hexdigest())


def _weight(meta, value):
    weights = meta["model"]["ranker"]["weights"]
    segment = next(iter(weights))
    weights[segment][next(iter(weights[segment]))] = value


@pytest.mark.parametrize("change,message", [
    (lambda m: _weight(m, "0.5"), "model.ranker.weights"),
    (lambda m: _weight(m, float("nan")), "not valid JSON"),
    (lambda m: _weight(m, True), "model.ranker.weights"),
    (lambda m: m.update(files=["arrays.npz"]), "files"),
    (lambda m: m.update(version=7), "version"),
])
def test_model_json_is_validated_before_use(models_copy, change, message):
    folder = artifacts.resolve(models_copy)
    _rewrite_meta(folder, change)
    with pytest.raises(artifacts.ModelFileError, match=message):
        Recommender.load(models_copy)


def test_model_json_is_covered_by_a_checksum(models_copy):
    folder = artifacts.resolve(models_copy)
    _rewrite_meta(folder, lambda m: m.update(trained_at="2001-01-01T00:00:00"), reseal=False)
    with pytest.raises(artifacts.ModelFileError, match="checksum"):
        Recommender.load(models_copy)
    (folder / artifacts.SEAL).unlink()
    with pytest.raises(artifacts.ModelFileError, match="model.sha256"):
        Recommender.load(models_copy)


@pytest.mark.parametrize("name", ["../elsewhere", "/tmp/elsewhere", "a/b", ".."])
def test_current_must_name_a_folder_inside_the_models_folder(models_copy, tmp_path, name):
    version = artifacts.current_version(models_copy)
    shutil.copytree(models_copy / version, tmp_path / "elsewhere")
    (models_copy / "CURRENT").write_text(name + "\n")
    with pytest.raises(artifacts.ModelFileError, match="not a model version name"):
        artifacts.resolve(models_copy)
    with pytest.raises(artifacts.ModelFileError):
        artifacts.set_current(models_copy, name)


def test_a_saved_version_is_private(models_copy, trained_models):
    folder = artifacts.resolve(trained_models)
    assert folder.stat().st_mode & 0o777 == 0o750
    for f in folder.iterdir():
        assert f.stat().st_mode & 0o007 == 0, f.name
