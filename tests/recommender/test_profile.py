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
    ({"languages": ["english"]}, "languages"),
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
