"""Small, deliberately broken directories: the import must fail (or drop) naming file, row/record and
field, and must never leave a half-written output folder."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from training.importers import ImportFailed, import_directory

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
HSDS3_SCHEMA = DATA / "hsds3-schema"

OHANA_HEADER = "id,location_id,name,description,eligibility,fees,languages,status\n"


def ohana(tmp_path: Path, services: str, **extra: str) -> Path:
    """A directory in the Ohana layout: services.csv (header above + ``services``) and extra files."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "services.csv").write_text(OHANA_HEADER + services, encoding="utf-8")
    (src / "locations.csv").write_text("id,organization_id,latitude,longitude\n"
                                       "L1,O1,39.29,-76.61\nL2,O1,95,-76.6\n", encoding="utf-8")
    (src / "organizations.csv").write_text("id,name\nO1,Helping Hands\n", encoding="utf-8")
    for name, text in extra.items():
        (src / name.replace("__", ".")).write_text(text, encoding="utf-8")
    return src


def fails(src: Path, out: Path, **kw) -> ImportFailed:
    with pytest.raises(ImportFailed) as info:
        import_directory(src, out, **kw)
    assert not out.exists(), "a failed import must not create the output folder"
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]
    assert leftovers == [], leftovers
    return info.value


def read(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["service_id"]: r for r in csv.DictReader(fh)}


def need_schema() -> Path:
    if not HSDS3_SCHEMA.is_dir():
        pytest.skip(f"HSDS 3.0 schemas not present: {HSDS3_SCHEMA}")
    return HSDS3_SCHEMA


def test_unterminated_quote_names_file_row_and_column(tmp_path):
    src = ohana(tmp_path, '1,L1,Alpha,"fine",,,,active\n2,L1,Beta,"never closed\nstill going,,,,active\n'
                          '3,L1,Gamma,ok,,,,active\n')
    err = fails(src, tmp_path / "out")
    issue = err.issues[0]
    assert (issue.file, issue.row, issue.line, issue.field) == ("services.csv", 3, 3, "description")
    assert "services.csv" in str(err) and "row 3" in str(err) and "description" in str(err)


def test_stray_quote_inside_a_quoted_cell_is_an_error(tmp_path):
    src = ohana(tmp_path, '1,L1,Alpha,"say "hi" twice",,,,active\n')
    issue = fails(src, tmp_path / "out").issues[0]
    assert (issue.file, issue.row, issue.field, issue.reason) == ("services.csv", 2, "description",
                                                                  "broken CSV quoting")


def test_row_with_too_many_cells(tmp_path):
    src = ohana(tmp_path, "1,L1,Alpha,ok,,,,active\n2,L1,Beta,one,two,,,,active\n")
    issue = fails(src, tmp_path / "out").issues[0]
    assert (issue.file, issue.row) == ("services.csv", 3)
    assert "9 cells" in issue.reason and "8" in issue.reason


def test_missing_required_column(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "services.csv").write_text("id,location_id,description\n1,L1,no name column\n")
    issue = fails(src, tmp_path / "out").issues[0]
    assert (issue.file, issue.row, issue.field, issue.reason) == ("services.csv", 1, "name", "required column missing")


def test_bad_json_names_file_line_and_column(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "services.json").write_text('[\n  {"id": "a", "name": "A", "status": "active"},\n  {"id": "b",,}\n]\n')
    issue = fails(src, tmp_path / "out").issues[0]
    assert (issue.file, issue.line, issue.field) == ("services.json", 3, "column 14")
    assert issue.reason == "not valid JSON"


def test_json_list_of_non_objects(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "services.json").write_text('[{"id": "a", "name": "A", "status": "active"}, 7]')
    issue = fails(src, tmp_path / "out").issues[0]
    assert (issue.file, issue.field) == ("services.json", "/1")


def test_malformed_link_file(tmp_path):
    src = ohana(tmp_path, "1,L1,Alpha,ok,,,,active\n", service_categories__json='{"1": "5"}',
                taxonomy__csv="id,taxonomy_id,name,parent_id\n5,101,Emergency,\n")
    issue = fails(src, tmp_path / "out").issues[0]
    assert (issue.file, issue.record, issue.field) == ("service_categories.json", "1", "/1")


def test_file_that_is_not_utf8(tmp_path):
    src = ohana(tmp_path, "1,L1,Alpha,ok,,,,active\n")
    (src / "services.csv").write_bytes((OHANA_HEADER + "1,L1,Alpha,ok,,,,active\n2,L1,Caf\xe9,ok,,,,active\n")
                                       .encode("latin-1"))
    issue = fails(src, tmp_path / "out").issues[0]
    assert (issue.file, issue.line) == ("services.csv", 3)


