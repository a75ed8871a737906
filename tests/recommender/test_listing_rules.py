import pytest

from recommender.eligibility import Outcome

from .conftest import FAIL, PASS, UNK, catalog_of, outcome


@pytest.fixture(scope="module")
def catalog():
    rows = [
        dict(service_id="shelter", name="Women's shelter", eligibility_description="Homeless women, 18 and older"),
        dict(service_id="seniors", name="Senior centre", min_age=65, eligibility_description="Seniors 60+"),
        dict(service_id="either", name="Clinic",
             eligibility_description="Children up to age 19, and pregnant women of any age"),
        dict(service_id="open", name="Open", eligibility_description="Open to all"),
    ]
    return catalog_of(rows)


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


def test_the_baltimore_cases_of_the_issue():
    """Read the whole listing: the boy and the men's shelter whose rules are in the description, the
    recovery home for a 67-year-old woman, the pantry that cannot help the homeless."""
    rows = [
        {"service_id": "mission", "name": "Helping Up Mission", "eligibility_description": "See notes.",
         "description": "Helping Up Mission offers shelter.\n\nELIGIBILITY: Men ages 21 years and older\nFEES: None."},
        {"service_id": "recovery", "name": "Recovery home",
         "eligibility_description": "Persons 18 and older, currently in or have completed treatment for substance "
                                    "or alcohol abuse"},
        {"service_id": "pantry", "name": "Pantry",
         "eligibility_description": "Individuals and families in need with a kitchen (cannot help the homeless)"},
        {"service_id": "city", "name": "City residents only", "eligibility_description": "Baltimore City residents"},
        {"service_id": "wic", "name": "WIC", "eligibility_description": "Pregnant women"},
    ]
    cat = catalog_of(rows)
    boy, e = outcome(cat, age=16, gender="male")
    assert boy["mission"] == FAIL and boy["wic"] == FAIL
    assert not any("pregnant" in q for q in e.details(cat.index["wic"])[2])  # a boy is not asked
    woman, e = outcome(cat, age=67, gender="female")
    assert woman["recovery"] == UNK
    assert e.details(cat.index["recovery"])[2] == ["Is the resident in recovery from substance use (in or after treatment)?"]
    assert outcome(cat, age=40, homeless="yes")[0]["pantry"] == FAIL
    assert outcome(cat, age=40, homeless="no")[0]["pantry"] == PASS
    # a neighbourhood resolves to its city through the gazetteer
    assert outcome(cat, age=40, area="Hampden")[0]["city"] == PASS
    assert outcome(cat, age=40, area="Towson")[0]["city"] == FAIL
