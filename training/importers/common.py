"""What every importer shares: strict CSV/JSON reading, value normalisers, and the ``Catalogue``.

The format modules (``hsds3``, ``hsds1``, ``ohana``) read their files with ``read_csv``/``read_json``,
ask ``Catalogue.admit`` whether a record may become a service (it drops records without an id or
name and reports duplicates), turn admitted ones into a dict of contract values through the
normalisers here (which report every value they cannot use, at the place it came from), and hand it
to ``Catalogue.add_service``. ``Catalogue.finish`` checks the taxonomy and gives the final rows.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable

from recommender.schema import (
    LIST_SEP,
    RANGES,
    SERVICE_OPTIONAL,
    SERVICE_REQUIRED,
    STATUSES,
)

from recommender import languages as lang
from .report import DROPPED, DUPLICATE, ERROR, INFO, WARNING, ImportFailed, ImportReport, Issue

#: Columns beyond the contract that every import writes (empty where the source has nothing).
EXTRA_COLUMNS = (
    "alternate_name",
    "url",
    "email",
    "interpretation_services",
    #: the listing's own words about languages, when languages came from free text
    "languages_note",
    #: 211/AIRS codes of iCarol exports (kept beside the directory's own taxonomy codes)
    "airs_codes",
)
SERVICE_COLUMNS = SERVICE_REQUIRED + SERVICE_OPTIONAL + EXTRA_COLUMNS
#: ``type`` is the taxonomy's own kind of term where it has one (a 211 taxonomy: ``service`` or
#: ``situation``): free-text needs are matched to service terms only
TAXONOMY_COLUMNS = ("code", "name", "parent", "type")

#: Statuses a directory may spell differently, after lower-casing and turning ``_``/``-`` into spaces.
_STATUS_ALIASES = {"temp closed": "temporarily closed", "closed temporarily": "temporarily closed"}
#: What an unreadable status becomes: a service whose status we cannot read is not suggested.
UNKNOWN_STATUS = "inactive"


@dataclass(frozen=True)
class Where:
    """Where a value came from, to put on the issues it raises."""

    file: str
    row: int | None = None
    line: int | None = None
    record: str | None = None
    field: str | None = None

    def at(self, field: str | None) -> "Where":
        return replace(self, field=field)

    def issue(self, reason: str, severity: str = WARNING, detail: Any = None) -> Issue:
        return Issue(
            file=self.file, reason=reason, severity=severity, row=self.row, line=self.line,
            record=self.record, field=self.field, detail=None if detail is None else str(detail),
        )


def clean_text(value: Any) -> str:
    """Text as the listing wrote it: whole (multi-line kept), outer whitespace and CR line ends removed."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


#: Service fields every directory format names as the contract does, taken as the listing wrote them.
_AS_WRITTEN = ("name", "description", "alternate_name", "url", "email", "application_process", "wait_time",
               "interpretation_services")


def service_values(record: dict, coords: tuple[float, float] | None, **values: Any) -> dict[str, Any]:
    """The values of one service for ``Catalogue.add_service``: the fields the formats share by name
    taken from ``record`` as written, ``coords`` split into latitude and longitude, and ``values``,
    what the format read its own way (they win over a shared field of the same name)."""
    return {
        **{field: record.get(field) for field in _AS_WRITTEN},
        "latitude": coords[0] if coords else None,
        "longitude": coords[1] if coords else None,
        **values,
    }


# ---------------------------------------------------------------------------------------------
# Reading files


@dataclass
class CsvTable:
    """A CSV file read whole: its header, its rows as dicts, and the line each row starts on."""

    file: str
    header: list[str]
    rows: list[dict[str, str]]
    lines: list[int]

    @staticmethod
    def row_number(index: int) -> int:
        """Spreadsheet row of ``rows[index]`` (the header is row 1)."""
        return index + 2

    def where(self, index: int, field: str | None = None, record: str | None = None) -> Where:
        return Where(self.file, row=index + 2, line=self.lines[index], record=record, field=field)

    def __len__(self) -> int:
        return len(self.rows)


def _decode(path: Path, rel: str) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailed([Issue(rel, "file is not UTF-8 text", ERROR, line=line,
                                  detail=f"byte {exc.start}: {exc.reason}")]) from None


