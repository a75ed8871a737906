"""HSDS 1.x (Open Referral) data packages: ``datapackage.json`` + one CSV per table.

The CSVs are checked against the table schemas the package's own ``datapackage.json`` declares
(Frictionless table schema: types, required, unique, enums). Services are joined to their locations
(coordinates), eligibility (structured groups), service areas, languages and taxonomy.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .common import (
    Catalogue,
    CsvTable,
    clean_text,
    hours_text,
    join_text,
    language_code,
    norm_status,
    note_ignored,
    read_csv,
    read_json,
    service_values,
    split_loose_list,
)
from .report import ERROR, INFO, WARNING, ImportFailed, ImportReport, Issue
from .tabular import (
    TableSpec,
    check_table,
    datapackage_table_specs,
    first_row_by,
    organization_and_place,
    rows_by,
    service_districts,
    service_languages,
    table_rows,
)

SCHEMA_NAME = "HSDS 1.x datapackage.json"

#: Table name -> the file names HSDS 1.0/1.1 exports use for it.
TABLE_FILES = {
    "services": ("services.csv",),
    "organizations": ("organizations.csv",),
    "locations": ("locations.csv",),
    "service_at_location": ("services_at_location.csv", "service_at_location.csv"),
    "service_taxonomy": ("services_taxonomy.csv", "service_taxonomy.csv"),
    "taxonomy": ("taxonomy.csv",),
    "eligibility": ("eligibility.csv",),
    "service_areas": ("service_areas.csv",),
    "languages": ("languages.csv",),
    "required_documents": ("required_documents.csv",),
    "regular_schedules": ("regular_schedules.csv",),
}
#: Columns each read table must have for the join to mean anything (beyond its schema's required).
_NEEDED = {
    "services": ("id", "name"),
    "service_at_location": ("service_id", "location_id"),
    "service_taxonomy": ("service_id", "taxonomy_id"),
    "taxonomy": ("id", "name"),
    "eligibility": ("service_id", "eligibility"),
    "service_areas": ("service_id", "service_area"),
    "languages": ("language",),
    "required_documents": ("service_id", "document"),
    "regular_schedules": ("service_id",),
}

#: Ages the HSDS 1.x eligibility groups imply (min, max). ``family`` spans every age; gender groups
#: say nothing about age. A service open to several groups is open to the union of their ages.
ELIGIBILITY_AGES: dict[str, tuple[int | None, int | None]] = {
    "adult": (18, None),
    "child": (0, 17),
    "teen": (13, 19),
    "family": (None, None),
}


def _ages(groups: list[str]) -> tuple[int | None, int | None]:
    known = [ELIGIBILITY_AGES[g] for g in groups if g in ELIGIBILITY_AGES]
    if not known or (None, None) in known:
        return None, None
    lows = [lo for lo, _ in known]
    highs = [hi for _, hi in known]
    lo = min(lo if lo is not None else 0 for lo in lows)
    hi = None if any(h is None for h in highs) else max(highs)
    return (lo or None), hi


def import_package(root: Path, catalogue: Catalogue, report: ImportReport, descriptor: Path | None = None) -> None:
    specs: dict[str, TableSpec] = {}
    descriptor = descriptor or root / "datapackage.json"
    if descriptor.exists():
        try:
            specs = datapackage_table_specs(read_json(descriptor, "datapackage.json"))
            report.files_read.append("datapackage.json")
            report.schema = SCHEMA_NAME
        except ImportFailed as exc:
            report.add(replace_severity(exc.issues[0], WARNING, "datapackage.json unreadable; tables not "
                                        "validated against a table schema"))
            report.files_ignored.append("datapackage.json")
    else:
        report.add(Issue("datapackage.json", "no datapackage.json; tables not validated against a table schema",
                         WARNING))

    wanted = {f: t for t, files in TABLE_FILES.items() for f in files}
    tables: dict[str, CsvTable] = {}
    for path in sorted(root.glob("*.csv")):
        name = path.name
        spec = specs.get(name)
        table_name = wanted.get(name)
        if spec is None and table_name is None:
            note_ignored(report, [name], "not a table of this data package; not read")
            continue
        required = list(spec.required_columns) if spec else []
        required += [c for c in _NEEDED.get(table_name, ()) if c not in required]
        table = read_csv(path, name, required=required)
        if spec is not None:
            check_table(table, spec, report, SCHEMA_NAME)
        report.files_read.append(name)
        if table_name and table_name not in tables:
            tables[table_name] = table
    if "services" not in tables:
        raise ImportFailed([Issue("services.csv", "the data package has no services.csv", ERROR)])
    _build(tables, catalogue, report)


def replace_severity(issue: Issue, severity: str, reason: str) -> Issue:
    return Issue(issue.file, reason, severity, issue.row, issue.line, issue.record, issue.field,
                 f"{issue.reason}: {issue.detail}" if issue.detail else issue.reason)


def _build(tables: dict[str, CsvTable], catalogue: Catalogue, report: ImportReport) -> None:
    orgs = first_row_by(tables.get("organizations"), "id")
    locs = first_row_by(tables.get("locations"), "id")
    sal = rows_by(tables.get("service_at_location"), "service_id")
    links = rows_by(tables.get("service_taxonomy"), "service_id")
    elig = rows_by(tables.get("eligibility"), "service_id")
    areas = rows_by(tables.get("service_areas"), "service_id")
    lang_s = rows_by(tables.get("languages"), "service_id")
    lang_l = rows_by(tables.get("languages"), "location_id")
    docs = rows_by(tables.get("required_documents"), "service_id")
    hours = rows_by(tables.get("regular_schedules"), "service_id")

    taxonomy = tables.get("taxonomy")
    tax_ids: set[str] = set()
    if taxonomy is not None:
        for i, row in enumerate(taxonomy.rows):
            code = clean_text(row.get("id"))
            if catalogue.add_term(code, row.get("name"), clean_text(row.get("parent_id")),
                                  taxonomy.where(i, "id", code or None)):
                tax_ids.add(code)

    services = tables["services"]
    for i, row in enumerate(services.rows):
        sid = clean_text(row.get("id"))
        here = lambda field, i=i, sid=sid: services.where(i, field, sid or None)  # noqa: E731
        if not catalogue.admit(sid, row.get("name"), services.where(i, None, sid or None)):
            continue
        values = _service(row, sid, here, tables, orgs, locs, sal, links, elig, areas, lang_s, lang_l,
                          docs, tax_ids, report)
        values["hours"] = hours_text(r for _, r in table_rows(tables, "regular_schedules", hours.get(sid, [])))
        catalogue.add_service(values, services.where(i, None, sid or None))

    # Link rows that point at nothing are data lost: say so, and count them.
    for name, index in (("service_at_location", sal), ("service_taxonomy", links), ("eligibility", elig),
                        ("service_areas", areas), ("required_documents", docs), ("languages", lang_s)):
        table = tables.get(name)
        if table is None:
            continue
        unlinked = 0
        for sid, rows in sorted(index.items()):
            if not catalogue.has_service(sid):
                for i in rows:
                    unlinked += 1
                    report.add(table.where(i, "service_id", clean_text(table.rows[i].get("id")) or None)
                               .issue("links to no imported service", INFO, detail=sid))
        if name != "languages" and "service_id" in table.header:  # a language row may name a location only
            for i, row in enumerate(table.rows):
                if not clean_text(row.get("service_id")):
                    unlinked += 1
                    report.add(table.where(i, "service_id", clean_text(row.get("id")) or None)
                               .issue("names no service; not linked", WARNING))
        if unlinked:
            report.counts[f"unlinked_{name}_rows"] = unlinked


def _service(row: dict, sid: str, here, tables, orgs, locs, sal, links, elig, areas, lang_s, lang_l,
             docs, tax_ids: set[str], report: ImportReport) -> dict[str, Any]:
    org_name, location_ids, coords = organization_and_place(
        row, sid, here, tables, orgs, locs, sal.get(sid, []), report,
        organizations="organizations", service_at_location="service_at_location", locations="locations")

    groups: list[str] = []
    for _, e in table_rows(tables, "eligibility", elig.get(sid, [])):
        text = clean_text(e.get("eligibility"))
        if text and text not in groups:
            groups.append(text)
    lo, hi = _ages([g.lower() for g in groups])

    categories: list[str] = []
    for i, link in table_rows(tables, "service_taxonomy", links.get(sid, [])):
        categories.append(clean_text(link.get("taxonomy_id")).lower())
    if "taxonomy_ids" in row:
        categories += [c.lower() for c in split_loose_list(row.get("taxonomy_ids"))]

    langs = service_languages(tables, "languages", sid, location_ids, lang_s, lang_l, "language",
                              lambda entry, where: language_code(entry.get("language"), report, where))
    districts = service_districts(tables, "service_areas", "service_area", areas.get(sid, []), report)

    doc_texts = [d.get("document") for _, d in table_rows(tables, "required_documents", docs.get(sid, []))]
    return service_values(
        row, coords,
        service_id=sid, organization=org_name,
        status=norm_status(row.get("status"), report, here("status")),
        categories=categories, min_age=lo, max_age=hi, districts=districts, languages=langs,
        eligibility_description="; ".join(groups),
        fees=row.get("fees"),
        required_documents=join_text(doc_texts),
    )
