"""NeedMatcher: a resident's free-text need -> taxonomy terms, on the generator's and a real 211 taxonomy.

The accuracy fixture ``tests/fixtures/need_phrases.csv`` was labelled from the taxonomy names before
the matcher's answers were looked at; ``expected_codes`` lists every term that is a right answer
(the Baltimore taxonomy repeats names such as "Help Pay for Housing" under several parents).
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import pandas as pd
import pytest

from recommender.need_text import JSON_FORMAT, NeedMatch, NeedMatcher
from recommender.taxonomy import Taxonomy
from training.generate_catalog import taxonomy_frame

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "need_phrases.csv"
BALTIMORE_TAXONOMY = ROOT / ".." / "shared" / "data" / "baltimore-icarol" / "taxonomy.csv"

GARBAGE = ["", "   ", "asdfgh", "qwerty zxcvb", "12345", "!!!???", "the and of", "hello how are you",
           "lorem ipsum dolor sit amet", "xyzzy plugh", "I need help", "thank you so much", "ok"]


def _city_taxonomy() -> Taxonomy:
    return Taxonomy.from_rows(taxonomy_frame().itertuples(index=False, name=None))


def _baltimore_taxonomy() -> Taxonomy:
    if not BALTIMORE_TAXONOMY.exists():
        pytest.skip(f"real Baltimore 211 taxonomy not found at {BALTIMORE_TAXONOMY} (shared data absent)")
    df = pd.read_csv(BALTIMORE_TAXONOMY, dtype=str, keep_default_na=False)
    return Taxonomy.from_rows(zip(df["taxonomy_id"], df["name"], df["parent_id"]))


@pytest.fixture(scope="module")
def city() -> Taxonomy:
    return _city_taxonomy()


@pytest.fixture(scope="module")
def city_matcher(city) -> NeedMatcher:
    return NeedMatcher().fit(city)


@pytest.fixture(scope="module")
def baltimore() -> Taxonomy:
    return _baltimore_taxonomy()


@pytest.fixture(scope="module")
def baltimore_matcher(baltimore) -> NeedMatcher:
    return NeedMatcher().fit(baltimore)


@pytest.fixture(scope="module")
def phrases() -> pd.DataFrame:
    return pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)


def _accuracy(matcher: NeedMatcher, rows: pd.DataFrame) -> tuple[float, float, list[str]]:
    top1 = top3 = 0
    misses = []
    for text, expected in zip(rows["text"], rows["expected_codes"]):
        right = set(expected.split(";"))
        got = [m.code for m in matcher.match(text, k=3)]
        top1 += bool(got) and got[0] in right
        top3 += any(code in right for code in got)
        if not got or got[0] not in right:
            misses.append(f"{text!r}: got {got}, expected one of {sorted(right)}")
    return top1 / len(rows), top3 / len(rows), misses


# -- the fixture itself -------------------------------------------------------------------------

def test_fixture_has_enough_phrases_for_both_taxonomies(phrases, city):
    assert list(phrases.columns) == ["text", "taxonomy", "expected_codes"]
    assert len(phrases) >= 40
    assert set(phrases["taxonomy"]) == {"city", "baltimore"}
    assert not phrases.duplicated(["text", "taxonomy"]).any()
    for row in phrases[phrases["taxonomy"] == "city"].itertuples():
        unknown = set(row.expected_codes.split(";")) - set(city.parents)
        assert not unknown, f"{FIXTURE.name}: {row.text!r} expects codes not in the city taxonomy: {unknown}"


def test_fixture_baltimore_codes_exist(phrases, baltimore):
    for row in phrases[phrases["taxonomy"] == "baltimore"].itertuples():
        unknown = set(row.expected_codes.split(";")) - set(baltimore.parents)
        assert not unknown, f"{FIXTURE.name}: {row.text!r} expects codes not in the Baltimore taxonomy: {unknown}"


# -- accuracy on residents' phrasings -----------------------------------------------------------

@pytest.mark.parametrize("which", ["city", "baltimore"])
def test_accuracy_on_resident_phrases(which, phrases, request):
    matcher = request.getfixturevalue(f"{which}_matcher")
    rows = phrases[phrases["taxonomy"] == which]
    top1, top3, misses = _accuracy(matcher, rows)
    print(f"\n[need_text] {which}: n={len(rows)} top-1={top1:.3f} top-3={top3:.3f}")
    assert top1 >= 0.8, f"{which} top-1 {top1:.3f} < 0.8; misses:\n" + "\n".join(misses)
    assert top3 >= 0.9, f"{which} top-3 {top3:.3f} < 0.9; misses:\n" + "\n".join(misses)


def test_match_fields_and_order(city, city_matcher):
    got = city_matcher.match("can't pay rent this month", k=3)
    assert got and got[0].code == "housing/rent"
    assert all(isinstance(m, NeedMatch) for m in got)
    assert [m.score for m in got] == sorted((m.score for m in got), reverse=True)
    for m in got:
        assert m.name == city.names[m.code] and m.path == city.path(m.code)
        assert 0.0 < m.score <= 1.0 + 1e-9
    assert city_matcher.match("can't pay rent this month", k=1) == got[:1]


def test_works_on_any_taxonomy_names_not_codes():
    # codes and wording the lexicon has never seen: it expands the text, it does not know codes
    tax = Taxonomy.from_rows([
        ("z-100", "Rental Assistance Program", ""), ("z-200", "Groceries and Food Boxes", ""),
        ("z-300", "Employment Services", ""), ("z-400", "Legal Representation and Advice", ""),
        ("z-500", "Utility Payment Help", ""),
    ])
    m = NeedMatcher().fit(tax)
    assert m.match("behind on rent, landlord wants us out")[0].code == "z-100"
    assert m.match("my kids are hungry")[0].code == "z-200"
    assert m.match("I got laid off")[0].code == "z-300"
    assert m.match("need an attorney")[0].code == "z-400"
    assert m.match("they shut off my electricity")[0].code == "z-500"


def test_ancestor_names_find_children(city_matcher):
    # "Ride programs" names no transport word; its parent "Transportation" does
    codes = [m.code for m in city_matcher.match("transportation", k=3)]
    assert codes[0] == "transport" and "transport/rides" in codes


def test_char_ngrams_rank_a_misspelling(city_matcher):
    assert city_matcher.match("dentl care")[0].code == "health/dental"


# -- nothing close -> nothing -------------------------------------------------------------------

@pytest.mark.parametrize("text", GARBAGE)
def test_empty_or_garbage_text_gives_no_match(text, city_matcher):
    assert city_matcher.match(text) == []


def test_garbage_gives_no_match_on_baltimore(baltimore_matcher):
    assert {t: baltimore_matcher.match(t) for t in GARBAGE} == {t: [] for t in GARBAGE}


def test_min_score_is_honoured(city_matcher):
    loose = city_matcher.match("food", k=10, min_score=0.0)
    strict = city_matcher.match("food", k=10, min_score=0.5)
    assert all(m.score >= 0.5 for m in strict) and len(strict) < len(loose)
    assert city_matcher.match("food", min_score=1.01) == []


# -- determinism, speed -------------------------------------------------------------------------

def test_deterministic_across_calls_fits_and_row_order(city, phrases):
    rows = city.rows()
    shuffled = Taxonomy.from_rows(list(reversed(rows)))
    a, b = NeedMatcher().fit(city), NeedMatcher().fit(shuffled)
    for text in phrases.loc[phrases["taxonomy"] == "city", "text"]:
        first = a.match(text, k=5)
        assert a.match(text, k=5) == first
        assert b.match(text, k=5) == first


def test_equal_scores_are_ordered_by_code():
    tax = Taxonomy.from_rows([("b", "Food pantry", ""), ("c", "Food pantry", ""), ("a", "Food pantry", "")])
    got = NeedMatcher().fit(tax).match("food pantry", k=3)
    assert [m.code for m in got] == ["a", "b", "c"]
    assert len({m.score for m in got}) == 1


def test_query_is_fast_on_the_517_term_baltimore_taxonomy(baltimore_matcher, phrases):
    assert len(baltimore_matcher.codes_) == 517
    texts = list(phrases["text"]) * 2
    baltimore_matcher.match(texts[0])  # warm-up
    times = []
    for text in texts:
        t0 = time.perf_counter()
        baltimore_matcher.match(text)
        times.append(time.perf_counter() - t0)
    median_ms = statistics.median(times) * 1000
    print(f"\n[need_text] baltimore: median {median_ms:.2f} ms/query over {len(texts)} queries")
    assert median_ms < 5.0


# -- persistence --------------------------------------------------------------------------------

def _round_trip(matcher: NeedMatcher) -> NeedMatcher:
    text = json.dumps(matcher.to_json(), allow_nan=False)  # plain JSON types only
    return NeedMatcher.from_json(json.loads(text))


def test_json_round_trip_answers_identically(city_matcher, phrases):
    loaded = _round_trip(city_matcher)
    assert loaded.to_json() == city_matcher.to_json()
    for text in list(phrases["text"]) + GARBAGE:
        assert loaded.match(text, k=5) == city_matcher.match(text, k=5)


def test_json_round_trip_on_baltimore(baltimore_matcher, phrases):
    loaded = _round_trip(baltimore_matcher)
    for text in phrases.loc[phrases["taxonomy"] == "baltimore", "text"]:
        assert loaded.match(text, k=3) == baltimore_matcher.match(text, k=3)


def test_json_keeps_params(city):
    m = NeedMatcher(min_score=0.45, name_weight=0.6, char_weight=0.2, char_ngrams=(2, 4)).fit(city)
    loaded = _round_trip(m)
    assert (loaded.min_score, loaded.name_weight, loaded.char_weight, tuple(loaded.char_ngrams)) == \
        (0.45, 0.6, 0.2, (2, 4))
    assert loaded.match("need food for my kids") == m.match("need food for my kids")


def test_from_json_rejects_bad_documents(city_matcher):
    good = city_matcher.to_json()
    with pytest.raises(ValueError, match="format"):
        NeedMatcher.from_json({**good, "format": "something-else/9"})
    with pytest.raises(ValueError, match="format"):
        NeedMatcher.from_json([1, 2, 3])
    with pytest.raises(ValueError, match="'word'"):
        NeedMatcher.from_json({k: v for k, v in good.items() if k != "word"})
    short_idf = {**good, "char": {**good["char"], "idf": good["char"]["idf"][:-1]}}
    with pytest.raises(ValueError, match="char.vocabulary"):
        NeedMatcher.from_json(short_idf)
    fewer_names = {**good, "terms": {**good["terms"], "names": good["terms"]["names"][:-1]}}
    with pytest.raises(ValueError, match="terms.names"):
        NeedMatcher.from_json(fewer_names)
    assert good["format"] == JSON_FORMAT


# -- misuse -------------------------------------------------------------------------------------

def test_unfitted_and_bad_arguments(city, city_matcher):
    with pytest.raises(RuntimeError, match="not fitted"):
        NeedMatcher().match("food")
    with pytest.raises(RuntimeError, match="not fitted"):
        NeedMatcher().to_json()
    with pytest.raises(ValueError, match="k must be"):
        city_matcher.match("food", k=0)
    with pytest.raises(TypeError, match="string"):
        city_matcher.match(None)
    with pytest.raises(ValueError, match="name_weight"):
        NeedMatcher(name_weight=1.5).fit(city)
    with pytest.raises(ValueError, match="no terms"):
        NeedMatcher().fit(Taxonomy())


def test_fit_on_a_subset_of_codes(city):
    m = NeedMatcher().fit(city, codes=["FOOD/pantry", "housing/rent"])
    assert m.codes_ == ["food/pantry", "housing/rent"]
    assert [x.code for x in m.match("need food for my kids")] == ["food/pantry"]
    assert m.match("lost my job") == []
    with pytest.raises(ValueError, match="jobs/nope"):
        NeedMatcher().fit(city, codes=["jobs/nope"])


def test_the_multilingual_fixture_is_varied_and_parsed_well_enough(city_matcher):
    """tests/fixtures/need_phrases_multi.csv: en/zh/es, a fifth aside, many with several needs.
    The figures themselves are measured by bench/need_phrases.py; this guards against a collapse."""
    df = pd.read_csv(ROOT / "tests" / "fixtures" / "need_phrases_multi.csv", dtype=str, keep_default_na=False)
    assert set(df["lang"]) == {"en", "zh", "es"} and (df["split"] == "holdout").sum() >= len(df) // 6
    assert sum(len(n.split(";")) >= 2 for n in df["needs"]) >= 70
    found = expected = 0
    for text, needs in zip(df["text"][df["taxonomy"] == "city"], df["needs"][df["taxonomy"] == "city"]):
        codes = [n.code for n in city_matcher.parse(text).needs]
        for need in filter(None, needs.split(";")):
            expected += 1
            found += any(c == alt or c.startswith(alt + "/") for c in codes for alt in need.split("|"))
    assert found / expected >= 0.85


def test_hand_vectorised_scores_equal_scikit_learns(city_matcher):
    """The fast path (dense or sparse rows) computes exactly what the fitted vectorizers would."""
    import numpy as np

    from recommender.need_text import _char_features, _word_features

    doc = "cant pay rent housing rent financial pay money"
    for name, feats, vec, mat in (
            ("word", _word_features(doc), city_matcher.word_vectorizer_, city_matcher.word_matrix_),
            ("char", _char_features(doc, *city_matcher.char_ngrams), city_matcher.char_vectorizer_,
             city_matcher.char_matrix_)):
        want = (vec.transform([doc]) @ mat).toarray().ravel()
        fast = city_matcher._fast[name]
        assert np.allclose(fast.scores(feats), want)
        dense, fast.dense = fast.dense, None
        try:
            assert np.allclose(fast.scores(feats), want)
        finally:
            fast.dense = dense


def _blended_reference(matcher: NeedMatcher, words: list[str]):
    """The blended word + char scores of a query document, from the fitted scikit-learn vectorizers."""
    doc = " ".join(words)
    word = (matcher.word_vectorizer_.transform([doc]) @ matcher.word_matrix_).toarray().ravel()
    char = (matcher.char_vectorizer_.transform([doc]) @ matcher.char_matrix_).toarray().ravel()
    return (1.0 - matcher.char_weight) * word + matcher.char_weight * char


def test_joint_index_scores_equal_scikit_learns(city_matcher, baltimore):
    """One gather over n-gram, known-word and concept-block rows gives what the vectorizers give: with
    n-grams repeated across words ("rent"/"rental"), inside a word ("banana"), of unknown words, and
    a concept's block read from its own row."""
    import numpy as np

    from recommender.need_text import _CONCEPTS, _analyse

    some = NeedMatcher().fit(baltimore, codes=baltimore.codes()[:300])
    rent = _analyse("rent")[1][0]  # the rent concept's index
    docs = [["cant", "pay", "rent", "housing", "financial", "money"], ["banana", "ananas", "xqzt"],
            ["dentl", "care", "dental"], ["rental", "rent", "renter", "rentrent"], ["zz"], []]
    for matcher in (city_matcher, some):
        joint = matcher._joint
        assert joint is not None
        for words in docs:
            assert np.allclose(joint.scores(words), _blended_reference(matcher, words), atol=1e-12)
            # a block: the concept's words and their derived forms, then any other words
            block = list(dict.fromkeys(list(_CONCEPTS[rent]) + [v for c in _CONCEPTS[rent]
                                                              for v in matcher.variants_.get(c, ())]))
            with_block = list(dict.fromkeys(words[:1] + block + words[1:]))
            assert np.allclose(joint.scores(with_block, rent), _blended_reference(matcher, with_block), atol=1e-12)


