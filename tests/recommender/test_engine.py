import numpy as np
import pytest

from recommender.engine import Recommender
from recommender.ranker import segment_of
from recommender.signals import combine


def first_warm_resident(rec: Recommender) -> str:
    for rid in rec._resident_index[:500]:
        if rec.training_history(rid) and rec.resident_profile(rid).get("needs"):
            return rid
    raise AssertionError("no warm resident with needs in the fixture city")


def test_walk_in_profile_gets_eligible_explained_suggestions(recommender):
    r = recommender.recommend(profile={"age": 70, "district": "D04", "languages": ["en"],
                                       "monthly_income": 900, "needs": ["eldercare", "food"]}, k=5)
    assert r.mode == "cold" and len(r.items) == 5
    assert [s.rank for s in r.items] == [1, 2, 3, 4, 5]
    assert all(a.score >= b.score for a, b in zip(r.items, r.items[1:]))
    for s in r.items:
        assert s.eligibility in ("eligible", "unknown") and s.explanation
        svc = recommender.service(s.service_id)
        assert svc["status"] == "active"
    # each declared need is answered by a listed service when one exists for this resident
    for need, ans in r.needs.items():
        assert ans.service_ids or ans.reason
        for sid in ans.service_ids:
            assert sid in {s.service_id for s in r.items}


def test_known_resident_is_warm_and_used_services_are_not_suggested(recommender):
    rid = first_warm_resident(recommender)
    r = recommender.recommend(resident_id=rid, k=10)
    assert r.mode == "warm" and r.resident_id == rid
    used = set(recommender.training_history(rid))
    assert used and not used & {s.service_id for s in r.items}


def test_declined_after_training_is_never_suggested_again(recommender):
    rid = first_warm_resident(recommender)
    top = recommender.recommend(resident_id=rid, k=5).items[0].service_id
    again = recommender.recommend(resident_id=rid, k=5, history=[(top, "declined")])
    assert top not in {s.service_id for s in again.items}


def test_patched_service_takes_effect_without_retraining(recommender):
    profile = {"age": 35, "needs": ["food"]}
    top = recommender.recommend(profile=profile, k=3).items[0].service_id
    closed = recommender.recommend(profile=profile, k=3, overrides={top: {"status": "inactive"}})
    assert top not in {s.service_id for s in closed.items}
    full = recommender.recommend(profile=profile, k=3, overrides={top: {"capacity": 0}})
    assert top not in {s.service_id for s in full.items}


def test_filters_exclusions_and_unknown_eligibility(recommender):
    r = recommender.recommend(profile={"needs": ["food"]}, k=10, categories=["food"])
    assert r.items and all(any(p.startswith("Food") for p in s.needs) for s in r.items)
    excluded = [s.service_id for s in r.items[:2]]
    r2 = recommender.recommend(profile={"needs": ["food"]}, k=10, categories=["food"], exclude_service_ids=excluded)
    assert not set(excluded) & {s.service_id for s in r2.items}
    r3 = recommender.recommend(profile={}, k=10, include_unknown_eligibility=False)
    assert all(s.eligibility == "eligible" for s in r3.items)


def test_near_keeps_only_services_within_radius(recommender):
    lat, lon = 39.29, -76.61
    r = recommender.recommend(profile={"needs": ["health"]}, k=10, near=(lat, lon, 3.0))
    assert all(s.distance_km is not None and s.distance_km <= 3.0 for s in r.items)


@pytest.mark.parametrize("kwargs, field", [
    ({"profile": {}, "k": 0}, "k"),
    ({"profile": {}, "k": 51}, "k"),
    ({"profile": {"age": "x"}}, "age"),
    ({"profile": {}, "near": (100, 0, 1)}, "near.lat"),
    ({"profile": {}, "near": (0, 0, -1)}, "near.max_km"),
    ({}, "resident_id or profile"),
])
def test_bad_requests_name_the_field(recommender, kwargs, field):
    with pytest.raises(ValueError) as e:
        recommender.recommend(**kwargs)
    assert str(e.value).startswith(field)


