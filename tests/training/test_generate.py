"""The synthetic city: files in the contract, deterministic per seed, and the correlations it promises."""
from __future__ import annotations

import filecmp

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pyarrow as pa
import pytest

from recommender import schema
from recommender.taxonomy import Taxonomy
from training.generate import generate_city, write_arrow
from training.generate_catalog import generate_catalog, taxonomy_frame
from training.generate_population import default_districts
from training.generate_usage import generate_usage
from training.tables import load_data_dir

RESIDENTS, SERVICES = 4000, 600
DAY = 86_400


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    out = tmp_path_factory.mktemp("city")
    result = generate_city(out, residents=RESIDENTS, services=SERVICES, seed=11, progress=False)
    read = dict(dtype=str, keep_default_na=False, na_values=[""])
    services = pd.read_csv(out / "services.csv", **read)
    residents = pd.read_csv(out / "residents.csv", **read)
    interactions = pd.read_csv(out / "interactions.csv", **read)
    taxonomy = pd.read_csv(out / "taxonomy.csv", **read)
    residents["age"] = pd.to_numeric(residents["age"])
    residents["monthly_income"] = pd.to_numeric(residents["monthly_income"])
    residents["household_size"] = pd.to_numeric(residents["household_size"])
    interactions["timestamp"] = interactions["timestamp"].astype(np.int64)
    tax = Taxonomy.from_rows(taxonomy[["code", "name", "parent"]].itertuples(index=False))
    return dict(out=out, result=result, services=services, residents=residents,
                interactions=interactions, taxonomy=taxonomy, tax=tax)


def _lists(series: pd.Series) -> pd.Series:
    return series.map(schema.split_list)


def _answers(city) -> np.ndarray:
    """Per interaction: does the service answer one of the resident's declared needs?"""
    tax = city["tax"]
    cats = dict(zip(city["services"]["service_id"], _lists(city["services"]["categories"])))
    under = {sid: {a for c in cs for a in tax.ancestors(c)} for sid, cs in cats.items()}
    needs = dict(zip(city["residents"]["resident_id"], _lists(city["residents"]["needs"])))
    inter = city["interactions"]
    return np.array([bool(set(needs[r]) & under[s]) for r, s in zip(inter["resident_id"], inter["service_id"])])


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    kwargs = dict(residents=1500, services=150, progress=False)
    generate_city(tmp_path / "a", seed=3, **kwargs)
    generate_city(tmp_path / "b", seed=3, **kwargs)
    generate_city(tmp_path / "c", seed=4, **kwargs)
    names = ["services.csv", "residents.csv", "interactions.csv", "taxonomy.csv"]
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", names, shallow=False)
    assert match == names and not mismatch and not errors
    _, differ, _ = filecmp.cmpfiles(tmp_path / "a", tmp_path / "c", names[:3], shallow=False)
    assert differ == names[:3]


def test_written_city_loads_under_the_data_contract(city):
    data = load_data_dir(city["out"])  # raises DataError listing every problem otherwise
    result = city["result"]
    assert len(data.services) == result["services"] == SERVICES
    assert len(data.residents) == result["residents"] == RESIDENTS
    assert len(data.interactions) == result["interactions"] >= 8 * RESIDENTS
    assert {"delivery", "cost"} <= set(data.service_extra_columns)
    assert set(result["seconds"]) >= {"catalog", "population", "needs", "choices", "write"}
    assert sorted(p.name for p in city["out"].iterdir()) == [
        "interactions.csv", "residents.csv", "services.csv", "taxonomy.csv"]  # no temp files left


def test_contract_values_are_valid(city):
    s, r, i = city["services"], city["residents"], city["interactions"]
    assert set(i["event"]) <= set(schema.EVENTS) and len(set(i["event"])) == len(schema.EVENTS)
    assert set(i["resident_id"]) <= set(r["resident_id"])
    assert set(i["service_id"]) <= set(s["service_id"])
    assert not i.duplicated(["resident_id", "service_id"]).any()  # choices are without replacement
    assert s["service_id"].is_unique and r["resident_id"].is_unique
    assert set(s["status"]) <= set(schema.STATUSES) and (s["status"] == "active").mean() > 0.8
    ages = s[["min_age", "max_age"]].apply(pd.to_numeric).dropna()
    assert (ages["min_age"] <= ages["max_age"]).all() and len(ages) > 0
    for frame in (s, r):
        lat, lon = pd.to_numeric(frame["latitude"]), pd.to_numeric(frame["longitude"])
        assert (lat.isna() == lon.isna()).all() and lat.notna().mean() > 0.9
        assert lat.dropna().between(39.0, 39.6).all() and lon.dropna().between(-77.0, -76.2).all()
    assert r["age"].dropna().between(18, 95).all()
    assert set(r["employment_status"].dropna()) == {"employed", "unemployed", "retired", "student", "unable_to_work"}
    assert set(r["district"].dropna()) == {f"D{k:02d}" for k in range(1, 13)}
    codes = set(city["taxonomy"]["code"])
    for col, frame in (("categories", s), ("districts", s), ("languages", s), ("languages", r), ("needs", r)):
        cells = frame[col].dropna()
        assert not cells.str.contains(r"^;|;;|;$|\s").any(), col
        items = {x for v in cells for x in v.split(";")}
        if col in ("categories", "needs"):
            assert items <= codes, col
        if col == "languages":
            assert items <= {"en", "es", "zh", "ko", "fr", "ar", "ru"}
    parents = set(city["taxonomy"]["parent"].dropna())
    assert parents <= codes and len(codes) >= 30
    assert all(c == c.lower() for c in codes)