def _quote_problem_column(text: str, start_line: int, header: list[str]) -> str | None:
    """The column of the row starting at ``start_line`` whose quoting is broken: a quoted cell that
    never closes, or text right after a closing quote. None if the scan cannot tell."""
    body = "\n".join(text.split("\n")[start_line - 1:])
    column, in_quotes, at_cell_start, opened = 0, False, True, None
    i = 0
    while i < len(body):
        ch = body[i]
        if in_quotes:
            if ch == '"':
                if i + 1 < len(body) and body[i + 1] == '"':
                    i += 1
                else:
                    in_quotes = False
                    if i + 1 < len(body) and body[i + 1] not in ",\r\n":
                        break  # text after the closing quote: this cell is the broken one
                    opened = None
        elif ch == '"' and at_cell_start:
            in_quotes, opened = True, column
        elif ch == ",":
            column += 1
        elif ch == "\n":
            break
        at_cell_start = ch in ",\n" and not in_quotes
        i += 1
    if opened is not None:
        return header[opened] if opened < len(header) else f"cell {opened + 1}"
    return None


def read_csv(path: Path, rel: str, *, required: Iterable[str] = ()) -> CsvTable:
    """Read a CSV strictly: broken quoting, rows with the wrong number of cells and missing required
    columns raise ``ImportFailed`` naming the file, row, line and column."""
    text = _decode(path, rel)
    # newline="" keeps line breaks inside quoted cells as they are (the csv module's own advice).
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    next_line = 1
    try:
        for cells in reader:
            start = next_line
            next_line = reader.line_num + 1
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # blank line
            if header is None:
                header = [c.strip().lstrip("\ufeff") for c in cells]
                _check_header(header, rel)
                continue
            if len(cells) != len(header):
                where = Where(rel, row=len(rows) + 2, line=start)
                if len(cells) > len(header):
                    field = f"(beyond the last column {header[-1]!r})"
                else:
                    field = header[len(cells)]
                spans = f"; the row spans lines {start}-{reader.line_num}" if reader.line_num > start else ""
                raise ImportFailed([where.at(field).issue(
                    f"row has {len(cells)} cells, the header has {len(header)}", ERROR,
                    "a quote may be unbalanced" + spans)])
            rows.append(dict(zip(header, cells)))
            lines.append(start)
    except csv.Error as exc:
        row = len(rows) + 2 if header is not None else 1
        column = _quote_problem_column(text, next_line, header or [])
        reason = "broken CSV quoting"
        if "unexpected end of data" in str(exc):
            reason = "quoted cell never closes (runs to the end of the file)"
        raise ImportFailed([Issue(rel, reason, ERROR, row=row, line=next_line, field=column,
                                  detail=f"csv: {exc}")]) from None
    if header is None:
        raise ImportFailed([Issue(rel, "file is empty (no header row)", ERROR, row=1, line=1)])
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFailed([Issue(rel, "required column missing", ERROR, row=1, line=1, field=c,
                                  detail=f"header: {','.join(header)}") for c in missing])
    return CsvTable(rel, header, rows, lines)


def _check_header(header: list[str], rel: str) -> None:
    seen: set[str] = set()
    for n, name in enumerate(header):
        if not name:
            # Spreadsheet exports often end the header with empty names; such columns are not read.
            header[n] = name = f"(unnamed column {n + 1})"
        if name in seen:
            raise ImportFailed([Issue(rel, "column appears twice in the header", ERROR, row=1, line=1,
                                      field=name)])
        seen.add(name)


def read_json(path: Path, rel: str) -> Any:
    """Parse a JSON file; bad JSON raises ``ImportFailed`` with the line and column."""
    text = _decode(path, rel)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailed([Issue(rel, "not valid JSON", ERROR, line=exc.lineno,
                                  field=f"column {exc.colno}", detail=exc.msg)]) from None


def pointer(*parts: Any) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


# ---------------------------------------------------------------------------------------------
# Normalisers: each reports what it cannot use, at ``where``.


def norm_status(raw: Any, report: ImportReport, where: Where) -> str:
    text = " ".join(clean_text(raw).lower().replace("_", " ").replace("-", " ").split())
    if not text:
        report.add(where.issue("status missing; the contract default 'active' applies"))
        return ""
    text = _STATUS_ALIASES.get(text, text)
    if text in STATUSES:
        return text
    report.add(where.issue(f"unknown status; imported as '{UNKNOWN_STATUS}' so it is not suggested",
                           detail=clean_text(raw)))
    return UNKNOWN_STATUS