def test_unknown_resident_without_profile_is_a_key_error(recommender):
    with pytest.raises(KeyError):
        recommender.recommend(resident_id="nobody")
    # with a profile, an unknown id is served as a walk-in
    assert recommender.recommend(resident_id="nobody", profile={"needs": ["food"]}).mode == "cold"


def test_contributions_add_up_to_the_ranking_score(recommender):
    """The explanation is exact: the parts of every signal add up to the score the list is ranked by."""
    rid = first_warm_resident(recommender)
    q = recommender._query(rid, None, None)
    batch = recommender._batch(np.array([q.row]), [q.profile])
    ranker = recommender.model.ranker
    signals = recommender._signals(batch, ranker)
    score = combine(signals, ranker, batch)[0]
    weights = ranker.for_segment(segment_of(int(batch.n_history[0])))
    masks = {n: recommender.catalog.answers(n) for n in q.needs}
    parts = recommender._explainer.contributions(list(range(5)), q.profile, signals, weights, True, masks,
                                                 batch.history.indices, top=10_000)
    for i, p in enumerate(parts):
        assert sum(c.value for c in p) == pytest.approx(score[i], abs=1e-3)


def test_batch_ranking_is_the_served_ranking(recommender):
    """Evaluation's batch path and a single request list the same services in the same order."""
    ids = [rid for rid in recommender._resident_index[:300] if recommender.has_history(rid)][:20]
    profiles = [recommender._query(rid, None, None).profile for rid in ids]
    top, _ = recommender.rank_batch(ids, profiles, k=10)
    for rid, row in zip(ids, top):
        single = [s.service_id for s in recommender.recommend(resident_id=rid, k=10, explain=False).items]
        assert [recommender.catalog.ids[j] for j in row if j >= 0] == single


def test_one_request_scores_and_ranks_as_the_batch_does(recommender):
    """A request goes through the per-row shortcuts (dense co-use and segment tables, one segment's
    signals, precomputed places and eligibility columns); evaluation ranks in batches. Both give the
    same scores (to float rounding) and the same top k, for known residents of every history length
    and for walk-ins with the same profiles."""
    cat = recommender.catalog
    ids = [str(r) for r in recommender._resident_index[:150]]
    profiles = [recommender._query(rid, None, None).profile for rid in ids]
    rows = np.array([recommender._row(rid) for rid in ids])
    segments = recommender._batch(rows, profiles).segment_rows()
    assert all(len(segments[seg]) >= 3 for seg in ("cold", "short", "long"))
    for who in (ids, [None] * len(ids)):
        top, scores = recommender.rank_batch(who, profiles, k=10)
        for n, rid in enumerate(ids):
            kw = {"resident_id": rid} if who[n] is not None else {"profile": recommender.resident_profile(rid)}
            items = recommender.recommend(**kw, k=10).items
            assert [s.service_id for s in items] == [cat.ids[j] for j in top[n] if j >= 0], (rid, who[n])
            expected = [round(float(scores[n, cat.index[s.service_id]]), 4) for s in items]
            assert [s.score for s in items] == pytest.approx(expected, abs=2e-4)


def test_free_text_needs_are_matched_to_categories(recommender):
    r = recommender.recommend(profile={"age": 40, "needs": ["can't pay my rent this month"]}, k=5)
    (said, answer), = r.needs.items()
    assert said == "can't pay my rent this month"
    assert answer.need.startswith("housing") and answer.service_ids and answer.path.startswith("Housing")
    nonsense = recommender.recommend(profile={"needs": ["qwzx vbnm"]}, k=5)
    reason = nonsense.needs["qwzx vbnm"].reason
    assert reason.startswith("no category of the catalogue matches this need") and "not understood" in reason


def test_one_sentence_states_several_needs_in_any_of_three_languages(recommender):
    for text in ("I lost my job and can't pay rent", "我失业了，交不起房租", "perdi mi trabajo y no puedo pagar la renta"):
        result = recommender.recommend(profile={"needs": [text]}, k=5)
        codes = {a.need.split("/")[0] for a in result.needs.values() if a.need}
        assert codes == {"jobs", "housing"}, (text, result.needs)
        assert all(a.service_ids for a in result.needs.values())
    typo = recommender.recommend(profile={"needs": ["fod and blorf"]}, k=5)
    (key, answer), = [(k, a) for k, a in typo.needs.items() if a.need]
    assert answer.need.startswith("food")
    assert "not understood" in typo.needs["fod and blorf"].reason and "'food' for 'fod'" in typo.needs["fod and blorf"].reason