def test_failed_import_leaves_an_existing_output_untouched(tmp_path):
    good = ohana(tmp_path, "1,L1,Alpha,ok,,,,active\n")
    out = tmp_path / "catalogue"
    import_directory(good, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (good / "services.csv").write_text(OHANA_HEADER + '1,L1,Alpha,"broken,,,,active\n')
    with pytest.raises(ImportFailed):
        import_directory(good, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_output_folder_may_not_be_the_source(tmp_path):
    src = ohana(tmp_path, "1,L1,Alpha,ok,,,,active\n")
    original = (src / "services.csv").read_bytes()
    with pytest.raises(ImportFailed, match="output folder is the source"):
        import_directory(src, src)
    assert (src / "services.csv").read_bytes() == original


def test_dropped_and_duplicate_services_are_reported(tmp_path):
    src = ohana(tmp_path, "1,L1,Alpha,ok,,,,active\n2,L1,,no name,,,,active\n,L1,No Id,x,,,,active\n"
                          "1,L2,Alpha again,dup,,,,active\n3,L2,Gamma,far north,,,,Active\n")
    out = tmp_path / "out"
    report = import_directory(src, out)
    assert set(read(out / "services.csv")) == {"1", "3"}
    dropped = {(i.row, i.field, i.reason) for i in report.by_severity("dropped")}
    assert dropped == {(3, "name", "service without a name; dropped"), (4, "id", "service without an id; dropped")}
    dup = report.by_severity("duplicate")
    assert [(d.row, d.record) for d in dup] == [(5, "1")] and "row 2" in dup[0].detail
    assert report.counts["services_dropped"] == 2 and report.counts["duplicates"] == 1
    # Gamma's location has latitude 95: coordinates dropped, reported at the location row.
    gamma = read(out / "services.csv")["3"]
    assert gamma["latitude"] == gamma["longitude"] == "" and gamma["status"] == "active"
    assert any(i.file == "locations.csv" and i.row == 3 and i.field == "latitude" for i in report.issues)


def test_nothing_importable_fails(tmp_path):
    src = ohana(tmp_path, "1,L1,,no name,,,,active\n")
    err = fails(src, tmp_path / "out")
    assert "no service could be imported" in str(err)


def test_statuses_are_normalised_and_unknown_ones_not_suggested(tmp_path):
    src = ohana(tmp_path, "1,L1,A,x,,,,Active\n2,L1,B,x,,,,temporarily_closed\n3,L1,C,x,,,,pending\n"
                          "4,L1,D,x,,,,\n")
    report = import_directory(src, tmp_path / "out")
    got = {k: v["status"] for k, v in read(tmp_path / "out" / "services.csv").items()}
    assert got == {"1": "active", "2": "temporarily closed", "3": "inactive", "4": ""}
    assert {(i.record, i.field) for i in report.issues if "status" in i.reason} == {("3", "status"), ("4", "status")}


def test_taxonomy_cycles_and_dangling_links_are_reported(tmp_path):
    src = ohana(tmp_path, "1,L1,Alpha,ok,,,,active\n",
                taxonomy__csv="id,taxonomy_id,name,parent_id\n1,a,A,b\n2,b,B,a\n3,c,C,zz\n",
                service_categories__json='{"1": ["1", "3", "99"], "404": ["2"]}')
    out = tmp_path / "out"
    report = import_directory(src, out)
    with open(out / "taxonomy.csv", newline="") as fh:
        tax = {r["code"]: r["parent"] for r in csv.DictReader(fh)}
    assert tax["c"] == "" and "" in (tax["a"], tax["b"])  # the cycle is cut once
    reasons = {(i.file, i.record, i.field, i.reason) for i in report.issues}
    assert ("taxonomy.csv", "c", "parent_id", "taxonomy parent not in the taxonomy; term imported as a root") in reasons
    assert any("cycle" in r[3] for r in reasons)
    assert ("service_categories.json", "1", "/1/2", "taxonomy.csv has no row with this id; link dropped") in reasons
    assert ("service_categories.json", "404", "/404", "links a service that is not in services.csv") in reasons
    assert read(out / "services.csv")["1"]["categories"] == "a;c"


# --------------------------------------------------------------------------------------------- schemas

def service_record(**fields) -> dict:
    base = {"id": "7b0a1c9e-1111-4a2b-9c3d-0e1f2a3b4c5d", "name": "Food Bank", "status": "active",
            "organization": {"id": "7b0a1c9e-2222-4a2b-9c3d-0e1f2a3b4c5d", "name": "Org", "description": "d"}}
    base.update(fields)
    return base


def test_json_schema_violation_strict_fails_and_lenient_reports(tmp_path):
    schema = need_schema()
    src = tmp_path / "src"
    src.mkdir()
    (src / "services.json").write_text(json.dumps({"contents": [
        service_record(),
        service_record(id="7b0a1c9e-3333-4a2b-9c3d-0e1f2a3b4c5d", minimum_age="twelve", email="nobody"),
    ]}))
    err = fails(src, tmp_path / "strict", schema_dir=schema, strict=True)
    fields = {(i.file, i.record, i.field) for i in err.issues}
    bad = "7b0a1c9e-3333-4a2b-9c3d-0e1f2a3b4c5d"
    assert fields == {("services.json", bad, "/contents/1/minimum_age"), ("services.json", bad, "/contents/1/email")}
    assert "/contents/1/minimum_age" in str(err)

    report = import_directory(src, tmp_path / "lenient", schema_dir=schema)
    assert {(i.record, i.field) for i in report.by_severity("violation")} == {
        (bad, "/contents/1/minimum_age"), (bad, "/contents/1/email")}
    written = read(tmp_path / "lenient" / "services.csv")
    assert written[bad]["min_age"] == "" and set(written) == {bad, "7b0a1c9e-1111-4a2b-9c3d-0e1f2a3b4c5d"}


def hsds3_tabular(tmp_path: Path, services: list[dict], **tables: str) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    columns = ["id", "organization_id", "name", "status", "minimum_age", "maximum_age", "eligibility_description"]
    with open(src / "services.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(services)
    (src / "organizations.csv").write_text("id,name,description\n"
                                           "7b0a1c9e-2222-4a2b-9c3d-0e1f2a3b4c5d,Org,An organization\n")
    for name, text in tables.items():
        (src / f"{name}.csv").write_text(text)
    return src


ORG = "7b0a1c9e-2222-4a2b-9c3d-0e1f2a3b4c5d"


def test_tabular_cells_are_checked_against_compiled_tabular(tmp_path):
    schema = need_schema()
    src = hsds3_tabular(tmp_path, [
        {"id": "7b0a1c9e-1111-4a2b-9c3d-0e1f2a3b4c5d", "organization_id": ORG, "name": "Ok", "status": "active",
         "minimum_age": "60", "maximum_age": "", "eligibility_description": "Seniors"},
        {"id": "not-a-uuid", "organization_id": ORG, "name": "Bad", "status": "open", "minimum_age": "sixty",
         "maximum_age": "", "eligibility_description": ""},
        {"id": "7b0a1c9e-1111-4a2b-9c3d-0e1f2a3b4c5d", "organization_id": "", "name": "Again", "status": "active",
         "minimum_age": "", "maximum_age": "", "eligibility_description": ""},
    ], service_at_location="id,service_id,location_id\n")
    report = import_directory(src, tmp_path / "out", schema_dir=schema)
    got = {(i.row, i.field, i.reason) for i in report.by_severity("violation") if i.file == "services.csv"}
    assert (3, "id", "not a UUID") in got
    assert (3, "minimum_age", "not a number") in got
    assert any(r == 3 and f == "status" and reason.startswith("not one of the allowed values") for r, f, reason in got)
    assert any(r == 4 and f == "id" and "unique" in reason for r, f, reason in got)
    assert (4, "organization_id", "required value missing") in got
    written = read(tmp_path / "out" / "services.csv")
    assert written["7b0a1c9e-1111-4a2b-9c3d-0e1f2a3b4c5d"]["min_age"] == "60"
    assert written["not-a-uuid"]["status"] == "inactive" and written["not-a-uuid"]["min_age"] == ""
    assert report.counts["duplicates"] == 1

    with pytest.raises(ImportFailed, match="not a UUID"):
        import_directory(src, tmp_path / "strict", schema_dir=schema, strict=True)
    assert not (tmp_path / "strict").exists()


def test_tabular_table_missing_a_required_column(tmp_path):
    schema = need_schema()
    src = hsds3_tabular(tmp_path, [
        {"id": "7b0a1c9e-1111-4a2b-9c3d-0e1f2a3b4c5d", "organization_id": ORG, "name": "Ok", "status": "active",
         "minimum_age": "", "maximum_age": "", "eligibility_description": ""},
    ], service_at_location="id,service_id\nx,7b0a1c9e-1111-4a2b-9c3d-0e1f2a3b4c5d\n")
    issue = fails(src, tmp_path / "out", schema_dir=schema).issues[0]
    assert (issue.file, issue.row, issue.field) == ("service_at_location.csv", 1, "location_id")