def parse_number(raw: Any) -> float | None:
    """A finite number from a JSON number or a CSV cell; None when empty. Raises ValueError if not numeric."""
    if raw is None or isinstance(raw, bool):
        if isinstance(raw, bool):
            raise ValueError(f"{raw!r} is not a number")
        return None
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = clean_text(raw)
        if not text:
            return None
        value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{raw!r} is not a finite number")
    return value


def norm_number(raw: Any, column: str, report: ImportReport, where: Where,
                lost: str = "left empty") -> float | None:
    """A contract number within ``RANGES[column]``, else None (reported, saying what is ``lost``)."""
    try:
        value = parse_number(raw)
    except ValueError:
        report.add(where.issue(f"{column}: not a number; {lost}", detail=clean_text(raw)))
        return None
    if value is None:
        return None
    low, high = RANGES[column]
    if not low <= value <= high:
        report.add(where.issue(f"{column} outside [{low}, {high}]; {lost}", detail=raw))
        return None
    return value


def norm_coordinates(lat_raw: Any, lon_raw: Any, report: ImportReport, where_lat: Where,
                     where_lon: Where) -> tuple[float, float] | None:
    """Both coordinates in range, or None: half a coordinate pair places nothing."""
    lost = "coordinates left empty"
    lat = norm_number(lat_raw, "latitude", report, where_lat, lost)
    lon = norm_number(lon_raw, "longitude", report, where_lon, lost)
    lat_given = clean_text(lat_raw) != ""
    lon_given = clean_text(lon_raw) != ""
    if lat_given != lon_given:
        missing = where_lat if not lat_given else where_lon
        report.add(missing.issue("only one of latitude/longitude given; coordinates left empty"))
        return None
    if lat is None or lon is None:
        return None
    if lat == 0 and lon == 0:
        report.add(where_lat.issue("coordinates 0,0 (a placeholder, not a place); left empty"))
        return None
    return lat, lon


def norm_district(raw: Any, report: ImportReport, where: Where) -> list[str]:
    """A service-area name as contract districts: lower-cased, spaces collapsed."""
    text = " ".join(clean_text(raw).split()).lower()
    if not text:
        return []
    if LIST_SEP in text:
        report.add(where.issue(f"service area name holds the list separator '{LIST_SEP}'; split into parts",
                               detail=text))
        return [p.strip() for p in text.split(LIST_SEP) if p.strip()]
    return [text]


def language_code(raw: Any, report: ImportReport, where: Where) -> str | None:
    """The contract's code (ISO 639-1, else ISO 639-3) of one structured language value; unknown ones are reported."""
    text = clean_text(raw)
    if not text:
        return None
    code = lang.code_for(text)
    if code is None:
        what = lang.describe_uncoded(text)
        if what:
            report.add(where.issue("language has no ISO 639-1 or ISO 639-3 code; not in languages", detail=what))
        else:
            report.add(where.issue("unknown language; not in languages", detail=text))
    return code


def languages_from_text(raw: Any, report: ImportReport, where: Where) -> list[str]:
    """ISO 639-1 codes of the languages free text names; what it names but cannot be coded is reported."""
    text = clean_text(raw)
    if not text:
        return []
    codes, uncoded, unknown = lang.scan_text(text)
    for name in uncoded:
        code = lang.code_for(name)  # an ISO 639-3 code where the language has no two-letter one
        if code is not None:
            codes.append(code)
            continue
        what = lang.describe_uncoded(name) or name
        report.add(where.issue("language has no ISO 639-1 or ISO 639-3 code; not in languages", detail=what))
    for name in unknown:
        report.add(where.issue("unknown language name in free text; not in languages", detail=name))
    if not codes and not uncoded and not unknown:
        report.add(where.issue("languages text names no language", INFO, detail=text))
    return codes


def category_code(raw: Any) -> str:
    """A taxonomy code as the contract reads list items: stripped and lower-cased."""
    return clean_text(raw).lower()


def join_list(items: Iterable[str]) -> str:
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
    return LIST_SEP.join(seen)