def test_explanations_name_terms_not_codes_without_scores_or_repeats(recommender):
    import re

    result = recommender.recommend(profile={"age": 70, "needs": ["food", "health"]}, k=5)
    for item in result.items:
        text = item.explanation
        assert "need_match" not in text and "profile declares" not in text and "answers declared need" not in text
        assert not re.search(r"\d\.\d{3}", text)  # no raw scores
        sentences = [s for s in re.split(r"(?<=[.?])\s+", text) if s]
        assert len(sentences) == len(set(sentences))
        for reason in item.reasons:
            assert text.count(reason) <= 1
        assert any(path in text for path in item.needs)


def test_the_explanation_in_chinese(recommender):
    en = recommender.recommend(profile={"age": 70, "needs": ["food"]}, k=3)
    zh = recommender.recommend(profile={"age": 70, "needs": ["food"]}, k=3, lang="zh")
    assert [i.service_id for i in en.items] == [i.service_id for i in zh.items]
    assert all(i.explanation.startswith("满足需求") for i in zh.items)
    with pytest.raises(ValueError, match="lang"):
        recommender.recommend(profile={"needs": ["food"]}, k=3, lang="fr")


def test_before_you_refer_carries_what_the_listing_says():
    import pandas as pd

    from recommender.catalog import ServiceCatalog
    from recommender.eligibility.listing import read_listing_rules
    from recommender.engine import before_you_refer

    rows = [{"service_id": "a", "name": "A", "application_process": "Walk in. Referral required from DSS.",
             "required_documents": "Photo ID; proof of income", "fees": "None", "hours": "Mon 09:00-17:00",
             "wait_time": "2 weeks"},
            {"service_id": "b", "name": "B", "eligibility_description": "By referral only. Adults 18 and older."},
            {"service_id": "c", "name": "C"},
            {"service_id": "d", "name": "D", "application_process": "See notes.",
             "description": "Job training.\n\nINTAKE PROCEDURE: Must be referred by DRS. Bring photo ID.\n\nFEES: None"}]
    cat = ServiceCatalog.from_frame(pd.DataFrame(rows), read_rules=read_listing_rules)
    a = before_you_refer(cat, 0)
    assert a == {"how_to_apply": "Walk in. Referral required from DSS.", "referral_required": True,
                 "documents": "Photo ID; proof of income", "fees": "None", "hours": "Mon 09:00-17:00",
                 "wait_time": "2 weeks"}
    assert before_you_refer(cat, 1)["referral_required"] is True
    assert before_you_refer(cat, 2) == dict.fromkeys(a)
    d = before_you_refer(cat, 3)  # "See notes." is read from the description's intake part
    assert d["how_to_apply"] == "Must be referred by DRS. Bring photo ID." and d["referral_required"] is True


def test_several_needs_each_get_more_than_one_option(recommender):
    """A walk-in declaring food and housing does not get four food banks of five."""
    profile = {"age": 35, "district": "D03", "languages": ["en"], "needs": ["food", "housing"]}
    r = recommender.recommend(profile=profile, k=5)
    open_to_them = recommender.recommend(profile=profile, k=50, explain=False)
    for need in ("food", "housing"):
        eligible = [s for s in open_to_them.items if any(p.startswith(need.capitalize()) for p in s.needs)]
        listed = [s for s in r.items if any(p.startswith(need.capitalize()) for p in s.needs)]
        assert len(listed) >= min(2, len(eligible)), (need, [s.needs for s in r.items])


