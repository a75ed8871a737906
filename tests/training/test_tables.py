"""Loading and validating a data directory (training.tables), on real files written to tmp_path."""
from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recommender import schema
from training.tables import (
    MAX_ROWS_PER_CHECK,
    DataError,
    Problem,
    load_data_dir,
    load_interactions,
    write_table,
)

SERVICES = """\
service_id,name,status,categories,min_age,max_age,districts,languages,max_income,capacity,latitude,longitude,Funder
 s1 ,Food Bank,Active,"Food/Pantry; food ;FOOD/pantry",,,North;north,EN; es,2500,10,39.29,-76.61,city
s2,"Night Shelter","Temporarily Closed",housing,18,64,,,,0,,,
s3,Clinic,,health/dental,0,125,south,fr,,,39.3,-76.6,
"""
RESIDENTS = """\
resident_id,age,gender,district,household_size,monthly_income,disability,languages,needs,Veteran
r1,34,F,North,3,1800,Yes,en;ES,Food;housing;food,no
r2,,,,,,0,,,
r3,70,m,South,1,900,,fr,health,yes
"""
INTERACTIONS = """\
resident_id,service_id,event,timestamp,weight
r1,s1,Viewed,2024-01-05T10:00:00Z,
r1,s2,,1700000000,2.5
r3,s3,COMPLETED,2024-01-05 12:00:00+02:00,
r2,s1,declined,,
"""