def test_some_optional_cells_are_missing_like_real_intake_data(city):
    r = city["residents"]
    share = r.drop(columns=["resident_id"]).isna().mean()
    assert 0.02 < share["age"] < 0.09
    assert 0.06 < share["monthly_income"] < 0.15
    assert 0.02 < share.mean() < 0.09
    assert _lists(r["needs"]).map(len).between(0, 3).all()


def test_resident_attributes_are_correlated_like_a_real_city(city):
    r = city["residents"]
    needs = _lists(r["needs"])
    top = needs.map(lambda ns: {n.split("/")[0] for n in ns})

    def rate(mask, need):
        return top[mask].map(lambda t: need in t).mean()

    elder = top.map(lambda t: "eldercare" in t)
    assert r["age"][elder].mean() > r["age"][~elder].mean() + 15
    unemployed = r["employment_status"] == "unemployed"
    employed = r["employment_status"] == "employed"
    assert rate(unemployed, "jobs") > 3 * rate(employed, "jobs")
    assert r["monthly_income"][employed].median() > 2 * r["monthly_income"][unemployed].median()
    assert r["age"][r["employment_status"] == "retired"].mean() > 65
    disabled = r["disability"] == "true"
    assert rate(disabled, "disability") > 5 * rate(r["disability"] == "false", "disability")
    assert r["age"][disabled].mean() > r["age"][r["disability"] == "false"].mean() + 5
    low = r["monthly_income"] < 1500
    high = r["monthly_income"] > 4000
    assert rate(low, "food") > 2 * rate(high, "food")
    assert rate(low, "housing") > 2 * rate(high, "housing")
    no_english = r["languages"].notna() & ~_lists(r["languages"]).map(lambda ls: "en" in ls)
    assert no_english.mean() > 0.02
    assert rate(no_english, "education") > 3 * rate(~no_english & r["languages"].notna(), "education")
    assert r["household_size"][r["age"] >= 75].mean() < r["household_size"][r["age"].between(30, 45)].mean()
    # districts differ in income and language mix
    by_district = r.groupby("district")["monthly_income"].median()
    assert by_district.max() > 2.5 * by_district.min()
    spanish = r["languages"].fillna("").str.contains("es").groupby(r["district"]).mean()
    assert spanish["D05"] > 5 * spanish["D04"]


def test_catalogue_text_states_its_rules(city):
    s = city["services"]
    has = s["eligibility_description"].notna()
    assert has.mean() > 0.9
    for _, row in s[has].iterrows():
        text = row["eligibility_description"]
        for code in schema.split_list(row["districts"]):
            assert code.upper() in text
        if pd.notna(row["min_age"]):
            assert str(row["min_age"]) in text
        if pd.notna(row["max_income"]):
            assert f"{int(row['max_income']):,}" in text
        if row["capacity"] == "0":
            assert "full" in text
    eldercare = _lists(s["categories"]).map(lambda cs: cs[0].startswith("eldercare"))
    assert pd.to_numeric(s["min_age"][eldercare]).notna().mean() > 0.7
    assert s["description"].fillna("").str.contains("[\u4e00-\u9fff]").any()  # some Chinese text
    assert s["name"].str.contains("Food Pantry|Community Kitchen|Food Cupboard").any()
    assert set(s["delivery"]) == {"in_person", "phone", "online"}


def test_interactions_answer_declared_needs_far_more_often_than_chance(city):
    answers = _answers(city)
    tax = city["tax"]
    s, r = city["services"], city["residents"]
    under = [{a for c in cs for a in tax.ancestors(c)} for cs in _lists(s["categories"])]
    sample = _lists(r["needs"]).iloc[:500]
    chance = np.mean([np.mean([bool(set(ns) & u) for u in under]) for ns in sample])
    assert answers.mean() > 0.55
    assert answers.mean() > 3 * chance


