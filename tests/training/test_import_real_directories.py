"""Importing the real directories and official examples in ../shared/data (skipped where absent).

Expected values are recomputed from the source files with the csv/json modules, independently of the
importer, so a mapping mistake shows up as a mismatch.
"""
from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest

from recommender.schema import LIST_SEP, SERVICE_OPTIONAL, SERVICE_REQUIRED, split_list
from training.importers import detect_format, import_directory

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
BALTIMORE = DATA / "baltimore-icarol"
HSDS3 = DATA / "hsds3-examples"
HSDS3_SCHEMA = DATA / "hsds3-schema"
HSDS1 = DATA / "hsds1-sample"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared test data not present: {path}")
    return path


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def by_id(path: Path) -> dict[str, dict[str, str]]:
    return {r["service_id"]: r for r in rows(path)}


@pytest.fixture(scope="module")
def baltimore(tmp_path_factory):
    src = need(BALTIMORE)
    out = tmp_path_factory.mktemp("baltimore") / "catalogue"
    start = time.perf_counter()
    report = import_directory(src, out)
    elapsed = time.perf_counter() - start
    return src, out, report, elapsed


def test_baltimore_is_detected_as_the_ohana_layout():
    assert detect_format(need(BALTIMORE)) == "ohana"


def test_baltimore_imports_every_service_or_reports_why(baltimore):
    src, out, report, elapsed = baltimore
    source_ids = [r["id"] for r in rows(src / "services.csv")]
    assert len(source_ids) == 1876
    written = by_id(out / "services.csv")
    dropped = {i.record for i in report.issues if i.severity in ("dropped", "duplicate")}
    assert set(written) | dropped == set(source_ids)
    assert report.counts["services_written"] == len(written) == 1876
    assert report.counts["services_read"] == 1876
    assert elapsed < 10, f"Baltimore import took {elapsed:.1f}s"