def test_fast_and_plain_paths_parse_alike(city_matcher):
    """The joint index answers every fixture phrase as the two separate indexes do."""
    df = pd.read_csv(ROOT / "tests" / "fixtures" / "need_phrases_multi.csv", dtype=str, keep_default_na=False)
    texts = list(df["text"]) + GARBAGE + ["dentl care", "a ride to my doctor", "I can't pay rent and need fod"]
    fast = [city_matcher._parse(t) for t in texts]
    joint, city_matcher._joint = city_matcher._joint, None
    try:
        plain = [city_matcher._parse(t) for t in texts]
    finally:
        city_matcher._joint = joint
    assert fast == plain


def test_best_term_alone_equals_the_first_of_the_sorted_answer():
    """``_top(scores, 1)`` (max and its ties only) answers as sorting every score does."""
    import numpy as np

    tax = Taxonomy.from_rows([(c, f"Term {c}", "") for c in "edcbaf"])
    m = NeedMatcher().fit(tax)
    rng = np.random.default_rng(0)
    for _ in range(300):
        s = rng.choice([0.0, 0.2, 0.3, 0.3000004, 0.2999996, 0.5, 0.5000004, 0.7], size=6)
        assert m._top(s, 1) == m._top(s, 6)[:1]


def test_a_chinese_text_without_separators_is_one_clause():
    from recommender.need_text import split_clauses

    assert split_clauses("我需要找工作") == ["我需要找工作"]
    assert split_clauses("孩子需要托儿所，我也要找工作") == ["孩子需要托儿所", "我", "要找工作"]
    assert split_clauses("我需要食物和住的地方") == ["我需要食物", "住的地方"]
    assert split_clauses("我需要 food and jobs") == ["我需要", "food", "jobs"]