def join_text(parts: Iterable[str], sep: str = "\n") -> str:
    """Several texts in one cell, in order, each once."""
    seen: dict[str, None] = {}
    for part in parts:
        part = clean_text(part)
        if part:
            seen.setdefault(part, None)
    return sep.join(seen)


_WEEKDAYS = {"1": "Mon", "2": "Tue", "3": "Wed", "4": "Thu", "5": "Fri", "6": "Sat", "7": "Sun", "0": "Sun",
             "mo": "Mon", "tu": "Tue", "we": "Wed", "th": "Thu", "fr": "Fri", "sa": "Sat", "su": "Sun"}


def hours_text(schedules: Iterable[dict]) -> str:
    """Opening hours from HSDS schedule rows: each row's own ``description`` when it has one, else its
    days (``weekday`` 1-7 or ``byday`` MO,TU) and ``opens_at``-``closes_at``; one line per row."""
    lines = []
    for row in schedules:
        text = clean_text(row.get("description"))
        if not text:
            days = clean_text(row.get("weekday")) or clean_text(row.get("byday"))
            days = ", ".join(_WEEKDAYS.get(d.strip().lower(), d.strip()) for d in days.split(",") if d.strip())
            opens, closes = clean_text(row.get("opens_at"))[:5], clean_text(row.get("closes_at"))[:5]
            span = f"{opens}-{closes}" if opens and closes else opens or closes
            text = " ".join(p for p in (days, span) if p)
        lines.append(text)
    return join_text(lines, "; ")


def split_loose_list(raw: Any) -> list[str]:
    """Items of a loosely written list cell: ``a, b``, ``a; b``, or a Postgres array ``{a,"b c"}``."""
    text = clean_text(raw)
    if not text:
        return []
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
        return [clean_text(p.strip('"')) for p in next(csv.reader([text])) if clean_text(p.strip('"'))]
    return [p.strip() for p in re.split(r"[;,]", text) if p.strip()]


def format_number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


# ---------------------------------------------------------------------------------------------
# The catalogue being built


@dataclass
class _Term:
    code: str
    name: str
    parent: str
    where: Where
    #: the source field holding the parent (a column, or a JSON pointer), for issues about it
    parent_field: str
    kind: str = ""


