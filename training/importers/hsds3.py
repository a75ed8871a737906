"""HSDS 3.0 (Open Referral): the tabular data package (CSVs) and the JSON form (nested services).

Both are validated against the official schemas in ``schema_dir`` (``compiled_tabular.json`` for the
CSVs, the per-object JSON Schemas for JSON, their ``$ref``s resolved from the same folder, never the
network). Every violation becomes an issue naming file, record and field (a JSON pointer for JSON).
"""
from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import jsonschema
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from recommender import languages as lang
from .common import (
    Catalogue,
    hours_text,
    CsvTable,
    Where,
    category_code,
    clean_text,
    join_text,
    language_code,
    norm_coordinates,
    norm_district,
    norm_number,
    norm_status,
    note_ignored,
    pointer,
    read_csv,
    read_json,
    service_values,
)
from .report import ERROR, VIOLATION, WARNING, ImportFailed, ImportReport, Issue
from .tabular import (
    FORMAT_CHECKS,
    TableSpec,
    check_table,
    first_row_by,
    hsds3_table_specs,
    organization_and_place,
    rows_by,
    service_districts,
    service_languages,
    table_rows,
)

SCHEMA_NAME = "HSDS 3.0"
#: JSON object kinds we validate and read, and the schema file of each.
KIND_SCHEMAS = {
    "service": "service.json",
    "organization": "organization.json",
    "service_at_location": "service_at_location.json",
    "location": "location.json",
    "taxonomy_term": "taxonomy_term.json",
    "taxonomy": "taxonomy.json",
}


class Hsds3Schemas:
    """The HSDS 3.0 schema files of one folder, ready to validate with (no network: unknown refs fail)."""

    def __init__(self, schema_dir: Path):
        self.dir = Path(schema_dir)
        needed = ["compiled_tabular.json", *KIND_SCHEMAS.values()]
        missing = [n for n in needed if not (self.dir / n).is_file()]
        if missing:
            raise ImportFailed([Issue(str(self.dir), "HSDS 3.0 schema file missing", ERROR, field=n)
                                for n in missing])
        self._docs: dict[str, dict] = {}
        for path in sorted(self.dir.glob("*.json")):
            self._docs[path.name] = read_json(path, f"{self.dir.name}/{path.name}")
        base = self.dir.resolve()
        self._uris = {name: (base / name).as_uri() for name in self._docs}
        self.registry = Registry().with_resources(
            (uri, Resource.from_contents(self._docs[name], default_specification=DRAFT202012))
            for name, uri in self._uris.items()
        )
        self._validators: dict[str, jsonschema.protocols.Validator] = {}

    @cached_property
    def format_checker(self) -> jsonschema.FormatChecker:
        checker = jsonschema.FormatChecker()
        for name, (check, _) in FORMAT_CHECKS.items():
            checker.checks(name)(lambda value, check=check: not isinstance(value, str) or check(value))
        return checker

    def validator(self, kind: str):
        if kind not in self._validators:
            uri = self._uris[KIND_SCHEMAS[kind]]
            self._validators[kind] = jsonschema.Draft202012Validator(
                {"$ref": uri}, registry=self.registry, format_checker=self.format_checker)
        return self._validators[kind]

    @cached_property
    def table_specs(self) -> dict[str, TableSpec]:
        return hsds3_table_specs(self._docs["compiled_tabular.json"])

    def describe(self) -> str:
        return f"{SCHEMA_NAME} JSON Schemas ({self.dir.name}/)"


def _validate_record(schemas: Hsds3Schemas, kind: str, record: Any, file: str, ptr: str,
                     report: ImportReport) -> int:
    """Report every schema violation of one JSON record; returns how many."""
    count = 0
    record_id = clean_text(record.get("id")) if isinstance(record, dict) else ""
    try:
        errors = sorted(schemas.validator(kind).iter_errors(record),
                        key=lambda e: (list(map(str, e.absolute_path)), e.message))
    except Unresolvable as exc:  # a $ref outside the schema folder: we never fetch it
        raise ImportFailed([Issue(f"{schemas.dir.name}/{KIND_SCHEMAS[kind]}", "schema $ref not found in the "
                                  "schema folder (remote schemas are not fetched)", ERROR, detail=str(exc))]) from None
    for error in errors:
        path = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [p for p in error.validator_value if p not in error.instance]
            for prop in missing:
                if repr(prop) in error.message:
                    path = path + [prop]
                    break
        count += 1
        report.add(Issue(file, _violation_reason(error), VIOLATION, record=record_id or ptr or "/",
                         field=ptr + pointer(*path) or "/", detail=error.message))
    report.counts["violations"] = report.counts.get("violations", 0) + count
    return count


