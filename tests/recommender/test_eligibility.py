import pytest

from recommender.eligibility import Outcome, evaluate
from recommender.profile import Profile

from .conftest import FAIL, PASS, UNK, catalog_of, outcome


@pytest.fixture
def catalog():
    rows = [
        dict(service_id="open", name="Open to all"),
        dict(service_id="seniors", name="Seniors", min_age=60),
        dict(service_id="youth", name="Youth", min_age=12, max_age=24),
        dict(service_id="d04", name="Local", districts="d04;d05"),
        dict(service_id="spanish", name="Spanish only", languages="es"),
        dict(service_id="means", name="Means tested", max_income=2000),
        dict(service_id="full", name="Full", capacity=0),
        dict(service_id="closed", name="Closed", status="inactive"),
    ]
    return catalog_of(rows)


def test_structured_rules_pass_fail(catalog):
    out, _ = outcome(catalog, age=67, district="D04", languages=["en"], monthly_income=1500)
    assert out == {"open": PASS, "seniors": PASS, "youth": FAIL, "d04": PASS, "spanish": FAIL,
                   "means": PASS, "full": FAIL, "closed": FAIL}


def test_missing_fields_make_unknown_not_dropped(catalog):
    out, e = outcome(catalog)
    assert out["seniors"] == UNK and out["d04"] == UNK and out["spanish"] == UNK and out["means"] == UNK
    assert out["open"] == PASS
    status, reasons, questions = e.details(catalog.index["seniors"])
    assert status == Outcome.UNKNOWN and questions == ["What is the resident's age?"]


def test_reasons_say_why_in_words(catalog):
    _, e = outcome(catalog, age=67, monthly_income=2500)
    status, reasons, _ = e.details(catalog.index["seniors"])
    assert status == Outcome.ELIGIBLE and "age 67 meets ages 60 and over" in reasons
    status, reasons, _ = e.details(catalog.index["means"])
    assert status == Outcome.INELIGIBLE and any("above limit 2,000" in r for r in reasons)


def test_overrides_change_status_and_capacity_without_touching_catalog(catalog):
    e = evaluate(catalog, Profile(), overrides={"closed": {"status": "active"}, "full": {"capacity": 3},
                                                "open": {"capacity": 0}})
    out = dict(zip(catalog.ids, e.outcome))
    assert out["closed"] == PASS and out["full"] == PASS and out["open"] == FAIL
    assert catalog.status[catalog.index["closed"]] == "inactive"  # the shared catalogue is unchanged
    with pytest.raises(ValueError, match="status"):
        evaluate(catalog, Profile(), overrides={"open": {"status": "bogus"}})