def test_bench_reports_first_seen_time_per_language():
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import need_phrases
    finally:
        sys.path.remove(str(ROOT / "bench"))
    ms = {"city": (NeedMatcher().fit(_city_taxonomy()), None)}
    rows = [("I can't pay rent", "en", "city"), ("我需要找工作", "zh", "city"),
            ("necesito comida", "es", "city")] * 4
    first, cached = need_phrases.timings(ms, rows, repeat=2)
    assert set(first) == {"en", "zh", "es", "all"} and first["all"][0] == len(rows)
    assert all(0 < median <= p90 for _, median, p90 in first.values())
    assert 0 < cached < first["all"][1]


def test_typo_candidates_narrowed_by_letter_counts_answer_as_difflib_over_all(city_matcher):
    """``_near`` keeps only the words whose shared-letter bound can reach the cutoff: difflib then
    picks the same word it picks from every like-length word with the same first letter."""
    import difflib
    import random

    known = sorted(city_matcher._known)
    rng = random.Random(0)
    for _ in range(400):
        w = rng.choice(known)
        i = rng.randrange(len(w))
        typo = rng.choice([w[:i] + w[i + 1:], w[:i] + rng.choice("aeioustnrx") + w[i:],
                           w[:i] + rng.choice("aeioustnrx") + w[i + 1:]]) or w
        every = [k for k in city_matcher._known_by_head.get(typo[0], ()) if abs(len(k) - len(typo)) <= 2]
        near = city_matcher._near(typo)
        assert set(near) <= set(every)
        assert difflib.get_close_matches(typo, near, n=1, cutoff=0.75) == \
            difflib.get_close_matches(typo, every, n=1, cutoff=0.75)
