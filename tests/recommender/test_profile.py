import pytest

from recommender.profile import Profile


def test_valid_profile_is_normalised():
    p = Profile.from_dict({"age": "67", "district": "D04", "needs": "Food; eldercare;food",
                           "languages": ["EN", "es"], "disability": "yes", "veteran": "true"})
    assert p.age == 67.0 and p.district == "d04" and p.disability is True
    assert p.needs == ["food", "eldercare"] and p.languages == ["en", "es"]
    assert p.extra == {"veteran": "true"}


@pytest.mark.parametrize("data, field", [
    ({"age": "old"}, "age"),
    ({"age": 300}, "age"),
    ({"age": True}, "age"),
    ({"monthly_income": -5}, "monthly_income"),
    ({"disability": "maybe"}, "disability"),
    ({"languages": ["klingonese"]}, "languages"),
    ({"needs": [1, 2]}, "needs"),
    ({"latitude": 39.2}, "latitude"),
    ({"gender": {"x": 1}}, "gender"),
])
def test_bad_fields_are_named(data, field):
    with pytest.raises(ValueError) as e:
        Profile.from_dict(data)
    assert str(e.value).startswith(field)


def test_missing_stays_missing():
    p = Profile.from_dict({"age": None, "monthly_income": "", "needs": []})
    assert p.age is None and p.monthly_income is None and p.needs == []


def test_profiles_are_checked_like_a_form():
    with pytest.raises(ValueError, match=r"^agee: not a profile field; did you mean 'age'\?"):
        Profile.from_dict({"agee": 67}, extra_columns=[])
    with pytest.raises(ValueError, match=r"^income: .*did you mean 'monthly_income'"):
        Profile.from_dict({"income": 900}, extra_columns=[])
    with pytest.raises(ValueError, match=r"^need: .*did you mean 'needs'"):
        Profile.from_dict({"need": "food"}, extra_columns=[])
    with pytest.raises(ValueError, match=r"^shoe_size: not a profile field \(accepted: age, "):
        Profile.from_dict({"shoe_size": 9}, extra_columns=[])
    # an extra column the model was trained with, and the fields the listing rules read, are fine
    assert Profile.from_dict({"shoe_size": 9, "veteran": "y"}, extra_columns=["shoe_size"]).extra["shoe_size"] == "9"


def test_language_names_and_iso_639_3_codes_become_the_contracts_codes():
    assert Profile.from_dict({"languages": ["Spanish", "spa", "hmn", "zh-Hant"]}).languages == ["es", "hmn", "zh"]
