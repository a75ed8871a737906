import pandas as pd
import pytest

from recommender.catalog import ServiceCatalog
from recommender.eligibility import Outcome, evaluate
from recommender.eligibility.listing import read_listing_rules

PASS, UNK, FAIL = Outcome.ELIGIBLE, Outcome.UNKNOWN, Outcome.INELIGIBLE
from recommender.profile import Profile


@pytest.fixture(scope="module")
def catalog():
    rows = [
        dict(service_id="shelter", name="Women's shelter", eligibility_description="Homeless women, 18 and older"),
        dict(service_id="seniors", name="Senior centre", min_age=65, eligibility_description="Seniors 60+"),
        dict(service_id="either", name="Clinic",
             eligibility_description="Children up to age 19, and pregnant women of any age"),
        dict(service_id="open", name="Open", eligibility_description="Open to all"),
    ]
    return ServiceCatalog.from_frame(pd.DataFrame(rows), read_rules=read_listing_rules)


def outcome(catalog, **profile):
    e = evaluate(catalog, Profile.from_dict(profile))
    return dict(zip(catalog.ids, e.outcome)), e


def test_rules_read_from_text_pass_fail_or_ask(catalog):
    out, e = outcome(catalog, age=30, gender="female", homeless="true")
    assert out["shelter"] == PASS and out["open"] == PASS
    out, _ = outcome(catalog, age=30, gender="male", homeless="true")
    assert out["shelter"] == FAIL
    out, e = outcome(catalog, age=30, gender="female")
    assert out["shelter"] == UNK
    status, reasons, questions = e.details(catalog.index["shelter"])
    assert status == Outcome.UNKNOWN and any("homeless" in q.lower() for q in questions)
    assert any("listing says \u201cHomeless\u201d" in r and "18 and older" in r for r in reasons)  # its own words


def test_structured_columns_win_over_text_of_the_same_kind(catalog):
    # the column says 65, the text says 60+: a 62-year-old fails on the column, not passes on the text
    out, _ = outcome(catalog, age=62)
    assert out["seniors"] == FAIL


def test_alternative_clauses(catalog):
    assert outcome(catalog, age=30, gender="female", pregnant="yes")[0]["either"] == PASS
    assert outcome(catalog, age=12)[0]["either"] == PASS
    assert outcome(catalog, age=30, gender="male", pregnant="no")[0]["either"] == FAIL
