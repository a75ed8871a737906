"""The usage model on a catalogue we did not make: arbitrary codes, a given taxonomy, its own districts."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from recommender import schema
from recommender.taxonomy import Taxonomy
from training.generate_usage import generate_usage

# A small directory in the style of a 211 export: dashed and dotted codes, parents in a table.
TAXONOMY = pd.read_csv(Path(__file__).resolve().parents[1] / "fixtures" / "usage_taxonomy.csv", dtype=str,
                       keep_default_na=False)
# Chicago, far from the default city: residents must be placed around these services.
LAT, LON = 41.88, -87.63


def _catalogue() -> pd.DataFrame:
    leaves = ["101-02-01", "102-01", "102-02", "103-01", "103-02", "104.1", "104.2", "105", "106.2", "106"]
    rows = []
    for k in range(60):
        cat = leaves[k % len(leaves)]
        senior = cat.startswith("104")
        rows.append({
            "service_id": f"svc-{k:03d}",
            "name": f"Service {k}",
            "categories": cat if k % 7 else f"{cat};102-01",
            "min_age": 60 if senior else None,
            "max_age": None,
            "districts": ("north" if k % 4 == 0 else "south" if k % 4 == 1 else None),
            "max_income": 2000 if cat.startswith(("101", "103")) else None,
            "status": "inactive" if k % 13 == 0 else "active",
            "latitude": LAT + 0.05 * ((k % 5) - 2) if k % 9 else None,
            "longitude": LON + 0.05 * ((k % 3) - 1) if k % 9 else None,
        })
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def usage():
    services = _catalogue()
    # a small directory: a few contacts per resident, or they run out of services that fit
    residents, interactions = generate_usage(services, residents=3000, seed=5, taxonomy=TAXONOMY,
                                             interactions_per_resident=4.0)
    return services, residents, interactions


def test_residents_and_interactions_are_in_the_contract(usage):
    services, residents, interactions = usage
    assert list(residents.columns) == ["resident_id", *schema.RESIDENT_OPTIONAL]
    assert list(interactions.columns) == ["resident_id", "service_id", "event", "timestamp"]
    assert len(residents) == 3000 and residents["resident_id"].is_unique
    assert set(interactions["resident_id"]) <= set(residents["resident_id"])
    assert set(interactions["service_id"]) <= set(services["service_id"])
    assert set(interactions["event"]) <= set(schema.EVENTS)
    assert 3 < len(interactions) / len(residents) < 5
    assert interactions["timestamp"].dtype == "int64"


def test_needs_come_from_the_catalogue_taxonomy(usage):
    _, residents, _ = usage
    needs = residents["needs"].dropna().map(schema.split_list)
    codes = {c for ns in needs for c in ns}
    # top-level needs and the level below, in the catalogue's own code style
    assert codes <= set(TAXONOMY["code"])
    assert {"102", "103", "104"} <= codes
    assert {"102-01", "104.1"} & codes and any("-" in c for c in codes) and any("." in c for c in codes)
    assert "101-02-01" not in codes  # needs stop one level below the top
    # the "Seniors" need follows age, the "Food" need income, as for our own taxonomy
    senior = needs.map(lambda ns: any(n.startswith("104") for n in ns))
    ages = residents.loc[needs.index, "age"].astype("float64")
    assert ages[senior].mean() > ages[~senior].mean() + 15
    food = needs.map(lambda ns: any(n.startswith("102") for n in ns))
    income = residents.loc[needs.index, "monthly_income"].astype("float64")
    assert income[food].median() < income[~food].median()


def test_residents_live_where_the_catalogue_is_and_in_its_districts(usage):
    _, residents, interactions = usage
    assert set(residents["district"].dropna()) == {"north", "south"}
    assert abs(residents["latitude"].mean() - LAT) < 0.1
    assert abs(residents["longitude"].mean() - LON) < 0.1


def test_choices_follow_needs_and_eligibility(usage):
    services, residents, interactions = usage
    tax = Taxonomy.from_rows(TAXONOMY.itertuples(index=False))
    under = {sid: {a for c in schema.split_list(cs) for a in tax.ancestors(c)}
             for sid, cs in zip(services["service_id"], services["categories"])}
    needs = dict(zip(residents["resident_id"], residents["needs"].map(schema.split_list)))
    answers = np.array([bool(set(needs[r]) & under[s])
                        for r, s in zip(interactions["resident_id"], interactions["service_id"])])
    chance = np.mean([np.mean([bool(set(ns) & u) for u in under.values()]) for ns in list(needs.values())[:300]])
    assert answers.mean() > 2 * chance
    joined = interactions.merge(residents[["resident_id", "district", "age"]], on="resident_id").merge(
        services[["service_id", "districts", "min_age", "status"]], on="service_id")
    north_only = joined["districts"] == "north"
    known = joined["district"].notna()
    assert (joined.loc[north_only & known, "district"] == "north").mean() > 0.85
    senior = joined["min_age"].notna() & joined["age"].notna()
    base = (residents["age"].dropna() >= 60).mean()
    assert (joined.loc[senior, "age"] >= 60).mean() > max(0.7, 2 * base)


def test_same_seed_same_tables_other_seed_differs():
    services = _catalogue()
    a = generate_usage(services, residents=500, seed=9, taxonomy=TAXONOMY)
    b = generate_usage(services, residents=500, seed=9, taxonomy=TAXONOMY)
    c = generate_usage(services, residents=500, seed=10, taxonomy=TAXONOMY)
    pdt.assert_frame_equal(a[0], b[0])
    pdt.assert_frame_equal(a[1], b[1])
    assert not a[1].equals(c[1])


def test_works_without_a_taxonomy_on_flat_codes():
    services = _catalogue().drop(columns=["latitude", "longitude", "districts"])
    residents, interactions = generate_usage(services, residents=400, seed=1)
    used = {c for cs in services["categories"] for c in schema.split_list(cs)}
    codes = {c for ns in residents["needs"].dropna() for c in schema.split_list(ns)}
    assert codes <= used and len(codes) >= 5
    assert set(residents["district"].dropna()) <= {f"D{k:02d}" for k in range(1, 13)}
    assert len(interactions) > 0


@pytest.mark.parametrize("change, message", [
    (lambda df: df.drop(columns=["service_id"]), "service_id"),
    (lambda df: df.assign(service_id=["dup"] * len(df)), r"row 2, column service_id: duplicate"),
    (lambda df: df.assign(min_age=df["min_age"].astype(object).where(df.index != 2, "old")),
     r"row 3, column min_age: 'old' is not a number"),
    (lambda df: df.assign(max_age=df["min_age"].fillna(50) - 1), r"row 6, column min_age: min_age 60 is greater than max_age 59"),
    (lambda df: df.assign(status="open"), r"row 1, column status: 'open'"),
    (lambda df: df.assign(latitude=100.0), r"row 1, column latitude: 100 is outside"),
    (lambda df: df.assign(categories=None), "no service has a category"),
])
def test_bad_catalogues_are_refused_with_the_row_and_column(change, message):
    with pytest.raises(ValueError, match=message):
        generate_usage(change(_catalogue()), residents=50, seed=1)


def test_a_taxonomy_without_its_columns_is_refused():
    with pytest.raises(ValueError, match="'parent'"):
        generate_usage(_catalogue(), residents=50, seed=1, taxonomy=TAXONOMY.drop(columns=["parent"]))
