import numpy as np
import pandas as pd
import pytest

from training.split import split_interactions


def frame(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"resident_id": [f"r{i % 100}" for i in range(n)],
                         "service_id": [f"s{j}" for j in rng.integers(0, 50, n)],
                         "event": "enrolled", "timestamp": np.arange(n) * 10, "weight": 1.0})


def test_time_holdout_is_the_last_fifth_of_the_span():
    df = frame()
    s = split_interactions(df, cold_fraction=0)
    assert s.train["timestamp"].max() < s.holdout["timestamp"].min()
    assert len(s.holdout) == pytest.approx(200, abs=2)
    assert len(s.train) + len(s.holdout) == len(df)


def test_cold_residents_have_everything_in_holdout():
    df = frame()
    s = split_interactions(df, cold_fraction=0.1, seed=3)
    assert len(s.cold_residents) == 10
    assert not s.train["resident_id"].isin(s.cold_residents).any()
    cold_rows = df[df["resident_id"].isin(s.cold_residents)]
    assert s.holdout["resident_id"].isin(s.cold_residents).sum() == len(cold_rows)
    again = split_interactions(df, cold_fraction=0.1, seed=3)
    assert sorted(again.cold_residents) == sorted(s.cold_residents)  # deterministic per seed


def test_holdout_file_replaces_time_split_and_no_span_falls_back_to_random():
    df = frame()
    explicit = df.iloc[:5]
    s = split_interactions(df, holdout=explicit, cold_fraction=0)
    assert len(s.train) == len(df) and len(s.holdout) == 5 and s.info["holdout"] == "file"
    flat = df.assign(timestamp=0)
    r = split_interactions(flat, cold_fraction=0)
    assert r.info["holdout"].startswith("random") and 100 < len(r.holdout) < 300


def test_bad_fractions_are_rejected():
    with pytest.raises(ValueError, match="cold_residents"):
        split_interactions(frame(), cold_fraction=1.0)
