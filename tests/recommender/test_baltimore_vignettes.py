"""The issue's figure on the real Baltimore directory: hand-written resident vignettes
(``tests/fixtures/baltimore_vignettes.csv``) get a top 5 with no service their own listing's rules
exclude them from, every need that an open service answers is answered, and the explanations cite
the listing's words and ask what is unknown.

The pipeline is the one a city runs (import the directory, generate a first usage history, train),
scaled down to stay fast (5,000 residents, 3 epochs); the checks live in
``bench/baltimore_vignettes.py``, which runs them at full scale.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from recommender.engine import Recommender
from recommender.eligibility import Outcome

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / ".." / "shared" / "data" / "baltimore-icarol"
FIXTURE = ROOT / "tests" / "fixtures" / "baltimore_vignettes.csv"


def _bench():
    spec = importlib.util.spec_from_file_location("baltimore_vignettes", ROOT / "bench" / "baltimore_vignettes.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


bench = _bench()
VIGNETTES = bench.load_vignettes(FIXTURE)
IDS = [v.vignette_id for v in VIGNETTES]


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    if not (SOURCE / "services.csv").exists():
        pytest.skip(f"{SOURCE} is absent: the Baltimore directory is shared test data, not part of the project")
    work = tmp_path_factory.mktemp("baltimore")
    return bench.build(work, residents=5_000, epochs=3, eval_residents=200, log=lambda *a: None)


@pytest.fixture(scope="session")
def checker(models_dir):
    return bench.VignetteChecker(Recommender.load(models_dir))


@pytest.fixture(scope="session")
def checked(checker):
    """vignette_id -> (VignetteCheck, RecommendationResult), each vignette asked once."""
    codes = set(checker.catalog.taxonomy.codes())
    return {v.vignette_id: checker.check(v, k=5) for v in bench.load_vignettes(FIXTURE, codes)}


def test_fixture_covers_the_residents_the_issue_names():
    assert len(VIGNETTES) >= 24
    profiles = [v.profile for v in VIGNETTES]

    def some(pred):
        return sum(1 for p in profiles if pred(p))

    assert some(lambda p: p.get("age", 0) >= 60) >= 2
    assert some(lambda p: p.get("homeless") and p.get("gender") == "female") >= 1
    assert some(lambda p: p.get("homeless") and p.get("gender") == "male") >= 1
    assert some(lambda p: p.get("veteran")) >= 2
    assert some(lambda p: p.get("pregnant")) >= 2
    assert some(lambda p: (p.get("household_size") or 0) >= 3) >= 3
    assert some(lambda p: 16 <= p.get("age", 0) <= 24) >= 3
    assert some(lambda p: p.get("languages") == ["es"]) >= 2
    assert some(lambda p: p.get("disability")) >= 3
    assert some(lambda p: "age" not in p) >= 2
    assert some(lambda p: (p.get("monthly_income") or 0) >= 4_000) >= 2
    places = {str(p.get("county", p.get("city", ""))).lower() for p in profiles}
    assert {"baltimore city", "baltimore county"} <= places
    assert sum(1 for v in VIGNETTES if len(v.needs) >= 3) >= 4


def test_taxonomy_codes_of_the_fixture_exist(checker):
    bench.load_vignettes(FIXTURE, set(checker.catalog.taxonomy.codes()))


@pytest.mark.parametrize("vignette_id", IDS)
def test_top5_lists_no_service_the_resident_is_excluded_from(checked, vignette_id):
    check, result = checked[vignette_id]
    assert len(result.items) == 5
    assert check.violations == []


def test_the_exclusion_check_has_something_to_catch(checked):
    # every vignette is closed out of some of the catalogue, so (a) is a real constraint
    assert all(c.excluded > 0 for c, _ in checked.values())


def test_the_exclusion_check_fails_an_engine_that_ignores_listing_text(models_dir):
    rec = Recommender.load(models_dir)
    rec.catalog.listing_rules = None  # the engine of before listing rules: structured columns only
    blind = bench.VignetteChecker(rec)
    violations = [m for v in VIGNETTES for m in blind.check(v, k=5)[0].violations]
    assert any("text rules" in m for m in violations)


@pytest.mark.parametrize("vignette_id", IDS)
def test_every_need_an_open_service_answers_is_answered(checked, vignette_id):
    check, result = checked[vignette_id]
    assert check.unanswered == []
    for need in check.vignette.needs:
        if check.answerable[need]:
            assert result.needs[need].service_ids
        else:  # nothing open answers it: the caseworker is told why instead
            assert not result.needs[need].service_ids and result.needs[need].reason


@pytest.mark.parametrize("vignette_id", IDS)
def test_explanations_quote_the_listing_and_ask_what_is_unknown(checked, vignette_id):
    check, result = checked[vignette_id]
    assert check.explanation_problems == []
    for item in result.items:
        if item.eligibility == Outcome.UNKNOWN.label:
            assert item.questions and all(q.strip().endswith("?") for q in item.questions)


def test_explanations_are_exercised(checker, checked):
    # the explanation test must meet listings with text rules and items of unknown eligibility
    applied = checker.catalog.listing_rules.rules
    with_rules = [it for c, _ in checked.values() for it in c.items if applied[checker.catalog.index[it.service_id]]]
    unknown = [it for c, _ in checked.values() for it in c.items if it.engine_status == Outcome.UNKNOWN]
    assert len(with_rules) >= 10
    assert len(unknown) >= 3


def test_a_bad_fixture_row_is_named(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text('vignette_id,story,profile_json,needs\nv1,"a story","{""age"": 200}",102-04\n')
    with pytest.raises(ValueError, match=r"v\.csv, row 2, column profile_json: age"):
        bench.load_vignettes(path)
    path.write_text('vignette_id,story,profile_json,needs\nv1,"a story","{""age"": 30}",102-04;999-99\n')
    with pytest.raises(ValueError, match=r"row 2, column needs: 999-99 not in the taxonomy"):
        bench.load_vignettes(path, {"102-04"})