class Catalogue:
    """Services and taxonomy terms of one import, checked as they are added."""

    def __init__(self, report: ImportReport):
        self.report = report
        self.services: list[dict[str, Any]] = []
        self._where: dict[str, Where] = {}
        self._terms: dict[str, _Term] = {}
        self.read = 0
        self.dropped = 0
        self.duplicates = 0

    # -- taxonomy

    def add_term(self, code: str, name: str, parent: str, where: Where, parent_field: str = "parent_id",
                 kind: str = "") -> bool:
        code, parent = category_code(code), category_code(parent)
        name = " ".join(clean_text(name).split())
        if not code:
            self.report.add(where.issue("taxonomy term without a code or id; dropped", DROPPED))
            return False
        if LIST_SEP in code:
            self.report.add(where.issue(f"taxonomy code holds the list separator '{LIST_SEP}'; term dropped",
                                        DROPPED, detail=code))
            return False
        if code in self._terms:
            first = self._terms[code]
            if (first.name, first.parent) != (name, parent):
                self.report.add(where.issue("taxonomy code defined twice, differently; the first kept",
                                            DUPLICATE, detail=f"{code}: first {first.where.file} "
                                            f"row {first.where.row or first.where.record}"))
            return False
        self._terms[code] = _Term(code, name, parent, where, parent_field, clean_text(kind).lower())
        return True

    # -- services

    def admit(self, service_id: Any, name: Any, where: Where, *, id_field: str = "id",
              name_field: str = "name") -> bool:
        """Whether a source record may become a service: it needs an id and a name, and an id not
        imported before. Records refused are reported (dropped / duplicate) and counted here, before
        their other fields are read, so a dropped record raises no further issues.

        ``where`` locates the record; ``id_field``/``name_field`` name its id and name in the source
        (column names, or JSON pointers).
        """
        self.read += 1
        service_id = clean_text(service_id)
        name = " ".join(clean_text(name).split())
        if not service_id:
            self.report.add(where.at(id_field).issue("service without an id; dropped", DROPPED,
                                                     detail=name or None))
            self.dropped += 1
            return False
        if not name:
            self.report.add(replace(where, record=service_id, field=name_field).issue(
                "service without a name; dropped", DROPPED))
            self.dropped += 1
            return False
        if service_id in self._where:
            first = self._where[service_id]
            first_at = first.file + (f" row {first.row}" if first.row else f" at {first.field}" if first.field else "")
            self.report.add(replace(where, record=service_id, field=id_field).issue(
                "duplicate service id; the first one kept", DUPLICATE, detail=f"first in {first_at}"))
            self.duplicates += 1
            return False
        return True

    def add_service(self, values: dict[str, Any], where: Where) -> None:
        """Add one admitted service (contract + extra column values; lists are joined with ``;``)."""
        service_id = clean_text(values.get("service_id"))
        if not service_id or service_id in self._where:
            raise ValueError(f"service {service_id!r} was not admitted (see Catalogue.admit)")
        lo, hi = values.get("min_age"), values.get("max_age")
        if lo is not None and hi is not None and lo > hi:
            self.report.add(replace(where, record=service_id, field="min_age/max_age").issue(
                "minimum age above maximum age; both left empty", detail=f"{format_number(lo)} > {format_number(hi)}"))
            values["min_age"] = values["max_age"] = None
        row = {c: "" for c in SERVICE_COLUMNS}
        for column, value in values.items():
            if column not in row:
                raise KeyError(f"importer produced an unknown column {column!r}")
            if isinstance(value, list):
                row[column] = join_list(value)
            elif isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
                row[column] = format_number(value)
            elif value is None:
                row[column] = ""
            else:
                row[column] = clean_text(value)
        row["service_id"], row["name"] = service_id, " ".join(clean_text(values.get("name")).split())
        self._where[service_id] = where
        self.services.append(row)

    def has_service(self, service_id: str) -> bool:
        return service_id in self._where

    # -- result

    def finish(self) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """The service rows and taxonomy rows to write; dangling references are reported here."""
        terms = self._terms
        for term in terms.values():
            if term.parent and term.parent not in terms:
                self.report.add(term.where.at(term.parent_field).issue(
                    "taxonomy parent not in the taxonomy; term imported as a root", detail=term.parent))
                term.parent = ""
        self._break_cycles()
        for row in self.services:
            codes = [c for c in row["categories"].split(LIST_SEP) if c]
            kept = [c for c in codes if c in terms]
            for c in codes:
                if c not in terms:
                    self.report.add(replace(self._where[row["service_id"]], record=row["service_id"],
                                            field="categories").issue(
                        "category not in the taxonomy; link dropped", detail=c))
            row["categories"] = LIST_SEP.join(kept)
        taxonomy = [{"code": t.code, "name": t.name, "parent": t.parent, "type": t.kind}
                    for t in sorted(terms.values(), key=lambda t: t.code)]
        c = self.report.counts
        c["services_read"] = self.read
        c["services_written"] = len(self.services)
        c["services_dropped"] = self.dropped
        c["duplicates"] = self.duplicates
        c["with_categories"] = sum(1 for r in self.services if r["categories"])
        c["with_coordinates"] = sum(1 for r in self.services if r["latitude"])
        c["with_languages"] = sum(1 for r in self.services if r["languages"])
        c["with_districts"] = sum(1 for r in self.services if r["districts"])
        c["with_age_limits"] = sum(1 for r in self.services if r["min_age"] or r["max_age"])
        c["with_organization"] = sum(1 for r in self.services if r["organization"])
        c["taxonomy_terms"] = len(taxonomy)
        return self.services, taxonomy

    def _break_cycles(self) -> None:
        terms = self._terms
        for code in sorted(terms):
            seen = [code]
            parent = terms[code].parent
            while parent:
                if parent in seen:
                    term = terms[seen[-1]]
                    self.report.add(term.where.at(term.parent_field).issue(
                        "taxonomy parents form a cycle; this link cut", detail=" -> ".join(seen + [parent])))
                    term.parent = ""
                    break
                seen.append(parent)
                parent = terms[parent].parent


def note_ignored(report: ImportReport, files: Iterable[str], why: str) -> None:
    for f in files:
        report.files_ignored.append(f)
        report.add(Issue(f, why, INFO))
