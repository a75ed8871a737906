import numpy as np
import pandas as pd

from recommender.features import ResidentFeaturizer, profile_from_row
from recommender.taxonomy import Taxonomy
from training.pipeline import load_taxonomy
from training.tables import load_data_dir


def token_sets_by_row(f: ResidentFeaturizer, residents: pd.DataFrame) -> list[set[str]]:
    X = f.transform(residents)
    names = np.array(f.feature_names_, dtype=object)
    return [set(names[X.indices[X.indptr[i]:X.indptr[i + 1]]]) for i in range(X.shape[0])]


def test_table_and_single_profile_give_the_same_features(city_dir):
    """Training featurises whole tables column by column; a request featurises one profile: same tokens."""
    data = load_data_dir(city_dir)
    residents = data.residents.iloc[:400]
    f = ResidentFeaturizer()
    X = f.fit_transform(residents, load_taxonomy(city_dir), data.resident_extra_columns)
    assert X.shape == (400, len(f.feature_names_))
    cols = list(residents.columns)
    for i, tokens in enumerate(token_sets_by_row(f, residents)):
        assert tokens == set(f.tokens(profile_from_row(cols, tuple(residents.iloc[i])))), i


def test_missing_values_and_extra_columns():
    tax = Taxonomy()
    tax.add_codes(["food/pantry"])
    df = pd.DataFrame({"resident_id": ["a", "b", "c"], "age": [70.0, np.nan, 17.0],
                       "gender": ["female", "", None], "needs": ["food/pantry", "", "food;food/pantry"],
                       "disability": pd.array([True, None, False], dtype="boolean"),
                       "monthly_income": [np.nan, np.nan, np.nan], "veteran": ["yes", "", "no"]})
    f = ResidentFeaturizer()
    f.fit_transform(df, tax, ["veteran"])
    rows = token_sets_by_row(f, df)
    assert {"age:65-74", "gender:female", "need:food", "need:food/pantry", "disability:yes", "veteran:yes",
            "income:unknown"} <= rows[0]
    assert {"age:unknown", "gender:unknown", "disability:unknown"} <= rows[1]
    assert not any(t.startswith("need:") or t.startswith("veteran:") for t in rows[1])
    assert {"age:<18", "need:food", "need:food/pantry", "veteran:no"} <= rows[2]
    cols = list(df.columns)
    for i in range(3):
        assert rows[i] == set(f.tokens(profile_from_row(cols, tuple(df.iloc[i])))), i