def test_ineligible_choices_are_rare_but_happen(city):
    s = city["services"].set_index("service_id")
    r = city["residents"].set_index("resident_id")
    i = city["interactions"]

    def ineligible(res_ids, svc_ids) -> np.ndarray:
        rr, ss = r.loc[res_ids], s.loc[svc_ids]
        age, income = rr["age"].to_numpy(), rr["monthly_income"].to_numpy()
        lo, hi = pd.to_numeric(ss["min_age"]).to_numpy(), pd.to_numeric(ss["max_age"]).to_numpy()
        cap = pd.to_numeric(ss["max_income"]).to_numpy()
        bad = (age < lo) | (age > hi) | (income > cap)
        bad |= np.array([pd.notna(d) and pd.notna(h) and d.lower() not in schema.split_list(h)
                         for d, h in zip(rr["district"], ss["districts"])])
        return bad

    chosen = ineligible(i["resident_id"], i["service_id"]).mean()
    rng = np.random.default_rng(0)
    random = ineligible(rng.choice(r.index, 20_000), rng.choice(s.index, 20_000)).mean()
    assert 0 < chosen < 0.10  # ~3 % with 2,000 services; more when a small catalogue runs out
    assert random > 5 * chosen
    # ineligible choices rarely get far down the funnel
    bad = ineligible(i["resident_id"], i["service_id"])
    deep = i["event"].isin(["enrolled", "completed"])
    assert deep[bad].mean() < 0.25 * deep[~bad].mean()


def test_funnel_goes_deeper_for_services_that_answer_a_need(city):
    i = city["interactions"]
    answers = _answers(city)
    deep = i["event"].isin(["enrolled", "completed"]).to_numpy()
    assert deep[answers].mean() > 2 * deep[~answers].mean()
    shares = i["event"].value_counts(normalize=True)
    assert shares["viewed"] == shares.max() and 0.02 < shares["declined"] < 0.15


def test_timestamps_span_two_years_and_leave_a_fair_time_holdout(city):
    i = city["interactions"]
    ts = i["timestamp"]
    span = ts.max() - ts.min()
    assert 700 * DAY < span <= 730 * DAY
    cut = ts.min() + 0.8 * span
    late = ts > cut
    assert 0.14 < late.mean() < 0.26
    before, after = set(i["resident_id"][~late]), set(i["resident_id"][late])
    assert len(after & before) > 0.2 * len(after)  # warm residents to evaluate
    assert len(after - before) > 0.1 * len(after)  # and newcomers (cold start)
    # events per month are flat: no month holds more than twice the average
    months = np.histogram(ts, bins=24)[0]
    assert months.max() < 2 * months.mean() and months.min() > 0.5 * months.mean()


def test_closed_services_get_no_events_after_they_close(city):
    i = city["interactions"].merge(city["services"][["service_id", "status"]], on="service_id")
    ts = i["timestamp"]
    end = ts.max()
    closed = i["status"] != "active"
    assert closed.any()
    # closing times fall before the last 5 % of the period, so nothing closed is used then
    assert not (closed & (ts > end - 0.05 * 730 * DAY)).any()
    # and closed services are used less in the last fifth than in the first
    late, early = ts > end - 0.2 * 730 * DAY, ts < end - 0.8 * 730 * DAY
    assert closed[late].mean() < 0.5 * closed[early].mean()


def test_parquet_output_replaces_csv_and_matches_it(tmp_path, city):
    generate_city(tmp_path, residents=800, services=120, seed=5, progress=False)
    generate_city(tmp_path, residents=800, services=120, seed=5, progress=False, fmt="parquet")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["interactions.parquet", "residents.parquet", "services.parquet", "taxonomy.csv"]
    data = load_data_dir(tmp_path)
    assert len(data.residents) == 800 and len(data.services) == 120
    assert pd.read_parquet(tmp_path / "interactions.parquet")["timestamp"].dtype == np.int64


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="fmt"):
        generate_city(tmp_path, residents=10, services=10, fmt="xlsx", progress=False)
    with pytest.raises(ValueError, match="residents"):
        generate_city(tmp_path, residents=0, services=10, progress=False)


def test_write_arrow_is_atomic(tmp_path):
    target = tmp_path / "t.csv"
    write_arrow(pa.table({"a": [1, 2]}), target)
    before = target.read_bytes()
    # a list column cannot be written as CSV: the old file must survive and no temp file remain
    with pytest.raises(pa.ArrowException):
        write_arrow(pa.table({"a": pa.array([[1], [2]])}), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_threads_do_not_change_the_result():
    services = generate_catalog(200, default_districts(), np.random.default_rng(1))
    kwargs = dict(residents=3000, seed=8, taxonomy=taxonomy_frame(), chunk_cells=100_000)  # 6 chunks
    one = generate_usage(services, n_jobs=1, **kwargs)
    two = generate_usage(services, n_jobs=2, **kwargs)
    pdt.assert_frame_equal(one[0], two[0])
    pdt.assert_frame_equal(one[1], two[1])