def _violation_reason(error: jsonschema.ValidationError) -> str:
    return {
        "required": "required property missing",
        "type": "wrong type",
        "format": "wrong format",
        "enum": "not one of the allowed values",
    }.get(error.validator, f"schema violation ({error.validator})")


# ---------------------------------------------------------------------------------------------
# Mapping shared by the JSON and tabular forms


def _term_code(term: dict) -> str:
    return category_code(term.get("code")) or category_code(term.get("id"))


class _Terms:
    """Taxonomy terms by id, collected before services so parents and links resolve to codes."""

    def __init__(self) -> None:
        self.by_id: dict[str, tuple[dict, Where]] = {}

    def add(self, term: dict, where: Where) -> None:
        tid = clean_text(term.get("id"))
        key = tid or _term_code(term)
        if key and key not in self.by_id:
            self.by_id[key] = (term, where)

    def code_of_id(self, term_id: str) -> str | None:
        found = self.by_id.get(clean_text(term_id))
        return _term_code(found[0]) if found else None

    def into(self, catalogue: Catalogue) -> None:
        for term, where in self.by_id.values():
            parent_id = clean_text(term.get("parent_id"))
            parent = self.code_of_id(parent_id) or parent_id if parent_id else ""
            # JSON terms are located by pointer, CSV rows by column.
            parent_field = where.field.rstrip("/") + "/parent_id" if (where.field or "").startswith("/") \
                else "parent_id"
            catalogue.add_term(_term_code(term), clean_text(term.get("name")), parent, where, parent_field)


def _language(entry: dict, report: ImportReport, where: Where) -> str | None:
    """ISO 639-1 code of an HSDS language entry, from its ``code`` or else its ``name``."""
    for key in ("code", "name"):
        value = clean_text(entry.get(key))
        if value and lang.code_for(value):
            return lang.code_for(value)
    raw = clean_text(entry.get("name")) or clean_text(entry.get("code"))
    field = "name" if clean_text(entry.get("name")) else "code"
    return language_code(raw, report, where.at(_sub(where.field, field))) if raw else None


def _sub(base: str | None, field: str) -> str:
    """A field under a JSON pointer (``/a/0`` + ``name``), or the plain column name for CSV."""
    if base is None:
        return field
    return base + pointer(field) if base.startswith("/") or base == "" else field


def _cost_text(option: dict) -> str:
    amount = option.get("amount")
    money = " ".join(p for p in (clean_text(amount) if amount is not None else "",
                                 clean_text(option.get("currency")).upper()) if p)
    head = ": ".join(p for p in (clean_text(option.get("option")), money) if p)
    text = " ".join(p for p in (head, clean_text(option.get("amount_description"))) if p)
    start, end = clean_text(option.get("valid_from")), clean_text(option.get("valid_to"))
    if text and (start or end):
        text += f" (valid {start or '...'} to {end or '...'})"
    return text


def _fees(fees_description: Any, fees: Any, cost_options: list[dict]) -> str:
    # ``fees`` is deprecated in 3.0 in favour of ``fees_description``: use it only when alone.
    main = clean_text(fees_description) or clean_text(fees)
    return join_text([main] + [_cost_text(o) for o in cost_options])


# ---------------------------------------------------------------------------------------------
# JSON form


def _doc_records(doc: Any) -> tuple[str, list[tuple[str, Any]]]:
    """('page'|'list'|'object', [(pointer, record)]) of one JSON document."""
    if isinstance(doc, dict) and isinstance(doc.get("contents"), list):
        return "page", [(pointer("contents", i), r) for i, r in enumerate(doc["contents"])]
    if isinstance(doc, list):
        return "list", [(pointer(i), r) for i, r in enumerate(doc)]
    return "object", [("", doc)]


