"""The Ohana API CSV layout many 211 directories exported (pre-HSDS 3), e.g. iCarol exports.

Files: ``services.csv`` (each service points at one ``location_id``), ``locations.csv`` (coordinates,
``organization_id``), ``organizations.csv``, ``taxonomy.csv`` (``id`` row number, ``taxonomy_id`` code
like ``101-02-01``, ``parent_id`` code, ``name``), ``service_categories.json`` (service id -> ids of
taxonomy.csv rows) and ``service_icarol_categories.json`` (service id -> 211/AIRS codes). Cells are
free text, often multi-line; languages are free text ("Spanish. Accommodations possible.").
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .common import (
    Catalogue,
    CsvTable,
    Where,
    category_code,
    clean_text,
    join_text,
    languages_from_text,
    norm_coordinates,
    norm_district,
    norm_status,
    note_ignored,
    pointer,
    read_csv,
    read_json,
    service_values,
    split_loose_list,
)
from .report import ERROR, INFO, WARNING, ImportFailed, ImportReport, Issue
from .tabular import first_row_by

READ_FILES = ("services.csv", "locations.csv", "organizations.csv", "taxonomy.csv",
              "service_categories.json", "service_icarol_categories.json")


def _links(root: Path, name: str, report: ImportReport) -> dict[str, list[str]]:
    """A ``{service id: [values]}`` JSON file; anything else in it is a malformed file."""
    path = root / name
    if not path.exists():
        return {}
    doc = read_json(path, name)
    if not isinstance(doc, dict):
        raise ImportFailed([Issue(name, "expected an object {service id: [ids]}", ERROR, field="/",
                                  detail=type(doc).__name__)])
    out: dict[str, list[str]] = {}
    for key, values in doc.items():
        if not isinstance(values, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool)
                                                   for v in values):
            raise ImportFailed([Issue(name, "expected a list of ids", ERROR, record=str(key),
                                      field=pointer(key), detail=repr(values)[:80])])
        out[str(key)] = [str(v).strip() for v in values]
    report.files_read.append(name)
    return out


def import_directory(root: Path, catalogue: Catalogue, report: ImportReport) -> None:
    services = read_csv(root / "services.csv", "services.csv", required=("id", "name"))
    report.files_read.append("services.csv")
    for column in ("location_id", "status"):
        if column not in services.header:
            report.add(Issue("services.csv", "column missing; its information is absent", WARNING, row=1,
                             line=1, field=column))

    locations = organizations = taxonomy = None
    if (root / "locations.csv").exists():
        locations = read_csv(root / "locations.csv", "locations.csv", required=("id",))
        report.files_read.append("locations.csv")
    if (root / "organizations.csv").exists():
        organizations = read_csv(root / "organizations.csv", "organizations.csv", required=("id", "name"))
        report.files_read.append("organizations.csv")
    categories_links = _links(root, "service_categories.json", report)
    if (root / "taxonomy.csv").exists():
        required = ("taxonomy_id", "name") + (("id",) if categories_links else ())
        taxonomy = read_csv(root / "taxonomy.csv", "taxonomy.csv", required=required)
        report.files_read.append("taxonomy.csv")
    elif categories_links:
        raise ImportFailed([Issue("taxonomy.csv", "service_categories.json refers to taxonomy.csv rows, "
                                  "but there is no taxonomy.csv", ERROR)])
    airs_links = _links(root, "service_icarol_categories.json", report)
    others = sorted(p.name for p in root.iterdir() if p.is_file() and p.name not in READ_FILES)
    note_ignored(report, others, "not part of the Ohana layout this importer reads; not read")

    for column in ("latitude", "longitude", "organization_id"):
        if locations is not None and column not in locations.header:
            report.add(Issue("locations.csv", "column missing; its information is absent", WARNING, row=1,
                             line=1, field=column))
    loc_index = first_row_by(locations, "id")
    org_index = first_row_by(organizations, "id")

    # Taxonomy: codes are the directory's own ``taxonomy_id``; links name taxonomy.csv rows by ``id``.
    code_of_row: dict[str, str] = {}
    if taxonomy is not None:
        for i, row in enumerate(taxonomy.rows):
            code = category_code(row.get("taxonomy_id"))
            where = taxonomy.where(i, "taxonomy_id", code or clean_text(row.get("id")) or None)
            catalogue.add_term(code, row.get("name"), clean_text(row.get("parent_id")), where, kind=row.get("type"))
            row_id = clean_text(row.get("id"))
            if row_id and code:
                code_of_row.setdefault(row_id, code)

    service_ids = {clean_text(r.get("id")) for r in services.rows}
    for name, links in (("service_categories.json", categories_links),
                        ("service_icarol_categories.json", airs_links)):
        for sid in sorted(set(links) - service_ids):
            report.add(Issue(name, "links a service that is not in services.csv", WARNING, record=sid,
                             field=pointer(sid)))

    for i, row in enumerate(services.rows):
        sid = clean_text(row.get("id"))
        if not catalogue.admit(sid, row.get("name"), services.where(i, None, sid or None)):
            continue
        values = _service(row, sid, i, services, locations, loc_index, organizations, org_index,
                          categories_links, code_of_row, airs_links, report)
        catalogue.add_service(values, services.where(i, None, sid or None))


def _documents(raw: Any) -> str:
    """Ohana keeps documents as a Postgres array ``{a,"b c"}``: one per line; plain text stays whole."""
    text = clean_text(raw)
    return "\n".join(split_loose_list(text)) if text.startswith("{") else text


def _service(row: dict, sid: str, i: int, services: CsvTable, locations: CsvTable | None,
             loc_index: dict[str, int], organizations: CsvTable | None, org_index: dict[str, int],
             categories_links: dict[str, list[str]], code_of_row: dict[str, str],
             airs_links: dict[str, list[str]], report: ImportReport) -> dict[str, Any]:
    here = lambda field: services.where(i, field, sid or None)  # noqa: E731

    location = None
    loc_where: Where | None = None
    lid = clean_text(row.get("location_id"))
    if lid:
        if lid in loc_index:
            j = loc_index[lid]
            location = locations.rows[j]
            loc_where = locations.where(j, None, lid)
        else:
            report.add(here("location_id").issue("location not in locations.csv; no coordinates or organization",
                                                 detail=lid))
    elif "location_id" in services.header:
        report.add(here("location_id").issue("service has no location; no coordinates or organization", INFO))

    coords = None
    org_name = ""
    location_languages = ""
    if location is not None:
        if clean_text(location.get("latitude")) or clean_text(location.get("longitude")):
            coords = norm_coordinates(location.get("latitude"), location.get("longitude"), report,
                                      loc_where.at("latitude"), loc_where.at("longitude"))
        oid = clean_text(location.get("organization_id"))
        if oid and oid in org_index:
            org_name = clean_text(organizations.rows[org_index[oid]].get("name"))
        elif oid:
            report.add(loc_where.at("organization_id").issue("organization not in organizations.csv", detail=oid))
        location_languages = clean_text(location.get("languages"))

    categories: list[str] = []
    for n, row_id in enumerate(categories_links.get(sid, [])):
        code = code_of_row.get(row_id)
        if code:
            categories.append(code)
        else:
            report.add(Issue("service_categories.json", "taxonomy.csv has no row with this id; link dropped",
                             WARNING, record=sid, field=pointer(sid, n), detail=row_id))
    # Ohana's own services.taxonomy_ids column, when filled: codes, or taxonomy.csv row ids.
    for token in split_loose_list(row.get("taxonomy_ids")):
        categories.append(code_of_row.get(token, category_code(token)))

    service_languages = clean_text(row.get("languages"))
    langs = languages_from_text(service_languages, report, here("languages"))
    if location_languages and location_languages != service_languages:
        langs += languages_from_text(location_languages, report, loc_where.at("languages"))
    note = join_text([service_languages, location_languages])
    # A 211 directory's languages field lists what is offered besides English ("Spanish."): the
    # service still works in English unless the listing says it does not. Storing "es" alone would
    # shut every English speaker out of the service.
    if langs and "en" not in langs and not _ONLY.search(note or ""):
        langs = ["en", *langs]

    districts: list[str] = []
    for area in split_loose_list(row.get("service_areas")):
        districts += norm_district(area, report, here("service_areas"))

    status_where = here("status")
    return service_values(
        row, coords,
        service_id=sid, organization=org_name,
        status=norm_status(row.get("status"), report, status_where) if "status" in services.header else "",
        categories=categories, districts=districts, languages=langs,
        # Ohana names two of the shared fields its own way
        eligibility_description=row.get("eligibility"),
        url=row.get("website"),
        fees=row.get("fees"),
        required_documents=_documents(row.get("required_documents")),
        languages_note=note,
        airs_codes=[c.strip() for c in airs_links.get(sid, []) if c.strip()],
    )


_ONLY = re.compile(r"\bonly\b|\bno english\b|\bnon[- ]?english\b", re.IGNORECASE)