def test_home_coordinates_count_for_distance(recommender):
    """Without any `near` filter, the resident's own place pulls nearby services up the list."""
    assert recommender.model.ranker.for_segment("cold").get("near", 0) > 0
    cat = recommender.catalog
    ok = ~np.isnan(cat.latitude)
    lon = float(np.nanmedian(cat.longitude[ok]))
    base = {"age": 40, "needs": ["health"]}
    nowhere = recommender.recommend(profile=base, k=10)
    for q in (5, 95):
        lat = float(np.nanpercentile(cat.latitude[ok], q))

        def mean_km(result):
            idx = np.array([cat.index[s.service_id] for s in result.items])
            return np.nanmean(cat.distances_km(lat, lon, idx))

        home = recommender.recommend(profile=dict(base, latitude=lat, longitude=lon), k=10)
        assert mean_km(home) < mean_km(nowhere), q


def test_feedback_recorded_after_training_changes_the_next_list(recommender):
    """A walk-in who enrols somewhere gets services co-used with it: history counts at once."""
    profile = {"age": 30, "needs": ["jobs"]}
    before = recommender.recommend(profile=profile, k=10)
    used = before.items[0].service_id
    after = recommender.recommend(profile=profile, k=10, history=[(used, "enrolled")])
    assert used not in {s.service_id for s in after.items}
    assert recommender.model.ranker.for_segment("short").get("knn", 0) != 0
    drivers = {c.feature for s in after.items for c in s.contributions}
    assert f"used:{used}" in drivers
    assert [s.service_id for s in after.items] != [s.service_id for s in before.items if s.service_id != used][:10]


def test_the_served_ranker_is_never_below_a_baseline_on_validation(recommender):
    info = recommender.model.ranker.info
    for seg, entry in info["segments"].items():
        scores = entry["validation_ndcg@10"]
        chosen = max(scores[c] for c in scores if c.startswith("learned")) if entry["chosen"] == "learned" \
            else scores[entry["chosen"]]
        assert chosen >= scores["popularity"] and chosen >= scores["need_match"], (seg, entry)


def test_several_rankers_at_once_rank_as_each_ranks_alone(recommender):
    """Evaluation ranks a batch with the model and both baselines at @5 and @10 in one call: every
    list and every score is the one a ranker gives alone."""
    ids = [str(r) for r in recommender._resident_index[:60]]
    profiles = [recommender._query(rid, None, None).profile for rid in ids]
    rankers = [None, "popularity", "need_match"]
    together = list(recommender.rank_batch_many(ids, profiles, rankers=rankers, ks=(5, 10)))
    assert len(together) == 3
    for ranker, (lists, scores) in zip(rankers, together):
        for k in (5, 10):
            alone, alone_scores = recommender.rank_batch(ids, profiles, k=k, ranker=ranker)
            assert np.array_equal(lists[k], alone), (ranker, k)
            assert np.array_equal(scores, alone_scores), ranker


def test_one_blend_with_per_resident_weights_is_each_residents_own_ranker(recommender):
    """Validation scores two out-of-fold rankers in one blend, each resident weighted by its fold: the
    same numbers as blending each ranker over the whole batch and keeping the resident's rows."""
    from recommender.ranker import Ranker
    from recommender.signals import blend, row_weights

    ids = [str(r) for r in recommender._resident_index[:45]]
    profiles = [recommender._query(rid, None, None).profile for rid in ids]
    rows = np.array([recommender._row(rid) for rid in ids])
    batch = recommender._batch(rows, profiles)
    served = recommender.model.ranker
    other = Ranker("other", {seg: {name: -0.5 * w for name, w in list(ws.items())[1:]} | {"pop": 0.3}
                             for seg, ws in served.weights.items()})
    signals = recommender._signals(batch, Ranker("both", {s: served.weights.get(s, {}) | other.weights.get(s, {})
                                                          for s in served.weights}))
    fold = np.arange(len(ids)) % 2
    w0, w1 = row_weights(served, batch), row_weights(other, batch)
    mixed = blend(signals.values, {name: np.where(fold == 1, w1.get(name, 0.0), w0.get(name, 0.0))
                                   for name in sorted(w0.keys() | w1.keys())}, batch.need.shape)
    want = np.where(fold[:, None] == 1, combine(signals, other, batch), combine(signals, served, batch))
    assert np.array_equal(mixed, want)