def write_dir(root: Path, services=SERVICES, residents=RESIDENTS, interactions=INTERACTIONS) -> Path:
    """A data directory of CSV files written byte for byte (None leaves a file out)."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in (("services", services), ("residents", residents), ("interactions", interactions)):
        if text is not None:
            (root / f"{name}.csv").write_text(text, encoding="utf-8")
    return root


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(DataError) as info:
        load_data_dir(path)
    return info.value.problems


def only(problems: list[Problem], file: str, column: str | None) -> list[Problem]:
    return [p for p in problems if Path(p.file).name == file and p.column == column]


def to_parquet_dir(csv_dir: Path, out: Path) -> Path:
    """The same tables as Parquet with every column a string, as a spreadsheet export would give."""
    out.mkdir()
    for name in ("services", "residents", "interactions"):
        table = pacsv.read_csv(csv_dir / f"{name}.csv",
                               parse_options=pacsv.ParseOptions(newlines_in_values=True),
                               convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=False,
                                                                    auto_dict_encode=False,
                                                                    check_utf8=True))
        table = pa.table({c: pc_to_str(table.column(c)) for c in table.column_names})
        pq.write_table(table, out / f"{name}.parquet")
    return out


def pc_to_str(col: pa.ChunkedArray) -> pa.ChunkedArray:
    # Arrow infers numbers for numeric-looking columns; a spreadsheet-like export keeps the text.
    return col.cast(pa.string()).fill_null("")


# --------------------------------------------------------------------------- valid data


def test_valid_directory_loads_normalised_values(tmp_path):
    data = load_data_dir(write_dir(tmp_path / "city"))
    s, r, i = data.services, data.residents, data.interactions

    assert s["service_id"].tolist() == ["s1", "s2", "s3"]
    assert s["status"].tolist() == ["active", "temporarily closed", "active"]
    assert s["categories"].tolist() == ["food/pantry;food", "housing", "health/dental"]
    assert s["districts"].tolist() == ["north", "", "south"]
    assert s["languages"].tolist() == ["en;es", "", "fr"]
    assert s["capacity"].tolist()[:2] == [10.0, 0.0] and math.isnan(s["capacity"][2])
    assert s["min_age"].dtype == np.float64 and math.isnan(s["min_age"][0]) and s["max_age"][1] == 64.0
    assert s["latitude"].tolist()[0] == pytest.approx(39.29) and math.isnan(s["longitude"][1])
    # missing optional contract columns exist with their empty value
    assert s["description"].tolist() == ["", "", ""] and s["organization"].tolist() == ["", "", ""]
    assert s["eligibility_description"].tolist() == ["", "", ""]
    assert data.service_extra_columns == ["funder"] and s["funder"].tolist() == ["city", "", ""]

    assert r["resident_id"].tolist() == ["r1", "r2", "r3"]
    assert r["age"].tolist()[0] == 34.0 and math.isnan(r["age"][1])
    assert r["district"].tolist() == ["north", "", "south"]
    assert r["gender"].tolist() == ["F", "", "m"]
    assert str(r["disability"].dtype) == "boolean"
    assert r["disability"].tolist() == [True, False, pd.NA]
    assert r["languages"].tolist() == ["en;es", "", "fr"]
    assert r["needs"].tolist() == ["food;housing", "", "health"]
    assert r["employment_status"].tolist() == ["", "", ""]
    assert math.isnan(r["latitude"][0]) and math.isnan(r["longitude"][0])
    assert data.resident_extra_columns == ["veteran"]

    assert i["resident_id"].tolist() == ["r1", "r1", "r3", "r2"]  # input order kept
    assert i["event"].tolist() == ["viewed", "enrolled", "completed", "declined"]
    assert i["timestamp"].dtype == np.int64
    assert i["timestamp"].tolist() == [1704448800, 1700000000, 1704448800, 0]
    assert i["weight"].dtype == np.float64
    assert i["weight"].tolist() == [schema.EVENT_WEIGHTS["viewed"], 2.5, schema.EVENT_WEIGHTS["completed"],
                                    schema.EVENT_WEIGHTS["declined"]]
    for frame in (s, r, i):  # text is never NaN: downstream code compares with ''
        for col in frame.columns:
            if frame[col].dtype.kind not in "fiub" and str(frame[col].dtype) != "boolean":
                assert not frame[col].isna().any(), col


def test_every_contract_column_exists_even_with_only_required_columns(tmp_path):
    data = load_data_dir(write_dir(tmp_path, "service_id,name\ns1,A\n", "resident_id\nr1\n",
                                   "resident_id,service_id\nr1,s1\n"))
    assert list(data.services.columns) == list(schema.SERVICE_REQUIRED) + list(schema.SERVICE_OPTIONAL)
    assert list(data.residents.columns) == list(schema.RESIDENT_REQUIRED) + list(schema.RESIDENT_OPTIONAL)
    assert list(data.interactions.columns) == list(schema.INTERACTION_REQUIRED) + list(schema.INTERACTION_OPTIONAL)
    assert data.services["status"].tolist() == ["active"]
    assert math.isnan(data.services["capacity"][0])
    assert data.residents["disability"].isna().all()
    assert data.interactions.iloc[0].to_dict() == {"resident_id": "r1", "service_id": "s1", "event": "enrolled",
                                                   "timestamp": 0, "weight": 1.0}
    assert data.service_extra_columns == [] and data.resident_extra_columns == []


def test_spreadsheet_export_with_bom_crlf_and_capitalised_header(tmp_path):
    root = write_dir(tmp_path, residents=None, interactions="resident_id,service_id\n")
    (root / "residents.csv").write_bytes("\ufeffResident_ID , Age\r\nr1,40\r\nr2,\r\n".encode("utf-8"))
    residents = load_data_dir(root).residents
    assert residents["resident_id"].tolist() == ["r1", "r2"]
    assert residents["age"].tolist()[0] == 40.0 and math.isnan(residents["age"][1])


def test_source_records_each_file_and_its_sha256(tmp_path):
    root = write_dir(tmp_path / "city")
    data = load_data_dir(root)
    for name in ("services", "residents", "interactions"):
        src = data.source[name]
        assert src["path"] == str(root / f"{name}.csv") and src["format"] == "csv"
        assert src["sha256"] == hashlib.sha256((root / f"{name}.csv").read_bytes()).hexdigest()
    before = data.fingerprint
    assert load_data_dir(root).fingerprint == before
    (root / "residents.csv").write_text(RESIDENTS + "r4,,,,,,,,,\n")
    assert load_data_dir(root).fingerprint != before


def test_csv_and_parquet_give_the_same_frames(tmp_path):
    csv_dir = write_dir(tmp_path / "csv")
    from_csv = load_data_dir(csv_dir)
    from_parquet = load_data_dir(to_parquet_dir(csv_dir, tmp_path / "parquet"))
    assert from_parquet.source["services"]["format"] == "parquet"
    for name in ("services", "residents", "interactions"):
        pd.testing.assert_frame_equal(getattr(from_csv, name), getattr(from_parquet, name))
    assert from_parquet.service_extra_columns == from_csv.service_extra_columns


def test_parquet_with_native_types_matches_csv(tmp_path):
    """Parquet written by pandas/arrow carries numbers, booleans, lists and timestamps, not text."""
    csv_dir = write_dir(tmp_path / "csv", services="service_id,name,categories,min_age,languages\n"
                                                   "s1,A,food;food/pantry,18,en\ns2,B,,,\n",
                        residents="resident_id,age,disability\nr1,30.5,true\nr2,,\n",
                        interactions="resident_id,service_id,timestamp,weight\nr1,s1,2024-01-05T10:00:00Z,\n"
                                     "r2,s2,,3\n")
    pq_dir = tmp_path / "pq"
    pq_dir.mkdir()
    pq.write_table(pa.table({"service_id": ["s1", "s2"], "name": ["A", "B"],
                             "categories": pa.array([["Food", "food/pantry"], []]),
                             "min_age": pa.array([18, None], pa.int64()), "languages": [["EN"], None]}),
                   pq_dir / "services.parquet")
    pq.write_table(pa.table({"resident_id": ["r1", "r2"], "age": [30.5, np.nan],
                             "disability": pa.array([True, None])}), pq_dir / "residents.parquet")
    pq.write_table(pa.table({"resident_id": ["r1", "r2"], "service_id": ["s1", "s2"],
                             "timestamp": pa.array([pd.Timestamp("2024-01-05T10:00:00Z"), None],
                                                   pa.timestamp("ms", tz="UTC")),
                             "weight": [None, 3.0]}), pq_dir / "interactions.parquet")
    a, b = load_data_dir(csv_dir), load_data_dir(pq_dir)
    for name in ("services", "residents", "interactions"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("cell, epoch", [
    ("2024-01-05T10:00:00Z", 1704448800),
    ("2024-01-05T10:00:00", 1704448800),            # no zone: UTC
    ("2024-01-05 12:00:00+02:00", 1704448800),
    ("2024-01-05T05:00:00-05:00", 1704448800),
    ("2024-01-05", 1704412800),
    ("2024-01-05T10:00:00.750Z", 1704448800),       # fractions of a second are floored
    ("1704448800", 1704448800),
    ("1704448800.9", 1704448800),
    ("", 0),
])
def test_timestamps_iso_and_epoch(tmp_path, cell, epoch):
    root = write_dir(tmp_path, interactions=f"resident_id,service_id,timestamp\nr1,s1,{cell}\n")
    assert load_data_dir(root).interactions["timestamp"].tolist() == [epoch]


def test_mixed_timestamp_forms_in_one_column(tmp_path):
    root = write_dir(tmp_path, interactions="resident_id,service_id,timestamp\n"
                                            "r1,s1,2024-01-05T10:00:00\n"
                                            "r1,s2,2024-01-05T11:00:00+01:00\n"
                                            "r1,s3,1704448800\n"
                                            "r2,s1,\n")
    assert load_data_dir(root).interactions["timestamp"].tolist() == [1704448800] * 3 + [0]


# --------------------------------------------------------------------------- problems

# (file, text of that file, expected file name, row, column, words the reason must contain): the cases
# are data, one per kind of problem, in tests/fixtures/table_row_problems.json
ROW_PROBLEMS = [(c["table"], c["text"], c["file"], c["row"], c["column"], c["words"]) for c in json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "table_row_problems.json").read_text(encoding="utf-8"))["cases"]]


@pytest.mark.parametrize("table, text, file, row, column, words", ROW_PROBLEMS,
                         ids=[f"{t[0]}-{t[4]}-{i}" for i, t in enumerate(ROW_PROBLEMS)])
def test_each_kind_of_row_problem_names_file_row_column_and_reason(tmp_path, table, text, file, row, column, words):
    files = {"services": "service_id,name\ns1,A\n", "residents": "resident_id\nr1\n",
             "interactions": "resident_id,service_id\nr1,s1\n", table: text}
    problems = problems_of(write_dir(tmp_path, **files))
    assert len(problems) == 1, problems
    p = problems[0]
    assert (Path(p.file).name, p.row, p.column) == (file, row, column)
    for word in words:
        assert word in p.reason
    assert f"{file}, row {row}, column {column}: " in str(DataError(problems))


def test_duplicate_ids_name_both_rows(tmp_path):
    problems = problems_of(write_dir(tmp_path, services="service_id,name\ns1,A\ns2,B\n s1 ,C\n",
                                     residents="resident_id\nr1\nr2\nr1\nr1\n",
                                     interactions="resident_id,service_id\nr1,s1\n"))
    assert [(Path(p.file).name, p.row, p.column) for p in problems] == [
        ("services.csv", 4, "service_id"), ("residents.csv", 4, "resident_id"), ("residents.csv", 5, "resident_id")]
    assert "duplicate service_id 's1'" in problems[0].reason and "row 2" in problems[0].reason
    assert "row 2" in problems[1].reason and "row 2" in problems[2].reason


def test_missing_file_and_both_formats_are_problems(tmp_path):
    root = write_dir(tmp_path, residents=None)
    pq.write_table(pa.table({"service_id": ["s1"], "name": ["A"]}), root / "services.parquet")
    (root / "residents.tsv").write_text("resident_id\nr1\n")
    problems = problems_of(root)
    by_name = {Path(p.file).name: p for p in problems}
    assert "both services.csv and services.parquet" in by_name["services"].reason
    assert "missing" in by_name["residents.csv"].reason and "residents.tsv" in by_name["residents.csv"].reason
    assert len(problems) == 2  # unknown ids are not reported against unreadable tables


def test_missing_required_column_and_unreadable_files(tmp_path):
    root = write_dir(tmp_path, services="service_id,title\ns1,A\n")
    (root / "residents.csv").write_bytes(b"resident_id,district\nr1,K\xf6ln\n")
    (root / "interactions.csv").unlink()
    (root / "interactions.parquet").write_bytes(b"not a parquet file at all")
    problems = problems_of(root)
    assert [(Path(p.file).name, p.row, p.column) for p in problems] == [
        ("services.csv", None, "name"), ("residents.csv", 2, "district"), ("interactions.parquet", None, None)]
    assert "required column 'name' is missing" in problems[0].reason and "title" in problems[0].reason
    assert "not UTF-8" in problems[1].reason
    assert "cannot be read as Parquet" in problems[2].reason


def test_text_that_is_not_utf8_is_found_by_row(tmp_path):
    body = b"resident_id,district\n" + b"r0,x\n" * 20_000 + b'r1,"K\xf6ln\nmulti-line"\nr2\nr3,\xff\n'
    root = write_dir(tmp_path, residents=None, interactions="resident_id,service_id\n")
    (root / "residents.csv").write_bytes(body)
    problems = problems_of(root)
    assert [(p.row, p.column) for p in problems] == [(20_002, "district"), (20_003, None), (20_004, "district")]
    assert "not UTF-8" in problems[0].reason and "1 fields" in problems[1].reason
    (root / "residents.csv").write_bytes(b"resident_id,K\xf6ln\nr1,x\n")
    [p] = problems_of(root)
    assert p.row is None and "header" in p.reason and "UTF-8" in p.reason


def test_empty_file_and_bad_headers(tmp_path):
    root = write_dir(tmp_path, services="", residents="resident_id,age,AGE,\nr1,1,2,3\n")
    problems = problems_of(root)
    assert "no header" in only(problems, "services.csv", None)[0].reason
    reasons = " | ".join(p.reason for p in problems if Path(p.file).name == "residents.csv")
    assert "'age' appears twice" in reasons and "header cell 4 is empty" in reasons


def test_several_problems_in_all_three_files_are_all_reported(tmp_path):
    root = write_dir(tmp_path,
                     services="service_id,name,min_age,max_age\ns1,A,50,20\ns2,B,x,\n",
                     residents="resident_id,age,disability\nr1,200,perhaps\n",
                     interactions="resident_id,service_id,event\nr1,s1,liked\nr7,s9,viewed\n")
    problems = problems_of(root)
    got = {(Path(p.file).name, p.row, p.column) for p in problems}
    assert got == {
        ("services.csv", 2, "min_age"), ("services.csv", 3, "min_age"),
        ("residents.csv", 2, "age"), ("residents.csv", 2, "disability"),
        ("interactions.csv", 2, "event"), ("interactions.csv", 3, "resident_id"), ("interactions.csv", 3, "service_id"),
    }
    # listed table by table, top to bottom within a file
    assert [Path(p.file).name for p in problems] == sorted(
        (Path(p.file).name for p in problems), key=["services.csv", "residents.csv", "interactions.csv"].index)
    assert [p.row for p in problems if Path(p.file).name == "interactions.csv"] == [2, 3, 3]


def test_many_problems_are_capped_per_check_and_in_the_message(tmp_path):
    n = MAX_ROWS_PER_CHECK + 30
    rows = "".join(f"ghost{k},s1\n" for k in range(n))
    problems = problems_of(write_dir(tmp_path, interactions="resident_id,service_id\n" + rows))
    assert len(problems) == MAX_ROWS_PER_CHECK + 1
    assert [p.row for p in problems[:-1]] == list(range(2, MAX_ROWS_PER_CHECK + 2))
    assert problems[-1].row is None and "30 more rows" in problems[-1].reason
    message = str(DataError(problems))
    assert message.startswith(f"{len(problems)} problems")
    assert message.count("unknown resident_id") == 50
    assert message.endswith(f"... and {len(problems) - 50} more")


def test_multi_line_quoted_field_counts_as_one_row(tmp_path):
    services = ('service_id,name,description,min_age\n'
                's1,A,"first line\nsecond line, with a comma\nthird",18\n'
                's2,B,plain,abc\n'
                's3,C,"two\r\nlines",\n'
                's4,D,x,-4\n')
    problems = problems_of(write_dir(tmp_path, services=services))
    assert [(p.row, p.column) for p in problems] == [(3, "min_age"), (5, "min_age")]


def test_rows_with_a_wrong_field_count_are_reported_and_later_rows_keep_their_numbers(tmp_path):
    services = 'service_id,name,min_age\ns1,"multi\nline",1\ns2,B\ns3,C,1,extra\ns4,D,x\n'
    problems = problems_of(write_dir(tmp_path, services=services, interactions="resident_id,service_id\n"))
    assert [(p.row, p.column) for p in problems] == [(3, None), (4, None), (5, "min_age")]
    assert "2 fields, the header has 3" in problems[0].reason
    assert "4 fields" in problems[1].reason


def test_parquet_rows_are_record_numbers(tmp_path):
    root = write_dir(tmp_path)
    (root / "residents.csv").unlink()
    pq.write_table(pa.table({"resident_id": ["r1", "r2", "r3"], "age": ["1", "old", "3"]}), root / "residents.parquet")
    problems = problems_of(root)
    assert [(Path(p.file).name, p.row, p.column) for p in problems] == [("residents.parquet", 2, "age")]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.text(alphabet=st.sampled_from(list("aAbB/ ;\t,\"\né")), max_size=12), min_size=1,
                      max_size=5))
def test_list_cells_normalise_like_split_list(tmp_path_factory, cells):
    root = tmp_path_factory.mktemp("lists")
    table = pa.table({"resident_id": [f"r{k}" for k in range(len(cells))], "needs": cells})
    pacsv.write_csv(table, root / "residents.csv")  # quotes every string: commas and newlines survive
    write_dir(root, residents=None, interactions="resident_id,service_id\n")
    got = load_data_dir(root).residents["needs"].tolist()
    assert got == [";".join(schema.split_list(c)) for c in cells]


# --------------------------------------------------------------------------- load_interactions


def test_load_interactions_checks_ids_against_given_tables(tmp_path):
    data = load_data_dir(write_dir(tmp_path / "city"))
    holdout = tmp_path / "holdout.csv"
    holdout.write_text("resident_id,service_id,event,timestamp\nr2,s3,applied,2024-03-01\nr1,s3,,\n")
    frame = load_interactions(holdout, services=data.services, residents=data.residents)
    assert frame.to_dict("list") == {"resident_id": ["r2", "r1"], "service_id": ["s3", "s3"],
                                     "event": ["applied", "enrolled"], "timestamp": [1709251200, 0],
                                     "weight": [0.75, 1.0]}

    pq_file = tmp_path / "feedback.parquet"
    pq.write_table(pa.table({"resident_id": ["r1", "r5"], "service_id": ["s1", "s1"]}), pq_file)
    with pytest.raises(DataError) as info:
        load_interactions(pq_file, services=data.services, residents=data.residents)
    [p] = info.value.problems
    assert (p.file, p.row, p.column) == (str(pq_file), 2, "resident_id") and "'r5'" in p.reason


def test_load_interactions_rejects_other_formats_clearly(tmp_path):
    data = load_data_dir(write_dir(tmp_path / "city"))
    tsv = tmp_path / "holdout.tsv"
    tsv.write_text("resident_id\tservice_id\nr1\ts1\n")
    with pytest.raises(DataError, match=r"unsupported file type '\.tsv': use \.csv or \.parquet"):
        load_interactions(tsv, services=data.services, residents=data.residents)
    with pytest.raises(DataError, match="does not exist"):
        load_interactions(tmp_path / "nope.csv", services=data.services, residents=data.residents)


def test_missing_directory_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_data_dir(tmp_path / "nowhere")


# --------------------------------------------------------------------------- write_table


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_table_round_trip(tmp_path, fmt):
    data = load_data_dir(write_dir(tmp_path / "city"))
    out = tmp_path / "out"
    out.mkdir()
    for name in ("services", "residents", "interactions"):
        write_table(getattr(data, name), out / f"{name}.{fmt}")
    again = load_data_dir(out)
    for name in ("services", "residents", "interactions"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(data, name))
    assert again.service_extra_columns == data.service_extra_columns
    assert sorted(os.listdir(out)) == sorted(f"{n}.{fmt}" for n in ("services", "residents", "interactions"))


class Explodes:
    """A cell whose text cannot be produced: writing fails part way through the file."""

    def __str__(self):
        raise RuntimeError("cannot write this cell")

    __repr__ = __str__


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_table_failure_leaves_the_old_file_and_no_temp(tmp_path, fmt):
    target = tmp_path / f"interactions.{fmt}"
    good = pd.DataFrame({"resident_id": ["r1"], "service_id": ["s1"]})
    write_table(good, target)
    before = target.read_bytes()
    bad = pd.DataFrame({"resident_id": [f"r{k}" for k in range(50_000)] + [Explodes()],
                        "service_id": ["s1"] * 50_001})
    with pytest.raises(Exception):
        write_table(bad, target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == [target.name]


def test_write_table_failure_without_an_old_file_leaves_nothing(tmp_path):
    bad = pd.DataFrame({"x": ["a"] * 10_000 + [Explodes()]})
    with pytest.raises(RuntimeError):
        write_table(bad, tmp_path / "t.csv")
    assert os.listdir(tmp_path) == []


def test_write_table_rejects_unknown_extension(tmp_path):
    with pytest.raises(ValueError, match=r"\.tsv"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.tsv")
    assert os.listdir(tmp_path) == []



def test_languages_are_iso_639_1_or_639_3_normalised_to_two_letters(tmp_path):
    d = write_dir(tmp_path, services="service_id,name,languages\ns1,A,spa;hmn;English\ns2,B,zh-Hant;cmn\n",
                  residents="resident_id,languages\nr1,hmn\n", interactions="resident_id,service_id\nr1,s1\n")
    data = load_data_dir(d)
    assert data.services["languages"].tolist() == ["es;hmn;en", "zh"]
    assert data.residents["languages"].tolist() == ["hmn"]