def test_baltimore_output_follows_the_contract(baltimore):
    _, out, _, _ = baltimore
    with open(out / "services.csv", newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header[: len(SERVICE_REQUIRED + SERVICE_OPTIONAL)] == list(SERVICE_REQUIRED + SERVICE_OPTIONAL)
    assert {"fees", "required_documents"} <= set(header)
    taxonomy = rows(out / "taxonomy.csv")
    assert taxonomy[0].keys() == {"code", "name", "parent", "type"}
    # the 211 taxonomy's own kinds are kept, so needs are matched to service terms, not situations
    assert {t["type"] for t in taxonomy} == {"service", "situation"}


def test_baltimore_categories_are_the_taxonomy_codes_of_the_links(baltimore):
    src, out, report, _ = baltimore
    code_of_row = {t["id"]: t["taxonomy_id"] for t in rows(src / "taxonomy.csv")}
    links = json.loads((src / "service_categories.json").read_text())
    written = by_id(out / "services.csv")
    linked = [sid for sid, ids in links.items() if ids]
    assert linked, "the directory has category links"
    for sid in linked:
        expected = list(dict.fromkeys(code_of_row[i] for i in links[sid]))
        assert written[sid]["categories"].split(LIST_SEP) == expected, sid
    unlinked = [sid for sid in written if not links.get(sid)]
    assert all(written[sid]["categories"] == "" for sid in unlinked)
    assert report.counts["with_categories"] == len(linked)


def test_baltimore_taxonomy_keeps_every_node_and_its_parent(baltimore):
    src, out, _, _ = baltimore
    source = rows(src / "taxonomy.csv")
    taxonomy = {t["code"]: t for t in rows(out / "taxonomy.csv")}
    assert len(taxonomy) == len(source) == 517
    for node in source:
        assert taxonomy[node["taxonomy_id"]]["name"] == node["name"]
        assert taxonomy[node["taxonomy_id"]]["parent"] == node["parent_id"]
    assert all(t["parent"] in taxonomy for t in taxonomy.values() if t["parent"])


def test_baltimore_coordinates_and_organization_come_through_the_location(baltimore):
    src, out, _, _ = baltimore
    locations = {r["id"]: r for r in rows(src / "locations.csv")}
    orgs = {r["id"]: r["name"] for r in rows(src / "organizations.csv")}
    written = by_id(out / "services.csv")
    with_coords = 0
    for service in rows(src / "services.csv"):
        got = written[service["id"]]
        loc = locations.get(service["location_id"])
        if loc and loc["latitude"] and loc["longitude"]:
            with_coords += 1
            assert float(got["latitude"]) == float(loc["latitude"])
            assert float(got["longitude"]) == float(loc["longitude"])
            assert got["organization"] == orgs[loc["organization_id"]].strip()
        else:
            assert got["latitude"] == got["longitude"] == ""
    assert with_coords > 1300


def test_baltimore_keeps_multi_line_text_whole(baltimore):
    src, out, _, _ = baltimore
    written = by_id(out / "services.csv")
    multi = [s for s in rows(src / "services.csv") if "\n" in s["description"].strip()]
    assert len(multi) > 1000
    for service in multi:
        assert written[service["id"]]["description"] == service["description"].strip()
        assert written[service["id"]]["eligibility_description"] == service["eligibility"].strip()
        assert written[service["id"]]["fees"] == service["fees"].strip()


def test_baltimore_languages_become_iso_codes_and_the_rest_is_reported(baltimore):
    src, out, report, _ = baltimore
    written = by_id(out / "services.csv")
    spanish_only = [s["id"] for s in rows(src / "services.csv") if s["languages"].strip() == "Spanish."]
    assert spanish_only
    for sid in spanish_only:
        assert "es" in split_list(written[sid]["languages"])
        assert written[sid]["languages_note"].startswith("Spanish.")
    asl = [s["id"] for s in rows(src / "services.csv") if s["languages"].strip() == "ASL."]
    assert asl
    # American Sign Language has no two-letter code: it is kept as its ISO 639-3 code
    assert all("ase" in split_list(written[sid]["languages"]) for sid in asl)
    codes = {c for r in written.values() for c in split_list(r["languages"])}
    assert codes and all(len(c) in (2, 3) and c.isalpha() for c in codes)
    assert {c for c in codes if len(c) == 3} <= {"ase", "hmn", "kea", "lkt", "ceb", "ilo", "kar", "chk", "man", "kri", "cab"}


def test_baltimore_report_file_matches_the_returned_report(baltimore):
    _, out, report, _ = baltimore
    saved = json.loads((out / "import_report.json").read_text())
    assert saved["counts"] == dict(sorted(report.counts.items()))
    assert saved["format"] == "ohana"
    assert len(saved["issues"]) == len(report.issues)
    assert "taxonomy_mapping.csv" in saved["files_ignored"]
    text = str(report)
    assert "1876 read, 1876 written" in text


def test_reimport_is_byte_identical(baltimore, tmp_path):
    src, out, _, _ = baltimore
    again = tmp_path / "again"
    import_directory(src, again)
    for name in ("services.csv", "taxonomy.csv", "import_report.json"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
    # Importing over an existing output folder replaces the files with the same bytes.
    import_directory(src, again)
    for name in ("services.csv", "taxonomy.csv", "import_report.json"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


# --------------------------------------------------------------------------------------------- HSDS 3.0

def test_hsds3_tabular_example_imports_and_reports_its_flaws(tmp_path):
    src = need(HSDS3 / "csv")
    need(HSDS3_SCHEMA)
    assert detect_format(src) == "hsds3-tabular"
    report = import_directory(src, tmp_path / "out", schema_dir=HSDS3_SCHEMA)
    services = rows(src / "services.csv")
    written = by_id(tmp_path / "out" / "services.csv")
    assert set(written) == {s["id"] for s in services}
    got = written[services[0]["id"]]
    org = {o["id"]: o["name"] for o in rows(src / "organizations.csv")}[services[0]["organization_id"]]
    assert got["organization"] == org
    assert (got["min_age"], got["max_age"]) == (services[0]["minimum_age"], services[0]["maximum_age"])
    assert got["eligibility_description"] == services[0]["eligibility_description"]
    assert got["languages"] == rows(src / "languages.csv")[0]["code"]
    assert got["fees"].startswith(services[0]["fees_description"])
    assert rows(src / "cost_options.csv")[0]["option"] in got["fees"]
    assert got["required_documents"] == rows(src / "required_documents.csv")[0]["document"]
    assert got["districts"] == rows(src / "service_areas.csv")[0]["name"].lower()
    assert "compiled_tabular.json" in report.schema
    # The official example's own flaws are reported, not hidden.
    reasons = {(i.file, i.field, i.reason) for i in report.issues}
    assert ("locations.csv", "latitude", "latitude outside [-90, 90]; coordinates left empty") in reasons
    assert any(i.file == "datapackage.json" and i.severity == "warning" for i in report.issues)
    assert any(i.file == "attributes.csv" and i.field == "link_id" for i in report.issues)
    assert report.counts["violations"] == len(report.by_severity("violation"))
    assert set(report.files_read) >= {"services.csv", "locations.csv", "schedules.csv", "phones.csv"}


def test_hsds3_json_examples_validate_and_match_the_tabular_form(tmp_path):
    need(HSDS3)
    need(HSDS3_SCHEMA)
    assert detect_format(HSDS3) == "hsds3-json"
    report = import_directory(HSDS3, tmp_path / "json", schema_dir=HSDS3_SCHEMA)
    import_directory(HSDS3 / "csv", tmp_path / "tab", schema_dir=HSDS3_SCHEMA)
    from_json = by_id(tmp_path / "json" / "services.csv")
    from_tab = by_id(tmp_path / "tab" / "services.csv")
    assert from_json.keys() == from_tab.keys()
    for sid in from_json:
        for column, value in from_tab[sid].items():
            if column != "categories":  # the tabular attribute links another id; the JSON one is nested
                assert from_json[sid][column] == value, column
    assert from_json[sid]["categories"] == "code"
    # The same service appears in several example files: kept once, the others reported.
    dups = [i for i in report.issues if i.severity == "duplicate"]
    assert report.counts["duplicates"] == len(dups) >= 3
    assert {i.file for i in dups} >= {"service_list.json", "organization_full.json"}
    assert report.counts["violations"] == 0  # measured: the official JSON examples validate cleanly
    assert {"base.json", "tabular.json", "csv/"} <= set(report.files_ignored)


def test_hsds3_paginated_service_list_file(tmp_path):
    src = need(HSDS3 / "service_list.json")
    report = import_directory(src, tmp_path / "out", schema_dir=need(HSDS3_SCHEMA))
    page = json.loads(src.read_text())
    written = by_id(tmp_path / "out" / "services.csv")
    assert set(written) == {s["id"] for s in page["contents"]}
    assert written[page["contents"][0]["id"]]["organization"] == page["contents"][0]["organization"]["name"]
    assert report.files_read == ["service_list.json"]


def test_hsds3_json_is_checked_against_the_schema_files(tmp_path):
    need(HSDS3_SCHEMA)
    record = json.loads(need(HSDS3 / "service_full.json").read_text())
    record["status"] = "open"
    record["minimum_age"] = "twelve"
    del record["name"]
    second = dict(json.loads((HSDS3 / "service_full.json").read_text()), id="0a6a5f2e-7b40-4c45-9c9e-5f1e0c9f1a11")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "services.json").write_text(json.dumps([record, second]))
    report = import_directory(tmp_path / "src", tmp_path / "out", schema_dir=HSDS3_SCHEMA)
    violations = {(i.record, i.field) for i in report.by_severity("violation")}
    sid = record["id"]
    assert {(sid, "/0/status"), (sid, "/0/minimum_age"), (sid, "/0/name")} <= violations
    assert [i.field for i in report.by_severity("dropped")] == ["/0/name"]
    assert set(by_id(tmp_path / "out" / "services.csv")) == {second["id"]}


# --------------------------------------------------------------------------------------------- HSDS 1.x

def test_hsds1_sample_imports_with_its_joins(tmp_path):
    src = need(HSDS1)
    assert detect_format(src) == "hsds1"
    report = import_directory(src, tmp_path / "out")
    services = rows(src / "services.csv")
    written = by_id(tmp_path / "out" / "services.csv")
    assert set(written) == {s["id"] for s in services}
    eligibility = rows(src / "eligibility.csv")[0]
    got = written[eligibility["service_id"]]
    assert eligibility["eligibility"] == "adult" and got["min_age"] == "18" and got["max_age"] == ""
    langs = [r for r in rows(src / "languages.csv") if r["service_id"] == eligibility["service_id"]]
    assert split_list(got["languages"]) == ["en", "es"] and [r["language"] for r in langs] == ["English", "Spanish"]
    area = rows(src / "service_areas.csv")[0]
    assert split_list(written[area["service_id"]]["districts"]) == [area["service_area"].lower()]
    located = {r["id"]: r for r in rows(src / "locations.csv") if r["latitude"]}
    for link in rows(src / "services_at_location.csv"):
        if link["location_id"] in located:
            assert float(written[link["service_id"]]["latitude"]) == float(located[link["location_id"]]["latitude"])
    inactive = {s["id"] for s in services if s["status"] == "inactive"}
    assert inactive and all(written[i]["status"] == "inactive" for i in inactive)
    # The sample breaks its own table schema (year_incorporated is a year, declared a date): reported.
    bad = [i for i in report.by_severity("violation") if i.field == "year_incorporated"]
    assert bad and all(i.file == "organizations.csv" and i.row and i.record for i in bad)
    assert report.schema and "datapackage.json" in report.schema


def test_imported_catalogue_loads_as_a_data_directory(baltimore, tmp_path):
    """What the importer writes is what training reads: the contract loader accepts it whole."""
    from training.pipeline import load_taxonomy
    from training.tables import load_data_dir

    _, out, _, _ = baltimore
    data = tmp_path / "city"
    data.mkdir()
    for name in ("services.csv", "taxonomy.csv"):
        (data / name).write_bytes((out / name).read_bytes())
    (data / "residents.csv").write_text("resident_id\nr1\n")
    (data / "interactions.csv").write_text("resident_id,service_id\n")
    city = load_data_dir(data)
    assert len(city.services) == 1876
    # what to tell the resident before referring is part of the contract now, kept as text
    assert not {"fees", "required_documents", "application_process"} & set(city.service_extra_columns)
    assert (city.services["application_process"] != "").sum() > 1000 and (city.services["fees"] != "").sum() > 1000
    taxonomy = load_taxonomy(data)
    assert taxonomy.is_within("101-02-01", "101")


def test_baltimore_languages_keep_english_unless_the_listing_excludes_it(baltimore):
    # 211 language fields list what is offered besides English ("Spanish."): an English speaker
    # must not be shut out of those services
    _, out, _, _ = baltimore
    services = rows(out / "services.csv")
    with_langs = [s for s in services if s["languages"]]
    assert with_langs
    assert sum("en" in s["languages"].split(";") for s in with_langs) / len(with_langs) > 0.95


def test_a_data_package_with_its_tables_in_a_subfolder_imports_from_its_root(tmp_path):
    """Tables in data/ beside a datapackage.json whose paths do not match; an eligibility row that
    names no service and one that names an unknown service are counted and reported."""
    src = tmp_path / "pkg"
    (src / "data").mkdir(parents=True)
    for f in need(HSDS1).glob("*.csv"):
        (src / "data" / f.name).write_bytes(f.read_bytes())
    descriptor = json.loads((HSDS1 / "datapackage.json").read_text())
    for r in descriptor["resources"]:
        r["path"] = "tables/" + Path(r["path"]).name  # paths that name no file
    (src / "datapackage.json").write_text(json.dumps(descriptor))
    with open(src / "data" / "eligibility.csv", "a", encoding="utf-8") as fh:
        fh.write("e-orphan-1,,adult\ne-orphan-2,no-such-service,adult\n")
    report = import_directory(src, tmp_path / "out")
    assert report.format == "hsds1"
    assert (tmp_path / "out" / "services.csv").exists()
    reasons = [i.reason for i in report.issues]
    assert any("tables read from the subfolder data/" in r for r in reasons)
    assert any("resource path(s) name no file" in r for r in reasons)
    assert report.counts["unlinked_eligibility_rows"] == 2
    assert "names no service; not linked" in reasons and "links to no imported service" in reasons
    assert "unlinked_eligibility_rows" in (tmp_path / "out" / "import_report.json").read_text()


def test_hours_wait_time_and_referral_text_are_kept(tmp_path):
    report = import_directory(need(HSDS1), tmp_path / "out")
    written = rows(tmp_path / "out" / "services.csv")
    assert any(r["hours"].startswith("Mon 09:00-17:00") for r in written)
    assert any(r["application_process"] for r in written)
    assert report.format == "hsds1"