def _kind_by_shape(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    keys = set(record)
    if "status" in keys:
        return "service"
    if "service" in keys and ("location" in keys or "location_id" in keys):
        return "service_at_location"
    if "location_type" in keys or {"latitude", "longitude"} <= keys:
        return "location"
    if keys & {"services", "organization_identifiers", "year_incorporated", "legal_status", "website"}:
        return "organization"
    if keys & {"code", "taxonomy_detail", "term_uri", "parent_id"}:
        return "taxonomy_term"
    if {"id", "name", "version"} <= keys or {"id", "name", "uri"} <= keys:
        return "taxonomy"
    return None


def _kind(path: Path, doc: Any, records: list[tuple[str, Any]]) -> str | None:
    stem = path.stem
    for suffix in ("_full", "_list"):
        stem = stem.removesuffix(suffix)
    if stem in KIND_SCHEMAS:
        return stem
    if isinstance(doc, dict) and doc and all(str(k).endswith(".csv") for k in doc):
        return "tabular-json"
    if isinstance(doc, dict) and {"openapi_url", "profile"} & set(doc) and "contents" not in doc:
        return "api-metadata"
    kinds = {_kind_by_shape(r) for _, r in records if isinstance(r, dict)}
    return kinds.pop() if len(kinds) == 1 else None


def _walk_terms(node: Any, ptr: str, file: str, terms: _Terms) -> None:
    """Every nested ``taxonomy_term`` object, wherever an attribute holds one."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "taxonomy_term" and isinstance(value, dict):
                terms.add(value, Where(file, record=clean_text(value.get("id")) or None,
                                       field=ptr + pointer(key)))
            _walk_terms(value, ptr + pointer(key), file, terms)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _walk_terms(value, ptr + pointer(i), file, terms)


def import_json(paths: list[Path], root: Path, catalogue: Catalogue, report: ImportReport,
                schemas: Hsds3Schemas | None) -> None:
    """Import HSDS 3.0 JSON files (single objects, arrays, or API pages with ``contents``)."""
    docs: list[tuple[str, str, list[tuple[str, Any]]]] = []  # (file, kind, records)
    for path in sorted(paths):
        rel = path.relative_to(root).as_posix() if path != root else path.name
        doc = read_json(path, rel)
        _, records = _doc_records(doc)
        kind = _kind(path, doc, records)
        if kind in (None, "tabular-json", "api-metadata"):
            why = {
                None: "JSON file is not an HSDS 3.0 object we read; not imported",
                "tabular-json": "the tabular form as JSON; import the CSV data package instead",
                "api-metadata": "HSDS API metadata; nothing to import",
            }[kind]
            note_ignored(report, [rel], why)
            continue
        report.files_read.append(rel)
        bad = [(p, r) for p, r in records if not isinstance(r, dict)]
        if bad:
            raise ImportFailed([Issue(rel, f"expected a JSON object ({kind})", ERROR, field=p or "/",
                                      detail=type(r).__name__) for p, r in bad])
        if schemas is not None:
            for p, r in records:
                _validate_record(schemas, kind, r, rel, p, report)
        docs.append((rel, kind, records))

    terms = _Terms()
    locations: dict[str, tuple[dict, Where]] = {}
    organizations: dict[str, dict] = {}
    for rel, kind, records in docs:
        for p, r in records:
            _walk_terms(r, p, rel, terms)
            if kind == "taxonomy_term":
                terms.add(r, Where(rel, record=clean_text(r.get("id")) or None, field=p or "/"))
            if kind == "organization":
                organizations.setdefault(clean_text(r.get("id")), r)
                for i, loc in enumerate(r.get("locations") or []):
                    if isinstance(loc, dict):
                        where = Where(rel, field=p + pointer("locations", i))
                        locations.setdefault(clean_text(loc.get("id")), (loc, where))
            if kind == "location":
                locations.setdefault(clean_text(r.get("id")), (r, Where(rel, field=p)))
            if kind == "service_at_location" and isinstance(r.get("location"), dict):
                where = Where(rel, field=p + "/location")
                locations.setdefault(clean_text(r["location"].get("id")), (r["location"], where))
    terms.into(catalogue)

    # Services: top-level service records first (fullest), then those nested in other objects.
    queue: list[tuple[str, str, dict, dict | None, tuple[dict, str] | None]] = []
    for rel, kind, records in docs:
        if kind == "service":
            queue.extend((rel, p, r, None, None) for p, r in records)
    for rel, kind, records in docs:
        for p, r in records:
            if kind == "organization":
                for i, s in enumerate(r.get("services") or []):
                    if isinstance(s, dict):
                        queue.append((rel, p + pointer("services", i), s, r, None))
            elif kind == "service_at_location" and isinstance(r.get("service"), dict):
                loc = r.get("location") if isinstance(r.get("location"), dict) else None
                queue.append((rel, p + "/service", r["service"], None, (loc, p + "/location") if loc else None))
    if not queue:
        raise ImportFailed([Issue(", ".join(d[0] for d in docs) or root.name,
                                  "no HSDS 3.0 service records found", ERROR)])
    for rel, p, rec, org, sal_location in queue:
        where = Where(rel, record=clean_text(rec.get("id")) or p or "/", field=p or "/")
        # A service seen again (e.g. nested in organization_full.json) is reported, not re-mapped.
        if catalogue.admit(rec.get("id"), rec.get("name"), where, id_field=p + "/id", name_field=p + "/name"):
            values = _json_service(rec, rel, p, org, sal_location, organizations, locations, terms, report)
            catalogue.add_service(values, where)


def _json_service(rec: dict, rel: str, p: str, org: dict | None, sal_location: tuple[dict, str] | None,
                  organizations: dict[str, dict], locations: dict[str, tuple[dict, Where]], terms: _Terms,
                  report: ImportReport) -> dict[str, Any]:
    sid = clean_text(rec.get("id")) or None
    at = lambda *parts: Where(rel, record=sid or p or "/", field=p + pointer(*parts))  # noqa: E731

    organization = rec.get("organization") if isinstance(rec.get("organization"), dict) else None
    organization = organization or org or organizations.get(clean_text(rec.get("organization_id")))
    lo = norm_number(rec.get("minimum_age"), "min_age", report, at("minimum_age"))
    hi = norm_number(rec.get("maximum_age"), "max_age", report, at("maximum_age"))

    # Locations in order: the enclosing service_at_location's (if nested there), then the service's own.
    located: list[tuple[dict, Where]] = []
    if sal_location:
        located.append((sal_location[0], Where(rel, record=sid, field=sal_location[1])))
    for i, sal in enumerate(rec.get("service_at_locations") or []):
        if not isinstance(sal, dict):
            continue
        loc = sal.get("location") if isinstance(sal.get("location"), dict) else None
        if loc is not None:
            located.append((loc, at("service_at_locations", i, "location")))
        elif clean_text(sal.get("location_id")) in locations:
            found, where = locations[clean_text(sal.get("location_id"))]
            located.append((found, replace(where, record=sid)))
    coords = None
    for loc, where in located:
        if clean_text(loc.get("latitude")) or clean_text(loc.get("longitude")):
            coords = norm_coordinates(loc.get("latitude"), loc.get("longitude"), report,
                                      where.at(_sub(where.field, "latitude")), where.at(_sub(where.field, "longitude")))
            if coords:
                break

    langs: list[str] = []
    for i, entry in enumerate(rec.get("languages") or []):
        if isinstance(entry, dict):
            code = _language(entry, report, at("languages", i))
            if code:
                langs.append(code)
    for loc, where in located:
        for i, entry in enumerate(loc.get("languages") or []):
            if isinstance(entry, dict):
                code = _language(entry, report, where.at((where.field or "") + pointer("languages", i)))
                if code:
                    langs.append(code)

    districts: list[str] = []
    for i, area in enumerate(rec.get("service_areas") or []):
        if isinstance(area, dict):
            districts += norm_district(area.get("name"), report, at("service_areas", i, "name"))

    categories: list[str] = []
    for i, attr in enumerate(rec.get("attributes") or []):
        if not isinstance(attr, dict):
            continue
        term = attr.get("taxonomy_term") if isinstance(attr.get("taxonomy_term"), dict) else None
        code = _term_code(term) if term else terms.code_of_id(clean_text(attr.get("taxonomy_term_id")))
        if code:
            categories.append(code)
        else:
            report.add(at("attributes", i).issue("attribute without a known taxonomy term; no category",
                                                 detail=clean_text(attr.get("taxonomy_term_id")) or None))

    costs = [o for o in rec.get("cost_options") or [] if isinstance(o, dict)]
    docs = [d.get("document") for d in rec.get("required_documents") or [] if isinstance(d, dict)]
    return service_values(
        rec, coords,
        service_id=rec.get("id"),
        organization=clean_text(organization.get("name")) if organization else "",
        status=norm_status(rec.get("status"), report, at("status")),
        categories=categories, min_age=lo, max_age=hi, districts=districts, languages=langs,
        eligibility_description=rec.get("eligibility_description"),
        fees=_fees(rec.get("fees_description"), rec.get("fees"), costs),
        required_documents=join_text(docs),
        hours=hours_text(s for s in rec.get("schedules") or [] if isinstance(s, dict)),
    )


# ---------------------------------------------------------------------------------------------
# Tabular form

#: Tables the services table is built from (others are validated, not read).
READ_TABLES = (
    "services.csv", "organizations.csv", "locations.csv", "service_at_location.csv", "attributes.csv",
    "taxonomy_terms.csv", "languages.csv", "service_areas.csv", "cost_options.csv", "required_documents.csv",
    "schedules.csv",
)
#: Columns we need beyond the schema's required ones (the schema leaves ``service_id`` optional in
#: some link tables, but a link without it links nothing).
_LINK_COLUMNS = {"service_at_location.csv": ("service_id", "location_id")}


def _read_datapackage_descriptor(root: Path, report: ImportReport, descriptor: Path | None = None) -> None:
    path = descriptor or root / "datapackage.json"
    if not path.exists():
        return
    try:
        read_json(path, "datapackage.json")
    except ImportFailed:
        head = path.read_bytes()[:200].decode("utf-8", "replace").strip()
        looks_like_link = head.startswith((".", "/")) and "\n" not in head
        hint = " (it holds only a path: an unresolved symbolic link?)" if looks_like_link else ""
        report.add(Issue("datapackage.json", "data package descriptor is not JSON; the HSDS 3.0 table "
                         "schemas were used instead" + hint, WARNING, detail=head[:120]))
        report.files_ignored.append("datapackage.json")
        return
    report.files_read.append("datapackage.json")


def import_tabular(root: Path, catalogue: Catalogue, report: ImportReport,
                   schemas: Hsds3Schemas | None, descriptor: Path | None = None) -> None:
    """Import an HSDS 3.0 tabular data package (a folder of CSVs)."""
    _read_datapackage_descriptor(root, report, descriptor)
    specs = schemas.table_specs if schemas is not None else {}
    tables: dict[str, CsvTable] = {}
    for path in sorted(root.glob("*.csv")):
        name = path.name
        spec = specs.get(name)
        if spec is None and name not in READ_TABLES:
            note_ignored(report, [name], "not an HSDS 3.0 table; not read")
            continue
        required = list(spec.required_columns) if spec else ["id"]
        if name == "services.csv":
            required += [c for c in ("id", "name") if c not in required]
        required += [c for c in _LINK_COLUMNS.get(name, ()) if c not in required]
        table = read_csv(path, name, required=required)
        if spec is not None:
            check_table(table, spec, report, SCHEMA_NAME)
        tables[name] = table
        report.files_read.append(name)
    if "services.csv" not in tables:
        raise ImportFailed([Issue("services.csv", "the data package has no services.csv", ERROR)])

    def by(name: str, key: str) -> dict[str, list[int]]:
        return rows_by(tables.get(name), key)

    orgs = first_row_by(tables.get("organizations.csv"), "id")
    locs = first_row_by(tables.get("locations.csv"), "id")
    sal_by_service = by("service_at_location.csv", "service_id")
    attr_by_link = by("attributes.csv", "link_id")
    lang_by_service = by("languages.csv", "service_id")
    lang_by_location = by("languages.csv", "location_id")
    areas = by("service_areas.csv", "service_id")
    costs = by("cost_options.csv", "service_id")
    docs = by("required_documents.csv", "service_id")
    schedules = by("schedules.csv", "service_id")

    terms = _Terms()
    if "taxonomy_terms.csv" in tables:
        t = tables["taxonomy_terms.csv"]
        for i, row in enumerate(t.rows):
            terms.add(row, t.where(i, None, clean_text(row.get("id")) or None))
    terms.into(catalogue)

    services = tables["services.csv"]
    for i, row in enumerate(services.rows):
        sid = clean_text(row.get("id"))
        here: Callable[..., Where] = lambda field, i=i, sid=sid: services.where(i, field, sid or None)  # noqa: E731
        if not catalogue.admit(sid, row.get("name"), services.where(i, None, sid or None)):
            continue
        values = _tabular_service(row, sid, here, tables, orgs, locs, sal_by_service, attr_by_link,
                                  lang_by_service, lang_by_location, areas, costs, docs, terms, report)
        values["hours"] = hours_text(r for _, r in table_rows(tables, "schedules.csv", schedules.get(sid, [])))
        catalogue.add_service(values, services.where(i, None, sid or None))
    for i in sorted(i for ids in attr_by_link.values() for i in ids):
        row = tables["attributes.csv"].rows[i]
        if not catalogue.has_service(clean_text(row.get("link_id"))) and \
                clean_text(row.get("link_entity")).lower() not in _OTHER_ENTITIES:
            report.add(tables["attributes.csv"].where(i, "link_id", clean_text(row.get("id")) or None).issue(
                "attribute links to no imported service; its category is not used", WARNING,
                detail=row.get("link_id")))


#: ``link_entity`` values of attributes that describe something other than a service.
_OTHER_ENTITIES = {"organization", "location", "service_at_location", "program", "contact", "phone",
                   "schedule", "address", "cost_option", "service_area", "funding"}


def _tabular_service(row: dict, sid: str, here: Callable[..., Where], tables: dict[str, CsvTable],
                     orgs, locs, sal_by_service, attr_by_link, lang_by_service, lang_by_location,
                     areas, costs, docs, terms: _Terms, report: ImportReport) -> dict[str, Any]:
    org_name, location_ids, coords = organization_and_place(
        row, sid, here, tables, orgs, locs, sal_by_service.get(sid, []), report,
        organizations="organizations.csv", service_at_location="service_at_location.csv", locations="locations.csv")

    langs = service_languages(tables, "languages.csv", sid, location_ids, lang_by_service, lang_by_location, None,
                              lambda entry, where: _language(entry, report, where))
    districts = service_districts(tables, "service_areas.csv", "name", areas.get(sid, []), report)

    categories: list[str] = []
    for i, attr in table_rows(tables, "attributes.csv", attr_by_link.get(sid, [])):
        code = terms.code_of_id(clean_text(attr.get("taxonomy_term_id")))
        if code:
            categories.append(code)
        else:
            report.add(tables["attributes.csv"].where(i, "taxonomy_term_id", clean_text(attr.get("id")) or None)
                       .issue("taxonomy term not in taxonomy_terms.csv; no category",
                              detail=clean_text(attr.get("taxonomy_term_id")) or None))

    cost_rows = [r for _, r in table_rows(tables, "cost_options.csv", costs.get(sid, []))]
    doc_texts = [r.get("document") for _, r in table_rows(tables, "required_documents.csv", docs.get(sid, []))]
    return service_values(
        row, coords,
        service_id=sid, organization=org_name,
        status=norm_status(row.get("status"), report, here("status")),
        categories=categories,
        min_age=norm_number(row.get("minimum_age"), "min_age", report, here("minimum_age")),
        max_age=norm_number(row.get("maximum_age"), "max_age", report, here("maximum_age")),
        districts=districts, languages=langs,
        eligibility_description=row.get("eligibility_description"),
        fees=_fees(row.get("fees_description"), row.get("fees"), cost_rows),
        required_documents=join_text(doc_texts),
    )
