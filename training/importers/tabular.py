"""Checking CSV tables against a table schema: HSDS 3.0's ``compiled_tabular.json`` or the
Frictionless table schemas inside an HSDS 1.x ``datapackage.json``.

Missing required columns make the file unusable (``ImportFailed``); each bad cell is a ``violation``
issue naming file, row, record id and column, and the import goes on.
"""
from __future__ import annotations

from pathlib import Path

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Callable
from urllib.parse import urlsplit

from .common import CsvTable, clean_text, norm_coordinates, norm_district
from .report import INFO, VIOLATION, ImportReport

# ---------------------------------------------------------------------------------------------
# Value formats, shared with the JSON Schema validation (jsonschema's own checkers for date-time,
# time and uri need optional packages; these keep both forms of HSDS checked the same way).

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


def _real(form: re.Pattern, parse) -> Callable[[str], bool]:
    """A check that a value has ``form`` and that ``parse`` (a ``fromisoformat``) takes it: the form
    alone would pass 2024-02-30 or 25:00:00."""
    def check(value: str) -> bool:
        if not form.match(value):
            return False
        try:
            parse(value)
        except ValueError:
            return False
        return True
    return check


is_date = _real(_DATE, date.fromisoformat)
is_time = _real(_TIME, lambda value: time.fromisoformat(value[:8]))
#: RFC 3339 date-time (the JSON Schema ``date-time`` format): date, time and a zone.
is_datetime = _real(_DATETIME,
                    lambda value: datetime.fromisoformat(value[:19].replace("t", "T").replace(" ", "T")))


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    # uuid.UUID also takes braces, urn: prefixes and no hyphens; the format is the 8-4-4-4-12 form.
    return len(value) == 36 and all(value[i] == "-" for i in (8, 13, 18, 23))


def is_email(value: str) -> bool:
    return "@" in value and not any(c.isspace() for c in value)


def is_uri(value: str) -> bool:
    """An absolute URI: a scheme, no spaces."""
    if any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme) and bool(_SCHEME.match(parts.scheme)) and bool(parts.netloc or parts.path)


FORMAT_CHECKS = {
    "uuid": (is_uuid, "not a UUID"),
    "email": (is_email, "not an email address"),
    "uri": (is_uri, "not an absolute URI"),
    "date": (is_date, "not a date (YYYY-MM-DD)"),
    "time": (is_time, "not a time (HH:MM:SS)"),
    "date-time": (is_datetime, "not a date-time (RFC 3339)"),
}

# ---------------------------------------------------------------------------------------------
# Table schemas


@dataclass(frozen=True)
class FieldSpec:
    name: str
    #: string, number, integer, boolean, date, time, datetime, year
    type: str = "string"
    #: uuid, email, uri, date-time (string formats)
    format: str | None = None
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TableSpec:
    name: str
    path: str
    fields: dict[str, FieldSpec]

    @property
    def required_columns(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.required]


def hsds3_table_specs(compiled_tabular: dict) -> dict[str, TableSpec]:
    """Table specs from HSDS 3.0 ``compiled_tabular.json``, keyed by CSV file name."""
    specs: dict[str, TableSpec] = {}
    for name, table in compiled_tabular.get("properties", {}).items():
        item = table.get("items", {})
        path = item.get("path") or f"{name}.csv"
        required = set(item.get("required", [])) | set(item.get("tabular_required", []))
        fields: dict[str, FieldSpec] = {}
        for fname, fd in item.get("properties", {}).items():
            ftype = fd.get("type")
            if ftype not in ("string", "number", "integer", "boolean"):
                continue  # arrays/objects are nested tables in the JSON form, not columns
            kind = {"datetime": "datetime", "date": "date", "time": "time"}.get(fd.get("datapackage_type"), ftype)
            fmt = fd.get("format")
            if fmt == "date-time" or kind == "datetime":
                kind, fmt = "string", "date-time"
            enum = fd.get("enum") or fd.get("constraints", {}).get("enum")
            fields[fname] = FieldSpec(
                fname, kind, fmt, fname in required, bool(fd.get("constraints", {}).get("unique")),
                tuple(enum) if enum else None,
            )
        specs[path] = TableSpec(name, path, fields)
    return specs


def datapackage_table_specs(datapackage: dict) -> dict[str, TableSpec]:
    """Table specs from a Frictionless data package (HSDS 1.x), keyed by CSV file name."""
    specs: dict[str, TableSpec] = {}
    for resource in datapackage.get("resources", []):
        path = resource.get("path")
        if not isinstance(path, str):
            continue
        fields: dict[str, FieldSpec] = {}
        for fd in resource.get("schema", {}).get("fields", []):
            cons = fd.get("constraints") or {}
            enum = cons.get("enum")
            fmt = fd.get("format")
            fields[fd["name"]] = FieldSpec(
                fd["name"], fd.get("type", "string"),
                fmt if fmt in FORMAT_CHECKS else None,
                bool(cons.get("required")), bool(cons.get("unique")),
                tuple(str(e) for e in enum) if enum else None,
            )
        # keyed by file name: a package whose tables sit in a subfolder ("data/services.csv") is read
        # from that folder
        specs[Path(path).name] = TableSpec(resource.get("name", path), path, fields)
    return specs


_TRUE = {"true", "True", "TRUE", "1"}
_FALSE = {"false", "False", "FALSE", "0"}


