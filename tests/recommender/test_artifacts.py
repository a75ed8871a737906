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