def _type_problem(kind: str, value: str) -> str | None:
    if kind == "number":
        try:
            float(value)
        except ValueError:
            return "not a number"
    elif kind == "integer":
        if not re.match(r"^[+-]?\d+$", value):
            return "not an integer"
    elif kind == "boolean":
        if value not in _TRUE | _FALSE:
            return "not a boolean (true/false)"
    elif kind == "date":
        if not is_date(value):
            return "not a date (YYYY-MM-DD)"
    elif kind == "time":
        if not is_time(value):
            return "not a time (HH:MM:SS)"
    elif kind == "datetime":
        if not is_datetime(value):
            return "not a date-time (RFC 3339)"
    elif kind == "year":
        if not re.match(r"^\d{4}$", value):
            return "not a year (YYYY)"
    return None


def check_table(table: CsvTable, spec: TableSpec, report: ImportReport, schema_name: str) -> int:
    """Report every cell of ``table`` that breaks ``spec``; returns how many. Required columns must
    already be checked (``read_csv(required=spec.required_columns)``)."""
    for column in table.header:
        if column not in spec.fields:
            report.issue(table.file, f"column not in the {schema_name} table schema; not read", INFO,
                         row=1, line=1, field=column)
    violations = 0
    seen: dict[str, dict[str, int]] = defaultdict(dict)
    fields = [spec.fields[c] for c in table.header if c in spec.fields]
    for index, row in enumerate(table.rows):
        record = clean_text(row.get("id")) or None
        for fs in fields:
            value = row.get(fs.name, "")
            problem = None
            if value.strip() == "":
                if fs.required:
                    problem = "required value missing"
            else:
                problem = _type_problem(fs.type, value.strip())
                if problem is None and fs.format in FORMAT_CHECKS:
                    check, message = FORMAT_CHECKS[fs.format]
                    if not check(value.strip()):
                        problem = message
                if problem is None and fs.enum is not None and value not in fs.enum:
                    problem = f"not one of the allowed values ({', '.join(fs.enum)})"
                if problem is None and fs.unique:
                    first = seen[fs.name].setdefault(value, table.row_number(index))
                    if first != table.row_number(index):
                        problem = f"value repeats (first in row {first}); the column must be unique"
            if problem:
                violations += 1
                report.add(table.where(index, fs.name, record).issue(problem, VIOLATION, detail=value or None))
    report.counts["violations"] = report.counts.get("violations", 0) + violations
    return violations


def rows_by(table: CsvTable | None, key: str) -> dict[str, list[int]]:
    """The indices of ``table``'s rows by their value in column ``key`` (rows without one left out): how
    the packages' tables are joined. Empty when the table or the column is absent."""
    index: dict[str, list[int]] = defaultdict(list)
    if table is not None and key in table.header:
        for i, row in enumerate(table.rows):
            k = clean_text(row.get(key))
            if k:
                index[k].append(i)
    return index


def first_row_by(table: CsvTable | None, key: str) -> dict[str, int]:
    """The index of the first row holding each value of column ``key`` (an id repeated later is ignored)."""
    return {k: rows[0] for k, rows in rows_by(table, key).items()}


def table_rows(tables: dict, name: str, indices: list[int]):
    """(index, row) of the given rows of one table."""
    table = tables.get(name)
    for i in indices:
        yield i, table.rows[i]


def organization_and_place(row: dict, sid: str, here, tables: dict, orgs: dict, locs: dict,
                           sal_rows: list[int], report, *, organizations: str, service_at_location: str,
                           locations: str) -> tuple[str, list[str], tuple[float, float] | None]:
    """(organization name, location ids, first usable coordinates) of one service in a tabular
    package; HSDS 1.x and 3.0 differ only in their table names. Dangling links are reported."""
    org_name = ""
    org_id = clean_text(row.get("organization_id"))
    if org_id:
        if org_id in orgs:
            org_name = clean_text(tables[organizations].rows[orgs[org_id]].get("name"))
        else:
            report.add(here("organization_id").issue("organization not in organizations.csv", detail=org_id))
    location_ids: list[str] = []
    for i, link in table_rows(tables, service_at_location, sal_rows):
        lid = clean_text(link.get("location_id"))
        if lid in locs:
            location_ids.append(lid)
        else:
            report.add(tables[service_at_location].where(i, "location_id", clean_text(link.get("id")) or None)
                       .issue("location not in locations.csv", detail=lid or None))
    coords = None
    loc_table = tables.get(locations)
    for lid in location_ids:
        j = locs[lid]
        loc = loc_table.rows[j]
        if clean_text(loc.get("latitude")) or clean_text(loc.get("longitude")):
            coords = norm_coordinates(loc.get("latitude"), loc.get("longitude"), report,
                                      loc_table.where(j, "latitude", lid), loc_table.where(j, "longitude", lid))
            if coords:
                break
    return org_name, location_ids, coords


def service_languages(tables: dict, name: str, sid: str, location_ids: list[str], by_service: dict,
                      by_location: dict, field: str | None, code_of) -> list[str]:
    """Language codes of one service from a languages table: its own rows, then each of its locations'
    (a row once). ``code_of(row, where)`` reads one row's code and reports it where unusable (None)."""
    rows = list(by_service.get(sid, []))
    for lid in location_ids:
        rows += [i for i in by_location.get(lid, []) if i not in rows]
    langs: list[str] = []
    for i, entry in table_rows(tables, name, rows):
        code = code_of(entry, tables[name].where(i, field, clean_text(entry.get("id")) or None))
        if code:
            langs.append(code)
    return langs


def service_districts(tables: dict, name: str, column: str, indices: list[int], report) -> list[str]:
    """Districts named in ``column`` of the given rows of a service-areas table (unusable ones reported)."""
    districts: list[str] = []
    for i, area in table_rows(tables, name, indices):
        districts += norm_district(area.get(column), report,
                                   tables[name].where(i, column, clean_text(area.get("id")) or None))
    return districts
